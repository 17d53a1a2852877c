/* db: MySQL/MariaDB connection, statement cache and typed binding; see db.h.
 * DESIGN: one connection per responder process (the pool scales by
 * processes). A lost connection (server restarted, killed, timed out) closes
 * every cached statement; a statement outside a transaction is retried once
 * on a fresh connection so a database restart costs no failed request.
 * Reconnect attempts are spaced by the configured interval. */
#include "db.h"

#include <mysql.h>
#include <errmsg.h>
#include <errno.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"

#define DB_MAX_STMTS 96
#define DB_MAX_PARAMS 24
#define DB_MAX_COLS 32

struct stmt_slot {
    const char *sql; /* identity: the address of a static string */
    MYSQL_STMT *st;
};

struct db {
    const struct config *cfg;
    MYSQL *conn;
    bool in_tx;
    unsigned last_errno; /* of the last failed statement (0 after a success) */
    long long last_attempt_ms;
    bool refused; /* the last connect found nothing listening (config_retry_ms) */
    struct stmt_slot stmts[DB_MAX_STMTS];
    size_t nstmts;
    /* the active result (one at a time per process) */
    MYSQL_STMT *active;
    struct db_val *out;
    size_t nout;
    MYSQL_BIND out_bind[DB_MAX_COLS];
    unsigned long out_len[DB_MAX_COLS];
    my_bool out_null[DB_MAX_COLS];
    my_bool out_err[DB_MAX_COLS];
    char errstr[256];
};

static void set_err(struct db *db, const char *what, unsigned code, const char *msg)
{
    static _Thread_local time_t last_log;

    metrics_mysql_error();
    snprintf(db->errstr, sizeof(db->errstr), "%s: %u %s", what, code, msg ? msg : "");
    log_limited(&last_log, 5, LOG_ERR, "mysql %s", db->errstr);
}

int db_library_init(void)
{
    return mysql_library_init(0, NULL, NULL) != 0 ? -1 : 0;
}

void db_library_end(void)
{
    mysql_library_end();
}

void db_thread_end(void)
{
    mysql_thread_end();
}

struct db *db_new(const struct config *cfg)
{
    struct db *db = calloc(1, sizeof(*db));

    if (db != NULL)
        db->cfg = cfg;
    return db;
}

static void disconnect(struct db *db)
{
    for (size_t i = 0; i < db->nstmts; i++)
        mysql_stmt_close(db->stmts[i].st);
    db->nstmts = 0;
    db->active = NULL;
    if (db->conn != NULL)
        mysql_close(db->conn);
    db->conn = NULL;
    db->in_tx = false;
}

void db_free(struct db *db)
{
    if (db == NULL)
        return;
    disconnect(db);
    free(db);
}

static unsigned ms_to_s(int ms)
{
    return (unsigned)((ms + 999) / 1000); /* the client library counts seconds */
}

