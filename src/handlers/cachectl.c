/* cachectl: /api/cache: stats, clear, warm, stats reset. Clear, warm and
 * reset are admin-only (checked by the dispatcher from the route table).
 * The warm job runs after its 202 has been sent (server_defer), one at a
 * time across the pool (a lock in Redis). */
#include "handlers/handlers.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "body.h"
#include "cache.h"
#include "cache_admin.h"
#include "clock.h"
#include "req.h"
#include "resp.h"
#include "server.h"
#include "validate.h"

#define PATTERN_MAX 256

static int cache_unavailable(struct resp *rs)
{
    return resp_error(rs, 503, "Cache unavailable");
}

/* Public, so cheap: one round trip; the entry count is the one kept in
 * Redis, and when it is this responder's turn to count again, it does so
 * after the answer has gone. */
int cachectl_stats(struct req *rq, struct resp *rs)
{
    bool recount;
    json_object *o = cache_admin_stats(rq->app, &recount);
    int status = resp_json(rs, 200, o);

    json_object_put(o);
    resp_header(rs, "Cache-Control", "no-store");
    if (recount)
        server_defer(rq->app, cache_admin_recount);
    return status;
}

int cachectl_reset(struct req *rq, struct resp *rs)
{
    return cache_admin_reset(rq->app) == 0 ? resp_empty(rs, 204) : cache_unavailable(rs);
}

int cachectl_clear(struct req *rq, struct resp *rs)
{
    const char *pattern = req_query(rq, "pattern");
    char msg[64];
    json_object *o;
    long long n;
    int status;

    if (pattern == NULL)
        pattern = "*";
    if (*pattern == '\0' || strlen(pattern) > PATTERN_MAX ||
        body_has_control(pattern, strlen(pattern)))
        return resp_invalid(rs, "query", "pattern", "string_pattern_mismatch",
                            "Pattern must be 1-256 bytes without control characters");
    if ((n = cache_admin_clear(rq->app, pattern)) < 0)
        return cache_unavailable(rs);
    snprintf(msg, sizeof(msg), "Cleared %lld cache entries", n);
    o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(msg));
    json_object_object_add(o, "deleted", json_object_new_int64(n));
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}

int cachectl_warm_status(struct req *rq, struct resp *rs)
{
    json_object *o = cache_admin_warm_state(rq->app);
    int status;

    if (o == NULL)
        return cache_unavailable(rs);
    status = resp_json(rs, 200, o);
    json_object_put(o);
    resp_header(rs, "Cache-Control", "no-store");
    return status;
}

/* What a warm computes: the analytics a dashboard opens with. */
static const struct {
    const struct cache_spec *spec;
    cache_compute_fn compute;
    const char *query;
} warm_list[] = {
    {&cached_user_stats, analytics_user_stats, ""},
    {&cached_advanced_stats, analytics_advanced_stats, ""},
    {&cached_mission_stats, analytics_mission_stats, ""},
    {&cached_leaderboard, analytics_leaderboard, "limit=10"},
    {&cached_leaderboard, analytics_leaderboard, "limit=25"},
    {&cached_leaderboard, analytics_leaderboard, "limit=50"},
    {&cached_leaderboard, analytics_leaderboard, "limit=100"},
};

/* Runs after the 202 went out: recompute and store every warm entry. */
static void warm_run(struct app *app)
{
    double t0 = clock_ms();
    long long warmed = 0;

    for (size_t i = 0; i < sizeof(warm_list) / sizeof(warm_list[0]); i++) {
        struct req rq;
        struct resp rs;

        memset(&rq, 0, sizeof(rq));
        rq.app = app;
        rq.arena = &app->arena;
        rq.method = "GET";
        rq.path = "/";
        rq.query = warm_list[i].query;
        resp_init(&rs, &app->arena);
        if (req_parse_urlencoded(&app->arena, rq.query, strlen(rq.query), &rq.query_params,
                                 &rq.nquery, NULL) != REQ_PARSE_OK)
            continue;
        warmed += cache_refresh(&rq, &rs, warm_list[i].spec, warm_list[i].compute) == 0;
    }
    cache_admin_warm_end(app, warmed == (long long)(sizeof(warm_list) / sizeof(warm_list[0])),
                         warmed, clock_ms() - t0);
}

int cachectl_warm_start(struct req *rq, struct resp *rs)
{
    int got = cache_admin_warm_begin(rq->app);
    json_object *o, *job;
    int status;

    if (got < 0 || (job = cache_admin_warm_state(rq->app)) == NULL)
        return cache_unavailable(rs);
    o = json_object_new_object();
    json_object_object_add(o, "message", json_object_new_string(
                                             got ? "Cache warming started" : "Cache warming already running"));
    json_object_object_add(o, "job", job);
    status = resp_json(rs, 202, o);
    json_object_put(o);
    if (got)
        server_defer(rq->app, warm_run);
    return status;
}
