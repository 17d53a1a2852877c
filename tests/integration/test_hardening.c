/* Integration: regressions for the holes issue 10's review found around the
 * edges, one test per defect class, through nginx against the test stack:
 *   1. one account, one login limiter bucket, whatever the spelling of the
 *      username (the column's collation ignores trailing spaces);
 *   2. /metrics refused to a non-allowed peer for every spelling of its path;
 *   3. a decoded NUL (or invalid UTF-8) in a query or form value is a 422
 *      naming the field, never a C string cut short;
 *   4. a repeated query parameter: the last value counts (Starlette's rule);
 *   5. a password change ends every older token, and a refresh chain ends
 *      GUILD_TOKEN_MAX_AGE_MINUTES after the password was presented;
 *   8. limiter keys split one way only: IPv6 addresses hold ':' too, and one
 *      address has one spelling.
 * Clients other than 127.0.0.1 are named through X-Forwarded-For from
 * 127.0.0.2, which the test stack trusts as a proxy (tests/integration/test.conf). */
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

#define PROXY "127.0.0.2"
#define LOGIN_LIMIT 5 /* GUILD_RATE_LIMIT_LOGIN of the test stack: 5/300 */

static char admin_token[2048];
static unsigned ip_seq;

/* A client address no other test (or run) uses: the login limiter's window
 * is 300 s, so every test starts from an empty bucket. */
static void uniq_ip4(char *buf, size_t sz)
{
    unsigned pid = (unsigned)getpid();

    ip_seq++;
    snprintf(buf, sz, "10.%u.%u.%u", (pid >> 8) & 255u, pid & 255u, (ip_seq + 100) & 255u);
}

/* POST /api/auth/token with a raw form body, on behalf of client ip (NULL:
 * straight from 127.0.0.1). No 429 retry. */
static void login_raw(const char *ip, const char *form, struct http_resp *r)
{
    char xff[128];
    const char *h[] = {"Content-Type: " FX_FORM_CT, ip ? xff : NULL, NULL};

    snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", ip ? ip : "");
    CU_ASSERT_FATAL(ip ? http_request_from(PROXY, "POST", "/api/auth/token", h, form,
                                           strlen(form), r) == 0
                       : http_request("POST", "/api/auth/token", h, form, strlen(form), r) == 0);
}

/* A login of name (form-encoded as given) with password pw from ip. */
static long login_status(const char *ip, const char *name_enc, const char *pw)
{
    char form[1024];
    struct http_resp r;
    long st;

    snprintf(form, sizeof(form), "username=%s&password=%s", name_enc, pw);
    login_raw(ip, form, &r);
    st = r.status;
    if (st != 200 && st != 401 && st != 429)
        fx_show(&r, "login");
    http_resp_free(&r);
    return st;
}

static long create_user(const char *name)
{
    long id;

    fx_register("/api/users", name, FX_PASSWORD, &id);
    return id;
}

/* ---- 1. one account, one bucket ---------------------------------------- */

