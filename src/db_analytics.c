/* db_analytics: see db_analytics.h. The counters' metric numbers are
 * summary.h's; a counter is the SUM of its slots' rows. */
#include "db_analytics.h"

#include <string.h>

#include "db.h"
#include "summary.h"

#define MISSION_ID_MAX 255 /* mission_progress.mission_id is TINYINT UNSIGNED */

/* Stores a metric 1..4 row into t; other metrics are ignored. */
static void put_total(struct user_totals *t, long long metric, long long n)
{
    switch (metric) {
    case SUMMARY_USERS:
        t->total = n;
        break;
    case SUMMARY_ACTIVE:
        t->active = n;
        break;
    case SUMMARY_MISSIONS:
        t->missions_completed = n;
        break;
    case SUMMARY_XP:
        t->experience_points = n;
        break;
    default:
        break;
    }
}

int db_analytics_user_totals(struct db *db, struct user_totals *out)
{
    static const char sql[] = "SELECT metric, SUM(n) FROM analytics_summary "
                              "WHERE metric BETWEEN 1 AND 4 GROUP BY metric";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT};
    int rc;

    memset(out, 0, sizeof(*out));
    if (db_query(db, sql, NULL, 0, o, 2) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK)
        put_total(out, o[0].i, o[1].i);
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

int db_analytics_user_figures(struct db *db, struct user_totals *t,
                              int (*on_rank)(const char *rank, long long n, void *ctx),
                              int (*on_xp)(long long xp, long long n, void *ctx), void *ctx)
{
    /* (metric, k, name) is the primary key's prefix: the GROUP BY streams in
     * key order, totals first, ranks by name, XP values ascending */
    static const char sql[] = "SELECT metric, k, name, SUM(n) AS total FROM analytics_summary "
                              "WHERE metric BETWEEN 1 AND 6 GROUP BY metric, k, name "
                              "HAVING total <> 0 ORDER BY metric, k, name";
    char name[SUMMARY_NAME_SZ];
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_TEXT(name, sizeof(name)), DB_OUT_INT};
    int rc;

    memset(t, 0, sizeof(*t));
    if (db_query(db, sql, NULL, 0, o, 4) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        int stop = 0;

        if (o[0].i == SUMMARY_RANK)
            stop = on_rank(name, o[3].i, ctx);
        else if (o[0].i == SUMMARY_XP_USERS)
            stop = on_xp(o[1].i, o[3].i, ctx);
        else
            put_total(t, o[0].i, o[3].i);
        if (stop != 0) {
            rc = DB_ERR;
            break;
        }
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

/* Per-mission counters by metric row, then the missions that have attempts. */
int db_analytics_missions(struct db *db, int (*fn)(const struct mission_totals *m, void *ctx),
                          void *ctx)
{
    static const char sql[] = "SELECT metric, k, SUM(n) FROM analytics_summary "
                              "WHERE metric BETWEEN 7 AND 9 GROUP BY metric, k";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT};
    struct mission_totals m[MISSION_ID_MAX + 1];
    int rc;

    memset(m, 0, sizeof(m));
    if (db_query(db, sql, NULL, 0, o, 3) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        long long id = o[1].i;

        if (id < 0 || id > MISSION_ID_MAX)
            continue; /* cannot be a mission_progress.mission_id */
        if (o[0].i == SUMMARY_ATTEMPTS)
            m[id].attempts = o[2].i;
        else if (o[0].i == SUMMARY_COMPLETED)
            m[id].completed = o[2].i;
        else
            m[id].score_units = o[2].i;
    }
    db_end(db);
    if (rc != DB_NOTFOUND)
        return DB_ERR;
    for (long long id = 0; id <= MISSION_ID_MAX; id++) {
        if (m[id].attempts <= 0)
            continue;
        m[id].mission_id = id;
        if (fn(&m[id], ctx) != 0)
            return DB_ERR;
    }
    return DB_OK;
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
