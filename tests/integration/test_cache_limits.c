/* Integration: what an anonymous client can make the cache do (issue 10,
 * defects 7 and 10). Lookups of made-up ids leave no key behind; the public
 * stats route stays cheap with 100,000 keys (at most one entry count a
 * second, pool-wide); a recompute lock whose holder is gone or late stalls
 * its readers briefly, and never the requests that need no wait (/ping).
 * Uses the test stack's $REDIS_CACHE_CLI to look at and shape the cache. */
#include <CUnit/CUnit.h>
#include <curl/curl.h>
#include <json-c/json.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

#define STATS "/api/analytics/users/stats"
#define MADE_UP_BASE 987654000L /* far above any id the suites create */
#define MADE_UP_N 60            /* per route */
#define FILL_KEYS 100000
#define STATS_CLIENTS 8
#define STATS_CALLS 20           /* per client */
#define RL_WINDOW_MS 2100        /* test.conf: GUILD_RATE_LIMIT_API=300/2; bursts stay under 300 */
#define COUNT_MAX_ROUNDS 200     /* cache_admin.c: SCAN rounds of one entry count, at most */
#define LOCK_READERS_MIN 4
#define LOCK_READERS_MAX 64

static char user_token[2048];
static long user_id;

/* ---- helpers ---------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every key of the cache Redis, sorted; *n gets the count. NULL when the
 * client failed. Free with keys_free. */
static char **keys_list(size_t *n)
{
    const char *cli = getenv("REDIS_CACHE_CLI");
    char cmd[1024], line[1024];
    char **keys = NULL;
    size_t cap = 0;
    FILE *p;

    *n = 0;
    if (cli == NULL)
        return NULL;
    snprintf(cmd, sizeof(cmd), "%s --scan 2>/dev/null", cli);
    if ((p = popen(cmd, "r")) == NULL)
        return NULL;
    while (fgets(line, sizeof(line), p) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        if (*n == cap) {
            char **k = realloc(keys, (cap = cap ? 2 * cap : 256) * sizeof(*keys));
            if (k == NULL)
                break;
            keys = k;
        }
        keys[(*n)++] = strdup(line);
    }
    if (pclose(p) != 0) {
        fprintf(stderr, "\n    redis-cli --scan failed\n");
    }
    if (keys != NULL)
        qsort(keys, *n, sizeof(*keys), cmp_str);
    return keys;
}

static void keys_free(char **keys, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(keys[i]);
    free(keys);
}

/* How many keys of after are not in before (both sorted); prints them. */
static size_t keys_new(char **before, size_t nb, char **after, size_t na)
{
    size_t fresh = 0;

    for (size_t i = 0; i < na; i++) {
        if (nb > 0 && bsearch(&after[i], before, nb, sizeof(*before), cmp_str) != NULL)
            continue;
        if (fresh++ < 10)
            fprintf(stderr, "\n    a new key: %s", after[i]);
    }
    return fresh;
}

/* How many SCAN commands the cache Redis has run (INFO commandstats), or
 * -1 when it cannot be read. */
static long long scan_calls(void)
{
    char out[128];

    if (fx_cli_line("REDIS_CACHE_CLI", "INFO commandstats | grep -c ''", out, sizeof(out)) != 0 ||
        atoi(out) == 0)
        return -1;
    if (fx_cli_line("REDIS_CACHE_CLI",
                    "INFO commandstats | sed -n 's/^cmdstat_scan:calls=\\([0-9]*\\),.*/\\1/p'", out,
                    sizeof(out)) != 0)
        return -1;
    return atoll(out); /* no line (""): never called yet */
}

