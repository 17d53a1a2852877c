/* cache: Redis read-through caching of whole GET answers, with race-free
 * invalidation. DESIGN
 * - Every entry belongs to one family ("users", "leaderboard", "user:42",
 *   "perf:42", "missions"); the family's generation number is part of the
 *   entry's Redis key (guild:c:leaderboard:10@<gen>). A write bumps the
 *   generations of the families it touches, after its commit: O(1) per
 *   family, and every entry computed from older data becomes unreachable.
 *   A slow reader that computed before the write stores under the old
 *   generation, where nobody looks: the set-after-delete race cannot happen.
 * - Generations are Redis-time based (microseconds), so a generation key lost
 *   to eviction or expiry never comes back with a value it had before.
 * - A miss takes a short lock (SET NX PX) in the same script as the lookup;
 *   concurrent missers wait for the value. The lock names its holder
 *   (pid@host): a waiter takes the lock over from a holder whose process
 *   has died, or, when it cannot check the holder (another host), once the
 *   holder is late by a few times the entry's compute time. A wait lends
 *   the worker's slot to a stand-in (pool.c), so cheap requests never
 *   queue behind it, and ends after GUILD_CACHE_LOCK_WAIT_MS in any case.
 * - A lookup writes nothing but the pool's lookup counter: a generation is
 *   created by the first store of a 200 answer of its family, so requests
 *   for made-up ids (404s) leave no key behind.
 * - Hot entries are refreshed early by one request (XFetch, Vattani et al.).
 * - Pool-wide metrics live in one Redis hash; counts are updated inside the
 *   lookup scripts, latencies ride along with the process's next lookup:
 *   no extra round trip on the hot path.
 * - Redis down, slow or failing: the handler runs against MySQL, X-Cache:
 *   BYPASS, never a 5xx. Failed invalidations are retried by the process
 *   before its next cache use, and nobody on the host trusts the cache until
 *   the global generation has been bumped (a flag in the host's shared
 *   segment). Other hosts learn of the loss through the store role: the
 *   failing host counts it there (cache_lost_key) before its write is
 *   answered, and the limiter script, which every /api/ request runs,
 *   reads the count back, so each host stops trusting the cache on its next
 *   request (cache_note_lost) without an extra round trip. */
#ifndef GUILD_CACHE_H
#define GUILD_CACHE_H

#include <stdbool.h>
#include <stddef.h>

struct redisContext;
struct app;
struct req;
struct resp;

typedef int (*cache_compute_fn)(struct req *rq, struct resp *rs);

/* What a cacheable route is: its metric kind and how to name an entry. */
struct cache_spec {
    const char *kind; /* metric name: "users.stats", "leaderboard", ... */
    bool user_ttl;    /* GUILD_CACHE_TTL_USER_S instead of the analytics TTL */
    /* Writes the entry name and its family into the buffers; returns false
     * when the request is not cacheable as is (e.g. invalid parameters: the
     * handler answers 422 uncached). */
    bool (*name)(const struct req *rq, char *name, size_t name_sz, char *family, size_t fam_sz);
};

/* Serves rq through the cache: a hit answers the stored bytes; a miss runs
 * compute, answers, and stores a 200 answer. Adds X-Cache, ETag and
 * Cache-Control, and answers 304 to a matching If-None-Match. */
int cache_serve(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                cache_compute_fn compute);

/* Sends rq's cache-role reads now, without waiting, so that they travel
 * while the dispatcher waits on the store role (rate limit): the blob
 * blob_name of blob_family (the caller's account; NULL: none) and the
 * lookup of spec (NULL: none). cache_blob_get and cache_serve then take the
 * replies instead of asking again. Does nothing when the cache is unusable;
 * the lookup part is left out when the request is not cacheable as asked.
 * cache_prefetch_drop must run after every request: it reads the replies
 * of a lookup nobody used (a 429, 401, 403 came first) and takes back its
 * count, so the connection stays in step and hits stay exact. */
