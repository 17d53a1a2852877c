/* sessionctl: /api/sessions. The caller's own sessions, or any for an admin.
 * A malformed id is a 404 without touching Redis; a store outage is a 503
 * (sessions cannot be served from anywhere else). */
#include "handlers/handlers.h"

#include <json-c/json.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "body.h"
#include "jsonx.h"
#include "req.h"
#include "resp.h"
#include "sessions.h"

#define SESSION_DATA_MAX 8192

static int unavailable(struct resp *rs)
{
    return resp_error(rs, 503, "Session store unavailable");
}

static int not_found(struct resp *rs)
{
    return resp_error(rs, 404, "Session not found");
}

/* The stored object: the server's user_id and created_at, then the data's
 * own fields (which may not override those two). New reference. */
static json_object *session_value(json_object *data, long long uid, long long now)
{
    json_object *v = json_object_new_object();

    json_object_object_add(v, "user_id", json_object_new_int64(uid));
    json_object_object_add(v, "created_at", jsonx_new_time(now));
    json_object_object_foreach(data, k, val) {
        if (strcmp(k, "user_id") != 0 && strcmp(k, "created_at") != 0)
            json_object_object_add(v, k, json_object_get(val));
    }
    return v;
}

int sessionctl_create(struct req *rq, struct resp *rs)
{
    char id[SESSIONS_ID_LEN + 1];
    json_object *data = NULL, *value, *o;
    struct timespec ts;
    long long now, expires;
    enum sessions_rc rc;
    int status;

    if (rq->body_len > SESSION_DATA_MAX)
        return resp_error(rs, 413, "Session data too large (at most 8 KiB)");
    if ((status = body_json_object(rq, rs, &data)) != 0)
        return status;
    clock_gettime(CLOCK_REALTIME, &ts);
    now = (long long)ts.tv_sec;
    expires = now + SESSIONS_TTL_S;
    if (sessions_new_id(id) != 0) {
        json_object_put(data);
        return resp_error(rs, 500, "Internal Server Error");
    }
    value = session_value(data, rq->user->id, now);
    json_object_put(data);
    rc = sessions_create(rq->app, id, rq->user->id, jsonx_to_string(value, NULL),
                         now * 1000000 + ts.tv_nsec / 1000);
    json_object_put(value);
    if (rc != SESSIONS_OK)
        return unavailable(rs);
    o = json_object_new_object();
    json_object_object_add(o, "session_id", json_object_new_string(id));
    json_object_object_add(o, "expires_in", json_object_new_int(SESSIONS_TTL_S));
    json_object_object_add(o, "expires_at", jsonx_new_time(expires));
    resp_header(rs, "Set-Cookie", "guild_session=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d",
                id, SESSIONS_TTL_S);
    status = resp_json(rs, 201, o);
    json_object_put(o);
    return status;
}

int sessionctl_get(struct req *rq, struct resp *rs)
{
    const char *id = req_path_param(rq, 0);
    json_object *v = NULL, *owner;
    long long ttl = 0;
    int status;

    if (!sessions_id_valid(id))
        return not_found(rs);
    switch (sessions_get(rq->app, id, &v, &ttl)) {
    case SESSIONS_OK:
        break;
    case SESSIONS_UNAVAILABLE:
        return unavailable(rs);
    default:
        return not_found(rs);
    }
    if (!rq->user->is_admin && (!json_object_object_get_ex(v, "user_id", &owner) ||
                                json_object_get_int64(owner) != rq->user->id)) {
        json_object_put(v);
        return resp_error(rs, 403, "Not authorized to access this session");
    }
    json_object_object_add(v, "ttl", json_object_new_int64(ttl));
    status = resp_json(rs, 200, v);
    json_object_put(v);
    return status;
}

int sessionctl_delete(struct req *rq, struct resp *rs)
{
    const char *id = req_path_param(rq, 0);

    if (!sessions_id_valid(id))
        return not_found(rs);
    switch (sessions_delete(rq->app, id, rq->user->id, rq->user->is_admin)) {
    case SESSIONS_OK:
        return resp_empty(rs, 204);
    case SESSIONS_FORBIDDEN:
        return resp_error(rs, 403, "Not authorized to access this session");
    case SESSIONS_UNAVAILABLE:
        return unavailable(rs);
    default:
        return not_found(rs);
    }
}

int sessionctl_list(struct req *rq, struct resp *rs)
{
    json_object *list = NULL, *o;
    int status;

    if (sessions_list(rq->app, rq->user->id, &list) != SESSIONS_OK)
        return unavailable(rs);
    o = json_object_new_object();
    json_object_object_add(o, "sessions", list);
    status = resp_json(rs, 200, o);
    json_object_put(o);
    return status;
}

int sessionctl_delete_all(struct req *rq, struct resp *rs)
{
    if (sessions_delete_all(rq->app, rq->user->id) != SESSIONS_OK)
        return unavailable(rs);
    return resp_empty(rs, 204);
}
