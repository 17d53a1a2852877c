/* pool: see pool.h. DESIGN
 * - Kept-alive connections are not pinned to threads. Between requests a
 *   connection waits in one epoll set per process (EPOLLONESHOT), next to the
 *   listening socket; an idle worker takes whichever is ready: a request on
 *   a kept connection, or a new connection (accept4 on the non-blocking
 *   listening socket). So nginx may keep as many idle connections as it
 *   likes: they cost a descriptor each, not a thread, and a request never
 *   waits behind an idle connection that holds a thread.
 * - libfcgi reads a request from FCGX_Request.ipcFd when it is >= 0 and does
 *   not close it at the end while keepConnection is set (the two fields the
 *   header says not to use; libfcgi 2.4's layout has not changed since 2002).
 *   A worker hands a ready connection to libfcgi through them and takes it
 *   back after FCGX_Finish_r, when nginx asked to keep it (FCGI_KEEP_CONN).
 * - Signals are blocked in every thread and taken by pool_run with
 *   sigtimedwait(). Stop signals: the wake pipe in the epoll set tells the
 *   idle workers to go; a request in flight finishes first. SIGUSR2 (log
 *   rotation; multiwatch passes it on to every child): log_reopen(), the
 *   workers carry on. Once a second the main thread also writes out request
 *   lines that idle workers have held for a second or more.
 * - A worker that cannot start asks the process to stop (SIGTERM to itself):
 *   multiwatch then starts a fresh process. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "pool.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "app.h"
#include "config.h"
#include "log.h"
#include "server.h"

#define POOL_LISTEN_FD 0   /* spawn-fcgi hands us the listening socket as fd 0 */
#define POOL_WAIT_MS 1000 /* an idle worker looks at `stopping` at least this often */

struct worker {
    pthread_t thread;
    const struct config *cfg;
    int started;
};

static atomic_int stopping;
static int wake_pipe[2] = {-1, -1};
static int ep = -1; /* the listening socket, the wake pipe, the idle kept connections */

/* Puts a kept connection (back) into the set: ready again for one event. */
static void park(int fd)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT, .data.fd = fd};

    if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) == 0)
        return;
    if (errno == ENOENT && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0)
        return;
    close(fd); /* cannot watch it: nginx sees the close and opens another */
}

/* The next connection with a request to read (a new one or a kept one), or
 * -1 when the pool stops. */
static int next_connection(void)
{
    for (;;) {
        struct epoll_event ev;
        int n, fd;

        if (atomic_load(&stopping))
            return -1;
        n = epoll_wait(ep, &ev, 1, POOL_WAIT_MS);
        if (n <= 0)
            continue; /* timeout or EINTR: look at `stopping` again */
        fd = ev.data.fd;
        if (fd == wake_pipe[0])
            return -1;
        if (fd == POOL_LISTEN_FD) {
            fd = accept4(POOL_LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0)
                return fd;
            continue; /* EAGAIN: another worker took it */
        }
        /* a kept connection: a request, or nginx closed it (then libfcgi
         * reads EOF, closes it, and the worker comes back here) */
        return fd;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct app app;
    FCGX_Request fr;
    int fd;

    if (app_open(&app, w->cfg) != 0 || FCGX_InitRequest(&fr, POOL_LISTEN_FD, 0) != 0) {
        log_msg(LOG_ERR, "worker: out of memory at startup");
        app_close(&app);
        kill(getpid(), SIGTERM);
        return NULL;
    }
    while ((fd = next_connection()) >= 0) {
        fr.ipcFd = fd;
        fr.keepConnection = 1; /* or FCGX_Accept_r's own finish step would close fd */
        if (FCGX_Accept_r(&fr) < 0) {
            /* the connection failed before a whole request came (libfcgi
             * closed it, then found nothing to accept): not fatal */
            fr.ipcFd = -1;
            continue;
        }
        server_handle(&app, &fr);
        FCGX_Finish_r(&fr); /* closes the connection unless nginx keeps it */
        if (fr.ipcFd >= 0) {
            fd = fr.ipcFd;
            fr.ipcFd = -1;
            park(fd);
        }
        server_after_response(&app); /* e.g. a cache warm, after its 202 went out */
        arena_reset(&app.arena);
    }
    FCGX_Free(&fr, 1);
    app_close(&app);
    return NULL;
}

/* The epoll set and the wake pipe; 0 or -1. */
static int open_set(void)
{
    struct epoll_event lev = {.events = EPOLLIN, .data.fd = POOL_LISTEN_FD};
    struct epoll_event wev = {.events = EPOLLIN, .data.fd = -1};
    int fl = fcntl(POOL_LISTEN_FD, F_GETFL);

    if (fl < 0 || fcntl(POOL_LISTEN_FD, F_SETFL, fl | O_NONBLOCK) != 0 ||
        pipe2(wake_pipe, O_CLOEXEC) != 0 || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return -1;
    wev.data.fd = wake_pipe[0];
    if (epoll_ctl(ep, EPOLL_CTL_ADD, POOL_LISTEN_FD, &lev) != 0 ||
        epoll_ctl(ep, EPOLL_CTL_ADD, wake_pipe[0], &wev) != 0)
        return -1;
    return 0;
}

static void close_set(void)
{
    if (ep >= 0)
        close(ep);
    for (int i = 0; i < 2; i++)
        if (wake_pipe[i] >= 0)
            close(wake_pipe[i]);
    ep = wake_pipe[0] = wake_pipe[1] = -1;
}

/* Until a stop signal: reopens the log on SIGUSR2, and flushes idle
 * workers' request lines once a second. */
static void wait_for_stop(const sigset_t *sigs)
{
    const struct timespec tick = {.tv_sec = 1, .tv_nsec = 0};
    int sig;

    for (;;) {
        sig = sigtimedwait(sigs, NULL, &tick);
        if (sig == SIGUSR2)
            log_reopen(); /* logs its own failure */
        else if (sig < 0 && errno == EAGAIN)
            log_flush_aged();
        else if (sig > 0)
            return;
    }
}

int pool_run(const struct config *cfg)
{
    int n = cfg->fcgi_threads, started = 0;
    struct worker *ws = calloc((size_t)n, sizeof(*ws));
    sigset_t sigs;

    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGUSR1); /* what multiwatch sends its children on shutdown */
    sigaddset(&sigs, SIGUSR2); /* reopen the log (logrotate's postrotate) */
    /* inherited by the workers: only sigtimedwait() below receives these */
    if (ws == NULL || pthread_sigmask(SIG_BLOCK, &sigs, NULL) != 0 || open_set() != 0) {
        log_msg(LOG_ERR, "pool: cannot set up the workers: %s", strerror(errno));
        close_set();
        free(ws);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        ws[i].cfg = cfg;
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) == 0) {
            ws[i].started = 1;
            started++;
        }
    }
    if (started > 0) {
        log_msg(LOG_INFO, "responder started (%d workers)", started);
        wait_for_stop(&sigs);
        log_msg(LOG_INFO, "responder stopping");
    }
    atomic_store(&stopping, 1);
    FCGX_ShutdownPending();
    if (write(wake_pipe[1], "x", 1) < 0) /* the idle workers see it in the set */
        log_msg(LOG_WARN, "pool: cannot wake the workers");
    for (int i = 0; i < n; i++)
        if (ws[i].started)
            pthread_join(ws[i].thread, NULL);
    close_set();
    free(ws);
    return started > 0 ? 0 : -1;
}