static void t_login_spellings_share_a_bucket(void)
{
    char name[64], enc[1024], ip[32];
    struct http_resp r;
    size_t n;

    fx_uniq(name, sizeof(name), "hdsp");
    CU_ASSERT_FATAL(create_user(name) > 0);
    uniq_ip4(ip, sizeof(ip));
    /* five wrong guesses, each with a different number of trailing spaces */
    for (int i = 0; i < LOGIN_LIMIT; i++) {
        n = (size_t)snprintf(enc, sizeof(enc), "%s", name);
        for (int k = 0; k < i * 50 && n + 4 < sizeof(enc); k++)
            n += (size_t)snprintf(enc + n, sizeof(enc) - n, "+");
        CU_ASSERT_EQUAL(login_status(ip, enc, "wrong-password-x"), 401);
    }
    /* the sixth, spelled yet another way and with the right password: the
     * account's bucket is full (before the fix each spelling had its own) */
    snprintf(enc, sizeof(enc), "%s%%20%%20%%20", name);
    CU_ASSERT_EQUAL(login_status(ip, enc, FX_PASSWORD), 429);
    CU_ASSERT_EQUAL(login_status(ip, name, FX_PASSWORD), 429);

    /* from another address the trailing-space spelling logs into the same
     * account: the database compares it so, and the limiter agrees */
    uniq_ip4(ip, sizeof(ip));
    snprintf(enc, sizeof(enc), "%s++", name);
    CU_ASSERT_EQUAL(login_status(ip, enc, FX_PASSWORD), 200);

    /* registration refuses leading and trailing spaces: what a client
     * registers is exactly what it logs in with */
    {
        char body[256];
        static const struct {
            const char *before, *after;
        } bad[] = {{" ", ""}, {"", " "}, {"", "   "}, {"  ", "  "}};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            char spelled[80];
            snprintf(spelled, sizeof(spelled), "%s%s%s", bad[i].before, name, bad[i].after);
            snprintf(body, sizeof(body),
                     "{\"username\":\"%s\",\"email\":\"sp%u%s@example.com\",\"password\":\"%s\"}",
                     spelled, fx_seq(), name, FX_PASSWORD);
            fx_call("POST", "/api/auth/register", NULL, body, &r);
            CU_ASSERT(fx_expect_422(&r, "body", "username", "string_pattern_mismatch"));
            http_resp_free(&r);
        }
    }
}

/* ---- 8. limiter keys split one way only ---------------------------------- */

static void t_ipv6_keys_unambiguous(void)
{
    char victim[64], joined[80], enc[160];
    unsigned tag = (unsigned)getpid() & 0xffffu;
    char a[64], b[64];

    /* ("2001:db8:<tag>::1:5", "<victim>") against
     * ("2001:db8:<tag>::1", "5:<victim>"): joined with ':' both made
     * "...::1:5:<victim>" */
    fx_uniq(victim, sizeof(victim), "hdv6");
    snprintf(joined, sizeof(joined), "5:%s", victim);
    CU_ASSERT_FATAL(create_user(victim) > 0);
    {
        char body[256];
        struct http_resp r;
        snprintf(body, sizeof(body),
                 "{\"username\":\"%s\",\"email\":\"j%s@example.com\",\"password\":\"%s\"}",
                 joined, victim, FX_PASSWORD);
        fx_call("POST", "/api/users", NULL, body, &r);
        CU_ASSERT_FATAL(fx_expect(&r, 201));
        http_resp_free(&r);
    }
    snprintf(a, sizeof(a), "2001:db8:%x::1:5", tag);
    snprintf(b, sizeof(b), "2001:db8:%x::1", tag);
    for (int i = 0; i < LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login_status(a, victim, "wrong-password-y"), 401);
    CU_ASSERT_EQUAL(login_status(a, victim, FX_PASSWORD), 429);
    snprintf(enc, sizeof(enc), "5%%3A%s", victim);
    CU_ASSERT_EQUAL(login_status(b, enc, FX_PASSWORD), 200);

    /* one address, one spelling: the bucket filled under one spelling is
     * full under any other */
    snprintf(a, sizeof(a), "2001:db8:%x:0:0:0:0:7", tag);
    snprintf(b, sizeof(b), "2001:DB8:%X::7", tag);
    for (int i = 0; i < LOGIN_LIMIT; i++)
        CU_ASSERT_EQUAL(login_status(a, victim, "wrong-password-z"), 401);
    CU_ASSERT_EQUAL(login_status(b, victim, FX_PASSWORD), 429);
    CU_ASSERT_EQUAL(login_status("::ffff:10.250.1.1", victim, "wrong-password-w"), 401);
}

/* ---- 2. /metrics: every spelling --------------------------------------- */

