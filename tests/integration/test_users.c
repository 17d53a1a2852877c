/* Integration: /api/users (create, list and filters, get, update, delete) and
 * mission progress (start, list, complete): exact shapes, self-or-admin rules,
 * read-your-write, and completion under concurrency (50 threads, each its own
 * curl handle: 13 winners, 37 answered 409, never a 500). Names are unique. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

static char admin_token[2048];

/* ---- checks shared by the tests --------------------------------------- */

/* A progress record: exactly the contract's nine fields and types. */
static int is_progress(json_object *o)
{
    static const char *const keys[] = {"id", "user_id", "mission_id", "mission_name", "status",
                                       "score", "started_at", "completed_at", "created_at"};
    static const json_type types[] = {json_type_int, json_type_int, json_type_int,
                                      json_type_string, json_type_string, json_type_double,
                                      json_type_null, json_type_null, json_type_string};

    return fx_has_shape(o, keys, types, 9);
}

/* ---- request helpers -------------------------------------------------- */

static void get_user(long id, struct http_resp *r)
{
    char path[64];

    snprintf(path, sizeof(path), "/api/users/%ld", id);
    fx_call("GET", path, NULL, NULL, r);
}

static void put_user(const char *token, long id, const char *json, struct http_resp *r)
{
    char path[64];

    snprintf(path, sizeof(path), "/api/users/%ld", id);
    fx_call("PUT", path, token, json, r);
}

static void delete_user(const char *token, long id, struct http_resp *r)
{
    char path[64];

    snprintf(path, sizeof(path), "/api/users/%ld", id);
    fx_call("DELETE", path, token, NULL, r);
}

/* POST /api/users/{uid}/missions with {"mission_id": mid} (or json when not NULL). */
static void start_mission(const char *token, long uid, long mid, const char *json,
                          struct http_resp *r)
{
    char path[96], body[128];

    snprintf(path, sizeof(path), "/api/users/%ld/missions", uid);
    snprintf(body, sizeof(body), "{\"mission_id\":%ld}", mid);
    fx_call("POST", path, token, json ? json : body, r);
}

/* POST .../missions/{mid}/complete, with ?score=score unless score is NULL. */
static void complete_mission(const char *token, long uid, const char *mid, const char *score,
                             struct http_resp *r)
{
    char path[160];

    if (score != NULL)
        snprintf(path, sizeof(path), "/api/users/%ld/missions/%s/complete?score=%s", uid, mid, score);
    else
        snprintf(path, sizeof(path), "/api/users/%ld/missions/%s/complete", uid, mid);
    fx_call("POST", path, token, NULL, r);
}

/* A fresh active user with a token; returns the id (fatal on failure). */
static long new_user(char *name, size_t nsz, char *tok, size_t tsz)
{
    return fx_new_user("/api/users", "us", name, nsz, tok, tsz);
}

/* The user's current record through GET /api/users/{id} (fatal unless 200); put it. */
static json_object *fetch_user(long id)
{
    struct http_resp r;
    json_object *o;

    get_user(id, &r);
    CU_ASSERT_FATAL(fx_expect(&r, 200));
    o = json_object_get(r.json);
    http_resp_free(&r);
    return o;
}

/* ---- create / get ----------------------------------------------------- */

static void t_create(void)
{
    struct http_resp r;
    char name[64], other[64], body[512];

    fx_uniq(name, sizeof(name), "us");
    fx_uniq(other, sizeof(other), "us");
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\",\"full_name\":\"Ann\"}",
             name, name, FX_PASSWORD);
    fx_call("POST", "/api/users/", NULL, body, &r); /* trailing slash: same route */
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT_STREQ(http_jstr(&r, "username"), name);
    CU_ASSERT_STREQ(http_jstr(&r, "full_name"), "Ann");
    CU_ASSERT_STREQ(http_jstr(&r, "guild_rank"), "Apprentice");
    CU_ASSERT_EQUAL(http_jbool(&r, "is_admin"), 0);
    CU_ASSERT_EQUAL(http_jbool(&r, "is_active"), 1);
    CU_ASSERT_PTR_NULL(strstr(r.body, "password"));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             name, other, FX_PASSWORD);
    fx_call("POST", "/api/users", NULL, body, &r);
    CU_ASSERT(fx_expect_detail(&r, 400, "Username already taken"));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             other, name, FX_PASSWORD);
    fx_call("POST", "/api/users", NULL, body, &r);
    CU_ASSERT(fx_expect_detail(&r, 400, "Email already registered"));
    http_resp_free(&r);

    /* the same checks as register */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"nope\",\"password\":\"%s\"}", other,
             FX_PASSWORD);
    fx_call("POST", "/api/users", NULL, body, &r);
    CU_ASSERT(fx_expect_422(&r, "body", "email", NULL));
    http_resp_free(&r);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"short\"}",
             other, other);
    fx_call("POST", "/api/users", NULL, body, &r);
    CU_ASSERT(fx_expect_422(&r, "body", "password", NULL));
    http_resp_free(&r);
    fx_call("POST", "/api/users", NULL, "{\"username\": ", &r);
    CU_ASSERT(fx_expect_422(&r, "body", NULL, NULL));
    http_resp_free(&r);
}

