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
 *   multiwatch then starts a fresh process.
 * - Stand-ins (GUILD_FCGI_STANDBY_THREADS) sleep until a worker waits on
 *   another request's computation of a cache entry (cache_set_wait_hooks):
 *   the waiting worker lends its slot and one stand-in serves the next
 *   request in its place, so waits never leave a process without a worker
 *   for cheap requests (/ping, cache hits). A wait that finds every
 *   stand-in busy keeps its slot: computing instead would hold the slot at
 *   least as long and repeat the computation the lock exists to share.
 * - On a TCP listener (spawn-fcgi -a ADDR -p PORT, for app hosts behind a
 *   remote nginx) every new peer must be in GUILD_FCGI_ALLOW, or it is
 *   closed unanswered: FastCGI has no authentication, and whoever speaks it
 *   chooses REMOTE_ADDR, the very address the limiter, the trusted-proxy
 *   check and the /metrics check believe. (libfcgi's FCGI_WEB_SERVER_ADDRS
 *   does the same, but only in its own accept, which this pool replaces.)
 *   A unix socket is guarded by its file mode instead. */
#define _GNU_SOURCE /* accept4, pipe2 */
#include "pool.h"

#include <errno.h>
#include <fcgiapp.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cache.h"
#include "clientip.h"
#include "config.h"
#include "log.h"
#include "server.h"

#define POOL_LISTEN_FD 0   /* spawn-fcgi hands us the listening socket as fd 0 */
#define POOL_WAIT_MS 1000 /* an idle worker looks at `stopping` at least this often */

struct worker {
    pthread_t thread;
    const struct config *cfg;
    int started;
    bool standby; /* serves only while a worker's slot is lent */
};

static atomic_int stopping;
/* slots lent by workers waiting on a cache lock, and the stand-ins that
 * serve in their place (standing <= lent, but for one finishing a request) */
static pthread_mutex_t lend_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lend_cv = PTHREAD_COND_INITIALIZER;
static int lent, standing, lend_max;
static int wake_pipe[2] = {-1, -1};
static int ep = -1; /* the listening socket, the wake pipe, the idle kept connections */
static const char *tcp_allow; /* GUILD_FCGI_ALLOW when fd 0 is a TCP socket, else NULL */

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

/* The cache's wait hooks: a worker about to wait lends its slot when a
 * stand-in is free to take it. */
static bool lend_begin(void)
{
    bool ok;

    pthread_mutex_lock(&lend_mu);
    ok = lent < lend_max;
    if (ok) {
        lent++;
        pthread_cond_signal(&lend_cv);
    }
    pthread_mutex_unlock(&lend_mu);
    return ok;
}

static void lend_end(void)
{
    pthread_mutex_lock(&lend_mu);
    lent--;
    pthread_mutex_unlock(&lend_mu);
}

/* A stand-in sleeps until a slot is lent that no other stand-in covers;
 * false when the pool stops. */
static bool standby_enter(void)
{
    bool go;

    pthread_mutex_lock(&lend_mu);
    while (!atomic_load(&stopping) && standing >= lent)
        pthread_cond_wait(&lend_cv, &lend_mu);
    go = !atomic_load(&stopping);
    if (go)
        standing++;
    pthread_mutex_unlock(&lend_mu);
    return go;
}

static void standby_leave(void)
{
    pthread_mutex_lock(&lend_mu);
    standing--;
    if (standing < lent) /* the wait goes on: another turn, maybe by another stand-in */
        pthread_cond_signal(&lend_cv);
    pthread_mutex_unlock(&lend_mu);
}

static bool standby_needed(void)
{
    bool needed;

    pthread_mutex_lock(&lend_mu);
    needed = standing <= lent;
    pthread_mutex_unlock(&lend_mu);
    return needed;
}

/* True when the peer of a newly accepted connection may speak FastCGI to
 * us: always on a unix socket, on TCP when it is in GUILD_FCGI_ALLOW. */
static bool peer_allowed(const struct sockaddr_storage *sa)
{
    static _Thread_local time_t last_log;
    char addr[INET6_ADDRSTRLEN];
    const void *bytes;

    if (tcp_allow == NULL)
        return true;
    if (sa->ss_family == AF_INET)
        bytes = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa->ss_family == AF_INET6)
        bytes = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    else
        return false;
    if (inet_ntop(sa->ss_family, bytes, addr, sizeof(addr)) == NULL)
        return false;
    if (clientip_in_list(addr, tcp_allow))
        return true;
    log_limited(&last_log, 5, LOG_WARN, "pool: refused a FastCGI connection from %s "
                "(not in GUILD_FCGI_ALLOW)", addr);
    return false;
}

