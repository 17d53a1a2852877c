/* Integration: /api/auth (register, token, login, refresh) and the bearer check
 * every protected route shares: 201/400/422 on register, the JWT's claims, 401 +
 * WWW-Authenticate for every bad token (expired, wrong key, alg none, HS512,
 * tampered, no exp, unknown user; forged with JWT_SECRET), 403 when inactive. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures.h"

static char admin_token[2048];

/* ---- small helpers ---------------------------------------------------- */

/* POST /api/auth/register with a JSON body; the caller frees r. */
static void post_register(const char *json, struct http_resp *r)
{
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/register", NULL, FX_JSON_CT, json, r) == 0);
}

/* Registers name (email name@example.com, password pw); returns the id or -1. */
static long register_user(const char *name, const char *pw)
{
    long id;

    CU_ASSERT_FATAL(fx_register("/api/auth/register", name, pw, &id) != -1);
    return id;
}

/* A fresh active user with a token; returns the id (fatal on failure). */
static long new_user(char *name, size_t nsz, char *tok, size_t tsz)
{
    return fx_new_user("/api/auth/register", "au", name, nsz, tok, tsz);
}

/* GET /api/users/me with token (NULL: none); the caller frees r. */
static void get_me(const char *token, struct http_resp *r)
{
    CU_ASSERT_FATAL(http_send("GET", "/api/users/me", token, NULL, NULL, r) == 0);
}

/* GET /api/users/me with a raw Authorization header value. */
static void get_me_raw(const char *authorization, struct http_resp *r)
{
    char h[2048];
    const char *headers[] = {h, NULL};

    snprintf(h, sizeof(h), "Authorization: %s", authorization);
    CU_ASSERT_FATAL(http_request("GET", "/api/users/me", headers, NULL, 0, r) == 0);
}

/* ---- JWT helpers ------------------------------------------------------ */

/* Signs {sub, uid, iat, exp (omitted when 0), jti} with alg and key into out.
 * Returns 0, or -1 when libjwt refused. */
static int forge(jwt_alg_t alg, const char *key, const char *sub, long uid, long iat, long exp,
                 char *out, size_t sz)
{
    jwt_t *jwt = NULL;
    char *s = NULL, jti[64];
    int rc = -1;

    snprintf(jti, sizeof(jti), "forged-%d-%u", (int)getpid(), fx_seq());
    if (jwt_new(&jwt) != 0)
        return -1;
    if (jwt_add_grant(jwt, "sub", sub) || jwt_add_grant_int(jwt, "uid", uid) ||
        jwt_add_grant_int(jwt, "iat", iat) || (exp && jwt_add_grant_int(jwt, "exp", exp)) ||
        jwt_add_grant(jwt, "jti", jti))
        goto out;
    if (alg == JWT_ALG_NONE ? jwt_set_alg(jwt, alg, NULL, 0)
                            : jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)strlen(key)))
        goto out;
    if ((s = jwt_encode_str(jwt)) == NULL)
        goto out;
    snprintf(out, sz, "%s", s);
    rc = 0;
out:
    free(s);
    jwt_free(jwt);
    return rc;
}

/* token with its payload replaced by json (header and signature kept). */
static void splice_payload(const char *token, const char *json, char *out, size_t sz)
{
    const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    char enc[1024];
    size_t hl, el, sl;

    CU_ASSERT_FATAL(d2 != NULL && strlen(json) < 700);
    fx_b64url_encode((const unsigned char *)json, strlen(json), enc);
    hl = (size_t)(d1 - token) + 1; /* header and its dot */
    el = strlen(enc);
    sl = strlen(d2); /* the dot and the signature */
    CU_ASSERT_FATAL(hl + el + sl < sz);
    memcpy(out, token, hl);
    memcpy(out + hl, enc, el);
    memcpy(out + hl + el, d2, sl + 1);
}

/* ---- register --------------------------------------------------------- */

