/* Integration: the analytics counters stay exact. Random writes through the
 * HTTP API (registrations, admin creates, mission starts and completions
 * with odd scores, admin changes of activity/XP/missions/rank, self
 * updates, deletes), first one at a time, then from forked writers at once
 * on shared users, then while `guildctl rebuild-summaries` and
 * `verify-summaries` run. After each phase every analytics answer, computed
 * from MariaDB (cache emptied first: X-Cache MISS), must equal what this
 * suite recomputes with full scans over its own MariaDB connection, and
 * `guildctl verify-summaries` must find no difference. Concurrent writers
 * must never see a 5xx (a deadlock would be a 503). */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "fixtures.h"

#define POOL 16       /* users the writers share */
#define WRITERS 6     /* forked at once */
#define WRITER_OPS 40 /* requests each */

struct actor {
    long id;
    char name[64];
    char token[2048];
};

static char admin_token[2048];
static char admin_name[64];
static long admin_id;
static struct config cfg;
static struct db *db; /* the suite's own connection, for the full scans */
static unsigned seed;

/* ---- writes through the API ---------------------------------------------- */

/* Outcome counts of one writer; bad = an answer no race can explain. */
struct tally {
    int ok, refused, limited, bad;
};

/* Sends a request and files its status: ok is success; the outcomes a race
 * or an earlier random write explains (401 deleted user's token, 403 a
 * deactivated user's token, 404 gone, 409 already done) are refusals; a 429
 * after http_send's retries is tolerated; anything else is bad. */
static void send_op(struct tally *t, const char *method, const char *path, const char *token,
                    const char *body, long ok)
{
    struct http_resp r;

    if (http_send(method, path, token, body ? FX_JSON_CT : NULL, body, &r) != 0) {
        t->bad++;
        return;
    }
    if (r.status == ok)
        t->ok++;
    else if (r.status == 401 || r.status == 403 || r.status == 404 || r.status == 409)
        t->refused++;
    else if (r.status == 429)
        t->limited++;
    else {
        t->bad++;
        fx_show(&r, method);
    }
    http_resp_free(&r);
}

/* A score with up to 7 decimals, sometimes at the edges. */
static void random_score(unsigned *rs, char *buf, size_t sz)
{
    static const char *const odd[] = {"0", "100", "85.5", "99.9999996", "0.0000004",
                                      "33.3333333", "12.3456785", "64.0000005"};

    if (rand_r(rs) % 3 == 0)
        snprintf(buf, sz, "%s", odd[rand_r(rs) % (sizeof(odd) / sizeof(odd[0]))]);
    else
        snprintf(buf, sz, "%d.%07d", rand_r(rs) % 100, rand_r(rs) % 10000000);
}

/* One random write on a user of pool[0..n). */
static void random_op(unsigned *rs, struct actor *pool, int n, struct tally *t)
{
    struct actor *a = &pool[rand_r(rs) % n];
    int mission = 1 + rand_r(rs) % 13, pick = rand_r(rs) % 100;
    char path[160], body[256], score[32];

    if (pick < 30) { /* start, as the user */
        snprintf(path, sizeof(path), "/api/users/%ld/missions/", a->id);
        snprintf(body, sizeof(body), "{\"mission_id\":%d}", mission);
        send_op(t, "POST", path, a->token, body, 201);
    } else if (pick < 70) { /* complete, as the user or the admin */
        random_score(rs, score, sizeof(score));
        snprintf(path, sizeof(path), "/api/users/%ld/missions/%d/complete?score=%s", a->id,
                 mission, score);
        send_op(t, "POST", path, pick % 2 ? a->token : admin_token, NULL, 200);
    } else if (pick < 92) { /* the admin moves a counted figure */
        static const char *const ranks[] = {"Apprentice", "Adept", "Journeyman", "Expert",
                                            "Master"};
        switch (rand_r(rs) % 5) {
        case 0:
            snprintf(body, sizeof(body), "{\"is_active\":%s}", rand_r(rs) % 2 ? "true" : "false");
            break;
        case 1:
            snprintf(body, sizeof(body), "{\"experience_points\":%d}", rand_r(rs) % 300);
            break;
        case 2:
            snprintf(body, sizeof(body), "{\"missions_completed\":%d}", rand_r(rs) % 14);
            break;
        case 3:
            snprintf(body, sizeof(body), "{\"guild_rank\":\"%s\",\"is_active\":true}",
                     ranks[rand_r(rs) % 5]);
            break;
        default:
            snprintf(body, sizeof(body),
                     "{\"experience_points\":%d,\"missions_completed\":%d,\"is_active\":%s}",
                     rand_r(rs) % 1000, rand_r(rs) % 14, rand_r(rs) % 2 ? "true" : "false");
        }
        snprintf(path, sizeof(path), "/api/users/%ld", a->id);
        send_op(t, "PUT", path, admin_token, body, 200);
    } else if (pick < 98) { /* a self update that moves no figure */
        snprintf(path, sizeof(path), "/api/users/%ld", a->id);
        snprintf(body, sizeof(body), "{\"full_name\":\"n%d\"}", rand_r(rs) % 1000);
        send_op(t, "PUT", path, a->token, body, 200);
    } else { /* delete, with whatever progress the user has */
        snprintf(path, sizeof(path), "/api/users/%ld", a->id);
        send_op(t, "DELETE", path, admin_token, NULL, 204);
    }
}

