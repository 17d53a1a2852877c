/* db_users: user queries; see db_users.h. Times come back as
 * UNIX_TIMESTAMP() (the session time zone is UTC, see db.c). Writes that
 * change a figure the analytics count (activity, rank, XP, missions, the
 * user's existence) run in a transaction that also updates the counters
 * (db_summary.c): the user row is locked first, the counters last. */
#include "db_users.h"

#include <string.h>
#include <time.h>

#include "db.h"
#include "db_summary.h"
#include "summary.h"

#define USER_COLUMNS                                                                    \
    "id, username, email, full_name, hashed_password, is_active, is_admin, guild_rank, " \
    "experience_points, missions_completed, UNIX_TIMESTAMP(created_at), token_version"

enum { USER_NCOLS = 12 };

static void bind_user(struct user *u, struct db_val *out)
{
    out[0] = DB_OUT_INT;
    out[1] = DB_OUT_TEXT(u->username, sizeof(u->username));
    out[2] = DB_OUT_TEXT(u->email, sizeof(u->email));
    out[3] = DB_OUT_TEXT(u->full_name, sizeof(u->full_name));
    out[4] = DB_OUT_TEXT(u->hashed_password, sizeof(u->hashed_password));
    out[5] = DB_OUT_INT;
    out[6] = DB_OUT_INT;
    out[7] = DB_OUT_TEXT(u->guild_rank, sizeof(u->guild_rank));
    out[8] = DB_OUT_INT;
    out[9] = DB_OUT_INT;
    out[10] = DB_OUT_INT;
    out[11] = DB_OUT_INT;
}

static void unbind_user(struct user *u, const struct db_val *out)
{
    u->id = out[0].i;
    u->has_full_name = !out[3].is_null;
    u->is_active = out[5].i != 0;
    u->is_admin = out[6].i != 0;
    u->experience_points = out[8].i;
    u->missions_completed = out[9].i;
    u->created_at = out[10].i;
    u->token_version = out[11].i;
}

static int find_one(struct db *db, const char *sql, const struct db_val *in, struct user *u)
{
    struct db_val out[USER_NCOLS];
    int rc;

    bind_user(u, out);
    if ((rc = db_query_row(db, sql, in, 1, out, USER_NCOLS)) == DB_OK)
        unbind_user(u, out);
    return rc;
}

int db_user_find(struct db *db, long long id, struct user *u)
{
    static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE id = ?";
    struct db_val in[] = {DB_IN_INT(id)};

    return find_one(db, sql, in, u);
}

int db_user_find_by_username(struct db *db, const char *username, struct user *u)
{
    static const char sql[] = "SELECT " USER_COLUMNS " FROM users WHERE username = ?";
    struct db_val in[] = {DB_IN_TEXT(username)};

    return find_one(db, sql, in, u);
}

/* The insert transaction's body: the row, then the counters. */
static int insert_body(struct db *db, void *ctx)
{
    struct user *u = ctx;
    static const char sql[] =
        "INSERT INTO users (username, email, full_name, hashed_password, is_active, is_admin, "
        "guild_rank, experience_points, missions_completed, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FROM_UNIXTIME(?))";
    struct db_val in[] = {
        DB_IN_TEXT(u->username),
        DB_IN_TEXT(u->email),
        u->has_full_name ? DB_IN_TEXT(u->full_name) : DB_IN_NULL,
        DB_IN_TEXT(u->hashed_password),
        DB_IN_INT(u->is_active),
        DB_IN_INT(u->is_admin),
        DB_IN_TEXT(u->guild_rank),
        DB_IN_INT(u->experience_points),
        DB_IN_INT(u->missions_completed),
        DB_IN_INT(u->created_at),
    };
    unsigned long long id;
    struct summary_user fig = {u->is_active, u->guild_rank, u->experience_points,
                               u->missions_completed};
    struct summary_delta d;
    int rc;

    summary_init(&d);
    summary_add_user(&d, &fig, +1);
    rc = db_exec(db, sql, in, sizeof(in) / sizeof(in[0]), NULL, &id);
    if (rc == DB_OK)
        rc = db_summary_apply(db, &d);
    if (rc == DB_OK)
        u->id = (long long)id;
    summary_cleanup(&d);
    return rc;
}

