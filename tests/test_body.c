/* test_body: request bodies as typed fields (body_json_object, body_str,
 * body_int in pydantic's lax mode, body_bool), query parameters (query_int,
 * query_number) with their pydantic-shaped errors, and the character helpers
 * (body_email_valid, body_has_control, body_utf8_chars). */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "body.h"
#include "req.h"
#include "resp.h"
#include "testutil.h"
#include "validate.h"

#define CAP (1024u * 1024u)
#define QUERY "limit=5&score=85.5&bad=1e999&hex=0x10&neg=-1&blank=&sp=%201"

static struct arena arena;

static int setup(void)
{
    arena_init(&arena, CAP);
    return 0;
}

static int teardown(void)
{
    arena_cleanup(&arena);
    return 0;
}

/* A JSON request carrying body (NUL-terminated) with content type ct. */
static void json_req(struct req *rq, const char *body, const char *ct)
{
    memset(rq, 0, sizeof(*rq));
    rq->arena = &arena;
    rq->body = body;
    rq->body_len = body ? strlen(body) : 0;
    rq->content_type = ct;
}

/* A request whose query string is q. */
static void query_req(struct req *rq, const char *q)
{
    memset(rq, 0, sizeof(*rq));
    rq->arena = &arena;
    rq->query = q;
    CU_ASSERT_EQUAL_FATAL(
        req_parse_urlencoded(&arena, q, strlen(q), &rq->query_params, &rq->nquery, NULL), 0);
}

/* Parses text that must be a JSON object (test data). */
static json_object *obj(const char *text)
{
    json_object *o = json_tokener_parse(text);

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE_FATAL(json_object_is_type(o, json_type_object));
    return o;
}

/* Checks that rs is a 422 whose single error has loc ["body"] and type. */
static void assert_body_422(const struct resp *rs, const char *type)
{
    json_object *o, *detail, *e, *loc, *x;

    CU_ASSERT_EQUAL(rs->status, 422);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rs->body);
    o = json_tokener_parse(rs->body);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(o, "detail", &detail));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(detail), 1);
    e = json_object_array_get_idx(detail, 0);
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(e, "loc", &loc));
    CU_ASSERT_EQUAL(json_object_array_length(loc), 1);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(json_object_array_get_idx(loc, 0)), "body");
    CU_ASSERT_TRUE_FATAL(json_object_object_get_ex(e, "type", &x));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(x), type);
    json_object_put(o);
}

/* Checks that v holds exactly one error at loc0/loc1 of the given type. */
static void assert_one_err(const struct verrs *v, const char *loc0, const char *loc1,
                           const char *type)
{
    CU_ASSERT_EQUAL_FATAL(v->n, 1);
    CU_ASSERT_STRING_EQUAL(v->items[0].loc0, loc0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(v->items[0].loc1);
    CU_ASSERT_STRING_EQUAL(v->items[0].loc1, loc1);
    CU_ASSERT_STRING_EQUAL(v->items[0].type, type);
    CU_ASSERT_PTR_NOT_NULL(v->items[0].msg);
}

/* n copies of the two-byte "é". */
static char *eacute(size_t n)
{
    char *s = arena_alloc(&arena, 2 * n + 1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 2 * i, "\xc3\xa9", 2);
    s[2 * n] = '\0';
    return s;
}

/* ---- body_json_object ---- */

static void t_json_object_ok(void)
{
    struct req rq;
    struct resp rs;
    json_object *o = NULL, *x;

    json_req(&rq, "{\"username\": \"alice\", \"n\": 1}", "application/json");
    resp_init(&rs, &arena);
    CU_ASSERT_EQUAL_FATAL(body_json_object(&rq, &rs, &o), 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE(json_object_is_type(o, json_type_object));
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "username", &x));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(x), "alice");
    json_object_put(o);

    /* parameters after the media type, any case */
    json_req(&rq, "{}", "Application/JSON; charset=utf-8");
    resp_init(&rs, &arena);
    o = NULL;
    CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 0);
    CU_ASSERT_PTR_NOT_NULL(o);
    json_object_put(o);
}

static void t_json_object_missing(void)
{
    struct req rq;
    struct resp rs;
    json_object *o = (json_object *)&rq; /* must be reset to NULL */

    json_req(&rq, NULL, "application/json");
    resp_init(&rs, &arena);
    CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
    CU_ASSERT_PTR_NULL(o);
    assert_body_422(&rs, "missing");

    json_req(&rq, "", "application/json");
    resp_init(&rs, &arena);
    CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
    assert_body_422(&rs, "missing");
}

