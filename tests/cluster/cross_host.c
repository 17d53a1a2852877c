/* cross_host: issue 11's cross-host checks, run by `scripts/stack cluster test`
 * inside the load balancer's namespace. Every shared fact lives in MariaDB or
 * Redis, so requests for one user that land on different app hosts must see
 * one state:
 *   1. 15 calls to /api/protected-endpoint alternating between the hosts:
 *      exactly 10 succeed, X-RateLimit-Remaining counts 9..0 across hosts;
 *      the general /api/ limit's Remaining counts down across hosts too;
 *   2. the login brute-force guard: 5 failures spread over both hosts, then
 *      429 on either, also for the right password;
 *   3. a session made through one host is read, listed and ended through
 *      the other; "log out everywhere" and a token's logout are honoured by
 *      the other host at once;
 *   4. 200 random write-then-read pairs: a write through one host, the very
 *      next read through the other shows it (the read's cache entry was
 *      warmed through that other host first, so a missed invalidation would
 *      show as a stale answer).
 * Environment: CLUSTER_HOST1_URL and CLUSTER_HOST2_URL (nginx listeners that
 * reach one app host each), CLUSTER_URL (both, round robin: BASE_URL),
 * CLUSTER_SEED (optional). Expects the cluster's policies: protected 10/60 s,
 * login 5/300 s, the general limit far above this test's calls. Without
 * CLUSTER_URL it exits 77 (skip). */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"
#include "http.h"
#include "testutil.h"

#define PROTECTED "/api/protected-endpoint"
#define PROT_LIMIT 10
#define LOGIN_LIMIT 5
#define ROUNDS 200
#define MISSIONS 13

static const char *host_url[2];

/* Sends the next requests to app host h (0 or 1). */
static void on(int h)
{
    http_set_base(host_url[h]);
}

/* One request on the current host with an optional bearer token and JSON
 * body, no 429 retry (the limits are what some tests check). Fatal on a
 * transport error. */
static void call(const char *method, const char *path, const char *tok, const char *json,
                 struct http_resp *r)
{
    char auth[2100];
    const char *h[3] = {NULL, NULL, NULL};
    int n = 0;

    if (tok != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
        h[n++] = auth;
    }
    if (json != NULL)
        h[n++] = "Content-Type: " FX_JSON_CT;
    CU_ASSERT_FATAL(http_request(method, path, h, json, json ? strlen(json) : 0, r) == 0);
}

static long hdr_long(const struct http_resp *r, const char *name)
{
    char buf[64];

    return http_header(r, name, buf, sizeof(buf)) ? strtol(buf, NULL, 10) : -1;
}

/* A GET for the write-then-read rounds: a 429 (a limit smaller than the
 * cluster's, as on the test stack) waits out its Retry-After and asks again,
 * so that only a wrong answer counts as stale, never a refused one. */
static void get(const char *path, const char *tok, struct http_resp *r)
{
    for (int tries = 0;; tries++) {
        call("GET", path, tok, NULL, r);
        if (r->status != 429 || tries == 3)
            return;
        long wait = hdr_long(r, "Retry-After");
        http_resp_free(r);
        sleep((unsigned)(wait >= 1 && wait <= 65 ? wait : 1));
    }
}

/* A form login on the current host, no 429 retry; the token goes to tok
 * (when not NULL) on 200. Returns the status. */
static long login(const char *name, const char *pw, char *tok, size_t sz)
{
    char form[512];
    const char *h[] = {"Content-Type: " FX_FORM_CT, NULL};
    struct http_resp r;
    long st;

    snprintf(form, sizeof(form), "username=%s&password=%s", name, pw);
    CU_ASSERT_FATAL(http_request("POST", "/api/auth/token", h, form, strlen(form), &r) == 0);
    st = r.status;
    if (tok != NULL && st == 200)
        snprintf(tok, sz, "%s", http_jstr(&r, "access_token") ? http_jstr(&r, "access_token") : "");
    http_resp_free(&r);
    return st;
}

