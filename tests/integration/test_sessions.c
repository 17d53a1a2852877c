/* Integration: /api/sessions in the store Redis, through nginx. Create (UUID
 * v4, 24 h, the cookie's exact flags), read back (the server's user_id and
 * created_at, ttl), owner-or-admin access, 404 for unknown, deleted and
 * malformed ids, 413/422/401, the per-user list and "log out everywhere". */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"

#define TTL_S 86400

static char admin_token[2048];

/* ---- helpers -------------------------------------------------------------- */

/* status with some {"detail": "<string>"} body. */
static int expect_some_detail(const struct http_resp *r, long status)
{
    if (fx_expect(r, status) && http_jstr(r, "detail") != NULL)
        return 1;
    fx_show(r, "detail string");
    return 0;
}

/* 204 with no body. */
static int expect_204(const struct http_resp *r)
{
    if (r->status == 204 && r->body_len == 0)
        return 1;
    fx_show(r, "204 without a body");
    return 0;
}

static int expect_404(const struct http_resp *r)
{
    return fx_expect_detail(r, 404, "Session not found");
}

/* 422 in FastAPI's shape with loc starting at "body". */
static int expect_422_body(const struct http_resp *r)
{
    json_object *list, *e, *loc;

    if (fx_expect(r, 422) && json_object_object_get_ex(r->json, "detail", &list) &&
        json_object_is_type(list, json_type_array) && json_object_array_length(list) > 0 &&
        (e = json_object_array_get_idx(list, 0)) != NULL &&
        json_object_object_get_ex(e, "loc", &loc) && json_object_is_type(loc, json_type_array) &&
        fx_streq(json_object_get_string(json_object_array_get_idx(loc, 0)), "body"))
        return 1;
    fx_show(r, "422 at body");
    return 0;
}

/* True for a lowercase RFC 4122 UUID version 4. */
static int is_uuid_v4(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) {
            return 0;
        }
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.fff]Z" into unix seconds; -1 when malformed. */
static long long iso_time(const char *s)
{
    struct tm tm;
    int n = 0;
    const char *p;

    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec, &n) != 6 || n != 19)
        return -1;
    p = s + n;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++)
            ;
    if (p[0] != 'Z' || p[1] != '\0')
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long long)timegm(&tm);
}

/* Runs "$REDIS_STORE_CLI command '<prefix>rest' arg" (arg: digits only or
 * "", e.g. PEXPIRE key 1); the first output line as a number, -100 on failure. */
static long long store_cli_arg(const char *command, const char *rest, const char *arg)
{
    char args[1024];

    snprintf(args, sizeof(args), "%s '%s%s' %s", command, fx_redis_prefix(), rest, arg);
    return fx_cli_long("REDIS_STORE_CLI", args, -100);
}

static long long store_cli(const char *command, const char *rest)
{
    return store_cli_arg(command, rest, "");
}

/* ---- users and sessions ----------------------------------------------------- */

/* A fresh user with a token; returns the id (fatal on failure). */
static long new_user(char *tok, size_t tsz)
{
    char name[64];

    return fx_new_user("/api/users", "ss", name, sizeof(name), tok, tsz);
}

/* POST /api/sessions with json; copies the id into sid on 201 (fatal otherwise). */
static void create_session(const char *tok, const char *json, char *sid, size_t sz)
{
    struct http_resp r;

    fx_call("POST", "/api/sessions", tok, json, &r);
    CU_ASSERT(fx_expect(&r, 201));
    snprintf(sid, sz, "%s", http_jstr(&r, "session_id") ? http_jstr(&r, "session_id") : "");
    http_resp_free(&r);
    CU_ASSERT_FATAL(is_uuid_v4(sid));
}

static void session_req(const char *method, const char *sid, const char *tok, struct http_resp *r)
{
    char path[160]; /* room for the 128-byte sid buffers the tests pass */

    snprintf(path, sizeof(path), "/api/sessions/%s", sid);
    fx_call(method, path, tok, NULL, r);
}

