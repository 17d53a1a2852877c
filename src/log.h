/* log: where the responder's lines go (a file from config, else stderr).
 * One line per request (log_request) plus operational messages. Callers never
 * pass tokens, passwords, bodies or SQL parameters here. The file can be
 * rotated: rename it, then have log_reopen() called (the responder does on
 * SIGUSR2); no line is lost or written twice. */
#ifndef GUILD_LOG_H
#define GUILD_LOG_H

#include <stdbool.h>
#include <time.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR };

/* Request lines: written one by one (sync), buffered up to 16 KiB / 1 s
 * (buffered), or not at all (off). Operational lines are always written at
 * once, after whatever request lines are buffered. */
enum log_request_mode { LOG_REQUESTS_SYNC, LOG_REQUESTS_BUFFERED, LOG_REQUESTS_OFF };
void log_set_request_mode(enum log_request_mode mode);

/* Writes the calling thread's buffered request lines now (a thread's
 * lines are also written when it ends, and by log_close). */
void log_flush(void);

/* Writes every thread's buffered request lines that are a second old or
 * more: for a thread that is not a worker (the responder's main thread
 * calls it once a second), so an idle worker never holds lines for long. */
void log_flush_aged(void);

/* Opens path for appending (NULL or "" means stderr). Returns 0 or -1. */
int log_open(const char *path);

/* After the file was renamed (log rotation): writes out every thread's
 * buffered lines into the old file, then opens the path again and makes the
 * same descriptor point at it. 0, or -1 (logged) when the path cannot be
 * opened: the old file stays in use. No-op for stderr. */
int log_reopen(void);

/* Flushes every buffer and closes; after the worker threads have ended. */
void log_close(void);

/* One timestamped line: "<iso time> <level> [pid] message". */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Like log_msg, but at most once per interval_s for the given limiter
 * (a static time_t at the call site): a dead Redis must not flood the log. */
void log_limited(time_t *last, int interval_s, enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The per-request line. cache may be NULL ("-"); user_id 0 means anonymous. */
void log_request(const char *req_id, const char *method, const char *path, int status,
                 double dur_ms, const char *cache, long long user_id);

#endif