/* Registers (or, as the admin, creates) and logs in a fresh user. 0 or -1. */
static int make_actor(struct actor *a, const char *prefix, bool admin_create)
{
    fx_uniq(a->name, sizeof(a->name), prefix);
    if (fx_register(admin_create ? "/api/users" : "/api/auth/register", a->name, FX_PASSWORD,
                    &a->id) != 201)
        return -1;
    return fx_login(a->name, FX_PASSWORD, a->token, sizeof(a->token)) == 200 ? 0 : -1;
}

static void make_pool(struct actor *pool, int n)
{
    for (int i = 0; i < n; i++)
        CU_ASSERT_FATAL(make_actor(&pool[i], "sm", i % 2 == 1) == 0);
}

/* ---- the full-scan recomputation ----------------------------------------- */

static double round2(double v)
{
    char buf[64];

    snprintf(buf, sizeof(buf), "%.2f", v);
    return strtod(buf, NULL);
}

/* A number member equal to want after rounding to 2 decimals. */
static int num_is(json_object *o, const char *key, double want)
{
    double got = fx_jdbl(o, key);

    if (got == round2(want))
        return 1;
    fprintf(stderr, "\n    %s: answer %.17g, full scan %.17g\n", key, got, round2(want));
    return 0;
}

static int int_is(json_object *o, const char *key, long long want)
{
    long long got = fx_jint(o, key);

    if (got == want)
        return 1;
    fprintf(stderr, "\n    %s: answer %lld, full scan %lld\n", key, got, want);
    return 0;
}

/* GETs an analytics route computed from MariaDB: the cache is emptied first. */
static void get_fresh(const char *path, struct http_resp *r)
{
    char xc[32];

    CU_ASSERT(fx_cli_run("REDIS_CLI", "FLUSHALL") == 0);
    fx_get(path, NULL, r);
    CU_ASSERT_FATAL(fx_expect(r, 200));
    CU_ASSERT(http_header(r, "X-Cache", xc, sizeof(xc)) != NULL &&
              (strcmp(xc, "MISS") == 0 || strcmp(xc, "BYPASS") == 0));
}

struct scan_totals {
    long long users, active, missions, xp;
    double avg_xp; /* MariaDB's AVG, for a sanity bound only */
};

static void scan_totals(struct scan_totals *s)
{
    static const char sql[] =
        "SELECT COUNT(*), COALESCE(SUM(is_active <> 0), 0), COALESCE(SUM(missions_completed), 0), "
        "COALESCE(SUM(experience_points), 0), COALESCE(AVG(experience_points), 0) FROM users";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_DOUBLE};

    CU_ASSERT_FATAL(db_query_row(db, sql, NULL, 0, o, 5) == DB_OK);
    s->users = o[0].i;
    s->active = o[1].i;
    s->missions = o[2].i;
    s->xp = o[3].i;
    s->avg_xp = o[4].d;
}

static void check_user_stats(void)
{
    struct scan_totals s;
    struct http_resp r;
    double avg;

    get_fresh("/api/analytics/users/stats", &r);
    scan_totals(&s);
    avg = s.users ? (double)s.xp / (double)s.users : 0.0;
    CU_ASSERT(fabs(avg - s.avg_xp) < 1e-4); /* the same mean as MariaDB's AVG */
    CU_ASSERT(int_is(r.json, "total_users", s.users));
    CU_ASSERT(int_is(r.json, "active_users", s.active));
    CU_ASSERT(int_is(r.json, "total_missions_completed", s.missions));
    CU_ASSERT(num_is(r.json, "average_experience", avg));
    http_resp_free(&r);
}

