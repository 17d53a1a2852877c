/* redis_conn: hiredis connection with timeouts and throttled reconnects;
 * see redis_conn.h. After any I/O error or timeout hiredis leaves the context
 * unusable, so it is freed at once and a later call reconnects. With Redis
 * Sentinel configured for the role, a connect first asks the Sentinels where
 * the master is (connect_via_sentinels); a reply saying the server is no
 * longer the writable master (READONLY, MASTERDOWN, LOADING, NOREPLICAS)
 * drops the connection, so the next call rediscovers; and an open
 * connection's master is confirmed with a Sentinel once per
 * GUILD_REDIS_SENTINEL_CHECK_MS (recheck_master). Without Sentinels the
 * command path does no extra work but one branch per reply. */
#include "redis_conn.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "config.h"
#include "log.h"
#include "metrics.h"
#include "redis_sentinel.h"

struct redis_conn {
    const char *role;
    const struct redis_settings *rs;
    const struct config *cfg;
    redisContext *ctx;
    long long last_attempt_ms;
    bool refused;         /* the last connect found nothing listening (config_retry_ms) */
    long long last_ok_ms; /* when the connection last answered */
    redis_conn_hook on_connect; /* NULL: none */
    void *on_connect_arg;
    /* Sentinel discovery; n_sentinels 0: the fixed host:port or socket */
    size_t n_sentinels;
    size_t sticky; /* the Sentinel that answered last: asked first next time */
    long long checked_ms; /* when a Sentinel last confirmed the master's address */
    struct redis_sentinel_addr master; /* connected to last; host "" = none yet */
    struct redis_sentinel_addr sentinels[REDIS_SENTINEL_MAX];
};

/* A connection idle this long may have been closed by a Redis restart
 * while nobody used it: a broken pipe or EOF on its first command is then
 * retried once on a fresh connection. With many workers per process, most
 * connections sit idle through a restart. */
#define REDIS_IDLE_RETRY_MS 1000

static struct timeval tv_ms(int ms)
{
    struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
    return tv;
}

static void log_failure(const struct redis_conn *rc, const char *what, const char *detail)
{
    static _Thread_local time_t last_log;

    metrics_redis_error(rc->role);
    if (rc->n_sentinels > 0)
        log_limited(&last_log, 5, LOG_ERR, "redis %s (master %s at %s:%d) %s: %s", rc->role,
                    rc->rs->master, *rc->master.host ? rc->master.host : "?", rc->master.port,
                    what, detail ? detail : "");
    else if (*rc->rs->socket)
        log_limited(&last_log, 5, LOG_ERR, "redis %s (%s) %s: %s", rc->role, rc->rs->socket, what,
                    detail ? detail : "");
    else
        log_limited(&last_log, 5, LOG_ERR, "redis %s (%s:%d) %s: %s", rc->role, rc->rs->host,
                    rc->rs->port, what, detail ? detail : "");
}

struct redis_conn *redis_conn_new(const char *role, const struct redis_settings *rs,
                                  const struct config *cfg)
{
    struct redis_conn *rc = calloc(1, sizeof(*rc));

    if (rc == NULL)
        return NULL;
    rc->role = role;
    rc->rs = rs;
    rc->cfg = cfg;
    if (rs->sentinels != NULL && *rs->sentinels) {
        char bad[8];
        /* config_load validated the list; a failure here leaves n 0 */
        if (redis_sentinel_list_parse(rs->sentinels, rc->sentinels, REDIS_SENTINEL_MAX,
                                      &rc->n_sentinels, bad, sizeof(bad)) != 0)
            rc->n_sentinels = 0;
    }
    return rc;
}

static void drop(struct redis_conn *rc)
{
    if (rc->ctx != NULL)
        redisFree(rc->ctx);
    rc->ctx = NULL;
}

void redis_conn_free(struct redis_conn *rc)
{
    if (rc == NULL)
        return;
    drop(rc);
    free(rc);
}