static double median(double *v, size_t n)
{
    for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
        for (size_t j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return n ? v[n / 2] : NAN;
}

/* ---- threads: one GET each, on a curl handle of its own -------------------- */

struct tget {
    const char *path;
    pthread_barrier_t *go; /* NULL: start at once */
    int delay_us;          /* after the barrier */
    int repeat;            /* requests in a row (>= 1) */
    long status;           /* of the last one */
    char xcache[16];       /* of the last one */
    char *body;            /* of the last one (malloc'd) */
    double ms[STATS_CALLS];
    int rc;
};

static void *tget_run(void *arg)
{
    struct tget *t = arg;
    CURL *c = curl_easy_init();

    if (t->go != NULL)
        pthread_barrier_wait(t->go);
    if (t->delay_us > 0)
        usleep((useconds_t)t->delay_us);
    t->rc = c == NULL ? -1 : 0;
    for (int i = 0; c != NULL && i < t->repeat && i < STATS_CALLS && t->rc == 0; i++) {
        struct http_resp r;
        double t0 = fx_now_ms();

        t->rc = http_request_on(c, "GET", t->path, NULL, NULL, 0, &r);
        t->ms[i] = fx_now_ms() - t0;
        if (t->rc != 0)
            break;
        t->status = r.status;
        if (http_header(&r, "X-Cache", t->xcache, sizeof(t->xcache)) == NULL)
            t->xcache[0] = '\0';
        free(t->body);
        t->body = r.body_len ? strndup(r.body, r.body_len) : NULL;
        http_resp_free(&r);
    }
    if (c != NULL)
        curl_easy_cleanup(c);
    return NULL;
}

/* Runs the n requests of t at once (after a barrier); 0 when all started. */
static int run_all(struct tget *t, size_t n)
{
    pthread_t th[LOCK_READERS_MAX + 1 > STATS_CLIENTS ? LOCK_READERS_MAX + 1 : STATS_CLIENTS];
    pthread_barrier_t go;
    size_t started = 0;

    if (pthread_barrier_init(&go, NULL, (unsigned)n) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        t[i].go = &go;
        if (pthread_create(&th[i], NULL, tget_run, &t[i]) != 0)
            break;
        started++;
    }
    CU_ASSERT_FATAL(started == n); /* else the barrier never opens */
    for (size_t i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    return 0;
}

/* ---- defect 7: made-up ids leave nothing behind -------------------------------- */

static void get_expect(const char *path, const char *token, long want)
{
    struct http_resp r;

    fx_get(path, token, &r);
    if (r.status != want)
        fx_show(&r, path);
    CU_ASSERT_EQUAL(r.status, want);
    http_resp_free(&r);
}

static void t_made_up_ids(void)
{
    /* ids nobody has (404, as FastAPI answers them), and ids that are not
     * integers (422) */
    static const char *const no_one[] = {"0", "-1", "99999999999999999999"};
    static const char *const invalid[] = {"abc", "1e3", "4.2"};
    char path[128], **before, **after;
    size_t nb, na;
    long long db0, db1;
    struct tget burst[8];

    CU_ASSERT_FATAL(user_token[0] != '\0');
    /* the pool-wide state a lookup may touch exists already: the metrics
     * hash (lookup counts) and the caller's own account entry */
    get_expect(STATS, NULL, 200);
    get_expect("/api/users/me", user_token, 200);
    before = keys_list(&nb);
    db0 = fx_cli_long("REDIS_CACHE_CLI", "DBSIZE", -1);
    CU_ASSERT_FATAL(before != NULL && db0 > 0);

    for (long i = 0; i < MADE_UP_N; i++) {
        snprintf(path, sizeof(path), "/api/users/%ld", MADE_UP_BASE + i);
        get_expect(path, NULL, 404);
        snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", MADE_UP_BASE + i);
        get_expect(path, user_token, 404);
    }
    snprintf(path, sizeof(path), "/api/users/%010ld", MADE_UP_BASE); /* leading zeros */
    get_expect(path, NULL, 404);
    for (size_t i = 0; i < sizeof(no_one) / sizeof(no_one[0]); i++) {
        snprintf(path, sizeof(path), "/api/users/%s", no_one[i]);
        get_expect(path, NULL, 404);
    }
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
        snprintf(path, sizeof(path), "/api/users/%s", invalid[i]);
        get_expect(path, NULL, 422);
    }
    /* at once, one made-up id: one request holds the lock, the others wait
     * on it, and the 404 releases it */
    memset(burst, 0, sizeof(burst));
    snprintf(path, sizeof(path), "/api/users/%ld", MADE_UP_BASE + MADE_UP_N);
    for (size_t i = 0; i < 8; i++) {
        burst[i].path = path;
        burst[i].repeat = 1;
    }
    CU_ASSERT_FATAL(run_all(burst, 8) == 0);
    for (size_t i = 0; i < 8; i++) {
        CU_ASSERT(burst[i].rc == 0 && burst[i].status == 404);
        free(burst[i].body);
    }

    db1 = fx_cli_long("REDIS_CACHE_CLI", "DBSIZE", -1);
    after = keys_list(&na);
    printf("\n    %d lookups of made-up or invalid ids: cache keys %lld -> %lld\n",
           2 * MADE_UP_N + 1 + (int)(sizeof(no_one) / sizeof(no_one[0])) +
               (int)(sizeof(invalid) / sizeof(invalid[0])) + 8,
           db0, db1);
    CU_ASSERT_FATAL(after != NULL);
    CU_ASSERT_EQUAL(keys_new(before, nb, after, na), 0);
    CU_ASSERT_EQUAL(db1, db0);
    keys_free(before, nb);
    keys_free(after, na);
}

/* ---- defect 7: stats is cheap at 100,000 keys ---------------------------------- */

static char fill_prefix[128];

static int fill(long from, long to)
{
    char args[512];

    snprintf(args, sizeof(args),
             "EVAL \"for i = ARGV[1], ARGV[2] do redis.call('SET', KEYS[1] .. i, 'x', 'EX', 600) "
             "end return 1\" 1 '%s' %ld %ld",
             fill_prefix, from, to);
    return fx_cli_run("REDIS_CACHE_CLI", args);
}

static void unfill(void)
{
    char args[512];

    snprintf(args, sizeof(args),
             "EVAL \"local n = 0 for i = ARGV[1], ARGV[2] do n = n + redis.call('UNLINK', "
             "KEYS[1] .. i) end return n\" 1 '%s' 1 %d",
             fill_prefix, FILL_KEYS + 1000);
    fx_cli_run("REDIS_CACHE_CLI", args);
}

static long long stats_cache_keys(void)
{
    struct http_resp r;
    long long n;

    fx_get("/api/cache/stats", NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    n = http_jint(&r, "cache_keys");
    http_resp_free(&r);
    return n;
}

/* Polls stats (every 100 ms, for at most 4 s) until cache_keys is at least
 * (above) or below (!above) limit; returns the last value and *ms. */
static long long await_count(long long limit, bool above, double *ms)
{
    double t0 = fx_now_ms();
    long long n;

    while ((n = stats_cache_keys()) >= 0 && (above ? n < limit : n >= limit) &&
           fx_now_ms() - t0 < 4000)
        usleep(100 * 1000);
    *ms = fx_now_ms() - t0;
    return n;
}

/* p50 of `calls` answers of path from STATS_CLIENTS clients at once. */
static double burst_p50(const char *path, int calls, double *max_ms, int *bad)
{
    static struct tget t[STATS_CLIENTS];
    double all[STATS_CLIENTS * STATS_CALLS];
    size_t n = 0;

    memset(t, 0, sizeof(t));
    for (int i = 0; i < STATS_CLIENTS; i++) {
        t[i].path = path;
        t[i].repeat = calls;
    }
    CU_ASSERT_FATAL(run_all(t, STATS_CLIENTS) == 0);
    *max_ms = 0;
    for (int i = 0; i < STATS_CLIENTS; i++) {
        *bad += t[i].rc != 0 || t[i].status != 200;
        for (int k = 0; k < calls; k++) {
            all[n++] = t[i].ms[k];
            *max_ms = t[i].ms[k] > *max_ms ? t[i].ms[k] : *max_ms;
        }
        free(t[i].body);
    }
    return median(all, n);
}

static void t_stats_cheap(void)
{
    struct http_resp r;
    long long scans0, scans1, n0, n1;
    double t0, elapsed_s, p50, max_ms, ping_p50, ping_max, ms;
    int bad = 0, counts_allowed;

    snprintf(fill_prefix, sizeof(fill_prefix), "%sc:zzfill%d:", fx_redis_prefix(), (int)getpid());
    CU_ASSERT_FATAL(fill(1, FILL_KEYS) == 0);
    /* fillers look like entries, and are counted (a count stops after 200
     * SCAN rounds: about 100,000 keys) */
    n0 = await_count(FILL_KEYS * 9 / 10, true, &ms);
    printf("\n    %d keys filled: cache_keys %lld after %.0f ms\n", FILL_KEYS, n0, ms);
    CU_ASSERT(n0 >= FILL_KEYS * 9 / 10 && ms < 3000);

    ping_p50 = burst_p50("/ping", STATS_CALLS, &ping_max, &bad);
    usleep(RL_WINDOW_MS * 1000); /* the burst below fits in an empty rate-limit window */
    scans0 = scan_calls();
    t0 = fx_now_ms();
    p50 = burst_p50("/api/cache/stats", STATS_CALLS, &max_ms, &bad);
    usleep(300 * 1000); /* a count started after the last answer ends */
    elapsed_s = (fx_now_ms() - t0) / 1000.0;
    scans1 = scan_calls();
    /* the count lock lives 1 s: at most one count per started second, each
     * at most COUNT_MAX_ROUNDS SCANs */
    counts_allowed = (int)ceil(elapsed_s) + 1;
    printf("    %d stats calls from %d clients in %.2f s with %lld keys: %lld SCAN calls "
           "(allowed: %d counts x %d); stats p50 %.1f ms, max %.1f ms; /ping p50 %.1f ms\n",
           STATS_CLIENTS * STATS_CALLS, STATS_CLIENTS, elapsed_s, n0, scans1 - scans0,
           counts_allowed, COUNT_MAX_ROUNDS, p50, max_ms, ping_p50);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(scans0 >= 0 && scans1 >= scans0);
    CU_ASSERT(scans1 - scans0 <= (long long)counts_allowed * COUNT_MAX_ROUNDS);
    CU_ASSERT(p50 <= 50.0); /* a full count costs ~60 ms of Redis time alone */

    /* the contract's fields are all there */
    fx_get("/api/cache/stats", NULL, &r);
    CU_ASSERT(fx_expect(&r, 200) && fx_streq(http_jstr(&r, "status"), "connected"));
    CU_ASSERT(http_jint(&r, "total_keys") >= FILL_KEYS && http_jint(&r, "cache_keys") >= 0);
    CU_ASSERT(http_jstr(&r, "redis_version") != NULL && fx_jget(r.json, "endpoints") != NULL);
    CU_ASSERT(!isnan(http_jnum(&r, "hit_rate")) && json_object_object_get_ex(r.json, "last_warm", NULL));
    http_resp_free(&r);

    /* the kept count follows the keys within about a second (a count small
     * enough to be complete) */
    unfill();
    n0 = await_count(FILL_KEYS / 2, false, &ms);
    printf("    fillers removed: cache_keys %lld after %.0f ms\n", n0, ms);
    CU_ASSERT_FATAL(n0 >= 0 && n0 < FILL_KEYS / 2);
    CU_ASSERT_FATAL(fill(1, 1000) == 0);
    n1 = await_count(n0 + 1000, true, &ms);
    printf("    1,000 keys added: cache_keys %lld -> %lld after %.0f ms\n", n0, n1, ms);
    CU_ASSERT(n1 >= n0 + 1000 && ms < 3000);
    unfill();
}

/* ---- defect 10: a lock without a live holder ----------------------------------- */

static int readers_n(void)
{
    const char *c = getenv("FCGI_CHILDREN"), *t = getenv("FCGI_THREADS");
    int n = (c ? atoi(c) : 4) * (t ? atoi(t) : 4); /* every worker of the pool */

    return n < LOCK_READERS_MIN ? LOCK_READERS_MIN : n > LOCK_READERS_MAX ? LOCK_READERS_MAX : n;
}

/* Deletes the users/stats entry, leaves `lock_value` as its lock (PX 5 s),
 * then sends n reads of it and a /ping 30 ms later, all at once. Returns
 * the slowest read (ms); *ping_ms, *misses (X-Cache: MISS). */
static double orphan_lock(const char *lock_value, int n, double *ping_ms, int *misses,
                          const char *want_body)
{
    struct tget t[LOCK_READERS_MAX + 1];
    char args[512];
    double slowest = 0;

    snprintf(args, sizeof(args), "DEL '%sc:users:stats'", fx_redis_prefix());
    CU_ASSERT_FATAL(fx_cli_run("REDIS_CACHE_CLI", args) == 0);
    snprintf(args, sizeof(args), "SET '%sc:users:stats|lock' '%s' PX 5000", fx_redis_prefix(),
             lock_value);
    CU_ASSERT_FATAL(fx_cli_run("REDIS_CACHE_CLI", args) == 0);
    memset(t, 0, sizeof(t));
    for (int i = 0; i <= n; i++) {
        t[i].path = i < n ? STATS : "/ping";
        t[i].repeat = 1;
        t[i].delay_us = i < n ? 0 : 30 * 1000;
    }
    CU_ASSERT_FATAL(run_all(t, (size_t)n + 1) == 0);
    *misses = 0;
    for (int i = 0; i < n; i++) {
        CU_ASSERT(t[i].rc == 0 && t[i].status == 200);
        CU_ASSERT(t[i].body != NULL && fx_streq(t[i].body, want_body));
        *misses += strcmp(t[i].xcache, "MISS") == 0;
        slowest = t[i].ms[0] > slowest ? t[i].ms[0] : slowest;
        free(t[i].body);
    }
    CU_ASSERT(t[n].rc == 0 && t[n].status == 200);
    *ping_ms = t[n].ms[0];
    free(t[n].body);
    return slowest;
}

/* A pid that ran a moment ago and is gone now. */
static long dead_pid(void)
{
    pid_t p = fork();

    if (p == 0)
        _exit(0);
    if (p > 0)
        waitpid(p, NULL, 0);
    return (long)p;
}

static void t_orphan_lock(void)
{
    struct http_resp r;
    char host[256] = "", lock[400], *want;
    double slowest, ping_ms;
    int n = readers_n(), misses;

    usleep(RL_WINDOW_MS * 1000); /* the bursts below fit in an empty rate-limit window */
    /* the entry computed once: its kind's compute time is on record */
    fx_get(STATS, NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    want = strndup(r.body, r.body_len);
    http_resp_free(&r);
    snprintf(lock, sizeof(lock), "DEL '%sc:users:stats'", fx_redis_prefix());
    CU_ASSERT_FATAL(fx_cli_run("REDIS_CACHE_CLI", lock) == 0);
    fx_get(STATS, NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    http_resp_free(&r);

    /* the reproduction: a lock nobody holds ("x": no holder named),
     * four reads and a /ping */
    slowest = orphan_lock("x", LOCK_READERS_MIN, &ping_ms, &misses, want);
    printf("\n    orphan lock 'x', %d reads: slowest %.0f ms, %d MISS; /ping %.1f ms\n",
           LOCK_READERS_MIN, slowest, misses, ping_ms);
    CU_ASSERT(slowest < 1000.0); /* was GUILD_CACHE_LOCK_WAIT_MS: 2 s */
    CU_ASSERT(ping_ms < 100.0);
    CU_ASSERT_EQUAL(misses, 1); /* one reader took the lock over, the others waited on it */

    /* as many reads as the pool has workers: every worker would wait */
    slowest = orphan_lock("x", n, &ping_ms, &misses, want);
    printf("    orphan lock 'x', %d reads: slowest %.0f ms, %d MISS; /ping %.1f ms\n", n, slowest,
           misses, ping_ms);
    CU_ASSERT(slowest < 1000.0);
    CU_ASSERT(ping_ms < 100.0); /* was ~1.9 s: every worker waiting */
    CU_ASSERT_EQUAL(misses, 1);

    /* a holder on this host whose process is gone: taken over at once,
     * even with no compute time on record */
    CU_ASSERT_FATAL(gethostname(host, sizeof(host)) == 0);
    snprintf(lock, sizeof(lock), "DEL '%scost'", fx_redis_prefix());
    CU_ASSERT_FATAL(fx_cli_run("REDIS_CACHE_CLI", lock) == 0);
    snprintf(lock, sizeof(lock), "00000000000000000000000000 %ld@%s", dead_pid(), host);
    slowest = orphan_lock(lock, n, &ping_ms, &misses, want);
    printf("    lock of a dead responder, %d reads: slowest %.0f ms, %d MISS; /ping %.1f ms\n", n,
           slowest, misses, ping_ms);
    CU_ASSERT(slowest < 500.0);
    CU_ASSERT(ping_ms < 100.0);
    CU_ASSERT_EQUAL(misses, 1);
    free(want);
}

/* ---- suite ------------------------------------------------------------------- */

static int suite_setup(void)
{
    char name[64];
    long status;

    fx_uniq(name, sizeof(name), "cl");
    status = fx_register("/api/auth/register", name, FX_PASSWORD, &user_id);
    if (status != 201 || fx_login(name, FX_PASSWORD, user_token, sizeof(user_token)) != 200) {
        fprintf(stderr, "cannot create the suite's user\n");
        return -1;
    }
    return 0;
}

static int suite_teardown(void)
{
    if (fill_prefix[0] != '\0')
        unfill();
    return 0;
}

int main(void)
{
    static const struct test_case cases[] = {
        {"made-up and invalid ids leave no cache key behind", t_made_up_ids},
        {"stats: cheap with 100,000 keys (one entry count a second)", t_stats_cheap},
        {"a lock whose holder is gone or late: short waits, /ping unaffected", t_orphan_lock},
        {NULL, NULL},
    };
    return fx_run_suite("integration_cache_limits", cases, suite_setup, suite_teardown);
}
