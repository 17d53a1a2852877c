/* db_analytics: see db_analytics.h. */
#include "db_analytics.h"

#include <string.h>

#include "db.h"

int db_analytics_user_totals(struct db *db, struct user_totals *out)
{
    static const char sql[] =
        "SELECT COUNT(*), COALESCE(SUM(is_active), 0), COALESCE(SUM(missions_completed), 0), "
        "COALESCE(AVG(experience_points), 0), COALESCE(AVG(missions_completed), 0) FROM users";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_DOUBLE, DB_OUT_DOUBLE};

    if (db_query_row(db, sql, NULL, 0, o, 5) != DB_OK)
        return DB_ERR;
    out->total = o[0].i;
    out->active = o[1].i;
    out->missions_completed = o[2].i;
    out->avg_experience = o[3].d;
    out->avg_missions = o[4].d;
    return DB_OK;
}

int db_analytics_xp_at(struct db *db, long long k, double *v, double *v_next)
{
    /* walks ix_users_leaderboard from the low end: no sort, no full load */
    static const char sql[] =
        "SELECT experience_points FROM users ORDER BY experience_points LIMIT 2 OFFSET ?";
    struct db_val in[] = {DB_IN_INT(k)}, o[] = {DB_OUT_DOUBLE};
    int rc, rows = 0;

    if (db_query(db, sql, in, 1, o, 1) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        if (rows++ == 0)
            *v = *v_next = o[0].d;
        else
            *v_next = o[0].d;
    }
    db_end(db);
    if (rc != DB_NOTFOUND)
        return DB_ERR;
    return rows > 0 ? DB_OK : DB_NOTFOUND;
}

int db_analytics_rank_counts(struct db *db, int (*fn)(const char *rank, long long n, void *ctx),
                             void *ctx)
{
    static const char sql[] =
        "SELECT guild_rank, COUNT(*) FROM users GROUP BY guild_rank ORDER BY guild_rank";
    char rank[32];
    struct db_val o[] = {DB_OUT_TEXT(rank, sizeof(rank)), DB_OUT_INT};
    int rc;

    if (db_query(db, sql, NULL, 0, o, 2) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        if (fn(rank, o[1].i, ctx) != 0) {
            rc = DB_ERR;
            break;
        }
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

int db_analytics_missions(struct db *db, int (*fn)(const struct mission_totals *m, void *ctx),
                          void *ctx)
{
    static const char sql[] =
        "SELECT mission_id, COUNT(*), SUM(status = 'completed'), AVG(score) "
        "FROM mission_progress GROUP BY mission_id ORDER BY mission_id";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_DOUBLE};
    struct mission_totals m;
    int rc;

    if (db_query(db, sql, NULL, 0, o, 4) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        m.mission_id = o[0].i;
        m.attempts = o[1].i;
        m.completed = o[2].i;
        m.avg_score = o[3].is_null ? 0.0 : o[3].d;
        if (fn(&m, ctx) != 0) {
            rc = DB_ERR;
            break;
        }
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

int db_analytics_leaders(struct db *db, long long limit,
                         int (*fn)(const struct leader *l, void *ctx), void *ctx)
{
    /* ix_users_leaderboard (experience_points DESC, id) serves this order */
    static const char sql[] = "SELECT username, guild_rank, experience_points, missions_completed "
                              "FROM users ORDER BY experience_points DESC, id ASC LIMIT ?";
    struct leader l;
    struct db_val in[] = {DB_IN_INT(limit)};
    struct db_val o[] = {DB_OUT_TEXT(l.username, sizeof(l.username)),
                         DB_OUT_TEXT(l.guild_rank, sizeof(l.guild_rank)), DB_OUT_INT, DB_OUT_INT};
    int rc;

    if (db_query(db, sql, in, 1, o, 4) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        l.experience_points = o[2].i;
        l.missions_completed = o[3].i;
        if (fn(&l, ctx) != 0) {
            rc = DB_ERR;
            break;
        }
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}
