/* auth handlers: register, token/login, refresh.
 * Login answers a wrong username and a wrong password identically and in
 * about the same time (an unknown user still costs one hash verification).
 * Every attempt holds one of the host's password-check slots (pwgate.h)
 * from start to end, or gets a 503 at once. Tokens: see auth.c. */
#include "handlers/handlers.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "body.h"
#include "db.h"
#include "db_users.h"
#include "guard.h"
#include "jsonx.h"
#include "metrics.h"
#include "password.h"
#include "pwgate.h"
#include "ratelimit.h"
#include "req.h"
#include "resp.h"
#include "validate.h"

int auth_register(struct req *rq, struct resp *rs)
{
    return users_create_from_body(rq, rs, USERS_DUP_COMBINED);
}

/* Answers {"access_token", "token_type": "bearer"} for the user. auth_time
 * is when the password was presented (0: now, a login). A token never
 * outlives auth_time + GUILD_TOKEN_MAX_AGE_MINUTES, so a refresh chain ends
 * there and its holder must log in again. */
static int issue(struct req *rq, struct resp *rs, const struct user *u, long long auth_time)
{
    const struct config *cfg = &rq->app->cfg;
    long long now = (long long)time(NULL), ttl = (long long)cfg->token_expire_minutes * 60;
    struct auth_subject who = {u->id, u->username, u->token_version, auth_time > 0 ? auth_time : now};
    long long left = who.auth_time + (long long)cfg->token_max_age_minutes * 60 - now;
    char *token;
    json_object *o;
    int status;

    if (left <= 0) /* the chain is over */
        return resp_unauthorized(rs, NULL);
    token = auth_token_issue(cfg->jwt_secret, &who, now, ttl < left ? ttl : left, NULL);
    if (token == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    o = json_object_new_object();
    json_object_object_add(o, "access_token", json_object_new_string(token));
    json_object_object_add(o, "token_type", json_object_new_string("bearer"));
    status = resp_json(rs, 200, o);
    json_object_put(o);
    explicit_bzero(token, strlen(token));
    free(token);
    return status;
}

/* Reads username and password from a form (OAuth2 password flow) or a JSON
 * body. Returns 0 or the 422 status it set. */
static int read_credentials(struct req *rq, struct resp *rs, const char **username,
                            const char **password)
{
    struct verrs v = {.n = 0};
    int status;

    *username = *password = NULL;
    if (req_is_json(rq)) {
        json_object *body = NULL;
        if ((status = body_json_object(rq, rs, &body)) != 0)
            return status;
        body_str(rq->arena, body, "username", true, false, 1, 255, &v, username, NULL);
        body_str(rq->arena, body, "password", true, false, 1, 1024, &v, password, NULL);
        json_object_put(body);
    } else {
        struct req_param *params = NULL;
        const struct req_param *p;
        const char *bad;
        size_t n = 0;

        if (!jsonx_utf8_valid(rq->body ? rq->body : "", rq->body_len))
            return resp_urlencoded_refused(rs, "body", REQ_PARSE_MALFORMED, NULL);
        if ((status = req_parse_urlencoded(rq->arena, rq->body, rq->body_len, &params, &n,
                                           &bad)) != REQ_PARSE_OK)
            return resp_urlencoded_refused(rs, "body", status, bad);
        if ((p = req_param_find(params, n, "username")) == NULL || p->value_len == 0)
            verrs_add(&v, "body", "username", "missing", "Field required");
        else
            *username = p->value;
        if ((p = req_param_find(params, n, "password")) == NULL || p->value_len == 0)
            verrs_add(&v, "body", "password", "missing", "Field required");
        else
            *password = p->value;
    }
    return v.n > 0 ? resp_validation(rs, &v) : 0;
}

int auth_busy(struct resp *rs)
{
    resp_header(rs, "Retry-After", "1");
    return resp_error(rs, 503, "Server busy, try again shortly");
}

/* Checks the password of username; 0 when it matches (u filled), else the
 * status it set. An unknown user costs one hash verification too. The
 * caller holds a password-check slot. */
static int check_password(struct req *rq, struct resp *rs, const char *username,
                          const char *password, struct user *u)
{
    int rc = strlen(username) > 255 ? DB_NOTFOUND
                                    : db_user_find_by_username(rq->app->db, username, u);

    if (rc == DB_ERR)
        return resp_error(rs, 503, "Service temporarily unavailable");
    if (rc == DB_NOTFOUND) {
        password_burn(password, rq->app->cfg.password_cost); /* same time as a real check */
        return resp_unauthorized(rs, "Incorrect username or password");
    }
    if (!password_verify(password, u->hashed_password))
        return resp_unauthorized(rs, "Incorrect username or password");
    return 0;
}

/* One login attempt, inside a password-check slot. */
static int login(struct req *rq, struct resp *rs, const char *username, const char *password)
{
    const struct rate_setting *rate = &rq->app->cfg.rl_login;
    struct rl_policy policy = {"login", rate->limit, rate->window_s};
    struct rl_result guard = {.rc = RL_UNAVAILABLE};
    char member[160];
    struct user u;
    int status;

    /* brute force: the attempt is reserved before the password is checked,
     * atomically, so parallel guesses cannot slip past the limit */
    if (policy.limit > 0 && strlen(username) <= 255) {
        ratelimit_login_reserve(rq->app, &policy, rq->client_ip, username, member,
                                sizeof(member), &guard);
        metrics_ratelimit("login", guard.rc == RL_ALLOWED   ? METRICS_RL_ALLOWED
                                   : guard.rc == RL_LIMITED ? METRICS_RL_LIMITED
                                                            : METRICS_RL_UNAVAILABLE);
        if (guard.rc == RL_LIMITED) {
            resp_clear_headers(rs); /* the login policy's numbers replace the api ones */
            return guard_too_many(rs, &guard);
        }
    }
    if ((status = check_password(rq, rs, username, password, &u)) != 0) {
        /* a wrong guess keeps its reservation: it counts. An attempt the
         * database could not judge (503) is no guess: counting it would lock
         * out, once MariaDB is back, everyone who retried meanwhile. */
        if (status != 401 && guard.rc == RL_ALLOWED)
            ratelimit_login_forgive(rq->app, rq->client_ip, username, member);
        return status;
    }
    if (guard.rc == RL_ALLOWED) /* a success does not count, and clears nothing else */
        ratelimit_login_forgive(rq->app, rq->client_ip, username, member);
    if (!u.is_active)
        return resp_error(rs, 403, "Inactive user");
    return issue(rq, rs, &u, 0);
}

int auth_login(struct req *rq, struct resp *rs)
{
    const char *username, *password;
    int token, status;

    if ((status = read_credentials(rq, rs, &username, &password)) != 0)
        return status; /* bad input is a 422 even when the host is busy */
    /* every spelling that reaches one row is one account: to the limiter
     * and to the look-up alike */
    if ((username = arena_strndup(rq->arena, username,
                                  validate_username_canonical_len(username))) == NULL)
        return resp_error(rs, 500, "Internal Server Error");
    /* then the slot, before anything else: a refused attempt costs no Redis
     * or MariaDB round trip (under a flood, most are refused) and counts as
     * no guess; and it is given back on every path, as login() returns
     * through here */
    if ((token = pwgate_enter(&rq->app->cfg)) == 0)
        return auth_busy(rs);
    status = login(rq, rs, username, password);
    pwgate_leave(token);
    return status;
}

int auth_logout(struct req *rq, struct resp *rs)
{
    if (ratelimit_revoke(rq->app, rq->user->jti, rq->user->exp) != 0)
        return resp_error(rs, 503, "Session store unavailable");
    return resp_empty(rs, 204);
}

int auth_refresh(struct req *rq, struct resp *rs)
{
    return issue(rq, rs, rq->account, rq->user->auth_time);
}