static void t_get(void)
{
    struct http_resp r;
    char name[64], tok[2048];
    long id = new_user(name, sizeof(name), tok, sizeof(tok));

    get_user(id, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT_EQUAL(http_jint(&r, "id"), id);
    CU_ASSERT_STREQ(http_jstr(&r, "username"), name);
    http_resp_free(&r);

    get_user(id, &r); /* a second read (likely from the cache) is the same */
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_STREQ(http_jstr(&r, "username"), name);
    http_resp_free(&r);

    get_user(2000000000L, &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);
}

/* Non-decimal ids are 422 at a path loc; 0, negative, over 64 bits: 404 or 422. */
static void t_path_ids(void)
{
    static const char *const bad[] = {"abc", "1.5", "0x10", "1e3"};
    static const char *const odd[] = {"0", "-1", "99999999999999999999"};
    struct http_resp r;
    char path[128];

    for (size_t f = 0; f < 2; f++) {
        for (size_t i = 0; i < 4; i++) {
            snprintf(path, sizeof(path), f == 0 ? "/api/users/%s" : "/api/users/%s/missions", bad[i]);
            fx_call("GET", path, NULL, NULL, &r);
            if (!fx_expect_422(&r, "path", "*", NULL))
                fprintf(stderr, "    GET %s\n", path);
            CU_ASSERT_EQUAL(r.status, 422);
            http_resp_free(&r);
        }
        for (size_t i = 0; i < 3; i++) {
            snprintf(path, sizeof(path), f == 0 ? "/api/users/%s" : "/api/users/%s/missions", odd[i]);
            fx_call("GET", path, NULL, NULL, &r);
            if (!(r.status == 404 || r.status == 422) || !fx_is_json_ct(&r))
                fx_show(&r, path);
            CU_ASSERT(r.status == 404 || r.status == 422);
            CU_ASSERT(fx_is_json_ct(&r));
            http_resp_free(&r);
        }
    }

    /* the same on the write routes (admin token, so auth is not the answer) */
    fx_call("PUT", "/api/users/abc", admin_token, "{\"full_name\":\"x\"}", &r);
    CU_ASSERT(fx_expect_422(&r, "path", "*", NULL));
    http_resp_free(&r);
    fx_call("DELETE", "/api/users/1.5", admin_token, NULL, &r);
    CU_ASSERT(fx_expect_422(&r, "path", "*", NULL));
    http_resp_free(&r);
    fx_call("POST", "/api/users/0x10/missions", admin_token, "{\"mission_id\":1}", &r);
    CU_ASSERT(fx_expect_422(&r, "path", "*", NULL));
    http_resp_free(&r);
    fx_call("POST", "/api/users/1/missions/1e3/complete", admin_token, NULL, &r);
    CU_ASSERT(fx_expect_422(&r, "path", "*", NULL));
    http_resp_free(&r);
}

/* ---- list ------------------------------------------------------------- */

/* GET path: a 200 JSON array of UserResponse in ascending id order; the
 * caller puts the returned array. */
static json_object *list_users(const char *path)
{
    struct http_resp r;
    json_object *a = NULL;
    long long prev = 0;

    fx_call("GET", path, NULL, NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    if (r.json != NULL && json_object_is_type(r.json, json_type_array)) {
        a = json_object_get(r.json);
        for (size_t i = 0; i < json_object_array_length(a); i++) {
            json_object *u = json_object_array_get_idx(a, i);
            CU_ASSERT(fx_is_user_response(u));
            CU_ASSERT(fx_jint(u, "id") > prev);
            prev = fx_jint(u, "id");
        }
    } else {
        fx_show(&r, path);
        CU_FAIL("not an array");
    }
    http_resp_free(&r);
    return a;
}

static void t_list_paging(void)
{
    struct http_resp r;
    json_object *all, *page;
    char name[64], tok[2048];

    for (int i = 0; i < 3; i++)
        new_user(name, sizeof(name), tok, sizeof(tok));
    all = list_users("/api/users");
    CU_ASSERT_FATAL(all != NULL);
    CU_ASSERT(json_object_array_length(all) >= 4 && json_object_array_length(all) <= 100);
    json_object_put(all);
    all = list_users("/api/users/?limit=3");
    CU_ASSERT_FATAL(all != NULL && json_object_array_length(all) == 3);
    page = list_users("/api/users?skip=1&limit=2");
    CU_ASSERT_FATAL(page != NULL && json_object_array_length(page) == 2);
    CU_ASSERT_EQUAL(fx_jint(json_object_array_get_idx(page, 0), "id"),
                    fx_jint(json_object_array_get_idx(all, 1), "id"));
    CU_ASSERT_EQUAL(fx_jint(json_object_array_get_idx(page, 1), "id"),
                    fx_jint(json_object_array_get_idx(all, 2), "id"));
    json_object_put(page);
    json_object_put(all);
    page = list_users("/api/users?limit=100&skip=0");
    CU_ASSERT(page != NULL && json_object_array_length(page) <= 100);
    json_object_put(page);
    page = list_users("/api/users?skip=100000000");
    CU_ASSERT(page != NULL && json_object_array_length(page) == 0);
    json_object_put(page);

    static const struct {
        const char *query, *loc;
    } bad[] = {
        {"limit=0", "limit"},          {"limit=101", "limit"}, {"limit=abc", "limit"},
        {"limit=-1", "limit"},         {"limit=5x", "limit"},  {"limit=", "limit"},
        {"skip=-1", "skip"},           {"skip=abc", "skip"},
        {"min_experience=abc", "min_experience"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "/api/users?%s", bad[i].query);
        fx_call("GET", path, NULL, NULL, &r);
        if (!fx_expect_422(&r, "query", bad[i].loc, NULL))
            fprintf(stderr, "    GET %s\n", path);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }
}

/* True when the array holds exactly the given ids, in that order. */
static int ids_are(json_object *a, const long *ids, size_t n)
{
    if (a == NULL || json_object_array_length(a) != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (fx_jint(json_object_array_get_idx(a, i), "id") != ids[i])
            return 0;
    return 1;
}

static void t_list_filters(void)
{
    struct http_resp r;
    char name[64], tok[2048], path[160], body[160];
    long long base = 3000000000LL + (long long)getpid() * 100;
    long a, b, c;
    json_object *l;

    a = new_user(name, sizeof(name), tok, sizeof(tok));
    b = new_user(name, sizeof(name), tok, sizeof(tok));
    c = new_user(name, sizeof(name), tok, sizeof(tok));
    snprintf(body, sizeof(body), "{\"experience_points\":%lld}", base);
    put_user(admin_token, a, body, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    snprintf(body, sizeof(body), "{\"experience_points\":%lld}", base + 5);
    put_user(admin_token, b, body, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    snprintf(body, sizeof(body), "{\"experience_points\":%lld,\"guild_rank\":\"Expert\"}", base + 7);
    put_user(admin_token, c, body, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);

    snprintf(path, sizeof(path), "/api/users?min_experience=%lld", base);
    l = list_users(path);
    CU_ASSERT(ids_are(l, (const long[]){a, b, c}, 3));
    json_object_put(l);
    snprintf(path, sizeof(path), "/api/users?min_experience=%lld", base + 5); /* >=, not > */
    l = list_users(path);
    CU_ASSERT(ids_are(l, (const long[]){b, c}, 2));
    json_object_put(l);
    snprintf(path, sizeof(path), "/api/users?min_experience=%lld&guild_rank=Expert", base);
    l = list_users(path);
    CU_ASSERT(ids_are(l, (const long[]){c}, 1));
    json_object_put(l);
    snprintf(path, sizeof(path), "/api/users?min_experience=%lld&guild_rank=Apprentice", base);
    l = list_users(path);
    CU_ASSERT(ids_are(l, (const long[]){a, b}, 2));
    json_object_put(l);
    snprintf(path, sizeof(path), "/api/users?min_experience=%lld&guild_rank=Exp", base);
    l = list_users(path); /* exact, not a prefix */
    CU_ASSERT(ids_are(l, NULL, 0));
    json_object_put(l);
    snprintf(path, sizeof(path), "/api/users?min_experience=%lld&skip=1&limit=1", base);
    l = list_users(path);
    CU_ASSERT(ids_are(l, (const long[]){b}, 1));
    json_object_put(l);

    l = list_users("/api/users?guild_rank=Expert&limit=100");
    for (size_t i = 0; l != NULL && i < json_object_array_length(l); i++)
        CU_ASSERT_STREQ(fx_jstr(json_object_array_get_idx(l, i), "guild_rank"), "Expert");
    json_object_put(l);
}

/* ---- update ----------------------------------------------------------- */

static void t_update_self(void)
{
    struct http_resp r;
    char name[64], tok[2048], body[512], path[64];
    long id = new_user(name, sizeof(name), tok, sizeof(tok));
    json_object *u;

    snprintf(body, sizeof(body), "{\"email\":\"new.%s@example.org\",\"full_name\":\"Zo\xc3\xab Q\"}", name);
    put_user(tok, id, body, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT(http_jstr(&r, "email") && strncmp(http_jstr(&r, "email"), "new.", 4) == 0);
    CU_ASSERT_STREQ(http_jstr(&r, "full_name"), "Zo\xc3\xab Q");
    http_resp_free(&r);
    u = fetch_user(id); /* read-your-write */
    CU_ASSERT_STREQ(fx_jstr(u, "full_name"), "Zo\xc3\xab Q");
    CU_ASSERT(fx_jstr(u, "email") && strncmp(fx_jstr(u, "email"), "new.", 4) == 0);
    json_object_put(u);

    put_user(tok, id, "{\"full_name\":null}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT(http_jnull(&r, "full_name"));
    http_resp_free(&r);
    u = fetch_user(id);
    CU_ASSERT(fx_jnull(u, "full_name"));
    json_object_put(u);

    put_user(tok, id, "{}", &r); /* nothing to change */
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "id"), id);
    http_resp_free(&r);

    put_user(tok, id, "{\"email\":\"not-an-address\"}", &r);
    CU_ASSERT(fx_expect_422(&r, "body", "email", NULL));
    http_resp_free(&r);
    put_user(tok, id, "{\"password\":\"short\"}", &r);
    CU_ASSERT(fx_expect_422(&r, "body", "password", NULL));
    http_resp_free(&r);
    put_user(tok, id, "{\"full_name\":5}", &r);
    CU_ASSERT(fx_expect_422(&r, "body", "full_name", NULL));
    http_resp_free(&r);
    put_user(tok, id, "[1]", &r);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);
    snprintf(path, sizeof(path), "/api/users/%ld", id); /* JSON, but not labelled so */
    CU_ASSERT_FATAL(http_send("PUT", path, tok, "text/plain", "{\"full_name\":\"plain\"}", &r) == 0);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_send("PUT", path, tok, FX_FORM_CT, "full_name=form", &r) == 0);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);
    u = fetch_user(id);
    CU_ASSERT(fx_jnull(u, "full_name"));
    json_object_put(u);

    /* password: the new one logs in, the old one no longer does */
    put_user(tok, id, "{\"password\":\"brand-new-password\"}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_PTR_NULL(strstr(r.body, "password"));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_login(name, "brand-new-password", NULL, 0), 200);
    CU_ASSERT_EQUAL(fx_login(name, FX_PASSWORD, NULL, 0), 401);
}

static void t_update_taken_email(void)
{
    struct http_resp r;
    char a[64], b[64], ta[2048], tb[2048], body[256];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta));

    new_user(b, sizeof(b), tb, sizeof(tb));
    snprintf(body, sizeof(body), "{\"email\":\"%s@example.com\"}", b);
    put_user(ta, ida, body, &r);
    CU_ASSERT(fx_expect(&r, 400));
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "detail"));
    http_resp_free(&r);
    put_user(admin_token, ida, body, &r);
    CU_ASSERT(fx_expect(&r, 400));
    http_resp_free(&r);
}

