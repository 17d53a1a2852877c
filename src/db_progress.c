/* db_progress: see db_progress.h. */
#include "db_progress.h"

#include <stdbool.h>

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "missions.h"

#define PROGRESS_COLUMNS                                                                 \
    "id, user_id, mission_id, mission_name, status, score, UNIX_TIMESTAMP(started_at), " \
    "UNIX_TIMESTAMP(completed_at), UNIX_TIMESTAMP(created_at)"

int db_progress_start(struct db *db, long long user_id, long long mission_id, const char *name,
                      struct progress *out)
{
    static const char sql[] =
        "INSERT INTO mission_progress (user_id, mission_id, mission_name, status, score, "
        "started_at, created_at) VALUES (?, ?, ?, 'in_progress', 0, FROM_UNIXTIME(?), "
        "FROM_UNIXTIME(?))";
    long long now = (long long)time(NULL);
    struct db_val in[] = {DB_IN_INT(user_id), DB_IN_INT(mission_id), DB_IN_TEXT(name),
                          DB_IN_INT(now), DB_IN_INT(now)};
    unsigned long long id = 0;
    int rc = db_exec(db, sql, in, 5, NULL, &id);

    if (rc != DB_OK)
        return rc;
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

/* The body of the completion transaction; the caller begins and ends it. */
static int complete_locked(struct db *db, long long user_id, long long mission_id,
                           const char *name, double score, struct completion *out)
{
    static const char sql_lock[] =
        "SELECT experience_points, missions_completed FROM users WHERE id = ? FOR UPDATE";
    static const char sql_mark[] =
        "UPDATE mission_progress SET status = 'completed', score = ?, "
        "completed_at = FROM_UNIXTIME(?) WHERE user_id = ? AND mission_id = ? "
        "AND status <> 'completed'";
    static const char sql_insert[] =
        "INSERT INTO mission_progress (user_id, mission_id, mission_name, status, score, "
        "started_at, completed_at, created_at) VALUES (?, ?, ?, 'completed', ?, "
        "FROM_UNIXTIME(?), FROM_UNIXTIME(?), FROM_UNIXTIME(?))";
    static const char sql_user[] =
        "UPDATE users SET experience_points = experience_points + ?, "
        "missions_completed = missions_completed + 1, guild_rank = ? WHERE id = ?";
    long long now = (long long)time(NULL), xp = missions_xp(score);
    struct db_val key[] = {DB_IN_INT(user_id)}, cur[] = {DB_OUT_INT, DB_OUT_INT};
    struct db_val mark[] = {DB_IN_DOUBLE(score), DB_IN_INT(now), DB_IN_INT(user_id),
                            DB_IN_INT(mission_id)};
    struct db_val ins[] = {DB_IN_INT(user_id), DB_IN_INT(mission_id), DB_IN_TEXT(name),
                           DB_IN_DOUBLE(score), DB_IN_INT(now), DB_IN_INT(now), DB_IN_INT(now)};
    unsigned long long affected = 0;
    const char *rank;
    int rc;

    if ((rc = db_query_row(db, sql_lock, key, 1, cur, 2)) != DB_OK)
        return rc; /* DB_NOTFOUND: no such user */
    if ((rc = db_exec(db, sql_mark, mark, 4, &affected, NULL)) != DB_OK)
        return rc;
    if (affected == 0 && (rc = db_exec(db, sql_insert, ins, 7, NULL, NULL)) != DB_OK)
        return rc; /* DB_DUP: the row exists and is completed */
    /* the user's row is locked: cur[] is current, so the rank is exact */
    rank = missions_rank(cur[1].i + 1);
    struct db_val upd[] = {DB_IN_INT(xp), DB_IN_TEXT(rank), DB_IN_INT(user_id)};
    if ((rc = db_exec(db, sql_user, upd, 3, NULL, NULL)) != DB_OK)
        return rc;
    out->xp_earned = xp;
    out->total_xp = cur[0].i + xp;
    snprintf(out->guild_rank, sizeof(out->guild_rank), "%s", rank);
    return DB_OK;
}

#define DB_PROGRESS_TX_ATTEMPTS 5

int db_progress_complete(struct db *db, long long user_id, long long mission_id,
                         const char *name, double score, struct completion *out)
{
    int rc = DB_ERR;
    bool conflict;
    struct timespec ts;

    /* Two completions of different users can deadlock on the gap locks of
     * mission_progress's unique index (the UPDATE finds no row, then both
     * INSERT into the gap); InnoDB rolls one back, which is run again rather
     * than answered with a 503 (a lost write). */
    for (int attempt = 0; attempt < DB_PROGRESS_TX_ATTEMPTS; attempt++) {
        if (db_begin(db) != DB_OK)
            return DB_ERR;
        rc = complete_locked(db, user_id, mission_id, name, score, out);
        if (rc == DB_OK && db_commit(db) != DB_OK)
            rc = DB_ERR;
        if (rc == DB_OK)
            return DB_OK;
        conflict = rc == DB_ERR && db_is_conflict(db); /* before ROLLBACK resets it */
        db_rollback(db);
        if (!conflict)
            return rc;
        /* a short, jittered pause: the winners commit first instead of
         * meeting the same victims again */
        clock_gettime(CLOCK_MONOTONIC, &ts);
        usleep((useconds_t)(1000 * (attempt + 1) + ts.tv_nsec / 1000 % 1000));
    }
    return rc;
}
