/* db_analytics: the queries behind /api/analytics. The aggregates read the
 * counters in analytics_summary (kept exact by every write, db_summary.h):
 * a few hundred rows, summed over the slots by MySQL, whatever the number of
 * users; each answer comes from one statement, so from one snapshot. The
 * leaderboard walks ix_users_leaderboard. The responder never loads all
 * users or rows. */
#ifndef GUILD_DB_ANALYTICS_H
#define GUILD_DB_ANALYTICS_H

struct db;

/* Exact integer totals over all users; the averages are computed from them
 * (stats_mean). */
struct user_totals {
    long long total;
    long long active;
    long long missions_completed;
    long long experience_points; /* the sum */
};

/* Totals over all users. DB_OK or DB_ERR. */
int db_analytics_user_totals(struct db *db, struct user_totals *out);

/* Everything /users/advanced-stats shows, in one statement: fills *t, then
 * calls on_rank(rank, users) for each rank that has users, in the rank
 * column's collation order, then on_xp(xp, users) for each XP value that
 * users have, ascending (*t is complete by the first call of either).
 * A callback returning non-zero stops the walk: DB_ERR. DB_OK or DB_ERR. */
int db_analytics_user_figures(struct db *db, struct user_totals *t,
                              int (*on_rank)(const char *rank, long long n, void *ctx),
                              int (*on_xp)(long long xp, long long n, void *ctx), void *ctx);

struct mission_totals {
    long long mission_id;
    long long attempts;
    long long completed;
    long long score_units; /* sum of the scores of all attempts, in score units */
};

/* Calls fn for each mission with at least one progress row, by id. */
int db_analytics_missions(struct db *db, int (*fn)(const struct mission_totals *m, void *ctx),
                          void *ctx);

struct leader {
    char username[208];
    char guild_rank[32];
    long long experience_points;
    long long missions_completed;
};

/* Calls fn for the top `limit` users by XP desc, id asc. */
int db_analytics_leaders(struct db *db, long long limit,
                         int (*fn)(const struct leader *l, void *ctx), void *ctx);

#endif