static void t_update_forbidden(void)
{
    static const char *const privileged[] = {
        "{\"guild_rank\":\"Master\"}", "{\"experience_points\":5000}", "{\"missions_completed\":13}",
        "{\"is_active\":false}",       "{\"is_admin\":true}",
        "{\"full_name\":\"ok\",\"is_admin\":true}",
    };
    struct http_resp r;
    char a[64], b[64], ta[2048], tb[2048];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta)), idb = new_user(b, sizeof(b), tb, sizeof(tb));
    json_object *u;

    put_user(ta, idb, "{\"full_name\":\"hijacked\"}", &r);
    CU_ASSERT(fx_expect_detail(&r, 403, "Not authorized to update this user"));
    http_resp_free(&r);
    put_user(ta, idb, "{\"password\":\"hijacked-password\"}", &r);
    CU_ASSERT(fx_expect_detail(&r, 403, "Not authorized to update this user"));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_login(b, FX_PASSWORD, NULL, 0), 200);

    for (size_t i = 0; i < sizeof(privileged) / sizeof(privileged[0]); i++) {
        put_user(ta, ida, privileged[i], &r);
        if (!fx_expect(&r, 403))
            fprintf(stderr, "    PUT self %s\n", privileged[i]);
        CU_ASSERT_EQUAL(r.status, 403);
        http_resp_free(&r);
    }
    u = fetch_user(ida); /* nothing changed, not even full_name */
    CU_ASSERT_STREQ(fx_jstr(u, "guild_rank"), "Apprentice");
    CU_ASSERT_EQUAL(fx_jint(u, "experience_points"), 0);
    CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 0);
    CU_ASSERT(fx_jnull(u, "full_name"));
    json_object_put(u);
    u = fetch_user(idb);
    CU_ASSERT(fx_jnull(u, "full_name"));
    json_object_put(u);
    fx_call("GET", "/api/users/me", ta, NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jbool(&r, "is_admin"), 0);
    CU_ASSERT_EQUAL(http_jbool(&r, "is_active"), 1);
    http_resp_free(&r);

    put_user(NULL, ida, "{\"full_name\":\"anon\"}", &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
}

