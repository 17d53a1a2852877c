/* db_summary: see db_summary.h. Every change goes through one statement that
 * unpacks a JSON array of (metric, k, name, amount) with JSON_TABLE and adds
 * it with INSERT ... ON DUPLICATE KEY UPDATE, in array order: one round trip
 * and one fixed locking order whatever the write touched. The JSON is built
 * from integers and rank names read from the database, never from request
 * text. */
#include "db_summary.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "summary.h"

#define DB_SUMMARY_CHUNK 1000 /* entries per apply statement in a rebuild */

static const char SQL_REPEATABLE_READ[] = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ";

/* ---- slots ----------------------------------------------------------------- */

/* A slot per transaction from a per-process xorshift: cheap and spread out;
 * nothing depends on which slot a change lands in. */
static int pick_slot(void)
{
    static uint64_t x;

    if (x == 0)
        x = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid() ^ 0x9E3779B97F4A7C15ULL;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (int)(x % DB_SUMMARY_SLOTS);
}

/* Adds entries [from, to) of finished d to slot `slot`. */
static int apply_slot(struct db *db, const struct summary_delta *d, size_t from, size_t to,
                      int slot, bool lead)
{
    static const char sql[] =
        "INSERT INTO analytics_summary (metric, k, name, slot, n) "
        "SELECT j.metric, j.k, j.name, ?, j.dn FROM JSON_TABLE(?, '$[*]' COLUMNS ("
        "ord FOR ORDINALITY, "
        "metric INT PATH '$[0]', "
        "k BIGINT PATH '$[1]', "
        "name VARCHAR(20) PATH '$[2]', "
        "dn BIGINT PATH '$[3]')) AS j "
        "ORDER BY j.ord "
        "ON DUPLICATE KEY UPDATE n = analytics_summary.n + VALUES(n)";
    char *json = summary_to_json(d, from, to, lead);
    int rc;

    if (json == NULL) {
        log_msg(LOG_ERR, "summary: out of memory");
        return DB_ERR;
    }
    struct db_val in[] = {DB_IN_INT(slot), DB_IN_TEXT(json)};
    rc = db_exec(db, sql, in, 2, NULL, NULL);
    free(json);
    return rc == DB_OK ? DB_OK : DB_ERR;
}

int db_summary_apply(struct db *db, struct summary_delta *d)
{
    summary_finish(d);
    if (d->failed) {
        log_msg(LOG_ERR, "summary: out of memory building a change");
        return DB_ERR;
    }
    if (summary_is_empty(d))
        return DB_OK;
    return apply_slot(db, d, 0, d->len, pick_slot(), true);
}

/* ---- recomputation from the base tables ------------------------------------ */

static int load_user_totals(struct db *db, struct summary_delta *d)
{
    static const char sql[] =
        "SELECT COUNT(*), COALESCE(SUM(is_active <> 0), 0), "
        "COALESCE(SUM(missions_completed), 0), COALESCE(SUM(experience_points), 0) FROM users";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_INT};

    if (db_query_row(db, sql, NULL, 0, o, 4) != DB_OK)
        return DB_ERR;
    summary_add(d, SUMMARY_USERS, 0, NULL, o[0].i);
    summary_add(d, SUMMARY_ACTIVE, 0, NULL, o[1].i);
    summary_add(d, SUMMARY_MISSIONS, 0, NULL, o[2].i);
    summary_add(d, SUMMARY_XP, 0, NULL, o[3].i);
    return DB_OK;
}

/* Runs a two-column (key, count) GROUP BY and adds each row to metric. */
static int load_groups(struct db *db, const char *sql, int metric, bool by_name,
                       struct summary_delta *d)
{
    char name[SUMMARY_NAME_SZ];
    struct db_val o[] = {by_name ? DB_OUT_TEXT(name, sizeof(name)) : DB_OUT_INT, DB_OUT_INT};
    int rc;

    if (db_query(db, sql, NULL, 0, o, 2) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK)
        summary_add(d, metric, by_name ? 0 : o[0].i, by_name ? name : NULL, o[1].i);
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

static int load_missions(struct db *db, struct summary_delta *d)
{
    static const char sql[] =
        "SELECT mission_id, COUNT(*), COALESCE(SUM(status = 'completed'), 0), "
        "COALESCE(SUM(" DB_SUMMARY_SCORE_UNITS_SQL "), 0) "
        "FROM mission_progress GROUP BY mission_id";
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT, DB_OUT_INT};
    int rc;