static int connect_now(struct db *db)
{
    const struct config *c = db->cfg;
    unsigned connect_s = ms_to_s(c->db_connect_timeout_ms), io_s = ms_to_s(c->db_timeout_ms);
    my_bool off = 0;
    MYSQL *m = mysql_init(NULL);
    const char *sock = *c->db_socket ? c->db_socket : NULL;

    if (m == NULL) {
        set_err(db, "init", 0, "out of memory");
        return -1;
    }
    mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &connect_s);
    mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &io_s);
    mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &io_s);
    mysql_options(m, MYSQL_OPT_RECONNECT, &off); /* we reconnect, and re-prepare */
    mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    mysql_options(m, MYSQL_INIT_COMMAND, "SET time_zone = '+00:00'");
    /* READ COMMITTED: a transaction locks the rows it reads FOR UPDATE and
     * no gaps. Under REPEATABLE READ a locking read that finds no progress
     * row gap-locks the index range it falls in, and two completions of
     * neighbouring users then deadlock on each other's gap as they insert.
     * Every write transaction here locks its user row first, which is what
     * serializes writers of one user. guildctl's rebuild and verify ask for
     * REPEATABLE READ explicitly (db_summary.c). */
    mysql_options(m, MYSQL_INIT_COMMAND, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
    if (mysql_real_connect(m, sock ? NULL : c->db_host, c->db_user, c->db_password, c->db_name,
                           (unsigned)c->db_port, sock, CLIENT_FOUND_ROWS) == NULL) {
        /* a unix socket nobody listens on; over TCP the client library
         * connects non-blocking and the reason is lost (errno EINPROGRESS) */
        db->refused = mysql_errno(m) == CR_CONNECTION_ERROR &&
                      (errno == ENOENT || errno == ECONNREFUSED);
        set_err(db, "connect", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        return -1;
    }
    db->conn = m;
    return 0;
}

int db_ensure(struct db *db)
{
    long long now;

    if (db->conn != NULL)
        return 0;
    now = (long long)clock_ms();
    if (db->last_attempt_ms != 0 &&
        now - db->last_attempt_ms < config_retry_ms(db->cfg, db->refused))
        return -1;
    db->last_attempt_ms = now;
    db->refused = false;
    return connect_now(db);
}

/* InnoDB chose this statement's transaction as a deadlock victim, or a lock
 * wait timed out: the transaction was rolled back (1213) or the statement
 * (1205), and running it again is the documented remedy. */
static bool is_conflict(unsigned code)
{
    return code == ER_LOCK_DEADLOCK || code == ER_LOCK_WAIT_TIMEOUT;
}

bool db_is_conflict(const struct db *db)
{
    return is_conflict(db->last_errno);
}

static bool is_conn_lost(unsigned code)
{
    return code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST || code == 2055 ||
           code == ER_CONNECTION_KILLED || code == 4031 || code == CR_CONNECTION_ERROR;
}

int db_ping(struct db *db)
{
    if (db_ensure(db) != 0)
        return -1;
    if (mysql_ping(db->conn) != 0) {
        set_err(db, "ping", mysql_errno(db->conn), mysql_error(db->conn));
        disconnect(db);
        if (db_ensure(db) != 0 || mysql_ping(db->conn) != 0)
            return -1;
    }
    return 0;
}

static MYSQL_STMT *stmt_get(struct db *db, const char *sql, unsigned *code)
{
    MYSQL_STMT *st;
    size_t i;

    *code = 0;
    for (i = 0; i < db->nstmts; i++)
        if (db->stmts[i].sql == sql)
            return db->stmts[i].st;
    if ((st = mysql_stmt_init(db->conn)) == NULL) {
        *code = CR_OUT_OF_MEMORY;
        set_err(db, "stmt_init", *code, "out of memory");
        return NULL;
    }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) {
        *code = mysql_stmt_errno(st);
        set_err(db, "prepare", *code, mysql_stmt_error(st));
        mysql_stmt_close(st);
        return NULL;
    }
    if (db->nstmts < DB_MAX_STMTS) {
        db->stmts[db->nstmts].sql = sql;
        db->stmts[db->nstmts].st = st;
        db->nstmts++;
    } else {
        /* cache full: should not happen with a static set of queries */
        log_msg(LOG_WARN, "statement cache full");
    }
    return st;
}

static void bind_in(MYSQL_BIND *b, unsigned long *len, const struct db_val *v)
{
    memset(b, 0, sizeof(*b));
    if (v->is_null) {
        b->buffer_type = MYSQL_TYPE_NULL;
        return;
    }
    switch (v->type) {
    case DB_INT:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = (void *)&v->i; /* const cast: the library only reads inputs */
        break;
    case DB_DOUBLE:
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = (void *)&v->d;
        break;
    case DB_TEXT:
        *len = v->len;
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = (void *)v->s;
        b->buffer_length = v->len;
        b->length = len;
        break;
    }
}

