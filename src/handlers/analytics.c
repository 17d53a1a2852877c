/* analytics: /api/analytics. Each handler is a thin shell around the
 * counters' queries (db_analytics.c) and pure arithmetic (stats.c): every
 * figure is a function of exact integers (counts and sums), so the same
 * table contents always give the same answer; figures are rounded to 2
 * decimals as the Python API did. Read-through caching wraps these handlers
 * from the route table, so they always compute from MySQL. */
#include "handlers/handlers.h"

#include <json-c/json.h>
#include <string.h>

#include "app.h"
#include "body.h"
#include "db.h"
#include "db_analytics.h"
#include "db_progress.h"
#include "db_users.h"
#include "handlers/views.h"
#include "jsonx.h"
#include "missions.h"
#include "req.h"
#include "resp.h"
#include "stats.h"
#include "validate.h"

static int unavailable(struct resp *rs, json_object *o)
{
    json_object_put(o);
    return resp_error(rs, 503, "Service temporarily unavailable");
}

static int answer(struct resp *rs, json_object *o)
{
    int status = resp_json(rs, 200, o);

    json_object_put(o);
    return status;
}

int analytics_user_stats(struct req *rq, struct resp *rs)
{
    struct user_totals t;
    json_object *o;

    if (db_analytics_user_totals(rq->app->db, &t) != DB_OK)
        return unavailable(rs, NULL);
    o = json_object_new_object();
    json_object_object_add(o, "total_users", json_object_new_int64(t.total));
    json_object_object_add(o, "active_users", json_object_new_int64(t.active));
    json_object_object_add(o, "total_missions_completed",
                           json_object_new_int64(t.missions_completed));
    json_object_object_add(o, "average_experience",
                           jsonx_new_rounded(stats_mean(t.experience_points, t.total, 1.0), 2));
    return answer(rs, o);
}

/* The quantiles advanced-stats shows, and the state of one answer's walk. */
static const struct {
    const char *name;
    double q;
} quantiles[] = {{"p25", 0.25}, {"p50", 0.50}, {"p75", 0.75}, {"p90", 0.90}};
#define NQUANTILES (sizeof(quantiles) / sizeof(quantiles[0]))

struct figures {
    const struct user_totals *t; /* complete by the first callback */
    json_object *dist;
    struct stats_hist hist;
    bool hist_ready;
};

static int add_rank(const char *rank, long long n, void *ctx)
{
    struct figures *f = ctx;

    return json_object_object_add(f->dist, rank, json_object_new_int64(n));
}

/* One XP value and how many users have it, ascending: pandas' quantiles of
 * all users' XP read off the histogram. */
static int add_xp(long long xp, long long n, void *ctx)
{
    struct figures *f = ctx;

    if (!f->hist_ready) {
        double q[NQUANTILES];

        for (size_t i = 0; i < NQUANTILES; i++)
            q[i] = quantiles[i].q;
        stats_hist_init(&f->hist, f->t->total, q, NQUANTILES);
        f->hist_ready = true;
    }
    stats_hist_feed(&f->hist, (double)xp, n);
    return 0;
}

int analytics_advanced_stats(struct req *rq, struct resp *rs)
{
    struct user_totals t;
    struct figures f = {.t = &t, .dist = json_object_new_object(), .hist_ready = false};
    json_object *o, *pct;

    if (db_analytics_user_figures(rq->app->db, &t, add_rank, add_xp, &f) != DB_OK)
        return unavailable(rs, f.dist);
    o = json_object_new_object();
    json_object_object_add(o, "total_users", json_object_new_int64(t.total));
    pct = json_object_new_object();
    json_object_object_add(o, "experience_percentiles", pct);
    for (size_t i = 0; i < NQUANTILES; i++) {
        double v = f.hist_ready ? stats_hist_value(&f.hist, i) : 0.0;
        json_object_object_add(pct, quantiles[i].name, jsonx_new_rounded(v, 2));
    }
    json_object_object_add(o, "rank_distribution", f.dist);
    json_object_object_add(
        o, "avg_missions_per_user",
        jsonx_new_rounded(stats_mean(t.missions_completed, t.total, 1.0), 2));
    json_object_object_add(o, "active_ratio",
                           jsonx_new_rounded(t.total ? (double)t.active / (double)t.total : 0, 2));
    return answer(rs, o);
}

