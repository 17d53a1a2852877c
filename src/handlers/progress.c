/* progress: /api/users/{id}/missions/ routes: start, list, complete.
 * Writes are self-or-admin. Completion is one transaction in db_progress.c. */
#include "handlers/handlers.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "body.h"
#include "cache.h"
#include "db.h"
#include "db_progress.h"
#include "db_users.h"
#include "handlers/views.h"
#include "missions.h"
#include "req.h"
#include "resp.h"
#include "validate.h"

/* The target user id from the path, refusing a non-admin acting on another
 * user. Returns 0 or the status it set. */
static int target_user(struct req *rq, struct resp *rs, long long *id)
{
    int status = users_path_id(rq, rs, 0, "user_id", "User not found", id);

    if (status != 0)
        return status;
    if (rq->user != NULL && rq->user->id != *id && !rq->user->is_admin)
        return resp_error(rs, 403, "Not authorized to update this user");
    return 0;
}

int progress_start(struct req *rq, struct resp *rs)
{
    struct verrs v = {.n = 0};
    json_object *body = NULL;
    const struct mission *m;
    const char *name = NULL;
    struct progress p;
    long long user_id, mission_id = 0;
    bool present;
    int status, rc;

    if ((status = target_user(rq, rs, &user_id)) != 0)
        return status;
    if ((status = body_json_object(rq, rs, &body)) != 0)
        return status;
    body_int(rq->arena, body, "mission_id", 1, MISSIONS_COUNT, true, &v, &mission_id, &present);
    body_str(rq->arena, body, "mission_name", false, true, 1, 100, &v, &name, NULL);
    json_object_put(body);
    if (name != NULL && body_has_control(name, strlen(name)))
        verrs_add(&v, "body", "mission_name", "string_pattern_mismatch",
                  "String should not contain control characters");
    if (v.n > 0)
        return resp_validation(rs, &v);
    m = missions_find(mission_id);
    rc = db_progress_start(rq->app->db, user_id, mission_id, name ? name : m->name, &p);
    if (rc == DB_DUP)
        return resp_error(rs, 409, "Mission already started or completed");
    if (rc == DB_NOTFOUND)
        return resp_error(rs, 404, "User not found");
    if (rc != DB_OK)
        return resp_error(rs, 503, "Service temporarily unavailable");
    cache_invalidate(rq->app, (const char *const[]){CACHE_FAM_MISSIONS, NULL}, user_id,
                     CACHE_INV_PERF);
    json_object *o = views_progress(&p);
    status = resp_json(rs, 201, o);
    json_object_put(o);
    return status;
}

static int add_progress(const struct progress *p, void *ctx)
{
    return json_object_array_add(ctx, views_progress(p));
}

int progress_list(struct req *rq, struct resp *rs)
{
    json_object *list;
    struct user u;
    int status;

    if ((status = users_load_path_user(rq, rs, &u)) != 0)
        return status;
    list = json_object_new_array();
    if (db_progress_list(rq->app->db, u.id, add_progress, list) != DB_OK)
        status = resp_error(rs, 503, "Service temporarily unavailable");
    else
        status = resp_json(rs, 200, list);
    json_object_put(list);
    return status;
}

int progress_complete(struct req *rq, struct resp *rs)
{
    struct verrs v = {.n = 0};
    struct completion c;
    long long user_id, mission_id = 0;
    double score;
    int status, rc;

    if ((status = target_user(rq, rs, &user_id)) != 0)
        return status;
    switch (validate_int(req_path_param(rq, 1), 1, MISSIONS_COUNT, &mission_id)) {
    case 0:
        break;
    case -2: /* out of 1..13: which bound it crossed */
        if (req_path_param(rq, 1)[0] == '-' ||
            strspn(req_path_param(rq, 1), "0") == strlen(req_path_param(rq, 1)))
            verrs_add(&v, "path", "mission_id", "greater_than_equal",
                      "Input should be greater than or equal to 1");
        else
            verrs_add(&v, "path", "mission_id", "less_than_equal",
                      "Input should be less than or equal to 13");
        break;
    default:
        verrs_add(&v, "path", "mission_id", "int_parsing",
                  "Input should be a valid integer, unable to parse string as an integer");
    }
    query_number(rq->arena, rq, "score", 100.0, 0.0, 100.0, &v, &score);
    if (v.n > 0)
        return resp_validation(rs, &v);
    rc = db_progress_complete(rq->app->db, user_id, mission_id, missions_find(mission_id)->name,
                              score, &c);
    if (rc == DB_DUP)
        return resp_error(rs, 409, "Mission already completed");
    if (rc == DB_NOTFOUND)
        return resp_error(rs, 404, "User not found");
    if (rc != DB_OK)
        return resp_error(rs, 503, "Service temporarily unavailable");
    cache_invalidate(rq->app,
                     (const char *const[]){CACHE_FAM_USERS, CACHE_FAM_LEADERBOARD,
                                           CACHE_FAM_MISSIONS, NULL},
                     user_id, CACHE_INV_USER | CACHE_INV_PERF);
    json_object *o = json_object_new_object();
    char msg[64];
    snprintf(msg, sizeof(msg), "Mission %lld completed!", mission_id);
    json_object_object_add(o, "message", json_object_new_string(msg));
    json_object_object_add(o, "experience_earned", json_object_new_int64(c.xp_earned));
    json_object_object_add(o, "total_experience", json_object_new_int64(c.total_xp));
    json_object_object_add(o, "guild_rank", json_object_new_string(c.guild_rank));
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}
