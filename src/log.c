/* log: line-oriented logging to one file descriptor; see log.h.
 * Every write(2) carries whole lines on an O_APPEND descriptor, so lines from
 * the processes of the pool never interleave. Request lines are buffered by
 * default (GUILD_REQUEST_LOG=buffered): a write per request was a visible
 * share of the hot path, and nginx already logs every request with the same
 * $request_id. Operational lines flush the buffer first, so order holds.
 *
 * Rotation: log_reopen() (the responder's main thread, on SIGUSR2) first
 * writes out every worker's buffer into the file that was open when the
 * lines were made, then dup2()s a fresh descriptor of GUILD_LOG_FILE over
 * the same number. A write in flight finishes on the old file; every later
 * one goes to the new file; no line is dropped or written twice. For that
 * the buffers are registered in a list and each has a mutex, taken once per
 * request line by its own worker (uncontended but for the main thread's
 * flushes: at a reopen, and once a second for lines an idle worker holds). */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static char *log_path; /* what log_reopen opens again; NULL: stderr */
static enum log_request_mode request_mode = LOG_REQUESTS_SYNC;

/* buffered request lines, one buffer per worker thread: flushed when full, when the oldest is a
 * second old (checked at the next line, and by log_flush_aged), before an operational line, at a
 * reopen, and when the thread ends */
#define LOG_BUF_SZ 16384
#define LOG_BUF_MAX_AGE_S 1
struct req_buf {
    pthread_mutex_t mu;
    size_t len;
    time_t oldest;
    struct req_buf *next;
    char data[LOG_BUF_SZ];
};
static pthread_mutex_t bufs_mu = PTHREAD_MUTEX_INITIALIZER; /* guards the list, not the buffers */
static struct req_buf *bufs;
static _Thread_local struct req_buf *my_buf;
static pthread_key_t buf_key; /* its destructor retires a thread's buffer */
static pthread_once_t buf_key_once = PTHREAD_ONCE_INIT;

/* the formatted "YYYY-mm-ddTHH:MM:SS" of the last second seen: strftime once
 * a second, not once a line */
static _Thread_local time_t stamp_sec = -1;
static _Thread_local char stamp_text[24];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

