/* guard: see guard.h. */
#include "guard.h"

#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "auth.h"
#include "cache.h"
#include "metrics.h"
#include "ratelimit.h"
#include "req.h"
#include "resp.h"

void guard_headers(struct resp *rs, const struct rl_result *r)
{
    if (r->rc == RL_UNAVAILABLE || r->policy == NULL || r->policy->limit == 0)
        return; /* no numbers we could stand behind */
    resp_header(rs, "X-RateLimit-Limit", "%d", r->policy->limit);
    resp_header(rs, "X-RateLimit-Remaining", "%ld", r->remaining);
    resp_header(rs, "X-RateLimit-Reset", "%ld", r->reset_s);
    resp_header(rs, "RateLimit-Policy", "\"%s\";q=%d;w=%d", r->policy->name, r->policy->limit,
                r->policy->window_s);
    resp_header(rs, "RateLimit", "\"%s\";r=%ld;t=%ld", r->policy->name, r->remaining, r->reset_s);
}

int guard_too_many(struct resp *rs, const struct rl_result *r)
{
    char detail[96];

    guard_headers(rs, r);
    resp_header(rs, "Retry-After", "%ld", r->reset_s);
    snprintf(detail, sizeof(detail), "Rate limit exceeded. Try again in %ld seconds.", r->reset_s);
    return resp_error(rs, 429, detail);
}

int guard_limit(struct req *rq, struct resp *rs, enum guard_policy policy,
                const struct auth_claims *claims, enum guard_token *token)
{
    struct app *app = rq->app;
    const struct rate_setting *rate = policy == GUARD_PROTECTED ? &app->cfg.rl_protected
                                                                : &app->cfg.rl_api;
    struct rl_policy *p = arena_alloc(rq->arena, sizeof(*p));
    struct rl_result *r = arena_alloc(rq->arena, sizeof(*r));
    char who[96];

    *token = GUARD_TOKEN_OK;
    if (p == NULL || r == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    p->name = policy == GUARD_PROTECTED ? "protected" : "api";
    /* a disabled policy (limit 0) still runs the script for the denylist,
     * and logs nothing */
    p->limit = rate->limit;
    p->window_s = rate->window_s;
    if (claims != NULL)
        snprintf(who, sizeof(who), "u:%lld", claims->uid);
    else
        snprintf(who, sizeof(who), "ip:%s", rq->client_ip);
    if (rate->limit == 0 && claims == NULL)
        return 0;
    ratelimit_check(app, p, who, claims ? claims->jti : NULL, r);
    cache_note_lost(r->cache_lost);
    if (rate->limit > 0)
        metrics_ratelimit(p->name, r->rc == RL_ALLOWED   ? METRICS_RL_ALLOWED
                                   : r->rc == RL_LIMITED ? METRICS_RL_LIMITED
                                                         : METRICS_RL_UNAVAILABLE);
    if (r->rc == RL_UNAVAILABLE) {
        *token = GUARD_TOKEN_UNKNOWN;
        if (app->cfg.rl_fail_closed && rate->limit > 0)
            return resp_error(rs, 503, "Rate limiter unavailable");
        return 0;
    }
    if (r->revoked)
        *token = GUARD_TOKEN_REVOKED;
    if (r->rc == RL_LIMITED && rate->limit > 0)
        return guard_too_many(rs, r);
    guard_headers(rs, r);
    return 0;
}