/* GET /api/sessions as tok: the "sessions" array (new reference) or NULL. */
static json_object *list_sessions(const char *tok)
{
    struct http_resp r;
    json_object *a = NULL;

    fx_call("GET", "/api/sessions", tok, NULL, &r);
    if (fx_expect(&r, 200) && json_object_object_length(r.json) == 1 &&
        json_object_object_get_ex(r.json, "sessions", &a) && json_object_is_type(a, json_type_array))
        a = json_object_get(a);
    else {
        fx_show(&r, "{\"sessions\": [...]}");
        a = NULL;
    }
    http_resp_free(&r);
    return a;
}

/* True when the list holds sid (and each entry has the three fields). */
static int list_has(json_object *list, const char *sid)
{
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
        if (fx_streq(fx_jstr(json_object_array_get_idx(list, i), "session_id"), sid))
            return 1;
    return 0;
}

/* A random well-formed UUID v4 that no session has. */
static void random_uuid(char *out, size_t sz)
{
    unsigned char b[16];
    FILE *f = fopen("/dev/urandom", "r");

    if (f == NULL || fread(b, 1, sizeof(b), f) != sizeof(b))
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(rand() ^ (int)getpid());
    if (f != NULL)
        fclose(f);
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80);
    snprintf(out, sz, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

/* ---- tests ----------------------------------------------------------------- */

static void t_create(void)
{
    struct http_resp r;
    char tok[2048], cookie[256], want[256], sid2[64];
    long long now, exp;
    const char *sid;

    new_user(tok, sizeof(tok));
    fx_call("POST", "/api/sessions", tok, "{\"theme\":\"dark\"}", &r);
    now = (long long)time(NULL);
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT_EQUAL(json_object_object_length(r.json), 3);
    sid = http_jstr(&r, "session_id");
    CU_ASSERT(is_uuid_v4(sid));
    CU_ASSERT_EQUAL(http_jint(&r, "expires_in"), TTL_S);
    exp = iso_time(http_jstr(&r, "expires_at"));
    CU_ASSERT(exp > 0);
    CU_ASSERT(exp >= now + TTL_S - 5 && exp <= now + TTL_S + 5);
    snprintf(want, sizeof(want), "guild_session=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=86400",
             sid ? sid : "?");
    CU_ASSERT_PTR_NOT_NULL(http_header(&r, "Set-Cookie", cookie, sizeof(cookie)));
    if (!fx_streq(cookie, want))
        fprintf(stderr, "\n    Set-Cookie: want [%s]\n                got  [%s]\n", want, cookie);
    CU_ASSERT_STREQ(cookie, want);
    create_session(tok, "{}", sid2, sizeof(sid2)); /* an empty object is fine */
    CU_ASSERT(sid != NULL && strcmp(sid, sid2) != 0);
    http_resp_free(&r);
}

static void t_stored_object(void)
{
    static const char *body =
        "{\"user_id\":999999,\"created_at\":\"1999-01-01T00:00:00Z\",\"theme\":\"dark\","
        "\"n\":3,\"flag\":true,\"nested\":{\"a\":[1,2]},\"none\":null}";
    struct http_resp r;
    char tok[2048], sid[64], key[192];
    long uid = new_user(tok, sizeof(tok));
    long long now = (long long)time(NULL), created, ttl;
    json_object *v, *a;

    create_session(tok, body, sid, sizeof(sid));
    session_req("GET", sid, tok, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "user_id"), uid); /* the server's, not the body's */
    created = iso_time(http_jstr(&r, "created_at"));
    CU_ASSERT(created >= now - 5 && created <= now + 5);
    CU_ASSERT_STREQ(http_jstr(&r, "theme"), "dark");
    CU_ASSERT_EQUAL(http_jint(&r, "n"), 3);
    CU_ASSERT_EQUAL(http_jbool(&r, "flag"), 1);
    CU_ASSERT(http_jnull(&r, "none"));
    CU_ASSERT(json_object_object_get_ex(r.json, "nested", &v) &&
              json_object_object_get_ex(v, "a", &a) && json_object_array_length(a) == 2);
    ttl = http_jint(&r, "ttl");
    CU_ASSERT(ttl > 0 && ttl <= TTL_S);
    CU_ASSERT(ttl >= TTL_S - 10);
    CU_ASSERT_EQUAL(json_object_object_length(r.json), 8); /* 6 data fields (2 replaced) + ttl */
    http_resp_free(&r);

    /* in the store: the session key with its TTL, listed in the user's index */
    snprintf(key, sizeof(key), "sess:%s", sid);
    ttl = store_cli("TTL", key);
    CU_ASSERT(ttl > 0 && ttl <= TTL_S);
    snprintf(key, sizeof(key), "sess:user:%ld", uid);
    CU_ASSERT_EQUAL(store_cli("EXISTS", key), 1);
}

