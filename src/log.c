/* log: line-oriented logging to one file descriptor; see log.h.
 * Every write(2) carries whole lines on an O_APPEND descriptor, so lines from
 * the processes of the pool never interleave. Request lines are buffered by
 * default (GUILD_REQUEST_LOG=buffered): a write per request was a visible
 * share of the hot path, and nginx already logs every request with the same
 * $request_id. Operational lines flush the buffer first, so order holds. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;
static enum log_request_mode request_mode = LOG_REQUESTS_SYNC;

/* buffered request lines, one buffer per worker thread: flushed when full, when the oldest is a second
 * old (checked at the next line), before an operational line, and on close */
#define LOG_BUF_SZ 16384
#define LOG_BUF_MAX_AGE_S 1
static _Thread_local char req_buf[LOG_BUF_SZ];
static _Thread_local size_t req_len;
static _Thread_local time_t req_oldest;

/* the formatted "YYYY-mm-ddTHH:MM:SS" of the last second seen: strftime once
 * a second, not once a line */
static _Thread_local time_t stamp_sec = -1;
static _Thread_local char stamp_text[24];

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int log_open(const char *path)
{
    int fd;

    if (path == NULL || *path == '\0') {
        log_fd = STDERR_FILENO;
        return 0;
    }
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    log_fd = fd;
    return 0;
}

void log_set_request_mode(enum log_request_mode mode)
{
    request_mode = mode;
}

static void emit(const char *line, size_t len);

void log_flush(void)
{
    if (req_len > 0)
        emit(req_buf, req_len);
    req_len = 0;
}

void log_close(void)
{
    log_flush();
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
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
    if (request_mode == LOG_REQUESTS_SYNC) {
        emit(line, n);
        return;
    }
    if (req_len > 0 && (req_len + n > sizeof(req_buf) || time(NULL) - req_oldest >= LOG_BUF_MAX_AGE_S))
        log_flush();
    if (req_len == 0)
        req_oldest = time(NULL);
    memcpy(req_buf + req_len, line, n);
    req_len += n;
}