    if (db_query(db, sql, NULL, 0, o, 4) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        summary_add(d, SUMMARY_ATTEMPTS, o[0].i, NULL, o[1].i);
        summary_add(d, SUMMARY_COMPLETED, o[0].i, NULL, o[2].i);
        summary_add(d, SUMMARY_SCORE, o[0].i, NULL, o[3].i);
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

/* Every counter as a full scan of the base tables gives it (consistent
 * reads: no locks), finished. */
static int load_base(struct db *db, struct summary_delta *d)
{
    static const char sql_ranks[] = "SELECT guild_rank, COUNT(*) FROM users GROUP BY guild_rank";
    static const char sql_xp[] =
        "SELECT experience_points, COUNT(*) FROM users GROUP BY experience_points";

    if (load_user_totals(db, d) != DB_OK ||
        load_groups(db, sql_ranks, SUMMARY_RANK, true, d) != DB_OK ||
        load_groups(db, sql_xp, SUMMARY_XP_USERS, false, d) != DB_OK ||
        load_missions(db, d) != DB_OK)
        return DB_ERR;
    summary_finish(d);
    return d->failed ? DB_ERR : DB_OK;
}

/* The kept counters, summed over the slots, finished. */
static int load_kept(struct db *db, struct summary_delta *d)
{
    static const char sql[] =
        "SELECT metric, k, name, SUM(n) FROM analytics_summary GROUP BY metric, k, name";
    char name[SUMMARY_NAME_SZ];
    struct db_val o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_TEXT(name, sizeof(name)), DB_OUT_INT};
    int rc;

    if (db_query(db, sql, NULL, 0, o, 4) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK)
        summary_add(d, (int)o[0].i, o[1].i, name, o[3].i);
    db_end(db);
    if (rc != DB_NOTFOUND)
        return DB_ERR;
    summary_finish(d);
    return d->failed ? DB_ERR : DB_OK;
}

/* ---- rebuild and verify ---------------------------------------------------- */

/* Locks every slot's users row (and, under REPEATABLE READ, the gaps
 * around them): from here on no writer gets past its first counter row. */
static int lock_slots(struct db *db)
{
    static const char sql[] = "SELECT COUNT(*) FROM analytics_summary WHERE metric = 1 FOR UPDATE";
    struct db_val o[] = {DB_OUT_INT};

    return db_query_row(db, sql, NULL, 0, o, 1) == DB_OK ? DB_OK : DB_ERR;
}

/* Replaces every counter with base (finished), all in slot 0, plus a zero
 * users row in every slot (the row each writer locks first). */
static int replace_all(struct db *db, const struct summary_delta *base)
{
    static const char sql_clear[] = "DELETE FROM analytics_summary";
    static const char sql_slots[] =
        "INSERT INTO analytics_summary (metric, k, name, slot, n) VALUES "
        "(1,0,'',0,0),(1,0,'',1,0),(1,0,'',2,0),(1,0,'',3,0),(1,0,'',4,0),(1,0,'',5,0),"
        "(1,0,'',6,0),(1,0,'',7,0),(1,0,'',8,0),(1,0,'',9,0),(1,0,'',10,0),(1,0,'',11,0),"
        "(1,0,'',12,0),(1,0,'',13,0),(1,0,'',14,0),(1,0,'',15,0)";

    if (db_exec(db, sql_clear, NULL, 0, NULL, NULL) != DB_OK ||
        db_exec(db, sql_slots, NULL, 0, NULL, NULL) != DB_OK)
        return DB_ERR;
    for (size_t i = 0; i < base->len; i += DB_SUMMARY_CHUNK) {
        size_t to = i + DB_SUMMARY_CHUNK < base->len ? i + DB_SUMMARY_CHUNK : base->len;

        if (apply_slot(db, base, i, to, 0, false) != DB_OK)
            return DB_ERR;
    }
    return DB_OK;
}

int db_summary_rebuild(struct db *db, long *rows)
{
    struct summary_delta base;
    int rc = DB_ERR;

    summary_init(&base);
    /* REPEATABLE READ for this one transaction: the gap locks of lock_slots
     * keep out writers creating a missing slot row, and every read after the
     * locks sees one snapshot taken after them */
    if (db_exec(db, SQL_REPEATABLE_READ, NULL, 0, NULL, NULL) != DB_OK || db_begin(db) != DB_OK)
        goto out;
    if (lock_slots(db) != DB_OK || load_base(db, &base) != DB_OK ||
        replace_all(db, &base) != DB_OK || db_commit(db) != DB_OK) {
        db_rollback(db);
        goto out;
    }
    if (rows != NULL)
        *rows = (long)base.len;
    rc = DB_OK;
out:
    summary_cleanup(&base);
    return rc;
}

struct verify_ctx {
    int (*fn)(int metric, long long k, const char *name, long long want, long long have,
              void *ctx);
    void *ctx;
};

static int verify_diff(const struct summary_entry *key, long long want, long long have, void *p)
{
    const struct verify_ctx *v = p;

    return v->fn != NULL ? v->fn(key->metric, key->k, key->name, want, have, v->ctx) : 0;
}

long db_summary_verify(struct db *db,
                       int (*fn)(int metric, long long k, const char *name, long long want,
                                 long long have, void *ctx),
                       void *ctx)
{
    struct summary_delta base, kept;
    struct verify_ctx v = {fn, ctx};
    long diffs = -1;

    summary_init(&base);
    summary_init(&kept);
    /* one REPEATABLE READ snapshot for both sides: a writer commits its base
     * rows and its counters together, so both sides see it or neither does */
    if (db_exec(db, SQL_REPEATABLE_READ, NULL, 0, NULL, NULL) != DB_OK || db_begin(db) != DB_OK)
        goto out;
    if (load_kept(db, &kept) != DB_OK || load_base(db, &base) != DB_OK) {
        db_rollback(db);
        goto out;
    }
    db_rollback(db); /* read only */
    diffs = summary_compare(&base, &kept, verify_diff, &v);
out:
    summary_cleanup(&base);
    summary_cleanup(&kept);
    return diffs;
}