static void t_access(void)
{
    struct http_resp r;
    char ta[2048], tb[2048], sid[64];
    long ida = new_user(ta, sizeof(ta));

    new_user(tb, sizeof(tb));
    create_session(ta, "{\"x\":1}", sid, sizeof(sid));
    session_req("GET", sid, tb, &r);
    CU_ASSERT(expect_some_detail(&r, 403));
    CU_ASSERT_PTR_NULL(http_jstr(&r, "user_id")); /* nothing of the session leaks */
    CU_ASSERT_PTR_NULL(strstr(r.body, "\"x\""));
    http_resp_free(&r);
    session_req("GET", sid, admin_token, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "user_id"), ida);
    CU_ASSERT_EQUAL(http_jint(&r, "x"), 1);
    http_resp_free(&r);
    session_req("GET", sid, ta, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
}

static void t_not_found(void)
{
    static const char *bad[] = {
        "abc",
        "6ba7b810-9dad-11d1-80b4-00c04fd430c8",  /* version 1 */
        "6ba7b810-9dad-41d1-c0b4-00c04fd430c8",  /* version 4, wrong variant */
        "6ba7b810-9dad-41d1-80b4-00c04fd430c8a", /* 37 characters */
        "6ba7b810-9dad-41d1-80b4-00c04fd430c",   /* 35 characters */
        "6ba7b8109dad41d180b400c04fd430c8",      /* no dashes */
        "6ba7b810-9dad-41d1-80b4-00c04fd430cg",  /* not hex */
        "%2A",                                   /* "*" */
    };
    struct http_resp r;
    char tok[2048], sid[64];

    new_user(tok, sizeof(tok));
    random_uuid(sid, sizeof(sid));
    session_req("GET", sid, tok, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    session_req("DELETE", sid, tok, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        session_req("GET", bad[i], tok, &r);
        if (!expect_404(&r))
            fprintf(stderr, "    ... GET /api/sessions/%s\n", bad[i]);
        CU_ASSERT_EQUAL(r.status, 404);
        http_resp_free(&r);
        session_req("DELETE", bad[i], tok, &r);
        if (!expect_404(&r))
            fprintf(stderr, "    ... DELETE /api/sessions/%s\n", bad[i]);
        CU_ASSERT_EQUAL(r.status, 404);
        http_resp_free(&r);
    }
}

/* A session whose key expired is 404 like a missing one, and drops out of
 * the list once its expiry (the index score) has passed. */
static void t_expired(void)
{
    struct http_resp r;
    char tok[2048], sid[64], key[192];

    new_user(tok, sizeof(tok));
    create_session(tok, "{}", sid, sizeof(sid));
    snprintf(key, sizeof(key), "sess:%s", sid);
    CU_ASSERT_EQUAL(store_cli_arg("PEXPIRE", key, "1"), 1);
    usleep(50 * 1000);
    session_req("GET", sid, tok, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    session_req("DELETE", sid, tok, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
}

static void t_delete(void)
{
    struct http_resp r;
    char ta[2048], tb[2048], sid[64], sid2[64];

    new_user(ta, sizeof(ta));
    new_user(tb, sizeof(tb));
    create_session(ta, "{\"x\":1}", sid, sizeof(sid));
    session_req("DELETE", sid, tb, &r);
    CU_ASSERT(expect_some_detail(&r, 403));
    http_resp_free(&r);
    session_req("GET", sid, ta, &r); /* the refused delete changed nothing */
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    session_req("DELETE", sid, ta, &r);
    CU_ASSERT(expect_204(&r));
    http_resp_free(&r);
    session_req("GET", sid, ta, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    session_req("DELETE", sid, ta, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    session_req("GET", sid, admin_token, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);

    /* an admin may delete anyone's */
    create_session(ta, "{\"x\":2}", sid2, sizeof(sid2));
    session_req("DELETE", sid2, admin_token, &r);
    CU_ASSERT(expect_204(&r));
    http_resp_free(&r);
    session_req("GET", sid2, ta, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    {
        json_object *l = list_sessions(ta);
        CU_ASSERT_PTR_NOT_NULL(l);
        CU_ASSERT(!list_has(l, sid) && !list_has(l, sid2)); /* the index follows */
        json_object_put(l);
    }
}

static void t_bad_bodies(void)
{
    static const char *not_objects[] = {"[1,2]", "\"text\"", "42", "null", "true"};
    struct http_resp r;
    char tok[2048], *big;
    size_t n = 8192;

    new_user(tok, sizeof(tok));
    /* exactly 8 KiB of JSON is accepted, one byte more is 413 */
    big = malloc(n + 2);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'a', n + 1);
    memcpy(big, "{\"d\":\"", 6);
    memcpy(big + n - 2, "\"}", 2);
    big[n] = '\0';
    fx_call("POST", "/api/sessions", tok, big, &r);
    CU_ASSERT(fx_expect(&r, 201));
    http_resp_free(&r);
    memcpy(big + n - 2, "a\"}", 3);
    big[n + 1] = '\0';
    fx_call("POST", "/api/sessions", tok, big, &r);
    CU_ASSERT(expect_some_detail(&r, 413));
    http_resp_free(&r);
    free(big);
    big = malloc(20001);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'b', 20000);
    memcpy(big, "{\"d\":\"", 6);
    memcpy(big + 19998, "\"}", 2);
    big[20000] = '\0';
    fx_call("POST", "/api/sessions", tok, big, &r);
    CU_ASSERT(expect_some_detail(&r, 413));
    http_resp_free(&r);
    free(big);

    for (size_t i = 0; i < sizeof(not_objects) / sizeof(not_objects[0]); i++) {
        fx_call("POST", "/api/sessions", tok, not_objects[i], &r);
        if (!expect_422_body(&r))
            fprintf(stderr, "    ... body %s\n", not_objects[i]);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }
    fx_call("POST", "/api/sessions", tok, "{\"a\": ", &r); /* malformed */
    CU_ASSERT(expect_422_body(&r));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_send("POST", "/api/sessions", tok, "text/plain", "{\"a\":1}", &r) == 0);
    CU_ASSERT(expect_422_body(&r));
    http_resp_free(&r);
    fx_call("POST", "/api/sessions", tok, NULL, &r); /* no body */
    CU_ASSERT(expect_422_body(&r));
    http_resp_free(&r);
}

static void t_no_token(void)
{
    struct http_resp r;
    char tok[2048], sid[64];

    new_user(tok, sizeof(tok));
    create_session(tok, "{}", sid, sizeof(sid));
    fx_call("POST", "/api/sessions", NULL, "{}", &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    fx_call("POST", "/api/sessions", "not.a.token", "{}", &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    session_req("GET", sid, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    session_req("DELETE", sid, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    fx_call("GET", "/api/sessions", NULL, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    fx_call("DELETE", "/api/sessions", NULL, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    session_req("GET", sid, tok, &r); /* still there */
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
}

static void t_list(void)
{
    struct http_resp r;
    char ta[2048], tb[2048], s[3][64], sb[64];
    json_object *l;
    long long now = (long long)time(NULL);

    new_user(ta, sizeof(ta));
    new_user(tb, sizeof(tb));
    l = list_sessions(ta);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 0);
    json_object_put(l);
    for (int i = 0; i < 3; i++)
        create_session(ta, "{\"i\":1}", s[i], sizeof(s[i]));
    create_session(tb, "{}", sb, sizeof(sb));
    session_req("DELETE", s[1], ta, &r);
    CU_ASSERT(expect_204(&r));
    http_resp_free(&r);

    l = list_sessions(ta);
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(json_object_array_length(l), 2);
    CU_ASSERT(list_has(l, s[0]));
    CU_ASSERT(list_has(l, s[2]));
    CU_ASSERT(!list_has(l, s[1]));
    CU_ASSERT(!list_has(l, sb));
    for (size_t i = 0; i < json_object_array_length(l); i++) {
        json_object *e = json_object_array_get_idx(l, i);
        long long c = iso_time(fx_jstr(e, "created_at")), x = iso_time(fx_jstr(e, "expires_at"));
        CU_ASSERT_EQUAL(json_object_object_length(e), 3);
        CU_ASSERT(is_uuid_v4(fx_jstr(e, "session_id")));
        CU_ASSERT(c >= now - 5 && c <= now + 5);
        CU_ASSERT_EQUAL(x - c, TTL_S);
    }
    json_object_put(l);

    l = list_sessions(tb);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 1 && list_has(l, sb));
    json_object_put(l);
}

static void t_delete_all(void)
{
    struct http_resp r;
    char ta[2048], tb[2048], s[2][64], sb[64], key[192];
    json_object *l;
    long ida = new_user(ta, sizeof(ta));

    new_user(tb, sizeof(tb));
    create_session(ta, "{}", s[0], sizeof(s[0]));
    create_session(ta, "{}", s[1], sizeof(s[1]));
    create_session(tb, "{}", sb, sizeof(sb));

    fx_call("DELETE", "/api/sessions", ta, NULL, &r);
    CU_ASSERT(expect_204(&r));
    http_resp_free(&r);
    for (int i = 0; i < 2; i++) {
        session_req("GET", s[i], ta, &r);
        CU_ASSERT(expect_404(&r));
        http_resp_free(&r);
        snprintf(key, sizeof(key), "sess:%s", s[i]);
        CU_ASSERT_EQUAL(store_cli("EXISTS", key), 0);
    }
    snprintf(key, sizeof(key), "sess:user:%ld", ida);
    CU_ASSERT_EQUAL(store_cli("EXISTS", key), 0);
    l = list_sessions(ta);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 0);
    json_object_put(l);

    /* the other user's session survives */
    session_req("GET", sb, tb, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    l = list_sessions(tb);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 1 && list_has(l, sb));
    json_object_put(l);

    /* again, with nothing left: still 204; and new sessions work afterwards */
    fx_call("DELETE", "/api/sessions", ta, NULL, &r);
    CU_ASSERT(expect_204(&r));
    http_resp_free(&r);
    create_session(ta, "{}", s[0], sizeof(s[0]));
    l = list_sessions(ta);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 1 && list_has(l, s[0]));
    json_object_put(l);
}

/* An admin's "log out everywhere" ends only the admin's own sessions (a
 * freshly promoted admin, so no other suite's sessions are touched). */
static void t_delete_all_admin_scope(void)
{
    struct http_resp r;
    char ta[2048], tadm[2048], sa[64], sadm[64], path[64];
    long idadm;

    new_user(ta, sizeof(ta));
    idadm = new_user(tadm, sizeof(tadm));
    snprintf(path, sizeof(path), "/api/users/%ld", idadm);
    fx_call("PUT", path, admin_token, "{\"is_admin\":true}", &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200) && http_jbool(&r, "is_admin") == 1);
    http_resp_free(&r);
    create_session(ta, "{}", sa, sizeof(sa));
    create_session(tadm, "{}", sadm, sizeof(sadm));
    session_req("GET", sa, tadm, &r); /* an admin reads anyone's */
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    fx_call("DELETE", "/api/sessions", tadm, NULL, &r);
    CU_ASSERT(expect_204(&r));
    http_resp_free(&r);
    session_req("GET", sadm, tadm, &r);
    CU_ASSERT(expect_404(&r));
    http_resp_free(&r);
    session_req("GET", sa, ta, &r);
    CU_ASSERT(fx_expect(&r, 200));
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
        {"POST: 201, UUID v4, 24 h, Set-Cookie flags", t_create},
        {"GET by owner: server's user_id/created_at, data, ttl", t_stored_object},
        {"GET: another user 403, admin 200", t_access},
        {"404: unknown and malformed ids", t_not_found},
        {"expired session: 404", t_expired},
        {"DELETE: other 403, owner 204, then 404; admin 204", t_delete},
        {"POST: 8 KiB limit (413), non-object 422", t_bad_bodies},
        {"no or invalid token: 401", t_no_token},
        {"GET /api/sessions: the caller's live sessions", t_list},
        {"DELETE /api/sessions: logs out everywhere, others survive", t_delete_all},
        {"DELETE /api/sessions as admin: only the admin's own", t_delete_all_admin_scope},
        {NULL, NULL},
    };
    return fx_run_suite("integration_sessions", cases, suite_setup, NULL);
}
