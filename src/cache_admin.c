/* cache_admin: see cache_admin.h. */
#include "cache_admin.h"

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "cache.h"
#include "jsonx.h"
#include "redis_conn.h"

#define SCAN_BATCH "500"
#define COUNT_SCAN_MAX_ROUNDS 200 /* stats counts entries with at most 100k keys scanned */
#define COUNT_EVERY_MS "1000"     /* at most one count a second, pool-wide (the lock's PX) */
#define COUNT_KEEP_MS 3600000LL   /* how long the last count is kept */
#define COUNT_STALE_MS 2000       /* a count older than this is not answered: recount first */
#define WARM_LOCK_MS "300000"

static const char *const KINDS[] = {"users.stats", "users.advanced-stats", "missions.stats",
                                    "leaderboard", "performance", "user"};

static redisReply *cmd(struct app *app, int argc, const char **argv)
{
    return redis_conn_command(app->cache_redis, argc, argv, NULL);
}

/* The value of "field:" in an INFO text, copied into buf; "" when absent. */
static const char *info_field(const char *info, const char *field, char *buf, size_t sz)
{
    size_t n = strlen(field);
    const char *p = info;

    buf[0] = '\0';
    while (p && *p) {
        if (strncmp(p, field, n) == 0 && p[n] == ':') {
            size_t len = strcspn(p + n + 1, "\r\n");
            if (len >= sz)
                len = sz - 1;
            memcpy(buf, p + n + 1, len);
            buf[len] = '\0';
            break;
        }
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    }
    return buf;
}

/* Copies the glob-special characters of s escaped, so the prefix matches
 * literally in a SCAN pattern. */
static char *glob_escape(struct arena *a, const char *s)
{
    char *out = arena_alloc(a, 2 * strlen(s) + 1), *o = out;

    if (out == NULL)
        return NULL;
    for (; *s; s++) {
        if (strchr("*?[]\\", *s))
            *o++ = '\\';
        *o++ = *s;
    }
    *o = '\0';
    return out;
}

/* SCAN over entries matching name_glob; unlinks them when del. Returns the
 * number matched (and unlinked), or -1 on a Redis failure. *complete tells
 * whether the scan finished within max_rounds. */
