/* views: the JSON shapes of the contract's resources (UserResponse,
 * MissionProgress). One builder per shape, so every route answers the same
 * fields; the password hash has no way out. Each returns a new reference. */
#ifndef GUILD_VIEWS_H
#define GUILD_VIEWS_H

struct json_object;
struct user;
struct progress;

struct json_object *views_user(const struct user *u);
struct json_object *views_progress(const struct progress *p);

#endif
