/* fuzz_query: the query string (QUERY_STRING, raw bytes after '?') through
 * the responder's parser, req_parse_urlencoded (a failure is the
 * dispatcher's 400), then through every route that reads query parameters:
 * GET /api/users (skip, limit, min_experience, guild_rank) and
 * GET /api/analytics/leaderboard (limit, also the cache entry's name) by
 * the dispatcher, POST .../missions/{id}/complete (score) by its handler.
 * DELETE /api/cache/clear's pattern has a harness of its own. */
#include <string.h>

#include "fuzz_app.h"
#include "handlers/handlers.h"
#include "req.h"
#include "resp.h"

/* What the parser promises about every pair it returns. */
static void check_params(const struct req *rq, const char *query, size_t len)
{
    size_t pairs = 1;

    for (size_t i = 0; i < len; i++)
        pairs += query[i] == '&';
    fuzz_require(rq->nquery <= pairs, "more parameters than '&'-separated pairs");
    for (size_t i = 0; i < rq->nquery; i++) {
        const struct req_param *p = &rq->query_params[i];
        fuzz_require(p->name != NULL && p->value != NULL, "NULL name or value");
        fuzz_require(p->value[p->value_len] == '\0', "value not NUL-terminated at value_len");
        fuzz_require(p->value_len <= len, "value longer than the query");
    }
}

/* One request on path with the query; handler NULL: through the dispatcher. */
static void run(const char *method, const char *path, const char *query, size_t len,
                int (*handler)(struct req *, struct resp *))
{
    static const char *const ids[] = {"1", "3"};
    struct req rq;
    struct resp rs;
    char *q;

    fuzz_req_init(&rq, &rs, method, path);
    q = NULL;
    fuzz_split((const uint8_t *)query, len, '\0', 1, &q, &len);
    if (!fuzz_req_query(&rq, q, len))
        return; /* the dispatcher's "400 Malformed query string" */
    check_params(&rq, q, len);
    if (handler == NULL) {
        fuzz_dispatch(&rq, &rs);
    } else {
        fuzz_req_path_params(&rq, ids, 2);
        fuzz_req_as_user(&rq, 1, false);
        handler(&rq, &rs);
    }
    fuzz_check_answer(&rs, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a FastCGI parameter is a C string: the query ends at a NUL byte */
    const char *query = (const char *)data;
    size_t len = strnlen(query, size);

    fuzz_begin();
    run("GET", "/api/users", query, len, NULL);
    run("GET", "/api/analytics/leaderboard", query, len, NULL);
    run("POST", "/api/users/1/missions/3/complete", query, len, progress_complete);
    return 0;
}
