/* test_validate: strict integer parsing (validate_int, validate_path_id),
 * the error collector's limit, and the exact bodies, status and headers of
 * the 422/401/error answers built by validate.c and resp.c. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <limits.h>
#include <string.h>

#include "arena.h"
#include "resp.h"
#include "testutil.h"
#include "validate.h"

#define CAP (1024u * 1024u)

static void t_int_valid(void)
{
    long long v = 0;

    CU_ASSERT_EQUAL(validate_int("1", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(validate_int("-5", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, -5);
    CU_ASSERT_EQUAL(validate_int("0", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(validate_int("007", LLONG_MIN, LLONG_MAX, &v), 0); /* decimal, not octal */
    CU_ASSERT_EQUAL(v, 7);
    CU_ASSERT_EQUAL(validate_int("9223372036854775807", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, LLONG_MAX);
    CU_ASSERT_EQUAL(validate_int("-9223372036854775808", LLONG_MIN, LLONG_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, LLONG_MIN);
}

static void t_int_not_integer(void)
{
    static const char *const bad[] = {"0x10", "1e3", "1.5", " 1", "1 ", "+1", "", "-", "--1",
                                      "1-", "abc", "12a", "\t1", "1\n", "0b1", "\xd9\xa1"};
    long long v = 4242;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(validate_int(bad[i], LLONG_MIN, LLONG_MAX, &v), -1);
    CU_ASSERT_EQUAL(validate_int(NULL, LLONG_MIN, LLONG_MAX, &v), -1);
    CU_ASSERT_EQUAL(v, 4242); /* untouched */
}

static void t_int_range(void)
{
    long long v = 4242;

    CU_ASSERT_EQUAL(validate_int("9223372036854775808", LLONG_MIN, LLONG_MAX, &v), -2);
    CU_ASSERT_EQUAL(validate_int("-9223372036854775809", LLONG_MIN, LLONG_MAX, &v), -2);
    CU_ASSERT_EQUAL(validate_int("99999999999999999999999", LLONG_MIN, LLONG_MAX, &v), -2);
    CU_ASSERT_EQUAL(v, 4242);

    CU_ASSERT_EQUAL(validate_int("1", 1, 100, &v), 0); /* inclusive bounds */
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(validate_int("100", 1, 100, &v), 0);
    CU_ASSERT_EQUAL(v, 100);
    v = 4242;
    CU_ASSERT_EQUAL(validate_int("0", 1, 100, &v), -2);
    CU_ASSERT_EQUAL(validate_int("101", 1, 100, &v), -2);
    CU_ASSERT_EQUAL(validate_int("-1", 0, 100, &v), -2);
    CU_ASSERT_EQUAL(v, 4242);
    /* a non-integer is -1 even when a range applies */
    CU_ASSERT_EQUAL(validate_int("1.5", 1, 100, &v), -1);
}

static void t_path_id(void)
{
    long long id = 0;

    CU_ASSERT_EQUAL(validate_path_id("1", &id), 0);
    CU_ASSERT_EQUAL(id, 1);
    CU_ASSERT_EQUAL(validate_path_id("42", &id), 0);
    CU_ASSERT_EQUAL(id, 42);
    CU_ASSERT_EQUAL(validate_path_id("9223372036854775807", &id), 0);
    CU_ASSERT_EQUAL(id, LLONG_MAX);

    CU_ASSERT_EQUAL(validate_path_id("0", &id), 1);
    CU_ASSERT_EQUAL(validate_path_id("-3", &id), 1);
    CU_ASSERT_EQUAL(validate_path_id("99999999999999999999", &id), 1);
    CU_ASSERT_EQUAL(validate_path_id("9223372036854775808", &id), 1);
    CU_ASSERT_EQUAL(validate_path_id("-99999999999999999999", &id), 1);

    CU_ASSERT_EQUAL(validate_path_id("abc", &id), -1);
    CU_ASSERT_EQUAL(validate_path_id("1.5", &id), -1);
    CU_ASSERT_EQUAL(validate_path_id("0x10", &id), -1);
    CU_ASSERT_EQUAL(validate_path_id("1e3", &id), -1);
    CU_ASSERT_EQUAL(validate_path_id("", &id), -1);
    CU_ASSERT_EQUAL(validate_path_id("+1", &id), -1);
}

static void t_verrs_limit(void)
{
    struct verrs v = {.n = 0};

    for (int i = 0; i < VALIDATE_MAX_ERRORS + 5; i++)
        verrs_add(&v, "body", i < VALIDATE_MAX_ERRORS ? "kept" : "dropped", "t", "m");
    CU_ASSERT_EQUAL(v.n, VALIDATE_MAX_ERRORS);
    for (size_t i = 0; i < v.n; i++)
        CU_ASSERT_STRING_EQUAL(v.items[i].loc1, "kept");
    CU_ASSERT_STRING_EQUAL(v.items[0].loc0, "body");
    CU_ASSERT_STRING_EQUAL(v.items[0].type, "t");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "m");
}

