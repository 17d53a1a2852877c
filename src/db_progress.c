/* db_progress: see db_progress.h. Both writes also move the analytics
 * counters (db_summary.c) in their transaction, after the base rows. */
#include "db_progress.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "db_summary.h"
#include "missions.h"
#include "summary.h"

#define PROGRESS_COLUMNS                                                                 \
    "id, user_id, mission_id, mission_name, status, score, UNIX_TIMESTAMP(started_at), " \
    "UNIX_TIMESTAMP(completed_at), UNIX_TIMESTAMP(created_at)"

struct start_tx {
    long long user_id, mission_id, now;
    const char *name;
    unsigned long long id;
};

/* The start transaction's body: the progress row, then its counters. */
static int start_body(struct db *db, void *ctx)
{
    static const char sql[] =
        "INSERT INTO mission_progress (user_id, mission_id, mission_name, status, score, "
        "started_at, created_at) VALUES (?, ?, ?, 'in_progress', 0, FROM_UNIXTIME(?), "
        "FROM_UNIXTIME(?))";
    struct start_tx *t = ctx;
    struct db_val in[] = {DB_IN_INT(t->user_id), DB_IN_INT(t->mission_id), DB_IN_TEXT(t->name),
                          DB_IN_INT(t->now), DB_IN_INT(t->now)};
    struct summary_delta d;
    int rc;

    summary_init(&d);
    summary_add_progress(&d, t->mission_id, false, 0, +1);
    /* the foreign-key check share-locks the user row: after a completion or
     * a delete of that user that holds it, never before */
    rc = db_exec(db, sql, in, 5, NULL, &t->id);
    if (rc == DB_OK)
        rc = db_summary_apply(db, &d);
    summary_cleanup(&d);
    return rc;
}

int db_progress_start(struct db *db, long long user_id, long long mission_id, const char *name,
                      struct progress *out)
{
    long long now = (long long)time(NULL);
    struct start_tx t = {user_id, mission_id, now, name, 0};
    unsigned long long id;
    int rc = db_transaction(db, start_body, &t);

    if (rc != DB_OK)
        return rc;
    id = t.id;
    memset(out, 0, sizeof(*out));
    out->id = (long long)id;
    out->user_id = user_id;
    out->mission_id = mission_id;
    snprintf(out->mission_name, sizeof(out->mission_name), "%s", name);
    strcpy(out->status, "in_progress");
    out->score = 0;
    out->started_at = out->created_at = now;
    out->completed_at = -1;
    return DB_OK;
}

