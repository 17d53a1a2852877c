/* users: /api/users and the mission routes under a user.
 * Authorization is "self or admin" for writes on a user, checked here after
 * the dispatcher has authenticated the caller; admin-only fields of PUT are
 * refused with 403 for everyone else. */
#include "handlers/handlers.h"

#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "body.h"
#include "cache.h"
#include "db.h"
#include "db_progress.h"
#include "db_users.h"
#include "handlers/views.h"
#include "missions.h"
#include "password.h"
#include "pwgate.h"
#include "req.h"
#include "resp.h"
#include "validate.h"

#define USERS_LIST_MAX 100

static int db_unavailable(struct resp *rs)
{
    return resp_error(rs, 503, "Service temporarily unavailable");
}

/* Checks the email field's syntax (the type and length checks are done). */
static void check_email(struct verrs *v, const char *email)
{
    if (email != NULL && !body_email_valid(email))
        verrs_add(v, "body", "email", "value_error",
                  "value is not a valid email address: it must be local@domain.tld");
}

/* A username has one spelling: the column's collation ignores trailing
 * spaces (validate_username_canonical_len), so "alice " would be "alice" at
 * login; leading and trailing spaces are refused rather than trimmed, so
 * what a client registers is exactly what it logs in with. */
static void check_username(struct verrs *v, const char *username)
{
    size_t n = username != NULL ? strlen(username) : 0;

    if (username == NULL)
        return;
    if (body_has_control(username, n))
        verrs_add(v, "body", "username", "string_pattern_mismatch",
                  "String should not contain control characters");
    else if (n > 0 && (username[0] == ' ' || username[n - 1] == ' '))
        verrs_add(v, "body", "username", "string_pattern_mismatch",
                  "Username must not start or end with a space");
}

int users_create_from_body(struct req *rq, struct resp *rs, enum users_dup_style style)
{
    struct verrs v = {.n = 0};
    json_object *body = NULL;
    const char *username, *email, *password, *full_name;
    bool full_name_null;
    struct user u;
    int status, rc;

    if ((status = body_json_object(rq, rs, &body)) != 0)
        return status;
    body_str(rq->arena, body, "username", true, false, 3, 50, &v, &username, NULL);
    body_str(rq->arena, body, "email", true, false, 3, 255, &v, &email, NULL);
    body_str(rq->arena, body, "password", true, false, 8, 128, &v, &password, NULL);
    body_str(rq->arena, body, "full_name", false, true, 0, 255, &v, &full_name, &full_name_null);
    json_object_put(body);
    check_username(&v, username);
    check_email(&v, email);
    if (v.n > 0)
        return resp_validation(rs, &v);

    memset(&u, 0, sizeof(u));
    snprintf(u.username, sizeof(u.username), "%s", username);
    snprintf(u.email, sizeof(u.email), "%s", email);
    u.has_full_name = full_name != NULL;
    if (full_name != NULL)
        snprintf(u.full_name, sizeof(u.full_name), "%s", full_name);
    snprintf(u.guild_rank, sizeof(u.guild_rank), "%s", missions_rank(0));
    u.is_active = true;
    switch (pwgate_hash(&rq->app->cfg, password, u.hashed_password, sizeof(u.hashed_password))) {
    case PWGATE_OK:
        break;
    case PWGATE_BUSY:
        return auth_busy(rs);
    default:
        return resp_error(rs, 500, "Internal Server Error");
    }
    rc = db_user_insert(rq->app->db, &u);
    if (rc == DB_DUP) {
        if (style == USERS_DUP_COMBINED)
            return resp_error(rs, 400, "Username or email already registered");
        return resp_error(rs, 400, db_user_dup_key(rq->app->db) == DB_USER_DUP_EMAIL
                                       ? "Email already registered"
                                       : "Username already taken");
    }
    if (rc != DB_OK)
        return db_unavailable(rs);
    cache_invalidate(rq->app, (const char *const[]){CACHE_FAM_USERS, CACHE_FAM_LEADERBOARD, NULL},
                     0, 0);
    json_object *o = views_user(&u);
    status = resp_json(rs, 201, o);
    json_object_put(o);
    return status;
}

