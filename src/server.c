/* server: the dispatcher; see server.h. Unknown paths are 404 and known
 * paths with another method 405 + Allow, inside and outside /api/, exactly
 * as the contract fixes them. */
#include "server.h"

#include <fcgiapp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "app.h"
#include "arena.h"
#include "auth.h"
#include "cache.h"
#include "clientip.h"
#include "clock.h"
#include "db.h"
#include "db_users.h"
#include "fcgi_io.h"
#include "guard.h"
#include "log.h"
#include "metrics.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "token_cache.h"
#include "validate.h"

/* Loads the caller of a route that needs a token. claims is the verified
 * token (NULL: missing or invalid). Returns 0 (rq->user and rq->account set)
 * or the error status it set. A deleted user, one whose username changed
 * under the same id, or one whose password changed since the token was
 * issued, is 401; a deactivated one 403 at once: the row is read
 * on every request, from the cache role while no write has touched it since
 * (account.h), else by primary key from MariaDB. */
static int authenticate(struct req *rq, struct resp *rs, enum route_auth need,
                        const struct auth_claims *claims, enum guard_token token)
{
    struct app *app = rq->app;
    struct user *u;
    struct auth_user *au;

    if (claims == NULL || token == GUARD_TOKEN_REVOKED)
        return resp_unauthorized(rs, NULL);
    if (token == GUARD_TOKEN_UNKNOWN && app->cfg.denylist_fail_closed)
        return resp_error(rs, 503, "Session store unavailable");
    if ((u = arena_alloc(rq->arena, sizeof(*u))) == NULL ||
        (au = arena_alloc(rq->arena, sizeof(*au))) == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    switch (account_find(rq, claims->uid, u)) {
    case DB_OK:
        break;
    case DB_NOTFOUND:
        return resp_unauthorized(rs, NULL);
    default:
        return resp_error(rs, 503, "Service temporarily unavailable");
    }
    /* a password change since the token was issued ends it (sql/003) */
    if (strcmp(u->username, claims->sub) != 0 || claims->ver != u->token_version)
        return resp_unauthorized(rs, NULL);
    if (!u->is_active)
        return resp_error(rs, 403, "Inactive user");
    if (need == AUTH_ADMIN && !u->is_admin)
        return resp_error(rs, 403, "Admin privileges required");
    au->id = u->id;
    au->username = u->username;
    au->is_admin = u->is_admin;
    au->is_active = u->is_active;
    au->jti = arena_strdup(rq->arena, claims->jti);
    au->exp = claims->exp;
    au->auth_time = claims->auth_time;
    rq->user = au;
    rq->account = u;
    return 0;
}

static bool is_api_path(const char *path)
{
    return strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0;
}

int server_dispatch(struct req *rq, struct resp *rs, const struct route **matched)
{
    struct app *app = rq->app;
    const struct route *table, *route;
    struct auth_claims *claims;
    enum guard_token token = GUARD_TOKEN_OK;
    const char *bearer;
    char allow[64], *param_buf, *ip;
    size_t n;
    enum router_rc rc;
    int status;

    table = router_routes(&n);
    param_buf = arena_alloc(rq->arena, strlen(rq->path) + 1);
    claims = arena_alloc(rq->arena, sizeof(*claims));
    ip = arena_alloc(rq->arena, 64);
    if (param_buf == NULL || claims == NULL || ip == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    rc = router_match(table, n, rq->method, rq->path, &route, rq->path_params,
                      REQ_MAX_PATH_PARAMS, &rq->npath_params, param_buf, allow, sizeof(allow));
    clientip_resolve(rq->remote_addr, req_header(rq, "X-Forwarded-For"), app->cfg.trusted_proxies,
                     ip, 64);
    rq->client_ip = ip;
    /* only a verified token names a user for the limiter; a bad one counts
     * against the client's address and is refused below */
    bearer = auth_bearer(req_header(rq, "Authorization"));
    if (bearer == NULL || token_cache_verify(app->cfg.jwt_secret, bearer, (long long)time(NULL),
                                             claims) != 0)
        claims = NULL;
    /* the cache-role reads (the caller's account, a cached route's lookup)
     * travel while the limiter waits on the store role: one wait for both */
    if (rc == ROUTER_FOUND && rq->query_rc == REQ_PARSE_OK) {
        const struct cache_spec *spec =
            route->cache != NULL && strcmp(rq->method, "GET") == 0 ? route->cache : NULL;
        char acct[ACCOUNT_NAME_MAX], fam[ACCOUNT_NAME_MAX];
        bool with_acct = route->auth != AUTH_NONE && claims != NULL;

        if (with_acct)
            account_entry_name(claims->uid, acct, fam);
        if (spec != NULL || with_acct)
            cache_prefetch(rq, spec, with_acct ? acct : NULL, with_acct ? fam : NULL);
    }
    if (is_api_path(rq->path) &&
        (status = guard_limit(rq, rs, route ? (enum guard_policy)route->policy : GUARD_API,
                              claims, &token)) != 0)
        return status;
    if (rc == ROUTER_NOT_FOUND)
        return resp_error(rs, 404, "Not Found");
    if (rc == ROUTER_BAD_METHOD) {
        resp_header(rs, "Allow", "%s", allow);
        return resp_error(rs, 405, "Method Not Allowed");
    }
    *matched = route;
    if (route->auth != AUTH_NONE && (status = authenticate(rq, rs, route->auth, claims, token)) != 0)
        return status;
    if (rq->query_rc != REQ_PARSE_OK)
        return resp_urlencoded_refused(rs, "query", rq->query_rc, rq->query_bad);
    if (route->cache != NULL)
        return cache_serve(rq, rs, route->cache, route->handler);
    return route->handler(rq, rs);
}

void server_handle(struct app *app, struct FCGX_Request *fr)
{
    double t0 = clock_ms();
    struct req rq;
    struct resp rs;
    const struct route *route = NULL, *table;
    size_t nroutes;
    double ms;

    memset(&rq, 0, sizeof(rq));
    rq.app = app;
    resp_init(&rs, &app->arena);
    if (fcgi_io_read(fr, &app->arena, &rq, &rs) == 0)
        (void)server_dispatch(&rq, &rs, &route);
    cache_prefetch_drop(&rq); /* a lookup the request never got to use */
    fcgi_io_write(fr, &rs);
    ms = clock_ms() - t0;
    table = router_routes(&nroutes);
    metrics_request(route ? (int)(route - table) : -1, rs.status, ms);
    log_request(rq.request_id, rq.method ? rq.method : "-", rq.path ? rq.path : "-", rs.status, ms,
                rq.cache_state, rq.user ? rq.user->id : 0);
}

void server_defer(struct app *app, void (*fn)(struct app *app))
{
    app->deferred = fn;
}

void server_after_response(struct app *app)
{
    void (*fn)(struct app *) = app->deferred;

    app->deferred = NULL;
    if (fn != NULL)
        fn(app);
}
