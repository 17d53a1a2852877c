/* db_progress: mission progress rows and the mission-completion transaction.
 * Completion is atomic under concurrency: the user's row is locked first
 * (SELECT ... FOR UPDATE), then the progress row, so completions of one user
 * serialize and cannot deadlock on the foreign-key check; counters move
 * with x = x + ?. Start and completion keep the analytics counters exact
 * in the same transaction (db_summary.h). */
#ifndef GUILD_DB_PROGRESS_H
#define GUILD_DB_PROGRESS_H

struct db;

struct progress {
    long long id;
    long long user_id;
    long long mission_id;
    char mission_name[420];
    char status[16];
    double score;
    long long started_at; /* -1 when NULL */
    long long completed_at;
    long long created_at;
};

struct completion {
    long long xp_earned;
    long long total_xp;
    char guild_rank[32];
};

/* Starts a mission (status in_progress). Fills *out. DB_OK, DB_DUP (already
 * started or completed), DB_NOTFOUND (no such user), DB_ERR. */
int db_progress_start(struct db *db, long long user_id, long long mission_id, const char *name,
                      struct progress *out);

/* Calls fn for each progress row of the user, by mission id. DB_OK/DB_ERR. */
int db_progress_list(struct db *db, long long user_id,
                     int (*fn)(const struct progress *p, void *ctx), void *ctx);

/* Completes a mission in one transaction: marks (or creates) the progress
 * row completed with score kept to whole millionths of a point
 * (missions_score_units), adds floor(kept score / 10) XP and one mission,
 * sets the rank. DB_OK, DB_DUP (already completed), DB_NOTFOUND (no such
 * user), DB_ERR. */
int db_progress_complete(struct db *db, long long user_id, long long mission_id,
                         const char *name, double score, struct completion *out);

#endif