static int add_mission(const struct mission_totals *m, void *ctx)
{
    const struct mission *cat = missions_find(m->mission_id);
    json_object *e = json_object_new_object();

    json_object_object_add(e, "mission_id", json_object_new_int64(m->mission_id));
    json_object_object_add(e, "mission_name", json_object_new_string(cat ? cat->name : "Unknown"));
    json_object_object_add(e, "total_attempts", json_object_new_int64(m->attempts));
    json_object_object_add(
        e, "completion_rate",
        jsonx_new_rounded(stats_percent((double)m->completed, (double)m->attempts), 2));
    /* the exact mean of the kept scores (whole millionths), correctly rounded */
    json_object_object_add(
        e, "average_score",
        jsonx_new_rounded(stats_mean(m->score_units, m->attempts, MISSIONS_SCORE_UNITS), 2));
    return json_object_array_add(ctx, e);
}

int analytics_mission_stats(struct req *rq, struct resp *rs)
{
    json_object *o = json_object_new_object(), *list = json_object_new_array();

    json_object_object_add(o, "missions", list);
    if (db_analytics_missions(rq->app->db, add_mission, list) != DB_OK)
        return unavailable(rs, o);
    return answer(rs, o);
}

static int add_leader(const struct leader *l, void *ctx)
{
    json_object *list = ctx, *e = json_object_new_object();

    json_object_object_add(e, "rank", json_object_new_int64((int64_t)json_object_array_length(list) + 1));
    json_object_object_add(e, "username", json_object_new_string(l->username));
    json_object_object_add(e, "guild_rank", json_object_new_string(l->guild_rank));
    json_object_object_add(e, "experience_points", json_object_new_int64(l->experience_points));
    json_object_object_add(e, "missions_completed", json_object_new_int64(l->missions_completed));
    return json_object_array_add(list, e);
}

int analytics_leaderboard(struct req *rq, struct resp *rs)
{
    struct verrs v = {.n = 0};
    long long limit;
    json_object *o, *list;

    query_int(rq->arena, rq, "limit", 10, 1, 100, &v, &limit);
    if (v.n > 0)
        return resp_validation(rs, &v);
    o = json_object_new_object();
    list = json_object_new_array();
    json_object_object_add(o, "leaderboard", list);
    if (db_analytics_leaders(rq->app->db, limit, add_leader, list) != DB_OK)
        return unavailable(rs, o);
    return answer(rs, o);
}

struct perf {
    json_object *missions;
    long long attempted, completed;
    double score_sum;
};

static int add_perf(const struct progress *p, void *ctx)
{
    struct perf *pf = ctx;

    pf->attempted++;
    pf->completed += strcmp(p->status, "completed") == 0;
    pf->score_sum += p->score;
    return json_object_array_add(pf->missions, views_progress(p)); /* MissionProgress items */
}

int analytics_performance(struct req *rq, struct resp *rs)
{
    struct perf pf = {NULL, 0, 0, 0.0};
    struct user u;
    json_object *o;
    int status;

    if ((status = users_load_path_user(rq, rs, &u)) != 0)
        return status;
    /* at most 13 rows: one per mission of the catalogue */
    pf.missions = json_object_new_array();
    if (db_progress_list(rq->app->db, u.id, add_perf, &pf) != DB_OK)
        return unavailable(rs, pf.missions);
    o = json_object_new_object();
    json_object_object_add(o, "user_id", json_object_new_int64(u.id));
    json_object_object_add(o, "username", json_object_new_string(u.username));
    json_object_object_add(o, "guild_rank", json_object_new_string(u.guild_rank));
    json_object_object_add(o, "total_experience", json_object_new_int64(u.experience_points));
    json_object_object_add(o, "missions_attempted", json_object_new_int64(pf.attempted));
    json_object_object_add(o, "missions_completed", json_object_new_int64(pf.completed));
    json_object_object_add(
        o, "completion_rate",
        jsonx_new_rounded(stats_percent((double)pf.completed, (double)pf.attempted), 2));
    json_object_object_add(
        o, "average_score",
        jsonx_new_rounded(pf.attempted ? pf.score_sum / (double)pf.attempted : 0.0, 2));
    json_object_object_add(o, "missions", pf.missions);
    return answer(rs, o);
}