/* pandas' linear quantile of sorted v[0..n). */
static double quantile(const long long *v, long long n, double q)
{
    double pos = q * (double)(n - 1);
    long long lo = (long long)floor(pos), hi = (long long)ceil(pos);

    return (double)v[lo] + (pos - (double)lo) * (double)(v[hi] - v[lo]);
}

/* Every user's XP, ascending (malloc'd; *n the count). */
static long long *scan_xp(long long *n)
{
    static const char sql[] = "SELECT experience_points FROM users ORDER BY experience_points";
    struct db_val o[] = {DB_OUT_INT};
    long long *v = NULL, cap = 0;

    *n = 0;
    CU_ASSERT_FATAL(db_query(db, sql, NULL, 0, o, 1) == DB_OK);
    while (db_next(db) == DB_OK) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = realloc(v, (size_t)cap * sizeof(*v));
            CU_ASSERT_FATAL(v != NULL);
        }
        v[(*n)++] = o[0].i;
    }
    db_end(db);
    return v;
}

/* rank_distribution: the same ranks, counts and order as GROUP BY guild_rank. */
static void check_ranks(json_object *dist)
{
    static const char sql[] =
        "SELECT guild_rank, COUNT(*) FROM users GROUP BY guild_rank ORDER BY guild_rank";
    char rank[96];
    struct db_val o[] = {DB_OUT_TEXT(rank, sizeof(rank)), DB_OUT_INT};
    struct json_object_iterator it, end;

    CU_ASSERT_FATAL(dist != NULL && json_object_is_type(dist, json_type_object));
    it = json_object_iter_begin(dist);
    end = json_object_iter_end(dist);
    CU_ASSERT_FATAL(db_query(db, sql, NULL, 0, o, 2) == DB_OK);
    while (db_next(db) == DB_OK) {
        CU_ASSERT_FATAL(!json_object_iter_equal(&it, &end));
        CU_ASSERT_STRING_EQUAL(json_object_iter_peek_name(&it), rank);
        CU_ASSERT_EQUAL(json_object_get_int64(json_object_iter_peek_value(&it)), o[1].i);
        json_object_iter_next(&it);
    }
    db_end(db);
    CU_ASSERT(json_object_iter_equal(&it, &end));
}

static void check_advanced_stats(void)
{
    static const struct {
        const char *name;
        double q;
    } qs[] = {{"p25", 0.25}, {"p50", 0.5}, {"p75", 0.75}, {"p90", 0.9}};
    struct scan_totals s;
    struct http_resp r;
    long long n, *xp;
    json_object *pct;

    get_fresh("/api/analytics/users/advanced-stats", &r);
    scan_totals(&s);
    xp = scan_xp(&n);
    CU_ASSERT_EQUAL(n, s.users);
    CU_ASSERT(int_is(r.json, "total_users", s.users));
    pct = fx_jget(r.json, "experience_percentiles");
    for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
        CU_ASSERT(num_is(pct, qs[i].name, n ? quantile(xp, n, qs[i].q) : 0.0));
    check_ranks(fx_jget(r.json, "rank_distribution"));
    CU_ASSERT(num_is(r.json, "avg_missions_per_user",
                     s.users ? (double)s.missions / (double)s.users : 0.0));
    CU_ASSERT(num_is(r.json, "active_ratio", s.users ? (double)s.active / (double)s.users : 0.0));
    free(xp);
    http_resp_free(&r);
}

static void check_mission_stats(void)
{
    /* a score counts in whole millionths, as it is kept (docs/decisions.md) */
    static const char sql[] =
        "SELECT mission_id, COUNT(*), SUM(status = 'completed'), "
        "SUM(CAST(ROUND(score * 1000000) AS SIGNED)), AVG(score) "
        "FROM mission_progress GROUP BY mission_id ORDER BY mission_id";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_DOUBLE};
    struct http_resp r;
    json_object *list;
    size_t i = 0;

    get_fresh("/api/analytics/missions/stats", &r);
    list = fx_jget(r.json, "missions");
    CU_ASSERT_FATAL(list != NULL && json_object_is_type(list, json_type_array));
    CU_ASSERT_FATAL(db_query(db, sql, NULL, 0, o, 5) == DB_OK);
    while (db_next(db) == DB_OK) {
        json_object *m = json_object_array_get_idx(list, i++);
        double avg = (double)o[3].i / ((double)o[1].i * 1e6);

        CU_ASSERT_FATAL(m != NULL);
        CU_ASSERT(fabs(avg - o[4].d) < 1e-6); /* within rounding of MariaDB's AVG */
        CU_ASSERT(int_is(m, "mission_id", o[0].i));
        CU_ASSERT(int_is(m, "total_attempts", o[1].i));
        CU_ASSERT(num_is(m, "completion_rate", 100.0 * (double)o[2].i / (double)o[1].i));
        CU_ASSERT(num_is(m, "average_score", avg));
    }
    db_end(db);
    CU_ASSERT_EQUAL(json_object_array_length(list), i);
    http_resp_free(&r);
}