static void t_register(void)
{
    struct http_resp r;
    char name[64], body[512];

    fx_uniq(name, sizeof(name), "au");
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\","
             "\"full_name\":\"Zo\xc3\xab Example\"}",
             name, name, FX_PASSWORD);
    post_register(body, &r);
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT(http_jint(&r, "id") > 0);
    CU_ASSERT_STREQ(http_jstr(&r, "username"), name);
    CU_ASSERT(http_jstr(&r, "email") && strncmp(http_jstr(&r, "email"), name, strlen(name)) == 0);
    CU_ASSERT_STREQ(http_jstr(&r, "full_name"), "Zo\xc3\xab Example");
    CU_ASSERT_EQUAL(http_jbool(&r, "is_active"), 1);
    CU_ASSERT_EQUAL(http_jbool(&r, "is_admin"), 0);
    CU_ASSERT_STREQ(http_jstr(&r, "guild_rank"), "Apprentice");
    CU_ASSERT_EQUAL(http_jint(&r, "experience_points"), 0);
    CU_ASSERT_EQUAL(http_jint(&r, "missions_completed"), 0);
    CU_ASSERT_PTR_NULL(strstr(r.body, "password"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "$2"));
    http_resp_free(&r);

    /* without full_name: null; unknown fields (even is_admin) are ignored */
    fx_uniq(name, sizeof(name), "au");
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\","
             "\"is_admin\":true,\"guild_rank\":\"Master\",\"experience_points\":999,\"x\":[1]}",
             name, name, FX_PASSWORD);
    post_register(body, &r);
    CU_ASSERT(fx_expect(&r, 201));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT(http_jnull(&r, "full_name"));
    CU_ASSERT_EQUAL(http_jbool(&r, "is_admin"), 0);
    CU_ASSERT_STREQ(http_jstr(&r, "guild_rank"), "Apprentice");
    CU_ASSERT_EQUAL(http_jint(&r, "experience_points"), 0);
    http_resp_free(&r);

    CU_ASSERT_FATAL(http_send("POST", "/api/auth/register/", NULL, FX_JSON_CT, "{}", &r) == 0);
    CU_ASSERT_NOT_EQUAL(r.status, 404); /* trailing slash: the same route */
    http_resp_free(&r);

    CU_ASSERT_FATAL(http_send("GET", "/api/auth/register", NULL, NULL, NULL, &r) == 0);
    CU_ASSERT(fx_expect_detail(&r, 405, "Method Not Allowed"));
    http_resp_free(&r);
}

static void t_register_duplicate(void)
{
    struct http_resp r;
    char name[64], other[64], body[512];

    fx_uniq(name, sizeof(name), "au");
    CU_ASSERT_FATAL(register_user(name, FX_PASSWORD) > 0);
    fx_uniq(other, sizeof(other), "au");

    /* same username, new email */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             name, other, FX_PASSWORD);
    post_register(body, &r);
    CU_ASSERT(fx_expect_detail(&r, 400, "Username or email already registered"));
    http_resp_free(&r);

    /* new username, same email */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             other, name, FX_PASSWORD);
    post_register(body, &r);
    CU_ASSERT(fx_expect_detail(&r, 400, "Username or email already registered"));
    http_resp_free(&r);

    /* neither was created by the failed attempts */
    CU_ASSERT_EQUAL(fx_login(other, FX_PASSWORD, NULL, 0), 401);
}

/* Registers a user with a username of exactly len characters (unique);
 * returns the status of the first attempt that did not collide. */
static long register_len(size_t len)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    struct http_resp r;
    char name[64], email[128], body[512];
    long status = -1;

    for (int attempt = 0; attempt < 20; attempt++) {
        unsigned seq = fx_uniq(email, sizeof(email), "len") + 1; /* the counter's next value */
        memset(name, 'x', sizeof(name));
        /* unique head (pid, counter and attempt in base 36), padded to len */
        unsigned long v = (unsigned long)getpid() * 7919u + seq * 131u + (unsigned)attempt;
        for (size_t i = 0; i < len && i < 6; i++, v /= 36)
            name[i] = alnum[v % 36];
        name[len] = '\0';
        snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
                 name, email, FX_PASSWORD);
        post_register(body, &r);
        status = r.status;
        if (!http_is_detail(&r, "Username or email already registered")) {
            http_resp_free(&r);
            return status;
        }
        http_resp_free(&r);
    }
    return status;
}

