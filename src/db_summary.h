/* db_summary: keeps the analytics counters (table analytics_summary,
 * sql/002) in step with users and mission_progress. Writers call
 * db_summary_apply() inside their own transaction, after every base-row
 * change and right before COMMIT, so a counter never disagrees with the
 * rows it counts. guildctl rebuilds and verifies them from the base tables.
 * Does not read the counters for the API: db_analytics.c does.
 * DESIGN: every counter has DB_SUMMARY_SLOTS rows (slot 0..15); a
 * transaction adds to one slot picked at random, readers SUM over the
 * slots, so concurrent writers rarely wait for one another. A transaction
 * locks its slot's users row first and the other rows in (metric, k, name)
 * order, so writers cannot deadlock on counters, and always after the base
 * rows they change. */
#ifndef GUILD_DB_SUMMARY_H
#define GUILD_DB_SUMMARY_H

struct db;
struct summary_delta;

#define DB_SUMMARY_SLOTS 16

/* The canonical score of a stored row in score units, as SQL (the same
 * expression everywhere a stored score is counted). */
#define DB_SUMMARY_SCORE_UNITS_SQL "CAST(ROUND(score * 1000000) AS SIGNED)"

/* Adds d (finished here) to the counters in one statement, in the caller's
 * open transaction. Nothing to do when d is empty (no round trip).
 * DB_OK, or DB_ERR (also when d->failed); the caller then rolls back. */
int db_summary_apply(struct db *db, struct summary_delta *d);


/* Recomputes every counter from users and mission_progress and replaces
 * them, in one REPEATABLE READ transaction that first locks the slots'
 * users rows: writers wait at their first counter row until it commits
 * and then add to the rebuilt values, so the result stays exact under
 * concurrent writes. *rows gets the number of counters written (may be
 * NULL). DB_OK or DB_ERR (reason via db_errstr; rolled back). */
int db_summary_rebuild(struct db *db, long *rows);

/* Compares the counters with a recomputation from the base tables, both
 * read in one consistent snapshot (no locks taken). Calls fn for each
 * counter that differs: recomputed (want) vs kept (have). Returns the
 * number of differences (0: exact), or -1 on a database error. */
long db_summary_verify(struct db *db,
                       int (*fn)(int metric, long long k, const char *name, long long want,
                                 long long have, void *ctx),
                       void *ctx);

#endif
