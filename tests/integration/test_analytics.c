/* Integration: /api/analytics against a known dataset. The suite deletes every
 * user but the admin and flushes the cache, builds eight users through the API,
 * and checks each figure against values computed here from the same table
 * (pandas-style percentiles, tie order, rounding), also right after writes. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

/* ---- the dataset -------------------------------------------------------- */

struct attempt {
    int mission;
    int score; /* the completion score; ignored when !done */
    bool done; /* completed, else only started (score 0) */
};

struct member {
    struct attempt a[8];
    int n;
    bool inactive; /* deactivated by the admin after its attempts */
    long id;
    char name[64];
    char token[2048];
};

/* XP (desc) then id decides the leaderboard: m6 and m7 tie on 20 XP; m8 is
 * inactive with 0 XP and the highest id, so it is last either way. */
static struct member crew[] = {
    {{{1, 100, true}, {2, 90, true}, {3, 80, true}, {4, 0, false}}, 4, false, 0, "", ""},
    {{{1, 55, true}, {2, 0, false}}, 2, false, 0, "", ""},
    {{{1, 100, true}, {2, 100, true}, {3, 100, true}, {4, 100, true}, {5, 100, true},
      {6, 100, true}, {7, 100, true}}, 7, false, 0, "", ""},
    {{{1, 75, true}, {3, 64, true}}, 2, false, 0, "", ""},
    {{{1, 0, false}}, 1, false, 0, "", ""},
    {{{1, 100, true}, {2, 100, true}}, 2, false, 0, "", ""},
    {{{2, 100, true}, {5, 100, true}}, 2, false, 0, "", ""},
    {{{7, 0, true}, {6, 0, false}}, 2, true, 0, "", ""},
};
#define CREW ((int)(sizeof(crew) / sizeof(crew[0])))
static int crew_n = CREW; /* shrinks when the last test deletes a member */

static const char *const catalogue[14] = {
    NULL, "The First Flame", "Records of Apprentices", "Seal of the Keeper", "External Scrolls",
    "Parallel Prophecies", "The Guild Archives", "Echo of Time", "Circle of Truth", "The Forge",
    "Ascension", "The Whispering Stream", "The Mirror Gateway", "The Sky Forge",
};

static char admin_token[2048];
static char admin_name[64];
static long admin_id;
static bool built; /* the dataset exists: the figure tests need it */

/* ---- expected figures, from the table ----------------------------------- */

static long xp_of(const struct member *m)
{
    long xp = 0;

    for (int i = 0; i < m->n; i++)
        if (m->a[i].done)
            xp += m->a[i].score / 10;
    return xp;
}

static long done_of(const struct member *m)
{
    long n = 0;

    for (int i = 0; i < m->n; i++)
        n += m->a[i].done;
    return n;
}

static const char *rank_for(long done)
{
    return done >= 13 ? "Master" : done >= 10 ? "Expert" : done >= 7 ? "Journeyman"
                                   : done >= 3 ? "Adept" : "Apprentice";
}

/* Row score as stored: the completion score, 0 while in progress. */
static double row_score(const struct attempt *a)
{
    return a->done ? a->score : 0.0;
}

static double round2(double v)
{
    return round(v * 100.0) / 100.0;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return (x > y) - (x < y);
}

/* pandas' default quantile: linear interpolation at q*(n-1) of sorted v. */
static double quantile(const long *sorted, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)floor(pos), hi = (int)ceil(pos);

    return sorted[lo] + (pos - lo) * (double)(sorted[hi] - sorted[lo]);
}

/* XP of every user (the admin's is 0), sorted ascending; returns the count. */
static int all_xp(long *out)
{
    int n = 0;

    out[n++] = 0; /* the admin */
    for (int i = 0; i < crew_n; i++)
        out[n++] = xp_of(&crew[i]);
    qsort(out, (size_t)n, sizeof(out[0]), cmp_long);
    return n;
}

/* ---- small helpers ------------------------------------------------------ */

/* 422 with an entry at loc [loc0, loc1]. Looser than fx_expect_422 (the other
 * entries' loc, msg and type are not checked), as this suite always was. */