static void t_update_admin(void)
{
    struct http_resp r;
    char a[64], ta[2048], v[64], tv[2048];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta)), idv;
    json_object *u;

    CU_ASSERT_FATAL(admin_token[0] != '\0');
    put_user(admin_token, ida,
             "{\"guild_rank\":\"Journeyman\",\"experience_points\":1234,\"missions_completed\":7,"
             "\"full_name\":\"Set By Admin\",\"is_admin\":true}",
             &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT_STREQ(http_jstr(&r, "guild_rank"), "Journeyman");
    CU_ASSERT_EQUAL(http_jint(&r, "experience_points"), 1234);
    CU_ASSERT_EQUAL(http_jint(&r, "missions_completed"), 7);
    CU_ASSERT_EQUAL(http_jbool(&r, "is_admin"), 1);
    CU_ASSERT_STREQ(http_jstr(&r, "full_name"), "Set By Admin");
    http_resp_free(&r);
    u = fetch_user(ida);
    CU_ASSERT_STREQ(fx_jstr(u, "guild_rank"), "Journeyman");
    CU_ASSERT_EQUAL(fx_jint(u, "experience_points"), 1234);
    CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 7);
    json_object_put(u);

    /* the promoted user is now an admin: may delete, may update others */
    idv = new_user(v, sizeof(v), tv, sizeof(tv));
    put_user(ta, idv, "{\"experience_points\":3}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "experience_points"), 3);
    http_resp_free(&r);
    delete_user(ta, idv, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    http_resp_free(&r);

    /* demoted again: admin-only routes say so */
    put_user(admin_token, ida, "{\"is_admin\":false}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jbool(&r, "is_admin"), 0);
    http_resp_free(&r);
    delete_user(ta, 2000000000L, &r);
    CU_ASSERT(fx_expect_detail(&r, 403, "Admin privileges required"));
    http_resp_free(&r);

    /* deactivated by the admin: the token and the password both stop at 403 */
    put_user(admin_token, ida, "{\"is_active\":false}", &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jbool(&r, "is_active"), 0);
    http_resp_free(&r);
    fx_call("GET", "/api/users/me", ta, NULL, &r);
    CU_ASSERT(fx_expect_detail(&r, 403, "Inactive user"));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_login(a, FX_PASSWORD, NULL, 0), 403);

    put_user(admin_token, 2000000000L, "{\"full_name\":\"nobody\"}", &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);
    put_user(admin_token, ida, "{\"experience_points\":\"many\"}", &r);
    CU_ASSERT(fx_expect_422(&r, "body", "experience_points", NULL));
    http_resp_free(&r);
    put_user(admin_token, ida, "{\"is_active\":\"yes\"}", &r);
    CU_ASSERT(fx_expect_422(&r, "body", "is_active", NULL));
    http_resp_free(&r);
}

/* ---- delete ----------------------------------------------------------- */

static void t_delete(void)
{
    struct http_resp r;
    char a[64], ta[2048], b[64], tb[2048], q[160], path[96];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta)), idb = new_user(b, sizeof(b), tb, sizeof(tb));

    start_mission(ta, ida, 4, NULL, &r);
    CU_ASSERT(fx_expect(&r, 201));
    http_resp_free(&r);
    complete_mission(ta, ida, "5", "70", &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    snprintf(q, sizeof(q), "SELECT COUNT(*) FROM mission_progress WHERE user_id=%ld", ida);
    CU_ASSERT_EQUAL(fx_sql_long(q), 2);

    delete_user(tb, ida, &r); /* a plain user */
    CU_ASSERT(fx_expect_detail(&r, 403, "Admin privileges required"));
    http_resp_free(&r);
    delete_user(NULL, ida, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    get_user(ida, &r);
    CU_ASSERT_EQUAL(r.status, 200); /* still there */
    http_resp_free(&r);

    delete_user(admin_token, ida, &r);
    CU_ASSERT_EQUAL(r.status, 204);
    CU_ASSERT_EQUAL(r.body_len, 0);
    http_resp_free(&r);

    get_user(ida, &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);
    snprintf(path, sizeof(path), "/api/users/%ld/missions", ida);
    fx_call("GET", path, NULL, NULL, &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_sql_long(q), 0); /* the progress went with the user */
    fx_call("GET", "/api/users/me", ta, NULL, &r);
    CU_ASSERT(fx_expect_401(&r)); /* the deleted user's token */
    http_resp_free(&r);
    fx_call("POST", "/api/auth/refresh", ta, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_login(a, FX_PASSWORD, NULL, 0), 401);

    delete_user(admin_token, ida, &r); /* again */
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);
    get_user(idb, &r); /* the other user is untouched */
    CU_ASSERT_EQUAL(r.status, 200);
    http_resp_free(&r);
}