static long long scan_entries(struct app *app, const char *name_glob, bool del, int max_rounds,
                              bool *complete)
{
    char *match = arena_sprintf(&app->arena, "%s%s", glob_escape(&app->arena, cache_entry_prefix(app)),
                                name_glob);
    char cursor[32] = "0";
    long long total = 0;
    int rounds = 0;

    *complete = false;
    if (match == NULL)
        return -1;
    do {
        const char *argv[] = {"SCAN", cursor, "MATCH", match, "COUNT", SCAN_BATCH};
        redisReply *r = cmd(app, 6, argv), *keys;

        if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            freeReplyObject(r);
            return -1;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        keys = r->element[1];
        if (del && keys->elements > 0) {
            const char **uargv = calloc(keys->elements + 1, sizeof(*uargv));
            redisReply *u;
            if (uargv == NULL) {
                freeReplyObject(r);
                return -1;
            }
            size_t nu = 1;
            uargv[0] = "UNLINK";
            for (size_t i = 0; i < keys->elements; i++) /* a lock is not an entry: it expires */
                if (strchr(keys->element[i]->str, '|') == NULL)
                    uargv[nu++] = keys->element[i]->str;
            u = nu > 1 ? cmd(app, (int)nu, uargv) : NULL;
            free(uargv);
            if (u != NULL && u->type == REDIS_REPLY_INTEGER)
                total += u->integer;
            freeReplyObject(u);
        } else {
            for (size_t i = 0; i < keys->elements; i++) /* lock keys are not entries */
                total += strchr(keys->element[i]->str, '|') == NULL;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && ++rounds < max_rounds);
    *complete = strcmp(cursor, "0") == 0;
    return total;
}

static void forget_count(struct app *app);

long long cache_admin_clear(struct app *app, const char *pattern)
{
    bool complete;
    long long n = scan_entries(app, pattern, true, 1 << 30, &complete);

    if (n > 0)
        forget_count(app);
    return n;
}

/* The metrics hash (the reply of HGETALL) as a json object of field ->
 * number; NULL when the reply is not one. */
static json_object *metrics_of(const redisReply *r)
{
    json_object *m;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    m = json_object_new_object();
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        json_object_object_add(m, r->element[i]->str,
                               json_object_new_double(strtod(r->element[i + 1]->str, NULL)));
    return m;
}

static double metric(json_object *m, const char *kind, const char *field)
{
    char key[96];
    json_object *v;

    snprintf(key, sizeof(key), "%s:%s", kind, field);
    return m && json_object_object_get_ex(m, key, &v) ? json_object_get_double(v) : 0.0;
}

/* Adds hits, misses, rates and the per-entry table to o. */
static void add_counters(json_object *o, json_object *m)
{
    json_object *list = json_object_new_array(), *inv = json_object_new_object();
    double hits = 0, misses = 0, bypasses = 0;

    for (size_t i = 0; i < sizeof(KINDS) / sizeof(KINDS[0]); i++) {
        /* the hit path counts lookups only (no script); misses are counted
         * by the miss script, so hits are the difference */
        double mi = metric(m, KINDS[i], "misses");
        double h = metric(m, KINDS[i], "lookups") - mi;
        double hn = metric(m, KINDS[i], "hit_n"), mn = metric(m, KINDS[i], "miss_n");
        json_object *e = json_object_new_object();

        if (h < 0) /* a reset between a lookup and its miss */
            h = 0;
        hits += h;
        misses += mi;
        bypasses += metric(m, KINDS[i], "bypasses");
        json_object_object_add(e, "name", json_object_new_string(KINDS[i]));
        json_object_object_add(e, "hits", json_object_new_int64((long long)h));
        json_object_object_add(e, "misses", json_object_new_int64((long long)mi));
        json_object_object_add(e, "bypasses",
                               json_object_new_int64((long long)metric(m, KINDS[i], "bypasses")));
        json_object_object_add(e, "computations", json_object_new_int64(
                                                      (long long)metric(m, KINDS[i], "computations")));
        json_object_object_add(e, "refreshes",
                               json_object_new_int64((long long)metric(m, KINDS[i], "refreshes")));
        json_object_object_add(e, "hit_rate",
                               jsonx_new_rounded(h + mi > 0 ? 100.0 * h / (h + mi) : 0.0, 2));
        json_object_object_add(
            e, "avg_ms_hit", jsonx_new_rounded(hn > 0 ? metric(m, KINDS[i], "hit_us") / hn / 1000 : 0, 3));
        json_object_object_add(
            e, "avg_ms_miss",
            jsonx_new_rounded(mn > 0 ? metric(m, KINDS[i], "miss_us") / mn / 1000 : 0, 3));
        json_object_array_add(list, e);
    }
    if (m != NULL) { /* NULL: Redis is down, no pool-wide numbers */
        json_object_object_foreach(m, k, v) {
            if (strncmp(k, "invalidations:", 14) == 0)
                json_object_object_add(inv, k + 14,
                                       json_object_new_int64(json_object_get_int64(v)));
        }
    }
    json_object_object_add(o, "hits", json_object_new_int64((long long)hits));
    json_object_object_add(o, "misses", json_object_new_int64((long long)misses));
    json_object_object_add(o, "bypasses", json_object_new_int64((long long)bypasses));
    json_object_object_add(o, "hit_rate", jsonx_new_rounded(
                                              hits + misses > 0 ? 100 * hits / (hits + misses) : 0, 2));
    json_object_object_add(o, "miss_rate", jsonx_new_rounded(
                                               hits + misses > 0 ? 100 * misses / (hits + misses) : 0, 2));
    json_object_object_add(o, "endpoints", list);
    json_object_object_add(o, "invalidations", inv);
}

static void add_info(json_object *o, const char *info)
{
    char buf[128];

    json_object_object_add(o, "redis_version",
                           json_object_new_string(info_field(info, "redis_version", buf, sizeof(buf))));
    json_object_object_add(o, "uptime_seconds", json_object_new_int64(atoll(
                                                    info_field(info, "uptime_in_seconds", buf, sizeof(buf)))));
    json_object_object_add(o, "used_memory",
                           json_object_new_string(info_field(info, "used_memory_human", buf, sizeof(buf))));
    json_object_object_add(o, "used_memory_bytes",
                           json_object_new_int64(atoll(info_field(info, "used_memory", buf, sizeof(buf)))));
    json_object_object_add(o, "maxmemory_policy", json_object_new_string(info_field(
                                                       info, "maxmemory_policy", buf, sizeof(buf))));
    json_object_object_add(o, "connected_clients", json_object_new_int64(atoll(info_field(
                                                       info, "connected_clients", buf, sizeof(buf)))));
    json_object_object_add(o, "evicted_keys",
                           json_object_new_int64(atoll(info_field(info, "evicted_keys", buf, sizeof(buf)))));
    json_object_object_add(o, "expired_keys",
                           json_object_new_int64(atoll(info_field(info, "expired_keys", buf, sizeof(buf)))));
}

int cache_admin_reset(struct app *app)
{
    const char *argv[] = {"DEL", cache_metrics_key(app)};
    redisReply *r = argv[1] ? cmd(app, 2, argv) : NULL;
    int ok = r != NULL && r->type == REDIS_REPLY_INTEGER;

    freeReplyObject(r);
    return ok ? 0 : -1;
}

static const char *warm_key(struct app *app)
{
    return arena_sprintf(&app->arena, "%swarm", app->cfg.redis_prefix);
}

/* The warm job state from the reply of HGETALL <prefix>warm; NULL when it
 * is not one. */
static json_object *warm_state_of(const redisReply *r)
{
    json_object *o;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string("idle"));
    json_object_object_add(o, "started_at", NULL);
    json_object_object_add(o, "finished_at", NULL);
    json_object_object_add(o, "keys_warmed", json_object_new_int(0));
    json_object_object_add(o, "duration_ms", NULL);
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const char *k = r->element[i]->str, *v = r->element[i + 1]->str;
        if (strcmp(k, "status") == 0)
            json_object_object_add(o, k, json_object_new_string(v));
        else if (strcmp(k, "started_at") == 0 || strcmp(k, "finished_at") == 0)
            json_object_object_add(o, k, jsonx_new_time(atoll(v)));
        else if (strcmp(k, "duration_ms") == 0)
            json_object_object_add(o, k, jsonx_new_rounded(strtod(v, NULL), 1));
        else if (strcmp(k, "keys_warmed") == 0)
            json_object_object_add(o, k, json_object_new_int64(atoll(v)));
    }
    return o;
}

