/* cache: see cache.h for the design. Three Lua scripts do the Redis side of
 * a lookup, a store and an invalidation atomically, each in one round trip. */
#include "cache.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <math.h>
#include <openssl/sha.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "clock.h"
#include "log.h"
#include "metrics.h"
#include "redis_conn.h"
#include "req.h"
#include "resp.h"

#define CACHE_NAME_MAX 96
#define CACHE_GEN_TTL_S "3600"   /* > any entry TTL: a live entry's generation outlives it */
#define CACHE_POLL_US 10000      /* how often a request waiting on another's computation looks */
#define CACHE_MAX_KINDS 12
#define CACHE_MAX_PENDING_INV 32
#define CACHE_HOST_MAX 64        /* the host name in a lock value (truncated) */
#define CACHE_LOCK_MAX 128       /* a lock value: "<104 random bits> <pid>@<host>" */
#define CACHE_LATE_FACTOR 4      /* a holder we cannot check is late after 4 compute times */
#define CACHE_LATE_MIN_MS 100    /* ... and never before 100 ms */
#define CACHE_MAX_STRANDED 8     /* locks a worker could not release, remembered to release */
#define CACHE_KEY_MAX 256        /* an entry's key, remembered with its stranded lock */

/* The hit path runs no script: one pipeline of plain commands (GET both
 * generations, GET the entry, PTTL it, count the lookup). An entry's value
 * starts with the generations it was computed under, "<family>.<all>\n";
 * it is served only when they equal the current ones. Scripts run only on
 * the slow path (miss, store, lock), where their atomicity is needed. */

/* KEYS: family generation, global generation, entry, metrics hash, cost hash.
 * ARGV: kind, lock ms, lock value, force (1 = recompute even if current;
 * a forced lookup did not come through the pipeline, so it counts itself),
 * stale lock value ('' = none: a waiter that found the holder gone or late
 * takes the lock over only if it still holds that value).
 * Re-checks the entry atomically, then takes the recompute lock.
 * Returns {'hit', value} | {'miss', gen family, gen all} |
 * {'wait', lock value, compute ms ('' = unknown)}: the compute time is the
 * stale entry's own (XFetch's delta) or else the last one of its kind, so
 * a waiter can tell a late holder from a slow computation. A missing
 * generation is '' and is not created here: only a store creates one, so
 * a lookup of a made-up id leaves nothing behind. */
static struct redis_script script_miss = {.text =
    "local gf = redis.call('GET', KEYS[1]) or ''\n"
    "local ga = redis.call('GET', KEYS[2]) or ''\n"
    "local v = false\n"
    "if ARGV[4] ~= '1' and gf ~= '' and ga ~= '' then\n"
    "  v = redis.call('GET', KEYS[3])\n"
    "  if v and string.sub(v, 1, #gf + #ga + 2) == gf .. '.' .. ga .. '\\n' then\n"
    "    return {'hit', v}\n"
    "  end\n"
    "end\n"
    "if ARGV[4] == '1' then redis.call('HINCRBY', KEYS[4], ARGV[1] .. ':lookups', 1) end\n"
    "local lock = KEYS[3] .. '|lock'\n"
    "local held = redis.call('GET', lock)\n"
    "if not held or (ARGV[5] ~= '' and held == ARGV[5]) then\n"
    "  redis.call('SET', lock, ARGV[3], 'PX', ARGV[2])\n"
    "  redis.call('HINCRBY', KEYS[4], ARGV[1] .. ':misses', 1)\n"
    "  if held then redis.call('HINCRBY', KEYS[4], ARGV[1] .. ':takeovers', 1) end\n"
    "  return {'miss', gf, ga}\n"
    "end\n"
    "local cost = ''\n"
    "local head = v or redis.call('GETRANGE', KEYS[3], 0, 255)\n"
    "local e0 = string.find(head, '\\n', 1, true)\n"
    "local e1 = e0 and string.find(head, '\\n', e0 + 1, true)\n"
    "local e2 = e1 and string.find(head, '\\n', e1 + 1, true)\n"
    "if e2 then cost = string.sub(head, e1 + 1, e2 - 1) end\n"
    "if cost == '' then cost = redis.call('HGET', KEYS[5], ARGV[1]) or '' end\n"
    "return {'wait', held, cost}\n"};

/* KEYS: entry, metrics hash. ARGV: kind, lock token, lock ms.
 * An XFetch early refresh: takes the entry's lock if it is free.
 * Returns 1 when this request is to recompute. */
static struct redis_script script_refresh = {.text =
    "if redis.call('SET', KEYS[1] .. '|lock', ARGV[2], 'NX', 'PX', ARGV[3]) then\n"
    "  redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':refreshes', 1)\n"
    "  redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':misses', 1)\n"
    "  return 1\n"
    "end\n"
    "return 0\n"};

/* KEYS: family generation, global generation, entry, metrics hash, cost hash.
 * ARGV: kind, generations seen by the lookup (family, all; '' = missing),
 *       header "etag\ndelta ms\n", TTL ms, body, lock token ('' = none),
 *       generation TTL s, unlocked (1: a waiter that gave up counts a miss),
 *       compute ms ('' = not an answer: nothing to record).
 * Stores only when the generations are still the ones the computation
 * started under: an answer computed before a write is never stored after it.
 * A generation missing then and now is created from Redis' clock (µs), a
 * value no earlier entry can carry. Only 200 answers come here (a 404 of a
 * made-up id never does), so every generation it creates belongs to an
 * entry that exists. The kind's last compute time goes to the cost hash
 * (one field per kind): the wait bound of the kind's next cold miss. */
static struct redis_script script_store = {.text =
    "local gf = redis.call('GET', KEYS[1]) or ''\n"
    "local ga = redis.call('GET', KEYS[2]) or ''\n"
    "local lock = KEYS[3] .. '|lock'\n"
    "if ARGV[7] ~= '' and redis.call('GET', lock) == ARGV[7] then redis.call('DEL', lock) end\n"
    "if ARGV[9] == '1' then redis.call('HINCRBY', KEYS[4], ARGV[1] .. ':misses', 1) end\n"
    "if ARGV[10] ~= '' then\n"
    "  redis.call('HSET', KEYS[5], ARGV[1], ARGV[10])\n"
    "  redis.call('EXPIRE', KEYS[5], ARGV[8])\n"
    "end\n"
    "if gf ~= ARGV[2] or ga ~= ARGV[3] then return 0 end\n"
    "if gf == '' or ga == '' then\n"
    "  local t = redis.call('TIME')\n"
    "  local now = t[1] .. string.rep('0', 6 - #t[2]) .. t[2]\n"
    "  if gf == '' then gf = now; redis.call('SET', KEYS[1], gf, 'EX', ARGV[8]) end\n"
    "  if ga == '' then ga = now; redis.call('SET', KEYS[2], ga, 'EX', ARGV[8]) end\n"
    "end\n"
    "redis.call('SET', KEYS[3], gf .. '.' .. ga .. '\\n' .. ARGV[4] .. ARGV[6], 'PX', ARGV[5])\n"
    "redis.call('HINCRBY', KEYS[4], ARGV[1] .. ':computations', 1)\n"
    "return 1\n"};

/* KEYS: entry. ARGV: lock token. Releases a lock without storing. */
static struct redis_script script_release = {.text =
    "local lock = KEYS[1] .. '|lock'\n"
    "if redis.call('GET', lock) == ARGV[1] then redis.call('DEL', lock) end\n"
    "return 1\n"};

/* KEYS: generation keys..., metrics hash (last). ARGV: generation TTL, then
 * one family label per generation key. The new generation is above both the
 * old one and Redis' clock in microseconds, so values never repeat. */