static void t_register_lengths(void)
{
    struct http_resp r;
    char name[64], body[512], pw[200];

    CU_ASSERT_EQUAL(register_len(3), 201);
    CU_ASSERT_EQUAL(register_len(50), 201);
    CU_ASSERT_EQUAL(register_len(2), 422);
    CU_ASSERT_EQUAL(register_len(51), 422);

    /* password: 8 and 128 accepted, 7 and 129 refused */
    static const size_t lens[] = {8, 128, 7, 129};
    for (size_t i = 0; i < 4; i++) {
        fx_uniq(name, sizeof(name), "au");
        memset(pw, 'p', lens[i]);
        pw[lens[i]] = '\0';
        snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
                 name, name, pw);
        post_register(body, &r);
        if (i < 2) {
            CU_ASSERT(fx_expect(&r, 201));
            CU_ASSERT_EQUAL(fx_login(name, pw, NULL, 0), 200);
        } else {
            CU_ASSERT(fx_expect_422(&r, "body", "password", NULL));
        }
        http_resp_free(&r);
    }
}

struct bad_body {
    const char *content_type;
    const char *json; /* NAME: a fresh unique name */
    const char *loc0, *loc1, *type;
};

/* Copies tmpl into out with every "NAME" replaced by name. */
static void subst(const char *tmpl, const char *name, char *out, size_t sz)
{
    size_t o = 0, nl = strlen(name);

    while (*tmpl && o + nl + 1 < sz) {
        if (strncmp(tmpl, "NAME", 4) == 0) {
            memcpy(out + o, name, nl);
            o += nl;
            tmpl += 4;
        } else {
            out[o++] = *tmpl++;
        }
    }
    out[o] = '\0';
}

static void t_register_validation(void)
{
    static const struct bad_body cases[] = {
        {FX_JSON_CT, "{\"email\":\"NAME@example.com\",\"password\":\"" FX_PASSWORD "\"}", "body", "username",
         "missing"},
        {FX_JSON_CT, "{\"username\":\"NAME\",\"password\":\"" FX_PASSWORD "\"}", "body", "email", "missing"},
        {FX_JSON_CT, "{\"username\":\"NAME\",\"email\":\"NAME@example.com\"}", "body", "password", "missing"},
        {FX_JSON_CT, "{\"username\":5,\"email\":\"NAME@example.com\",\"password\":\"" FX_PASSWORD "\"}", "body",
         "username", NULL},
        {FX_JSON_CT, "{\"username\":\"ab\\u0001cNAME\",\"email\":\"NAME@example.com\",\"password\":\"" FX_PASSWORD
                  "\"}",
         "body", "username", NULL},
        {FX_JSON_CT, "{\"username\":\"NAME\",\"email\":\"no-at-sign.example.com\",\"password\":\"" FX_PASSWORD
                  "\"}",
         "body", "email", NULL},
        {FX_JSON_CT, "{\"username\":\"NAME\",\"email\":\"a bNAME@example.com\",\"password\":\"" FX_PASSWORD "\"}",
         "body", "email", NULL},
        {FX_JSON_CT, "{\"username\":\"NAME\",\"email\":\"NAME@example.com\",\"password\":12345678}", "body",
         "password", NULL},
        {FX_JSON_CT, "{\"username\":\"NAME\",\"email\":null,\"password\":\"" FX_PASSWORD "\"}", "body", "email",
         NULL},
        {FX_JSON_CT, "{\"username\":\"NAME\",", "body", NULL, "json_invalid"},
        {FX_JSON_CT, "{\"username\":\"NAME\"}}", "body", NULL, "json_invalid"},
        {FX_JSON_CT, "", "body", NULL, NULL},
    };
    struct http_resp r;
    char name[64], body[1024];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fx_uniq(name, sizeof(name), "au");
        subst(cases[i].json, name, body, sizeof(body));
        CU_ASSERT_FATAL(http_send("POST", "/api/auth/register", NULL, cases[i].content_type, body,
                                  &r) == 0);
        if (!fx_expect_422(&r, cases[i].loc0, cases[i].loc1, cases[i].type))
            fprintf(stderr, "    case %zu: %s\n", i, body);
        CU_ASSERT_EQUAL(r.status, 422);
        http_resp_free(&r);
    }
}

