/* migrate: see migrate.h. A file counts as applied once all its statements
 * ran; DDL commits implicitly in MySQL, so each statement of a migration must
 * be idempotent on its own (CREATE TABLE IF NOT EXISTS, ...). Every app host's
 * unit runs `guildctl migrate` before its pool starts, so runs are serialised
 * by a MariaDB named lock: a second host waits, then finds everything applied,
 * instead of racing the first to record a version (a duplicate-key failure). */
#include "migrate.h"

#include <ctype.h>
#include <stdbool.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char SQL_TABLE[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY, "
    "applied_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP) ENGINE=InnoDB";
static const char SQL_APPLIED[] = "SELECT COUNT(*) FROM schema_migrations WHERE version = ?";
static const char SQL_RECORD[] = "INSERT INTO schema_migrations (version) VALUES (?)";
/* held for the connection's life or until released; 1 = taken, 0 = timed out */
static const char SQL_LOCK[] = "SELECT GET_LOCK('guild_migrate', 120)";
static const char SQL_UNLOCK[] = "SELECT RELEASE_LOCK('guild_migrate')";

static int is_migration(const char *name)
{
    size_t n = strlen(name);

    return n > 8 && isdigit((unsigned char)name[0]) && isdigit((unsigned char)name[1]) &&
           isdigit((unsigned char)name[2]) && name[3] == '_' && strcmp(name + n - 4, ".sql") == 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* True when only blanks follow s up to the end of its line. */
static bool ends_line(const char *s)
{
    s += strspn(s, " \t");
    return *s == '\n' || *s == '\r' || *s == '\0';
}

int migrate_split(char *sql, int (*fn)(const char *stmt, void *ctx), void *ctx)
{
    char *start = sql, *p;
    int rc;

    for (p = sql;; p++) {
        bool end = *p == '\0';
        if (end || (*p == ';' && ends_line(p + 1))) {
            char *s = start, *e = p;
            *p = '\0';
            /* drop leading blank lines and "--" comment lines */
            while (*s) {
                while (isspace((unsigned char)*s))
                    s++;
                if (s[0] == '-' && s[1] == '-') {
                    while (*s && *s != '\n')
                        s++;
                    continue;
                }
                break;
            }
            while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
            if (*s && (rc = fn(s, ctx)) != 0)
                return rc;
            if (end)
                return 0;
            start = p + 1;
        }
    }
}

static int exec_stmt(const char *stmt, void *ctx)
{
    return db_exec_uncached(ctx, stmt) == DB_OK ? 0 : -1;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (f == NULL)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static int apply_one(struct db *db, const char *dir, const char *name)
{
    struct db_val in[] = {DB_IN_TEXT(name)}, out[] = {DB_OUT_INT};
    char path[4096];
    char *sql;
    int rc;

    if (db_query_row(db, SQL_APPLIED, in, 1, out, 1) != DB_OK) {
        fprintf(stderr, "migrate: %s\n", db_errstr(db));
        return -1;
    }
    if (out[0].i > 0)
        return 0;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((sql = slurp(path)) == NULL) {
        fprintf(stderr, "migrate: cannot read %s\n", path);
        return -1;
    }
    rc = migrate_split(sql, exec_stmt, db);
    free(sql);
    if (rc != 0 || db_exec(db, SQL_RECORD, in, 1, NULL, NULL) != DB_OK) {
        fprintf(stderr, "migrate: %s failed: %s\n", name, db_errstr(db));
        return -1;
    }
    printf("applied %s\n", name);
    return 1;
}

static void unlock(struct db *db)
{
    struct db_val got[] = {DB_OUT_INT};

    (void)db_query_row(db, SQL_UNLOCK, NULL, 0, got, 1); /* the session's end frees it too */
}

int migrate_run(struct db *db, const char *dir)
{
    DIR *d;
    struct dirent *e;
    char *names[1024];
    size_t n = 0, i;
    int applied = 0, rc = 0;

    if (db_exec(db, SQL_TABLE, NULL, 0, NULL, NULL) != DB_OK) {
        fprintf(stderr, "migrate: cannot reach the database: %s\n", db_errstr(db));
        return -1;
    }
    {
        struct db_val got[] = {DB_OUT_INT};
        if (db_query_row(db, SQL_LOCK, NULL, 0, got, 1) != DB_OK || got[0].i != 1) {
            fprintf(stderr, "migrate: another host's migration did not finish within 120 s\n");
            return -1;
        }
    }
    if ((d = opendir(dir)) == NULL) {
        fprintf(stderr, "migrate: cannot open %s\n", dir);
        unlock(db);
        return -1;
    }
    while ((e = readdir(d)) != NULL && n < sizeof(names) / sizeof(names[0]))
        if (is_migration(e->d_name) && (names[n] = strdup(e->d_name)) != NULL)
            n++;
    closedir(d);
    qsort(names, n, sizeof(names[0]), cmp_names);
    for (i = 0; i < n && rc >= 0; i++) {
        rc = apply_one(db, dir, names[i]);
        applied += rc > 0;
    }
    for (i = 0; i < n; i++)
        free(names[i]);
    unlock(db);
    return rc < 0 ? -1 : applied;
}