static void t_metrics_every_spelling(void)
{
    static const char *const spellings[] = {
        "/metrics", "/metrics/", "/metrics//", "/metrics/.", "/metrics/./", "//metrics",
        "/metrics/../metrics", "/%6detrics", "/metrics%2F", "/metrics?x=1", "/metrics/?x=1",
    };
    struct http_resp r;

    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        /* from a loopback address that is not allowed */
        CU_ASSERT_FATAL(http_request_from(PROXY, "GET", spellings[i], NULL, NULL, 0, &r) == 0);
        if (r.status != 403 || strstr(r.body, "guild_requests_total") != NULL)
            fprintf(stderr, "    %s from %s: %ld\n", spellings[i], PROXY, r.status);
        CU_ASSERT_EQUAL(r.status, 403);
        CU_ASSERT(fx_is_json_ct(&r));
        CU_ASSERT_PTR_NULL(strstr(r.body, "guild_"));
        http_resp_free(&r);
        /* control: the allowed address reads it under the same spelling */
        CU_ASSERT_FATAL(http_request("GET", spellings[i], NULL, NULL, 0, &r) == 0);
        if (r.status != 200)
            fprintf(stderr, "    %s from 127.0.0.1: %ld\n", spellings[i], r.status);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "guild_"));
        http_resp_free(&r);
    }
}

/* ---- 3. decoded NUL and invalid UTF-8 ------------------------------------ */

static void t_nul_in_values(void)
{
    static const struct {
        const char *method, *path, *field;
        bool admin;
    } cases[] = {
        {"DELETE", "/api/cache/clear?pattern=x%00*", "pattern", true},
        {"GET", "/api/analytics/leaderboard?limit=3%00zz", "limit", false},
        {"GET", "/api/users?guild_rank=Apprentice%00xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "guild_rank",
         false},
        {"GET", "/api/users?limit=1%00", "limit", false},
        {"GET", "/api/users?guild_rank=%FF%FE", "guild_rank", false},
        {"GET", "/api/analytics/leaderboard?limit=%C3", "limit", false},
    };
    char name[64], tok[2048], form[512];
    struct http_resp r;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_FATAL(http_send(cases[i].method, cases[i].path,
                                  cases[i].admin ? admin_token : NULL, NULL, NULL, &r) == 0);
        if (!fx_expect_422(&r, "query", cases[i].field, NULL))
            fprintf(stderr, "    %s %s\n", cases[i].method, cases[i].path);
        http_resp_free(&r);
    }
    /* the truncated value was never served, nor cached under its prefix */
    fx_get("/api/analytics/leaderboard?limit=3%00zz", NULL, &r);
    CU_ASSERT_EQUAL(r.status, 422);
    CU_ASSERT_PTR_NULL(fx_jget(r.json, "leaderboard"));
    http_resp_free(&r);

    /* logins: a NUL after the right username or password is no login */
    fx_new_user("/api/auth/register", "hdnul", name, sizeof(name), tok, sizeof(tok));
    snprintf(form, sizeof(form), "username=%s%%00junk&password=%s", name, FX_PASSWORD);
    login_raw(NULL, form, &r);
    CU_ASSERT(fx_expect_422(&r, "body", "username", NULL));
    CU_ASSERT_PTR_NULL(http_jstr(&r, "access_token"));
    http_resp_free(&r);
    snprintf(form, sizeof(form), "username=%s&password=%s%%00junk", name, FX_PASSWORD);
    login_raw(NULL, form, &r);
    CU_ASSERT(fx_expect_422(&r, "body", "password", NULL));
    CU_ASSERT_PTR_NULL(http_jstr(&r, "access_token"));
    http_resp_free(&r);
    /* control: the same body without the NUL logs in */
    snprintf(form, sizeof(form), "username=%s&password=%s", name, FX_PASSWORD);
    login_raw(NULL, form, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
}

/* ---- 4. duplicate parameters: the last one ------------------------------ */

