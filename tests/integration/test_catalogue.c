/* Integration: the bad-input catalogue. Several hundred hostile or malformed
 * requests through nginx — malformed and truncated JSON, wrong types, huge,
 * negative and overflowing numbers and ids, invalid UTF-8, NUL and control
 * bytes in every kind of field (query, form, JSON, path, headers), over-long
 * fields and bodies, wrong content types, duplicated parameters, SQL
 * injection and path traversal strings, forged/expired/alg-none/wrong-key
 * and other users' tokens, tokens from before a password change, someone
 * else's session, and slash spellings of every restricted path. Each must
 * get its own 4xx in the contract's error shape ({"detail": "..."} or
 * FastAPI's list for 422), never a 5xx; afterwards the row counts and a
 * checksum of users and mission_progress must be what they were.
 * Every request is written out with its expected status, so a failure names
 * the request. */
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

#define PROXY "127.0.0.2" /* trusted by the test stack; not allowed /metrics */

enum who { ANON, ME, OTHER, ADMIN, STALE, DELETED, RAW };

struct hostile {
    const char *method;
    const char *path;  /* "{me}", "{other}", "{sess}" are replaced */
    enum who who;      /* whose token goes in Authorization (RAW: header given) */
    const char *ctype; /* Content-Type, NULL: none */
    const char *body;  /* NULL: none */
    size_t body_len;   /* 0: strlen(body) */
    long status;       /* the one right answer */
    const char *header; /* one extra "Name: value" header, or NULL */
};

static char tok_me[2048], tok_other[2048], tok_admin[2048], tok_stale[2048], tok_deleted[2048];
static long id_me, id_other;
static char sess_other[64];
static char checksum_before[256];
static long sent, checked;

/* ---- the database's state ----------------------------------------------- */

/* Row counts and an order-independent checksum of every column of users and
 * mission_progress, as one line. */
static int db_checksum(char *out, size_t sz)
{
    return fx_cli_line(
        "MYSQL_CLI",
        "-N -B -e \"SELECT CONCAT((SELECT COUNT(*) FROM users), ':', "
        "(SELECT COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', id, username, email, IFNULL(full_name, "
        "'~'), hashed_password, is_active, is_admin, guild_rank, experience_points, "
        "missions_completed, token_version, created_at))), 0) FROM users), ':', "
        "(SELECT COUNT(*) FROM mission_progress), ':', "
        "(SELECT COALESCE(BIT_XOR(CRC32(CONCAT_WS('#', id, user_id, mission_id, mission_name, "
        "status, score, IFNULL(started_at, '~'), IFNULL(completed_at, '~')))), 0) FROM "
        "mission_progress))\"",
        out, sz);
}

/* ---- sending ------------------------------------------------------------ */

static void expand(const char *in, char *out, size_t sz)
{
    size_t o = 0;

    while (*in != '\0' && o + 1 < sz) {
        const char *val = NULL;
        char num[32];
        size_t skip = 0;
        if (strncmp(in, "{me}", 4) == 0) {
            snprintf(num, sizeof(num), "%ld", id_me);
            val = num;
            skip = 4;
        } else if (strncmp(in, "{other}", 7) == 0) {
            snprintf(num, sizeof(num), "%ld", id_other);
            val = num;
            skip = 7;
        } else if (strncmp(in, "{sess}", 6) == 0) {
            val = sess_other;
            skip = 6;
        }
        if (val != NULL) {
            o += (size_t)snprintf(out + o, sz - o, "%s", val);
            in += skip;
        } else {
            out[o++] = *in++;
        }
    }
    out[o < sz ? o : sz - 1] = '\0';
}

static const char *token_of(enum who w)
{
    switch (w) {
    case ME:
        return tok_me;
    case OTHER:
        return tok_other;
    case ADMIN:
        return tok_admin;
    case STALE:
        return tok_stale;
    case DELETED:
        return tok_deleted;
    default:
        return NULL;
    }
}

/* The body is the contract's error shape for status. */
static int error_shape_ok(const struct http_resp *r, long status)
{
    json_object *d;

    if (status == 304 || status == 204)
        return 1;
    if (!fx_is_json_ct(r) || r->json == NULL || !json_object_is_type(r->json, json_type_object))
        return 0;
    d = fx_jget(r->json, "detail");
    if (status != 422)
        return d != NULL && json_object_is_type(d, json_type_string) &&
               json_object_get_string_len(d) > 0;
    if (d == NULL || !json_object_is_type(d, json_type_array) || json_object_array_length(d) == 0)
        return 0;
    for (size_t i = 0; i < json_object_array_length(d); i++) {
        json_object *e = json_object_array_get_idx(d, i), *loc = fx_jget(e, "loc");
        const char *l0;
        if (loc == NULL || !json_object_is_type(loc, json_type_array) ||
            json_object_array_length(loc) == 0 || fx_jstr(e, "msg") == NULL ||
            fx_jstr(e, "type") == NULL)
            return 0;
        l0 = json_object_get_string(json_object_array_get_idx(loc, 0));
        if (l0 == NULL || (strcmp(l0, "body") != 0 && strcmp(l0, "query") != 0 &&
                           strcmp(l0, "path") != 0))
            return 0;
    }
    return 1;
}

