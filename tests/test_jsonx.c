/* test_jsonx: strict JSON body parsing (whitespace, trailing garbage,
 * truncation, invalid UTF-8, NUL bytes, the depth limit, json-c leniencies),
 * the UTF-8 validator, compact serialization without "\/", Python-style
 * rounded numbers and ISO 8601 UTC times. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "jsonx.h"
#include "testutil.h"

/* jsonx_parse of a C string; the object is released at once. */
static enum jsonx_rc parse(const char *s)
{
    struct json_object *o = (struct json_object *)1;
    enum jsonx_rc rc = jsonx_parse(s, strlen(s), &o);

    if (rc != JSONX_OK)
        CU_ASSERT_PTR_NULL(o); /* *out is NULL on every failure */
    json_object_put(rc == JSONX_OK ? o : NULL);
    return rc;
}

static enum jsonx_rc parse_n(const char *s, size_t n)
{
    struct json_object *o = NULL;
    enum jsonx_rc rc = jsonx_parse(s, n, &o);

    json_object_put(o);
    return rc;
}

/* Nested arrays (innermost holds inner, e.g. "" or "1"), or objects. */
static void nest(char *buf, int depth, const char *inner, int objects)
{
    size_t k = 0;

    for (int i = 0; i < depth; i++) {
        if (objects) {
            memcpy(buf + k, "{\"a\":", 5);
            k += 5;
        } else {
            buf[k++] = '[';
        }
    }
    memcpy(buf + k, inner, strlen(inner));
    k += strlen(inner);
    for (int i = 0; i < depth; i++)
        buf[k++] = objects ? '}' : ']';
    buf[k] = '\0';
}