static struct redis_script script_invalidate = {.text =
    "local t = redis.call('TIME')\n"
    "local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "for i = 1, #KEYS - 1 do\n"
    "  local cur = tonumber(redis.call('GET', KEYS[i]) or '0')\n"
    "  local nxt = math.max(cur + 1, now_us)\n"
    "  redis.call('SET', KEYS[i], string.format('%.0f', nxt), 'EX', ARGV[1])\n"
    "  redis.call('HINCRBY', KEYS[#KEYS], 'invalidations:' .. ARGV[i + 1], 1)\n"
    "end\n"
    "return #KEYS - 1\n"};

/* KEYS: the primary marker, the global generation. ARGV: this server's
 * replication id, generation TTL s, promoted (1: the server has been a
 * replica: INFO shows a previous replication id). Returns 1 when the
 * primary changed and the global generation (if there is one) was bumped,
 * else 0. The marker is written only once a server has taken over: a
 * server that was never a replica, without a marker, is the original
 * primary, and nothing is written (a lookup writes nothing, test_cache_limits).
 * A promoted server without a marker, or one whose marker names another
 * primary, has data of unknown standing. */
static const char script_primary[] =
    "local seen = redis.call('GET', KEYS[1])\n"
    "if seen == ARGV[1] then return 0 end\n"
    "if not seen and ARGV[3] == '0' then return 0 end\n"
    "local cur = redis.call('GET', KEYS[2])\n"
    "if cur then\n"
    "  local t = redis.call('TIME')\n"
    "  local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "  local nxt = math.max((tonumber(cur) or 0) + 1, now_us)\n"
    "  redis.call('SET', KEYS[2], string.format('%.0f', nxt), 'EX', ARGV[2])\n"
    "end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "return 1\n";

/* ---- per-worker (thread) state: pending metrics and invalidations, randomness ---- */

struct pending_kind {
    const char *kind; /* static string from a cache_spec */
    long long hit_us, miss_us;
    long hit_n, miss_n, bypass_n;
};

static _Thread_local struct pending_kind pending[CACHE_MAX_KINDS];
static _Thread_local size_t npending;
static _Thread_local char pending_inv[CACHE_MAX_PENDING_INV][CACHE_NAME_MAX];
static _Thread_local size_t npending_inv;
static _Thread_local unsigned long long rng_state;

/* Recompute locks this worker took and could not give back: its store or
 * release failed (the cache Redis froze or went away mid-computation), or
 * the script taking the lock got no answer and may still run once Redis
 * thaws. Such a lock outlives any computation until it expires
 * (GUILD_CACHE_LOCK_MS).
 * Readers on this host trust a live holder's process and would wait their
 * whole GUILD_CACHE_LOCK_WAIT_MS on it. The worker releases them at its next
 * lookup that reaches Redis (release_stranded); a lock taken over since has
 * another value and is left alone. */
struct stranded_lock {
    char entry_key[CACHE_KEY_MAX];
    char token[CACHE_LOCK_MAX];
};
static _Thread_local struct stranded_lock stranded[CACHE_MAX_STRANDED];
static _Thread_local size_t nstranded;

/* ---- per-process state, set before any worker starts ---- */

static char host_name[CACHE_HOST_MAX]; /* lock values name their holder: pid@host */
static long host_pid;
static bool (*wait_begin_hook)(void);
static void (*wait_end_hook)(void);

void cache_set_wait_hooks(bool (*begin)(void), void (*end)(void))
{
    wait_begin_hook = begin;
    wait_end_hook = end;
}

void cache_init(void)
{
    redis_script_init(&script_miss);
    redis_script_init(&script_refresh);
    redis_script_init(&script_store);
    redis_script_init(&script_release);
    redis_script_init(&script_invalidate);
    if (gethostname(host_name, sizeof(host_name)) != 0)
        snprintf(host_name, sizeof(host_name), "?");
    host_name[sizeof(host_name) - 1] = '\0';
    host_name[strcspn(host_name, " ")] = '\0';
    host_pid = (long)getpid();
}

void cache_thread_init(void)
{
    if (getrandom(&rng_state, sizeof(rng_state), 0) != sizeof(rng_state))
        rng_state = (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
    rng_state |= 1;
}

/* Uniform in (0, 1] (xorshift64*): XFetch's log() needs no zero. */
static double rand_unit(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((double)((rng_state * 2685821657736338717ULL) >> 11) + 1.0) / 9007199254740992.0;
}

static struct pending_kind *pending_for(const char *kind)
{
    for (size_t i = 0; i < npending; i++)
        if (strcmp(pending[i].kind, kind) == 0)
            return &pending[i];
    if (npending == CACHE_MAX_KINDS)
        return NULL;
    memset(&pending[npending], 0, sizeof(pending[0]));
    pending[npending].kind = kind;
    return &pending[npending++];
}

static void record(const char *kind, const char *outcome, double ms)
{
    struct pending_kind *p = pending_for(kind);
    long long us = (long long)(ms * 1000.0);

    metrics_cache(kind, strcmp(outcome, "hit") == 0    ? METRICS_HIT
                        : strcmp(outcome, "miss") == 0 ? METRICS_MISS
                                                       : METRICS_BYPASS);
    if (p == NULL)
        return;
    if (strcmp(outcome, "hit") == 0) {
        p->hit_us += us;
        p->hit_n++;
    } else if (strcmp(outcome, "miss") == 0) {
        p->miss_us += us;
        p->miss_n++;
    } else {
        p->bypass_n++;
    }
}

/* One HINCRBY per non-zero pending counter, appended to a pipeline being
 * built in cmds (at most max commands; strings in a). Integers only: the
 * latencies are kept in microseconds. Returns the number appended. */
#define CACHE_PENDING_FIELDS 5
static size_t pending_cmds(struct app *app, const char *metrics_key, const char *(*cmds)[4],
                           size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < npending; i++) {
        const struct pending_kind *p = &pending[i];
        const struct {
            const char *field;
            long long v;
        } f[CACHE_PENDING_FIELDS] = {{"hit_us", p->hit_us},   {"hit_n", p->hit_n},
                                     {"miss_us", p->miss_us}, {"miss_n", p->miss_n},
                                     {"bypasses", p->bypass_n}};
        for (size_t k = 0; k < CACHE_PENDING_FIELDS && n < max; k++) {
            if (f[k].v == 0)
                continue;
            cmds[n][0] = "HINCRBY";
            cmds[n][1] = metrics_key;
            cmds[n][2] = arena_sprintf(&app->arena, "%s:%s", p->kind, f[k].field);
            cmds[n][3] = arena_sprintf(&app->arena, "%lld", f[k].v);
            if (cmds[n][2] == NULL || cmds[n][3] == NULL)
                return n;
            n++;
        }
    }
    return n;
}

static void pending_clear(void)
{
    npending = 0;
}

/* ---- keys ---- */

const char *cache_entry_prefix(struct app *app)
{
    return arena_sprintf(&app->arena, "%sc:", app->cfg.redis_prefix);
}

const char *cache_metrics_key(struct app *app)
{
    return arena_sprintf(&app->arena, "%smetrics", app->cfg.redis_prefix);
}

static char *gen_key(struct app *app, const char *family)
{
    return arena_sprintf(&app->arena, "%sg:%s", app->cfg.redis_prefix, family);
}

/* The hash of each kind's last compute time (ms): how long a cold miss of
 * that kind is expected to take. */
static char *cost_key(struct app *app)
{
    return arena_sprintf(&app->arena, "%scost", app->cfg.redis_prefix);
}

/* ---- invalidation ---- */

