/* test_req: the pure request helpers. Covers percent-decoding (valid, '+',
 * malformed escapes, embedded NUL), urlencoded parsing into an arena, header
 * lookup in a FastCGI-style env, the JSON content-type check, and the query
 * and path parameter accessors. */
#include <CUnit/CUnit.h>
#include <string.h>

#include "arena.h"
#include "req.h"
#include "testutil.h"

#define CAP (1024u * 1024u)

/* Decodes src (a C string) and returns the length; out gets the text. */
static long decode(const char *src, bool plus, char *out)
{
    return req_url_decode(out, src, strlen(src), plus);
}

static void t_url_decode_valid(void)
{
    char out[64];

    CU_ASSERT_EQUAL(decode("%41", false, out), 1);
    CU_ASSERT_STRING_EQUAL(out, "A");
    CU_ASSERT_EQUAL(decode("a%2fb", false, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "a/b");
    CU_ASSERT_EQUAL(decode("a%2Fb", false, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "a/b");
    CU_ASSERT_EQUAL(decode("%c3%a9t%C3%A9", false, out), 5); /* lower and upper hex */
    CU_ASSERT_STRING_EQUAL(out, "\xc3\xa9t\xc3\xa9");
    CU_ASSERT_EQUAL(decode("plain-text_1.~", false, out), 14);
    CU_ASSERT_STRING_EQUAL(out, "plain-text_1.~");
    CU_ASSERT_EQUAL(decode("", false, out), 0);
    CU_ASSERT_STRING_EQUAL(out, "");
    CU_ASSERT_EQUAL(decode("%25", false, out), 1); /* decoded once, not twice */
    CU_ASSERT_STRING_EQUAL(out, "%");
    CU_ASSERT_EQUAL(decode("%2541", false, out), 3);
    CU_ASSERT_STRING_EQUAL(out, "%41");
}

static void t_url_decode_plus(void)
{
    char out[64];

    CU_ASSERT_EQUAL(decode("a+b+", true, out), 4);
    CU_ASSERT_STRING_EQUAL(out, "a b ");
    CU_ASSERT_EQUAL(decode("a+b+", false, out), 4);
    CU_ASSERT_STRING_EQUAL(out, "a+b+");
    CU_ASSERT_EQUAL(decode("%2B", true, out), 1); /* an encoded plus stays a plus */
    CU_ASSERT_STRING_EQUAL(out, "+");
}

static void t_url_decode_malformed(void)
{
    static const char *const bad[] = {"%", "%4", "%zz", "%g0", "%0g", "abc%", "abc%4", "a%%41", "%-1"};
    char out[64];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(decode(bad[i], false, out), -1);
    /* only len bytes are looked at: "%41" cut to 2 bytes is malformed */
    CU_ASSERT_EQUAL(req_url_decode(out, "%41", 2, false), -1);
    /* and the escape may end exactly at len */
    CU_ASSERT_EQUAL(req_url_decode(out, "x%41yyy", 4, false), 2);
    CU_ASSERT_STRING_EQUAL(out, "xA");
}

static void t_url_decode_nul(void)
{
    char out[64];

    CU_ASSERT_EQUAL(decode("a%00b", false, out), 3);
    CU_ASSERT_EQUAL(memcmp(out, "a\0b\0", 4), 0);
}

static void t_parse_empty(void)
{
    struct arena a;
    struct req_param *p = (struct req_param *)1;
    size_t n = 99;

    arena_init(&a, CAP);
    CU_ASSERT_EQUAL(req_parse_urlencoded(&a, "", 0, &p, &n, NULL), 0);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(n, 0);
    n = 99;
    CU_ASSERT_EQUAL(req_parse_urlencoded(&a, NULL, 0, &p, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_PTR_NULL(req_param_find(p, n, "a"));
    arena_cleanup(&a);
}

static void t_parse_pairs(void)
{
    struct arena a;
    struct req_param *p;
    size_t n;
    const char *s = "a=1&b=2";

    arena_init(&a, CAP);
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, s, strlen(s), &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 2);
    CU_ASSERT_STRING_EQUAL(p[0].name, "a");
    CU_ASSERT_STRING_EQUAL(p[0].value, "1");
    CU_ASSERT_EQUAL(p[0].value_len, 1);
    CU_ASSERT_STRING_EQUAL(p[1].name, "b");
    CU_ASSERT_STRING_EQUAL(p[1].value, "2");
    CU_ASSERT_PTR_EQUAL(req_param_find(p, n, "b"), &p[1]);
    CU_ASSERT_PTR_NULL(req_param_find(p, n, "c"));
    CU_ASSERT_PTR_NULL(req_param_find(p, n, "A")); /* names are case-sensitive */

    /* only len bytes are parsed */
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, s, 3, &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(p[0].name, "a");
    arena_cleanup(&a);
}

static void t_parse_no_value(void)
{
    struct arena a;
    struct req_param *p;
    size_t n;

    arena_init(&a, CAP);
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, "a", 1, &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(p[0].name, "a");
    CU_ASSERT_STRING_EQUAL(p[0].value, "");
    CU_ASSERT_EQUAL(p[0].value_len, 0);

    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, "a=", 2, &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(p[0].name, "a");
    CU_ASSERT_STRING_EQUAL(p[0].value, "");
    CU_ASSERT_EQUAL(p[0].value_len, 0);

    /* only the first '=' splits */
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, "k=v=w", 5, &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(p[0].name, "k");
    CU_ASSERT_STRING_EQUAL(p[0].value, "v=w");
    arena_cleanup(&a);
}

static void t_parse_empty_pairs(void)
{
    struct arena a;
    struct req_param *p;
    size_t n;
    const char *s = "&&a=1&&";

    arena_init(&a, CAP);
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, s, strlen(s), &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 1);
    CU_ASSERT_STRING_EQUAL(p[0].name, "a");
    CU_ASSERT_STRING_EQUAL(p[0].value, "1");

    CU_ASSERT_EQUAL(req_parse_urlencoded(&a, "&", 1, &p, &n, NULL), 0);
    CU_ASSERT_EQUAL(n, 0);
    arena_cleanup(&a);
}

static void t_parse_duplicates(void)
{
    struct arena a;
    struct req_param *p;
    size_t n;
    const struct req_param *f;
    const char *s = "x=first&y=0&x=second";

    arena_init(&a, CAP);
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, s, strlen(s), &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    /* a repeated name answers its last value, as Starlette does */
    f = req_param_find(p, n, "x");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_PTR_EQUAL(f, &p[2]);
    CU_ASSERT_STRING_EQUAL(f->value, "second");
    CU_ASSERT_STRING_EQUAL(p[0].value, "first"); /* both are kept, in order */
    arena_cleanup(&a);
}

static void t_parse_encoded(void)
{
    struct arena a;
    struct req_param *p;
    size_t n;
    const struct req_param *f;
    const char *s = "full%20name=Ada+L%C3%B6velace&e%3Dq=a%26b&z=%C3%A9x";

    arena_init(&a, CAP);
    CU_ASSERT_EQUAL_FATAL(req_parse_urlencoded(&a, s, strlen(s), &p, &n, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    f = req_param_find(p, n, "full name");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(f->value, "Ada L\xc3\xb6velace");
    CU_ASSERT_EQUAL(f->value_len, strlen("Ada L\xc3\xb6velace"));
    f = req_param_find(p, n, "e=q"); /* encoded '=' and '&' do not split */
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_STRING_EQUAL(f->value, "a&b");
    f = req_param_find(p, n, "z");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(f->value_len, 3);
    CU_ASSERT_STRING_EQUAL(f->value, "\xc3\xa9x");
    arena_cleanup(&a);
}

static void t_parse_malformed(void)
{
    static const char *const bad[] = {"a=%zz", "a=1&b=%", "%4=1", "a=1&b=2%4"};
    struct arena a;
    struct req_param *p;
    size_t n;

    arena_init(&a, CAP);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(req_parse_urlencoded(&a, bad[i], strlen(bad[i]), &p, &n, NULL), -1);
    arena_cleanup(&a);
}

/* A decoded NUL would cut a C string short (limit=3%00zz read as 3): the
 * parser refuses it and names the field; invalid UTF-8 likewise. */
static void t_parse_refuses_nul_and_bad_utf8(void)
{
    static const struct {
        const char *in, *field;
        int rc;
    } cases[] = {
        {"limit=3%00zz", "limit", REQ_PARSE_NUL},
        {"a=1&pattern=x%00*", "pattern", REQ_PARSE_NUL},
        {"username=admin%00junk&password=p", "username", REQ_PARSE_NUL},
        {"a=%00", "a", REQ_PARSE_NUL},
        {"q=%FF", "q", REQ_PARSE_UTF8},
        {"q=%C3", "q", REQ_PARSE_UTF8},
        {"q=%ED%A0%80", "q", REQ_PARSE_UTF8}, /* a surrogate */
        {"q=%C0%AF", "q", REQ_PARSE_UTF8},    /* an overlong '/' */
        {"full+name=x&q=%FF%00", "q", REQ_PARSE_NUL},
    };
    static const char *const bad_names[] = {"a%00b=1", "%FF=1", "x=1&%00=2"};
    struct arena a;
    struct req_param *p;
    const char *field;
    size_t n;

    arena_init(&a, CAP);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        field = NULL;
        CU_ASSERT_EQUAL(req_parse_urlencoded(&a, cases[i].in, strlen(cases[i].in), &p, &n, &field),
                        cases[i].rc);
        CU_ASSERT_PTR_NOT_NULL_FATAL(field);
        CU_ASSERT_STRING_EQUAL(field, cases[i].field);
    }
    /* a name that is no text names nothing: the whole input is malformed */
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        CU_ASSERT_EQUAL(req_parse_urlencoded(&a, bad_names[i], strlen(bad_names[i]), &p, &n,
                                             &field),
                        REQ_PARSE_MALFORMED);
    arena_cleanup(&a);
}

static void t_parse_arena_exhausted(void)
{
    struct arena a;
    struct req_param *p;
    size_t n;

    arena_init(&a, 1024); /* smaller than one chunk: every allocation fails */
    CU_ASSERT_EQUAL(req_parse_urlencoded(&a, "a=1", 3, &p, &n, NULL), -1);
    arena_cleanup(&a);
}

static void t_header(void)
{
    char *env[] = {
        "REQUEST_METHOD=GET",
        "HTTP_AUTHORIZATION=Bearer x",
        "HTTP_IF_NONE_MATCH=\"abc\"",
        "HTTP_X_EMPTY=",
        "HTTP_ACCEPT_LANGUAGE=fr",
        NULL,
    };
    struct arena a;
    struct req rq;

    arena_init(&a, CAP);
    memset(&rq, 0, sizeof(rq));
    rq.arena = &a;
    rq.env = env;
    rq.content_type = "application/json";

    CU_ASSERT_STRING_EQUAL(req_header(&rq, "Authorization"), "Bearer x");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "authorization"), "Bearer x");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "AUTHORIZATION"), "Bearer x");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "If-None-Match"), "\"abc\"");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "if-none-match"), "\"abc\"");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "X-Empty"), "");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "Content-Type"), "application/json");
    CU_ASSERT_STRING_EQUAL(req_header(&rq, "content-type"), "application/json");
    CU_ASSERT_PTR_NULL(req_header(&rq, "X-Missing"));
    CU_ASSERT_PTR_NULL(req_header(&rq, "Accept")); /* a prefix of Accept-Language */
    CU_ASSERT_PTR_NULL(req_header(&rq, "Auth"));   /* a prefix of Authorization */
    CU_ASSERT_PTR_NULL(req_header(&rq, "Request-Method")); /* not an HTTP_ param */

    rq.content_type = NULL;
    CU_ASSERT_PTR_NULL(req_header(&rq, "Content-Type"));
    rq.env = NULL;
    CU_ASSERT_PTR_NULL(req_header(&rq, "Authorization"));
    arena_cleanup(&a);
}