static void t_parse_ok(void)
{
    struct json_object *o = NULL, *v = NULL;
    const char *s = " \t\r\n{\"a\": [1, 2.5, \"x\", true, null], \"b\": {}}\n \t";

    CU_ASSERT_EQUAL_FATAL(jsonx_parse(s, strlen(s), &o), JSONX_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE(json_object_is_type(o, json_type_object));
    CU_ASSERT_TRUE(json_object_object_get_ex(o, "a", &v));
    CU_ASSERT_TRUE(json_object_is_type(v, json_type_array));
    CU_ASSERT_EQUAL(json_object_array_length(v), 5);
    json_object_put(o);

    CU_ASSERT_EQUAL(parse("[]"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("  [ ]  "), JSONX_OK);
    CU_ASSERT_EQUAL(parse("{}"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("{\"k\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \xf0\x9f\x98\x80\"}"),
                    JSONX_OK);
    CU_ASSERT_EQUAL(parse("\"abc\""), JSONX_OK);
    /* only len bytes are parsed: what follows is not looked at */
    CU_ASSERT_EQUAL(parse_n("{}xyz", 2), JSONX_OK);
}

static void t_parse_trailing_garbage(void)
{
    CU_ASSERT_EQUAL(parse("{} x"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{}{}"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[1] [2]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{},"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{}\f"), JSONX_MALFORMED); /* only JSON's 4 blanks */
}

static void t_parse_truncated(void)
{
    CU_ASSERT_EQUAL(parse("{\"a\":"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"a\":1"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[1,"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"a"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("\"abc"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("["), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse(""), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("   "), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse_n("{\"a\":1}", 6), JSONX_MALFORMED);
}

/* A number that ends the text is complete, with or without a trailing blank:
 * json-c keeps it open for more digits, and "42" was malformed while "42\n"
 * parsed (found by fuzz/fuzz_json: jsonx_parse refused jsonx_to_string's 42). */
static void t_parse_number_at_end(void)
{
    struct json_object *o = NULL;

    CU_ASSERT_EQUAL_FATAL(jsonx_parse("42", 2, &o), JSONX_OK);
    CU_ASSERT_TRUE(json_object_is_type(o, json_type_int));
    CU_ASSERT_EQUAL(json_object_get_int64(o), 42);
    json_object_put(o);
    CU_ASSERT_EQUAL(parse("42\n"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("0"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("-1.5e3"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("-"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("1e"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("1e+"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[1"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"a\":12"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("tru"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse_n("{}1", 3), JSONX_MALFORMED);
}

static void t_parse_malformed(void)
{
    CU_ASSERT_EQUAL(parse("[1,]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"a\":1,}"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("['a']"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"a\":'b'}"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[0x10]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[01]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[.5]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[+1]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[True]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("/* c */ []"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[\"\\x41\"]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"a\"}"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[1 2]"), JSONX_MALFORMED);
}

/* json-c accepts these even with JSON_TOKENER_STRICT; Python's json.loads
 * (which FastAPI uses, and API.md says malformed JSON is a 422) rejects
 * them, and jsonx.h promises strict parsing. */
static void t_parse_rejects_json_c_leniencies(void)
{
    CU_ASSERT_EQUAL(parse("{'a':1}"), JSONX_MALFORMED);       /* single-quoted key */
    CU_ASSERT_EQUAL(parse("[\"a\tb\"]"), JSONX_MALFORMED);    /* raw TAB in a string */
    CU_ASSERT_EQUAL(parse("[\"a\x01\"]"), JSONX_MALFORMED);   /* raw control char */
    CU_ASSERT_EQUAL(parse("{\"a\":\"x\ny\"}"), JSONX_MALFORMED); /* raw newline */
    CU_ASSERT_EQUAL(parse("[1.]"), JSONX_MALFORMED);          /* no digit after '.' */
}

static void t_parse_bad_utf8(void)
{
    CU_ASSERT_EQUAL(parse("[\"\xc0\xaf\"]"), JSONX_BAD_UTF8);         /* overlong '/' */
    CU_ASSERT_EQUAL(parse("[\"\xe0\x80\xaf\"]"), JSONX_BAD_UTF8);     /* overlong, 3 bytes */
    CU_ASSERT_EQUAL(parse("[\"\xf0\x80\x80\xaf\"]"), JSONX_BAD_UTF8); /* overlong, 4 bytes */
    CU_ASSERT_EQUAL(parse("[\"\x80\"]"), JSONX_BAD_UTF8);             /* lone continuation */
    CU_ASSERT_EQUAL(parse("[\"\xed\xa0\x80\"]"), JSONX_BAD_UTF8);     /* surrogate D800 */
    CU_ASSERT_EQUAL(parse("[\"\xf8\x88\x80\x80\x80\"]"), JSONX_BAD_UTF8); /* 5-byte form */
    CU_ASSERT_EQUAL(parse("[\"\xf4\x90\x80\x80\"]"), JSONX_BAD_UTF8); /* > U+10FFFF */
    CU_ASSERT_EQUAL(parse("[\"\xc3\"]"), JSONX_BAD_UTF8);             /* truncated 2-byte */
    CU_ASSERT_EQUAL(parse("[\"\xe2\x82\"]"), JSONX_BAD_UTF8);         /* truncated 3-byte */
    CU_ASSERT_EQUAL(parse("\"\xe2\x82"), JSONX_BAD_UTF8);             /* cut at the end */
    CU_ASSERT_EQUAL(parse("[\"\xff\"]"), JSONX_BAD_UTF8);
    CU_ASSERT_EQUAL(parse("{\"\xc0\x80\":1}"), JSONX_BAD_UTF8);       /* in a key */
}

static void t_parse_nul(void)
{
    static const char with_nul[] = "{\"a\":\"x\0y\"}";
    static const char nul_after[] = "{}\0";

    CU_ASSERT_NOT_EQUAL(parse_n(with_nul, sizeof(with_nul) - 1), JSONX_OK);
    CU_ASSERT_NOT_EQUAL(parse_n(nul_after, sizeof(nul_after) - 1), JSONX_OK);
    CU_ASSERT_NOT_EQUAL(parse_n("\0{}", 3), JSONX_OK);
}

static void t_parse_depth(void)
{
    char buf[512];

    nest(buf, 10, "1", 0);
    CU_ASSERT_EQUAL(parse(buf), JSONX_OK);
    nest(buf, 10, "1", 1);
    CU_ASSERT_EQUAL(parse(buf), JSONX_OK);
    nest(buf, JSONX_MAX_DEPTH, "", 0);
    CU_ASSERT_EQUAL(parse(buf), JSONX_OK);
    nest(buf, JSONX_MAX_DEPTH + 1, "", 0);
    CU_ASSERT_EQUAL(parse(buf), JSONX_TOO_DEEP);
    nest(buf, JSONX_MAX_DEPTH + 1, "1", 1);
    CU_ASSERT_EQUAL(parse(buf), JSONX_TOO_DEEP);
    nest(buf, 100, "", 0);
    CU_ASSERT_EQUAL(parse(buf), JSONX_TOO_DEEP);
}

/* 32 nested containers are "not deeper than JSONX_MAX_DEPTH", whatever the
 * innermost one holds; json-c counts the scalar inside as one more level. */
static void t_parse_depth_limit_with_scalar(void)
{
    char buf[512];

    nest(buf, JSONX_MAX_DEPTH, "1", 0);
    CU_ASSERT_EQUAL(parse(buf), JSONX_OK);
    nest(buf, JSONX_MAX_DEPTH, "1", 1);
    CU_ASSERT_EQUAL(parse(buf), JSONX_OK);
}

static void t_parse_surrogate_escapes(void)
{
    /* a pair is one character; a lone half is not text (json-c would make it U+FFFD) */
    CU_ASSERT_EQUAL(parse("[\"\\ud83d\\ude00\"]"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("[\"a\\u00e9b\"]"), JSONX_OK);
    CU_ASSERT_EQUAL(parse("[\"\\ud800\"]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[\"\\udc00\"]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("[\"\\ud800x\\udc00\"]"), JSONX_MALFORMED);
    CU_ASSERT_EQUAL(parse("{\"k\":\"\\ud83d\\ude00\\ud83d\"}"), JSONX_MALFORMED);
}

static void t_utf8_valid(void)
{
    CU_ASSERT_TRUE(jsonx_utf8_valid("", 0));
    CU_ASSERT_TRUE(jsonx_utf8_valid("plain ascii", 11));
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xc2\x80", 2));         /* U+0080, smallest 2-byte */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xc3\xa9", 2));         /* é */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xdf\xbf", 2));         /* U+07FF */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xe0\xa0\x80", 3));     /* U+0800 */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xe2\x82\xac", 3));     /* € */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xed\x9f\xbf", 3));     /* U+D7FF, before surrogates */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xee\x80\x80", 3));     /* U+E000, after surrogates */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xef\xbf\xbf", 3));     /* U+FFFF */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xf0\x90\x80\x80", 4)); /* U+10000 */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xf0\x9f\x98\x80", 4)); /* 😀 */
    CU_ASSERT_TRUE(jsonx_utf8_valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    CU_ASSERT_TRUE(jsonx_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 11));

    CU_ASSERT_FALSE(jsonx_utf8_valid("a\0b", 3));
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xc1\xbf", 2));
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xe0\x9f\xbf", 3));     /* overlong U+07FF */
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xed\xbf\xbf", 3));     /* surrogate DFFF */
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xf0\x8f\xbf\xbf", 4)); /* overlong U+FFFF */
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xf5\x80\x80\x80", 4));
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xc3\xa9", 1));         /* cut by len */
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xf0\x9f\x98\x80", 3));
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xe2\x28\xa1", 3));     /* bad continuation */
    CU_ASSERT_FALSE(jsonx_utf8_valid("\xc3\xc3", 2));
}

static void t_to_string(void)
{
    struct json_object *o = json_object_new_object(), *arr = json_object_new_array();
    const char *s;
    size_t len = 0;

    json_object_object_add(o, "url", json_object_new_string("/api/users/1"));
    json_object_object_add(o, "n", json_object_new_int(3));
    json_object_array_add(arr, json_object_new_boolean(1));
    json_object_array_add(arr, NULL);
    json_object_object_add(o, "list", arr);
    json_object_object_add(o, "q", json_object_new_string("a\"b\\c\n"));
    s = jsonx_to_string(o, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "{\"url\":\"/api/users/1\",\"n\":3,\"list\":[true,null],"
                              "\"q\":\"a\\\"b\\\\c\\n\"}");
    CU_ASSERT_EQUAL(len, strlen(s));
    json_object_put(o);

    o = json_object_new_array();
    s = jsonx_to_string(o, &len);
    CU_ASSERT_STRING_EQUAL(s, "[]");
    CU_ASSERT_EQUAL(len, 2);
    json_object_put(o);
}

/* The rounded value's text, as the serializer writes it. A failure names
 * the call and the text actually produced. */
#define EXPECT_ROUNDED(v, d, text) expect_rounded_at((v), (d), (text), #v, __LINE__)

static void expect_rounded_at(double v, int decimals, const char *text, const char *expr,
                              unsigned line)
{
    struct json_object *o = jsonx_new_rounded(v, decimals);
    const char *got;
    char msg[200];

    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE(json_object_is_type(o, json_type_double));
    got = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    snprintf(msg, sizeof(msg), "jsonx_new_rounded(%s, %d) is \"%s\", want \"%s\"", expr,
             decimals, got, text);
    CU_assertImplementation(strcmp(got, text) == 0, line, msg, __FILE__, "", CU_FALSE);
    json_object_put(o);
}

static void t_rounded(void)
{
    struct json_object *o;
    size_t len;

    EXPECT_ROUNDED(66.666666, 2, "66.67");
    EXPECT_ROUNDED(0.0, 2, "0.0");
    EXPECT_ROUNDED(100.0, 2, "100.0");
    EXPECT_ROUNDED(50.5, 2, "50.5");
    EXPECT_ROUNDED(-0.0, 2, "0.0");
    EXPECT_ROUNDED(-0.001, 2, "0.0"); /* rounds to -0.0: printed without the sign */
    EXPECT_ROUNDED(12.345, 2, "12.35");
    EXPECT_ROUNDED(33.333333, 2, "33.33");
    EXPECT_ROUNDED(10.10, 2, "10.1");
    EXPECT_ROUNDED(1.005, 2, "1.0"); /* 1.00499999... in binary */
    EXPECT_ROUNDED(-2.5, 1, "-2.5");
    EXPECT_ROUNDED(-66.666, 2, "-66.67");
    EXPECT_ROUNDED(7.0, 1, "7.0");
    EXPECT_ROUNDED(1.0 / 3.0, 4, "0.3333");

    /* the numeric value matches the text */
    o = jsonx_new_rounded(66.666666, 2);
    CU_ASSERT_DOUBLE_EQUAL(json_object_get_double(o), 66.67, 1e-9);
    json_object_put(o);

    /* inside a document, via the project's serializer */
    o = json_object_new_object();
    json_object_object_add(o, "rate", jsonx_new_rounded(2.0 / 3.0 * 100.0, 2));
    CU_ASSERT_STRING_EQUAL(jsonx_to_string(o, &len), "{\"rate\":66.67}");
    json_object_put(o);
}

/* With decimals == 0 the trailing-zero trim eats the integer's own zeros:
 * 100 is written as "1.0" while the value stays 100. */
static void t_rounded_zero_decimals(void)
{
    EXPECT_ROUNDED(100.0, 0, "100.0");
    EXPECT_ROUNDED(10.0, 0, "10.0");
    EXPECT_ROUNDED(20.4, 0, "20.0");
    EXPECT_ROUNDED(7.0, 0, "7.0");
    EXPECT_ROUNDED(0.0, 0, "0.0");
}

/* jsonx.h: "as Python's round() output would print". Python rounds the
 * exact binary value and breaks exact ties to even: round(2.675, 2) == 2.67,
 * round(1.115, 2) == 1.11, round(0.125, 2) == 0.12, round(2.5) == 2.
 * round(v * 100) / 100 in C rounds ties away from zero and on an inexact
 * product, so e.g. a 1-in-32 completion rate (3.125%) prints 3.13. */
static void t_rounded_python_parity(void)
{
    EXPECT_ROUNDED(2.675, 2, "2.67");
    EXPECT_ROUNDED(1.115, 2, "1.11");
    EXPECT_ROUNDED(0.125, 2, "0.12");
    EXPECT_ROUNDED(100.0 / 32.0, 2, "3.12"); /* a completion rate of 1 in 32 */
    EXPECT_ROUNDED(0.375, 2, "0.38");
    EXPECT_ROUNDED(2.5, 0, "2.0");
}

static void t_time(void)
{
    struct json_object *o;
    size_t len;

    o = jsonx_new_time(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_TRUE(json_object_is_type(o, json_type_string));
    CU_ASSERT_STRING_EQUAL(json_object_get_string(o), "1970-01-01T00:00:00Z");
    json_object_put(o);

    o = jsonx_new_time(1795000000LL); /* date -u -d @1795000000 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(o), "2026-11-18T11:06:40Z");
    json_object_put(o);

    o = jsonx_new_time(951782400LL); /* leap day 2000 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(o), "2000-02-29T00:00:00Z");
    json_object_put(o);

    o = jsonx_new_time(4102444799LL); /* past 2038 */
    CU_ASSERT_PTR_NOT_NULL_FATAL(o);
    CU_ASSERT_STRING_EQUAL(json_object_get_string(o), "2099-12-31T23:59:59Z");
    json_object_put(o);

    CU_ASSERT_PTR_NULL(jsonx_new_time(-1));
    CU_ASSERT_PTR_NULL(jsonx_new_time(-1795000000LL));

    /* a NULL child serializes as null (the contract's unset time) */
    o = json_object_new_object();
    json_object_object_add(o, "completed_at", jsonx_new_time(-1));
    CU_ASSERT_STRING_EQUAL(jsonx_to_string(o, &len), "{\"completed_at\":null}");
    json_object_put(o);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"parse_ok", t_parse_ok},
        {"parse_trailing_garbage", t_parse_trailing_garbage},
        {"parse_truncated", t_parse_truncated},
        {"parse_number_at_end", t_parse_number_at_end},
        {"parse_malformed", t_parse_malformed},
        {"parse_rejects_json_c_leniencies", t_parse_rejects_json_c_leniencies},
        {"parse_bad_utf8", t_parse_bad_utf8},
        {"parse_nul", t_parse_nul},
        {"parse_depth", t_parse_depth},
        {"parse_depth_limit_with_scalar", t_parse_depth_limit_with_scalar},
        {"parse_surrogate_escapes", t_parse_surrogate_escapes},
        {"utf8_valid", t_utf8_valid},
        {"to_string", t_to_string},
        {"rounded", t_rounded},
        {"rounded_zero_decimals", t_rounded_zero_decimals},
        {"rounded_python_parity", t_rounded_python_parity},
        {"time", t_time},
        {NULL, NULL},
    };
    return testutil_run("jsonx", cases, NULL, NULL);
}
