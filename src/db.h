/* db: the process's one MySQL/MariaDB connection, prepared statements only.
 * Opens lazily and reconnects by itself, never more than once per
 * reconnect interval while the server is down, so a dead database costs a
 * request microseconds, not a connect timeout. Statements are prepared once
 * per connection and cached by their SQL text's address (SQL lives in static
 * const strings next to the one function that uses it).
 * One statement is active at a time: db_query() ... db_next() ... db_end(). */
#ifndef GUILD_DB_H
#define GUILD_DB_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct db;

enum db_rc { DB_OK = 0, DB_NOTFOUND = 1, DB_DUP = 2, DB_ERR = -1 };

enum db_type { DB_INT, DB_DOUBLE, DB_TEXT };

/* A parameter (in) or a column (out).
 * In:  DB_INT uses i, DB_DOUBLE d, DB_TEXT s/len; is_null sends NULL.
 * Out: DB_INT fills i, DB_DOUBLE d, DB_TEXT writes a NUL-terminated string
 *      into buf (cap bytes; a longer value is an error, never truncated);
 *      is_null tells SQL NULL. */
struct db_val {
    enum db_type type;
    bool is_null;
    long long i;
    double d;
    const char *s;
    size_t len;
    char *buf;
    size_t cap;
};

#define DB_IN_INT(v) ((struct db_val){.type = DB_INT, .i = (v)})
#define DB_IN_DOUBLE(v) ((struct db_val){.type = DB_DOUBLE, .d = (v)})
#define DB_IN_TEXT(str) ((struct db_val){.type = DB_TEXT, .s = (str), .len = strlen(str)})
#define DB_IN_NULL ((struct db_val){.type = DB_TEXT, .is_null = true})
#define DB_OUT_INT ((struct db_val){.type = DB_INT})
#define DB_OUT_DOUBLE ((struct db_val){.type = DB_DOUBLE})
#define DB_OUT_TEXT(b, n) ((struct db_val){.type = DB_TEXT, .buf = (b), .cap = (n)})

/* Process-wide client library setup and teardown (once each). 0 on success. */
int db_library_init(void);
void db_library_end(void);
/* True when the last failed statement lost a deadlock or a lock wait
 * (InnoDB rolled its transaction back): run the whole transaction again. */
bool db_is_conflict(const struct db *db);

/* Frees the client library's per-thread state; a worker thread calls it last. */
void db_thread_end(void);

/* Allocates a handle; does not connect. NULL only on out-of-memory. */
struct db *db_new(const struct config *cfg);
/* Closes the connection and frees everything; NULL is a no-op. */
void db_free(struct db *db);

/* Connects if needed (rate-limited). Returns 0 when a connection is open. */
int db_ensure(struct db *db);
/* Round trip to the server (for /health). 0 when it answered. */
int db_ping(struct db *db);

/* Runs a statement that returns rows; bind the result columns to out[].
 * Returns DB_OK (then call db_next until DB_NOTFOUND, then db_end) or DB_ERR. */
int db_query(struct db *db, const char *sql, const struct db_val *in, size_t nin,
             struct db_val *out, size_t nout);
/* Fetches the next row into the out[] given to db_query: DB_OK, DB_NOTFOUND
 * (no more rows) or DB_ERR. */
int db_next(struct db *db);
/* Releases the active result; safe to call twice. */
void db_end(struct db *db);

/* db_query + first row + db_end, for single-row lookups: DB_OK, DB_NOTFOUND, DB_ERR. */
int db_query_row(struct db *db, const char *sql, const struct db_val *in, size_t nin,
                 struct db_val *out, size_t nout);

/* Runs a statement without a result set. affected/insert_id may be NULL.
 * Returns DB_OK, DB_DUP (unique key violation), DB_NOTFOUND (a foreign key's
 * parent row is missing) or DB_ERR. */
int db_exec(struct db *db, const char *sql, const struct db_val *in, size_t nin,
            unsigned long long *affected, unsigned long long *insert_id);

/* Prepares, runs and closes a parameterless statement whose text is not a
 * static string (migrations): never cached. DB_OK or DB_ERR. */
int db_exec_uncached(struct db *db, const char *sql);

/* Transactions on the process's connection. begin returns DB_OK or DB_ERR;
 * rollback is best effort and safe to call after any failure. */
int db_begin(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Runs body(db, ctx) in a transaction and commits it when body returns
 * DB_OK; any other result rolls back and is returned. A transaction InnoDB
 * picked as a deadlock or lock-wait victim is run again (up to 5 times,
 * after a short jittered pause) instead of answering a 503 for a write the
 * client did nothing wrong in: body must therefore start from scratch on
 * every call. */
int db_transaction(struct db *db, int (*body)(struct db *db, void *ctx), void *ctx);

/* The last error as text (never includes parameter values). */
const char *db_errstr(const struct db *db);

#endif