/* Bodies FastAPI refuses as a whole: 422 with a body loc, never 500. */
static void t_register_bad_bodies(void)
{
    struct http_resp r;
    char name[64], body[512];
    json_object *list;

    fx_uniq(name, sizeof(name), "au");
    snprintf(body, sizeof(body), "[{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}]",
             name, name, FX_PASSWORD);
    post_register(body, &r); /* an array, not an object */
    CU_ASSERT(fx_expect(&r, 422));
    CU_ASSERT(json_object_object_get_ex(r.json, "detail", &list) &&
              json_object_is_type(list, json_type_array));
    http_resp_free(&r);

    post_register("null", &r);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);

    /* the right JSON with a non-JSON content type */
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             name, name, FX_PASSWORD);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/register", NULL, "text/plain", body, &r) == 0);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/register", NULL, NULL, body, &r) == 0);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);

    /* invalid UTF-8 inside a string (a lone continuation byte, an overlong '/') */
    snprintf(body, sizeof(body), "{\"username\":\"%s\x80\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             name, name, FX_PASSWORD);
    post_register(body, &r);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"pw\xc0\xaf-long-enough\"}",
             name, name);
    post_register(body, &r);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);

    /* a lone surrogate escape has no UTF-8 form: refused, not rewritten to U+FFFD */
    snprintf(body, sizeof(body), "{\"username\":\"%s\\ud800\",\"email\":\"%s@example.com\",\"password\":\"%s\"}",
             name, name, FX_PASSWORD);
    post_register(body, &r);
    CU_ASSERT(fx_expect(&r, 422));
    http_resp_free(&r);

    /* none of these created the user */
    CU_ASSERT_EQUAL(fx_login(name, FX_PASSWORD, NULL, 0), 401);
}

/* ---- token / login ---------------------------------------------------- */

/* Checks a 200 token answer and the claims inside; copies the token. */
static void check_token_answer(const struct http_resp *r, const char *name, long id, char *tok,
                               size_t sz)
{
    json_object *hdr = NULL, *claims = NULL;
    long long now = (long long)time(NULL);

    CU_ASSERT_FATAL(fx_expect(r, 200));
    CU_ASSERT_FATAL(http_jstr(r, "access_token") != NULL);
    CU_ASSERT_STREQ(http_jstr(r, "token_type"), "bearer");
    snprintf(tok, sz, "%s", http_jstr(r, "access_token"));
    hdr = fx_jwt_part(tok, 0);
    claims = fx_jwt_part(tok, 1);
    CU_ASSERT_FATAL(hdr != NULL && claims != NULL);
    CU_ASSERT(fx_jstr(hdr, "alg") && strcmp(fx_jstr(hdr, "alg"), "HS256") == 0);
    CU_ASSERT(fx_jstr(claims, "sub") && strcmp(fx_jstr(claims, "sub"), name) == 0);
    CU_ASSERT_EQUAL(fx_jint(claims, "uid"), id);
    CU_ASSERT(fx_jint(claims, "iat") >= now - 120 && fx_jint(claims, "iat") <= now + 120);
    CU_ASSERT(fx_jint(claims, "exp") > now && fx_jint(claims, "exp") > fx_jint(claims, "iat"));
    CU_ASSERT(fx_jstr(claims, "jti") && strlen(fx_jstr(claims, "jti")) >= 8);
    json_object_put(hdr);
    json_object_put(claims);
}