static bool is_json(const char *ct)
{
    struct req rq;

    memset(&rq, 0, sizeof(rq));
    rq.content_type = ct;
    return req_is_json(&rq);
}

static void t_is_json(void)
{
    CU_ASSERT_TRUE(is_json("application/json"));
    CU_ASSERT_TRUE(is_json("application/json; charset=utf-8"));
    CU_ASSERT_TRUE(is_json("application/json;charset=UTF-8"));
    CU_ASSERT_TRUE(is_json("APPLICATION/JSON"));
    CU_ASSERT_TRUE(is_json("Application/Json"));
    CU_ASSERT_FALSE(is_json("application/jsonx"));
    CU_ASSERT_FALSE(is_json("application/json-patch+json"));
    CU_ASSERT_FALSE(is_json("text/plain"));
    CU_ASSERT_FALSE(is_json("application/x-www-form-urlencoded"));
    CU_ASSERT_FALSE(is_json("text/application/json"));
    CU_ASSERT_FALSE(is_json("application/jso"));
    CU_ASSERT_FALSE(is_json(""));
    CU_ASSERT_FALSE(is_json(NULL));
}

static void t_query(void)
{
    struct arena a;
    struct req rq;
    const char *q = "limit=10&skip=&guild_rank=Master&limit=99";

    arena_init(&a, CAP);
    memset(&rq, 0, sizeof(rq));
    rq.arena = &a;
    rq.query = q;
    CU_ASSERT_PTR_NULL(req_query(&rq, "limit")); /* nothing parsed yet */
    CU_ASSERT_EQUAL_FATAL(
        req_parse_urlencoded(&a, q, strlen(q), &rq.query_params, &rq.nquery, NULL), 0);
    CU_ASSERT_STRING_EQUAL(req_query(&rq, "limit"), "99"); /* the last one, as in Starlette */
    CU_ASSERT_STRING_EQUAL(req_query(&rq, "skip"), "");
    CU_ASSERT_STRING_EQUAL(req_query(&rq, "guild_rank"), "Master");
    CU_ASSERT_PTR_NULL(req_query(&rq, "min_experience"));
    arena_cleanup(&a);
}