void cache_prefetch(struct req *rq, const struct cache_spec *spec, const char *blob_name,
                    const char *blob_family);
void cache_prefetch_drop(struct req *rq);

/* Recomputes and stores an entry regardless of what is cached (warm).
 * Returns 0 when stored. */
int cache_refresh(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                  cache_compute_fn compute);

/* Families a write invalidates. */
#define CACHE_FAM_USERS "users"             /* user stats and advanced stats */
#define CACHE_FAM_LEADERBOARD "leaderboard" /* every leaderboard */
#define CACHE_FAM_MISSIONS "missions"       /* mission stats */
#define CACHE_FAM_ALL "all"                 /* every entry (part of every entry's key) */

/* Bumps the generations of the given families (NULL-terminated list) and of
 * "user:<id>"/"perf:<id>" when user_id > 0 (flags choose which). One round
 * trip; on failure the bumps are kept and retried before the next cache use. */
#define CACHE_INV_USER 1u
#define CACHE_INV_PERF 2u
void cache_invalidate(struct app *app, const char *const *families, long long user_id,
                      unsigned user_flags);

/* A value the responder caches for itself (not an HTTP answer) under the
 * same generations: it is current until a write bumps `family` or "all".
 * cache_blob_get: 1 = found and current (data/len in the arena), 0 = not
 * found or stale (gen/all say what was seen: pass b to cache_blob_put after
 * reading the source of truth), -1 = the cache cannot be used now. */
struct cache_blob {
    const char *gen, *all;
    const char *data;
    size_t len;
};
int cache_blob_get(struct req *rq, const char *name, const char *family, struct cache_blob *b);
/* Stores data (TTL GUILD_CACHE_TTL_USER_S) unless the generations moved
 * since `seen` was read. kind names the metrics counter of computations. */
void cache_blob_put(struct app *app, const char *name, const char *family,
                    const struct cache_blob *seen, const char *kind, const char *data, size_t len);

/* The store-role key counting invalidations that any host of the pool
 * failed to make (see DESIGN). */
const char *cache_lost_key(struct app *app);
/* The count as the limiter script read it (-1: unknown): when it is news
 * to this host, the host stops trusting the cache until it has bumped the
 * global generation. */
void cache_note_lost(long long count);

/* The cache role's on-connect check (redis_conn_on_connect; arg: the
 * struct config). Redis replicates asynchronously: a primary that dies may
 * take generation bumps it had acknowledged with it, and the replica that
 * Sentinel promotes still holds the entries they retired. So a connection
 * to a server that has taken over from another (INFO: a previous
 * replication id) bumps the global generation first, once for the pool
 * (one script, which records the server's replication id as the cache's
 * primary), retiring every entry of unknown standing; so does one that
 * finds the recorded primary is another server. 0, or -1 when the check
 * could not run (the connection is then not used). */
int cache_check_primary(struct redisContext *ctx, void *arg);

/* Adds this process's pending latency/bypass counters to Redis now. */
void cache_flush_metrics(struct app *app);

/* The key prefix of cache entries and of the metrics hash. */
const char *cache_entry_prefix(struct app *app);
const char *cache_metrics_key(struct app *app);

/* Per-process setup of the script hashes (before any worker starts). */
void cache_init(void);
/* Per-worker seed of the random source (XFetch, lock tokens). */
void cache_thread_init(void);

/* Set once by the process that runs the workers (pool.c), before they
 * start. begin is called when a worker is about to wait on another
 * request's computation of an entry, and returns true when the worker's
 * slot was lent to a stand-in for the wait; end is then called when the
 * wait is over. Without hooks (tools, tests) a wait keeps its worker. */
void cache_set_wait_hooks(bool (*begin)(void), void (*end)(void));

/* True when s is a strong ETag list member match for etag ("*" matches). */
bool cache_etag_matches(const char *if_none_match, const char *etag);

#endif