/* Sends one hostile request (a 429 of the general limiter is waited out and
 * sent again: the catalogue is about validation, not rate) and checks it. */
static void send_one(const struct hostile *h, const char *iface)
{
    char path[8192], auth[2200], ct[160];
    const char *hdr[4] = {NULL, NULL, NULL, NULL};
    const char *tok = token_of(h->who);
    size_t n = 0, blen = h->body ? (h->body_len ? h->body_len : strlen(h->body)) : 0;
    struct http_resp r;
    int rc;

    expand(h->path, path, sizeof(path));
    if (tok != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
        hdr[n++] = auth;
    }
    if (h->ctype != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", h->ctype);
        hdr[n++] = ct;
    }
    if (h->header != NULL)
        hdr[n++] = h->header;
    for (int attempt = 0;; attempt++) {
        rc = iface ? http_request_from(iface, h->method, path, hdr, h->body, blen, &r)
                   : http_request(h->method, path, hdr, h->body, blen, &r);
        CU_ASSERT_FATAL(rc == 0);
        if (r.status != 429 || h->status == 429 || attempt == 3)
            break;
        http_resp_free(&r);
        sleep(2); /* the test stack's general window is 2 s */
    }
    sent++;
    if (r.status != h->status || !error_shape_ok(&r, h->status)) {
        fprintf(stderr, "\n    %s %.120s%s (who %d, ct %s, %zu body bytes): want %ld, got %ld: %.200s",
                h->method, path, strlen(path) > 120 ? "..." : "", (int)h->who,
                h->ctype ? h->ctype : "-", blen, h->status, r.status, r.body);
        CU_FAIL("hostile request answered wrongly");
    } else {
        checked++;
    }
    CU_ASSERT(r.status < 500);
    http_resp_free(&r);
}

static void send_all(const struct hostile *hs, size_t n, const char *iface)
{
    for (size_t i = 0; i < n; i++)
        send_one(&hs[i], iface);
}

/* ---- the catalogue ------------------------------------------------------ */

#define J "application/json"
#define F "application/x-www-form-urlencoded"

/* Malformed JSON documents: every JSON route answers each with 422. */
static const char *const bad_json[] = {
    "{",
    "}",
    "{\"username\":}",
    "{\"username\" \"x\"}",
    "[1,]",
    "{\"a\":1,}",
    "{\"a\":1}x",
    "{'a':1}",
    "{\"a\":01}",
    "{\"a\":NaN}",
    "{\"a\":Infinity}",
    "{\"a\":-}",
    "{\"a\":1e}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\ud800\"}",
    "{\"a\":\"unterminated}",
    "/* comment */ {}",
    "{\"a\":1} // trailing",
    "\xef\xbb\xbf{}",
    "{\"a\":tru}",
    "nul",
    "",
    "   ",
    "{\"a\":\"\xff\xfe\"}",
    "{\"a\":\"\xc0\xaf\"}",
    "{\"a\":\"\xed\xa0\x80\"}",
    "null",
    "[]",
    "\"a string\"",
    "42",
    "true",
};

/* JSON routes (an authenticated caller where one is needed). */
static const struct {
    const char *method, *path;
    enum who who;
} json_routes[] = {
    {"POST", "/api/auth/register", ANON},
    {"POST", "/api/users", ANON},
    {"PUT", "/api/users/{me}", ME},
    {"POST", "/api/users/{me}/missions", ME},
    {"POST", "/api/sessions", ME},
};

/* Wrong values for each field of the registration body; each is 422. The
 * rest of the body is valid, so the field alone is at fault. */
static const char *const bad_username[] = {
    "123", "true", "null", "[]", "{}", "\"\"", "\"ab\"",
    "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"", /* 51 */
    "\"a\\u0000b\"", "\"ab\\u0001c\"", "\"tab\\there\"", "\"new\\nline\"", "\" lead\"",
    "\"trail \"", "\"\\u007f\"", "1e400",
};
static const char *const bad_email[] = {
    "123", "null", "\"\"", "\"plain\"", "\"a@b\"", "\"@example.com\"", "\"a@@example.com\"",
    "\"a b@example.com\"", "\"a@exa mple.com\"", "\"a@-example.com\"", "\"a..b@example.com\"",
    "\"a@example.com\\u0000x\"", "\"a@example.c\"", "\"x' OR '1'='1@example.com\"",
};
static const char *const bad_password[] = {
    "12345678", "null", "\"\"", "\"short\"", "[\"correct-horse-9\"]", "true",
    "\"pw\\u0000pw-long-enough\"",
};
static const char *const bad_full_name[] = {"5", "[]", "{}", "true", "\"x\\u0000y\""};

