/* test_fcgi_io: FastCGI params + stdin into struct req, through a libfcgi
 * request faked in memory: the path (DOCUMENT_URI as nginx sends it, or
 * REQUEST_URI decoded when it is absent), trailing slashes, the query
 * string, Content-Length and the 64 KiB body cap. */
#include <CUnit/CUnit.h>
#include <fcgiapp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "fcgi_io.h"
#include "req.h"
#include "resp.h"
#include "testutil.h"

#define CAP (1024u * 1024u)

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

/* libfcgi asks for more input once the buffer is used up: there is none. */
static void end_of_input(FCGX_Stream *st)
{
    st->isClosed = 1;
}

/* Reads a request with params env (NULL-terminated) and body into rq/rs;
 * returns fcgi_io_read's result. */
static int read_req(char **env, const char *body, struct req *rq, struct resp *rs)
{
    static unsigned char none[1];
    FCGX_Stream in;
    FCGX_Request fr;
    size_t len = body ? strlen(body) : 0;

    memset(&in, 0, sizeof(in));
    /* read only, by libfcgi */
    in.rdNext = in.stopUnget = body ? (unsigned char *)(uintptr_t)body : none;
    in.stop = in.rdNext + len;
    in.isReader = 1;
    in.fillBuffProc = end_of_input;
    memset(&fr, 0, sizeof(fr));
    fr.envp = env;
    fr.in = &in;
    memset(rq, 0, sizeof(*rq));
    resp_init(rs, &arena);
    return fcgi_io_read(&fr, &arena, rq, rs);
}

/* The path fcgi_io makes of REQUEST_URI alone (DOCUMENT_URI absent). */
static const char *path_of(const char *uri)
{
    char param[256];
    char *env[] = {param, NULL};
    struct req rq;
    struct resp rs;

    snprintf(param, sizeof(param), "REQUEST_URI=%s", uri);
    CU_ASSERT_EQUAL_FATAL(read_req(env, NULL, &rq, &rs), 0);
    return rq.path;
}

static void t_path_from_document_uri(void)
{
    char *env[] = {"REQUEST_METHOD=GET", "DOCUMENT_URI=/api/users/1/", "REQUEST_URI=/x?y=1",
                   "QUERY_STRING=limit=5&skip=2", NULL};
    struct req rq;
    struct resp rs;

    CU_ASSERT_EQUAL_FATAL(read_req(env, NULL, &rq, &rs), 0);
    CU_ASSERT_STRING_EQUAL(rq.method, "GET");
    CU_ASSERT_STRING_EQUAL(rq.path, "/api/users/1");
    CU_ASSERT_EQUAL(rq.nquery, 2);
    CU_ASSERT_STRING_EQUAL(req_query(&rq, "skip"), "2");
}

static void t_path_from_request_uri(void)
{
    CU_ASSERT_STRING_EQUAL(path_of("/api/users/%31?x=1"), "/api/users/1");
    CU_ASSERT_STRING_EQUAL(path_of("/metrics//"), "/metrics");
    CU_ASSERT_STRING_EQUAL(path_of("/"), "/");
    CU_ASSERT_STRING_EQUAL(path_of("ping"), "/ping");
    CU_ASSERT_STRING_EQUAL(path_of("/a+b"), "/a+b"); /* '+' is a space in forms only */
    /* a malformed escape is kept raw: it matches no route */
    CU_ASSERT_STRING_EQUAL(path_of("/api/users/%zz"), "/api/users/%zz");
}

/* A decoded %00 must not cut the path short as a C string: "/metrics/%00"
 * was "/metrics/" (and so the metrics route) and "/api/users/me/%00"
 * "/api/users/me/", with a trailing slash left (found by fuzz/fuzz_router).
 * Such a path is kept raw, like a malformed escape: no route matches it. */
static void t_path_with_encoded_nul(void)
{
    CU_ASSERT_STRING_EQUAL(path_of("/metrics%00"), "/metrics%00");
    CU_ASSERT_STRING_EQUAL(path_of("/api/users/me/%00"), "/api/users/me/%00");
    CU_ASSERT_STRING_EQUAL(path_of("/%00/"), "/%00");
}

static void t_body_and_length(void)
{
    char *env[] = {"REQUEST_METHOD=POST", "DOCUMENT_URI=/api/auth/login", "CONTENT_LENGTH=7",
                   "CONTENT_TYPE=application/json", NULL};
    char *bad[] = {"DOCUMENT_URI=/", "CONTENT_LENGTH=-1", NULL};
    char *big[] = {"DOCUMENT_URI=/", "CONTENT_LENGTH=65537", NULL};
    struct req rq;
    struct resp rs;

    CU_ASSERT_EQUAL_FATAL(read_req(env, "{\"a\":1}", &rq, &rs), 0);
    CU_ASSERT_EQUAL(rq.body_len, 7);
    CU_ASSERT_STRING_EQUAL(rq.body, "{\"a\":1}");
    CU_ASSERT_TRUE(req_is_json(&rq));
    CU_ASSERT_EQUAL(read_req(bad, "{}", &rq, &rs), 400);
    CU_ASSERT_EQUAL(read_req(big, "{}", &rq, &rs), 413);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"path_from_document_uri", t_path_from_document_uri},
        {"path_from_request_uri", t_path_from_request_uri},
        {"path_with_encoded_nul", t_path_with_encoded_nul},
        {"body_and_length", t_body_and_length},
        {NULL, NULL},
    };
    return testutil_run("fcgi_io", cases, setup, teardown);
}