static void t_duplicate_params_last_wins(void)
{
    char name[64], tok[2048], form[512];
    struct http_resp r;
    json_object *lb;

    /* at least three users exist (the suites create many) */
    for (int i = 0; i < 3; i++) {
        fx_uniq(name, sizeof(name), "hddup");
        CU_ASSERT_FATAL(create_user(name) > 0);
    }
    fx_get("/api/users?limit=1&limit=3", NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT(r.json != NULL && json_object_array_length(r.json) == 3);
    http_resp_free(&r);
    fx_get("/api/analytics/leaderboard?limit=1&limit=2", NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    lb = fx_jget(r.json, "leaderboard");
    CU_ASSERT(lb != NULL && json_object_array_length(lb) == 2);
    http_resp_free(&r);
    /* a bad last value fails even after a good first one, and vice versa */
    fx_get("/api/analytics/leaderboard?limit=5&limit=500", NULL, &r);
    CU_ASSERT(fx_expect_422(&r, "query", "limit", NULL));
    http_resp_free(&r);
    fx_get("/api/analytics/leaderboard?limit=500&limit=5", NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    /* form bodies too: the last password is the one checked */
    fx_new_user("/api/auth/register", "hddup", name, sizeof(name), tok, sizeof(tok));
    snprintf(form, sizeof(form), "username=%s&password=wrong-one&password=%s", name, FX_PASSWORD);
    login_raw(NULL, form, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    snprintf(form, sizeof(form), "username=%s&password=%s&password=wrong-one", name, FX_PASSWORD);
    login_raw(NULL, form, &r);
    CU_ASSERT(fx_expect_detail(&r, 401, "Incorrect username or password"));
    http_resp_free(&r);
}

/* ---- 5. tokens end with a password change; refresh chains end ---------- */

static void get_me(const char *tok, struct http_resp *r)
{
    fx_get("/api/users/me", tok, r);
}

static void t_password_change_ends_tokens(void)
{
    char name[64], tok1[2048], tok2[2048], tok3[2048], path[64];
    struct http_resp r;
    long id = fx_new_user("/api/auth/register", "hdpw", name, sizeof(name), tok1, sizeof(tok1));

    CU_ASSERT_EQUAL(fx_login(name, FX_PASSWORD, tok2, sizeof(tok2)), 200);
    snprintf(path, sizeof(path), "/api/users/%ld", id);
    /* a change of something else leaves tokens alone */
    fx_call("PUT", path, tok1, "{\"full_name\":\"Still Me\"}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    get_me(tok2, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    /* the password changes (with tok1): tok1 and tok2 are both dead */
    fx_call("PUT", path, tok1, "{\"password\":\"a-brand-new-password\"}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    get_me(tok1, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    get_me(tok2, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    fx_call("POST", "/api/auth/refresh", tok2, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    /* a new login works */
    CU_ASSERT_EQUAL_FATAL(fx_login(name, "a-brand-new-password", tok3, sizeof(tok3)), 200);
    get_me(tok3, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    /* an admin resetting the password ends the user's tokens too */
    fx_call("PUT", path, admin_token, "{\"password\":\"an-admin-set-password\"}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    get_me(tok3, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
}

/* A token for (id, name) signed with the stack's key, with the given
 * version and chain start; fatal when JWT_SECRET is unknown. */
static void forge(long id, const char *name, long ver, long auth_time, long iat, long exp,
                  char *out, size_t sz)
{
    const char *secret = getenv("JWT_SECRET");
    char payload[512];

    CU_ASSERT_FATAL(secret != NULL);
    snprintf(payload, sizeof(payload),
             "{\"sub\":\"%s\",\"uid\":%ld,\"iat\":%ld,\"exp\":%ld,\"jti\":\"hd%08x%08x\","
             "\"ver\":%ld,\"auth_time\":%ld}",
             name, id, iat, exp, fx_seq(), (unsigned)getpid(), ver, auth_time);
    CU_ASSERT_FATAL(fx_sign_hs256(secret, payload, out, sz) == 0);
}

static void t_refresh_chain_ends(void)
{
    const long max_age = 1440L * 60; /* GUILD_TOKEN_MAX_AGE_MINUTES' default */
    char name[64], tok[2048], forged[2048], path[64];
    struct http_resp r;
    long now = (long)time(NULL), id, exp;
    json_object *claims;

    id = fx_new_user("/api/auth/register", "hdrf", name, sizeof(name), tok, sizeof(tok));
    /* a login's token carries its chain start and version */
    claims = fx_jwt_part(tok, 1);
    CU_ASSERT_FATAL(claims != NULL);
    CU_ASSERT(fx_jint(claims, "ver") == 0);
    CU_ASSERT(llabs(fx_jint(claims, "auth_time") - now) <= 5);
    json_object_put(claims);
    /* a refresh keeps the chain start */
    fx_call("POST", "/api/auth/refresh", tok, NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    claims = fx_jwt_part(http_jstr(&r, "access_token"), 1);
    CU_ASSERT_FATAL(claims != NULL);
    CU_ASSERT(llabs(fx_jint(claims, "auth_time") - now) <= 5);
    json_object_put(claims);
    http_resp_free(&r);

    /* a chain started max_age ago: still a valid token, but no refresh */
    forge(id, name, 0, now - max_age - 5, now - 10, now + 600, forged, sizeof(forged));
    get_me(forged, &r);
    CU_ASSERT(fx_expect(&r, 200)); /* control: the forgery itself is accepted */
    http_resp_free(&r);
    fx_call("POST", "/api/auth/refresh", forged, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    /* a chain with 2 minutes left: the refreshed token ends with it */
    forge(id, name, 0, now - max_age + 120, now - 10, now + 600, forged, sizeof(forged));
    fx_call("POST", "/api/auth/refresh", forged, NULL, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    claims = fx_jwt_part(http_jstr(&r, "access_token"), 1);
    CU_ASSERT_FATAL(claims != NULL);
    exp = fx_jint(claims, "exp");
    CU_ASSERT(exp <= now + 120 + 5 && exp >= now + 60); /* the chain's end, not now + 30 min */
    json_object_put(claims);
    http_resp_free(&r);
    /* a token of an older version (a password changed since) is refused */
    forge(id, name, 0, now, now, now + 600, forged, sizeof(forged));
    snprintf(path, sizeof(path), "/api/users/%ld", id);
    fx_call("PUT", path, tok, "{\"password\":\"yet-another-password\"}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    get_me(forged, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    forge(id, name, 1, now, now, now + 600, forged, sizeof(forged));
    get_me(forged, &r);
    CU_ASSERT(fx_expect(&r, 200)); /* the current version passes */
    http_resp_free(&r);
}

static int suite_setup(void)
{
    fx_admin_token(admin_token, sizeof(admin_token));
    return 0;
}

int main(void)
{
    static const struct test_case cases[] = {
        {"1. login: every spelling of a username is one limiter bucket",
         t_login_spellings_share_a_bucket},
        {"8. limiter keys: IPv6 ':' cannot merge buckets; one spelling per address",
         t_ipv6_keys_unambiguous},
        {"2. /metrics: 403 for a non-allowed peer under every spelling", t_metrics_every_spelling},
        {"3. NUL / invalid UTF-8 in query and form values: 422 naming the field",
         t_nul_in_values},
        {"4. duplicate parameters: the last value counts", t_duplicate_params_last_wins},
        {"5. a password change ends older tokens", t_password_change_ends_tokens},
        {"5. refresh chains end GUILD_TOKEN_MAX_AGE_MINUTES after the login",
         t_refresh_chain_ends},
        {NULL, NULL},
    };
    return fx_run_suite("integration_hardening", cases, suite_setup, NULL);
}