static void t_json_object_content_type(void)
{
    static const char *const bad[] = {"text/plain", "application/x-www-form-urlencoded",
                                      "application/jsonx", "text/json", NULL};
    struct req rq;
    struct resp rs;
    json_object *o;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_req(&rq, "{\"a\":1}", bad[i]);
        resp_init(&rs, &arena);
        o = NULL;
        CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
        CU_ASSERT_PTR_NULL(o);
        CU_ASSERT_EQUAL(rs.status, 422);
    }
    json_req(&rq, "{\"a\":1}", "text/plain");
    resp_init(&rs, &arena);
    CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
    assert_body_422(&rs, "model_attributes_type");
}

static void t_json_object_malformed(void)
{
    static const char *const bad[] = {"{", "{\"a\":}", "{'a':1}", "{\"a\":1}}", "nope",
                                      "{\"a\":1,}", "  ", "{\"a\":\"\xff\"}"};
    struct req rq;
    struct resp rs;
    json_object *o;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_req(&rq, bad[i], "application/json");
        resp_init(&rs, &arena);
        o = NULL;
        CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
        CU_ASSERT_PTR_NULL(o);
        assert_body_422(&rs, "json_invalid");
    }
}

static void t_json_object_not_object(void)
{
    /* a number ending the body is a complete value too ("42" was json_invalid
     * while "42\n" was not: found by fuzz/fuzz_json) */
    static const char *const bad[] = {"[1,2]", "[]", "\"str\"", "[{\"a\":1}]", "42", "1.5",
                                      "-7", "true"};
    static const char *const scalars[] = {"null"};
    struct req rq;
    struct resp rs;
    json_object *o;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_req(&rq, bad[i], "application/json");
        resp_init(&rs, &arena);
        o = NULL;
        CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
        CU_ASSERT_PTR_NULL(o);
        assert_body_422(&rs, "model_attributes_type");
    }
    /* a JSON null body is no value at all for json-c: jsonx_parse reports it
     * as malformed, so only the status and loc are checked */
    for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
        json_req(&rq, scalars[i], "application/json");
        resp_init(&rs, &arena);
        o = NULL;
        CU_ASSERT_EQUAL(body_json_object(&rq, &rs, &o), 422);
        CU_ASSERT_PTR_NULL(o);
        CU_ASSERT_PTR_NOT_NULL_FATAL(rs.body);
        CU_ASSERT_PTR_NOT_NULL(strstr(rs.body, "\"loc\":[\"body\"]"));
    }
}

/* ---- body_str ---- */

static void t_str_present(void)
{
    json_object *o = obj("{\"username\":\"alice\"}");
    struct verrs v = {.n = 0};
    const char *s = NULL;
    bool is_null = true;

    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, &is_null);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "alice");
    CU_ASSERT_FALSE(is_null);
    json_object_put(o);
}

static void t_str_missing(void)
{
    json_object *o = obj("{\"other\":\"x\"}");
    struct verrs v = {.n = 0};
    const char *s = "stale";

    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    assert_one_err(&v, "body", "username", "missing");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "Field required");
    CU_ASSERT_PTR_NULL(s);

    /* optional and absent: no error, *out NULL */
    v.n = 0;
    s = "stale";
    body_str(&arena, o, "full_name", false, true, 0, 255, &v, &s, NULL);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_PTR_NULL(s);
    json_object_put(o);
}

static void t_str_wrong_type(void)
{
    static const char *const bad[] = {"{\"username\":123}", "{\"username\":true}",
                                      "{\"username\":[\"abc\"]}", "{\"username\":{}}",
                                      "{\"username\":1.5}"};
    struct verrs v;
    const char *s;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *o = obj(bad[i]);

        v.n = 0;
        s = "stale";
        body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
        assert_one_err(&v, "body", "username", "string_type");
        CU_ASSERT_PTR_NULL(s);
        json_object_put(o);
    }
}

