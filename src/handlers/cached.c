/* cached: the cacheable GET routes' entry names and families. Each name
 * carries every parameter that changes the answer, normalised (limit=010
 * and limit=10 are one entry); a request whose parameters are invalid is not
 * cached, its handler answers 422. */
#include "handlers/handlers.h"

#include <stdio.h>

#include "cache.h"
#include "req.h"
#include "validate.h"

static bool name_fixed(char *name, size_t nsz, char *fam, size_t fsz, const char *n,
                       const char *f)
{
    snprintf(name, nsz, "%s", n);
    snprintf(fam, fsz, "%s", f);
    return true;
}

static bool name_user_stats(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz)
{
    return name_fixed(name, nsz, fam, fsz, "users:stats", CACHE_FAM_USERS);
}

static bool name_advanced(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz)
{
    return name_fixed(name, nsz, fam, fsz, "users:advanced-stats", CACHE_FAM_USERS);
}

static bool name_missions(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz)
{
    return name_fixed(name, nsz, fam, fsz, "missions:stats", CACHE_FAM_MISSIONS);
}

static bool name_leaderboard(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz)
{
    const char *s = req_query(rq, "limit");
    long long limit = 10;

    if (s != NULL && validate_int(s, 1, 100, &limit) != 0)
        return false;
    snprintf(name, nsz, "leaderboard:%lld", limit);
    snprintf(fam, fsz, "%s", CACHE_FAM_LEADERBOARD);
    return true;
}

/* "<what>:<id>" in family "<what>:<id>", for a valid path id only. */
static bool name_by_id(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz,
                       const char *what)
{
    long long id;

    if (validate_path_id(req_path_param(rq, 0), &id) != 0)
        return false;
    snprintf(name, nsz, "%s:%lld", what, id);
    snprintf(fam, fsz, "%s:%lld", what, id);
    return true;
}

static bool name_user(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz)
{
    return name_by_id(rq, name, nsz, fam, fsz, "user");
}

static bool name_performance(const struct req *rq, char *name, size_t nsz, char *fam, size_t fsz)
{
    return name_by_id(rq, name, nsz, fam, fsz, "perf");
}

const struct cache_spec cached_user = {"user", true, name_user};
const struct cache_spec cached_user_stats = {"users.stats", false, name_user_stats};
const struct cache_spec cached_advanced_stats = {"users.advanced-stats", false, name_advanced};
const struct cache_spec cached_mission_stats = {"missions.stats", false, name_missions};
const struct cache_spec cached_leaderboard = {"leaderboard", false, name_leaderboard};
const struct cache_spec cached_performance = {"performance", false, name_performance};
