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
};

/* Inserts a user (id and created_at are set on success).
 * DB_OK, DB_DUP (username or email taken) or DB_ERR. */
int db_user_insert(struct db *db, struct user *u);

/* Finds by id / by exact username. DB_OK, DB_NOTFOUND or DB_ERR. */
int db_user_find(struct db *db, long long id, struct user *u);
int db_user_find_by_username(struct db *db, const char *username, struct user *u);

#endif