static int send_invalidations(struct app *app, char fams[][CACHE_NAME_MAX], size_t n)
{
    const char *argv[2 * CACHE_MAX_PENDING_INV + 2];
    int nk = 0, na;
    redisReply *r;
    int ok;

    for (size_t i = 0; i < n; i++)
        argv[nk++] = gen_key(app, fams[i]);
    argv[nk++] = cache_metrics_key(app);
    na = nk;
    argv[na++] = CACHE_GEN_TTL_S;
    for (size_t i = 0; i < n; i++) /* metric label: "user:42" counts as "user" */
        argv[na++] = arena_strndup(&app->arena, fams[i], strcspn(fams[i], ":"));
    for (int i = 0; i < na; i++)
        if (argv[i] == NULL)
            return -1;
    r = redis_conn_eval(app->cache_redis, &script_invalidate, nk, na, argv, NULL);
    ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
    freeReplyObject(r);
    for (size_t i = 0; ok && i < n; i++)
        metrics_invalidation(fams[i]);
    return ok ? 0 : -1;
}

static void pending_inv_add(const char *family)
{
    for (size_t i = 0; i < npending_inv; i++)
        if (strcmp(pending_inv[i], family) == 0)
            return;
    if (npending_inv < CACHE_MAX_PENDING_INV) {
        snprintf(pending_inv[npending_inv++], CACHE_NAME_MAX, "%.95s", family);
    } else { /* too many to remember: one bump of the global generation covers all */
        snprintf(pending_inv[0], CACHE_NAME_MAX, "%s", CACHE_FAM_ALL);
        npending_inv = 1;
    }
}

/* Retries invalidations that failed earlier. Returns 0 when none is left:
 * until then the cache cannot be trusted and lookups bypass it. */
static int retry_invalidations(struct app *app)
{
    if (npending_inv == 0)
        return 0;
    /* This worker raised the pool's dirty flag when its bumps failed; a
     * lowered flag means a worker has since bumped the global generation,
     * which retired everything these bumps would. Sending them now, maybe
     * long after (an idle worker), would only throw away fresh entries. */
    if (metrics_cache_dirty_tracked() && metrics_cache_dirty_get() == 0) {
        npending_inv = 0;
        return 0;
    }
    if (send_invalidations(app, pending_inv, npending_inv) != 0)
        return -1;
    log_msg(LOG_INFO, "cache: %zu deferred invalidation(s) applied", npending_inv);
    npending_inv = 0;
    return 0;
}

/* When any responder of the pool failed to invalidate, nobody may serve from
 * the cache until the global generation has been bumped: every entry stored
 * before that becomes unreachable. Returns 0 when the cache can be used. */
static int repair_if_dirty(struct app *app)
{
    char all[1][CACHE_NAME_MAX] = {CACHE_FAM_ALL};
    unsigned long long dirty = metrics_cache_dirty_get();

    if (dirty == 0)
        return 0;
    if (send_invalidations(app, all, 1) != 0)
        return -1;
    metrics_cache_dirty_clear(dirty);
    log_msg(LOG_INFO, "cache: every entry retired after a lost invalidation");
    return 0;
}

/* The value of field ("master_replid", "master_replid2") of an INFO
 * replication reply into out (41 bytes); -1 when absent. */
static int replid_of(const char *info, const char *field, char out[41])
{
    size_t flen = strlen(field), n;
    const char *p = info;

    while ((p = strstr(p, field)) != NULL &&
           ((p != info && p[-1] != '\n') || p[flen] != ':'))
        p += flen;
    if (p == NULL)
        return -1;
    p += flen + 1;
    n = strspn(p, "0123456789abcdef");
    if (n == 0 || n > 40)
        return -1;
    memcpy(out, p, n);
    out[n] = '\0';
    return 0;
}

int cache_check_primary(struct redisContext *ctx, void *arg)
{
    const struct config *cfg = arg;
    char replid[41], replid2[41], marker[96], all[96];
    const char *info_argv[] = {"INFO", "replication"};
    redisReply *r = redisCommandArgv(ctx, 2, info_argv, NULL);
    int ok = r != NULL && r->type == REDIS_REPLY_STRING &&
             replid_of(r->str, "master_replid", replid) == 0;
    /* a previous id other than all zeros: this server took over from another */
    bool promoted = ok && replid_of(r->str, "master_replid2", replid2) == 0 &&
                    strspn(replid2, "0") != strlen(replid2);

    freeReplyObject(r);
    if (!ok)
        return -1;
    snprintf(marker, sizeof(marker), "%sprimary", cfg->redis_prefix);
    snprintf(all, sizeof(all), "%sg:%s", cfg->redis_prefix, CACHE_FAM_ALL);
    {
        const char *argv[] = {"EVAL",  script_primary,   "2", marker, all, replid,
                              CACHE_GEN_TTL_S, promoted ? "1" : "0"};
        r = redisCommandArgv(ctx, 8, argv, NULL);
    }
    ok = r != NULL && r->type == REDIS_REPLY_INTEGER;
    if (ok && r->integer == 1)
        log_msg(LOG_WARN, "cache: written through a new primary (replication id %.12s...): "
                "entries from before it are retired", replid);
    freeReplyObject(r);
    return ok ? 0 : -1;
}

const char *cache_lost_key(struct app *app)
{
    return arena_sprintf(&app->arena, "%sinv:lost", app->cfg.redis_prefix);
}

/* Counts a lost invalidation in the store role, before the write that lost
 * it is answered: another host may reach the cache when this one cannot,
 * and must not serve what the write changed. The count this host reaches
 * is marked seen: its own flag is already up. */
static void announce_lost(struct app *app)
{
    const char *key = cache_lost_key(app);
    const char *argv[] = {"INCR", key};
    redisReply *r = key ? redis_conn_command(app->store_redis, 2, argv, NULL) : NULL;

    if (r != NULL && r->type == REDIS_REPLY_INTEGER) {
        (void)metrics_cache_lost_seen_raise((unsigned long long)r->integer);
    } else {
        static _Thread_local time_t last;
        log_limited(&last, 5, LOG_ERR, "cache: a lost invalidation could not be announced to "
                    "the other hosts (store Redis unavailable too)");
    }
    freeReplyObject(r);
}

void cache_note_lost(long long count)
{
    if (count > 0 && metrics_cache_lost_seen_raise((unsigned long long)count)) {
        metrics_cache_dirty_mark();
        log_msg(LOG_WARN, "cache: another host lost an invalidation; the cache is retired");
    }
}

void cache_invalidate(struct app *app, const char *const *families, long long user_id,
                      unsigned user_flags)
{
    char fams[CACHE_MAX_PENDING_INV][CACHE_NAME_MAX];
    size_t n = 0;

    for (size_t i = 0; families != NULL && families[i] != NULL && n < 8; i++)
        snprintf(fams[n++], CACHE_NAME_MAX, "%s", families[i]);
    if (user_id > 0 && (user_flags & CACHE_INV_USER))
        snprintf(fams[n++], CACHE_NAME_MAX, "user:%lld", user_id);
    if (user_id > 0 && (user_flags & CACHE_INV_PERF))
        snprintf(fams[n++], CACHE_NAME_MAX, "perf:%lld", user_id);
    if (n == 0)
        return;
    if (retry_invalidations(app) == 0 && send_invalidations(app, fams, n) == 0)
        return;
    for (size_t i = 0; i < n; i++)
        pending_inv_add(fams[i]);
    metrics_cache_dirty_mark(); /* the other responders must stop trusting the cache too */
    announce_lost(app);         /* ... and those of the other hosts */
    {
        static _Thread_local time_t last;
        log_limited(&last, 5, LOG_WARN, "cache: invalidation deferred (Redis unavailable)");
    }
}

/* ---- answers ---- */