static int expect_422(const struct http_resp *r, const char *loc0, const char *loc1)
{
    json_object *list, *loc;

    if (fx_expect(r, 422) && json_object_object_get_ex(r->json, "detail", &list) &&
        json_object_is_type(list, json_type_array)) {
        for (size_t i = 0; i < json_object_array_length(list); i++)
            if (json_object_object_get_ex(json_object_array_get_idx(list, i), "loc", &loc) &&
                fx_str_eq(json_object_array_get_idx(loc, 0), loc0) &&
                fx_str_eq(json_object_array_get_idx(loc, 1), loc1))
                return 1;
    }
    fx_show(r, "422");
    return 0;
}

/* True when o is an object with exactly these keys. */
static int has_keys(json_object *o, const char *const *keys, size_t n)
{
    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        (size_t)json_object_object_length(o) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!json_object_object_get_ex(o, keys[i], NULL))
            return 0;
    return 1;
}

/* ---- reset and build ---------------------------------------------------- */

/* Only the admin is left, with no progress and zeroed figures; cache emptied. */
static void reset_data(void)
{
    CU_ASSERT_FATAL(strchr(admin_name, '\'') == NULL && strchr(admin_name, '"') == NULL);
    CU_ASSERT_FATAL(fx_reset_users(admin_name) == 0);
    CU_ASSERT_FATAL(fx_sql_long("SELECT COUNT(*) FROM users") == 1);
    CU_ASSERT(fx_cli_run("REDIS_CLI", "FLUSHALL") == 0);
}

/* Registers, logs in and plays one member's attempts through the API. */
static void build_member(struct member *m, int idx)
{
    struct http_resp r;
    char body[512], path[160];
    long status;

    snprintf(m->name, sizeof(m->name), "an%d_%d", (int)getpid(), idx);
    status = fx_register("/api/auth/register", m->name, FX_PASSWORD, &m->id);
    CU_ASSERT_FATAL(status != -1);
    CU_ASSERT_FATAL(status == 201 && m->id > 0);
    CU_ASSERT_FATAL(fx_login(m->name, FX_PASSWORD, m->token, sizeof(m->token)) == 200);

    for (int i = 0; i < m->n; i++) {
        const struct attempt *a = &m->a[i];
        if (a->done) {
            snprintf(path, sizeof(path), "/api/users/%ld/missions/%d/complete?score=%d", m->id,
                     a->mission, a->score);
            CU_ASSERT_FATAL(http_send("POST", path, m->token, NULL, NULL, &r) == 0);
            CU_ASSERT(fx_expect(&r, 200));
        } else {
            snprintf(path, sizeof(path), "/api/users/%ld/missions", m->id);
            snprintf(body, sizeof(body), "{\"mission_id\":%d}", a->mission);
            CU_ASSERT_FATAL(http_send("POST", path, m->token, FX_JSON_CT, body, &r) == 0);
            CU_ASSERT(fx_expect(&r, 201));
        }
        http_resp_free(&r);
    }
    if (m->inactive) {
        snprintf(path, sizeof(path), "/api/users/%ld", m->id);
        CU_ASSERT_FATAL(http_send("PUT", path, admin_token, FX_JSON_CT, "{\"is_active\":false}", &r) == 0);
        CU_ASSERT(fx_expect(&r, 200));
        http_resp_free(&r);
    }
}

/* ---- figure checks (shared by the first and the last test) -------------- */

static void check_user_stats(void)
{
    struct http_resp r;
    long xp[CREW + 1], total_xp = 0, done = 0, active = 1;
    int n = all_xp(xp);

    for (int i = 0; i < crew_n; i++) {
        done += done_of(&crew[i]);
        active += !crew[i].inactive;
    }
    for (int i = 0; i < n; i++)
        total_xp += xp[i];
    fx_get("/api/analytics/users/stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT(has_keys(r.json, (const char *const[]){"total_users", "active_users",
                                                     "total_missions_completed",
                                                     "average_experience"}, 4));
    CU_ASSERT_EQUAL(http_jint(&r, "total_users"), n);
    CU_ASSERT_EQUAL(http_jint(&r, "active_users"), active);
    CU_ASSERT_EQUAL(http_jint(&r, "total_missions_completed"), done);
    CU_ASSERT_NEAR(http_jnum(&r, "average_experience"), (double)total_xp / n, 0.01);
    http_resp_free(&r);
}