json_object *cache_admin_warm_state(struct app *app)
{
    const char *argv[] = {"HGETALL", warm_key(app)};
    redisReply *r = argv[1] ? cmd(app, 2, argv) : NULL;
    json_object *o = warm_state_of(r);

    freeReplyObject(r);
    return o;
}

int cache_admin_warm_begin(struct app *app)
{
    char now[32];
    const char *lock = arena_sprintf(&app->arena, "%swarm:lock", app->cfg.redis_prefix);
    const char *key = warm_key(app);
    const char *set_argv[] = {"SET", lock, "1", "NX", "PX", WARM_LOCK_MS};
    redisReply *r;
    int got;

    if (lock == NULL || key == NULL || (r = cmd(app, 6, set_argv)) == NULL)
        return -1;
    got = r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!got)
        return 0;
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    const char *del_argv[] = {"DEL", key};
    const char *hset_argv[] = {"HSET", key, "status", "running", "started_at", now, "keys_warmed",
                               "0"};
    freeReplyObject(cmd(app, 2, del_argv));
    r = cmd(app, 8, hset_argv);
    got = r != NULL ? 1 : -1;
    freeReplyObject(r);
    return got;
}

void cache_admin_warm_end(struct app *app, bool ok, long long keys_warmed, double duration_ms)
{
    char now[32], keys[32], dur[32];
    const char *lock = arena_sprintf(&app->arena, "%swarm:lock", app->cfg.redis_prefix);
    const char *key = warm_key(app);

    if (lock == NULL || key == NULL)
        return;
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    snprintf(keys, sizeof(keys), "%lld", keys_warmed);
    snprintf(dur, sizeof(dur), "%.1f", duration_ms);
    const char *hset_argv[] = {"HSET",       key,  "status",      ok ? "done" : "failed",
                               "finished_at", now, "keys_warmed", keys,
                               "duration_ms", dur};
    const char *del_argv[] = {"DEL", lock};
    freeReplyObject(cmd(app, 10, hset_argv));
    freeReplyObject(cmd(app, 2, del_argv));
}