static void t_path_param(void)
{
    struct req rq;

    memset(&rq, 0, sizeof(rq));
    CU_ASSERT_PTR_NULL(req_path_param(&rq, 0));
    rq.path_params[0] = "42";
    rq.path_params[1] = "7";
    rq.npath_params = 2;
    CU_ASSERT_STRING_EQUAL(req_path_param(&rq, 0), "42");
    CU_ASSERT_STRING_EQUAL(req_path_param(&rq, 1), "7");
    CU_ASSERT_PTR_NULL(req_path_param(&rq, 2));
    CU_ASSERT_PTR_NULL(req_path_param(&rq, (size_t)-1));
}

int main(void)
{
    static const struct test_case cases[] = {
        {"url_decode_valid", t_url_decode_valid},
        {"url_decode_plus", t_url_decode_plus},
        {"url_decode_malformed", t_url_decode_malformed},
        {"url_decode_nul", t_url_decode_nul},
        {"parse_empty", t_parse_empty},
        {"parse_pairs", t_parse_pairs},
        {"parse_no_value", t_parse_no_value},
        {"parse_empty_pairs", t_parse_empty_pairs},
        {"parse_duplicates", t_parse_duplicates},
        {"parse_encoded", t_parse_encoded},
        {"parse_malformed", t_parse_malformed},
        {"parse_refuses_nul_and_bad_utf8", t_parse_refuses_nul_and_bad_utf8},
        {"parse_arena_exhausted", t_parse_arena_exhausted},
        {"header", t_header},
        {"is_json", t_is_json},
        {"query", t_query},
        {"path_param", t_path_param},
        {NULL, NULL},
    };
    return testutil_run("req", cases, NULL, NULL);
}