static void check_advanced_stats(void)
{
    static const char *const ranks[] = {"Apprentice", "Adept", "Journeyman", "Expert", "Master"};
    struct http_resp r;
    long xp[CREW + 1], done = 0, active = 1, per_rank[5] = {1, 0, 0, 0, 0}; /* admin */
    int n = all_xp(xp);
    json_object *pc, *rd;

    for (int i = 0; i < crew_n; i++) {
        const char *rk = rank_for(done_of(&crew[i]));
        done += done_of(&crew[i]);
        active += !crew[i].inactive;
        for (int k = 0; k < 5; k++)
            per_rank[k] += strcmp(rk, ranks[k]) == 0;
    }
    fx_get("/api/analytics/users/advanced-stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT(has_keys(r.json, (const char *const[]){"total_users", "experience_percentiles",
                                                     "rank_distribution", "avg_missions_per_user",
                                                     "active_ratio"}, 5));
    CU_ASSERT_EQUAL(http_jint(&r, "total_users"), n);
    pc = fx_jget(r.json, "experience_percentiles");
    CU_ASSERT(has_keys(pc, (const char *const[]){"p25", "p50", "p75", "p90"}, 4));
    CU_ASSERT_NEAR(fx_jdbl(pc, "p25"), quantile(xp, n, 0.25), 0.01);
    CU_ASSERT_NEAR(fx_jdbl(pc, "p50"), quantile(xp, n, 0.50), 0.01);
    CU_ASSERT_NEAR(fx_jdbl(pc, "p75"), quantile(xp, n, 0.75), 0.01);
    CU_ASSERT_NEAR(fx_jdbl(pc, "p90"), quantile(xp, n, 0.90), 0.01);
    rd = fx_jget(r.json, "rank_distribution");
    CU_ASSERT_FATAL(rd != NULL && json_object_is_type(rd, json_type_object));
    for (int k = 0; k < 5; k++) {
        long long got = json_object_object_get_ex(rd, ranks[k], NULL) ? fx_jint(rd, ranks[k]) : 0;
        if (got != per_rank[k])
            fprintf(stderr, "\n    rank_distribution[%s]: got %lld, want %ld\n", ranks[k], got,
                    per_rank[k]);
        CU_ASSERT_EQUAL(got, per_rank[k]);
    }
    json_object_object_foreach(rd, key, val) { /* nothing but the five ranks */
        bool known = false;
        for (int k = 0; k < 5; k++)
            known = known || strcmp(key, ranks[k]) == 0;
        CU_ASSERT(known && json_object_is_type(val, json_type_int));
    }
    CU_ASSERT_NEAR(http_jnum(&r, "avg_missions_per_user"), (double)done / n, 0.01);
    CU_ASSERT_NEAR(http_jnum(&r, "active_ratio"), (double)active / n, 0.01);
    http_resp_free(&r);
}