static void check_leaderboard(int limit)
{
    static const char sql[] = "SELECT username, guild_rank, experience_points, "
                              "missions_completed FROM users "
                              "ORDER BY experience_points DESC, id ASC LIMIT ?";
    char name[208], rank[96], path[96];
    struct db_val in[] = {DB_IN_INT(limit)};
    struct db_val o[] = {DB_OUT_TEXT(name, sizeof(name)), DB_OUT_TEXT(rank, sizeof(rank)),
                         DB_OUT_INT, DB_OUT_INT};
    struct http_resp r;
    json_object *list;
    size_t i = 0;

    snprintf(path, sizeof(path), "/api/analytics/leaderboard?limit=%d", limit);
    get_fresh(path, &r);
    list = fx_jget(r.json, "leaderboard");
    CU_ASSERT_FATAL(list != NULL && json_object_is_type(list, json_type_array));
    CU_ASSERT_FATAL(db_query(db, sql, in, 1, o, 4) == DB_OK);
    while (db_next(db) == DB_OK) {
        json_object *e = json_object_array_get_idx(list, i++);

        CU_ASSERT_FATAL(e != NULL);
        CU_ASSERT(int_is(e, "rank", (long long)i));
        CU_ASSERT_STREQ(fx_jstr(e, "username"), name);
        CU_ASSERT_STREQ(fx_jstr(e, "guild_rank"), rank);
        CU_ASSERT(int_is(e, "experience_points", o[2].i));
        CU_ASSERT(int_is(e, "missions_completed", o[3].i));
    }
    db_end(db);
    CU_ASSERT_EQUAL(json_object_array_length(list), i);
    http_resp_free(&r);
}

/* Every analytics answer equals the full scan, and guildctl agrees. */
static void check_all(void)
{
    check_user_stats();
    check_advanced_stats();
    check_mission_stats();
    check_leaderboard(10);
    check_leaderboard(100);
    CU_ASSERT_EQUAL(fx_cli_run("GUILDCTL", "verify-summaries"), 0);
}

/* ---- writers --------------------------------------------------------------- */

/* Forks n writers doing ops random writes each on pool (plus two users of
 * their own). Returns their pids in pids[]. */
static void fork_writers(struct actor *pool, int npool, pid_t *pids, int n, int ops)
{
    fflush(NULL);
    for (int w = 0; w < n; w++) {
        pid_t pid = fork();

        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            /* a connection of its own: the parent's curl handle is not shared */
            unsigned rs = seed + 7919u * (unsigned)(w + 1);
            struct actor mine[POOL + 2];
            struct tally t = {0, 0, 0, 0};
            int n_mine = npool;

            http_cleanup();
            if (http_init() != 0)
                _exit(2);
            memcpy(mine, pool, (size_t)npool * sizeof(*pool));
            for (int i = 0; i < 2; i++)
                if (make_actor(&mine[n_mine], "smw", i == 1) == 0)
                    n_mine++;
            for (int i = 0; i < ops; i++)
                random_op(&rs, mine, n_mine, &t);
            fprintf(stderr, "\n    writer %d: %d ok, %d refused, %d rate-limited, %d bad", w, t.ok,
                    t.refused, t.limited, t.bad);
            http_cleanup();
            _exit(t.bad == 0 ? 0 : 1);
        }
        pids[w] = pid;
    }
}

static void wait_writers(const pid_t *pids, int n)
{
    for (int w = 0; w < n; w++) {
        int st = 0;

        CU_ASSERT(waitpid(pids[w], &st, 0) == pids[w]);
        CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    }
}

/* ---- cases ----------------------------------------------------------------- */

static void t_verify_after_other_suites(void)
{
    /* the suites before this one wrote through every path on this stack */
    check_all();
}