int db_progress_list(struct db *db, long long user_id,
                     int (*fn)(const struct progress *p, void *ctx), void *ctx)
{
    static const char sql[] =
        "SELECT " PROGRESS_COLUMNS " FROM mission_progress WHERE user_id = ? ORDER BY mission_id";
    struct db_val in[] = {DB_IN_INT(user_id)};
    struct progress p;
    struct db_val out[] = {
        DB_OUT_INT, DB_OUT_INT, DB_OUT_INT,
        DB_OUT_TEXT(p.mission_name, sizeof(p.mission_name)),
        DB_OUT_TEXT(p.status, sizeof(p.status)),
        DB_OUT_DOUBLE, DB_OUT_INT, DB_OUT_INT, DB_OUT_INT,
    };
    int rc;

    if (db_query(db, sql, in, 1, out, 9) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        p.id = out[0].i;
        p.user_id = out[1].i;
        p.mission_id = out[2].i;
        p.score = out[5].d;
        p.started_at = out[6].is_null ? -1 : out[6].i;
        p.completed_at = out[7].is_null ? -1 : out[7].i;
        p.created_at = out[8].i;
        if (fn(&p, ctx) != 0) {
            rc = DB_ERR;
            break;
        }
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

/* The user's progress row for the mission, locked (after the user row):
 * *found, and when found whether it is completed and its score in units. */
static int lock_progress(struct db *db, long long user_id, long long mission_id, bool *found,
                         bool *completed, long long *units)
{
    static const char sql[] = "SELECT status = 'completed', " DB_SUMMARY_SCORE_UNITS_SQL
                              " FROM mission_progress WHERE user_id = ? AND mission_id = ? "
                              "FOR UPDATE";
    struct db_val in[] = {DB_IN_INT(user_id), DB_IN_INT(mission_id)};
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT};
    int rc = db_query_row(db, sql, in, 2, o, 2);

    *found = rc == DB_OK;
    if (rc == DB_NOTFOUND)
        return DB_OK;
    *completed = o[0].i != 0;
    *units = o[1].i;
    return rc;
}

/* Marks the existing progress row completed, or creates it completed. */
static int mark_completed(struct db *db, long long user_id, long long mission_id,
                          const char *name, double score, bool exists)
{
    static const char sql_mark[] =
        "UPDATE mission_progress SET status = 'completed', score = ?, "
        "completed_at = FROM_UNIXTIME(?) WHERE user_id = ? AND mission_id = ?";
    static const char sql_insert[] =
        "INSERT INTO mission_progress (user_id, mission_id, mission_name, status, score, "
        "started_at, completed_at, created_at) VALUES (?, ?, ?, 'completed', ?, "
        "FROM_UNIXTIME(?), FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
    long long now = (long long)time(NULL);
    struct db_val mark[] = {DB_IN_DOUBLE(score), DB_IN_INT(now), DB_IN_INT(user_id),
                            DB_IN_INT(mission_id)};
    struct db_val ins[] = {DB_IN_INT(user_id), DB_IN_INT(mission_id), DB_IN_TEXT(name),
                           DB_IN_DOUBLE(score), DB_IN_INT(now), DB_IN_INT(now), DB_IN_INT(now)};

    if (exists)
        return db_exec(db, sql_mark, mark, 4, NULL, NULL);
    return db_exec(db, sql_insert, ins, 7, NULL, NULL);
}

/* The body of the completion transaction; the caller begins and ends it.
 * Lock order: the user row, then the progress row, then the counters. */
static int complete_locked(struct db *db, long long user_id, long long mission_id,
                           const char *name, double score, struct completion *out,
                           struct summary_delta *d)
{
    static const char sql_lock[] = "SELECT experience_points, missions_completed, guild_rank, "
                                   "is_active FROM users WHERE id = ? FOR UPDATE";
    static const char sql_user[] =
        "UPDATE users SET experience_points = experience_points + ?, "
        "missions_completed = missions_completed + 1, guild_rank = ? WHERE id = ?";
    long long units = missions_score_units(score), old_units = 0, xp;
    char old_rank[SUMMARY_NAME_SZ];
    struct db_val key[] = {DB_IN_INT(user_id)};
    struct db_val cur[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_TEXT(old_rank, sizeof(old_rank)),
                           DB_OUT_INT};
    struct summary_user before, after;
    bool found = false, completed = false;
    const char *rank;
    int rc;

    /* the stored score is the kept one (whole millionths), and so is the XP */
    score = missions_score_of(units);
    xp = missions_xp(score);
    if ((rc = db_query_row(db, sql_lock, key, 1, cur, 4)) != DB_OK)
        return rc; /* DB_NOTFOUND: no such user */
    if ((rc = lock_progress(db, user_id, mission_id, &found, &completed, &old_units)) != DB_OK)
        return rc;
    if (found && completed)
        return DB_DUP;
    if ((rc = mark_completed(db, user_id, mission_id, name, score, found)) != DB_OK)
        return rc;
    /* the user's row is locked: cur[] is current, so the rank is exact */
    rank = missions_rank(cur[1].i + 1);
    struct db_val upd[] = {DB_IN_INT(xp), DB_IN_TEXT(rank), DB_IN_INT(user_id)};
    if ((rc = db_exec(db, sql_user, upd, 3, NULL, NULL)) != DB_OK)
        return rc;
    before = (struct summary_user){cur[3].i != 0, old_rank, cur[0].i, cur[1].i};
    after = (struct summary_user){cur[3].i != 0, rank, cur[0].i + xp, cur[1].i + 1};
    summary_add_user(d, &before, -1);
    summary_add_user(d, &after, +1);
    if (found)
        summary_add_progress(d, mission_id, false, old_units, -1);
    summary_add_progress(d, mission_id, true, units, +1);
    if ((rc = db_summary_apply(db, d)) != DB_OK)
        return rc;
    out->xp_earned = xp;
    out->total_xp = cur[0].i + xp;
    snprintf(out->guild_rank, sizeof(out->guild_rank), "%s", rank);
    return DB_OK;
}

struct complete_tx {
    long long user_id, mission_id;
    const char *name;
    double score;
    struct completion *out;
};

/* The completion transaction's body (complete_locked with its counters). */
static int complete_body(struct db *db, void *ctx)
{
    struct complete_tx *t = ctx;
    struct summary_delta d;
    int rc;

    summary_init(&d);
    rc = complete_locked(db, t->user_id, t->mission_id, t->name, t->score, t->out, &d);
    summary_cleanup(&d);
    return rc;
}

int db_progress_complete(struct db *db, long long user_id, long long mission_id,
                         const char *name, double score, struct completion *out)
{
    struct complete_tx t = {user_id, mission_id, name, score, out};

    /* Two completions of different users could deadlock on the gap locks of
     * mission_progress's unique index (the UPDATE finds no row, then both
     * INSERT into the gap). Sessions now run at READ COMMITTED (no gap
     * locks), and a transaction InnoDB still picks as a deadlock or lock-wait
     * victim is run again (db_transaction) rather than answered with a 503. */
    return db_transaction(db, complete_body, &t);
}