/* Parses rs's body; fails the test when it is not JSON. */
static json_object *body_json(const struct resp *rs)
{
    json_object *o;

    CU_ASSERT_PTR_NOT_NULL_FATAL(rs->body);
    CU_ASSERT_EQUAL(strlen(rs->body), rs->body_len);
    o = json_tokener_parse(rs->body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    return o;
}

static void t_resp_invalid(void)
{
    struct arena a;
    struct resp rs;
    json_object *o, *detail, *e, *loc, *x;

    arena_init(&a, CAP);
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_invalid(&rs, "body", "username", "string_too_short",
                                 "String should have at least 3 characters"),
                    422);
    CU_ASSERT_EQUAL(rs.status, 422);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs.content_type);
    CU_ASSERT_STRING_EQUAL(rs.content_type, "application/json; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":[{\"loc\":[\"body\",\"username\"],"
                                    "\"msg\":\"String should have at least 3 characters\","
                                    "\"type\":\"string_too_short\"}]}");

    /* and the shape, independent of key order */
    o = body_json(&rs);
    CU_ASSERT_EQUAL(json_object_object_length(o), 1);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "detail", &detail));
    CU_ASSERT_TRUE_FATAL(json_object_is_type(detail, json_type_array));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(detail), 1);
    e = json_object_array_get_idx(detail, 0);
    CU_ASSERT_EQUAL(json_object_object_length(e), 3);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(e, "loc", &loc));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(loc), 2);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(loc, 1)), "username");
    CU_ASSERT_TRUE(json_object_object_get_ex(e, "msg", &x));
    CU_ASSERT_TRUE(json_object_is_type(x, json_type_string));
    CU_ASSERT_TRUE(json_object_object_get_ex(e, "type", &x));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(x), "string_too_short");
    json_object_put(o);

    /* loc1 NULL: the whole body, e.g. malformed JSON */
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_invalid(&rs, "body", NULL, "json_invalid", "JSON decode error"), 422);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"JSON decode error\","
                                    "\"type\":\"json_invalid\"}]}");
    arena_cleanup(&a);
}

static void t_resp_validation_many(void)
{
    struct arena a;
    struct resp rs;
    struct verrs v = {.n = 0};
    json_object *o, *detail, *loc;

    arena_init(&a, CAP);
    resp_init(&rs, &a);
    verrs_add(&v, "body", "email", "value_error", "bad email");
    verrs_add(&v, "query", "limit", "less_than_equal", "Input should be less than or equal to 100");
    verrs_add(&v, "path", "user_id", "int_parsing", "Input should be a valid integer");
    CU_ASSERT_EQUAL(resp_validation(&rs, &v), 422);
    CU_ASSERT_STRING_EQUAL(rs.content_type, RESP_JSON);
    o = body_json(&rs);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "detail", &detail));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(detail), 3);
    CU_ASSERT_TRUE(json_object_object_get_ex(json_object_array_get_idx(detail, 1), "loc", &loc));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(loc, 0)), "query");
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(loc, 1)), "limit");
    CU_ASSERT_TRUE(json_object_object_get_ex(json_object_array_get_idx(detail, 2), "loc", &loc));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(loc, 0)), "path");
    json_object_put(o);

    /* a full collector: every kept error is in the body */
    v.n = 0;
    for (int i = 0; i < VALIDATE_MAX_ERRORS + 3; i++)
        verrs_add(&v, "body", "f", "t", "m");
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_validation(&rs, &v), 422);
    o = body_json(&rs);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "detail", &detail));
    CU_ASSERT_EQUAL(json_object_array_length(detail), VALIDATE_MAX_ERRORS);
    json_object_put(o);

    /* no error at all still has the shape */
    v.n = 0;
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_validation(&rs, &v), 422);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":[]}");
    arena_cleanup(&a);
}