static void etag_of(const char *body, size_t len, char out[36])
{
    unsigned char md[SHA256_DIGEST_LENGTH];

    SHA256((const unsigned char *)body, len, md);
    out[0] = '"';
    for (int i = 0; i < 16; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
    out[33] = '"';
    out[34] = '\0';
}

bool cache_etag_matches(const char *inm, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = inm;

    if (inm == NULL)
        return false;
    while (*p) {
        const char *start;
        size_t len;

        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        if (*p == '*')
            return true;
        if (strncmp(p, "W/", 2) == 0) /* If-None-Match uses the weak comparison */
            p += 2;
        start = p;
        if (*p == '"') {
            const char *q = strchr(p + 1, '"');
            p = q ? q + 1 : p + strlen(p);
        } else {
            p += strcspn(p, ", \t");
        }
        len = (size_t)(p - start);
        if (len == elen && strncmp(start, etag, elen) == 0)
            return true;
    }
    return false;
}

/* Adds the cache headers and answers 304 when the client already has it. */
static int answer(struct req *rq, struct resp *rs, const char *xcache, const char *etag)
{
    resp_header(rs, "X-Cache", "%s", xcache);
    resp_header(rs, "ETag", "%s", etag);
    resp_header(rs, "Cache-Control", "no-cache");
    rq->cache_state = xcache;
    if (cache_etag_matches(req_header(rq, "If-None-Match"), etag))
        return resp_empty(rs, 304);
    return rs->status;
}

/* Test stacks only (GUILD_DEBUG_COMPUTE_DELAY=1): sleeps as long as the
 * named request header asks (at most 2 s), to make races reproducible. */
static void debug_delay(const struct req *rq, const char *header)
{
    const char *d;
    long v;

    if (!rq->app->cfg.debug_compute_delay || (d = req_header(rq, header)) == NULL)
        return;
    v = strtol(d, NULL, 10);
    if (v > 0)
        usleep((useconds_t)(v > 2000 ? 2000 : v) * 1000);
}

/* Runs the handler, timing it (XFetch's delta). */
static int run_compute(struct req *rq, struct resp *rs, cache_compute_fn compute, double *ms)
{
    double t0 = clock_ms();
    int status;

    debug_delay(rq, "X-Debug-Compute-Delay-Ms");
    status = compute(rq, rs);
    *ms = clock_ms() - t0;
    return status;
}

static int ttl_ms(struct req *rq, const struct cache_spec *spec)
{
    return (spec->user_ttl ? rq->app->cfg.cache_ttl_user_s : rq->app->cfg.cache_ttl_analytics_s) *
           1000;
}

/* ---- the slow path: miss, store, wait ---- */

/* What a lookup found out, carried from the pipeline to the store. */
struct lookup {
    const char *gen_key, *all_key, *entry_key, *metrics_key;
    const char *gen, *all;       /* generations seen ('' = missing) */
    char token[CACHE_LOCK_MAX];  /* our lock value ('' = we hold no lock) */
};

/* Remembers a lock of ours that Redis did not get to release (no token:
 * nothing to remember). When the list is full, or the key too long, the lock
 * is left to expire, as before. */
static void strand(const char *entry_key, const char *token)
{
    struct stranded_lock *sl;

    if (token[0] == '\0' || nstranded == CACHE_MAX_STRANDED ||
        strlen(entry_key) >= sizeof(sl->entry_key))
        return;
    sl = &stranded[nstranded++];
    snprintf(sl->entry_key, sizeof(sl->entry_key), "%s", entry_key);
    snprintf(sl->token, sizeof(sl->token), "%s", token);
}

/* Releases the stranded locks, one script call each. The first that Redis
 * does not answer ends the attempt (the rest would only wait out the same
 * timeout): it and those after it stay listed for the next lookup. */
static void release_stranded(struct app *app)
{
    size_t done = 0;

    while (done < nstranded) {
        const char *argv[] = {stranded[done].entry_key, stranded[done].token};
        redisReply *r = redis_conn_eval(app->cache_redis, &script_release, 1, 2, argv, NULL);
        bool ok = r != NULL && r->type == REDIS_REPLY_INTEGER;

        freeReplyObject(r);
        if (!ok)
            break;
        done++;
    }
    if (done == 0)
        return;
    log_msg(LOG_INFO, "cache: %zu recompute lock(s) stranded by a failed Redis call released",
            done);
    memmove(stranded, stranded + done, (nstranded - done) * sizeof(stranded[0]));
    nstranded -= done;
}

/* Stores a 200 answer if the generations are still the ones seen (releasing
 * our lock, if we hold it). */
static void store(struct req *rq, const struct cache_spec *spec, const struct lookup *lk,
                  const struct resp *rs, const char *etag, double compute_ms, bool unlocked)
{
    struct app *app = rq->app;
    char ttl[32], ms[32];
    const char *argv[15];
    size_t lens[15];
    redisReply *r;

    snprintf(ttl, sizeof(ttl), "%d", ttl_ms(rq, spec));
    snprintf(ms, sizeof(ms), "%.0f", compute_ms < 1 ? 1 : compute_ms);
    argv[0] = lk->gen_key;
    argv[1] = lk->all_key;
    argv[2] = lk->entry_key;
    argv[3] = lk->metrics_key;
    argv[4] = cost_key(app);
    argv[5] = spec->kind;
    argv[6] = lk->gen;
    argv[7] = lk->all;
    argv[8] = arena_sprintf(&app->arena, "%s\n%s\n", etag, ms);
    argv[9] = ttl;
    argv[10] = rs->body;
    argv[11] = lk->token;
    argv[12] = CACHE_GEN_TTL_S;
    argv[13] = unlocked ? "1" : "0";
    argv[14] = ms;
    if (argv[4] == NULL || argv[8] == NULL)
        return;
    for (int i = 0; i < 15; i++)
        lens[i] = argv[i] ? strlen(argv[i]) : 0;
    lens[10] = rs->body_len;
    r = redis_conn_eval(app->cache_redis, &script_store, 5, 15, argv, lens);
    /* a failed store only costs a later miss, but must not strand our lock */
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        strand(lk->entry_key, lk->token);
    freeReplyObject(r);
}

static void release(struct app *app, const struct lookup *lk)
{
    const char *argv[] = {lk->entry_key, lk->token};
    redisReply *r;

    if (lk->token[0] == '\0')
        return;
    r = redis_conn_eval(app->cache_redis, &script_release, 1, 2, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_INTEGER)
        strand(lk->entry_key, lk->token);
    freeReplyObject(r);
}

/* Splits a stored value "fam.all\netag\ndelta\nbody" and answers it. */
static int answer_stored(struct req *rq, struct resp *rs, const char *v, size_t len)
{
    const char *e0 = memchr(v, '\n', len), *e1, *e2;
    char etag[64];

    if (e0 == NULL || (e1 = memchr(e0 + 1, '\n', len - (size_t)(e0 + 1 - v))) == NULL ||
        (e2 = memchr(e1 + 1, '\n', len - (size_t)(e1 + 1 - v))) == NULL ||
        (size_t)(e1 - e0 - 1) >= sizeof(etag))
        return -1;
    memcpy(etag, e0 + 1, (size_t)(e1 - e0 - 1));
    etag[e1 - e0 - 1] = '\0';
    resp_json_text(rs, 200, e2 + 1, len - (size_t)(e2 + 1 - v));
    return answer(rq, rs, "HIT", etag);
}

/* True when value v was computed under the generations gen.all. */
static bool is_current(const char *v, size_t len, const char *gen, const char *all)
{
    size_t g = strlen(gen), a = strlen(all);

    return g > 0 && a > 0 && len > g + a + 1 && memcmp(v, gen, g) == 0 && v[g] == '.' &&
           memcmp(v + g + 1, all, a) == 0 && v[g + 1 + a] == '\n';
}

/* Computes, answers and (for a 200) stores. */
static int compute_and_store(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                             cache_compute_fn compute, const struct lookup *lk, bool unlocked)
{
    char etag[36];
    double ms;
    int status = run_compute(rq, rs, compute, &ms);

    if (status != 200) {
        release(rq->app, lk);
        return status;
    }
    etag_of(rs->body, rs->body_len, etag);
    metrics_cache(spec->kind, METRICS_COMPUTE);
    debug_delay(rq, "X-Debug-Store-Delay-Ms"); /* a slow reader: computed, not yet stored */
    store(rq, spec, lk, rs, etag, ms, unlocked);
    return answer(rq, rs, "MISS", etag);
}

static int bypass(struct req *rq, struct resp *rs, cache_compute_fn compute)
{
    char etag[36];
    double ms;
    int status = run_compute(rq, rs, compute, &ms);

    if (status != 200)
        return status;
    etag_of(rs->body, rs->body_len, etag);
    return answer(rq, rs, "BYPASS", etag);
}

/* GETs both generations and the entry in one round trip. 0 and the three
 * replies (caller frees), or -1 when Redis is unavailable. */
static int read_current(struct app *app, const struct lookup *lk, redisReply *out[3])
{
    const char *cmds[3][2] = {{"GET", lk->gen_key}, {"GET", lk->all_key}, {"GET", lk->entry_key}};
    const char **argvs[3] = {cmds[0], cmds[1], cmds[2]};
    const int argcs[3] = {2, 2, 2};

    return redis_conn_pipeline(app->cache_redis, 3, argcs, argvs, NULL, (struct redisReply **)out);
}

/* Our lock value, made when a request first tries a lock (a hit never
 * does): 104 random bits, unique enough across the pool, then who holds
 * it, so that a waiter on this host can tell whether the holder's process
 * still runs. */
static const char *lock_value(struct lookup *lk)
{
    if (lk->token[0] == '\0')
        snprintf(lk->token, sizeof(lk->token), "%013llx%013llx %ld@%s",
                 (unsigned long long)(rand_unit() * 4503599627370496.0),
                 (unsigned long long)(rand_unit() * 4503599627370496.0), host_pid, host_name);
    return lk->token;
}

/* The miss script: atomically re-check, else take the lock when it is free
 * or still holds `stale` (a holder found gone or late; "" = none). Returns
 * the reply, checked for its shape, or NULL. */
static redisReply *miss(struct app *app, const struct cache_spec *spec, struct lookup *lk,
                        bool force, const char *stale)
{
    char lock_ms[16];
    const char *argv[10];
    redisReply *r;
    bool ok;

    snprintf(lock_ms, sizeof(lock_ms), "%d", app->cfg.cache_lock_ms);
    argv[0] = lk->gen_key;
    argv[1] = lk->all_key;
    argv[2] = lk->entry_key;
    argv[3] = lk->metrics_key;
    argv[4] = cost_key(app);
    argv[5] = spec->kind;
    argv[6] = lock_ms;
    argv[7] = lock_value(lk);
    argv[8] = force ? "1" : "0";
    argv[9] = stale;
    if (argv[4] == NULL)
        return NULL;
    r = redis_conn_eval(app->cache_redis, &script_miss, 5, 10, argv, NULL);
    /* no reply: the script may still run, late (sent before Redis froze), and
     * take the lock for a computation this request will not store */
    if (r == NULL)
        strand(lk->entry_key, lk->token);
    ok = r != NULL && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
         r->element[0]->type == REDIS_REPLY_STRING;
    for (size_t i = 1; ok && i < r->elements; i++)
        ok = r->element[i]->type == REDIS_REPLY_STRING;
    if (!ok) {
        if (r != NULL) {
            static _Thread_local time_t last;
            log_limited(&last, 5, LOG_ERR, "cache: unexpected miss reply (type %d)", r->type);
        }
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* What a lock's value "<random> <pid>@<host>" tells about its holder: on
 * this host, whether its process still runs (a responder killed while
 * computing leaves its lock behind); elsewhere, or in another format,
 * nothing. A pid reused since is taken for the holder: the wait is then
 * bounded as for a live one. */
enum holder { HOLDER_ALIVE, HOLDER_GONE, HOLDER_UNKNOWN };

static enum holder holder_state(const char *lock)
{
    const char *sp = strchr(lock, ' '), *at = sp ? strchr(sp + 1, '@') : NULL;
    char *end;
    long pid;

    if (at == NULL || strcmp(at + 1, host_name) != 0)
        return HOLDER_UNKNOWN;
    pid = strtol(sp + 1, &end, 10);
    if (end != at || pid <= 0 || pid > 0x7fffffffL)
        return HOLDER_UNKNOWN;
    if (pid == host_pid || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
        return HOLDER_ALIVE;
    return HOLDER_GONE;
}

/* What a waiter knows of the computation it waits for. */
struct waiting {
    char holder[CACHE_LOCK_MAX]; /* the lock's value when last seen */
    double cost_ms;              /* the entry's expected compute time (0 = unknown) */
    double late_at;              /* when a holder we cannot check counts as late */
};

/* Starts waiting on holder: a holder we cannot check is late after
 * CACHE_LATE_FACTOR times the expected compute time (unknown: the whole
 * configured wait), never before CACHE_LATE_MIN_MS nor after the configured
 * wait. */
static void waiting_on(const struct app *app, struct waiting *w, const char *holder)
{
    double bound = CACHE_LATE_FACTOR * w->cost_ms, cap = app->cfg.cache_lock_wait_ms;

    if (w->cost_ms <= 0 || bound > cap)
        bound = cap;
    else if (bound < CACHE_LATE_MIN_MS)
        bound = CACHE_LATE_MIN_MS < cap ? CACHE_LATE_MIN_MS : cap;
    snprintf(w->holder, sizeof(w->holder), "%s", holder);
    w->late_at = clock_ms() + bound;
}

/* One look while waiting (GET both generations, the entry and its lock).
 * Returns 1 when answered from the cache (*status), 0 to keep waiting, 2
 * to try the lock (*stale: "" when it is free, else the gone or late
 * holder's value to take it over from), -1 when Redis is unavailable. */
static int look(struct req *rq, struct resp *rs, const struct lookup *lk, const char *lock_key,
                struct waiting *w, const char **stale, int *status)
{
    const char *cmds[4][2] = {
        {"GET", lk->gen_key}, {"GET", lk->all_key}, {"GET", lk->entry_key}, {"GET", lock_key}};
    const char **argvs[4] = {cmds[0], cmds[1], cmds[2], cmds[3]};
    const int argcs[4] = {2, 2, 2, 2};
    redisReply *r[4];
    enum holder h;
    int step = 0;

    if (redis_conn_pipeline(rq->app->cache_redis, 4, argcs, argvs, NULL, r) != 0)
        return -1;
    if (r[0]->type == REDIS_REPLY_STRING && r[1]->type == REDIS_REPLY_STRING &&
        r[2]->type == REDIS_REPLY_STRING && is_current(r[2]->str, r[2]->len, r[0]->str, r[1]->str) &&
        (*status = answer_stored(rq, rs, r[2]->str, r[2]->len)) >= 0) {
        step = 1;
    } else if (r[3]->type != REDIS_REPLY_STRING) { /* released or expired: a miss again */
        *stale = "";
        step = 2;
    } else if (strcmp(r[3]->str, w->holder) != 0) { /* a new holder: wait on it */
        waiting_on(rq->app, w, r[3]->str);
    } else if ((h = holder_state(w->holder)) == HOLDER_GONE ||
               (h == HOLDER_UNKNOWN && clock_ms() >= w->late_at)) {
        *stale = w->holder;
        step = 2;
    }
    for (int i = 0; i < 4; i++)
        freeReplyObject(r[i]);
    return step;
}
/* Acts on a reply of the miss script, which it frees: answers a hit, or
 * computes and stores under the lock this request took. 'wait' (or an
 * unreadable hit): records the holder in w and returns -1. */
static int on_miss_reply(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                         cache_compute_fn compute, struct lookup *lk, redisReply *r,
                         struct waiting *w)
{
    struct app *app = rq->app;
    const char *tag = r->element[0]->str;
    int status = -1;

    if (strcmp(tag, "hit") == 0 && r->elements == 2) {
        status = answer_stored(rq, rs, r->element[1]->str, r->element[1]->len);
    } else if (strcmp(tag, "miss") == 0 && r->elements == 3) {
        lk->gen = arena_strdup(&app->arena, r->element[1]->str);
        lk->all = arena_strdup(&app->arena, r->element[2]->str);
        freeReplyObject(r);
        if (lk->gen == NULL || lk->all == NULL)
            return resp_error(rs, 500, "Internal Server Error");
        return compute_and_store(rq, rs, spec, compute, lk, false);
    } else if (strcmp(tag, "wait") == 0 && r->elements == 3) {
        w->cost_ms = strtod(r->element[2]->str, NULL);
        waiting_on(app, w, r->element[1]->str);
    }
    freeReplyObject(r);
    return status;
}

/* Lends the worker's slot while it waits (see cache_set_wait_hooks). */
static bool lend(bool lent)
{
    return lent || (wait_begin_hook != NULL && wait_begin_hook());
}

static bool unlend(bool lent)
{
    if (lent && wait_end_hook != NULL)
        wait_end_hook();
    return false;
}

/* Computes without the lock, under the generations seen now: a waiter that
 * waited as long as it may. */
static int compute_unlocked(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                            cache_compute_fn compute, struct lookup *lk)
{
    struct app *app = rq->app;
    redisReply *r[3];

    if (read_current(app, lk, r) != 0)
        return bypass(rq, rs, compute);
    lk->gen = arena_strdup(&app->arena, r[0]->type == REDIS_REPLY_STRING ? r[0]->str : "");
    lk->all = arena_strdup(&app->arena, r[1]->type == REDIS_REPLY_STRING ? r[1]->str : "");
    for (int i = 0; i < 3; i++)
        freeReplyObject(r[i]);
    if (lk->gen == NULL || lk->all == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    lk->token[0] = '\0';
    return compute_and_store(rq, rs, spec, compute, lk, true);
}

/* A request whose entry another request is computing. It looks every
 * 10 ms until the value is there, and stops waiting on a holder that is
 * gone (its process, on this host, has died: the lock is taken over at
 * once) or late (a holder it cannot check, past a few times the entry's
 * compute time: taken over then); a released or expired lock is taken like
 * a new miss. Taking over is atomic, so of many waiters one computes and
 * the others wait on it. After GUILD_CACHE_LOCK_WAIT_MS in all it computes
 * without the lock. While it waits, the worker's slot is lent to a
 * stand-in, so that requests which need no wait do not queue behind it. */
static int wait_for(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                    cache_compute_fn compute, struct lookup *lk, struct waiting *w)
{
    struct app *app = rq->app;
    double give_up = clock_ms() + app->cfg.cache_lock_wait_ms;
    const char *lock_key = arena_sprintf(&app->arena, "%s|lock", lk->entry_key);
    bool lent = lend(false);
    int status = -1;

    if (lock_key == NULL) {
        unlend(lent);
        return resp_error(rs, 500, "Internal Server Error");
    }
    while (clock_ms() < give_up) {
        const char *stale = NULL;
        redisReply *r = NULL;
        int step;

        usleep(CACHE_POLL_US);
        step = look(rq, rs, lk, lock_key, w, &stale, &status);
        if (step == 1)
            break;
        if (step < 0 || (step == 2 && (r = miss(app, spec, lk, false, stale)) == NULL)) {
            unlend(lent);
            return bypass(rq, rs, compute);
        }
        if (step == 2) {
            lent = unlend(lent); /* it may compute now: the slot is its own again */
            if ((status = on_miss_reply(rq, rs, spec, compute, lk, r, w)) >= 0)
                break;
            lent = lend(lent);
        }
    }
    unlend(lent);
    return status >= 0 ? status : compute_unlocked(rq, rs, spec, compute, lk);
}

/* After a pipeline found no current entry (or a forced refresh). */
static int slow_path(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                     cache_compute_fn compute, struct lookup *lk, bool force)
{
    struct waiting w = {.holder = "", .cost_ms = 0, .late_at = 0};
    redisReply *r = miss(rq->app, spec, lk, force, "");
    int status;

    if (r == NULL)
        return bypass(rq, rs, compute);
    if ((status = on_miss_reply(rq, rs, spec, compute, lk, r, &w)) >= 0)
        return status;
    return wait_for(rq, rs, spec, compute, lk, &w);
}

/* XFetch (Vattani et al.): recompute early with a probability that rises as
 * the entry nears expiry, scaled by how long it took to compute. With
 * remaining = its PTTL, refresh when remaining <= delta * beta * -ln(rand). */
static bool wants_early_refresh(struct app *app, const char *v, size_t len, long long pttl_ms)
{
    const char *e0 = memchr(v, '\n', len), *e1;
    double delta, beta = app->cfg.cache_xfetch_beta_pct / 100.0;

    if (beta <= 0 || pttl_ms < 0 || e0 == NULL ||
        (e1 = memchr(e0 + 1, '\n', len - (size_t)(e0 + 1 - v))) == NULL)
        return false;
    delta = strtod(e1 + 1, NULL);
    return (double)pttl_ms <= delta * beta * -log(rand_unit());
}

static bool early_refresh_locked(struct app *app, const struct cache_spec *spec,
                                 struct lookup *lk)
{
    char lock_ms[16];
    const char *argv[5] = {lk->entry_key, lk->metrics_key, spec->kind, lock_value(lk), lock_ms};
    redisReply *r;
    bool ok;

    snprintf(lock_ms, sizeof(lock_ms), "%d", app->cfg.cache_lock_ms);
    r = redis_conn_eval(app->cache_redis, &script_refresh, 2, 5, argv, NULL);
    if (r == NULL) /* as in miss(): it may take the lock late */
        strand(lk->entry_key, lk->token);
    ok = r != NULL && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    return ok;
}

/* ---- the hit path ---- */

#define CACHE_LOOKUP_CMDS 5
#define CACHE_MAX_CMDS (CACHE_LOOKUP_CMDS + CACHE_PENDING_FIELDS * CACHE_MAX_KINDS)

/* One round trip: GET family generation, GET global generation, GET entry,
 * PTTL entry, HINCRBY <kind>:lookups, then the pending latency counters.
 * Hits are lookups minus misses (the miss and refresh scripts count those),
 * so a hit costs no script. lookup_send writes it and says how many replies
 * to read (0 when Redis is unavailable); lookup_recv reads them, keeping the
 * first four in out (0, or -1). */
/* Builds the lookup's commands into cmds/argcs; returns how many (0 on
 * arena exhaustion). Clears nothing: the caller does once they are sent. */
static size_t lookup_cmds(struct app *app, const struct cache_spec *spec, const struct lookup *lk,
                          const char *(*cmds)[4], int *argcs)
{
    const char *field = arena_sprintf(&app->arena, "%s:lookups", spec->kind);
    size_t n = 0;

    if (field == NULL)
        return 0;
    cmds[n][0] = "GET", cmds[n][1] = lk->gen_key, argcs[n++] = 2;
    cmds[n][0] = "GET", cmds[n][1] = lk->all_key, argcs[n++] = 2;
    cmds[n][0] = "GET", cmds[n][1] = lk->entry_key, argcs[n++] = 2;
    cmds[n][0] = "PTTL", cmds[n][1] = lk->entry_key, argcs[n++] = 2;
    cmds[n][0] = "HINCRBY", cmds[n][1] = lk->metrics_key, cmds[n][2] = field, cmds[n][3] = "1";
    argcs[n++] = 4;
    for (size_t k = pending_cmds(app, lk->metrics_key, cmds + n, CACHE_MAX_CMDS - n); k > 0; k--)
        argcs[n++] = 4;
    return n;
}

static size_t lookup_send(struct app *app, const struct cache_spec *spec, const struct lookup *lk)
{
    const char *cmds[CACHE_MAX_CMDS][4];
    const char **argvs[CACHE_MAX_CMDS];
    int argcs[CACHE_MAX_CMDS];
    size_t n = lookup_cmds(app, spec, lk, cmds, argcs);

    for (size_t i = 0; i < n; i++)
        argvs[i] = cmds[i];
    if (n == 0 || redis_conn_send(app->cache_redis, n, argcs, argvs, NULL) != 0)
        return 0;
    pending_clear(); /* on its way */
    return n;
}

static int lookup_recv(struct app *app, size_t n, redisReply *out[CACHE_LOOKUP_CMDS - 1])
{
    redisReply *replies[CACHE_MAX_CMDS];

    if (redis_conn_recv(app->cache_redis, n, replies) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (i < CACHE_LOOKUP_CMDS - 1)
            out[i] = replies[i];
        else
            freeReplyObject(replies[i]);
    }
    return 0;
}

/* Cache-role reads sent ahead of the rate limiter's round trip, so both
 * Redis servers work at once (see cache_prefetch in cache.h): an optional
 * blob read (3 GETs, the caller's account) then an optional lookup. The
 * replies are read together by whichever consumer comes first. */
struct cache_prefetch {
    const struct cache_spec *spec; /* NULL: no lookup part */
    struct lookup lk;
    size_t n_lookup;               /* replies of the lookup part */
    const char *blob_gen_key, *blob_all_key, *blob_entry_key; /* NULL: no blob part */
    size_t n;                      /* replies in flight (0 once read) */
    int failed;                    /* the read failed: consumers go to Redis themselves */
    bool lookup_taken, blob_taken;
    redisReply *r[3 + CACHE_MAX_CMDS];
};

/* Names the entry and fills lk; 0, 1 when the request is not cacheable as
 * asked, -1 on arena exhaustion. */
static int lookup_init(struct req *rq, const struct cache_spec *spec, struct lookup *lk)
{
    struct app *app = rq->app;
    char name[CACHE_NAME_MAX], family[CACHE_NAME_MAX];

    if (!spec->name(rq, name, sizeof(name), family, sizeof(family)))
        return 1;
    memset(lk, 0, sizeof(*lk)); /* no token yet: a hit needs none (lock_value) */
    lk->gen_key = gen_key(app, family);
    lk->all_key = gen_key(app, CACHE_FAM_ALL);
    lk->entry_key = arena_sprintf(&app->arena, "%sc:%s", app->cfg.redis_prefix, name);
    lk->metrics_key = cache_metrics_key(app);
    if (lk->gen_key == NULL || lk->all_key == NULL || lk->entry_key == NULL ||
        lk->metrics_key == NULL)
        return -1;
    return 0;
}

static bool cache_usable(struct app *app)
{
    if (!app->cfg.cache_enabled)
        return false;
    if (nstranded > 0)
        release_stranded(app);
    return retry_invalidations(app) == 0 && repair_if_dirty(app) == 0;
}

void cache_prefetch(struct req *rq, const struct cache_spec *spec, const char *blob_name,
                    const char *blob_family)
{
    struct app *app = rq->app;
    struct cache_prefetch *pf;
    const char *cmds[3 + CACHE_MAX_CMDS][4];
    const char **argvs[3 + CACHE_MAX_CMDS];
    int argcs[3 + CACHE_MAX_CMDS];
    size_t n = 0;

    if (rq->cache_pf != NULL || !cache_usable(app) ||
        (pf = arena_alloc(rq->arena, sizeof(*pf))) == NULL)
        return;
    memset(pf, 0, sizeof(*pf));
    if (blob_name != NULL) {
        pf->blob_gen_key = gen_key(app, blob_family);
        pf->blob_all_key = gen_key(app, CACHE_FAM_ALL);
        pf->blob_entry_key = arena_sprintf(&app->arena, "%sc:%s", app->cfg.redis_prefix, blob_name);
        if (pf->blob_gen_key == NULL || pf->blob_all_key == NULL || pf->blob_entry_key == NULL)
            return;
        cmds[n][0] = "GET", cmds[n][1] = pf->blob_gen_key, argcs[n++] = 2;
        cmds[n][0] = "GET", cmds[n][1] = pf->blob_all_key, argcs[n++] = 2;
        cmds[n][0] = "GET", cmds[n][1] = pf->blob_entry_key, argcs[n++] = 2;
    }
    if (spec != NULL && lookup_init(rq, spec, &pf->lk) == 0) {
        pf->spec = spec;
        pf->n_lookup = lookup_cmds(app, spec, &pf->lk, cmds + n, argcs + n);
        if (pf->n_lookup == 0)
            pf->spec = NULL;
        n += pf->n_lookup;
    }
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        argvs[i] = cmds[i];
    if (redis_conn_send(app->cache_redis, n, argcs, argvs, NULL) != 0)
        return;
    if (pf->spec != NULL)
        pending_clear(); /* on its way */
    pf->n = n;
    rq->cache_pf = pf;
}

/* Reads every reply of the prefetch once; 0, or -1 when Redis failed. */
static int prefetch_receive(struct app *app, struct cache_prefetch *pf)
{
    if (pf->n > 0) {
        pf->failed = redis_conn_recv(app->cache_redis, pf->n, pf->r) != 0;
        pf->n = 0;
    }
    return pf->failed ? -1 : 0;
}

void cache_prefetch_drop(struct req *rq)
{
    struct cache_prefetch *pf = rq->cache_pf;
    const char *argv[4];
    redisReply *u;
    size_t total;

    rq->cache_pf = NULL;
    if (pf == NULL)
        return;
    total = (pf->blob_entry_key ? 3 : 0) + (pf->spec ? pf->n_lookup : 0);
    if (prefetch_receive(rq->app, pf) != 0)
        return;
    for (size_t i = 0; i < total; i++)
        freeReplyObject(pf->r[i]); /* NULL for what a consumer took */
    if (pf->spec == NULL || pf->lookup_taken)
        return;
    /* the request ended before the cache (a 429, 401, ...): its lookup was
     * counted and is taken back, or it would read as a hit */
    argv[0] = "HINCRBY";
    argv[1] = pf->lk.metrics_key;
    argv[2] = arena_sprintf(&rq->app->arena, "%s:lookups", pf->spec->kind);
    argv[3] = "-1";
    if (argv[2] != NULL) {
        u = redis_conn_command(rq->app->cache_redis, 4, argv, NULL);
        freeReplyObject(u);
    }
}

static int serve(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                 cache_compute_fn compute, bool force)
{
    struct app *app = rq->app;
    struct cache_prefetch *pf = rq->cache_pf;
    double t0 = clock_ms();
    struct lookup lk;
    redisReply *r[CACHE_LOOKUP_CMDS - 1];
    size_t n;
    int status = -1;

    if (pf != NULL && pf->spec == spec && !pf->lookup_taken && !force) {
        /* sent ahead by the dispatcher */
        size_t at = pf->blob_entry_key ? 3 : 0;
        pf->lookup_taken = true;
        lk = pf->lk;
        if (prefetch_receive(app, pf) != 0)
            goto bypassed;
        for (size_t i = 0; i < pf->n_lookup; i++) {
            if (i < CACHE_LOOKUP_CMDS - 1)
                r[i] = pf->r[at + i];
            else
                freeReplyObject(pf->r[at + i]);
            pf->r[at + i] = NULL;
        }
        if (metrics_cache_dirty_get() != 0) {
            /* the limiter brought news of a lost invalidation after this
             * lookup left: its answer predates the repair */
            for (int i = 0; i < CACHE_LOOKUP_CMDS - 1; i++)
                freeReplyObject(r[i]);
            goto bypassed;
        }
        goto received;
    }
    switch (lookup_init(rq, spec, &lk)) {
    case 1:
        return compute(rq, rs); /* not cacheable as asked (e.g. a 422) */
    case -1:
        return resp_error(rs, 500, "Internal Server Error");
    }
    if (!cache_usable(app))
        goto bypassed; /* off by configuration (the cold path, measured), or untrusted */
    if (force) {
        status = slow_path(rq, rs, spec, compute, &lk, true);
        goto recorded;
    }
    n = lookup_send(app, spec, &lk);
    if (n == 0 || lookup_recv(app, n, r) != 0)
        goto bypassed;
received:
    if (r[0]->type == REDIS_REPLY_STRING && r[1]->type == REDIS_REPLY_STRING &&
        r[2]->type == REDIS_REPLY_STRING && is_current(r[2]->str, r[2]->len, r[0]->str, r[1]->str)) {
        if (r[3]->type == REDIS_REPLY_INTEGER &&
            wants_early_refresh(app, r[2]->str, r[2]->len, r[3]->integer) &&
            early_refresh_locked(app, spec, &lk)) {
            lk.gen = arena_strdup(&app->arena, r[0]->str);
            lk.all = arena_strdup(&app->arena, r[1]->str);
            if (lk.gen != NULL && lk.all != NULL)
                status = compute_and_store(rq, rs, spec, compute, &lk, false);
        } else {
            status = answer_stored(rq, rs, r[2]->str, r[2]->len);
        }
    }
    for (int i = 0; i < CACHE_LOOKUP_CMDS - 1; i++)
        freeReplyObject(r[i]);
    if (status < 0) /* not current (or unreadable): the slow path re-checks atomically */
        status = slow_path(rq, rs, spec, compute, &lk, false);
recorded:
    record(spec->kind, rq->cache_state && strcmp(rq->cache_state, "HIT") == 0 ? "hit" : "miss",
           clock_ms() - t0);
    return status;
bypassed:
    status = bypass(rq, rs, compute);
    record(spec->kind, "bypass", clock_ms() - t0);
    return status;
}

int cache_serve(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                cache_compute_fn compute)
{
    return serve(rq, rs, spec, compute, false);
}

int cache_refresh(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                  cache_compute_fn compute)
{
    int status = serve(rq, rs, spec, compute, true);

    return status == 200 && rq->cache_state && strcmp(rq->cache_state, "MISS") == 0 ? 0 : -1;
}

void cache_flush_metrics(struct app *app)
{
    const char *cmds[CACHE_PENDING_FIELDS * CACHE_MAX_KINDS][4];
    const char **argvs[CACHE_PENDING_FIELDS * CACHE_MAX_KINDS];
    int argcs[CACHE_PENDING_FIELDS * CACHE_MAX_KINDS];
    redisReply *replies[CACHE_PENDING_FIELDS * CACHE_MAX_KINDS];
    const char *key = cache_metrics_key(app);
    size_t n;

    if (npending == 0 || key == NULL)
        return;
    n = pending_cmds(app, key, cmds, CACHE_PENDING_FIELDS * CACHE_MAX_KINDS);
    for (size_t i = 0; i < n; i++) {
        argcs[i] = 4;
        argvs[i] = cmds[i];
    }
    if (n > 0 && redis_conn_pipeline(app->cache_redis, n, argcs, argvs, NULL, replies) == 0) {
        pending_clear();
        for (size_t i = 0; i < n; i++)
            freeReplyObject(replies[i]);
    }
}

/* ---- blobs: the responder's own data under the answers' generations ---- */

int cache_blob_get(struct req *rq, const char *name, const char *family, struct cache_blob *b)
{
    struct app *app = rq->app;
    struct cache_prefetch *pf = rq->cache_pf;
    struct lookup lk;
    redisReply *r[3];
    int found = 0;

    memset(b, 0, sizeof(*b));
    memset(&lk, 0, sizeof(lk));
    lk.entry_key = arena_sprintf(&app->arena, "%sc:%s", app->cfg.redis_prefix, name);
    if (lk.entry_key == NULL)
        return -1;
    if (pf != NULL && pf->blob_entry_key != NULL && !pf->blob_taken &&
        strcmp(pf->blob_entry_key, lk.entry_key) == 0) { /* sent ahead by the dispatcher */
        pf->blob_taken = true;
        if (prefetch_receive(app, pf) != 0)
            return -1;
        for (int i = 0; i < 3; i++) {
            r[i] = pf->r[i];
            pf->r[i] = NULL;
        }
        if (metrics_cache_dirty_get() != 0) { /* as in serve(): news after it left */
            for (int i = 0; i < 3; i++)
                freeReplyObject(r[i]);
            return -1;
        }
    } else {
        if (pf != NULL && prefetch_receive(app, pf) != 0) /* keep the connection in step */
            return -1;
        if (!cache_usable(app))
            return -1;
        lk.gen_key = gen_key(app, family);
        lk.all_key = gen_key(app, CACHE_FAM_ALL);
        if (lk.gen_key == NULL || lk.all_key == NULL || read_current(app, &lk, r) != 0)
            return -1;
    }
    b->gen = arena_strdup(&app->arena, r[0]->type == REDIS_REPLY_STRING ? r[0]->str : "");
    b->all = arena_strdup(&app->arena, r[1]->type == REDIS_REPLY_STRING ? r[1]->str : "");
    if (b->gen != NULL && b->all != NULL && r[2]->type == REDIS_REPLY_STRING &&
        is_current(r[2]->str, r[2]->len, b->gen, b->all)) {
        const char *nl = memchr(r[2]->str, '\n', r[2]->len);
        b->len = r[2]->len - (size_t)(nl + 1 - r[2]->str);
        b->data = arena_strndup(&app->arena, nl + 1, b->len);
        found = b->data != NULL;
    }
    for (int i = 0; i < 3; i++)
        freeReplyObject(r[i]);
    return b->gen == NULL || b->all == NULL ? -1 : found;
}

void cache_blob_put(struct app *app, const char *name, const char *family,
                    const struct cache_blob *seen, const char *kind, const char *data, size_t len)
{
    char ttl[32];
    const char *argv[15];
    size_t lens[15];
    redisReply *r;

    snprintf(ttl, sizeof(ttl), "%d", app->cfg.cache_ttl_user_s * 1000);
    argv[0] = gen_key(app, family);
    argv[1] = gen_key(app, CACHE_FAM_ALL);
    argv[2] = arena_sprintf(&app->arena, "%sc:%s", app->cfg.redis_prefix, name);
    argv[3] = cache_metrics_key(app);
    argv[4] = cost_key(app);
    argv[5] = kind;
    argv[6] = seen->gen;
    argv[7] = seen->all;
    argv[8] = ""; /* no etag/delta header: not an answer */
    argv[9] = ttl;
    argv[10] = data;
    argv[11] = "";
    argv[12] = CACHE_GEN_TTL_S;
    argv[13] = "0";
    argv[14] = ""; /* nobody waits on a blob: no compute time to record */
    for (int i = 0; i < 15; i++) {
        if (argv[i] == NULL)
            return;
        lens[i] = strlen(argv[i]);
    }
    lens[10] = len;
    r = redis_conn_eval(app->cache_redis, &script_store, 5, 15, argv, lens);
    freeReplyObject(r);
}