/* AUTH and SELECT right after connecting; 0 on success. */
static int handshake(struct redis_conn *rc)
{
    redisReply *r;
    char db[16];

    if (*rc->rs->password) {
        const char *argv[] = {"AUTH", rc->rs->password};
        r = redisCommandArgv(rc->ctx, 2, argv, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            log_failure(rc, "auth", r ? "rejected" : rc->ctx->errstr);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    if (rc->rs->db != 0) {
        snprintf(db, sizeof(db), "%d", rc->rs->db);
        const char *argv[] = {"SELECT", db};
        r = redisCommandArgv(rc->ctx, 2, argv, NULL);
        if (r == NULL || r->type == REDIS_REPLY_ERROR) {
            log_failure(rc, "select", r ? r->str : rc->ctx->errstr);
            freeReplyObject(r);
            return -1;
        }
        freeReplyObject(r);
    }
    return 0;
}

static int connect_now(struct redis_conn *rc, long long now);
static int finish_connect(struct redis_conn *rc);
static int run_hook(struct redis_conn *rc);

static void recheck_master(struct redis_conn *rc, long long now);

int redis_conn_ensure(struct redis_conn *rc)
{
    long long now;

    if (rc->ctx != NULL) {
        if (rc->n_sentinels == 0 || rc->cfg->redis_sentinel_check_ms == 0)
            return 0;
        now = (long long)clock_ms();
        if (now - rc->checked_ms >= rc->cfg->redis_sentinel_check_ms)
            recheck_master(rc, now);
        return rc->ctx != NULL ? 0 : -1;
    }
    now = (long long)clock_ms();
    if (rc->last_attempt_ms != 0 &&
        now - rc->last_attempt_ms < config_retry_ms(rc->cfg, rc->refused))
        return -1;
    return connect_now(rc, now);
}

/* True when the command that just failed on rc can be sent again on a new
 * connection: the old one had been idle (so the failure is a Redis restart
 * seen late, not a Redis dying under the command) and was closed under us. */
static bool stale_connection(const struct redis_conn *rc, long long idle_since_ms)
{
    int err = rc->ctx->err, e = errno;

    if (idle_since_ms == 0 || (long long)clock_ms() - idle_since_ms < REDIS_IDLE_RETRY_MS)
        return false;
    return err == REDIS_ERR_EOF || (err == REDIS_ERR_IO && (e == EPIPE || e == ECONNRESET));
}

static int connect_via_sentinels(struct redis_conn *rc);

static int connect_now(struct redis_conn *rc, long long now)
{
    rc->last_attempt_ms = now;
    rc->refused = false;
    if (rc->n_sentinels > 0)
        return connect_via_sentinels(rc) == 0 ? run_hook(rc) : -1;
    /* a unix socket skips the kernel's TCP loopback path: on a 2-core host
     * that path was most of Redis' CPU under the cache-hit load */
    if (*rc->rs->socket)
        rc->ctx = redisConnectUnixWithTimeout(rc->rs->socket,
                                              tv_ms(rc->cfg->redis_connect_timeout_ms));
    else
        rc->ctx = redisConnectWithTimeout(rc->rs->host, rc->rs->port,
                                          tv_ms(rc->cfg->redis_connect_timeout_ms));
    return finish_connect(rc) == 0 ? run_hook(rc) : -1;
}

/* The rest of a connect, once redisConnect* returned rc->ctx: timeouts,
 * AUTH and SELECT. 0, or -1 with the context dropped. */
static int finish_connect(struct redis_conn *rc)
{
    if (rc->ctx == NULL || rc->ctx->err) {
        /* Behind Sentinels a refusal is the old master, gone until the
         * promotion: asking them again sooner would only add load there. */
        rc->refused = rc->ctx != NULL && rc->ctx->err == REDIS_ERR_IO && rc->n_sentinels == 0 &&
                      (errno == ECONNREFUSED || errno == ENOENT);
        log_failure(rc, "connect", rc->ctx ? rc->ctx->errstr : "out of memory");
        drop(rc);
        return -1;
    }
    if (redisSetTimeout(rc->ctx, tv_ms(rc->cfg->redis_timeout_ms)) != REDIS_OK ||
        handshake(rc) != 0) {
        drop(rc);
        return -1;
    }
    return 0;
}

/* The role's on-connect check, once the connection is the one to use. */
static int run_hook(struct redis_conn *rc)
{
    if (rc->on_connect == NULL || rc->on_connect(rc->ctx, rc->on_connect_arg) == 0)
        return 0;
    log_failure(rc, "connect check", rc->ctx->err ? rc->ctx->errstr : "refused");
    drop(rc);
    return -1;
}

void redis_conn_on_connect(struct redis_conn *rc, redis_conn_hook hook, void *arg)
{
    rc->on_connect = hook;
    rc->on_connect_arg = arg;
}

struct redisReply *redis_conn_command(struct redis_conn *rc, int argc, const char **argv,
                                      const size_t *lens)
{
    const int argcs[1] = {argc};
    const char **argvs[1] = {argv};
    const size_t *lensv[1] = {lens};
    redisReply *r = NULL;

    if (redis_conn_pipeline(rc, 1, argcs, argvs, lens ? lensv : NULL, &r) != 0)
        return NULL;
    return r;
}

/* Writes unsigned v in decimal at p; returns the length. */
static size_t put_uint(char *p, size_t v)
{
    char tmp[24];
    size_t n = 0, i;

    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    for (i = 0; i < n; i++)
        p[i] = tmp[n - 1 - i];
    return n;
}

/* The RESP encoding of n commands, in one malloc'd buffer (NULL on
 * out-of-memory). hiredis formats each argument with sdscatfmt and an sds
 * per command: a tenth of a cache hit's instructions; this is one pass. */
static char *encode(size_t n, const int *argcs, const char ***argvs, const size_t **lens,
                    size_t *out_len)
{
    size_t total = 0, at = 0;
    char *buf;

    for (size_t i = 0; i < n; i++) {
        total += 16;
        for (int k = 0; k < argcs[i]; k++)
            total += 24 + (lens && lens[i] ? lens[i][k] : strlen(argvs[i][k]));
    }
    if ((buf = malloc(total)) == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        buf[at++] = '*';
        at += put_uint(buf + at, (size_t)argcs[i]);
        buf[at++] = '\r';
        buf[at++] = '\n';
        for (int k = 0; k < argcs[i]; k++) {
            size_t len = lens && lens[i] ? lens[i][k] : strlen(argvs[i][k]);
            buf[at++] = '$';
            at += put_uint(buf + at, len);
            buf[at++] = '\r';
            buf[at++] = '\n';
            memcpy(buf + at, argvs[i][k], len);
            at += len;
            buf[at++] = '\r';
            buf[at++] = '\n';
        }
    }
    *out_len = at;
    return buf;
}

/* Appends n commands and writes them all out. 0, or -1 with the connection
 * still open (the caller drops it). */
static int write_all(struct redis_conn *rc, size_t n, const int *argcs, const char ***argvs,
                     const size_t **lens)
{
    size_t len;
    char *cmd = encode(n, argcs, argvs, lens, &len);
    int done = 0, ok;

    if (cmd == NULL)
        return -1;
    ok = redisAppendFormattedCommand(rc->ctx, cmd, len) == REDIS_OK;
    free(cmd);
    if (!ok)
        return -1;
    while (!done)
        if (redisBufferWrite(rc->ctx, &done) != REDIS_OK)
            return -1;
    return 0;
}

/* A reply said this server is not the writable master any more (it was
 * demoted, lost its master, or is loading after a restart): the replies
 * still go to the caller as errors, so its degrade path runs, but the
 * connection is dropped so that the next call asks the Sentinels again
 * (at most once per reconnect interval, as after any failure). */
static void drop_after_failover_reply(struct redis_conn *rc, struct redisReply **replies,
                                      size_t n)
{
    const char *detail = "";

    for (size_t i = 0; i < n && *detail == '\0'; i++)
        if (redis_sentinel_is_failover_error(replies[i]))
            detail = replies[i]->str;
    log_failure(rc, "not the master, rediscovering", detail);
    drop(rc);
}

/* Reads n replies; 0, or -1 with every reply freed. A reply that says the
 * server is no longer the master (with Sentinels) drops the connection after
 * all n are read. */
static int read_all(struct redis_conn *rc, size_t n, struct redisReply **replies)
{
    size_t i;
    bool not_master = false;

    for (i = 0; i < n; i++) {
        void *r = NULL;
        if (redisGetReply(rc->ctx, &r) != REDIS_OK)
            goto fail;
        replies[i] = r;
        /* the only cost to a role without Sentinels: one branch per reply */
        if (rc->n_sentinels > 0 && redis_sentinel_is_failover_error(r))
            not_master = true;
    }
    if (not_master)
        drop_after_failover_reply(rc, replies, n);
    return 0;
fail:
    for (i = 0; i < n; i++) {
        freeReplyObject(replies[i]);
        replies[i] = NULL;
    }
    return -1;
}

/* Sends n commands and reads their replies; 0, or -1 with the connection
 * still open (the caller drops it) and every reply freed. */
static int pipeline_once(struct redis_conn *rc, size_t n, const int *argcs, const char ***argvs,
                         const size_t **lens, struct redisReply **replies)
{
    if (write_all(rc, n, argcs, argvs, lens) != 0)
        return -1;
    return read_all(rc, n, replies);
}

int redis_conn_send(struct redis_conn *rc, size_t n, const int *argcs, const char ***argvs,
                    const size_t **lens)
{
    if (redis_conn_ensure(rc) != 0)
        return -1;
    if (write_all(rc, n, argcs, argvs, lens) == 0)
        return 0;
    /* nothing was read yet: a connection closed under us while idle can be
     * replaced and the commands written again */
    if (stale_connection(rc, rc->last_ok_ms)) {
        drop(rc);
        rc->last_ok_ms = 0;
        if (connect_now(rc, (long long)clock_ms()) != 0)
            return -1;
        if (write_all(rc, n, argcs, argvs, lens) == 0)
            return 0;
    }
    log_failure(rc, "send", rc->ctx->errstr);
    drop(rc);
    return -1;
}

int redis_conn_recv(struct redis_conn *rc, size_t n, struct redisReply **replies)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (rc->ctx == NULL)
        return -1;
    if (read_all(rc, n, replies) != 0) {
        log_failure(rc, "recv", rc->ctx->errstr);
        drop(rc);
        return -1;
    }
    rc->last_ok_ms = (long long)clock_ms();
    return 0;
}

int redis_conn_pipeline(struct redis_conn *rc, size_t n, const int *argcs, const char ***argvs,
                        const size_t **lens, struct redisReply **replies)
{
    for (size_t i = 0; i < n; i++)
        replies[i] = NULL;
    if (redis_conn_ensure(rc) != 0)
        return -1;
    if (pipeline_once(rc, n, argcs, argvs, lens, replies) == 0)
        goto ok;
    if (stale_connection(rc, rc->last_ok_ms)) {
        drop(rc);
        rc->last_ok_ms = 0;
        if (connect_now(rc, (long long)clock_ms()) != 0)
            return -1;
        if (pipeline_once(rc, n, argcs, argvs, lens, replies) == 0)
            goto ok;
    }
    log_failure(rc, "pipeline", rc->ctx->errstr);
    drop(rc); /* replies may be half-read: the connection cannot be reused */
    return -1;
ok:
    rc->last_ok_ms = (long long)clock_ms();
    return 0;
}

int redis_conn_ping(struct redis_conn *rc)
{
    const char *argv[] = {"PING"};
    redisReply *r = redis_conn_command(rc, 1, argv, NULL);
    int ok = r != NULL && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;

    freeReplyObject(r);
    return ok ? 0 : -1;
}

/* The number after "\n<field>:" in an INFO reply; -1 when absent. */
static int info_field(const char *info, const char *field, unsigned long long *out)
{
    size_t n = strlen(field);
    char *end;

    for (const char *p = info; (p = strchr(p, '\n')) != NULL; p++) {
        if (strncmp(p + 1, field, n) == 0 && p[1 + n] == ':') {
            *out = strtoull(p + 2 + n, &end, 10);
            return end == p + 2 + n ? -1 : 0;
        }
    }
    return -1;
}

int redis_conn_memory(struct redis_conn *rc, unsigned long long *used, unsigned long long *max)
{
    const char *argv[] = {"INFO", "memory"};
    redisReply *r = redis_conn_command(rc, 2, argv, NULL);
    int ret = -1;

    if (r != NULL && r->type == REDIS_REPLY_STRING && info_field(r->str, "used_memory", used) == 0 &&
        info_field(r->str, "maxmemory", max) == 0)
        ret = 0;
    freeReplyObject(r);
    return ret;
}

void redis_script_init(struct redis_script *script)
{
    unsigned char md[SHA_DIGEST_LENGTH];

    SHA1((const unsigned char *)script->text, strlen(script->text), md);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(script->sha + 2 * i, 3, "%02x", md[i]);
}

#define EVAL_MAX_ARGS 64

struct redisReply *redis_conn_eval(struct redis_conn *rc, const struct redis_script *script,
                                   int numkeys, int nargs, const char **argv, const size_t *lens)
{
    const char *av[EVAL_MAX_ARGS + 3];
    size_t lv[EVAL_MAX_ARGS + 3];
    char nk[16];
    redisReply *r;

    if (nargs > EVAL_MAX_ARGS)
        return NULL;
    snprintf(nk, sizeof(nk), "%d", numkeys);
    av[0] = "EVALSHA";
    av[1] = script->sha;
    av[2] = nk;
    for (int i = 0; i < 3; i++)
        lv[i] = strlen(av[i]);
    for (int i = 0; i < nargs; i++) {
        av[3 + i] = argv[i];
        lv[3 + i] = lens ? lens[i] : strlen(argv[i]);
    }
    r = redis_conn_command(rc, nargs + 3, av, lv);
    if (r != NULL && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        av[0] = "EVAL";
        av[1] = script->text;
        lv[0] = 4;
        lv[1] = strlen(script->text);
        r = redis_conn_command(rc, nargs + 3, av, lv);
    }
    return r;
}

bool redis_conn_is_up(const struct redis_conn *rc)
{
    return rc->ctx != NULL;
}

const char *redis_conn_role(const struct redis_conn *rc)
{
    return rc->role;
}

/* ---- Sentinel discovery ---- */

/* Asks one Sentinel for the master's address. 0 with *out filled. */
static int ask_sentinel(struct redis_conn *rc, const struct redis_sentinel_addr *sentinel,
                        struct redis_sentinel_addr *out)
{
    const char *argv[] = {"SENTINEL", "get-master-addr-by-name", rc->rs->master};
    redisContext *sc = redisConnectWithTimeout(sentinel->host, sentinel->port,
                                               tv_ms(rc->cfg->redis_connect_timeout_ms));
    redisReply *r = NULL;
    int ret = -1;

    if (sc == NULL || sc->err) {
        log_failure(rc, "sentinel connect", sc ? sc->errstr : "out of memory");
        goto out;
    }
    if (redisSetTimeout(sc, tv_ms(rc->cfg->redis_timeout_ms)) != REDIS_OK ||
        (r = redisCommandArgv(sc, 3, argv, NULL)) == NULL) {
        log_failure(rc, "sentinel query", sc->errstr);
        goto out;
    }
    if ((ret = redis_sentinel_master_parse(r, out)) != 0)
        log_failure(rc, "sentinel query", r->type == REDIS_REPLY_ERROR ? r->str
                                                                        : "master name unknown");
out:
    freeReplyObject(r);
    if (sc != NULL)
        redisFree(sc);
    return ret;
}

/* ROLE on the fresh connection says "master". */
static bool connected_to_master(struct redis_conn *rc)
{
    const char *argv[] = {"ROLE"};
    redisReply *r = redisCommandArgv(rc->ctx, 1, argv, NULL);
    bool ok = redis_sentinel_role_is_master(r);

    if (!ok)
        log_failure(rc, "role", r == NULL                        ? rc->ctx->errstr
                                : r->type == REDIS_REPLY_ERROR ? r->str
                                                               : "not a master");
    freeReplyObject(r);
    return ok;
}

/* Remembers where the master is; a change of address is logged (at most
 * every 5 s per thread) and counted. */
static void note_master(struct redis_conn *rc, const struct redis_sentinel_addr *m)
{
    static _Thread_local time_t last_log;

    if (strcmp(rc->master.host, m->host) == 0 && rc->master.port == m->port)
        return;
    if (*rc->master.host) {
        metrics_redis_master_switch(rc->role);
        log_limited(&last_log, 5, LOG_WARN, "redis %s: master %s switched from %s:%d to %s:%d",
                    rc->role, rc->rs->master, rc->master.host, rc->master.port, m->host,
                    m->port);
    } else {
        log_limited(&last_log, 5, LOG_INFO, "redis %s: master %s is at %s:%d", rc->role,
                    rc->rs->master, m->host, m->port);
    }
    rc->master = *m;
}

/* Each Sentinel in turn, from the one that answered last: its answer is
 * connected to (AUTH, SELECT) and must say "master" to ROLE, else the next
 * Sentinel's answer is tried. 0 with rc->ctx open, or -1. */
static int connect_via_sentinels(struct redis_conn *rc)
{
    for (size_t k = 0; k < rc->n_sentinels; k++) {
        size_t i = (rc->sticky + k) % rc->n_sentinels;
        struct redis_sentinel_addr m;

        if (ask_sentinel(rc, &rc->sentinels[i], &m) != 0)
            continue;
        rc->ctx = redisConnectWithTimeout(m.host, m.port, tv_ms(rc->cfg->redis_connect_timeout_ms));
        if (finish_connect(rc) != 0)
            continue;
        if (!connected_to_master(rc)) {
            drop(rc);
            continue;
        }
        rc->sticky = i;
        rc->checked_ms = (long long)clock_ms();
        note_master(rc, &m);
        return 0;
    }
    return -1;
}

/* An open connection's master, confirmed with one Sentinel at most once per
 * GUILD_REDIS_SENTINEL_CHECK_MS. Why: after a planned failover (SENTINEL FAILOVER) or a
 * partition, the old master stays writable until Sentinel reconfigures it,
 * about 8 s later, and then drops every write it took meanwhile when it
 * resyncs from the new one; measured, most acknowledged sessions of that
 * window were lost. A Sentinel that does not answer keeps the connection
 * (the next check asks the next Sentinel). */
static void recheck_master(struct redis_conn *rc, long long now)
{
    struct redis_sentinel_addr m;

    rc->checked_ms = now;
    if (ask_sentinel(rc, &rc->sentinels[rc->sticky], &m) != 0) {
        rc->sticky = (rc->sticky + 1) % rc->n_sentinels;
        return;
    }
    if (strcmp(m.host, rc->master.host) == 0 && m.port == rc->master.port)
        return;
    drop(rc);
    (void)connect_now(rc, now); /* fails: the caller sees no connection */
}
