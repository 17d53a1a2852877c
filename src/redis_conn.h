/* redis_conn: one hiredis connection per Redis role (cache, store) and process.
 * Connect and command timeouts come from config, so a slow or dead Redis costs
 * a request at most the timeout. A failed connection is dropped and retried at
 * most once per reconnect interval; callers treat NULL replies as "Redis is
 * unavailable" and degrade. With GUILD_*_REDIS_SENTINELS the master is found
 * through Redis Sentinel (see redis_conn.c and docs/reliability.md). Modules
 * that read replies include <hiredis.h>. */
#ifndef GUILD_REDIS_CONN_H
#define GUILD_REDIS_CONN_H

#include <stdbool.h>
#include <stddef.h>

struct config;
struct redis_settings;
struct redisReply;
struct redisContext;
struct redis_conn;

/* Allocates a handle for one role ("cache" or "store"); does not connect.
 * NULL only on out-of-memory. The settings must outlive the handle. */
struct redis_conn *redis_conn_new(const char *role, const struct redis_settings *rs,
                                  const struct config *cfg);
/* A check run on every new connection of the role before its first use
 * (after AUTH, SELECT and, with Sentinels, ROLE), on the raw hiredis
 * context: 0 to use the connection, -1 to drop it (the connect fails). */
typedef int (*redis_conn_hook)(struct redisContext *ctx, void *arg);
void redis_conn_on_connect(struct redis_conn *rc, redis_conn_hook hook, void *arg);

/* Closes and frees; NULL is a no-op. */
void redis_conn_free(struct redis_conn *rc);

/* Connects if needed (rate-limited). 0 when a connection is open. */
int redis_conn_ensure(struct redis_conn *rc);

/* Sends one command (arguments are binary-safe; lens may be NULL for C
 * strings). Returns the reply, which the caller frees with freeReplyObject,
 * or NULL when Redis is unavailable (the connection is then dropped).
 * An error reply (REDIS_REPLY_ERROR) is returned as a reply, not NULL. */
struct redisReply *redis_conn_command(struct redis_conn *rc, int argc, const char **argv,
                                      const size_t *lens);

/* Pipelines n commands in one round trip; replies[i] get one reply each
 * (caller frees). Returns 0, or -1 when Redis is unavailable (all replies NULL). */
int redis_conn_pipeline(struct redis_conn *rc, size_t n, const int *argcs, const char ***argvs,
                        const size_t **lens, struct redisReply **replies);

/* The two halves of redis_conn_pipeline, so that a request can have
 * commands in flight on one role while it waits on the other: send writes
 * n commands (0, or -1 when Redis is unavailable); recv reads n replies in
 * order (0, or -1 with all replies NULL and the connection dropped). Every
 * successful send must be followed by a recv of the same n before the
 * connection is used for anything else. */
int redis_conn_send(struct redis_conn *rc, size_t n, const int *argcs, const char ***argvs,
                    const size_t **lens);
int redis_conn_recv(struct redis_conn *rc, size_t n, struct redisReply **replies);

/* A Lua script run with EVALSHA (its SHA-1 computed once, locally) and sent
 * in full with EVAL only when Redis answers NOSCRIPT (after a restart or
 * SCRIPT FLUSH), which also loads it for next time. */
struct redis_script {
    const char *text;
    char sha[41];
};

/* Computes script->sha from script->text. */
void redis_script_init(struct redis_script *script);

/* Runs a script: argv holds numkeys keys then the arguments (nargs in all).
 * Same reply contract as redis_conn_command. */
struct redisReply *redis_conn_eval(struct redis_conn *rc, const struct redis_script *script,
                                   int numkeys, int nargs, const char **argv, const size_t *lens);

/* INFO memory: *used gets used_memory, *max maxmemory (0: no limit), in
 * bytes. 0, or -1 when Redis is unavailable or the reply lacks them. */
int redis_conn_memory(struct redis_conn *rc, unsigned long long *used, unsigned long long *max);

/* PING round trip: 0 when Redis answered PONG. */
int redis_conn_ping(struct redis_conn *rc);

/* True when the last command succeeded and the connection is open. */
bool redis_conn_is_up(const struct redis_conn *rc);

/* The role name given to redis_conn_new, for logs. */
const char *redis_conn_role(const struct redis_conn *rc);

#endif