static void t_token_form_and_json(void)
{
    struct http_resp r;
    char name[64], body[512], t1[2048], t2[2048], t3[2048];
    json_object *c1, *c2;
    long id;

    fx_uniq(name, sizeof(name), "au");
    CU_ASSERT_FATAL((id = register_user(name, FX_PASSWORD)) > 0);

    snprintf(body, sizeof(body), "username=%s&password=%s", name, FX_PASSWORD);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_FORM_CT, body, &r) == 0);
    check_token_answer(&r, name, id, t1, sizeof(t1));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\",\"extra\":1}", name, FX_PASSWORD);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_JSON_CT, body, &r) == 0);
    check_token_answer(&r, name, id, t2, sizeof(t2));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "username=%s&password=%s", name, FX_PASSWORD);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/login", NULL, FX_FORM_CT, body, &r) == 0);
    check_token_answer(&r, name, id, t3, sizeof(t3));
    http_resp_free(&r);

    c1 = fx_jwt_part(t1, 1);
    c2 = fx_jwt_part(t2, 1);
    CU_ASSERT(fx_jstr(c1, "jti") && fx_jstr(c2, "jti") && strcmp(fx_jstr(c1, "jti"), fx_jstr(c2, "jti")) != 0);
    json_object_put(c1);
    json_object_put(c2);

    /* each token works */
    get_me(t3, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_STREQ(http_jstr(&r, "username"), name);
    http_resp_free(&r);
}

/* A password full of form metacharacters, percent-encoded in the form. */
static void t_token_form_encoding(void)
{
    struct http_resp r;
    char name[64], body[512], tok[2048];
    long id;

    fx_uniq(name, sizeof(name), "au");
    CU_ASSERT_FATAL((id = register_user(name, "p&ss w+rd=%ok")) > 0);
    snprintf(body, sizeof(body), "password=p%%26ss+w%%2Brd%%3D%%25ok&username=%s", name);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_FORM_CT, body, &r) == 0);
    check_token_answer(&r, name, id, tok, sizeof(tok));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"p&ss w+rd=%%ok\"}", name);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/login", NULL, FX_JSON_CT, body, &r) == 0);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
}

static void expect_bad_login(const char *path, const char *ct, const char *body)
{
    struct http_resp r;
    char www[128];

    CU_ASSERT_FATAL(http_send("POST", path, NULL, ct, body, &r) == 0);
    CU_ASSERT(fx_expect_detail(&r, 401, "Incorrect username or password"));
    CU_ASSERT(http_header(&r, "WWW-Authenticate", www, sizeof(www)) && strncmp(www, "Bearer", 6) == 0);
    CU_ASSERT_PTR_NULL(http_jstr(&r, "access_token"));
    http_resp_free(&r);
}

static void t_token_wrong_credentials(void)
{
    char name[64], ghost[64], body[512];

    fx_uniq(name, sizeof(name), "au");
    fx_uniq(ghost, sizeof(ghost), "ghost");
    CU_ASSERT_FATAL(register_user(name, FX_PASSWORD) > 0);

    /* at most 2 failures per username, far from the brute-force limit */
    snprintf(body, sizeof(body), "username=%s&password=wrong-password", name);
    expect_bad_login("/api/auth/token", FX_FORM_CT, body);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s \"}", name, FX_PASSWORD);
    expect_bad_login("/api/auth/login", FX_JSON_CT, body);
    snprintf(body, sizeof(body), "username=%s&password=%s", ghost, FX_PASSWORD);
    expect_bad_login("/api/auth/token", FX_FORM_CT, body);
    snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", ghost, FX_PASSWORD);
    expect_bad_login("/api/auth/login", FX_JSON_CT, body);

    /* the right password still works afterwards */
    CU_ASSERT_EQUAL(fx_login(name, FX_PASSWORD, NULL, 0), 200);
}

