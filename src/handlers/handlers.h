/* handlers: one entry point per route, grouped by resource file
 * (meta.c, ...). Each reads struct req, fills struct resp and returns the
 * HTTP status; none calls FastCGI. The route table in router.c wires them. */
#ifndef GUILD_HANDLERS_H
#define GUILD_HANDLERS_H

#include <stddef.h>

struct req;
struct resp;

/* meta.c: service information and health */
int meta_root(struct req *rq, struct resp *rs);
int meta_ping(struct req *rq, struct resp *rs);
int meta_missions(struct req *rq, struct resp *rs);
int meta_health(struct req *rq, struct resp *rs);
int meta_protected(struct req *rq, struct resp *rs);
int meta_metrics(struct req *rq, struct resp *rs);

/* auth.c: /api/auth */
int auth_register(struct req *rq, struct resp *rs);
int auth_login(struct req *rq, struct resp *rs);
int auth_refresh(struct req *rq, struct resp *rs);
int auth_logout(struct req *rq, struct resp *rs);
/* 503 + Retry-After: the host runs its cap of password hashes (pwgate.h). */
int auth_busy(struct resp *rs);

/* users.c: /api/users */
int users_create(struct req *rq, struct resp *rs);
int users_list(struct req *rq, struct resp *rs);
int users_me(struct req *rq, struct resp *rs);
int users_get(struct req *rq, struct resp *rs);
int users_update(struct req *rq, struct resp *rs);
int users_delete(struct req *rq, struct resp *rs);

/* How a duplicate username/email is reported: register's single message, or
 * POST /api/users' "Username already taken" / "Email already registered". */
enum users_dup_style { USERS_DUP_COMBINED, USERS_DUP_SPECIFIC };

/* Validates a registration body, hashes the password, inserts, answers 201
 * with the UserResponse (shared by register and POST /api/users). */
int users_create_from_body(struct req *rq, struct resp *rs, enum users_dup_style style);

/* Path parameter i as an id: 0, or 422 (not an integer) / 404 with
 * not_found (an integer that names no row). */
int users_path_id(struct req *rq, struct resp *rs, size_t i, const char *name,
                  const char *not_found, long long *id);

/* Parses path id 0 and loads that user: 0, or the status it set (422, 404
 * "User not found", 503). */
struct user;
int users_load_path_user(struct req *rq, struct resp *rs, struct user *u);

/* progress.c: /api/users/{id}/missions */
int progress_start(struct req *rq, struct resp *rs);
int progress_list(struct req *rq, struct resp *rs);
int progress_complete(struct req *rq, struct resp *rs);

/* analytics.c: /api/analytics */
int analytics_user_stats(struct req *rq, struct resp *rs);
int analytics_advanced_stats(struct req *rq, struct resp *rs);
int analytics_mission_stats(struct req *rq, struct resp *rs);
int analytics_leaderboard(struct req *rq, struct resp *rs);
int analytics_performance(struct req *rq, struct resp *rs);

/* cachectl.c: /api/cache */
int cachectl_stats(struct req *rq, struct resp *rs);
int cachectl_reset(struct req *rq, struct resp *rs);
int cachectl_clear(struct req *rq, struct resp *rs);
int cachectl_warm_status(struct req *rq, struct resp *rs);
int cachectl_warm_start(struct req *rq, struct resp *rs);

/* sessionctl.c: /api/sessions */
int sessionctl_create(struct req *rq, struct resp *rs);
int sessionctl_get(struct req *rq, struct resp *rs);
int sessionctl_delete(struct req *rq, struct resp *rs);
int sessionctl_list(struct req *rq, struct resp *rs);
int sessionctl_delete_all(struct req *rq, struct resp *rs);

/* cached.c: how each cacheable GET names its entry and family */
struct cache_spec;
extern const struct cache_spec cached_user, cached_user_stats, cached_advanced_stats,
    cached_mission_stats, cached_leaderboard, cached_performance;

#endif