/* ---- missions --------------------------------------------------------- */

/* GET /api/users/{id}/missions as an array of MissionProgress; put it. */
static json_object *list_progress(long uid)
{
    struct http_resp r;
    char path[96];
    json_object *a = NULL;

    snprintf(path, sizeof(path), "/api/users/%ld/missions/", uid);
    fx_call("GET", path, NULL, NULL, &r);
    CU_ASSERT(fx_expect(&r, 200));
    if (r.json != NULL && json_object_is_type(r.json, json_type_array)) {
        a = json_object_get(r.json);
        for (size_t i = 0; i < json_object_array_length(a); i++)
            CU_ASSERT(is_progress(json_object_array_get_idx(a, i)));
    }
    http_resp_free(&r);
    return a;
}

/* The row for mission mid in a progress list, or NULL. */
static json_object *find_progress(json_object *list, long mid)
{
    for (size_t i = 0; list != NULL && i < json_object_array_length(list); i++)
        if (fx_jint(json_object_array_get_idx(list, i), "mission_id") == mid)
            return json_object_array_get_idx(list, i);
    return NULL;
}

static void t_mission_start(void)
{
    struct http_resp r;
    char a[64], ta[2048], b[64], tb[2048];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta)), idb = new_user(b, sizeof(b), tb, sizeof(tb));
    json_object *l, *p;

    start_mission(ta, ida, 7, NULL, &r);
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT(is_progress(r.json));
    CU_ASSERT(http_jint(&r, "id") > 0);
    CU_ASSERT_EQUAL(http_jint(&r, "user_id"), ida);
    CU_ASSERT_EQUAL(http_jint(&r, "mission_id"), 7);
    CU_ASSERT_STREQ(http_jstr(&r, "mission_name"), "Echo of Time");
    CU_ASSERT_STREQ(http_jstr(&r, "status"), "in_progress");
    CU_ASSERT(http_jnum(&r, "score") == 0.0);
    CU_ASSERT(fx_is_iso_utc(http_jstr(&r, "started_at")));
    CU_ASSERT(http_jnull(&r, "completed_at"));
    http_resp_free(&r);

    start_mission(ta, ida, 7, NULL, &r);
    CU_ASSERT(fx_expect(&r, 409));
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "detail"));
    http_resp_free(&r);

    start_mission(ta, ida, 3, "{\"mission_id\":3,\"mission_name\":\"My own name\",\"junk\":1}", &r);
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT_STREQ(http_jstr(&r, "mission_name"), "My own name");
    http_resp_free(&r);

    start_mission(admin_token, ida, 13, NULL, &r); /* admin on behalf of the user */
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT_STREQ(http_jstr(&r, "mission_name"), "The Sky Forge");
    http_resp_free(&r);

    l = list_progress(ida);
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(json_object_array_length(l), 3);
    p = find_progress(l, 7);
    CU_ASSERT(p != NULL && fx_streq(fx_jstr(p, "status"), "in_progress") && fx_jint(p, "user_id") == ida);
    CU_ASSERT(find_progress(l, 3) != NULL && find_progress(l, 13) != NULL);
    json_object_put(l);

    static const char *const bad[] = {
        "{\"mission_id\":0}", "{\"mission_id\":14}", "{\"mission_id\":\"x\"}", "{\"mission_id\":1.5}",
        "{\"mission_id\":null}", "{}", "{\"mission_id\":-1}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        start_mission(ta, ida, 0, bad[i], &r);
        if (!fx_expect_422(&r, "body", "mission_id", NULL))
            fprintf(stderr, "    body %s\n", bad[i]);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }
    start_mission(ta, ida, 0, "{\"mission_id\":", &r);
    CU_ASSERT(fx_expect_422(&r, "body", NULL, NULL));
    http_resp_free(&r);
    {
        char path[96];
        snprintf(path, sizeof(path), "/api/users/%ld/missions", ida);
        CU_ASSERT_FATAL(http_send("POST", path, ta, FX_FORM_CT, "mission_id=5", &r) == 0);
        CU_ASSERT(fx_expect(&r, 422));
        http_resp_free(&r);
    }

    start_mission(tb, ida, 1, NULL, &r); /* another user */
    CU_ASSERT(fx_expect(&r, 403));
    http_resp_free(&r);
    start_mission(NULL, ida, 1, NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    start_mission(admin_token, 2000000000L, 1, NULL, &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);

    l = list_progress(idb); /* untouched by the refused attempts */
    CU_ASSERT(l != NULL && json_object_array_length(l) == 0);
    json_object_put(l);
    l = list_progress(ida);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 3);
    json_object_put(l);
}