static void t_str_length_chars(void)
{
    json_object *o = json_object_new_object();
    struct verrs v = {.n = 0};
    const char *s;

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    /* "ééé": 3 characters, 6 bytes */
    json_object_object_add(o, "username", json_object_new_string("\xc3\xa9\xc3\xa9\xc3\xa9"));
    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "\xc3\xa9\xc3\xa9\xc3\xa9");

    /* "éé": 4 bytes but 2 characters, too short for 3 */
    json_object_object_add(o, "username", json_object_new_string("\xc3\xa9\xc3\xa9"));
    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    assert_one_err(&v, "body", "username", "string_too_short");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "String should have at least 3 characters");
    CU_ASSERT_PTR_NULL(s);

    /* 50 × "é" (100 bytes) fits max 50 */
    v.n = 0;
    json_object_object_add(o, "username", json_object_new_string(eacute(50)));
    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(strlen(s), 100);

    /* 51 × "é" is too long */
    json_object_object_add(o, "username", json_object_new_string(eacute(51)));
    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    assert_one_err(&v, "body", "username", "string_too_long");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "String should have at most 50 characters");
    CU_ASSERT_PTR_NULL(s);

    /* min 1: singular message; the empty string is too short */
    v.n = 0;
    json_object_object_add(o, "username", json_object_new_string(""));
    body_str(&arena, o, "username", true, false, 1, 20, &v, &s, NULL);
    assert_one_err(&v, "body", "username", "string_too_short");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "String should have at least 1 character");

    /* ASCII bounds are inclusive */
    v.n = 0;
    json_object_object_add(o, "username", json_object_new_string("abc"));
    body_str(&arena, o, "username", true, false, 3, 3, &v, &s, NULL);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_PTR_NOT_NULL(s);
    json_object_put(o);
}

static void t_str_null(void)
{
    json_object *o = obj("{\"full_name\":null}");
    struct verrs v = {.n = 0};
    const char *s = "stale";
    bool is_null = false;

    body_str(&arena, o, "full_name", false, true, 0, 255, &v, &s, &is_null);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_TRUE(is_null);
    CU_ASSERT_PTR_NULL(s);

    /* null for a field that is not nullable */
    is_null = true;
    s = "stale";
    body_str(&arena, o, "full_name", false, false, 0, 255, &v, &s, &is_null);
    assert_one_err(&v, "body", "full_name", "string_type");
    CU_ASSERT_FALSE(is_null);
    CU_ASSERT_PTR_NULL(s);

    /* a string for a nullable field is not null */
    json_object_put(o);
    o = obj("{\"full_name\":\"Alice A\"}");
    v.n = 0;
    is_null = true;
    body_str(&arena, o, "full_name", false, true, 0, 255, &v, &s, &is_null);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_FALSE(is_null);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "Alice A");
    json_object_put(o);
}

/* A nullable field whose caller does not ask whether it was null
 * (is_null NULL), as POST /users/{id}/missions/ does for "mission_name":
 * JSON null must be accepted as "not given", like pydantic's Optional[str]. */
static void t_str_null_nullable_without_flag(void)
{
    json_object *o = obj("{\"mission_id\":1,\"mission_name\":null}");
    struct verrs v = {.n = 0};
    const char *s = "stale";

    body_str(&arena, o, "mission_name", false, true, 1, 100, &v, &s, NULL);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_PTR_NULL(s);
    json_object_put(o);
}

static void t_str_nul(void)
{
    json_object *o = json_object_new_object();
    struct verrs v = {.n = 0};
    const char *s = "stale";

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    json_object_object_add(o, "username", json_object_new_string_len("ab\0cd", 5));
    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    CU_ASSERT_EQUAL_FATAL(v.n, 1);
    CU_ASSERT_STRING_EQUAL(v.items[0].loc1, "username");
    CU_ASSERT_PTR_NULL(s);
    json_object_put(o);

    /* the same through the JSON escape */
    o = obj("{\"username\":\"abc\\u0000def\"}");
    v.n = 0;
    s = "stale";
    body_str(&arena, o, "username", true, false, 3, 50, &v, &s, NULL);
    CU_ASSERT_EQUAL(v.n, 1);
    CU_ASSERT_PTR_NULL(s);
    json_object_put(o);
}

/* ---- body_int / body_bool ---- */

static void t_int_valid(void)
{
    json_object *o = obj("{\"n\":42,\"zero\":0,\"top\":100}");
    struct verrs v = {.n = 0};
    long long n = -1;
    bool present = false;

    body_int(&arena, o, "n", 0, 100, true, &v, &n, &present);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, 42);
    body_int(&arena, o, "zero", 0, 100, true, &v, &n, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, 0);
    body_int(&arena, o, "top", 0, 100, true, &v, &n, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, 100);
    CU_ASSERT_EQUAL(v.n, 0);
    json_object_put(o);
}