static int open_path(const char *path)
{
    return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

int log_open(const char *path)
{
    int fd;

    if (path == NULL || *path == '\0') {
        log_fd = STDERR_FILENO;
        return 0;
    }
    if ((fd = open_path(path)) < 0 || (log_path = strdup(path)) == NULL) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    log_fd = fd;
    return 0;
}

void log_set_request_mode(enum log_request_mode mode)
{
    request_mode = mode;
}

static void emit(const char *line, size_t len);

/* Writes b's lines (the caller holds b->mu). */
static void drain(struct req_buf *b)
{
    if (b->len > 0)
        emit(b->data, b->len);
    b->len = 0;
}

static void retire_buf(void *arg)
{
    struct req_buf *b = arg, **p;

    pthread_mutex_lock(&bufs_mu);
    for (p = &bufs; *p != NULL; p = &(*p)->next)
        if (*p == b) {
            *p = b->next;
            break;
        }
    pthread_mutex_unlock(&bufs_mu);
    pthread_mutex_lock(&b->mu);
    drain(b);
    pthread_mutex_unlock(&b->mu);
    pthread_mutex_destroy(&b->mu);
    free(b);
}

static void make_key(void)
{
    if (pthread_key_create(&buf_key, retire_buf) != 0)
        abort(); /* EAGAIN at startup: nothing sensible to do */
}

/* The calling thread's buffer, registered on first use; NULL when out of
 * memory (the line is then written at once). */
static struct req_buf *thread_buf(void)
{
    struct req_buf *b;

    if (my_buf != NULL)
        return my_buf;
    pthread_once(&buf_key_once, make_key);
    if ((b = calloc(1, sizeof(*b))) == NULL)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    pthread_mutex_lock(&bufs_mu);
    b->next = bufs;
    bufs = b;
    pthread_mutex_unlock(&bufs_mu);
    pthread_setspecific(buf_key, b);
    return my_buf = b;
}

void log_flush(void)
{
    struct req_buf *b = my_buf;

    if (b == NULL)
        return;
    pthread_mutex_lock(&b->mu);
    drain(b);
    pthread_mutex_unlock(&b->mu);
}

/* Writes out every thread's buffer (only those holding lines older than
 * LOG_BUF_MAX_AGE_S when aged_only). */
static void flush_all(bool aged_only)
{
    time_t now = time(NULL);

    pthread_mutex_lock(&bufs_mu);
    for (struct req_buf *b = bufs; b != NULL; b = b->next) {
        pthread_mutex_lock(&b->mu);
        if (!aged_only || (b->len > 0 && now - b->oldest >= LOG_BUF_MAX_AGE_S))
            drain(b);
        pthread_mutex_unlock(&b->mu);
    }
    pthread_mutex_unlock(&bufs_mu);
}

void log_flush_aged(void)
{
    flush_all(true);
}

int log_reopen(void)
{
    int fd;

    if (log_path == NULL)
        return 0; /* stderr: nothing to reopen */
    if ((fd = open_path(log_path)) < 0) {
        log_msg(LOG_ERR, "log: cannot reopen %s: %s; still writing to the old file", log_path,
                strerror(errno));
        return -1;
    }
    flush_all(false); /* lines made before the signal: into the file they were made for */
    if (dup2(fd, log_fd) < 0) {
        log_msg(LOG_ERR, "log: cannot switch to the reopened %s: %s", log_path, strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    log_msg(LOG_INFO, "log: reopened %s", log_path);
    return 0;
}

void log_close(void)
{
    struct req_buf *b;

    flush_all(false);
    /* buffers of threads that ended were retired; what is left belongs to
     * threads that never ended through pthread_exit (the main thread) */
    pthread_mutex_lock(&bufs_mu);
    while ((b = bufs) != NULL) {
        bufs = b->next;
        pthread_mutex_destroy(&b->mu);
        free(b);
    }
    pthread_mutex_unlock(&bufs_mu);
    my_buf = NULL;
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
    free(log_path);
    log_path = NULL;
}

static size_t stamp(char *buf, size_t sz)
{
    struct timeval tv;
    struct tm tm;
    size_t n;

    unsigned ms;

    gettimeofday(&tv, NULL);
    if (tv.tv_sec != stamp_sec) {
        gmtime_r(&tv.tv_sec, &tm);
        if (strftime(stamp_text, sizeof(stamp_text), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
            stamp_text[0] = '\0';
        stamp_sec = tv.tv_sec;
    }
    n = strlen(stamp_text);
    if (sz < n + 6)
        return 0;
    memcpy(buf, stamp_text, n);
    ms = (unsigned)(tv.tv_usec / 1000);
    buf[n++] = '.';
    buf[n++] = (char)('0' + ms / 100);
    buf[n++] = (char)('0' + ms / 10 % 10);
    buf[n++] = (char)('0' + ms % 10);
    buf[n++] = 'Z';
    buf[n] = '\0';
    return n;
}

static void emit(const char *line, size_t len)
{
    ssize_t w;

    do
        w = write(log_fd, line, len);
    while (w < 0 && errno == EINTR);
}

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vlog(enum log_level lvl, const char *fmt, va_list ap)
{
    char line[1024];
    size_t n;
    int k;

    log_flush(); /* earlier request lines first */
    n = stamp(line, sizeof(line));
    n += (size_t)snprintf(line + n, sizeof(line) - n, " %s [%ld] ", level_names[lvl], (long)getpid());
    k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    if (k < 0)
        k = 0;
    n += (size_t)k;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    emit(line, n);
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(lvl, fmt, ap);
    va_end(ap);
}

void log_limited(time_t *last, int interval_s, enum log_level lvl, const char *fmt, ...)
{
    time_t now = time(NULL);
    va_list ap;

    if (*last != 0 && now - *last < interval_s)
        return;
    *last = now;
    va_start(ap, fmt);
    vlog(lvl, fmt, ap);
    va_end(ap);
}

/* Copies s into out (at most sz-1 bytes), replacing bytes that could forge a
 * log line or confuse a terminal: a client controls the path. */
static void printable(char *out, size_t sz, const char *s)
{
    size_t i = 0;

    for (; s != NULL && *s != '\0' && i + 1 < sz; s++)
        out[i++] = ((unsigned char)*s < 0x21 || (unsigned char)*s == 0x7f) ? '?' : *s;
    out[i] = '\0';
}

void log_request(const char *req_id, const char *method, const char *path, int status,
                 double dur_ms, const char *cache, long long user_id)
{
    char line[768], safe_path[201], safe_id[65], safe_method[17];
    struct req_buf *b;
    time_t now;
    size_t n;
    int k;

    if (request_mode == LOG_REQUESTS_OFF)
        return;
    n = stamp(line, sizeof(line));
    printable(safe_path, sizeof(safe_path), path);
    printable(safe_id, sizeof(safe_id), req_id && *req_id ? req_id : "-");
    printable(safe_method, sizeof(safe_method), method);
    k = snprintf(line + n, sizeof(line) - n - 1, " req %s %s %s %d %.3fms cache=%s user=%lld",
                 safe_id, safe_method, safe_path, status, dur_ms, cache ? cache : "-", user_id);
    if (k < 0)
        return;
    n += (size_t)k;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    if (request_mode == LOG_REQUESTS_SYNC || (b = thread_buf()) == NULL) {
        emit(line, n);
        return;
    }
    now = time(NULL);
    pthread_mutex_lock(&b->mu);
    if (b->len > 0 && (b->len + n > sizeof(b->data) || now - b->oldest >= LOG_BUF_MAX_AGE_S))
        drain(b);
    if (b->len == 0)
        b->oldest = now;
    memcpy(b->data + b->len, line, n);
    b->len += n;
    pthread_mutex_unlock(&b->mu);
}
