/* cache_admin: the Redis side of /api/cache: INFO and key counts (the
 * entry count kept in Redis, recounted at most once a second pool-wide), the
 * pool-wide metrics hash, pattern clears (SCAN + UNLINK in batches, inside
 * the cache-entry namespace only), and the warm job's shared state.
 * Results come back as json-c trees for the handlers to answer. */
#ifndef GUILD_CACHE_ADMIN_H
#define GUILD_CACHE_ADMIN_H

#include <stdbool.h>

struct app;
struct json_object;

/* The stats body: Redis facts and app-level counters, in one round trip
 * (the entry count is the one kept in Redis, at most about a second old).
 * Never NULL. When the cache Redis is down, {"status":"unavailable",
 * "message":"Redis not connected", ...} with this process's own counters.
 * *recount: this responder's turn to count the entries again, which the
 * caller does with cache_admin_recount after the answer has gone. */
struct json_object *cache_admin_stats(struct app *app, bool *recount);

/* Counts the cache entries (a bounded SCAN) and keeps the count for stats. */
void cache_admin_recount(struct app *app);

/* Zeroes the pool-wide counters. 0, or -1 when Redis is unavailable. */
int cache_admin_reset(struct app *app);

/* Deletes entries whose name matches the glob. Returns the count, or -1
 * when Redis is unavailable. */
long long cache_admin_clear(struct app *app, const char *pattern);

/* The warm job state ({"status": "idle"} when none ran). NULL when Redis is
 * unavailable. */
struct json_object *cache_admin_warm_state(struct app *app);

/* Takes the pool-wide warm lock and records a running job. Returns 1 when
 * this process now owns the job, 0 when one is already running, -1 when
 * Redis is unavailable. */
int cache_admin_warm_begin(struct app *app);

/* Records the job's end and releases the lock. */
void cache_admin_warm_end(struct app *app, bool ok, long long keys_warmed, double duration_ms);

#endif