static void t_token_missing_fields(void)
{
    struct http_resp r;
    char name[64], body[512];

    fx_uniq(name, sizeof(name), "au");
    snprintf(body, sizeof(body), "password=%s", FX_PASSWORD);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_FORM_CT, body, &r) == 0);
    CU_ASSERT(fx_expect_422(&r, "body", "username", "missing"));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "username=%s", name);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/login", NULL, FX_FORM_CT, body, &r) == 0);
    CU_ASSERT(fx_expect_422(&r, "body", "password", "missing"));
    http_resp_free(&r);

    snprintf(body, sizeof(body), "{\"password\":\"%s\"}", FX_PASSWORD);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_JSON_CT, body, &r) == 0);
    CU_ASSERT(fx_expect_422(&r, "body", "username", "missing"));
    http_resp_free(&r);

    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_JSON_CT, "{\"username\":", &r) == 0);
    CU_ASSERT(fx_expect_422(&r, "body", NULL, "json_invalid"));
    http_resp_free(&r);

    CU_ASSERT_FATAL(http_send("POST", "/api/auth/token", NULL, FX_FORM_CT, "", &r) == 0);
    CU_ASSERT(fx_expect_422(&r, "body", "username", "missing"));
    http_resp_free(&r);
}

/* ---- bearer checks ---------------------------------------------------- */

static void t_me(void)
{
    struct http_resp r;
    char name[64], tok[2048];
    long id = new_user(name, sizeof(name), tok, sizeof(tok));

    get_me(tok, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT(fx_is_user_response(r.json));
    CU_ASSERT_EQUAL(http_jint(&r, "id"), id);
    CU_ASSERT_STREQ(http_jstr(&r, "username"), name);
    http_resp_free(&r);
}

static void t_no_or_malformed_token(void)
{
    static const char *const auth[] = {
        "Bearer", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c", "Bearer ..", "Basic YWRtaW46YWRtaW4=",
        "Token abc",
    };
    struct http_resp r;

    get_me(NULL, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    for (size_t i = 0; i < sizeof(auth) / sizeof(auth[0]); i++) {
        get_me_raw(auth[i], &r);
        if (!fx_expect_401(&r))
            fprintf(stderr, "    Authorization: %s\n", auth[i]);
        CU_ASSERT_EQUAL(r.status, 401);
        http_resp_free(&r);
    }

    /* the other Bearer routes answer the same way */
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/refresh", NULL, NULL, NULL, &r) == 0);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_send("PUT", "/api/users/1", NULL, FX_JSON_CT, "{\"full_name\":\"x\"}", &r) == 0);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_send("GET", "/api/analytics/users/1/performance", NULL, NULL, NULL, &r) == 0);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
}

/* Every forged variant is refused with 401; a correctly forged one passes,
 * which proves the refusals are about the flaw, not about forging. */
