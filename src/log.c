/* log: line-oriented logging to one file descriptor; see log.h.
 * Each line is written with a single write(2) on an O_APPEND descriptor, so
 * lines from the processes of the pool never interleave. */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int log_fd = STDERR_FILENO;

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

void log_close(void)
{
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = STDERR_FILENO;
}

static size_t stamp(char *buf, size_t sz)
{
    struct timeval tv;
    struct tm tm;
    size_t n;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(buf, sz, "%Y-%m-%dT%H:%M:%S", &tm);
    n += (size_t)snprintf(buf + n, sz - n, ".%03ldZ", (long)(tv.tv_usec / 1000));
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
{
    char line[1024];
    size_t n = stamp(line, sizeof(line));
    int k;

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
    size_t n = stamp(line, sizeof(line));
    int k;

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
    emit(line, n);
}
