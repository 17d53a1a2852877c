/* views: see views.h. */
#include "handlers/views.h"

#include <json-c/json.h>

#include "db_progress.h"
#include "db_users.h"
#include "jsonx.h"

struct json_object *views_user(const struct user *u)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_int64(u->id));
    json_object_object_add(o, "username", json_object_new_string(u->username));
    json_object_object_add(o, "email", json_object_new_string(u->email));
    json_object_object_add(o, "full_name",
                           u->has_full_name ? json_object_new_string(u->full_name) : NULL);
    json_object_object_add(o, "is_active", json_object_new_boolean(u->is_active));
    json_object_object_add(o, "is_admin", json_object_new_boolean(u->is_admin));
    json_object_object_add(o, "guild_rank", json_object_new_string(u->guild_rank));
    json_object_object_add(o, "experience_points", json_object_new_int64(u->experience_points));
    json_object_object_add(o, "missions_completed", json_object_new_int64(u->missions_completed));
    json_object_object_add(o, "created_at", jsonx_new_time(u->created_at));
    return o;
}

struct json_object *views_progress(const struct progress *p)
{
    json_object *o = json_object_new_object();

    json_object_object_add(o, "id", json_object_new_int64(p->id));
    json_object_object_add(o, "user_id", json_object_new_int64(p->user_id));
    json_object_object_add(o, "mission_id", json_object_new_int64(p->mission_id));
    json_object_object_add(o, "mission_name", json_object_new_string(p->mission_name));
    json_object_object_add(o, "status", json_object_new_string(p->status));
    json_object_object_add(o, "score", jsonx_new_rounded(p->score, 2));
    json_object_object_add(o, "started_at", jsonx_new_time(p->started_at));
    json_object_object_add(o, "completed_at", jsonx_new_time(p->completed_at));
    json_object_object_add(o, "created_at", jsonx_new_time(p->created_at));
    return o;
}
