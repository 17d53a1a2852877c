/* app: per-process state, built once before the accept loop and torn down on
 * exit: configuration, the MySQL handle, the two Redis roles, the request
 * arena. Responders share nothing else; all shared state is in MySQL/Redis. */
#ifndef GUILD_APP_H
#define GUILD_APP_H

#include <time.h>

#include "arena.h"
#include "config.h"

struct db;
struct redis_conn;

#define APP_ARENA_CAP (8u * 1024u * 1024u)

struct app {
    struct config cfg;
    struct db *db;
    struct redis_conn *cache_redis;
    struct redis_conn *store_redis;
    struct arena arena;
    time_t started_at;
    /* work to run after the current response has been sent (cache warm) */
    void (*deferred)(struct app *app);
};

/* Loads config (file may be NULL) and allocates handles; does not connect,
 * so the responder starts while MySQL or Redis is down. Returns 0, -2 on a
 * configuration error (message in err: exit code 2), -1 otherwise. */
int app_open(struct app *app, const char *conf_file, char *err, size_t errsz);

/* Frees everything app_open() built; safe after a failed open. */
void app_close(struct app *app);

#endif