static void t_resp_error(void)
{
    struct arena a;
    struct resp rs;

    arena_init(&a, CAP);
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(rs.status, 500); /* a fresh response is an error until set */
    CU_ASSERT_EQUAL(resp_error(&rs, 404, "x"), 404);
    CU_ASSERT_EQUAL(rs.status, 404);
    CU_ASSERT_STRING_EQUAL(rs.content_type, RESP_JSON);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":\"x\"}");
    CU_ASSERT_EQUAL(rs.body_len, strlen("{\"detail\":\"x\"}"));
    CU_ASSERT_FALSE(resp_has_header(&rs, "WWW-Authenticate"));

    /* escaping: quotes are escaped, "/" is not */
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_error(&rs, 409, "say \"hi\" to /api"), 409);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":\"say \\\"hi\\\" to /api\"}");
    arena_cleanup(&a);
}

static void t_resp_error_arena_exhausted(void)
{
    struct arena a;
    struct resp rs;

    arena_init(&a, 1024); /* nothing fits */
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_error(&rs, 404, "User not found"), 500);
    CU_ASSERT_EQUAL(rs.status, 500);
    CU_ASSERT_STRING_EQUAL(rs.content_type, RESP_JSON);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":\"Internal Server Error\"}");
    arena_cleanup(&a);
}

static void t_resp_unauthorized(void)
{
    struct arena a;
    struct resp rs;

    arena_init(&a, CAP);
    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_unauthorized(&rs, NULL), 401);
    CU_ASSERT_EQUAL(rs.status, 401);
    CU_ASSERT_STRING_EQUAL(rs.content_type, RESP_JSON);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":\"Could not validate credentials\"}");
    CU_ASSERT_TRUE(resp_has_header(&rs, "WWW-Authenticate"));
    CU_ASSERT_TRUE(resp_has_header(&rs, "www-authenticate")); /* names are case-insensitive */
    CU_ASSERT_FALSE(resp_has_header(&rs, "WWW-Auth"));        /* not a prefix match */
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs.headers);
    CU_ASSERT_EQUAL(rs.headers_len, strlen("WWW-Authenticate: Bearer\r\n"));
    CU_ASSERT_EQUAL(memcmp(rs.headers, "WWW-Authenticate: Bearer\r\n", rs.headers_len), 0);

    resp_init(&rs, &a);
    CU_ASSERT_EQUAL(resp_unauthorized(&rs, "Token revoked"), 401);
    CU_ASSERT_STRING_EQUAL(rs.body, "{\"detail\":\"Token revoked\"}");
    CU_ASSERT_TRUE(resp_has_header(&rs, "WWW-Authenticate"));
    arena_cleanup(&a);
}