static void t_forged_tokens(void)
{
    const char *secret = getenv("JWT_SECRET");
    struct http_resp r;
    char name[64], tok[2048], bad[2048], json[512];
    long now = (long)time(NULL), id;

    CU_ASSERT_FATAL(secret != NULL && strlen(secret) >= 32);
    id = new_user(name, sizeof(name), tok, sizeof(tok));

    CU_ASSERT_FATAL(forge(JWT_ALG_HS256, secret, name, id, now, now + 600, bad, sizeof(bad)) == 0);
    get_me(bad, &r);
    CU_ASSERT(fx_expect(&r, 200)); /* control: a well-formed token with the real key */
    http_resp_free(&r);

    struct {
        const char *what;
        jwt_alg_t alg;
        const char *key;
        const char *sub;
        long uid, iat, exp;
    } cases[] = {
        {"expired", JWT_ALG_HS256, secret, name, id, now - 7200, now - 60},
        {"wrong key", JWT_ALG_HS256, "an-entirely-different-secret-of-32+bytes!", name, id, now, now + 600},
        {"HS512 with the real key", JWT_ALG_HS512, secret, name, id, now, now + 600},
        {"HS384 with the real key", JWT_ALG_HS384, secret, name, id, now, now + 600},
        {"alg none", JWT_ALG_NONE, NULL, name, id, now, now + 600},
        {"no exp", JWT_ALG_HS256, secret, name, id, now, 0},
        {"unknown user", JWT_ALG_HS256, secret, "ghost-user-never-created", 999999999L, now, now + 600},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CU_ASSERT_FATAL(forge(cases[i].alg, cases[i].key, cases[i].sub, cases[i].uid, cases[i].iat,
                              cases[i].exp, bad, sizeof(bad)) == 0);
        get_me(bad, &r);
        if (!fx_expect_401(&r))
            fprintf(stderr, "    forged: %s\n", cases[i].what);
        CU_ASSERT_EQUAL(r.status, 401);
        http_resp_free(&r);
    }

    /* the real token with the payload swapped for the admin's claims */
    snprintf(json, sizeof(json), "{\"sub\":\"%s\",\"uid\":1,\"iat\":%ld,\"exp\":%ld,\"jti\":\"x-%ld\"}",
             getenv("ADMIN_USERNAME") ? getenv("ADMIN_USERNAME") : "admin", now, now + 600, now);
    splice_payload(tok, json, bad, sizeof(bad));
    get_me(bad, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);

    /* the real token with its header switched to "none" (signature kept or dropped) */
    {
        const char *d1 = strchr(tok, '.');
        const char *d2 = strchr(d1 + 1, '.');
        char hdr[128];
        const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";

        fx_b64url_encode((const unsigned char *)none, strlen(none), hdr);
        snprintf(bad, sizeof(bad), "%s%s", hdr, d1);
        get_me(bad, &r);
        CU_ASSERT(fx_expect_401(&r));
        http_resp_free(&r);
        snprintf(bad, sizeof(bad), "%s%.*s.", hdr, (int)(d2 - d1), d1);
        get_me(bad, &r);
        CU_ASSERT(fx_expect_401(&r));
        http_resp_free(&r);
    }

    /* one flipped signature character; the token without its signature */
    snprintf(bad, sizeof(bad), "%s", tok);
    bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
    get_me(bad, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);
    snprintf(bad, sizeof(bad), "%.*s.", (int)(strrchr(tok, '.') - tok), tok);
    get_me(bad, &r);
    CU_ASSERT(fx_expect_401(&r));
    http_resp_free(&r);

    /* and the real one still works */
    get_me(tok, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
}

static void admin_put(long id, const char *json)
{
    struct http_resp r;
    char path[64];

    snprintf(path, sizeof(path), "/api/users/%ld", id);
    CU_ASSERT_FATAL(http_send("PUT", path, admin_token, FX_JSON_CT, json, &r) == 0);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
}

static void t_inactive_user(void)
{
    struct http_resp r;
    char name[64], tok[2048];
    long id = new_user(name, sizeof(name), tok, sizeof(tok));

    CU_ASSERT_FATAL(admin_token[0] != '\0');
    admin_put(id, "{\"is_active\":false}");

    get_me(tok, &r);
    CU_ASSERT(fx_expect_detail(&r, 403, "Inactive user"));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/refresh", tok, NULL, NULL, &r) == 0);
    CU_ASSERT(fx_expect_detail(&r, 403, "Inactive user"));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_login(name, FX_PASSWORD, NULL, 0), 403);
    {
        char body[256];
        snprintf(body, sizeof(body), "username=%s&password=%s", name, FX_PASSWORD);
        CU_ASSERT_FATAL(http_send("POST", "/api/auth/login", NULL, FX_FORM_CT, body, &r) == 0);
        CU_ASSERT(fx_expect_detail(&r, 403, "Inactive user"));
        http_resp_free(&r);
    }

    /* a wrong password for an inactive user is still just a wrong password */
    {
        char body[256];
        snprintf(body, sizeof(body), "username=%s&password=not-the-password", name);
        expect_bad_login("/api/auth/token", FX_FORM_CT, body);
    }

    admin_put(id, "{\"is_active\":true}");
    get_me(tok, &r);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);
    CU_ASSERT_EQUAL(fx_login(name, FX_PASSWORD, NULL, 0), 200);
}