static void t_sequential_random_writes(void)
{
    struct actor pool[POOL];
    struct tally t = {0, 0, 0, 0};
    unsigned rs = seed;

    make_pool(pool, POOL);
    check_all();
    for (int i = 0; i < 150; i++)
        random_op(&rs, pool, POOL, &t);
    CU_ASSERT_EQUAL(t.bad, 0);
    CU_ASSERT(t.ok > 50);
    check_all();
}

static void t_concurrent_random_writes(void)
{
    struct actor pool[POOL];
    pid_t pids[WRITERS];

    make_pool(pool, POOL);
    fork_writers(pool, POOL, pids, WRITERS, WRITER_OPS);
    wait_writers(pids, WRITERS);
    check_all();
}

/* Same user, many missions at once: the user's row serializes them and
 * every counter moves exactly once per completion. */
static void t_concurrent_completions_one_user(void)
{
    enum { N = 13 };
    struct actor a;
    pid_t pids[N];
    char path[160], auth[2100], q[160];
    const char *headers[] = {auth, NULL};
    long long xp = 0;

    CU_ASSERT_FATAL(make_actor(&a, "smc", false) == 0);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", a.token);
    fflush(NULL);
    for (int m = 0; m < N; m++) {
        xp += (50 + m) / 10; /* floor(score / 10) of 50.25, 51.25, ... */
        pids[m] = fork();
        CU_ASSERT_FATAL(pids[m] >= 0);
        if (pids[m] == 0) {
            long status = -1;

            snprintf(path, sizeof(path), "/api/users/%ld/missions/%d/complete?score=%d.25", a.id,
                     m + 1, 50 + m);
            fx_post_at_once(NULL, path, headers, NULL, NULL, &status);
            _exit(status == 200 ? 0 : 1);
        }
    }
    wait_writers(pids, N);
    snprintf(q, sizeof(q), "SELECT missions_completed FROM users WHERE id = %ld", a.id);
    CU_ASSERT_EQUAL(fx_sql_long(q), N);
    snprintf(q, sizeof(q), "SELECT experience_points FROM users WHERE id = %ld", a.id);
    CU_ASSERT_EQUAL(fx_sql_long(q), xp);
    check_all();
}

/* verify-summaries under load must see a consistent snapshot (no
 * difference), and a rebuild must not lose the writes racing it. */
static void t_rebuild_and_verify_under_writes(void)
{
    struct actor pool[POOL];
    pid_t pids[WRITERS];
    int rounds = 0, running = WRITERS;

    make_pool(pool, POOL);
    fork_writers(pool, POOL, pids, WRITERS, WRITER_OPS);
    /* until the last writer is done, and at least three times */
    while (running > 0 || rounds < 3) {
        CU_ASSERT_EQUAL(fx_cli_run("GUILDCTL", "verify-summaries"), 0);
        CU_ASSERT_EQUAL(fx_cli_run("GUILDCTL", "rebuild-summaries"), 0);
        rounds++;
        for (int w = 0; w < WRITERS; w++) {
            int st = 0;

            if (pids[w] > 0 && waitpid(pids[w], &st, WNOHANG) == pids[w]) {
                CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
                pids[w] = 0;
                running--;
            }
        }
    }
    fprintf(stderr, "\n    %d verify + rebuild rounds while writing", rounds);
    check_all();
}

/* ---- suite ----------------------------------------------------------------- */

static int suite_setup(void)
{
    const char *conf = getenv("GUILD_CONF");
    char err[256];

    seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    fprintf(stderr, "test_summaries: seed %u\n", seed);
    if (conf == NULL || config_load(&cfg, conf, CONFIG_NEED_NOTHING, err, sizeof(err)) != 0 ||
        db_library_init() != 0 || (db = db_new(&cfg)) == NULL) {
        fprintf(stderr, "test_summaries: no database connection (GUILD_CONF)\n");
        return -1;
    }
    return fx_admin_setup(admin_name, sizeof(admin_name), admin_token, sizeof(admin_token),
                          &admin_id);
}

static int suite_teardown(void)
{
    db_free(db);
    db_library_end();
    config_cleanup(&cfg);
    return 0;
}

int main(void)
{
    static const struct test_case cases[] = {
        {"counters = full scans after the other suites' writes", t_verify_after_other_suites},
        {"random writes one at a time", t_sequential_random_writes},
        {"random writes from 6 writers at once", t_concurrent_random_writes},
        {"13 completions of one user at once", t_concurrent_completions_one_user},
        {"verify and rebuild while writers run", t_rebuild_and_verify_under_writes},
        {NULL, NULL},
    };

    return fx_run_suite("integration_summaries", cases, suite_setup, suite_teardown);
}