/* The next connection with a request to read (a new one or a kept one), -1
 * when the pool stops, or -2 when a stand-in (standby) found nothing to do
 * while it was needed. */
static int next_connection(bool standby)
{
    for (;;) {
        struct epoll_event ev;
        int n, fd;

        if (atomic_load(&stopping))
            return -1;
        n = epoll_wait(ep, &ev, 1, POOL_WAIT_MS);
        if (n <= 0 && standby && !standby_needed())
            return -2;
        if (n <= 0)
            continue; /* timeout or EINTR: look at `stopping` again */
        fd = ev.data.fd;
        if (fd == wake_pipe[0])
            return -1;
        if (fd == POOL_LISTEN_FD) {
            struct sockaddr_storage peer;
            socklen_t len = sizeof(peer);

            fd = accept4(POOL_LISTEN_FD, (struct sockaddr *)&peer, &len, SOCK_CLOEXEC);
            if (fd < 0)
                continue; /* EAGAIN: another worker took it */
            if (peer_allowed(&peer))
                return fd;
            close(fd);
            continue;
        }
        /* a kept connection: a request, or nginx closed it (then libfcgi
         * reads EOF, closes it, and the worker comes back here) */
        return fd;
    }
}

/* Serves the request waiting on connection fd. */
static void serve(struct app *app, FCGX_Request *fr, int fd)
{
    fr->ipcFd = fd;
    fr->keepConnection = 1; /* or FCGX_Accept_r's own finish step would close fd */
    if (FCGX_Accept_r(fr) < 0) {
        /* the connection failed before a whole request came (libfcgi
         * closed it, then found nothing to accept): not fatal */
        fr->ipcFd = -1;
        return;
    }
    server_handle(app, fr);
    FCGX_Finish_r(fr); /* closes the connection unless nginx keeps it */
    if (fr->ipcFd >= 0) {
        fd = fr->ipcFd;
        fr->ipcFd = -1;
        park(fd);
    }
    server_after_response(app); /* e.g. a cache warm, after its 202 went out */
    arena_reset(&app->arena);
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
    do { /* a stand-in takes one request per turn, and only while it is needed */
        if (w->standby && !standby_enter())
            break;
        if ((fd = next_connection(w->standby)) >= 0)
            serve(&app, &fr, fd);
        if (w->standby)
            standby_leave();
    } while (fd != -1);
    FCGX_Free(&fr, 1);
    app_close(&app);
    return NULL;
}

/* Sets tcp_allow when the listening socket is a TCP one. */
static void note_listener(const struct config *cfg)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof(sa);

    memset(&sa, 0, sizeof(sa));
    if (getsockname(POOL_LISTEN_FD, (struct sockaddr *)&sa, &len) == 0 &&
        (sa.ss_family == AF_INET || sa.ss_family == AF_INET6))
        tcp_allow = cfg->fcgi_allow;
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
    int n = cfg->fcgi_threads + cfg->fcgi_standby_threads, started = 0, standby = 0;
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
    note_listener(cfg); /* before any worker runs: read-only for them */
    if (cfg->fcgi_standby_threads > 0) /* likewise */
        cache_set_wait_hooks(lend_begin, lend_end);
    for (int i = 0; i < n; i++) {
        ws[i].cfg = cfg;
        ws[i].standby = i >= cfg->fcgi_threads;
        if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
            continue;
        ws[i].started = 1;
        if (!ws[i].standby) {
            started++;
            continue;
        }
        standby++;
        pthread_mutex_lock(&lend_mu); /* a slot can be lent once a stand-in runs */
        lend_max++;
        pthread_mutex_unlock(&lend_mu);
    }
    if (started > 0) {
        log_msg(LOG_INFO, "responder started (%d workers, %d stand-ins)", started, standby);
        wait_for_stop(&sigs);
        log_msg(LOG_INFO, "responder stopping");
    }
    atomic_store(&stopping, 1);
    pthread_mutex_lock(&lend_mu); /* the sleeping stand-ins */
    pthread_cond_broadcast(&lend_cv);
    pthread_mutex_unlock(&lend_mu);
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