/* ---- stats: one round trip; the entry count at most once a second ---- */

/* Counting entries is a SCAN of the whole keyspace (~60 ms at 100,000
 * keys), and the stats route is public: the count is kept in Redis as
 * "<entries> <1 = complete>" and recounted at most once a second pool-wide,
 * by whichever responder takes the count lock (SET NX PX 1000, left to
 * expire). That responder answers with the kept count and recounts after
 * its answer has gone; only a count missing or older than COUNT_STALE_MS
 * (its age read from its TTL: Redis' clock, the same for every host) is
 * redone before answering. So an answer's count is at most about
 * COUNT_STALE_MS old, and a burst of calls costs one count a second. */
static const char *count_key(struct app *app, bool lock)
{
    return arena_sprintf(&app->arena, "%sstats:count%s", app->cfg.redis_prefix,
                         lock ? ":lock" : "");
}

/* Counts the entries (a bounded SCAN) and keeps the count. Returns it, or
 * -1 on a Redis failure. */
static long long count_now(struct app *app, bool *complete)
{
    char v[64], keep[32];
    long long n = scan_entries(app, "*", false, COUNT_SCAN_MAX_ROUNDS, complete);
    const char *argv[] = {"SET", count_key(app, false), v, "PX", keep};

    if (n >= 0 && argv[1] != NULL) {
        snprintf(v, sizeof(v), "%lld %d", n, *complete);
        snprintf(keep, sizeof(keep), "%lld", COUNT_KEEP_MS);
        freeReplyObject(cmd(app, 5, argv));
    }
    return n;
}

void cache_admin_recount(struct app *app)
{
    bool complete;

    (void)count_now(app, &complete);
}

/* After a clear: the kept count is wrong, and the next stats recounts. */
static void forget_count(struct app *app)
{
    const char *argv[] = {"DEL", count_key(app, false), count_key(app, true)};

    if (argv[1] != NULL && argv[2] != NULL)
        freeReplyObject(cmd(app, 3, argv));
}

/* Parses a kept count (the replies of GET and PTTL); false when there is
 * none, or when it is older than COUNT_STALE_MS (*stale). */
static bool count_of(const redisReply *r, const redisReply *pttl, long long *n, int *complete,
                     bool *stale)
{
    if (r == NULL || r->type != REDIS_REPLY_STRING || sscanf(r->str, "%lld %d", n, complete) != 2)
        return false;
    *stale = pttl == NULL || pttl->type != REDIS_REPLY_INTEGER ||
             COUNT_KEEP_MS - pttl->integer > COUNT_STALE_MS;
    return true;
}

