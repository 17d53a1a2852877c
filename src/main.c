/* main: the responder process. Thin on purpose: config -> process setup ->
 * the worker pool -> teardown, so valgrind can prove a process frees
 * everything. spawn-fcgi hands us the listening socket as fd 0. SIGTERM (or
 * multiwatch's SIGUSR1) finishes the requests in flight, then exits cleanly;
 * SIGUSR2 reopens the log file (see pool.h). */
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "pool.h"

int main(int argc, char **argv)
{
    const char *conf = NULL;
    char err[512];
    struct config cfg;
    struct sigaction sa;
    sigset_t reopen;
    int opt, rc;

    /* a log rotation while this process starts must not kill it (SIGUSR2's
     * default action): held pending until pool_run takes it */
    sigemptyset(&reopen);
    sigaddset(&reopen, SIGUSR2);
    sigprocmask(SIG_BLOCK, &reopen, NULL);

    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c') {
            conf = optarg;
        } else {
            fprintf(stderr, "usage: %s [-c CONFIG_FILE]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if ((rc = app_process_open(&cfg, conf, err, sizeof(err))) != 0) {
        fprintf(stderr, "guild-fcgi: %s\n", err);
        app_process_close(&cfg);
        return rc == -2 ? 2 : 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* nginx may close first; write() reports it */
    if (FCGX_Init() != 0) {
        fprintf(stderr, "guild-fcgi: FastCGI initialisation failed\n");
        app_process_close(&cfg);
        return 1;
    }
    rc = pool_run(&cfg);
    if (rc != 0)
        fprintf(stderr, "guild-fcgi: cannot start the workers\n");
    app_process_close(&cfg);
    return rc == 0 ? 0 : 1;
}