/* Checks a 200 completion answer: exactly the four contract fields. */
static void check_completion(const struct http_resp *r, const char *mid, long long earned,
                             long long total, const char *rank)
{
    char msg[64];

    snprintf(msg, sizeof(msg), "Mission %s completed!", mid);
    CU_ASSERT_FATAL(fx_expect(r, 200));
    CU_ASSERT_EQUAL(json_object_object_length(r->json), 4);
    CU_ASSERT_STREQ(http_jstr(r, "message"), msg);
    CU_ASSERT_EQUAL(http_jint(r, "experience_earned"), earned);
    CU_ASSERT_EQUAL(http_jint(r, "total_experience"), total);
    CU_ASSERT_STREQ(http_jstr(r, "guild_rank"), rank);
}

static void t_mission_complete(void)
{
    struct http_resp r;
    char a[64], ta[2048], b[64], tb[2048];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta));
    json_object *l, *p, *u, *sc;

    new_user(b, sizeof(b), tb, sizeof(tb));
    start_mission(ta, ida, 1, NULL, &r);
    CU_ASSERT(fx_expect(&r, 201));
    http_resp_free(&r);

    complete_mission(ta, ida, "1", "85", &r);
    check_completion(&r, "1", 8, 8, "Apprentice");
    http_resp_free(&r);
    complete_mission(ta, ida, "1", "85", &r);
    CU_ASSERT(fx_expect_detail(&r, 409, "Mission already completed"));
    http_resp_free(&r);
    start_mission(ta, ida, 1, NULL, &r); /* completed: cannot start again */
    CU_ASSERT(fx_expect(&r, 409));
    http_resp_free(&r);

    complete_mission(ta, ida, "2", NULL, &r); /* never started, default score 100 */
    check_completion(&r, "2", 10, 18, "Apprentice");
    http_resp_free(&r);
    complete_mission(admin_token, ida, "3", "0", &r); /* admin on behalf; score 0 */
    check_completion(&r, "3", 0, 18, "Adept");
    http_resp_free(&r);
    complete_mission(ta, ida, "4", "99", &r); /* floor(9.9) */
    check_completion(&r, "4", 9, 27, "Adept");
    http_resp_free(&r);

    u = fetch_user(ida); /* read-your-write */
    CU_ASSERT_EQUAL(fx_jint(u, "experience_points"), 27);
    CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 4);
    CU_ASSERT_STREQ(fx_jstr(u, "guild_rank"), "Adept");
    json_object_put(u);
    fx_call("GET", "/api/users/me", ta, NULL, &r);
    CU_ASSERT_EQUAL(http_jint(&r, "experience_points"), 27);
    http_resp_free(&r);

    l = list_progress(ida);
    CU_ASSERT_FATAL(l != NULL);
    CU_ASSERT_EQUAL(json_object_array_length(l), 4);
    p = find_progress(l, 1);
    CU_ASSERT(p && fx_streq(fx_jstr(p, "status"), "completed") && fx_is_iso_utc(fx_jstr(p, "completed_at")) &&
              fx_is_iso_utc(fx_jstr(p, "started_at")));
    CU_ASSERT(p && json_object_object_get_ex(p, "score", &sc) && json_object_get_double(sc) == 85.0);
    p = find_progress(l, 2);
    CU_ASSERT(p && fx_streq(fx_jstr(p, "status"), "completed") && fx_streq(fx_jstr(p, "mission_name"), "Records of Apprentices"));
    CU_ASSERT(p && json_object_object_get_ex(p, "score", &sc) && json_object_get_double(sc) == 100.0);
    CU_ASSERT(p && fx_is_iso_utc(fx_jstr(p, "completed_at")));
    json_object_put(l);

    static const char *const bad_scores[] = {"101", "-1", "abc", "100.5", ""};
    for (size_t i = 0; i < sizeof(bad_scores) / sizeof(bad_scores[0]); i++) {
        complete_mission(ta, ida, "5", bad_scores[i], &r);
        if (!fx_expect_422(&r, "query", "score", NULL))
            fprintf(stderr, "    score=%s\n", bad_scores[i]);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }
    static const char *const bad_mids[] = {"0", "14", "abc"};
    for (size_t i = 0; i < sizeof(bad_mids) / sizeof(bad_mids[0]); i++) {
        complete_mission(ta, ida, bad_mids[i], "50", &r);
        if (!fx_expect_422(&r, "path", "*", NULL))
            fprintf(stderr, "    mission %s\n", bad_mids[i]);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }

    complete_mission(tb, ida, "6", "50", &r); /* another user */
    CU_ASSERT(fx_expect(&r, 403));
    http_resp_free(&r);
    complete_mission(NULL, ida, "6", "50", &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    complete_mission(admin_token, 2000000000L, "6", "50", &r);
    CU_ASSERT(fx_expect_detail(&r, 404, "User not found"));
    http_resp_free(&r);

    u = fetch_user(ida); /* none of the refused attempts counted */
    CU_ASSERT_EQUAL(fx_jint(u, "experience_points"), 27);
    CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 4);
    json_object_put(u);
}