/* Adds cache_keys and cache_keys_exact from the kept count (the replies of
 * GET and PTTL), or counts first when this responder took the count lock
 * (locked) and the kept one is missing or stale. *recount: count again
 * after the answer. */
static void add_count(struct app *app, json_object *o, const redisReply *kept,
                      const redisReply *pttl, bool locked, bool *recount)
{
    long long n = 0;
    int complete = 0;
    bool stale = true, have = count_of(kept, pttl, &n, &complete, &stale);

    if (locked && (!have || stale)) {
        bool c;
        n = count_now(app, &c);
        have = n >= 0;
        complete = c;
    } else {
        *recount = locked;
    }
    /* no count yet and another responder is making it (the first second
     * after a start or a clear): 0, not complete */
    json_object_object_add(o, "cache_keys", json_object_new_int64(have ? n : 0));
    json_object_object_add(o, "cache_keys_exact", json_object_new_boolean(have && complete));
}

/* The last warm, or NULL when none ran (idle). Takes ownership of warm. */
static json_object *last_warm(json_object *warm)
{
    json_object *st;

    if (warm != NULL && json_object_object_get_ex(warm, "status", &st) &&
        strcmp(json_object_get_string(st), "idle") == 0) {
        json_object_put(warm);
        return NULL;
    }
    return warm;
}

enum { ST_INFO, ST_DBSIZE, ST_METRICS, ST_WARM, ST_COUNT, ST_AGE, ST_LOCK, ST_N };

json_object *cache_admin_stats(struct app *app, bool *recount)
{
    const char *cmds[ST_N][6] = {
        [ST_INFO] = {"INFO"},
        [ST_DBSIZE] = {"DBSIZE"},
        [ST_METRICS] = {"HGETALL", cache_metrics_key(app)},
        [ST_WARM] = {"HGETALL", warm_key(app)},
        [ST_COUNT] = {"GET", count_key(app, false)},
        [ST_AGE] = {"PTTL", count_key(app, false)},
        [ST_LOCK] = {"SET", count_key(app, true), "1", "NX", "PX", COUNT_EVERY_MS},
    };
    const int argcs[ST_N] = {1, 1, 2, 2, 2, 2, 6};
    const char **argvs[ST_N];
    redisReply *r[ST_N] = {NULL};
    json_object *o = json_object_new_object(), *m = NULL;
    bool ok = true;

    *recount = false;
    cache_flush_metrics(app);
    for (int i = 0; i < ST_N; i++) {
        argvs[i] = cmds[i];
        ok = ok && cmds[i][argcs[i] - 1] != NULL;
    }
    ok = ok && redis_conn_pipeline(app->cache_redis, ST_N, argcs, argvs, NULL, r) == 0 &&
         r[ST_INFO]->type == REDIS_REPLY_STRING && r[ST_DBSIZE]->type == REDIS_REPLY_INTEGER &&
         (m = metrics_of(r[ST_METRICS])) != NULL;
    if (!ok) {
        json_object_object_add(o, "status", json_object_new_string("unavailable"));
        json_object_object_add(o, "message", json_object_new_string("Redis not connected"));
        add_counters(o, NULL); /* the pool-wide counters live in Redis */
        json_object_object_add(o, "last_warm", NULL);
        goto out;
    }
    json_object_object_add(o, "status", json_object_new_string("connected"));
    add_info(o, r[ST_INFO]->str);
    json_object_object_add(o, "total_keys", json_object_new_int64(r[ST_DBSIZE]->integer));
    add_count(app, o, r[ST_COUNT], r[ST_AGE], r[ST_LOCK]->type == REDIS_REPLY_STATUS, recount);
    add_counters(o, m);
    json_object_object_add(o, "last_warm", last_warm(warm_state_of(r[ST_WARM])));
out:
    json_object_put(m);
    for (int i = 0; i < ST_N; i++)
        freeReplyObject(r[i]);
    return o;
}