/* pydantic's lax mode (body.h): 3, 3.0 and "3" are all the integer 3 */
static void t_int_lax(void)
{
    json_object *o = obj("{\"i\":3,\"d\":3.0,\"s\":\"3\",\"ns\":\"-2\",\"big\":\"101\","
                         "\"bigd\":101.0}");
    struct verrs v = {.n = 0};
    long long n;
    bool present;

    n = 0;
    present = false;
    body_int(&arena, o, "i", -5, 100, true, &v, &n, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, 3);
    n = 0;
    present = false;
    body_int(&arena, o, "d", -5, 100, true, &v, &n, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, 3);
    n = 0;
    present = false;
    body_int(&arena, o, "s", -5, 100, true, &v, &n, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, 3);
    body_int(&arena, o, "ns", -5, 100, true, &v, &n, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_EQUAL(n, -2);
    CU_ASSERT_EQUAL(v.n, 0);

    /* converted values are still range-checked */
    body_int(&arena, o, "big", 0, 100, true, &v, &n, &present);
    assert_one_err(&v, "body", "big", "less_than_equal");
    CU_ASSERT_FALSE(present);
    v.n = 0;
    body_int(&arena, o, "bigd", 0, 100, true, &v, &n, &present);
    assert_one_err(&v, "body", "bigd", "less_than_equal");
    CU_ASSERT_FALSE(present);
    json_object_put(o);
}

static void t_int_wrong_type(void)
{
    static const char *const bad[] = {"{\"n\":1.5}",   "{\"n\":\"1.5\"}", "{\"n\":true}",
                                      "{\"n\":false}", "{\"n\":null}",    "{\"n\":[1]}",
                                      "{\"n\":{}}",    "{\"n\":\"abc\"}", "{\"n\":\"\"}",
                                      "{\"n\":\"0x10\"}"};
    struct verrs v;
    long long n;
    bool present;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *o = obj(bad[i]);

        v.n = 0;
        n = 4242;
        present = true;
        body_int(&arena, o, "n", 0, 100, false, &v, &n, &present);
        assert_one_err(&v, "body", "n", "int_type");
        CU_ASSERT_FALSE(present);
        CU_ASSERT_EQUAL(n, 4242);
        json_object_put(o);
    }
}

static void t_int_range(void)
{
    json_object *o = obj("{\"hi\":101,\"lo\":-1,\"huge\":99999999999999999999,"
                         "\"tiny\":-99999999999999999999}");
    struct verrs v = {.n = 0};
    long long n = 4242;
    bool present = true;

    body_int(&arena, o, "hi", 0, 100, true, &v, &n, &present);
    assert_one_err(&v, "body", "hi", "less_than_equal");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "Input should be less than or equal to 100");
    CU_ASSERT_FALSE(present);
    CU_ASSERT_EQUAL(n, 4242);

    v.n = 0;
    body_int(&arena, o, "lo", 0, 100, true, &v, &n, &present);
    assert_one_err(&v, "body", "lo", "greater_than_equal");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "Input should be greater than or equal to 0");
    CU_ASSERT_FALSE(present);

    v.n = 0;
    body_int(&arena, o, "huge", 0, 100, true, &v, &n, &present);
    assert_one_err(&v, "body", "huge", "less_than_equal");
    v.n = 0;
    body_int(&arena, o, "tiny", 0, 100, true, &v, &n, &present);
    assert_one_err(&v, "body", "tiny", "greater_than_equal");
    CU_ASSERT_EQUAL(n, 4242);
    json_object_put(o);
}

/* pydantic prints the bound as an integer ("... to 1000000000000"), and so
 * must we: PUT /api/users/{id} bounds experience_points by 10^12. */
static void t_int_range_msg_large_bound(void)
{
    json_object *o = obj("{\"experience_points\":1000000000001,\"m\":12345679}");
    struct verrs v = {.n = 0};
    long long n = 0;
    bool present;

    body_int(&arena, o, "experience_points", 0, 1000000000000LL, false, &v, &n, &present);
    assert_one_err(&v, "body", "experience_points", "less_than_equal");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg,
                           "Input should be less than or equal to 1000000000000");
    v.n = 0;
    body_int(&arena, o, "m", 0, 12345678, false, &v, &n, &present);
    assert_one_err(&v, "body", "m", "less_than_equal");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "Input should be less than or equal to 12345678");
    json_object_put(o);
}