static void check_mission_stats(void)
{
    struct http_resp r;
    json_object *list, *e;
    size_t k = 0;

    fx_get("/api/analytics/missions/stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT(has_keys(r.json, (const char *const[]){"missions"}, 1));
    list = fx_jget(r.json, "missions");
    CU_ASSERT_FATAL(list != NULL && json_object_is_type(list, json_type_array));
    for (int mid = 1; mid <= 13; mid++) {
        long rows = 0, done = 0;
        double sum = 0;
        for (int i = 0; i < crew_n; i++)
            for (int j = 0; j < crew[i].n; j++)
                if (crew[i].a[j].mission == mid) {
                    rows++;
                    done += crew[i].a[j].done;
                    sum += row_score(&crew[i].a[j]);
                }
        if (rows == 0)
            continue; /* missions nobody touched are absent */
        e = json_object_array_get_idx(list, k++);
        CU_ASSERT_FATAL(e != NULL);
        CU_ASSERT(has_keys(e, (const char *const[]){"mission_id", "mission_name", "total_attempts",
                                                    "completion_rate", "average_score"}, 5));
        CU_ASSERT_EQUAL(fx_jint(e, "mission_id"), mid);
        CU_ASSERT_STREQ(fx_jstr(e, "mission_name"), catalogue[mid]);
        CU_ASSERT_EQUAL(fx_jint(e, "total_attempts"), rows);
        CU_ASSERT_NEAR(fx_jdbl(e, "completion_rate"), round2(100.0 * done / rows), 0.001);
        CU_ASSERT_NEAR(fx_jdbl(e, "average_score"), round2(sum / rows), 0.001);
    }
    CU_ASSERT_EQUAL(json_object_array_length(list), k);
    http_resp_free(&r);
}

/* The members in leaderboard order (XP desc, then id asc), admin as -1. */
static int board_order(int *order)
{
    int n = 0;

    order[n++] = -1;
    for (int i = 0; i < crew_n; i++)
        order[n++] = i;
    for (int i = 1; i < n; i++) /* insertion sort on (xp desc, id asc) */
        for (int j = i; j > 0; j--) {
            int a = order[j - 1], b = order[j];
            long xa = a < 0 ? 0 : xp_of(&crew[a]), xb = b < 0 ? 0 : xp_of(&crew[b]);
            long ia = a < 0 ? admin_id : crew[a].id, ib = b < 0 ? admin_id : crew[b].id;
            if (xa > xb || (xa == xb && ia < ib))
                break;
            order[j - 1] = b;
            order[j] = a;
        }
    return n;
}

/* GET the leaderboard with limit (0: none) and checks its first `strict`
 * entries against board_order; returns the entry count. */
static size_t check_leaderboard(int limit, int strict)
{
    struct http_resp r;
    char path[96];
    int order[CREW + 1];
    json_object *list, *e;
    size_t n;

    board_order(order);
    if (limit > 0)
        snprintf(path, sizeof(path), "/api/analytics/leaderboard?limit=%d", limit);
    else
        snprintf(path, sizeof(path), "/api/analytics/leaderboard");
    fx_get(path, NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT(has_keys(r.json, (const char *const[]){"leaderboard"}, 1));
    list = fx_jget(r.json, "leaderboard");
    CU_ASSERT_FATAL(list != NULL && json_object_is_type(list, json_type_array));
    n = json_object_array_length(list);
    CU_ASSERT(n >= (size_t)strict);
    for (size_t i = 0; i < n; i++) {
        e = json_object_array_get_idx(list, i);
        CU_ASSERT(has_keys(e, (const char *const[]){"rank", "username", "guild_rank",
                                                    "experience_points", "missions_completed"}, 5));
        CU_ASSERT_EQUAL(fx_jint(e, "rank"), (long long)i + 1);
        if (i >= (size_t)strict)
            continue;
        const struct member *m = order[i] < 0 ? NULL : &crew[order[i]];
        if (!fx_streq(fx_jstr(e, "username"), m ? m->name : admin_name))
            fprintf(stderr, "\n    leaderboard[%zu]: got %s, want %s\n", i, fx_jstr(e, "username"),
                    m ? m->name : admin_name);
        CU_ASSERT_STREQ(fx_jstr(e, "username"), m ? m->name : admin_name);
        CU_ASSERT_EQUAL(fx_jint(e, "experience_points"), m ? xp_of(m) : 0);
        CU_ASSERT_EQUAL(fx_jint(e, "missions_completed"), m ? done_of(m) : 0);
        CU_ASSERT_STREQ(fx_jstr(e, "guild_rank"), rank_for(m ? done_of(m) : 0));
    }
    http_resp_free(&r);
    return n;
}

static void check_performance(const struct member *m)
{
    struct http_resp r;
    char path[96];
    long rows = m->n, done = done_of(m);
    double sum = 0;
    json_object *list, *e;

    for (int i = 0; i < m->n; i++)
        sum += row_score(&m->a[i]);
    snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", m->id);
    fx_get(path, admin_token, &r); /* an active caller; m itself may be inactive */
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "user_id"), m->id);
    CU_ASSERT_STREQ(http_jstr(&r, "username"), m->name);
    CU_ASSERT_STREQ(http_jstr(&r, "guild_rank"), rank_for(done));
    CU_ASSERT_EQUAL(http_jint(&r, "total_experience"), xp_of(m));
    CU_ASSERT_EQUAL(http_jint(&r, "missions_attempted"), rows);
    CU_ASSERT_EQUAL(http_jint(&r, "missions_completed"), done);
    CU_ASSERT_NEAR(http_jnum(&r, "completion_rate"), rows ? round2(100.0 * done / rows) : 0.0, 0.001);
    CU_ASSERT_NEAR(http_jnum(&r, "average_score"), rows ? round2(sum / rows) : 0.0, 0.001);
    list = fx_jget(r.json, "missions");
    CU_ASSERT_FATAL(list != NULL && json_object_is_type(list, json_type_array));
    CU_ASSERT_EQUAL(json_object_array_length(list), (size_t)rows);
    for (int i = 0; i < m->n; i++) {
        bool found = false;
        for (size_t j = 0; j < json_object_array_length(list); j++) {
            e = json_object_array_get_idx(list, j);
            if (fx_jint(e, "mission_id") != m->a[i].mission)
                continue;
            found = true;
            CU_ASSERT_STREQ(fx_jstr(e, "status"), m->a[i].done ? "completed" : "in_progress");
            CU_ASSERT_NEAR(fx_jdbl(e, "score"), row_score(&m->a[i]), 0.001);
        }
        CU_ASSERT(found);
    }
    http_resp_free(&r);
}