/* ---- 1. rate limits across hosts ----------------------------------------- */

static void t_protected_across_hosts(void)
{
    char name[64], tok[2048];
    int ok = 0, limited = 0;

    on(0);
    fx_new_user("/api/auth/register", "xhp", name, sizeof(name), tok, sizeof(tok));
    printf("\n    15 x GET %s, alternating app hosts:\n", PROTECTED);
    for (int i = 0; i < PROT_LIMIT + 5; i++) {
        struct http_resp r;
        on(i % 2);
        call("GET", PROTECTED, tok, NULL, &r);
        printf("    call %2d via host %d: %ld  X-RateLimit-Remaining: %ld\n", i + 1, i % 2 + 1,
               r.status, hdr_long(&r, "X-RateLimit-Remaining"));
        if (i < PROT_LIMIT) {
            ok += r.status == 200;
            CU_ASSERT_EQUAL(r.status, 200);
            CU_ASSERT_EQUAL(hdr_long(&r, "X-RateLimit-Limit"), PROT_LIMIT);
            CU_ASSERT_EQUAL(hdr_long(&r, "X-RateLimit-Remaining"), PROT_LIMIT - 1 - i);
        } else {
            limited += r.status == 429;
            CU_ASSERT(fx_expect(&r, 429));
            CU_ASSERT(hdr_long(&r, "Retry-After") >= 1);
            CU_ASSERT_EQUAL(hdr_long(&r, "X-RateLimit-Remaining"), 0);
        }
        http_resp_free(&r);
    }
    printf("    %d x 200, %d x 429\n", ok, limited);
    CU_ASSERT_EQUAL(ok, PROT_LIMIT);
    CU_ASSERT_EQUAL(limited, 5);
}

static void t_api_remaining_across_hosts(void)
{
    char name[64], tok[2048];
    long limit = -1, prev = -1;

    on(1);
    fx_new_user("/api/auth/register", "xha", name, sizeof(name), tok, sizeof(tok));
    for (int i = 0; i < 8; i++) {
        struct http_resp r;
        on(i % 2);
        call("GET", "/api/users/me", tok, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        long rem = hdr_long(&r, "X-RateLimit-Remaining");
        if (i == 0)
            limit = hdr_long(&r, "X-RateLimit-Limit");
        else
            CU_ASSERT_EQUAL(rem, prev - 1); /* one window, whichever host counted */
        CU_ASSERT(limit > 0 && rem >= 0 && rem < limit);
        prev = rem;
        http_resp_free(&r);
    }
}

/* ---- 2. the brute-force guard across hosts ------------------------------- */

static void t_brute_force_across_hosts(void)
{
    char name[64], tok[2048];

    on(0);
    fx_new_user("/api/auth/register", "xhb", name, sizeof(name), tok, sizeof(tok));
    for (int i = 0; i < LOGIN_LIMIT; i++) {
        on(i % 2);
        CU_ASSERT_EQUAL(login(name, "wrong-password-1", NULL, 0), 401);
    }
    on(LOGIN_LIMIT % 2);
    CU_ASSERT_EQUAL(login(name, "wrong-password-1", NULL, 0), 429);
    for (int h = 0; h < 2; h++) {
        on(h);
        CU_ASSERT_EQUAL(login(name, FX_PASSWORD, NULL, 0), 429); /* locked on both hosts */
    }
    printf("\n    %d failures over both hosts: the next login is 429 on either host\n",
           LOGIN_LIMIT);
}

/* ---- 3. sessions and logout across hosts --------------------------------- */

/* POST /api/sessions through host h; the id goes to id. */
static void new_session(int h, const char *tok, const char *json, char *id, size_t sz)
{
    struct http_resp r;

    on(h);
    call("POST", "/api/sessions", tok, json, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 201));
    snprintf(id, sz, "%s", http_jstr(&r, "session_id") ? http_jstr(&r, "session_id") : "");
    http_resp_free(&r);
}