static void bind_out(struct db *db, size_t i, struct db_val *v)
{
    MYSQL_BIND *b = &db->out_bind[i];

    memset(b, 0, sizeof(*b));
    b->is_null = &db->out_null[i];
    b->error = &db->out_err[i];
    b->length = &db->out_len[i];
    switch (v->type) {
    case DB_INT:
        b->buffer_type = MYSQL_TYPE_LONGLONG;
        b->buffer = &v->i;
        break;
    case DB_DOUBLE:
        b->buffer_type = MYSQL_TYPE_DOUBLE;
        b->buffer = &v->d;
        break;
    case DB_TEXT:
        b->buffer_type = MYSQL_TYPE_STRING;
        b->buffer = v->buf;
        b->buffer_length = v->cap > 0 ? v->cap - 1 : 0;
        break;
    }
}

/* Prepares (or reuses), binds and executes. On a lost connection outside a
 * transaction, reconnects and tries once more. Returns the statement or NULL. */
static MYSQL_STMT *run(struct db *db, const char *sql, const struct db_val *in, size_t nin,
                       unsigned *code)
{
    MYSQL_BIND binds[DB_MAX_PARAMS];
    unsigned long lens[DB_MAX_PARAMS];
    MYSQL_STMT *st;

    if (nin > DB_MAX_PARAMS) {
        set_err(db, "bind", 0, "too many parameters");
        return NULL;
    }
    for (int attempt = 0; attempt < 2; attempt++) {
        *code = CR_SERVER_GONE_ERROR;
        if (db_ensure(db) != 0)
            return NULL;
        db_end(db);
        if ((st = stmt_get(db, sql, code)) != NULL) {
            for (size_t i = 0; i < nin; i++)
                bind_in(&binds[i], &lens[i], &in[i]);
            if (mysql_stmt_bind_param(st, nin ? binds : NULL) == 0 && mysql_stmt_execute(st) == 0) {
                db->last_errno = 0;
                return st;
            }
            *code = mysql_stmt_errno(st);
            db->last_errno = *code;
            if (*code == ER_DUP_ENTRY || *code == ER_NO_REFERENCED_ROW_2)
                snprintf(db->errstr, sizeof(db->errstr), "%s", mysql_stmt_error(st));
            else
                set_err(db, "execute", *code, mysql_stmt_error(st)); /* expected ones aren't logged */
        }
        if (is_conflict(*code) && !db->in_tx)
            continue; /* a statement on its own: InnoDB undid it, run it again once */
        if (!is_conn_lost(*code))
            return NULL;
        bool was_in_tx = db->in_tx;
        disconnect(db);
        db->last_attempt_ms = 0; /* the server was reachable a moment ago: try at once */
        if (was_in_tx)
            return NULL; /* the transaction is gone; the caller must fail it */
    }
    return NULL;
}

int db_query(struct db *db, const char *sql, const struct db_val *in, size_t nin,
             struct db_val *out, size_t nout)
{
    MYSQL_STMT *st;
    unsigned code;

    if (nout > DB_MAX_COLS || (st = run(db, sql, in, nin, &code)) == NULL)
        return DB_ERR;
    for (size_t i = 0; i < nout; i++)
        bind_out(db, i, &out[i]);
    if (mysql_stmt_bind_result(st, db->out_bind) != 0 || mysql_stmt_store_result(st) != 0) {
        set_err(db, "result", mysql_stmt_errno(st), mysql_stmt_error(st));
        mysql_stmt_free_result(st);
        mysql_stmt_reset(st);
        return DB_ERR;
    }
    db->active = st;
    db->out = out;
    db->nout = nout;
    return DB_OK;
}