static void t_int_absent(void)
{
    json_object *o = obj("{}");
    struct verrs v = {.n = 0};
    long long n = 4242;
    bool present = true;

    body_int(&arena, o, "n", 0, 100, false, &v, &n, &present);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_FALSE(present);
    CU_ASSERT_EQUAL(n, 4242);

    present = true;
    body_int(&arena, o, "mission_id", 1, 13, true, &v, &n, &present);
    assert_one_err(&v, "body", "mission_id", "missing");
    CU_ASSERT_FALSE(present);
    json_object_put(o);
}

static void t_bool(void)
{
    static const char *const bad[] = {"{\"b\":1}", "{\"b\":0}", "{\"b\":\"true\"}",
                                      "{\"b\":null}", "{\"b\":[]}"};
    json_object *o = obj("{\"t\":true,\"f\":false}");
    struct verrs v = {.n = 0};
    bool b = false, present = false;

    body_bool(o, "t", &v, &b, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_TRUE(b);
    present = false;
    body_bool(o, "f", &v, &b, &present);
    CU_ASSERT_TRUE(present);
    CU_ASSERT_FALSE(b);
    CU_ASSERT_EQUAL(v.n, 0);
    body_bool(o, "absent", &v, &b, &present);
    CU_ASSERT_FALSE(present);
    CU_ASSERT_EQUAL(v.n, 0);
    json_object_put(o);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        o = obj(bad[i]);
        v.n = 0;
        present = true;
        b = true;
        body_bool(o, "b", &v, &b, &present);
        assert_one_err(&v, "body", "b", "bool_type");
        CU_ASSERT_FALSE(present);
        CU_ASSERT_TRUE(b); /* untouched */
        json_object_put(o);
    }
}

/* ---- query_int / query_number ---- */

static void t_query_int(void)
{
    struct req rq;
    struct verrs v = {.n = 0};
    long long n = 0;

    query_req(&rq, QUERY);
    query_int(&arena, &rq, "limit", 10, 1, 100, &v, &n);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(n, 5);
    query_int(&arena, &rq, "absent", 10, 1, 100, &v, &n);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(n, 10);
    query_int(&arena, &rq, "neg", 0, -5, 5, &v, &n);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_EQUAL(n, -1);
}

static void t_query_int_parsing(void)
{
    static const char *const bad[] = {"hex", "sp", "blank", "bad", "score"};
    struct req rq;
    struct verrs v;
    long long n;

    query_req(&rq, QUERY);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v.n = 0;
        n = 0;
        query_int(&arena, &rq, bad[i], 10, 1, 100, &v, &n);
        assert_one_err(&v, "query", bad[i], "int_parsing");
        CU_ASSERT_EQUAL(n, 10); /* the default stays */
    }
}

static void t_query_int_range(void)
{
    struct req rq;
    struct verrs v = {.n = 0};
    long long n = 0;

    query_req(&rq, QUERY);
    query_int(&arena, &rq, "neg", 10, 1, 100, &v, &n);
    assert_one_err(&v, "query", "neg", "greater_than_equal");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "Input should be greater than or equal to 1");
    CU_ASSERT_EQUAL(n, 10);
    v.n = 0;
    query_int(&arena, &rq, "limit", 10, 1, 3, &v, &n);
    assert_one_err(&v, "query", "limit", "less_than_equal");
    CU_ASSERT_STRING_EQUAL(v.items[0].msg, "Input should be less than or equal to 3");

    /* beyond 64 bits: a range error, not a parse error */
    query_req(&rq, "big=99999999999999999999&small=-99999999999999999999");
    v.n = 0;
    query_int(&arena, &rq, "big", 10, 1, 100, &v, &n);
    assert_one_err(&v, "query", "big", "less_than_equal");
    v.n = 0;
    query_int(&arena, &rq, "small", 10, 1, 100, &v, &n);
    assert_one_err(&v, "query", "small", "greater_than_equal");
    CU_ASSERT_EQUAL(n, 10);
}

