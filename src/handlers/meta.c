/* meta: GET /, /ping, /missions, /health. /ping answers without touching
 * MySQL or Redis (a liveness probe); /health does real round trips to both
 * (a readiness probe): MySQL down is 503, Redis down only degrades. */
#include "handlers/handlers.h"

#include <json-c/json.h>

#include "app.h"
#include "clientip.h"
#include "db.h"
#include "metrics.h"
#include "missions.h"
#include "redis_conn.h"
#include "req.h"
#include "resp.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.0.0"
#endif

static const char PING_BODY[] = "{\"message\":\"The Guild is alive\",\"status\":\"operational\"}";

int meta_ping(struct req *rq, struct resp *rs)
{
    return resp_json_text(rs, 200, PING_BODY, sizeof(PING_BODY) - 1);
}

int meta_root(struct req *rq, struct resp *rs)
{
    json_object *o = json_object_new_object();
    int status;

    json_object_object_add(o, "message", json_object_new_string("Welcome to the Guild API"));
    json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
    json_object_object_add(o, "docs", json_object_new_string("/docs"));
    json_object_object_add(o, "missions", json_object_new_int(MISSIONS_COUNT));
    json_object_object_add(o, "status", json_object_new_string("operational"));
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}

int meta_missions(struct req *rq, struct resp *rs)
{
    json_object *o = json_object_new_object(), *list = json_object_new_array();
    const struct mission *m = missions_all();
    int status;

    for (int i = 0; i < MISSIONS_COUNT; i++) {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_int(m[i].id));
        json_object_object_add(e, "name", json_object_new_string(m[i].name));
        json_object_object_add(e, "focus", json_object_new_string(m[i].focus));
        json_object_array_add(list, e);
    }
    json_object_object_add(o, "missions", list);
    json_object_object_add(o, "total", json_object_new_int(MISSIONS_COUNT));
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}

int meta_health(struct req *rq, struct resp *rs)
{
    struct app *app = rq->app;
    bool db_up = db_ping(app->db) == 0;
    bool cache_up = redis_conn_ping(app->cache_redis) == 0;
    bool store_up = redis_conn_ping(app->store_redis) == 0;
    json_object *o = json_object_new_object();
    int status;

    json_object_object_add(o, "status", json_object_new_string(db_up ? "ok" : "unavailable"));
    json_object_object_add(o, "database", json_object_new_string(db_up ? "up" : "down"));
    json_object_object_add(o, "cache", json_object_new_string(cache_up ? "up" : "down"));
    json_object_object_add(o, "store", json_object_new_string(store_up ? "up" : "down"));
    status = resp_json(rs, db_up ? 200 : 503, o);
    json_object_put(o);
    return status;
}

/* GET /metrics: Prometheus text. nginx lets only loopback reach it, but
 * nginx matches spellings of a path (/metrics/, /metrics//, /metrics/.)
 * that the router folds into one: the responder checks the peer itself
 * (GUILD_METRICS_ALLOW), so every spelling it accepts is restricted. The
 * store's memory is refreshed by at most one scrape a second pool-wide. */
int meta_metrics(struct req *rq, struct resp *rs)
{
    size_t len = 0;
    unsigned long long used = 0, max = 0;
    char *text;
    bool ok;

    if (rq->remote_addr == NULL ||
        !clientip_in_list(rq->remote_addr, rq->app->cfg.metrics_allow))
        return resp_error(rs, 403, "Forbidden");
    if (metrics_store_memory_due()) {
        ok = redis_conn_memory(rq->app->store_redis, &used, &max) == 0;
        metrics_store_memory_set(ok, used, max);
    }
    if ((text = metrics_render(rq->arena, &len)) == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    return resp_body(rs, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}

/* GET /api/protected-endpoint: the seed's rate-limit demo (10 per minute per
 * user by default, GUILD_RATE_LIMIT_PROTECTED). */
int meta_protected(struct req *rq, struct resp *rs)
{
    static const char body[] = "{\"message\":\"Success\"}";

    return resp_json_text(rs, 200, body, sizeof(body) - 1);
}
