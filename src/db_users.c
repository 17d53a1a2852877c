/* db_users: user queries; see db_users.h. Times come back as
 * UNIX_TIMESTAMP() (the session time zone is UTC, see db.c). */
#include "db_users.h"

#include <string.h>
#include <time.h>

#include "db.h"

#define USER_COLUMNS                                                                    \
    "id, username, email, full_name, hashed_password, is_active, is_admin, guild_rank, " \
    "experience_points, missions_completed, UNIX_TIMESTAMP(created_at)"

enum { USER_NCOLS = 11 };

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

int db_user_insert(struct db *db, struct user *u)
{
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
        DB_IN_INT(0),
    };
    unsigned long long id;
    int rc;

    /* the time is the responder's, so the answer needs no second round trip */
    u->created_at = (long long)time(NULL);
    in[9] = DB_IN_INT(u->created_at);
    if ((rc = db_exec(db, sql, in, sizeof(in) / sizeof(in[0]), NULL, &id)) != DB_OK)
        return rc;
    u->id = (long long)id;
    return DB_OK;
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

int db_user_update(struct db *db, long long id, const struct user_update *upd)
{
    /* One static statement for every combination: each column is
     * IF(set?, new, old). The caller derives guild_rank when it changes the
     * mission count (missions_rank is the one place that knows the ranks). */
    static const char sql[] =
        "UPDATE users SET "
        "email = IF(?, ?, email), "
        "full_name = IF(?, ?, full_name), "
        "hashed_password = IF(?, ?, hashed_password), "
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
    unsigned long long affected = 0;
    int rc = db_exec(db, sql, in, sizeof(in) / sizeof(in[0]), &affected, NULL);

    if (rc != DB_OK)
        return rc;
    return affected > 0 ? DB_OK : DB_NOTFOUND; /* CLIENT_FOUND_ROWS: matched rows */
}

int db_user_delete(struct db *db, long long id)
{
    static const char sql[] = "DELETE FROM users WHERE id = ?";
    struct db_val in[] = {DB_IN_INT(id)};
    unsigned long long affected = 0;
    int rc = db_exec(db, sql, in, 1, &affected, NULL);

    if (rc != DB_OK)
        return rc;
    return affected > 0 ? DB_OK : DB_NOTFOUND;
}
