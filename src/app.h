/* app: the state of one worker, built before its accept loop and torn down
 * on exit: the MySQL handle, the two Redis roles, the request arena, and a
 * copy of the process's configuration. A responder process runs several
 * workers (threads), each serving one request at a time with its own
 * connections; they share nothing but the read-only configuration, the log
 * descriptor and the metrics segment. Everything shared between requests is
 * in MySQL/Redis. */
#ifndef GUILD_APP_H
#define GUILD_APP_H

#include <time.h>

#include "arena.h"
#include "config.h"

struct db;
struct redis_conn;

#define APP_ARENA_CAP (8u * 1024u * 1024u)

struct app {
    struct config cfg; /* a shallow copy: the strings belong to the process */
    struct db *db;
    struct redis_conn *cache_redis;
    struct redis_conn *store_redis;
    struct arena arena;
    time_t started_at;
    /* work to run after the current response has been sent (cache warm) */
    void (*deferred)(struct app *app);
};

/* Process-wide setup, once, before any worker: loads config (file may be
 * NULL) into cfg, opens the log, initialises the MySQL library, maps the
 * metrics segment and hashes the Lua scripts. Does not connect, so the
 * responder starts while MySQL or Redis is down. Returns 0, -2 on a
 * configuration error (message in err: exit code 2), -1 otherwise. Call
 * app_process_close() in every case. */
int app_process_open(struct config *cfg, const char *conf_file, char *err, size_t errsz);
void app_process_close(struct config *cfg);

/* One worker's state over cfg (which must outlive it). Returns 0, or -1 on
 * out-of-memory (app_close() is still safe). */
int app_open(struct app *app, const struct config *cfg);

/* Frees everything app_open() built, flushing the worker's pending cache
 * metrics and buffered log lines; safe after a failed open. */
void app_close(struct app *app);

#endif
