/* db_analytics: the aggregate queries behind /api/analytics. Every figure is
 * computed by MySQL (COUNT/SUM/AVG/GROUP BY, index-ordered LIMIT/OFFSET
 * probes for percentiles); the responder never loads all users or rows. */
#ifndef GUILD_DB_ANALYTICS_H
#define GUILD_DB_ANALYTICS_H

struct db;

struct user_totals {
    long long total;
    long long active;
    long long missions_completed;
    double avg_experience;
    double avg_missions;
};

/* Totals over all users. DB_OK or DB_ERR. */
int db_analytics_user_totals(struct db *db, struct user_totals *out);

/* The XP values at ascending sorted positions k and k+1 (v_next = v when k is
 * the last). DB_OK, DB_NOTFOUND (k out of range), DB_ERR. */
int db_analytics_xp_at(struct db *db, long long k, double *v, double *v_next);

/* Calls fn(rank, count) for each rank that has users. DB_OK or DB_ERR. */
int db_analytics_rank_counts(struct db *db, int (*fn)(const char *rank, long long n, void *ctx),
                             void *ctx);

struct mission_totals {
    long long mission_id;
    long long attempts;
    long long completed;
    double avg_score; /* over all attempts */
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