static void t_mission_ranks(void)
{
    static const struct {
        int upto;
        const char *rank;
    } steps[] = {{2, "Apprentice"}, {3, "Adept"}, {6, "Adept"}, {7, "Journeyman"},
                 {9, "Journeyman"}, {10, "Expert"}, {12, "Expert"}, {13, "Master"}};
    struct http_resp r;
    char a[64], ta[2048], mid[16];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta));
    int m = 1;

    for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
        for (; m <= steps[s].upto; m++) {
            snprintf(mid, sizeof(mid), "%d", m);
            complete_mission(ta, ida, mid, "100", &r);
            CU_ASSERT(fx_expect(&r, 200));
            if (m == steps[s].upto)
                CU_ASSERT_STREQ(http_jstr(&r, "guild_rank"), steps[s].rank);
            http_resp_free(&r);
        }
    }
    complete_mission(ta, ida, "13", "100", &r);
    CU_ASSERT(fx_expect_detail(&r, 409, "Mission already completed"));
    http_resp_free(&r);
}

/* ---- concurrency ------------------------------------------------------ */

#define RACE_THREADS 50

struct race {
    const char *token;
    const char *body; /* JSON, or NULL for an empty body */
    char path[160];
    pthread_barrier_t *go;
    long status;
    int transport_error;
};

/* One POST on the thread's own curl handle (http.c's shared one is not
 * thread-safe); all threads leave the barrier together. */
static void *race_post(void *arg)
{
    struct race *rc = arg;
    char auth[2200];
    const char *h[] = {auth, rc->body ? "Content-Type: " FX_JSON_CT : NULL, NULL};

    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", rc->token);
    rc->transport_error = fx_post_at_once(NULL, rc->path, h, rc->body, rc->go, &rc->status) != 0;
    return NULL;
}

/* The score used for mission m in the race: every thread completing m sends
 * the same one, so the XP total does not depend on who wins. */
static int race_score(int m)
{
    return 40 + m * 4 + (m % 3); /* 45..94, varied remainders */
}

/* Runs n threads; the i-th POSTs paths[i]. Counts answers by status. */
static void run_race(struct race *rs, int n, long *ok, long *dup, long *other)
{
    pthread_t th[RACE_THREADS];
    pthread_barrier_t go;

    *ok = *dup = *other = 0;
    CU_ASSERT_FATAL(n <= RACE_THREADS && pthread_barrier_init(&go, NULL, (unsigned)n) == 0);
    for (int i = 0; i < n; i++) {
        rs[i].go = &go;
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, race_post, &rs[i]) == 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&go);
    for (int i = 0; i < n; i++) {
        if (rs[i].status == 200 || rs[i].status == 201)
            (*ok)++;
        else if (rs[i].status == 409)
            (*dup)++;
        else {
            (*other)++;
            fprintf(stderr, "\n    race %s: status %ld%s\n", rs[i].path, rs[i].status,
                    rs[i].transport_error ? " (transport error)" : "");
        }
    }
}

static void t_concurrent_completions(void)
{
    static struct race rs[RACE_THREADS];
    char a[64], ta[2048];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta)), ok, dup, other, xp = 0;
    json_object *u, *l;

    memset(rs, 0, sizeof(rs));
    for (int i = 0; i < RACE_THREADS; i++) {
        /* threads 0..12 take missions 1..13; the other 37 repeat them, interleaved */
        int m = i % 13 + 1;
        rs[i].token = ta;
        snprintf(rs[i].path, sizeof(rs[i].path), "/api/users/%ld/missions/%d/complete?score=%d", ida,
                 m, race_score(m));
    }
    for (int m = 1; m <= 13; m++)
        xp += race_score(m) / 10;

    run_race(rs, RACE_THREADS, &ok, &dup, &other);
    CU_ASSERT_EQUAL(ok, 13);
    CU_ASSERT_EQUAL(dup, RACE_THREADS - 13);
    CU_ASSERT_EQUAL(other, 0);

    u = fetch_user(ida);
    CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 13);
    CU_ASSERT_EQUAL(fx_jint(u, "experience_points"), xp);
    CU_ASSERT_STREQ(fx_jstr(u, "guild_rank"), "Master");
    json_object_put(u);
    l = list_progress(ida);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 13);
    for (size_t i = 0; l != NULL && i < json_object_array_length(l); i++)
        CU_ASSERT_STREQ(fx_jstr(json_object_array_get_idx(l, i), "status"), "completed");
    json_object_put(l);
}

