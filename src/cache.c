/* cache: see cache.h for the design. Three Lua scripts do the Redis side of
 * a lookup, a store and an invalidation atomically, each in one round trip. */
#include "cache.h"

#include <hiredis/hiredis.h>
#include <math.h>
#include <openssl/sha.h>
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

/* KEYS: family generation key, entry base key, metrics hash, global
 * generation key (bumped when every entry must go at once).
 * ARGV: kind, rand (0,1], beta, lock ms, lock token, generation TTL, force,
 *       then pending metric deltas as field/value pairs. */
static struct redis_script script_read = {.text =
    "for i = 8, #ARGV, 2 do redis.call('HINCRBYFLOAT', KEYS[3], ARGV[i], ARGV[i + 1]) end\n"
    "local t = redis.call('TIME')\n"
    "local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
    "local function gen_of(k)\n"
    "  local g = redis.call('GET', k)\n"
    "  if not g then\n"
    "    g = string.format('%.0f', now_us)\n"
    "    redis.call('SET', k, g, 'EX', ARGV[6])\n"
    "  end\n"
    "  return g\n"
    "end\n"
    "local key = KEYS[2] .. '@' .. gen_of(KEYS[1]) .. '.' .. gen_of(KEYS[4])\n"
    "local lock = key .. '|lock'\n"
    "local v = false\n"
    "if ARGV[7] ~= '1' then v = redis.call('GET', key) end\n"
    "if v then\n"
    "  local e1 = string.find(v, '\\n', 1, true)\n"
    "  local e2 = string.find(v, '\\n', e1 + 1, true)\n"
    "  local e3 = string.find(v, '\\n', e2 + 1, true)\n"
    "  local delta = tonumber(string.sub(v, e1 + 1, e2 - 1))\n"
    "  local expiry = tonumber(string.sub(v, e2 + 1, e3 - 1))\n"
    "  local early = now_us / 1000 - delta * tonumber(ARGV[3]) * math.log(tonumber(ARGV[2]))\n"
    "  if early >= expiry and redis.call('SET', lock, ARGV[5], 'NX', 'PX', ARGV[4]) then\n"
    "    redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':refreshes', 1)\n"
    "    redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':misses', 1)\n"
    "    return {'refresh', key, v}\n"
    "  end\n"
    "  redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':hits', 1)\n"
    "  return {'hit', key, v}\n"
    "end\n"
    "if redis.call('SET', lock, ARGV[5], 'NX', 'PX', ARGV[4]) then\n"
    "  redis.call('HINCRBY', KEYS[3], ARGV[1] .. ':misses', 1)\n"
    "  return {'miss', key}\n"
    "end\n"
    "return {'wait', key}\n"};

/* KEYS: entry key, metrics hash. ARGV: kind. A waiter's look at the entry. */
static struct redis_script script_poll = {.text =
    "local v = redis.call('GET', KEYS[1])\n"
    "if v then redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':hits', 1) end\n"
    "return v\n"};

/* KEYS: entry key, metrics hash. ARGV: kind, etag, compute ms, TTL ms, body,
 * lock token. The header carries what XFetch needs, timed by Redis' clock. */
static struct redis_script script_store = {.text =
    "local t = redis.call('TIME')\n"
    "local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local v = ARGV[2] .. '\\n' .. ARGV[3] .. '\\n' .. string.format('%.0f', now_ms + "
    "tonumber(ARGV[4])) .. '\\n' .. ARGV[5]\n"
    "redis.call('SET', KEYS[1], v, 'PX', ARGV[4])\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[1] .. ':computations', 1)\n"
    "local lock = KEYS[1] .. '|lock'\n"
    "if ARGV[6] ~= '' and redis.call('GET', lock) == ARGV[6] then redis.call('DEL', lock) end\n"
    "return 1\n"};

/* KEYS: entry key. ARGV: lock token. Releases a lock without storing. */
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

/* ---- per-process state: pending metrics and invalidations, randomness ---- */

struct pending_kind {
    const char *kind; /* static string from a cache_spec */
    double hit_ms, miss_ms, bypass_ms;
    long hit_n, miss_n, bypass_n;
};

static struct pending_kind pending[CACHE_MAX_KINDS];
static size_t npending;
static char pending_inv[CACHE_MAX_PENDING_INV][CACHE_NAME_MAX];
static size_t npending_inv;
static unsigned long long rng_state;

void cache_init(void)
{
    redis_script_init(&script_read);
    redis_script_init(&script_poll);
    redis_script_init(&script_store);
    redis_script_init(&script_release);
    redis_script_init(&script_invalidate);
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

    metrics_cache(kind, strcmp(outcome, "hit") == 0    ? METRICS_HIT
                        : strcmp(outcome, "miss") == 0 ? METRICS_MISS
                                                       : METRICS_BYPASS);
    if (p == NULL)
        return;
    if (strcmp(outcome, "hit") == 0) {
        p->hit_ms += ms;
        p->hit_n++;
    } else if (strcmp(outcome, "miss") == 0) {
        p->miss_ms += ms;
        p->miss_n++;
    } else {
        p->bypass_ms += ms;
        p->bypass_n++;
    }
}

