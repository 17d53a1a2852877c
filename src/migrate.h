/* migrate: applies sql/NNN_*.sql files in order, once each, recording them in
 * schema_migrations. Safe to run twice and from several hosts in turn. */
#ifndef GUILD_MIGRATE_H
#define GUILD_MIGRATE_H

struct db;

/* Applies every pending migration found in dir. Returns the number applied,
 * or -1 on failure (reason printed to stderr). */
int migrate_run(struct db *db, const char *dir);

/* Splits sql into statements at ';' that end a line (migrations contain no
 * procedures); calls fn for each non-empty statement. Returns 0, or the first
 * non-zero fn result. Exposed for tests. */
int migrate_split(char *sql, int (*fn)(const char *stmt, void *ctx), void *ctx);

#endif