static void t_resp_headers(void)
{
    struct arena a;
    struct resp rs;
    const char *want = "X-Cache: HIT\r\nETag: \"abc\"\r\nRetry-After: 7\r\n";

    arena_init(&a, CAP);
    resp_init(&rs, &a);
    CU_ASSERT_FALSE(resp_has_header(&rs, "X-Cache"));
    CU_ASSERT_EQUAL(resp_header(&rs, "X-Cache", "%s", "HIT"), 0);
    CU_ASSERT_EQUAL(resp_header(&rs, "ETag", "\"%s\"", "abc"), 0);
    CU_ASSERT_EQUAL(resp_header(&rs, "Retry-After", "%d", 7), 0);
    CU_ASSERT_EQUAL(rs.headers_len, strlen(want));
    CU_ASSERT_EQUAL(memcmp(rs.headers, want, strlen(want)), 0);
    CU_ASSERT_TRUE(resp_has_header(&rs, "X-Cache"));
    CU_ASSERT_TRUE(resp_has_header(&rs, "etag"));
    CU_ASSERT_TRUE(resp_has_header(&rs, "Retry-After"));
    CU_ASSERT_FALSE(resp_has_header(&rs, "Retry"));
    CU_ASSERT_FALSE(resp_has_header(&rs, "HIT"));   /* a value is not a name */
    CU_ASSERT_FALSE(resp_has_header(&rs, "Allow"));
    arena_cleanup(&a);
}

/* A header whose value does not fit in what is left of the header buffer,
 * added when the buffer must move to grow: its name must move with it. Every
 * fill level of the first buffer against short and long values, in an arena
 * reused as between requests, so the memory a lost name would leave holds a
 * previous request's bytes (found by the chaos load: the session cookie after
 * the rate-limit headers went out as "d_sess179630guild_session=...", and
 * nginx answered 502). */
static void t_resp_header_grows(void)
{
    struct arena a;
    struct resp rs;
    char value[400], line[512], *fill, *old;
    size_t pre, vlen;

    arena_init(&a, CAP);
    for (pre = 0; pre <= 300; pre += 1) {
        for (vlen = 1; vlen < sizeof(value); vlen += 13) {
            old = arena_alloc(&a, 4096); /* the previous request */
            CU_ASSERT_PTR_NOT_NULL_FATAL(old);
            memset(old, '#', 4096);
            arena_reset(&a);
            resp_init(&rs, &a);
            fill = arena_alloc(&a, pre + 1);
            CU_ASSERT_PTR_NOT_NULL_FATAL(fill);
            memset(fill, 'f', pre);
            fill[pre] = '\0';
            memset(value, 'v', vlen);
            value[vlen] = '\0';
            if (pre > 0)
                CU_ASSERT_EQUAL_FATAL(resp_header(&rs, "X-Fill", "%s", fill), 0);
            CU_ASSERT_EQUAL_FATAL(resp_header(&rs, "Set-Cookie", "%s", value), 0);
            CU_ASSERT_EQUAL_FATAL(resp_header(&rs, "X-After", "%d", 1), 0);
            snprintf(line, sizeof(line), "Set-Cookie: %s\r\nX-After: 1\r\n", value);
            CU_ASSERT_TRUE_FATAL(rs.headers_len >= strlen(line));
            if (memcmp(rs.headers + rs.headers_len - strlen(line), line, strlen(line)) != 0) {
                fprintf(stderr, "fill %zu, value %zu: %.*s\n", pre, vlen, (int)rs.headers_len,
                        rs.headers);
                CU_FAIL_FATAL("a header lost its name when the buffer grew");
            }
            CU_ASSERT_TRUE(resp_has_header(&rs, "Set-Cookie"));
            arena_reset(&a);
        }
    }
    arena_cleanup(&a);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"int_valid", t_int_valid},
        {"int_not_integer", t_int_not_integer},
        {"int_range", t_int_range},
        {"path_id", t_path_id},
        {"verrs_limit", t_verrs_limit},
        {"resp_invalid", t_resp_invalid},
        {"resp_validation_many", t_resp_validation_many},
        {"resp_error", t_resp_error},
        {"resp_error_arena_exhausted", t_resp_error_arena_exhausted},
        {"resp_unauthorized", t_resp_unauthorized},
        {"resp_headers", t_resp_headers},
        {"resp_header_grows", t_resp_header_grows},
        {NULL, NULL},
    };
    return testutil_run("validate", cases, NULL, NULL);
}