int db_user_insert(struct db *db, struct user *u)
{
    /* the time is the responder's, so the answer needs no second round trip */
    u->created_at = (long long)time(NULL);
    return db_transaction(db, insert_body, u);
}

enum db_user_dup db_user_dup_key(const struct db *db)
{
    const char *e = db_errstr(db);

    if (strstr(e, "uq_users_email") != NULL)
        return DB_USER_DUP_EMAIL;
    if (strstr(e, "uq_users_username") != NULL)
        return DB_USER_DUP_USERNAME;
    return DB_USER_DUP_OTHER;
}

int db_user_list(struct db *db, const struct user_filter *f,
                 int (*fn)(const struct user *u, void *ctx), void *ctx)
{
    /* ORDER BY id LIMIT walks the primary key; filters are cheap predicates */
    static const char sql[] = "SELECT " USER_COLUMNS " FROM users "
                              "WHERE (? = '' OR guild_rank = ?) AND experience_points >= ? "
                              "ORDER BY id LIMIT ? OFFSET ?";
    struct db_val in[] = {DB_IN_TEXT(f->rank), DB_IN_TEXT(f->rank), DB_IN_INT(f->min_experience),
                          DB_IN_INT(f->limit), DB_IN_INT(f->skip)};
    struct db_val out[USER_NCOLS];
    struct user u;
    int rc;

    memset(&u, 0, sizeof(u));
    bind_user(&u, out);
    if (db_query(db, sql, in, 5, out, USER_NCOLS) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK) {
        unbind_user(&u, out);
        if (fn(&u, ctx) != 0) {
            rc = DB_ERR;
            break;
        }
    }
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

/* The figures of user id, its row locked until the transaction ends.
 * DB_OK, DB_NOTFOUND or DB_ERR. rank has SUMMARY_NAME_SZ bytes. */
static int lock_figures(struct db *db, long long id, struct summary_user *fig, char *rank)
{
    static const char sql[] = "SELECT is_active, guild_rank, experience_points, "
                              "missions_completed FROM users WHERE id = ? FOR UPDATE";
    struct db_val in[] = {DB_IN_INT(id)};
    struct db_val o[] = {DB_OUT_INT, DB_OUT_TEXT(rank, SUMMARY_NAME_SZ), DB_OUT_INT, DB_OUT_INT};
    int rc = db_query_row(db, sql, in, 1, o, 4);

    if (rc != DB_OK)
        return rc;
    fig->is_active = o[0].i != 0;
    fig->guild_rank = rank;
    fig->experience_points = o[2].i;
    fig->missions_completed = o[3].i;
    return DB_OK;
}

/* The UPDATE of db_user_update; rows matched into *matched. */
static int update_row(struct db *db, long long id, const struct user_update *upd,
                      unsigned long long *matched)
{
    /* One static statement for every combination: each column is
     * IF(set?, new, old). The caller derives guild_rank when it changes the
     * mission count (missions_rank is the one place that knows the ranks). */
    static const char sql[] =
        "UPDATE users SET "
        "email = IF(?, ?, email), "
        "full_name = IF(?, ?, full_name), "
        "hashed_password = IF(?, ?, hashed_password), "
        "token_version = token_version + IF(?, 1, 0), " /* old tokens end (sql/003) */
        "guild_rank = IF(?, ?, guild_rank), "
        "experience_points = IF(?, ?, experience_points), "
        "missions_completed = IF(?, ?, missions_completed), "
        "is_active = IF(?, ?, is_active), "
        "is_admin = IF(?, ?, is_admin) "
        "WHERE id = ?";
    struct db_val in[] = {
        DB_IN_INT(upd->set_email),
        upd->email ? DB_IN_TEXT(upd->email) : DB_IN_NULL,
        DB_IN_INT(upd->set_full_name),
        upd->full_name ? DB_IN_TEXT(upd->full_name) : DB_IN_NULL,
        DB_IN_INT(upd->set_password),
        upd->hashed_password ? DB_IN_TEXT(upd->hashed_password) : DB_IN_NULL,
        DB_IN_INT(upd->set_password),
        DB_IN_INT(upd->set_rank),
        upd->guild_rank ? DB_IN_TEXT(upd->guild_rank) : DB_IN_NULL,
        DB_IN_INT(upd->set_xp),
        DB_IN_INT(upd->experience_points),
        DB_IN_INT(upd->set_missions),
        DB_IN_INT(upd->missions_completed),
        DB_IN_INT(upd->set_active),
        DB_IN_INT(upd->is_active),
        DB_IN_INT(upd->set_admin),
        DB_IN_INT(upd->is_admin),
        DB_IN_INT(id),
    };

    return db_exec(db, sql, in, sizeof(in) / sizeof(in[0]), matched, NULL);
}

/* db_user_update for an update that may move a counted figure: the old
 * figures are read under the row lock, the new ones follow from upd. */
struct update_tx {
    long long id;
    const struct user_update *upd;
};

/* The counted update's body: the user row locked, changed, then the
 * counters moved from its old figures to its new ones. */
static int update_body(struct db *db, void *ctx)
{
    const struct update_tx *t = ctx;
    const struct user_update *upd = t->upd;
    char old_rank[SUMMARY_NAME_SZ];
    struct summary_user old, now;
    struct summary_delta d;
    unsigned long long matched = 0;
    int rc;

    summary_init(&d);
    if ((rc = lock_figures(db, t->id, &old, old_rank)) != DB_OK ||
        (rc = update_row(db, t->id, upd, &matched)) != DB_OK)
        goto out;
    now = old;
    if (upd->set_active)
        now.is_active = upd->is_active;
    if (upd->set_rank && upd->guild_rank != NULL)
        now.guild_rank = upd->guild_rank;
    if (upd->set_xp)
        now.experience_points = upd->experience_points;
    if (upd->set_missions)
        now.missions_completed = upd->missions_completed;
    summary_add_user(&d, &old, -1);
    summary_add_user(&d, &now, +1);
    rc = db_summary_apply(db, &d);
out:
    summary_cleanup(&d);
    return rc;
}

static int update_counted(struct db *db, long long id, const struct user_update *upd)
{
    struct update_tx t = {id, upd};

    return db_transaction(db, update_body, &t);
}

int db_user_update(struct db *db, long long id, const struct user_update *upd)
{
    unsigned long long matched = 0;
    int rc;

    if (upd->set_active || upd->set_rank || upd->set_xp || upd->set_missions)
        return update_counted(db, id, upd);
    if ((rc = update_row(db, id, upd, &matched)) != DB_OK)
        return rc;
    return matched > 0 ? DB_OK : DB_NOTFOUND; /* CLIENT_FOUND_ROWS: matched rows */
}

/* Removes the contribution of user id's progress rows from d, locking them
 * (they go with the user by ON DELETE CASCADE). */
static int uncount_progress(struct db *db, long long id, struct summary_delta *d)
{
    static const char sql[] = "SELECT mission_id, status = 'completed', "
                              DB_SUMMARY_SCORE_UNITS_SQL " FROM mission_progress "
                              "WHERE user_id = ? FOR UPDATE";
    struct db_val in[] = {DB_IN_INT(id)}, o[] = {DB_OUT_INT, DB_OUT_INT, DB_OUT_INT};
    int rc;

    if (db_query(db, sql, in, 1, o, 3) != DB_OK)
        return DB_ERR;
    while ((rc = db_next(db)) == DB_OK)
        summary_add_progress(d, o[0].i, o[1].i != 0, o[2].i, -1);
    db_end(db);
    return rc == DB_NOTFOUND ? DB_OK : DB_ERR;
}

/* The delete's body: user row, then its progress rows, then the delete
 * (which removes only rows already locked), then the counters: base rows
 * before counters, as every writer does. */
static int delete_body(struct db *db, void *ctx)
{
    static const char sql[] = "DELETE FROM users WHERE id = ?";
    const long long *id = ctx;
    struct db_val in[] = {DB_IN_INT(*id)};
    char rank[SUMMARY_NAME_SZ];
    struct summary_user fig;
    struct summary_delta d;
    int rc;

    summary_init(&d);
    if ((rc = lock_figures(db, *id, &fig, rank)) == DB_OK &&
        (rc = uncount_progress(db, *id, &d)) == DB_OK) {
        summary_add_user(&d, &fig, -1);
        rc = db_exec(db, sql, in, 1, NULL, NULL);
    }
    if (rc == DB_OK)
        rc = db_summary_apply(db, &d);
    summary_cleanup(&d);
    return rc;
}

int db_user_delete(struct db *db, long long id)
{
    return db_transaction(db, delete_body, &id);
}