/* Ten simultaneous starts of one mission, then ten simultaneous completions
 * of another (scores differ): one winner each, nine 409s, one row each. */
static void t_concurrent_same_mission(void)
{
    static struct race rs[10];
    char a[64], ta[2048];
    long ida = new_user(a, sizeof(a), ta, sizeof(ta)), ok, dup, other;
    json_object *l, *u;

    memset(rs, 0, sizeof(rs));
    for (int i = 0; i < 10; i++) {
        rs[i].token = ta;
        rs[i].body = "{\"mission_id\":8}";
        snprintf(rs[i].path, sizeof(rs[i].path), "/api/users/%ld/missions", ida);
    }
    run_race(rs, 10, &ok, &dup, &other);
    CU_ASSERT_EQUAL(ok, 1);
    CU_ASSERT_EQUAL(dup, 9);
    CU_ASSERT_EQUAL(other, 0);

    memset(rs, 0, sizeof(rs));
    for (int i = 0; i < 10; i++) {
        rs[i].token = ta;
        snprintf(rs[i].path, sizeof(rs[i].path), "/api/users/%ld/missions/9/complete?score=%d", ida,
                 10 * i + 5);
    }
    run_race(rs, 10, &ok, &dup, &other);
    CU_ASSERT_EQUAL(ok, 1);
    CU_ASSERT_EQUAL(dup, 9);
    CU_ASSERT_EQUAL(other, 0);

    l = list_progress(ida);
    CU_ASSERT(l != NULL && json_object_array_length(l) == 2);
    json_object_put(l);
    u = fetch_user(ida); /* one completion counted, with one of the scores' XP */
    CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 1);
    CU_ASSERT(fx_jint(u, "experience_points") >= 0 && fx_jint(u, "experience_points") <= 9);
    json_object_put(u);
}

/* Completions of *different* fresh users at once, twice over: with no
 * progress rows yet their keys share one gap of mission_progress's unique
 * index, where two completions (UPDATE finds nothing, then INSERT) can
 * deadlock in InnoDB. The loser's transaction is run again: every one is a
 * 200, none a 503, and every user ends with exactly their two missions. */
#define GAP_USERS 20
static void t_concurrent_fresh_users(void)
{
    static struct race rs[2 * GAP_USERS];
    static char names[GAP_USERS][64], toks[GAP_USERS][2048];
    long ids[GAP_USERS], ok, dup, other;

    for (int i = 0; i < GAP_USERS; i++)
        ids[i] = new_user(names[i], sizeof(names[i]), toks[i], sizeof(toks[i]));
    memset(rs, 0, sizeof(rs));
    for (int i = 0; i < 2 * GAP_USERS; i++) {
        int u = i % GAP_USERS, m = i < GAP_USERS ? 3 : 11;
        rs[i].token = toks[u];
        snprintf(rs[i].path, sizeof(rs[i].path), "/api/users/%ld/missions/%d/complete?score=55",
                 ids[u], m);
    }
    run_race(rs, 2 * GAP_USERS, &ok, &dup, &other);
    CU_ASSERT_EQUAL(ok, 2 * GAP_USERS);
    CU_ASSERT_EQUAL(dup, 0);
    CU_ASSERT_EQUAL(other, 0);
    for (int i = 0; i < GAP_USERS; i++) {
        json_object *u = fetch_user(ids[i]);
        CU_ASSERT_EQUAL(fx_jint(u, "missions_completed"), 2);
        CU_ASSERT_EQUAL(fx_jint(u, "experience_points"), 10);
        json_object_put(u);
    }
}

static int suite_setup(void)
{
    fx_admin_token(admin_token, sizeof(admin_token));
    return 0;
}

int main(void)
{
    static const struct test_case cases[] = {
        {"POST /api/users: 201, duplicates 400, 422", t_create},
        {"GET /api/users/{id}", t_get},
        {"path ids: 422 for non-decimal, never an alias", t_path_ids},
        {"GET /api/users: order, skip/limit, 422", t_list_paging},
        {"GET /api/users: guild_rank and min_experience", t_list_filters},
        {"PUT self: email, full_name, password", t_update_self},
        {"PUT: taken email 400", t_update_taken_email},
        {"PUT: other user and privileged fields 403", t_update_forbidden},
        {"PUT as admin: privileged fields, is_active, is_admin", t_update_admin},
        {"DELETE: 204, progress gone, token dead, 403/404/401", t_delete},
        {"missions: start 201/409/422/403", t_mission_start},
        {"missions: complete, XP, rank, 409/422/403", t_mission_complete},
        {"missions: rank thresholds", t_mission_ranks},
        {"concurrency: 50 parallel completions", t_concurrent_completions},
        {"concurrency: one mission started/completed 10 times at once", t_concurrent_same_mission},
        {"concurrency: 40 completions of 20 fresh users (InnoDB gap deadlock retried)",
         t_concurrent_fresh_users},
        {NULL, NULL},
    };
    return fx_run_suite("integration_users", cases, suite_setup, NULL);
}