static void t_query_number(void)
{
    struct req rq;
    struct verrs v = {.n = 0};
    double d = 0;

    query_req(&rq, QUERY);
    query_number(&arena, &rq, "score", 100.0, 0.0, 100.0, &v, &d);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_DOUBLE_EQUAL(d, 85.5, 1e-12);
    query_number(&arena, &rq, "limit", 100.0, 0.0, 100.0, &v, &d);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_DOUBLE_EQUAL(d, 5.0, 1e-12);
    query_number(&arena, &rq, "absent", 100.0, 0.0, 100.0, &v, &d);
    CU_ASSERT_EQUAL(v.n, 0);
    CU_ASSERT_DOUBLE_EQUAL(d, 100.0, 1e-12);

    query_req(&rq, "a=0&b=100&c=1e2&d=-0");
    query_number(&arena, &rq, "a", 50.0, 0.0, 100.0, &v, &d);
    CU_ASSERT_DOUBLE_EQUAL(d, 0.0, 1e-12);
    query_number(&arena, &rq, "b", 50.0, 0.0, 100.0, &v, &d);
    CU_ASSERT_DOUBLE_EQUAL(d, 100.0, 1e-12);
    query_number(&arena, &rq, "c", 50.0, 0.0, 100.0, &v, &d);
    CU_ASSERT_DOUBLE_EQUAL(d, 100.0, 1e-12);
    CU_ASSERT_EQUAL(v.n, 0);
}

static void t_query_number_parsing(void)
{
    static const char *const bad[] = {"bad", "hex", "sp", "blank", "n", "N", "i", "ni",
                                      "inf", "word", "trail"};
    struct req rq;
    struct verrs v;
    double d;

    query_req(&rq, QUERY "&n=nan&N=NaN&i=inf&ni=-inf&inf=Infinity&word=abc&trail=1.5x");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v.n = 0;
        d = 0;
        query_number(&arena, &rq, bad[i], 100.0, 0.0, 100.0, &v, &d);
        assert_one_err(&v, "query", bad[i], "float_parsing");
        CU_ASSERT_DOUBLE_EQUAL(d, 100.0, 1e-12);
    }
}

static void t_query_number_range(void)
{
    struct req rq;
    struct verrs v = {.n = 0};
    double d = 0;

    query_req(&rq, QUERY "&over=100.5");
    query_number(&arena, &rq, "neg", 100.0, 0.0, 100.0, &v, &d);
    assert_one_err(&v, "query", "neg", "greater_than_equal");
    CU_ASSERT_DOUBLE_EQUAL(d, 100.0, 1e-12);
    v.n = 0;
    query_number(&arena, &rq, "over", 100.0, 0.0, 100.0, &v, &d);
    assert_one_err(&v, "query", "over", "less_than_equal");
    v.n = 0;
    query_number(&arena, &rq, "score", 100.0, 0.0, 50.0, &v, &d);
    assert_one_err(&v, "query", "score", "less_than_equal");
}

/* ---- character helpers ---- */

static void t_email(void)
{
    static const char *const good[] = {"a@b.co", "first.last+tag@sub.example.org",
                                       "x_y-z@ex-ample.com", "A1@B2.CoM"};
    static const char *const bad[] = {"plain", "@b.co", "a@", "a@b", "a@b.c", "a b@c.com",
                                      "a@b..com", ".a@b.com", "a.@b.com", "a..b@c.com",
                                      "a@-b.com", "a@b-.com", "a@b.c0m", "", "a@b.com.",
                                      "a@.b.com", "a@b@c.com", "a@b_c.com", "a@b.com\n",
                                      "a\"b@c.com"};
    char buf[400];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CU_ASSERT_TRUE(body_email_valid(good[i]));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(body_email_valid(bad[i]));

    /* local part: 64 characters allowed, 65 not */
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@b.com");
    CU_ASSERT_TRUE(body_email_valid(buf));
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@b.com");
    CU_ASSERT_FALSE(body_email_valid(buf));

    /* whole address: up to the contract's 255 bytes; 256 and 260 not */
    memset(buf, 'a', 64);
    buf[64] = '@';
    memset(buf + 65, 'b', 63);
    buf[128] = '.';
    memset(buf + 129, 'c', 63);
    buf[192] = '.';
    memset(buf + 193, 'd', 57);
    strcpy(buf + 250, ".com");
    CU_ASSERT_EQUAL(strlen(buf), 254);
    CU_ASSERT_TRUE(body_email_valid(buf));
    memset(buf + 193, 'd', 58);
    strcpy(buf + 251, ".com");
    CU_ASSERT_EQUAL(strlen(buf), 255);
    CU_ASSERT_TRUE(body_email_valid(buf));
    memset(buf + 193, 'd', 59);
    strcpy(buf + 252, ".com");
    CU_ASSERT_EQUAL(strlen(buf), 256);
    CU_ASSERT_FALSE(body_email_valid(buf));
    memset(buf + 193, 'd', 63);
    strcpy(buf + 256, ".com");
    CU_ASSERT_EQUAL(strlen(buf), 260);
    CU_ASSERT_FALSE(body_email_valid(buf));

    /* a domain label longer than 63 */
    buf[0] = 'a';
    buf[1] = '@';
    memset(buf + 2, 'b', 64);
    strcpy(buf + 66, ".com");
    CU_ASSERT_FALSE(body_email_valid(buf));
}

