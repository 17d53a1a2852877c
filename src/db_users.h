/* db_users: every SQL statement about users, each next to the one function
 * that runs it. Callers get plain structs; no MySQL type leaks out. */
#ifndef GUILD_DB_USERS_H
#define GUILD_DB_USERS_H

#include <stdbool.h>

struct db;

struct user {
    long long id;
    char username[208]; /* 50 characters of up to 4 bytes */
    char email[1024];
    char full_name[1024];
    bool has_full_name;
    char hashed_password[256];
    bool is_active;
    bool is_admin;
    char guild_rank[32];
    long long experience_points;
    long long missions_completed;
    long long created_at; /* unix seconds, UTC */
    long long token_version; /* bumped by a password change: tokens carry it */
};

/* Inserts a user (id and created_at are set on success).
 * DB_OK, DB_DUP (username or email taken) or DB_ERR. */
int db_user_insert(struct db *db, struct user *u);

/* Finds by id / by exact username. DB_OK, DB_NOTFOUND or DB_ERR. */
int db_user_find(struct db *db, long long id, struct user *u);
int db_user_find_by_username(struct db *db, const char *username, struct user *u);

/* Which unique key a DB_DUP from db_user_insert/db_user_update hit. */
enum db_user_dup { DB_USER_DUP_USERNAME, DB_USER_DUP_EMAIL, DB_USER_DUP_OTHER };
enum db_user_dup db_user_dup_key(const struct db *db);

/* Filters and paging for db_user_list. rank "" = any rank. */
struct user_filter {
    long long skip;
    long long limit;
    const char *rank;
    long long min_experience;
};

/* Calls fn for each user matching f, ordered by id. DB_OK or DB_ERR (also
 * when fn returns non-zero). */
int db_user_list(struct db *db, const struct user_filter *f,
                 int (*fn)(const struct user *u, void *ctx), void *ctx);

/* Fields of an update; only those with set_* true change. */
struct user_update {
    bool set_email, set_full_name, set_password, set_rank, set_xp, set_missions, set_active,
        set_admin;
    const char *email;
    const char *full_name; /* NULL with set_full_name = clear it */
    const char *hashed_password;
    const char *guild_rank;
    long long experience_points;
    long long missions_completed;
    bool is_active;
    bool is_admin;
};

/* Applies upd to user id. DB_OK, DB_NOTFOUND, DB_DUP (email taken), DB_ERR. */
int db_user_update(struct db *db, long long id, const struct user_update *upd);

/* Deletes user id (progress goes by ON DELETE CASCADE). DB_OK, DB_NOTFOUND, DB_ERR. */
int db_user_delete(struct db *db, long long id);

#endif
