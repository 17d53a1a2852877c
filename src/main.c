/* main: the responder process. Thin on purpose: config -> app_open ->
 * accept loop -> app_close, so valgrind can prove a worker frees everything.
 * spawn-fcgi hands us the listening socket as fd 0. SIGTERM finishes the
 * request in flight, then exits cleanly. */
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "log.h"
#include "server.h"

static volatile sig_atomic_t stopping;
static volatile sig_atomic_t in_request;

static void on_term(int sig)
{
    (void)sig;
    stopping = 1;
    FCGX_ShutdownPending();
    /* idle in accept(): closing the listen socket makes FCGX_Accept_r return */
    if (!in_request)
        close(0);
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_term; /* no SA_RESTART: accept() must return EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL); /* what multiwatch sends its children on shutdown */
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL); /* nginx may close first; write() reports it */
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    char err[512];
    struct app app;
    FCGX_Request fr;
    int opt, rc;

    while ((opt = getopt(argc, argv, "c:h")) != -1) {
        if (opt == 'c') {
            conf = optarg;
        } else {
            fprintf(stderr, "usage: %s [-c CONFIG_FILE]\n", argv[0]);
            return opt == 'h' ? 0 : 2;
        }
    }
    if ((rc = app_open(&app, conf, err, sizeof(err))) != 0) {
        fprintf(stderr, "guild-fcgi: %s\n", err);
        app_close(&app);
        return rc == -2 ? 2 : 1;
    }
    install_signals();
    if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0) {
        fprintf(stderr, "guild-fcgi: FastCGI initialisation failed\n");
        app_close(&app);
        return 1;
    }
    log_msg(LOG_INFO, "responder started");
    while (!stopping && FCGX_Accept_r(&fr) >= 0) {
        in_request = 1;
        server_handle(&app, &fr);
        FCGX_Finish_r(&fr);
        server_after_response(&app); /* e.g. a cache warm, after its 202 went out */
        arena_reset(&app.arena);
        in_request = 0;
    }
    log_msg(LOG_INFO, "responder stopping");
    FCGX_Free(&fr, 1);
    app_close(&app);
    return 0;
}