static void t_has_control(void)
{
    CU_ASSERT_TRUE(body_has_control("\x01", 1));
    CU_ASSERT_TRUE(body_has_control("\x7f", 1));
    CU_ASSERT_TRUE(body_has_control("a\xc2\x85" "b", 4)); /* U+0085 NEL */
    CU_ASSERT_TRUE(body_has_control("a\xc2\x80", 3));    /* U+0080 */
    CU_ASSERT_TRUE(body_has_control("a\xc2\x9f", 3));    /* U+009F */
    CU_ASSERT_TRUE(body_has_control("tab\there", 8));
    CU_ASSERT_TRUE(body_has_control("line\n", 5));
    CU_ASSERT_TRUE(body_has_control("nul\0x", 5));
    CU_ASSERT_FALSE(body_has_control("h\xc3\xa9llo", 6));
    CU_ASSERT_FALSE(body_has_control("tab-free", 8));
    CU_ASSERT_FALSE(body_has_control("\xc2\xa0", 2)); /* U+00A0 NBSP is not a control */
    CU_ASSERT_FALSE(body_has_control("", 0));
    CU_ASSERT_FALSE(body_has_control("ok\x01", 2)); /* only len bytes are read */
}

static void t_utf8_chars(void)
{
    CU_ASSERT_EQUAL(body_utf8_chars("h\xc3\xa9llo", 6), 5);
    CU_ASSERT_EQUAL(body_utf8_chars("hello", 5), 5);
    CU_ASSERT_EQUAL(body_utf8_chars("", 0), 0);
    CU_ASSERT_EQUAL(body_utf8_chars("\xe6\x97\xa5\xe6\x9c\xac", 6), 2);    /* 日本 */
    CU_ASSERT_EQUAL(body_utf8_chars("\xf0\x9f\x98\x80!", 5), 2);          /* 😀! */
    CU_ASSERT_EQUAL(body_utf8_chars("\xc3\xa9\xc3\xa9\xc3\xa9", 6), 3); /* ééé */
}

int main(void)
{
    static const struct test_case cases[] = {
        {"json_object_ok", t_json_object_ok},
        {"json_object_missing", t_json_object_missing},
        {"json_object_content_type", t_json_object_content_type},
        {"json_object_malformed", t_json_object_malformed},
        {"json_object_not_object", t_json_object_not_object},
        {"str_present", t_str_present},
        {"str_missing", t_str_missing},
        {"str_wrong_type", t_str_wrong_type},
        {"str_length_chars", t_str_length_chars},
        {"str_null", t_str_null},
        {"str_null_nullable_without_flag", t_str_null_nullable_without_flag},
        {"str_nul", t_str_nul},
        {"int_valid", t_int_valid},
        {"int_lax", t_int_lax},
        {"int_wrong_type", t_int_wrong_type},
        {"int_range", t_int_range},
        {"int_range_msg_large_bound", t_int_range_msg_large_bound},
        {"int_absent", t_int_absent},
        {"bool", t_bool},
        {"query_int", t_query_int},
        {"query_int_parsing", t_query_int_parsing},
        {"query_int_range", t_query_int_range},
        {"query_number", t_query_number},
        {"query_number_parsing", t_query_number_parsing},
        {"query_number_range", t_query_number_range},
        {"email", t_email},
        {"has_control", t_has_control},
        {"utf8_chars", t_utf8_chars},
        {NULL, NULL},
    };
    return testutil_run("body", cases, setup, teardown);
}