/* ---- tests ------------------------------------------------------------- */

/* Only the admin: every figure consistent, nothing divides by zero. */
static void t_admin_only(void)
{
    struct http_resp r;
    json_object *pc, *list;

    reset_data();
    fx_get("/api/analytics/users/stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "total_users"), 1);
    CU_ASSERT_EQUAL(http_jint(&r, "active_users"), 1);
    CU_ASSERT_EQUAL(http_jint(&r, "total_missions_completed"), 0);
    CU_ASSERT_NEAR(http_jnum(&r, "average_experience"), 0.0, 0.0001);
    http_resp_free(&r);

    fx_get("/api/analytics/users/advanced-stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "total_users"), 1);
    pc = fx_jget(r.json, "experience_percentiles");
    CU_ASSERT_NEAR(fx_jdbl(pc, "p25"), 0.0, 0.0001);
    CU_ASSERT_NEAR(fx_jdbl(pc, "p90"), 0.0, 0.0001);
    CU_ASSERT_EQUAL(fx_jint(fx_jget(r.json, "rank_distribution"), "Apprentice"), 1);
    CU_ASSERT_NEAR(http_jnum(&r, "avg_missions_per_user"), 0.0, 0.0001);
    CU_ASSERT_NEAR(http_jnum(&r, "active_ratio"), 1.0, 0.0001);
    http_resp_free(&r);

    fx_get("/api/analytics/missions/stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    list = fx_jget(r.json, "missions");
    CU_ASSERT(list != NULL && json_object_is_type(list, json_type_array) &&
              json_object_array_length(list) == 0);
    http_resp_free(&r);

    fx_get("/api/analytics/leaderboard", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    list = fx_jget(r.json, "leaderboard");
    CU_ASSERT_FATAL(list != NULL && json_object_array_length(list) == 1);
    CU_ASSERT_STREQ(fx_jstr(json_object_array_get_idx(list, 0), "username"), admin_name);
    CU_ASSERT_EQUAL(fx_jint(json_object_array_get_idx(list, 0), "rank"), 1);
    http_resp_free(&r);

    {
        char path[96];
        snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", admin_id);
        fx_get(path, admin_token, &r);
        CU_ASSERT_FATAL(fx_expect(&r, 200));
        CU_ASSERT_EQUAL(http_jint(&r, "missions_attempted"), 0);
        CU_ASSERT_EQUAL(http_jint(&r, "missions_completed"), 0);
        CU_ASSERT_NEAR(http_jnum(&r, "completion_rate"), 0.0, 0.0001);
        CU_ASSERT_NEAR(http_jnum(&r, "average_score"), 0.0, 0.0001);
        list = fx_jget(r.json, "missions");
        CU_ASSERT(list != NULL && json_object_array_length(list) == 0);
        http_resp_free(&r);
    }
}

static void t_build(void)
{
    reset_data();
    for (int i = 0; i < crew_n; i++)
        build_member(&crew[i], i);
    for (int i = 1; i < crew_n; i++)
        CU_ASSERT_FATAL(crew[i].id > crew[i - 1].id && crew[0].id > admin_id);
    CU_ASSERT_FATAL(fx_sql_long("SELECT COUNT(*) FROM users") == crew_n + 1);
    built = true;
}

static void t_user_stats(void)
{
    CU_ASSERT_FATAL(built);
    check_user_stats();
}

static void t_advanced_stats(void)
{
    long xp[CREW + 1];
    int n = all_xp(xp);
    double p90 = quantile(xp, n, 0.90);

    CU_ASSERT_FATAL(built);
    CU_ASSERT(p90 != floor(p90)); /* the dataset makes p90 interpolate */
    check_advanced_stats();
}

static void t_mission_stats(void)
{
    CU_ASSERT_FATAL(built);
    check_mission_stats();
}

static void t_leaderboard(void)
{
    struct http_resp r;
    static const char *const bad[] = {"0", "101", "abc", "-1", "1.5"};
    char path[96];

    CU_ASSERT_FATAL(built);
    /* the inactive member (0 XP, highest id) is last if listed at all */
    size_t n = check_leaderboard(0, crew_n);
    CU_ASSERT(n == (size_t)crew_n || n == (size_t)crew_n + 1);
    CU_ASSERT_EQUAL(check_leaderboard(3, 3), 3);
    CU_ASSERT_EQUAL(check_leaderboard(1, 1), 1);
    n = check_leaderboard(100, crew_n);
    CU_ASSERT(n == (size_t)crew_n || n == (size_t)crew_n + 1);
    /* the tie: crew[5] and crew[6] both have 20 XP; the lower id comes first */
    CU_ASSERT_FATAL(xp_of(&crew[5]) == xp_of(&crew[6]));

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(path, sizeof(path), "/api/analytics/leaderboard?limit=%s", bad[i]);
        fx_get(path, NULL, &r);
        if (!expect_422(&r, "query", "limit"))
            fprintf(stderr, "    limit=%s\n", bad[i]);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }
}

static void t_performance(void)
{
    struct http_resp r;
    char path[96];

    CU_ASSERT_FATAL(built);
    for (int i = 0; i < crew_n; i++)
        check_performance(&crew[i]);

    /* any active user may look at anyone's performance */
    snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", crew[2].id);
    fx_get(path, crew[1].token, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "total_experience"), xp_of(&crew[2]));
    http_resp_free(&r);

    fx_get(path, NULL, &r);
    CU_ASSERT(fx_expect_detail(&r, 401, "Could not validate credentials"));
    http_resp_free(&r);
    fx_get(path, crew[7].token, &r); /* the inactive member's token */
    CU_ASSERT(fx_expect_detail(&r, 403, "Inactive user"));
    http_resp_free(&r);
    snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", crew[CREW - 1].id + 1000);
    fx_get(path, crew[0].token, &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);
    fx_get("/api/analytics/users/abc/performance", crew[0].token, &r);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);
}

/* Every route read twice (a cache fill, then a likely hit), then a write:
 * the next reads show it at once. */
static void t_writes_show_up(void)
{
    struct http_resp r;
    struct member *m = &crew[4]; /* had 1 started mission, 0 XP */
    char path[160];

    CU_ASSERT_FATAL(built);
    for (int pass = 0; pass < 2; pass++) {
        check_user_stats();
        check_advanced_stats();
        check_mission_stats();
        check_leaderboard(3, 3);
        check_performance(m);
    }

    /* finish the started mission and six new ones: m becomes Journeyman */
    static const struct attempt more[] = {{1, 100, true}, {8, 100, true}, {9, 85, true},
                                          {10, 100, true}, {11, 100, true}, {12, 100, true},
                                          {13, 100, true}};
    for (size_t i = 0; i < sizeof(more) / sizeof(more[0]); i++) {
        snprintf(path, sizeof(path), "/api/users/%ld/missions/%d/complete?score=%d", m->id,
                 more[i].mission, more[i].score);
        CU_ASSERT_FATAL(http_send("POST", path, m->token, NULL, NULL, &r) == 0);
        CU_ASSERT(fx_expect(&r, 200));
        http_resp_free(&r);
        if (i == 0)
            m->a[0] = more[0]; /* the started row, now completed */
        else
            m->a[m->n++] = more[i];
        check_leaderboard(3, 3);
        check_performance(m);
    }
    CU_ASSERT_STREQ(rank_for(done_of(m)), "Journeyman");
    check_user_stats();
    check_advanced_stats();
    check_mission_stats();
    check_leaderboard(0, crew_n);

    /* the admin reactivates the inactive member: now listed everywhere */
    snprintf(path, sizeof(path), "/api/users/%ld", crew[7].id);
    CU_ASSERT_FATAL(http_send("PUT", path, admin_token, FX_JSON_CT, "{\"is_active\":true}", &r) == 0);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    crew[7].inactive = false;
    check_user_stats();
    check_advanced_stats();
    CU_ASSERT_EQUAL(check_leaderboard(0, crew_n + 1), (size_t)crew_n + 1);

    /* a deleted user (the leader, with 7 completions) leaves every figure */
    snprintf(path, sizeof(path), "/api/users/%ld", crew[2].id);
    CU_ASSERT_FATAL(http_send("DELETE", path, admin_token, NULL, NULL, &r) == 0);
    CU_ASSERT_EQUAL(r.status, 204);
    http_resp_free(&r);
    memmove(&crew[2], &crew[3], sizeof(crew[0]) * (size_t)(crew_n - 3));
    crew_n--;
    check_user_stats();
    check_advanced_stats();
    check_mission_stats();
    CU_ASSERT_EQUAL(check_leaderboard(0, crew_n + 1), (size_t)crew_n + 1);
    check_performance(m - 1); /* m moved down one slot */
}

/* Enough users for the default limit to bite: exactly 10 entries unless a
 * limit says otherwise. Runs last: the extra users are not in the table. */
static void t_leaderboard_default_limit(void)
{
    struct http_resp r;
    char name[64], body[512];
    json_object *list;
    long long total;

    CU_ASSERT_FATAL(built);
    for (int i = 0; i < 5; i++) {
        snprintf(name, sizeof(name), "anx%d_%d", (int)getpid(), i);
        snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
                 name, name, FX_PASSWORD);
        CU_ASSERT_FATAL(http_send("POST", "/api/users", NULL, FX_JSON_CT, body, &r) == 0);
        CU_ASSERT(fx_expect(&r, 201));
        http_resp_free(&r);
    }
    fx_get("/api/analytics/users/stats", NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    total = http_jint(&r, "total_users");
    http_resp_free(&r);
    CU_ASSERT_FATAL(total == fx_sql_long("SELECT COUNT(*) FROM users") && total > 11);

    fx_get("/api/analytics/leaderboard", NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    list = fx_jget(r.json, "leaderboard");
    CU_ASSERT(list != NULL && json_object_array_length(list) == 10);
    http_resp_free(&r);
    fx_get("/api/analytics/leaderboard?limit=11", NULL, &r);
    list = fx_jget(r.json, "leaderboard");
    CU_ASSERT(list != NULL && json_object_array_length(list) == 11);
    http_resp_free(&r);
    fx_get("/api/analytics/leaderboard?limit=100", NULL, &r);
    list = fx_jget(r.json, "leaderboard");
    CU_ASSERT(list != NULL && (long long)json_object_array_length(list) == total);
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
        CU_ASSERT_EQUAL(fx_jint(json_object_array_get_idx(list, i), "rank"), (long long)i + 1);
    http_resp_free(&r);
}

static int suite_setup(void)
{
    if (fx_admin_setup(admin_name, sizeof(admin_name), admin_token, sizeof(admin_token), &admin_id) != 0)
        fprintf(stderr, "no admin token: the analytics suite cannot build its dataset\n");
    return 0;
}

int main(void)
{
    static const struct test_case cases[] = {
        {"only the admin: consistent zeros", t_admin_only},
        {"build the dataset through the API", t_build},
        {"users/stats", t_user_stats},
        {"users/advanced-stats: percentiles, ranks, ratios", t_advanced_stats},
        {"missions/stats: per mission, ordered, rounded", t_mission_stats},
        {"leaderboard: order, ties, limit", t_leaderboard},
        {"users/{id}/performance", t_performance},
        {"writes show up in every figure at once", t_writes_show_up},
        {"leaderboard: default limit 10", t_leaderboard_default_limit},
        {NULL, NULL},
    };
    return fx_run_suite("integration_analytics", cases, suite_setup, NULL);
}