static long session_status(int h, const char *tok, const char *id)
{
    char path[128];
    struct http_resp r;
    long st;

    snprintf(path, sizeof(path), "/api/sessions/%s", id);
    on(h);
    call("GET", path, tok, NULL, &r);
    st = r.status;
    http_resp_free(&r);
    return st;
}

/* Number of sessions GET /api/sessions lists through host h. */
static int session_count(int h, const char *tok)
{
    struct http_resp r;
    json_object *list;
    int n = -1;

    on(h);
    call("GET", "/api/sessions", tok, NULL, &r);
    if (r.status == 200 && (list = fx_jget(r.json, "sessions")) != NULL &&
        json_object_is_type(list, json_type_array))
        n = (int)json_object_array_length(list);
    http_resp_free(&r);
    return n;
}

static void t_sessions_across_hosts(void)
{
    char name[64], tok[2048], id[64], id2[64], id3[64], path[128];
    struct http_resp r;
    long uid;

    on(0);
    uid = fx_new_user("/api/auth/register", "xhs", name, sizeof(name), tok, sizeof(tok));
    new_session(0, tok, "{\"cart\":[1,2,3],\"note\":\"made on host 1\"}", id, sizeof(id));

    snprintf(path, sizeof(path), "/api/sessions/%s", id);
    on(1);
    call("GET", path, tok, NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_STREQ(http_jstr(&r, "note"), "made on host 1");
    CU_ASSERT_EQUAL(http_jint(&r, "user_id"), uid);
    CU_ASSERT(http_jint(&r, "ttl") > 0);
    http_resp_free(&r);
    CU_ASSERT_EQUAL(session_count(1, tok), 1);

    /* ended on host 2: gone on host 1 at once */
    on(1);
    call("DELETE", path, tok, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    http_resp_free(&r);
    CU_ASSERT_EQUAL(session_status(0, tok, id), 404);

    /* "log out everywhere" through host 1 ends sessions made on host 2 */
    new_session(1, tok, "{\"n\":2}", id2, sizeof(id2));
    new_session(1, tok, "{\"n\":3}", id3, sizeof(id3));
    CU_ASSERT_EQUAL(session_count(0, tok), 2);
    on(0);
    call("DELETE", "/api/sessions", tok, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    http_resp_free(&r);
    CU_ASSERT_EQUAL(session_count(1, tok), 0);
    CU_ASSERT_EQUAL(session_status(1, tok, id2), 404);
    CU_ASSERT_EQUAL(session_status(1, tok, id3), 404);
    printf("\n    session made on host 1 read and ended on host 2; log-out-everywhere on host 1"
           " ended host 2's sessions\n");
}

static void t_logout_across_hosts(void)
{
    char name[64], tok[2048], tok2[2048];
    struct http_resp r;

    on(1);
    fx_new_user("/api/auth/register", "xhl", name, sizeof(name), tok, sizeof(tok));
    on(0);
    CU_ASSERT_FATAL(login(name, FX_PASSWORD, tok2, sizeof(tok2)) == 200);
    for (int h = 0; h < 2; h++) { /* both hosts have seen (and may hold) the token */
        on(h);
        call("GET", "/api/users/me", tok2, NULL, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        http_resp_free(&r);
    }
    on(0);
    call("POST", "/api/auth/logout", tok2, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    http_resp_free(&r);
    for (int h = 1; h >= 0; h--) {
        on(h);
        call("GET", "/api/users/me", tok2, NULL, &r);
        CU_ASSERT(fx_expect_401(&r));
        http_resp_free(&r);
    }
    on(1); /* the user's other token is untouched */
    call("GET", "/api/users/me", tok, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    http_resp_free(&r);
    printf("\n    token logged out on host 1: 401 on host 2 at once\n");
}

/* ---- 4. write through one host, read through the other ------------------- */

enum kind { K_UPDATE, K_START, K_COMPLETE, K_REGISTER, K_KINDS };
static const char *const kind_name[K_KINDS] = {"update user", "start mission", "complete mission",
                                               "register user"};

struct actor {
    char name[64], tok[2048];
    long id;
    int mission[MISSIONS + 1]; /* 0 new, 1 started, 2 completed */
};

static unsigned rnd_state;

static unsigned rnd(unsigned n)
{
    rnd_state = rnd_state * 1103515245u + 12345u;
    return (rnd_state >> 16) % n;
}

/* GET path through host h: the JSON member key (an integer), or -1. */
static long long read_int(int h, const char *path, const char *tok, const char *key)
{
    struct http_resp r;
    long long v;

    on(h);
    get(path, tok, &r);
    v = r.status == 200 ? http_jint(&r, key) : -1;
    if (r.status != 200)
        fx_show(&r, path);
    http_resp_free(&r);
    return v;
}

/* total_attempts of mission m in GET /api/analytics/missions/stats via h. */
static long long mission_attempts(int h, int m)
{
    struct http_resp r;
    json_object *list;
    long long v = -1;

    on(h);
    get("/api/analytics/missions/stats", NULL, &r);
    /* a mission nobody has attempted yet is absent from the list (GROUP BY over
     * mission_progress): 0 attempts, not an unreadable answer */
    if (r.status == 200 && (list = fx_jget(r.json, "missions")) != NULL) {
        v = 0;
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *e = json_object_array_get_idx(list, i);
            if (fx_jint(e, "mission_id") == m)
                v = fx_jint(e, "total_attempts");
        }
    }
    http_resp_free(&r);
    return v;
}

/* The first mission of a in state st, or 0. */
static int mission_in(const struct actor *a, int st)
{
    for (int m = 1; m <= MISSIONS; m++)
        if (a->mission[m] == st)
            return m;
    return 0;
}

static void new_actor(int h, struct actor *a)
{
    memset(a, 0, sizeof(*a));
    on(h);
    a->id = fx_new_user("/api/auth/register", "xhw", a->name, sizeof(a->name), a->tok,
                        sizeof(a->tok));
}

/* One round: reads through r (warming their cache entries), a write through
 * w, the same reads through r again. Returns 1 when every read after the
 * write showed it. */
static int round_trip(enum kind k, int w, int r, struct actor *a, int round)
{
    char path[160], perf[160], body[160];
    struct http_resp resp;
    int fresh = 1;

    snprintf(path, sizeof(path), "/api/users/%ld", a->id);
    snprintf(perf, sizeof(perf), "/api/analytics/users/%ld/performance", a->id);
    switch (k) {
    case K_UPDATE: {
        char want[64];
        (void)read_int(r, path, NULL, "id");
        snprintf(want, sizeof(want), "round %d via host %d", round, w + 1);
        snprintf(body, sizeof(body), "{\"full_name\":\"%s\"}", want);
        on(w);
        call("PUT", path, a->tok, body, &resp);
        CU_ASSERT_EQUAL(resp.status, 200);
        http_resp_free(&resp);
        on(r);
        get(path, NULL, &resp);
        fresh = resp.status == 200 && fx_streq(http_jstr(&resp, "full_name"), want);
        http_resp_free(&resp);
        break;
    }
    case K_START: {
        int m = mission_in(a, 0);
        long long att = read_int(r, perf, a->tok, "missions_attempted"), tot = mission_attempts(r, m);
        char url[96];
        snprintf(url, sizeof(url), "/api/users/%ld/missions", a->id);
        snprintf(body, sizeof(body), "{\"mission_id\":%d}", m);
        on(w);
        call("POST", url, a->tok, body, &resp);
        CU_ASSERT_EQUAL(resp.status, 201);
        http_resp_free(&resp);
        a->mission[m] = 1;
        fresh = read_int(r, perf, a->tok, "missions_attempted") == att + 1 &&
                mission_attempts(r, m) == tot + 1;
        break;
    }
    case K_COMPLETE: {
        int m = mission_in(a, 1) ? mission_in(a, 1) : mission_in(a, 0);
        int score = (int)rnd(101);
        long long xp = read_int(r, path, NULL, "experience_points");
        long long done = read_int(r, "/api/analytics/users/stats", NULL, "total_missions_completed");
        long long pc = read_int(r, perf, a->tok, "missions_completed");
        char url[128];
        snprintf(url, sizeof(url), "/api/users/%ld/missions/%d/complete?score=%d", a->id, m, score);
        on(w);
        call("POST", url, a->tok, NULL, &resp);
        CU_ASSERT_EQUAL(resp.status, 200);
        http_resp_free(&resp);
        a->mission[m] = 2;
        fresh = read_int(r, path, NULL, "experience_points") == xp + score / 10 &&
                read_int(r, "/api/analytics/users/stats", NULL, "total_missions_completed") ==
                    done + 1 &&
                read_int(r, perf, a->tok, "missions_completed") == pc + 1;
        break;
    }
    case K_REGISTER: {
        long long users = read_int(r, "/api/analytics/users/stats", NULL, "total_users");
        long long adv = read_int(r, "/api/analytics/users/advanced-stats", NULL, "total_users");
        new_actor(w, a);
        fresh = read_int(r, "/api/analytics/users/stats", NULL, "total_users") == users + 1 &&
                read_int(r, "/api/analytics/users/advanced-stats", NULL, "total_users") == adv + 1;
        break;
    }
    default:
        break;
    }
    if (!fresh)
        printf("    round %d: %s via host %d, read via host %d: STALE\n", round, kind_name[k],
               w + 1, r + 1);
    return fresh;
}

static void t_write_then_read(void)
{
    struct actor a;
    int per_kind[K_KINDS] = {0}, stale = 0;

    printf("\n    %d x (write via one host, read via the other), seed %u\n", ROUNDS, rnd_state);
    new_actor(0, &a);
    for (int i = 0; i < ROUNDS; i++) {
        enum kind k = (enum kind)rnd(K_KINDS);
        int w = (int)rnd(2);
        if ((k == K_START && !mission_in(&a, 0)) ||
            (k == K_COMPLETE && !mission_in(&a, 0) && !mission_in(&a, 1)))
            k = K_REGISTER; /* this user has done every mission: the next one */
        per_kind[k]++;
        stale += !round_trip(k, w, 1 - w, &a, i + 1);
    }
    for (int k = 0; k < K_KINDS; k++)
        printf("    %-16s %3d rounds\n", kind_name[k], per_kind[k]);
    printf("    stale reads: %d of %d\n", stale, ROUNDS);
    CU_ASSERT_EQUAL(stale, 0);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"15 protected calls over both hosts: exactly 10 succeed", t_protected_across_hosts},
        {"X-RateLimit-Remaining counts down across hosts", t_api_remaining_across_hosts},
        {"the login brute-force guard holds across hosts", t_brute_force_across_hosts},
        {"a session made on one host is read and ended on the other", t_sessions_across_hosts},
        {"a logout on one host is honoured on the other at once", t_logout_across_hosts},
        {"200 writes via one host, each read via the other at once", t_write_then_read},
        {NULL, NULL},
    };
    const char *lb = getenv("CLUSTER_URL"), *seed = getenv("CLUSTER_SEED");

    host_url[0] = getenv("CLUSTER_HOST1_URL");
    host_url[1] = getenv("CLUSTER_HOST2_URL");
    if (lb == NULL || *lb == '\0' || host_url[0] == NULL || host_url[1] == NULL) {
        fprintf(stderr, "CLUSTER_URL, CLUSTER_HOST1_URL, CLUSTER_HOST2_URL not set: run through "
                        "`scripts/stack cluster test` (skipping)\n");
        return 77;
    }
    setenv("BASE_URL", lb, 1);
    rnd_state = seed ? (unsigned)strtoul(seed, NULL, 10) : (unsigned)time(NULL) ^ (unsigned)getpid();
    return fx_run_suite("cross_host", cases, NULL, NULL);
}
