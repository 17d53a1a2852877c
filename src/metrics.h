/* metrics: Prometheus counters shared by every responder of a pool through
 * one memory-mapped file (default: the FastCGI socket's path + ".metrics"),
 * incremented with relaxed atomics: no lock, no syscall, no network on the
 * hot path. GET /metrics renders the sums. Several hosts: Prometheus scrapes
 * each host's /metrics and sums, as usual; the cache's own pool-wide
 * counters (/api/cache/stats) live in Redis. Every call is a no-op when the
 * segment could not be mapped. */
#ifndef GUILD_METRICS_H
#define GUILD_METRICS_H

#include <stdbool.h>
#include <stddef.h>

struct route;
struct arena;

enum metrics_cache_result { METRICS_HIT, METRICS_MISS, METRICS_BYPASS, METRICS_COMPUTE };
enum metrics_rl_decision { METRICS_RL_ALLOWED, METRICS_RL_LIMITED, METRICS_RL_UNAVAILABLE };

/* Maps (and creates or resets when its layout changed) the segment at path;
 * NULL or "" picks the default. Counts one responder start. 0 or -1. */
int metrics_open(const char *path);
void metrics_close(void);

/* One answered request: route index in the route table (-1 unmatched). */
void metrics_request(int route_index, int status, double dur_ms);
void metrics_cache(const char *kind, enum metrics_cache_result r);
void metrics_invalidation(const char *family);
void metrics_ratelimit(const char *policy, enum metrics_rl_decision d);
void metrics_redis_error(const char *role);
/* A worker's reconnect found the role's master at another address than
 * before (Sentinel failover): once per worker thread and switch. */
void metrics_redis_master_switch(const char *role);
void metrics_mysql_error(void);

/* The store Redis' memory, for the alert that must fire well before its
 * maxmemory is reached (with noeviction, writes then fail: sessions 503,
 * the limiter fails open). Read with INFO at most once a second per pool,
 * whatever the scrape rate: metrics_store_memory_due() is true for one
 * caller a second, which then reads INFO and hands the result to
 * metrics_store_memory_set (ok false: unknown, the gauges are left out). */
bool metrics_store_memory_due(void);
void metrics_store_memory_set(bool ok, unsigned long long used, unsigned long long max);

/* The pool's "a cache invalidation may have been lost" flag, kept in the
 * same shared segment so every responder of the pool sees it at once (see
 * cache.c). mark: raise it; get: 0 when clear, else a value to hand to
 * clear, which lowers it only if nobody raised it again meanwhile. */
void metrics_cache_dirty_mark(void);
/* False when the segment could not be mapped: the flag is then not shared. */
bool metrics_cache_dirty_tracked(void);
unsigned long long metrics_cache_dirty_get(void);
void metrics_cache_dirty_clear(unsigned long long seen);
/* The pool-wide count of lost invalidations across hosts (cache.c keeps it
 * in the store role) as this host last saw it: raises it to count and
 * returns true when count is news to this host. */
bool metrics_cache_lost_seen_raise(unsigned long long count);

/* The password gate's slot table (pwgate.c), kept in this segment so that
 * every responder of the host shares it: METRICS_PW_SLOTS words, each 0
 * (free) or its holder's identity. NULL when the segment is not mapped. */
#define METRICS_PW_SLOTS 64
unsigned long long *metrics_pw_slots(void);
/* One password hash or check: admitted (run) or refused (the host was at
 * its cap: 503). */
void metrics_password_check(bool admitted);

/* The Prometheus text exposition (format 0.0.4) in the arena; NULL on
 * exhaustion. *len is its length. */
char *metrics_render(struct arena *a, size_t *len);

#endif
