/* router: the route table and the matcher; see router.h.
 * Auth requirements are part of each row, so every endpoint and who may call
 * it can be audited on one screen. The dispatcher enforces them. */
#include "router.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "guard.h"
#include "handlers/handlers.h"

static const struct route routes[] = {
    {"GET", "/", AUTH_NONE, meta_root, "meta.root", NULL, GUARD_API},
    {"GET", "/ping", AUTH_NONE, meta_ping, "meta.ping", NULL, GUARD_API},
    {"GET", "/missions", AUTH_NONE, meta_missions, "meta.missions", NULL, GUARD_API},
    {"GET", "/health", AUTH_NONE, meta_health, "meta.health", NULL, GUARD_API},
    {"GET", "/metrics", AUTH_NONE, meta_metrics, "meta.metrics", NULL, GUARD_API},

    {"POST", "/api/auth/register", AUTH_NONE, auth_register, "auth.register", NULL, GUARD_API},
    {"POST", "/api/auth/token", AUTH_NONE, auth_login, "auth.token", NULL, GUARD_API},
    {"POST", "/api/auth/login", AUTH_NONE, auth_login, "auth.login", NULL, GUARD_API},
    {"POST", "/api/auth/refresh", AUTH_USER, auth_refresh, "auth.refresh", NULL, GUARD_API},
    {"POST", "/api/auth/logout", AUTH_USER, auth_logout, "auth.logout", NULL, GUARD_API},

    {"POST", "/api/users", AUTH_NONE, users_create, "users.create", NULL, GUARD_API},
    {"GET", "/api/users", AUTH_NONE, users_list, "users.list", NULL, GUARD_API},
    {"GET", "/api/users/me", AUTH_USER, users_me, "users.me", NULL, GUARD_API},
    {"GET", "/api/users/{id}", AUTH_NONE, users_get, "users.get", &cached_user, GUARD_API},
    {"PUT", "/api/users/{id}", AUTH_USER, users_update, "users.update", NULL, GUARD_API},
    {"DELETE", "/api/users/{id}", AUTH_ADMIN, users_delete, "users.delete", NULL, GUARD_API},
    {"POST", "/api/users/{id}/missions", AUTH_USER, progress_start, "progress.start", NULL, GUARD_API},
    {"GET", "/api/users/{id}/missions", AUTH_NONE, progress_list, "progress.list", NULL, GUARD_API},
    {"POST", "/api/users/{id}/missions/{mission_id}/complete", AUTH_USER, progress_complete,
     "progress.complete", NULL, GUARD_API},

    {"GET", "/api/analytics/users/stats", AUTH_NONE, analytics_user_stats, "analytics.user_stats",
     &cached_user_stats, GUARD_API},
    {"GET", "/api/analytics/users/advanced-stats", AUTH_NONE, analytics_advanced_stats,
     "analytics.advanced_stats", &cached_advanced_stats, GUARD_API},
    {"GET", "/api/analytics/missions/stats", AUTH_NONE, analytics_mission_stats,
     "analytics.mission_stats", &cached_mission_stats, GUARD_API},
    {"GET", "/api/analytics/leaderboard", AUTH_NONE, analytics_leaderboard,
     "analytics.leaderboard", &cached_leaderboard, GUARD_API},
    {"GET", "/api/analytics/users/{id}/performance", AUTH_USER, analytics_performance,
     "analytics.performance", &cached_performance, GUARD_API},

    {"GET", "/api/protected-endpoint", AUTH_USER, meta_protected, "meta.protected", NULL,
     GUARD_PROTECTED},

    {"POST", "/api/sessions", AUTH_USER, sessionctl_create, "sessions.create", NULL, GUARD_API},
    {"GET", "/api/sessions", AUTH_USER, sessionctl_list, "sessions.list", NULL, GUARD_API},
    {"DELETE", "/api/sessions", AUTH_USER, sessionctl_delete_all, "sessions.delete_all", NULL,
     GUARD_API},
    {"GET", "/api/sessions/{id}", AUTH_USER, sessionctl_get, "sessions.get", NULL, GUARD_API},
    {"DELETE", "/api/sessions/{id}", AUTH_USER, sessionctl_delete, "sessions.delete", NULL,
     GUARD_API},

    {"GET", "/api/cache/stats", AUTH_NONE, cachectl_stats, "cache.stats", NULL, GUARD_API},
    {"POST", "/api/cache/stats/reset", AUTH_ADMIN, cachectl_reset, "cache.reset", NULL, GUARD_API},
    {"DELETE", "/api/cache/clear", AUTH_ADMIN, cachectl_clear, "cache.clear", NULL, GUARD_API},
    {"GET", "/api/cache/warm", AUTH_NONE, cachectl_warm_status, "cache.warm_status", NULL, GUARD_API},
    {"POST", "/api/cache/warm", AUTH_ADMIN, cachectl_warm_start, "cache.warm", NULL, GUARD_API},
};

const struct route *router_routes(size_t *n)
{
    *n = sizeof(routes) / sizeof(routes[0]);
    return routes;
}

/* Length of the segment starting at s (up to '/' or end). */
static size_t seglen(const char *s)
{
    const char *slash = strchr(s, '/');

    return slash ? (size_t)(slash - s) : strlen(s);
}

/* Matches path against pattern (both start with '/', no trailing slash).
 * Records parameter segment offsets into offs/lens. */
static bool match(const char *pattern, const char *path, size_t *offs, size_t *lens,
                  size_t max, size_t *np)
{
    const char *p = pattern, *s = path;

    *np = 0;
    if (strcmp(pattern, "/") == 0)
        return strcmp(path, "/") == 0;
    while (*p == '/' && *s == '/') {
        size_t pl, sl;

        p++;
        s++;
        pl = seglen(p);
        sl = seglen(s);
        if (pl >= 2 && p[0] == '{' && p[pl - 1] == '}') {
            if (sl == 0 || *np >= max)
                return false;
            offs[*np] = (size_t)(s - path);
            lens[*np] = sl;
            (*np)++;
        } else if (pl != sl || strncmp(p, s, pl) != 0) {
            return false;
        }
        p += pl;
        s += sl;
    }
    return *p == '\0' && *s == '\0';
}

static void allow_add(char *allow, size_t sz, const char *method)
{
    size_t len;

    if (sz == 0)
        return;
    len = strlen(allow);
    if (strstr(allow, method) != NULL)
        return;
    snprintf(allow + len, sz - len, "%s%s", len ? ", " : "", method);
}

enum router_rc router_match(const struct route *table, size_t n, const char *method,
                            const char *path, const struct route **out, const char **params,
                            size_t max_params, size_t *nparams, char *param_buf, char *allow,
                            size_t allow_sz)
{
    size_t offs[8], lens[8], np, i, k;
    bool path_known = false;

    if (max_params > 8)
        max_params = 8;
    *out = NULL;
    *nparams = 0;
    if (allow_sz)
        allow[0] = '\0';
    for (i = 0; i < n; i++) {
        if (!match(table[i].pattern, path, offs, lens, max_params, &np))
            continue;
        path_known = true;
        if (strcmp(table[i].method, method) != 0) {
            allow_add(allow, allow_sz, table[i].method);
            continue;
        }
        for (k = 0; k < np; k++) {
            memcpy(param_buf, path + offs[k], lens[k]);
            param_buf[lens[k]] = '\0';
            params[k] = param_buf;
            param_buf += lens[k] + 1;
        }
        *nparams = np;
        *out = &table[i];
        return ROUTER_FOUND;
    }
    return path_known ? ROUTER_BAD_METHOD : ROUTER_NOT_FOUND;
}