static void t_refresh(void)
{
    struct http_resp r;
    char name[64], tok[2048], fresh[2048];
    json_object *c1, *c2;
    long id = new_user(name, sizeof(name), tok, sizeof(tok));

    CU_ASSERT_FATAL(http_send("POST", "/api/auth/refresh", tok, NULL, NULL, &r) == 0);
    check_token_answer(&r, name, id, fresh, sizeof(fresh));
    http_resp_free(&r);
    c1 = fx_jwt_part(tok, 1);
    c2 = fx_jwt_part(fresh, 1);
    CU_ASSERT(fx_jstr(c1, "jti") && fx_jstr(c2, "jti") && strcmp(fx_jstr(c1, "jti"), fx_jstr(c2, "jti")) != 0);
    CU_ASSERT(fx_jint(c2, "exp") >= fx_jint(c1, "exp"));
    json_object_put(c1);
    json_object_put(c2);

    get_me(fresh, &r);
    CU_ASSERT(fx_expect(&r, 200));
    CU_ASSERT_EQUAL(http_jint(&r, "id"), id);
    http_resp_free(&r);

    /* a JSON body, even a junk one, changes nothing */
    CU_ASSERT_FATAL(http_send("POST", "/api/auth/refresh", fresh, FX_JSON_CT, "{}", &r) == 0);
    CU_ASSERT(fx_expect(&r, 200));
    http_resp_free(&r);

    /* an expired token cannot be refreshed */
    {
        const char *secret = getenv("JWT_SECRET");
        long now = (long)time(NULL);
        char old[2048];

        CU_ASSERT_FATAL(secret != NULL);
        CU_ASSERT_FATAL(forge(JWT_ALG_HS256, secret, name, id, now - 7200, now - 10, old, sizeof(old)) == 0);
        CU_ASSERT_FATAL(http_send("POST", "/api/auth/refresh", old, NULL, NULL, &r) == 0);
        CU_ASSERT(fx_expect_401(&r));
        http_resp_free(&r);
    }

    CU_ASSERT_FATAL(http_send("GET", "/api/auth/refresh", fresh, NULL, NULL, &r) == 0);
    CU_ASSERT(fx_expect_detail(&r, 405, "Method Not Allowed"));
    http_resp_free(&r);
}

/* The admin's token, for the tests that need an admin PUT. */
static int suite_setup(void)
{
    admin_token[0] = '\0';
    fx_admin_login(NULL, admin_token, sizeof(admin_token));
    return 0; /* without it, the tests that need it fail on their own */
}

int main(void)
{
    static const struct test_case cases[] = {
        {"register: 201 UserResponse", t_register},
        {"register: duplicate username/email 400", t_register_duplicate},
        {"register: username and password lengths", t_register_lengths},
        {"register: 422 per field", t_register_validation},
        {"register: array, null, wrong content type, bad UTF-8", t_register_bad_bodies},
        {"token/login: form and JSON, JWT claims", t_token_form_and_json},
        {"token: form percent-encoding", t_token_form_encoding},
        {"token/login: wrong username or password 401", t_token_wrong_credentials},
        {"token/login: missing fields 422", t_token_missing_fields},
        {"GET /api/users/me", t_me},
        {"no or malformed token 401", t_no_or_malformed_token},
        {"forged tokens 401", t_forged_tokens},
        {"inactive user 403", t_inactive_user},
        {"refresh", t_refresh},
        {NULL, NULL},
    };
    return fx_run_suite("integration_auth", cases, suite_setup, NULL);
}