int users_create(struct req *rq, struct resp *rs)
{
    return users_create_from_body(rq, rs, USERS_DUP_SPECIFIC);
}

static int add_user(const struct user *u, void *ctx)
{
    return json_object_array_add(ctx, views_user(u));
}

int users_list(struct req *rq, struct resp *rs)
{
    struct verrs v = {.n = 0};
    struct user_filter f = {.rank = ""};
    const char *rank = req_query(rq, "guild_rank");
    json_object *list;
    int status;

    query_int(rq->arena, rq, "skip", 0, 0, LLONG_MAX / 2, &v, &f.skip);
    query_int(rq->arena, rq, "limit", 100, 1, USERS_LIST_MAX, &v, &f.limit);
    query_int(rq->arena, rq, "min_experience", LLONG_MIN / 2, LLONG_MIN / 2, LLONG_MAX / 2, &v,
              &f.min_experience);
    if (rank != NULL && *rank != '\0') {
        if (strlen(rank) > 20)
            verrs_add(&v, "query", "guild_rank", "string_too_long",
                      "String should have at most 20 characters");
        f.rank = rank;
    }
    if (v.n > 0)
        return resp_validation(rs, &v);
    list = json_object_new_array();
    if (db_user_list(rq->app->db, &f, add_user, list) != DB_OK)
        status = db_unavailable(rs);
    else
        status = resp_json(rs, 200, list);
    json_object_put(list);
    return status;
}

int users_me(struct req *rq, struct resp *rs)
{
    json_object *o = views_user(rq->account);
    int status = resp_json(rs, 200, o);

    json_object_put(o);
    return status;
}

/* Parses path parameter i as a user or mission id: 422 when not an integer,
 * 404 (with not_found) when it can name no row. Returns 0 or the status. */
int users_path_id(struct req *rq, struct resp *rs, size_t i, const char *name,
                  const char *not_found, long long *id)
{
    switch (validate_path_id(req_path_param(rq, i), id)) {
    case 0:
        return 0;
    case 1:
        return resp_error(rs, 404, not_found);
    default:
        return resp_invalid(rs, "path", name, "int_parsing",
                            "Input should be a valid integer, unable to parse string as an integer");
    }
}

int users_load_path_user(struct req *rq, struct resp *rs, struct user *u)
{
    long long id;
    int status;

    if ((status = users_path_id(rq, rs, 0, "user_id", "User not found", &id)) != 0)
        return status;
    switch (db_user_find(rq->app->db, id, u)) {
    case DB_OK:
        return 0;
    case DB_NOTFOUND:
        return resp_error(rs, 404, "User not found");
    default:
        return db_unavailable(rs);
    }
}

int users_get(struct req *rq, struct resp *rs)
{
    struct user u;
    int status;

    if ((status = users_load_path_user(rq, rs, &u)) != 0)
        return status;
    json_object *o = views_user(&u);
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}

/* Reads PUT's fields into upd; admin-only fields from a non-admin are a 403
 * reported through *forbidden. */
static void parse_update(struct req *rq, json_object *body, struct user_update *upd,
                         struct verrs *v, bool *forbidden)
{
    const char *password = NULL;
    bool null_name = false, present;
    long long n = 0; /* bound as a parameter even when the field is absent */

    body_str(rq->arena, body, "email", false, false, 3, 255, v, &upd->email, NULL);
    upd->set_email = upd->email != NULL;
    check_email(v, upd->email);
    body_str(rq->arena, body, "full_name", false, true, 0, 255, v, &upd->full_name, &null_name);
    upd->set_full_name = upd->full_name != NULL || null_name;
    body_str(rq->arena, body, "password", false, false, 8, 128, v, &password, NULL);
    upd->hashed_password = password; /* hashed by the caller once validation passed */
    upd->set_password = password != NULL;

