/* fuzz_router: the request line as the responder sees it: REQUEST_METHOD,
 * REQUEST_URI and (when nginx sets it) DOCUMENT_URI through fcgi_io_read's
 * path cleaning (percent-decoding, trailing slashes), then router_match
 * against the real route table, then every captured id through
 * validate_path_id and the matched route's own handler, called as an admin
 * (the dispatcher would stop at the token check with the database down):
 * user, mission and session ids are parsed there (422, 404) before any
 * store is asked. Input: method, URI and document URI on three lines (an
 * empty one is absent). */
#include <string.h>

#include "arena.h"
#include "fuzz_app.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "validate.h"

static char *param(struct req *rq, const char *name, const char *value)
{
    char *s = arena_sprintf(rq->arena, "%s=%s", name, value);

    fuzz_require(s != NULL, "arena");
    return s;
}

static size_t count_params(const char *pattern)
{
    size_t n = 0;

    for (; *pattern; pattern++)
        n += *pattern == '{';
    return n;
}

static void check_match(struct req *rq, struct resp *rs)
{
    size_t n;
    const struct route *table = router_routes(&n), *route = NULL;
    char allow[64], *buf = arena_alloc(rq->arena, strlen(rq->path) + 1);
    long long id;
    enum router_rc rc;

    fuzz_require(buf != NULL, "arena");
    rc = router_match(table, n, rq->method, rq->path, &route, rq->path_params, REQ_MAX_PATH_PARAMS,
                      &rq->npath_params, buf, allow, sizeof(allow));
    if (rc == ROUTER_BAD_METHOD)
        fuzz_require(allow[0] != '\0', "405 without an Allow list");
    if (rc != ROUTER_FOUND)
        return;
    fuzz_require(strcmp(route->method, rq->method) == 0, "matched another method");
    fuzz_require(rq->npath_params == count_params(route->pattern), "wrong parameter count");
    for (size_t i = 0; i < rq->npath_params; i++) {
        const char *p = rq->path_params[i];
        fuzz_require(*p != '\0' && strchr(p, '/') == NULL, "a parameter is not one segment");
        if (validate_path_id(p, &id) == 0)
            fuzz_require(id >= 1, "a valid id below 1");
    }
    if (rq->npath_params > 0) {
        resp_init(rs, rq->arena);
        fuzz_req_as_user(rq, 1, true);
        route->handler(rq, rs);
        fuzz_check_answer(rs, route->name);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req rq;
    struct resp rs;
    char *f[3], *env[5], *q;
    size_t lens[3], n = 0;

    fuzz_begin();
    fuzz_req_init(&rq, &rs, NULL, NULL);
    fuzz_split(data, size, '\n', 3, f, lens);
    if (*f[0] != '\0')
        env[n++] = param(&rq, "REQUEST_METHOD", f[0]);
    if (*f[1] != '\0')
        env[n++] = param(&rq, "REQUEST_URI", f[1]);
    if (*f[2] != '\0')
        env[n++] = param(&rq, "DOCUMENT_URI", f[2]);
    if ((q = strchr(f[1], '?')) != NULL) /* nginx's $query_string */
        env[n++] = param(&rq, "QUERY_STRING", q + 1);
    env[n] = NULL;
    if (fuzz_fcgi_read(&rq, &rs, env, NULL, 0) != 0) {
        fuzz_check_answer(&rs, "fcgi_io_read");
        return 0;
    }
    fuzz_require(rq.path != NULL && rq.path[0] == '/', "path does not start with '/'");
    fuzz_require(strcmp(rq.path, "/") == 0 || rq.path[strlen(rq.path) - 1] != '/',
                 "path keeps a trailing slash");
    check_match(&rq, &rs);
    return 0;
}