static void t_json_documents(void)
{
    static struct hostile h[sizeof(bad_json) / sizeof(bad_json[0]) *
                            sizeof(json_routes) / sizeof(json_routes[0])];
    size_t n = 0;

    for (size_t r = 0; r < sizeof(json_routes) / sizeof(json_routes[0]); r++)
        for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++)
            h[n++] = (struct hostile){json_routes[r].method, json_routes[r].path,
                                      json_routes[r].who, J, bad_json[i], 0, 422, NULL};
    send_all(h, n, NULL);
}

/* body with field = value and every other registration field valid */
static char *register_body(const char *field, const char *value)
{
    char *b = malloc(4096);

    CU_ASSERT_FATAL(b != NULL);
    snprintf(b, 4096, "{\"username\":%s,\"email\":%s,\"password\":%s,\"full_name\":%s}",
             strcmp(field, "username") == 0 ? value : "\"cat-user-unused\"",
             strcmp(field, "email") == 0 ? value : "\"cat-unused@example.com\"",
             strcmp(field, "password") == 0 ? value : "\"" FX_PASSWORD "\"",
             strcmp(field, "full_name") == 0 ? value : "null");
    return b;
}

static void t_json_fields(void)
{
    static const struct {
        const char *field;
        const char *const *values;
        size_t n;
    } fields[] = {
        {"username", bad_username, sizeof(bad_username) / sizeof(bad_username[0])},
        {"email", bad_email, sizeof(bad_email) / sizeof(bad_email[0])},
        {"password", bad_password, sizeof(bad_password) / sizeof(bad_password[0])},
        {"full_name", bad_full_name, sizeof(bad_full_name) / sizeof(bad_full_name[0])},
    };
    static const char *const routes[] = {"/api/auth/register", "/api/users"};

    for (size_t r = 0; r < 2; r++)
        for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
            for (size_t i = 0; i < fields[f].n; i++) {
                char *b = register_body(fields[f].field, fields[f].values[i]);
                struct hostile h = {"POST", routes[r], ANON, J, b, 0, 422, NULL};
                send_one(&h, NULL);
                free(b);
            }
    /* a full_name over 255 characters, a password over 128 */
    {
        char big[600], *b;
        memset(big, 'x', sizeof(big));
        big[0] = '"';
        big[300] = '"';
        big[301] = '\0';
        b = register_body("full_name", big);
        send_one(&(struct hostile){"POST", "/api/auth/register", ANON, J, b, 0, 422, NULL}, NULL);
        free(b);
        big[130] = '"';
        big[131] = '\0';
        b = register_body("password", big);
        send_one(&(struct hostile){"POST", "/api/auth/register", ANON, J, b, 0, 422, NULL}, NULL);
        free(b);
    }
}

static void t_update_and_missions(void)
{
    static const struct hostile h[] = {
        /* PUT: wrong types and ranges, privileged fields as a user */
        {"PUT", "/api/users/{me}", ME, J, "{\"email\":5}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"email\":\"not-an-address\"}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"password\":\"short\"}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"full_name\":{\"a\":1}}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"is_admin\":true}", 0, 403, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"experience_points\":999999}", 0, 403, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"guild_rank\":\"Master\"}", 0, 403, NULL},
        {"PUT", "/api/users/{me}", ME, J, "{\"is_active\":true}", 0, 403, NULL},
        {"PUT", "/api/users/{other}", ME, J, "{\"full_name\":\"hijack\"}", 0, 403, NULL},
        {"PUT", "/api/users/{other}", ME, J, "{\"password\":\"hijacked-password\"}", 0, 403, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"experience_points\":-1}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"experience_points\":1e400}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"experience_points\":9223372036854775808}", 0,
         422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"experience_points\":1.5}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"missions_completed\":-3}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"is_admin\":\"yes\"}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"is_active\":1}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"guild_rank\":\"Emperor\"}", 0, 422, NULL},
        {"PUT", "/api/users/{me}", ADMIN, J, "{\"guild_rank\":\"Master\\u0000\"}", 0, 422, NULL},
        {"PUT", "/api/users/999999999", ADMIN, J, "{\"full_name\":\"nobody\"}", 0, 404, NULL},
        /* missions: ids out of range, wrong types */
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":0}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":14}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":-1}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":\"one\"}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":1.5}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":null}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{}", 0, 422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":99999999999999999999}", 0,
         422, NULL},
        {"POST", "/api/users/{me}/missions", ME, J, "{\"mission_id\":3,\"mission_name\":7}", 0,
         422, NULL},
        {"POST", "/api/users/{other}/missions", ME, J, "{\"mission_id\":3}", 0, 403, NULL},
        {"POST", "/api/users/999999999/missions", ADMIN, J, "{\"mission_id\":3}", 0, 404, NULL},
        /* completion: score and mission id */
        {"POST", "/api/users/{me}/missions/3/complete?score=-1", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=101", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=abc", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=nan", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=inf", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=1e999", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=0x10", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=50%00", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/3/complete?score=50&score=500", ME, NULL, NULL, 0, 422,
         NULL},
        {"POST", "/api/users/{me}/missions/0/complete", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/14/complete", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/abc/complete", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{me}/missions/-1/complete", ME, NULL, NULL, 0, 422, NULL},
        {"POST", "/api/users/{other}/missions/3/complete", ME, NULL, NULL, 0, 403, NULL},
    };
    send_all(h, sizeof(h) / sizeof(h[0]), NULL);
}