    body_str(rq->arena, body, "guild_rank", false, false, 1, 20, v, &upd->guild_rank, NULL);
    if (upd->guild_rank != NULL && !missions_is_rank(upd->guild_rank))
        verrs_add(v, "body", "guild_rank", "enum",
                  "Input should be 'Apprentice', 'Adept', 'Journeyman', 'Expert' or 'Master'");
    upd->set_rank = upd->guild_rank != NULL;
    body_int(rq->arena, body, "experience_points", 0, 1000000000000LL, false, v, &n, &present);
    upd->set_xp = present;
    upd->experience_points = n;
    n = 0;
    body_int(rq->arena, body, "missions_completed", 0, MISSIONS_COUNT, false, v, &n, &present);
    upd->set_missions = present;
    upd->missions_completed = n;
    body_bool(body, "is_active", v, &upd->is_active, &upd->set_active);
    body_bool(body, "is_admin", v, &upd->is_admin, &upd->set_admin);
    *forbidden = !rq->user->is_admin && (upd->set_rank || upd->set_xp || upd->set_missions ||
                                         upd->set_active || upd->set_admin);
    if (upd->set_missions && !upd->set_rank) { /* keep the rank consistent */
        upd->guild_rank = missions_rank(upd->missions_completed);
        upd->set_rank = true;
    }
}

/* The contract's invalidation table for "user updated": the user's own
 * entries always; statistics and leaderboards only when a figure they show
 * (activity, XP, missions, rank) changed. */
static void invalidate_after_update(struct req *rq, long long id, const struct user_update *upd)
{
    static const char *const stats[] = {CACHE_FAM_USERS, CACHE_FAM_LEADERBOARD, NULL};
    bool figures = upd->set_active || upd->set_xp || upd->set_missions || upd->set_rank;

    cache_invalidate(rq->app, figures ? stats : NULL, id, CACHE_INV_USER | CACHE_INV_PERF);
}

int users_update(struct req *rq, struct resp *rs)
{
    struct user_update upd;
    struct verrs v = {.n = 0};
    json_object *body = NULL;
    char hash[PASSWORD_HASH_MAX];
    bool forbidden = false;
    struct user u;
    long long id;
    int status, rc;

    if ((status = users_path_id(rq, rs, 0, "user_id", "User not found", &id)) != 0)
        return status;
    if (rq->user->id != id && !rq->user->is_admin)
        return resp_error(rs, 403, "Not authorized to update this user");
    if ((status = body_json_object(rq, rs, &body)) != 0)
        return status;
    memset(&upd, 0, sizeof(upd));
    parse_update(rq, body, &upd, &v, &forbidden);
    json_object_put(body);
    if (v.n > 0)
        return resp_validation(rs, &v);
    if (forbidden)
        return resp_error(rs, 403, "Admin privileges required to change these fields");
    if (upd.set_password) {
        switch (pwgate_hash(&rq->app->cfg, upd.hashed_password, hash, sizeof(hash))) {
        case PWGATE_OK:
            break;
        case PWGATE_BUSY:
            return auth_busy(rs);
        default:
            return resp_error(rs, 500, "Internal Server Error");
        }
        upd.hashed_password = hash;
    }
    rc = db_user_update(rq->app->db, id, &upd);
    if (rc == DB_NOTFOUND)
        return resp_error(rs, 404, "User not found");
    if (rc == DB_DUP)
        return resp_error(rs, 400, "Email already registered");
    invalidate_after_update(rq, id, &upd);
    if (rc != DB_OK)
        return db_unavailable(rs);
    /* a DELETE may commit between the update and this read: the user is gone */
    if ((rc = db_user_find(rq->app->db, id, &u)) == DB_NOTFOUND)
        return resp_error(rs, 404, "User not found");
    if (rc != DB_OK)
        return db_unavailable(rs);
    json_object *o = views_user(&u);
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}

int users_delete(struct req *rq, struct resp *rs)
{
    long long id;
    int status;

    if ((status = users_path_id(rq, rs, 0, "user_id", "User not found", &id)) != 0)
        return status;
    switch (db_user_delete(rq->app->db, id)) {
    case DB_OK:
        cache_invalidate(rq->app,
                         (const char *const[]){CACHE_FAM_USERS, CACHE_FAM_LEADERBOARD,
                                               CACHE_FAM_MISSIONS, NULL},
                         id, CACHE_INV_USER | CACHE_INV_PERF);
        return resp_empty(rs, 204);
    case DB_NOTFOUND:
        return resp_error(rs, 404, "User not found");
    default:
        return db_unavailable(rs);
    }
}