/* Appends the pending counters as field/value pairs to argv (strings in a). */
static int pending_args(struct arena *a, const char **argv, int max)
{
    int n = 0;

    for (size_t i = 0; i < npending && n + 10 <= max; i++) {
        const struct pending_kind *p = &pending[i];
        const struct {
            const char *field;
            double v;
        } f[] = {{"hit_ms", p->hit_ms},   {"hit_n", (double)p->hit_n},
                 {"miss_ms", p->miss_ms}, {"miss_n", (double)p->miss_n},
                 {"bypasses", (double)p->bypass_n}};
        for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
            if (f[k].v == 0)
                continue;
            argv[n++] = arena_sprintf(a, "%s:%s", p->kind, f[k].field);
            argv[n++] = arena_sprintf(a, "%.3f", f[k].v);
            if (argv[n - 1] == NULL || argv[n - 2] == NULL)
                return -1;
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
    {
        static time_t last;
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

/* Stores a 200 answer under key (releasing our lock if token is ours). */
static void store(struct req *rq, const struct cache_spec *spec, const char *key,
                  const struct resp *rs, const char *etag, double compute_ms, const char *token)
{
    struct app *app = rq->app;
    char delta[32], ttl[32];
    const char *argv[8];
    size_t lens[8];
    redisReply *r;

    snprintf(delta, sizeof(delta), "%.0f", compute_ms < 1 ? 1 : compute_ms);
    snprintf(ttl, sizeof(ttl), "%d", ttl_ms(rq, spec));
    argv[0] = key;
    argv[1] = cache_metrics_key(app);
    argv[2] = spec->kind;
    argv[3] = etag;
    argv[4] = delta;
    argv[5] = ttl;
    argv[6] = rs->body;
    argv[7] = token;
    for (int i = 0; i < 8; i++)
        lens[i] = argv[i] ? strlen(argv[i]) : 0;
    lens[6] = rs->body_len;
    if (argv[1] == NULL)
        return;
    r = redis_conn_eval(app->cache_redis, &script_store, 2, 8, argv, lens);
    freeReplyObject(r); /* a failed store only costs a later miss */
}

static void release(struct app *app, const char *key, const char *token)
{
    const char *argv[] = {key, token};
    redisReply *r = redis_conn_eval(app->cache_redis, &script_release, 1, 2, argv, NULL);

    freeReplyObject(r);
}

/* Splits a stored value "etag\ndelta\nexpiry\nbody" and answers it. */
static int answer_stored(struct req *rq, struct resp *rs, const char *v, size_t len)
{
    const char *e1 = memchr(v, '\n', len), *e2, *e3;
    char etag[64];

    if (e1 == NULL || (e2 = memchr(e1 + 1, '\n', len - (size_t)(e1 + 1 - v))) == NULL ||
        (e3 = memchr(e2 + 1, '\n', len - (size_t)(e2 + 1 - v))) == NULL ||
        (size_t)(e1 - v) >= sizeof(etag))
        return -1;
    memcpy(etag, v, (size_t)(e1 - v));
    etag[e1 - v] = '\0';
    resp_json_text(rs, 200, e3 + 1, len - (size_t)(e3 + 1 - v));
    return answer(rq, rs, "HIT", etag);
}

/* Computes, answers and (for a 200) stores under key. */
static int compute_and_store(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                             cache_compute_fn compute, const char *key, const char *token)
{
    char etag[36];
    double ms;
    int status = run_compute(rq, rs, compute, &ms);

    if (status != 200) {
        if (*token)
            release(rq->app, key, token);
        return status;
    }
    etag_of(rs->body, rs->body_len, etag);
    metrics_cache(spec->kind, METRICS_COMPUTE);
    debug_delay(rq, "X-Debug-Store-Delay-Ms"); /* a slow reader: computed, not yet stored */
    store(rq, spec, key, rs, etag, ms, token);
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

/* A request whose entry another request is computing: look every 10 ms for
 * at most the configured wait, then compute without the lock. */
static int wait_for(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                    cache_compute_fn compute, const char *key)
{
    struct app *app = rq->app;
    double deadline = clock_ms() + app->cfg.cache_lock_wait_ms;
    const char *argv[3] = {key, cache_metrics_key(app), spec->kind};

    while (clock_ms() < deadline) {
        redisReply *r;
        int status = -1;

        usleep(CACHE_POLL_US);
        if ((r = redis_conn_eval(app->cache_redis, &script_poll, 2, 3, argv, NULL)) == NULL)
            return bypass(rq, rs, compute);
        if (r->type == REDIS_REPLY_STRING)
            status = answer_stored(rq, rs, r->str, r->len);
        freeReplyObject(r);
        if (status >= 0)
            return status;
    }
    return compute_and_store(rq, rs, spec, compute, key, "");
}

/* Runs the lookup script. Returns the reply (an array) or NULL. */
static redisReply *lookup(struct req *rq, const struct cache_spec *spec, const char *name,
                          const char *family, const char *token, bool force)
{
    struct app *app = rq->app;
    const char *argv[11 + 2 * 5 * CACHE_MAX_KINDS];
    char rnd[32], beta[16], lock_ms[16];
    redisReply *r;
    int n;

    snprintf(rnd, sizeof(rnd), "%.17g", rand_unit());
    snprintf(beta, sizeof(beta), "%.2f", app->cfg.cache_xfetch_beta_pct / 100.0);
    snprintf(lock_ms, sizeof(lock_ms), "%d", app->cfg.cache_lock_ms);
    argv[0] = gen_key(app, family);
    argv[1] = arena_sprintf(&app->arena, "%sc:%s", app->cfg.redis_prefix, name);
    argv[2] = cache_metrics_key(app);
    argv[3] = gen_key(app, CACHE_FAM_ALL);
    argv[4] = spec->kind;
    argv[5] = rnd;
    argv[6] = beta;
    argv[7] = lock_ms;
    argv[8] = token;
    argv[9] = CACHE_GEN_TTL_S;
    argv[10] = force ? "1" : "0";
    for (int i = 0; i < 11; i++)
        if (argv[i] == NULL)
            return NULL;
    if ((n = pending_args(&app->arena, argv + 11, (int)(sizeof(argv) / sizeof(argv[0])) - 11)) < 0)
        return NULL;
    r = redis_conn_eval(app->cache_redis, &script_read, 4, 11 + n, argv, NULL);
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 2 ||
        r->element[0]->type != REDIS_REPLY_STRING || r->element[1]->type != REDIS_REPLY_STRING) {
        if (r != NULL) {
            static time_t last;
            log_limited(&last, 5, LOG_ERR, "cache: unexpected lookup reply (type %d)", r->type);
        }
        freeReplyObject(r);
        return NULL;
    }
    pending_clear(); /* applied atomically by the script */
    return r;
}

static int serve(struct req *rq, struct resp *rs, const struct cache_spec *spec,
                 cache_compute_fn compute, bool force)
{
    char name[CACHE_NAME_MAX], family[CACHE_NAME_MAX], token[40];
    double t0 = clock_ms();
    const char *tag, *key;
    redisReply *r = NULL;
    bool must_wait;
    int status;

    if (!spec->name(rq, name, sizeof(name), family, sizeof(family)))
        return compute(rq, rs); /* not cacheable as asked (e.g. a 422) */
    snprintf(token, sizeof(token), "%016llx%08lx", (unsigned long long)(rand_unit() * 1e18),
             (long)getpid());
    if (retry_invalidations(rq->app) != 0 || repair_if_dirty(rq->app) != 0 ||
        (r = lookup(rq, spec, name, family, token, force)) == NULL) {
        status = bypass(rq, rs, compute);
        record(spec->kind, "bypass", clock_ms() - t0);
        return status;
    }
    tag = r->element[0]->str; /* belongs to r: read before freeReplyObject */
    must_wait = strcmp(tag, "wait") == 0;
    key = arena_strdup(&rq->app->arena, r->element[1]->str);
    if (strcmp(tag, "hit") == 0 && r->elements == 3 &&
        (status = answer_stored(rq, rs, r->element[2]->str, r->element[2]->len)) >= 0) {
        freeReplyObject(r);
        record(spec->kind, "hit", clock_ms() - t0);
        return status;
    }
    freeReplyObject(r);
    if (key == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    if (must_wait)
        status = wait_for(rq, rs, spec, compute, key);
    else /* miss, refresh, or a hit we could not read: recompute */
        status = compute_and_store(rq, rs, spec, compute, key, token);
    record(spec->kind, rq->cache_state && strcmp(rq->cache_state, "HIT") == 0 ? "hit" : "miss",
           clock_ms() - t0);
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
    const char *argv[1 + 2 * 5 * CACHE_MAX_KINDS];
    int n;

    if (npending == 0)
        return;
    argv[0] = cache_metrics_key(app);
    if (argv[0] == NULL || (n = pending_args(&app->arena, argv + 1, 2 * 5 * CACHE_MAX_KINDS)) <= 0)
        return;
    /* HINCRBYFLOAT field by field, pipelined in one round trip */
    {
        int argcs[5 * CACHE_MAX_KINDS];
        const char **argvs[5 * CACHE_MAX_KINDS];
        const char *cmds[5 * CACHE_MAX_KINDS][4];
        redisReply *replies[5 * CACHE_MAX_KINDS];
        size_t m = (size_t)n / 2;

        for (size_t i = 0; i < m; i++) {
            cmds[i][0] = "HINCRBYFLOAT";
            cmds[i][1] = argv[0];
            cmds[i][2] = argv[1 + 2 * i];
            cmds[i][3] = argv[2 + 2 * i];
            argcs[i] = 4;
            argvs[i] = cmds[i];
        }
        if (redis_conn_pipeline(app->cache_redis, m, argcs, argvs, NULL, replies) == 0) {
            pending_clear();
            for (size_t i = 0; i < m; i++)
                freeReplyObject(replies[i]);
        }
    }
}