static void t_content_types(void)
{
    static const char *const wrong[] = {
        "text/plain", "application/xml", "multipart/form-data; boundary=x", F,
        "application/jsonx", "application/json-patch+json", "text/json", "",
    };
    static const char body[] = "{\"username\":\"cat-ct\",\"email\":\"cat-ct@example.com\","
                               "\"password\":\"" FX_PASSWORD "\"}";

    for (size_t r = 0; r < sizeof(json_routes) / sizeof(json_routes[0]); r++)
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
            struct hostile h = {json_routes[r].method, json_routes[r].path, json_routes[r].who,
                                wrong[i][0] ? wrong[i] : NULL, body, 0, 422, NULL};
            send_one(&h, NULL);
        }
}

static void t_logins(void)
{
    static const struct hostile h[] = {
        {"POST", "/api/auth/token", ANON, F, "", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=&password=", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=admin", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "password=x", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=%zz&password=x", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=a%00b&password=x", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=x&password=a%00b", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=%FF%FE&password=x", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=\xff&password=x", 0, 422, NULL},
        {"POST", "/api/auth/login", ANON, F, "username=x&password=%C0%AF", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, J, "{\"username\":5,\"password\":\"x\"}", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, J, "{\"username\":\"x\"}", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, J, "username=x&password=y", 0, 422, NULL},
        {"POST", "/api/auth/token", ANON, J, "{\"username\":\"a\\u0000\",\"password\":\"x\"}", 0,
         422, NULL},
        /* injection strings are just wrong credentials */
        {"POST", "/api/auth/token", ANON, F, "username=admin'+OR+'1'%3D'1&password=x'+OR+'1'%3D'1",
         0, 401, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=admin'--&password=whatever", 0, 401, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=\"+OR+1%3D1+%23&password=x", 0, 401, NULL},
        {"POST", "/api/auth/token", ANON, F, "username=admin%3B+DROP+TABLE+users&password=x", 0,
         401, NULL},
        {"POST", "/api/auth/login", ANON, F, "username=*&password=*", 0, 401, NULL},
        {"POST", "/api/auth/login", ANON, F, "username=%25&password=%25", 0, 401, NULL},
    };
    /* from distinct addresses: the login limiter (5 per address and name)
     * must not be what answers */
    for (size_t i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
        char xff[64];
        struct hostile one = h[i];
        snprintf(xff, sizeof(xff), "X-Forwarded-For: 10.77.%u.%zu", (unsigned)getpid() & 255u, i);
        one.header = xff;
        send_one(&one, PROXY);
    }
}

static void t_query_params(void)
{
    static const struct hostile h[] = {
        {"GET", "/api/analytics/leaderboard?limit=0", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=-1", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=101", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=1e3", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=0x10", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=ten", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=+5", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=5%20", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=99999999999999999999999", ANON, NULL, NULL, 0,
         422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=3%00zz", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=%FF", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=5&limit=500", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/analytics/leaderboard?limit=%zz", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/api/analytics/leaderboard?%00=1", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/api/users?skip=-1", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?limit=0", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?limit=101", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?limit=1.5", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?min_experience=abc", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?min_experience=1e5", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?skip=18446744073709551616", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?guild_rank=Apprentice%00xxxxxxxxxxxxxxxxxxxxxxxxxxxx", ANON, NULL,
         NULL, 0, 422, NULL},
        {"GET", "/api/users?guild_rank=%27+OR+1%3D1+UNION+SELECT+hashed_password+FROM+users--",
         ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?guild_rank=%E9", ANON, NULL, NULL, 0, 422, NULL},
        {"GET", "/api/users?limit=1&limit=0", ANON, NULL, NULL, 0, 422, NULL},
        {"DELETE", "/api/cache/clear?pattern=", ADMIN, NULL, NULL, 0, 422, NULL},
        {"DELETE", "/api/cache/clear?pattern=x%00*", ADMIN, NULL, NULL, 0, 422, NULL},
        {"DELETE", "/api/cache/clear?pattern=%01*", ADMIN, NULL, NULL, 0, 422, NULL},
        {"DELETE", "/api/cache/clear?pattern=a%0Ab", ADMIN, NULL, NULL, 0, 422, NULL},
        {"DELETE", "/api/cache/clear?pattern=%FF*", ADMIN, NULL, NULL, 0, 422, NULL},
        {"DELETE", "/api/cache/clear?pattern=*&pattern=x%00", ADMIN, NULL, NULL, 0, 422, NULL},
    };
    char path[512];
    struct hostile big;

    send_all(h, sizeof(h) / sizeof(h[0]), NULL);
    /* a pattern of 257 bytes */
    snprintf(path, sizeof(path), "/api/cache/clear?pattern=");
    memset(path + strlen(path), 'p', 257);
    path[25 + 257] = '\0';
    big = (struct hostile){"DELETE", path, ADMIN, NULL, NULL, 0, 422, NULL};
    send_one(&big, NULL);
}

static void t_path_ids(void)
{
    static const char *const bad422[] = {
        "abc", "1.5", "0x10", "1e3", "%20", "1%20", "%2B1", "1abc", "%FF", "1;2", "%E2%80%AE1",
    };
    /* nginx decodes the path first: %2F and %2e%2e resolve to other (unknown)
     * paths, and a decoded NUL is a malformed request to nginx itself */
    static const char *const bad404[] = {"0", "-1", "-0", "99999999999999999999999",
                                         "18446744073709551616", "999999999"};
    static const struct {
        const char *path;
        long status;
    } decoded[] = {
        {"/api/users/..%2F..%2Fetc%2Fpasswd", 404}, {"/api/users/%2e%2e", 404},
        {"/api/users/%2e%2e/missions", 404},       {"/api/users/%00", 400},
        {"/api/users/1%00", 400},                   {"/api/users/me%00", 400},
        {"/api/users/1%00/missions", 400},         {"/api/analytics/users/%00/performance", 400},
    };
    char path[256];

    for (size_t i = 0; i < sizeof(bad422) / sizeof(bad422[0]); i++) {
        snprintf(path, sizeof(path), "/api/users/%s", bad422[i]);
        send_one(&(struct hostile){"GET", path, ANON, NULL, NULL, 0, 422, NULL}, NULL);
        snprintf(path, sizeof(path), "/api/analytics/users/%s/performance", bad422[i]);
        send_one(&(struct hostile){"GET", path, ME, NULL, NULL, 0, 422, NULL}, NULL);
        snprintf(path, sizeof(path), "/api/users/%s/missions", bad422[i]);
        send_one(&(struct hostile){"GET", path, ANON, NULL, NULL, 0, 422, NULL}, NULL);
    }
    for (size_t i = 0; i < sizeof(decoded) / sizeof(decoded[0]); i++)
        send_one(&(struct hostile){"GET", decoded[i].path, ANON, NULL, NULL, 0, decoded[i].status,
                                   NULL},
                 NULL);
    for (size_t i = 0; i < sizeof(bad404) / sizeof(bad404[0]); i++) {
        snprintf(path, sizeof(path), "/api/users/%s", bad404[i]);
        send_one(&(struct hostile){"GET", path, ANON, NULL, NULL, 0, 404, NULL}, NULL);
        send_one(&(struct hostile){"DELETE", path, ADMIN, NULL, NULL, 0, 404, NULL}, NULL);
    }
}

static void t_tokens(void)
{
    const char *secret = getenv("JWT_SECRET");
    long now = (long)time(NULL);
    char forged[8][2048], pay[512], hdr[8][2300], big[6000];
    static const char *const routes[] = {"/api/users/me", "/api/auth/refresh",
                                         "/api/protected-endpoint"};
    size_t nf = 0;

    CU_ASSERT_FATAL(secret != NULL);
    /* expired, wrong key, no exp, a string uid, another user's id under my
     * name, a deleted user, alg none, HS512 header with an HS256 MAC */
    snprintf(pay, sizeof(pay), "{\"sub\":\"x\",\"uid\":%ld,\"iat\":%ld,\"exp\":%ld,\"jti\":\"c1\"}",
             id_me, now - 7200, now - 60);
    fx_sign_hs256(secret, pay, forged[nf++], sizeof(forged[0]));
    snprintf(pay, sizeof(pay), "{\"sub\":\"x\",\"uid\":%ld,\"iat\":%ld,\"exp\":%ld,\"jti\":\"c2\"}",
             id_me, now, now + 600);
    fx_sign_hs256("an-entirely-different-secret-of-32+bytes", pay, forged[nf++],
                  sizeof(forged[0]));
    snprintf(pay, sizeof(pay), "{\"sub\":\"x\",\"uid\":%ld,\"iat\":%ld,\"jti\":\"c3\"}", id_me,
             now);
    fx_sign_hs256(secret, pay, forged[nf++], sizeof(forged[0]));
    snprintf(pay, sizeof(pay),
             "{\"sub\":\"x\",\"uid\":\"%ld\",\"iat\":%ld,\"exp\":%ld,\"jti\":\"c4\"}", id_me, now,
             now + 600);
    fx_sign_hs256(secret, pay, forged[nf++], sizeof(forged[0]));
    snprintf(pay, sizeof(pay), "{\"sub\":\"x\",\"uid\":%ld,\"iat\":%ld,\"exp\":%ld,\"jti\":\"c5\"}",
             id_other, now, now + 600); /* sub does not match uid's username */
    fx_sign_hs256(secret, pay, forged[nf++], sizeof(forged[0]));
    snprintf(forged[nf++], sizeof(forged[0]), "%s",
             "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsInVpZCI6MSwiaWF0IjoxLCJleHAiOjk5OTk5OTk5OTksImp0aSI6IngifQ.");
    snprintf(forged[nf++], sizeof(forged[0]), "%s", "not.a.token");
    snprintf(forged[nf++], sizeof(forged[0]), "%s", "....");
    for (size_t r = 0; r < sizeof(routes) / sizeof(routes[0]); r++) {
        const char *method = strcmp(routes[r], "/api/auth/refresh") == 0 ? "POST" : "GET";
        for (size_t i = 0; i < nf; i++) {
            snprintf(hdr[i], sizeof(hdr[i]), "Authorization: Bearer %.2047s", forged[i]);
            send_one(&(struct hostile){method, routes[r], RAW, NULL, NULL, 0, 401, hdr[i]}, NULL);
        }
        send_one(&(struct hostile){method, routes[r], ANON, NULL, NULL, 0, 401, NULL}, NULL);
        send_one(&(struct hostile){method, routes[r], STALE, NULL, NULL, 0, 401, NULL}, NULL);
        send_one(&(struct hostile){method, routes[r], DELETED, NULL, NULL, 0, 401, NULL}, NULL);
        send_one(&(struct hostile){method, routes[r], RAW, NULL, NULL, 0, 401,
                                   "Authorization: Basic YWRtaW46YWRtaW4="},
                 NULL);
        send_one(&(struct hostile){method, routes[r], RAW, NULL, NULL, 0, 401,
                                   "Authorization: Bearer"},
                 NULL);
        send_one(&(struct hostile){method, routes[r], RAW, NULL, NULL, 0, 401,
                                   "Authorization: Bearer \xff\xfe\xfd"},
                 NULL);
    }
    /* an over-long token */
    snprintf(big, sizeof(big), "Authorization: Bearer ");
    memset(big + strlen(big), 'A', 5000);
    big[22 + 5000] = '\0';
    send_one(&(struct hostile){"GET", "/api/users/me", RAW, NULL, NULL, 0, 401, big}, NULL);
}

static void t_privileges(void)
{
    static const struct hostile h[] = {
        /* admin routes for a user, under every spelling of their paths */
        {"DELETE", "/api/users/{other}", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/users/{other}/", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "//api/users/{other}", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api//users//{other}", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/./users/{other}", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache/clear", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache/clear/", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache//clear", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache/./clear", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache/x/../clear", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache/%63lear", ME, NULL, NULL, 0, 403, NULL},
        {"POST", "/api/cache/warm", ME, NULL, NULL, 0, 403, NULL},
        {"POST", "/api/cache/warm/", ME, NULL, NULL, 0, 403, NULL},
        {"POST", "/api/cache/stats/reset", ME, NULL, NULL, 0, 403, NULL},
        {"POST", "/api/cache/stats/reset//", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/cache/clear", ANON, NULL, NULL, 0, 401, NULL},
        {"POST", "/api/cache/warm", ANON, NULL, NULL, 0, 401, NULL},
        {"GET", "/api/analytics/users/{other}/performance", ANON, NULL, NULL, 0, 401, NULL},
        /* someone else's session; malformed and unknown ids */
        {"GET", "/api/sessions/{sess}", ME, NULL, NULL, 0, 403, NULL},
        {"GET", "/api/sessions/{sess}/", ME, NULL, NULL, 0, 403, NULL},
        {"DELETE", "/api/sessions/{sess}", ME, NULL, NULL, 0, 403, NULL},
        {"GET", "/api/sessions/not-a-uuid", ME, NULL, NULL, 0, 404, NULL},
        {"GET", "/api/sessions/..%2F..%2Fetc%2Fpasswd", ME, NULL, NULL, 0, 404, NULL},
        {"GET", "/api/sessions/00000000-0000-4000-8000-000000000000", ME, NULL, NULL, 0, 404, NULL},
        {"GET", "/api/sessions/%2A", ME, NULL, NULL, 0, 404, NULL},
        {"GET", "/api/sessions/{sess}", ANON, NULL, NULL, 0, 401, NULL},
        {"GET", "/api/sessions/{sess}", RAW, NULL, NULL, 0, 401,
         "Cookie: guild_session=../../etc/passwd"}, /* a cookie is no credential */
        /* wrong methods and unknown routes */
        {"PATCH", "/api/users/{me}", ME, J, "{}", 0, 405, NULL},
        {"TRACE", "/api/users", ANON, NULL, NULL, 0, 405, NULL},
        {"GET", "/api/../../etc/passwd", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/api/users/../../../etc/passwd", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/static/../../etc/passwd", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/api/users/../../etc/passwd", ANON, NULL, NULL, 0, 404, NULL},
        {"GET", "/docs/../README.md", ANON, NULL, NULL, 0, 404, NULL},
        {"GET", "/static/..%2F..%2Fguild.conf", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/api/%2e%2e/%2e%2e/etc/passwd", ANON, NULL, NULL, 0, 400, NULL},
        {"GET", "/api/nope", ANON, NULL, NULL, 0, 404, NULL},
        {"GET", "/.env", ANON, NULL, NULL, 0, 404, NULL},
        {"GET", "/.git/config", ANON, NULL, NULL, 0, 404, NULL},
    };
    static const char *const metrics[] = {"/metrics", "/metrics/", "/metrics//", "/metrics/.",
                                          "/metrics/./", "//metrics", "/metrics/../metrics",
                                          "/%6Detrics"};

    send_all(h, sizeof(h) / sizeof(h[0]), NULL);
    for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
        send_one(&(struct hostile){"GET", metrics[i], ANON, NULL, NULL, 0, 403, NULL}, PROXY);
}

static void t_sizes_and_headers(void)
{
    size_t big = 70 * 1024;
    char *body = malloc(big + 1), *obj = malloc(9 * 1024 + 64), hugeh[9000];

    CU_ASSERT_FATAL(body != NULL && obj != NULL);
    memset(body, ' ', big);
    memcpy(body, "{\"username\":\"", 13);
    body[big - 2] = '"';
    body[big - 1] = '}';
    body[big] = '\0';
    send_one(&(struct hostile){"POST", "/api/auth/register", ANON, J, body, big, 413, NULL}, NULL);
    send_one(&(struct hostile){"POST", "/api/sessions", ME, J, body, big, 413, NULL}, NULL);
    send_one(&(struct hostile){"POST", "/api/auth/token", ANON, F, body, big, 413, NULL}, NULL);
    /* a session object over 8 KiB (but under 64 KiB) */
    snprintf(obj, 64, "{\"data\":\"");
    memset(obj + 9, 'd', 9 * 1024);
    snprintf(obj + 9 + 9 * 1024, 8, "\"}");
    send_one(&(struct hostile){"POST", "/api/sessions", ME, J, obj, 0, 413, NULL}, NULL);
    /* nesting deeper than 32 */
    {
        char deep[200];
        size_t n = 0;
        for (int i = 0; i < 40; i++)
            deep[n++] = '[';
        for (int i = 0; i < 40; i++)
            deep[n++] = ']';
        deep[n] = '\0';
        send_one(&(struct hostile){"POST", "/api/sessions", ME, J, deep, 0, 422, NULL}, NULL);
        send_one(&(struct hostile){"POST", "/api/auth/register", ANON, J, deep, 0, 422, NULL},
                 NULL);
    }
    /* a header larger than nginx's buffers; control bytes in a header */
    snprintf(hugeh, sizeof(hugeh), "X-Junk: ");
    memset(hugeh + 8, 'h', sizeof(hugeh) - 9);
    hugeh[sizeof(hugeh) - 1] = '\0';
    send_one(&(struct hostile){"GET", "/api/users", RAW, NULL, NULL, 0, 400, hugeh}, NULL);
    /* control bytes in the headers the API reads */
    send_one(&(struct hostile){"GET", "/api/users/me", RAW, NULL, NULL, 0, 401,
                               "Authorization: Bearer abc\001def"},
             NULL);
    send_one(&(struct hostile){"POST", "/api/auth/register", ANON, NULL,
                               "{\"username\":\"cat-ctl\"}", 0, 422,
                               "Content-Type: application/json\x01"},
             NULL);
    send_one(&(struct hostile){"POST", "/api/auth/refresh", RAW, NULL, NULL, 0, 401,
                               "Authorization: \002Bearer x"},
             NULL);
    send_one(&(struct hostile){"GET", "/api/users/me", RAW, NULL, NULL, 0, 401,
                               "Authorization: Bearer \x7f\x7f"},
             NULL);
    /* a body on a route that takes none, and a lying Content-Length */
    send_one(&(struct hostile){"POST", "/api/users/{me}/missions/3/complete?score=abc", ME, J,
                               "{\"x\":1}", 0, 422, NULL},
             NULL);
    free(body);
    free(obj);
}

/* ---- suite -------------------------------------------------------------- */

/* The cast: me, another user with a session, a token from before a
 * password change and a deleted user's token; then the checksum. */
static void t_setup(void)
{
    char name[64], tmp[2048], path[96];
    struct http_resp r;
    json_object *c;
    long gone;

    CU_ASSERT_FATAL(fx_admin_token(tok_admin, sizeof(tok_admin)) == 0);
    id_me = fx_new_user("/api/auth/register", "catme", name, sizeof(name), tok_me, sizeof(tok_me));
    id_other = fx_new_user("/api/auth/register", "catoth", name, sizeof(name), tok_other,
                           sizeof(tok_other));
    fx_new_user("/api/auth/register", "catstale", name, sizeof(name), tok_stale,
                sizeof(tok_stale));
    CU_ASSERT_FATAL(fx_login(name, FX_PASSWORD, tmp, sizeof(tmp)) == 200);
    c = fx_jwt_part(tok_stale, 1);
    CU_ASSERT_FATAL(c != NULL);
    snprintf(path, sizeof(path), "/api/users/%lld", fx_jint(c, "uid"));
    json_object_put(c);
    fx_call("PUT", path, tmp, "{\"password\":\"changed-password-9\"}", &r);
    CU_ASSERT_FATAL(r.status == 200);
    http_resp_free(&r);
    gone = fx_new_user("/api/auth/register", "catgone", name, sizeof(name), tok_deleted,
                       sizeof(tok_deleted));
    snprintf(path, sizeof(path), "/api/users/%ld", gone);
    fx_call("DELETE", path, tok_admin, NULL, &r);
    CU_ASSERT_FATAL(r.status == 204);
    http_resp_free(&r);
    fx_call("POST", "/api/sessions", tok_other, "{\"cart\":[1,2]}", &r);
    CU_ASSERT_FATAL(r.status == 201 && http_jstr(&r, "session_id") != NULL);
    snprintf(sess_other, sizeof(sess_other), "%s", http_jstr(&r, "session_id"));
    http_resp_free(&r);
    CU_ASSERT_FATAL(db_checksum(checksum_before, sizeof(checksum_before)) == 0);
}

static void t_nothing_changed(void)
{
    char after[256];

    printf("\n    %ld hostile requests sent, %ld answered as expected\n", sent, checked);
    CU_ASSERT(sent >= 200);
    CU_ASSERT_EQUAL_FATAL(db_checksum(after, sizeof(after)), 0);
    if (strcmp(after, checksum_before) != 0)
        fprintf(stderr, "    users/progress changed: %s -> %s\n", checksum_before, after);
    CU_ASSERT_STRING_EQUAL(after, checksum_before);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"setup: users, tokens, a session; checksum of users and progress", t_setup},
        {"malformed JSON documents on every JSON route: 422", t_json_documents},
        {"wrong values in every registration field: 422", t_json_fields},
        {"updates and missions: types, ranges, privileges", t_update_and_missions},
        {"wrong content types on JSON routes: 422", t_content_types},
        {"logins: malformed forms 422, injection strings 401", t_logins},
        {"query parameters: ranges, NUL, UTF-8, duplicates, patterns", t_query_params},
        {"path ids: 422 or 404, never an alias", t_path_ids},
        {"tokens: forged, expired, alg none, stale, deleted: 401", t_tokens},
        {"privileges and path spellings: 403/401/404/405", t_privileges},
        {"sizes and headers: 413, 422, 400", t_sizes_and_headers},
        {"afterwards: users and mission_progress unchanged", t_nothing_changed},
        {NULL, NULL},
    };
    return fx_run_suite("integration_catalogue", cases, NULL, NULL);
}