int db_next(struct db *db)
{
    int rc;

    if (db->active == NULL)
        return DB_ERR;
    rc = mysql_stmt_fetch(db->active);
    if (rc == MYSQL_NO_DATA)
        return DB_NOTFOUND;
    if (rc == 1) {
        set_err(db, "fetch", mysql_stmt_errno(db->active), mysql_stmt_error(db->active));
        return DB_ERR;
    }
    for (size_t i = 0; i < db->nout; i++) {
        struct db_val *v = &db->out[i];

        v->is_null = db->out_null[i] != 0;
        if (v->type != DB_TEXT)
            continue;
        if (v->is_null) {
            if (v->cap > 0)
                v->buf[0] = '\0';
            v->len = 0;
            continue;
        }
        if (db->out_len[i] >= v->cap) { /* MYSQL_DATA_TRUNCATED: never serve half a value */
            set_err(db, "fetch", 0, "column value longer than its buffer");
            return DB_ERR;
        }
        v->buf[db->out_len[i]] = '\0';
        v->len = db->out_len[i];
    }
    return DB_OK;
}

void db_end(struct db *db)
{
    if (db->active == NULL)
        return;
    mysql_stmt_free_result(db->active);
    mysql_stmt_reset(db->active);
    db->active = NULL;
    db->out = NULL;
    db->nout = 0;
}

int db_query_row(struct db *db, const char *sql, const struct db_val *in, size_t nin,
                 struct db_val *out, size_t nout)
{
    int rc = db_query(db, sql, in, nin, out, nout);

    if (rc != DB_OK)
        return rc;
    rc = db_next(db);
    db_end(db);
    return rc;
}

int db_exec(struct db *db, const char *sql, const struct db_val *in, size_t nin,
            unsigned long long *affected, unsigned long long *insert_id)
{
    MYSQL_STMT *st;
    unsigned code;

    if ((st = run(db, sql, in, nin, &code)) == NULL)
        return code == ER_DUP_ENTRY ? DB_DUP : code == ER_NO_REFERENCED_ROW_2 ? DB_NOTFOUND : DB_ERR;
    if (affected != NULL)
        *affected = mysql_stmt_affected_rows(st);
    if (insert_id != NULL)
        *insert_id = mysql_stmt_insert_id(st);
    mysql_stmt_reset(st);
    return DB_OK;
}

int db_exec_uncached(struct db *db, const char *sql)
{
    MYSQL_STMT *st;
    int rc = DB_ERR;

    if (db_ensure(db) != 0)
        return DB_ERR;
    db_end(db);
    if ((st = mysql_stmt_init(db->conn)) == NULL)
        return DB_ERR;
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0 || mysql_stmt_execute(st) != 0)
        set_err(db, "migration statement", mysql_stmt_errno(st), mysql_stmt_error(st));
    else
        rc = DB_OK;
    mysql_stmt_close(st);
    return rc;
}

/* BEGIN/COMMIT go through prepared statements as well: one code path. */
static const char SQL_BEGIN[] = "START TRANSACTION";
static const char SQL_COMMIT[] = "COMMIT";
static const char SQL_ROLLBACK[] = "ROLLBACK";

#define DB_TX_ATTEMPTS 5

int db_transaction(struct db *db, int (*body)(struct db *db, void *ctx), void *ctx)
{
    int rc = DB_ERR;
    bool conflict;
    struct timespec ts;

    for (int attempt = 0; attempt < DB_TX_ATTEMPTS; attempt++) {
        if (db_begin(db) != DB_OK)
            return DB_ERR;
        rc = body(db, ctx);
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

int db_begin(struct db *db)
{
    if (db_exec(db, SQL_BEGIN, NULL, 0, NULL, NULL) != DB_OK)
        return DB_ERR;
    db->in_tx = true;
    return DB_OK;
}

int db_commit(struct db *db)
{
    int rc = db_exec(db, SQL_COMMIT, NULL, 0, NULL, NULL);

    db->in_tx = false;
    return rc == DB_OK ? DB_OK : DB_ERR;
}

void db_rollback(struct db *db)
{
    if (db->conn != NULL && db->in_tx)
        (void)db_exec(db, SQL_ROLLBACK, NULL, 0, NULL, NULL);
    db->in_tx = false;
}

const char *db_errstr(const struct db *db)
{
    return db->errstr;
}
