/* sessions: see sessions.h. The delete script reads the owner from the
 * stored JSON with Redis' cjson, so the ownership check and the delete are
 * one atomic step; it names the owner's index key itself (single-instance
 * Redis, no cluster slots to declare). */
#include "sessions.h"

#include <hiredis/hiredis.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "app.h"
#include "arena.h"
#include "jsonx.h"
#include "redis_conn.h"

/* KEYS: session, index. ARGV: value, ttl, id, expires_at, now. */
static struct redis_script script_create = {.text =
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[5])\n"
    "redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[2])\n"
    "return 1\n"};

/* KEYS: session. ARGV: uid, is_admin, key prefix, id.
 * Returns 1 deleted, 0 not found, -1 someone else's. */
static struct redis_script script_delete = {.text =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v then return 0 end\n"
    "local owner = tostring(cjson.decode(v).user_id)\n"
    "if owner ~= ARGV[1] and ARGV[2] ~= '1' then return -1 end\n"
    "redis.call('DEL', KEYS[1])\n"
    "redis.call('ZREM', ARGV[3] .. 'sess:user:' .. owner, ARGV[4])\n"
    "return 1\n"};

/* KEYS: index. ARGV: now. The live ids with their expiry. */
static struct redis_script script_list = {.text =
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])\n"
    "return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')\n"};

/* KEYS: index. ARGV: key prefix. Deletes every session listed, then the index. */
static struct redis_script script_delete_all = {.text =
    "local ids = redis.call('ZRANGE', KEYS[1], 0, -1)\n"
    "for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. 'sess:' .. id) end\n"
    "redis.call('DEL', KEYS[1])\n"
    "return #ids\n"};

/* KEYS: session. Returns {value, ttl}. */
static struct redis_script script_get = {.text =
    "return {redis.call('GET', KEYS[1]), redis.call('TTL', KEYS[1])}\n"};

void sessions_init(void)
{
    redis_script_init(&script_create);
    redis_script_init(&script_delete);
    redis_script_init(&script_list);
    redis_script_init(&script_delete_all);
    redis_script_init(&script_get);
}

int sessions_new_id(char *id)
{
    unsigned char b[16];

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0F) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    snprintf(id, SESSIONS_ID_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

bool sessions_id_valid(const char *s)
{
    static const char hex[] = "0123456789abcdefABCDEF";

    if (s == NULL || strlen(s) != SESSIONS_ID_LEN)
        return false;
    for (int i = 0; i < SESSIONS_ID_LEN; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
        } else if (strchr(hex, s[i]) == NULL) {
            return false;
        }
    }
    return s[14] == '4' && strchr("89abAB", s[19]) != NULL;
}

static const char *key_of(struct app *app, const char *id)
{
    return arena_sprintf(&app->arena, "%ssess:%s", app->cfg.redis_prefix, id);
}

static const char *index_of(struct app *app, long long uid)
{
    return arena_sprintf(&app->arena, "%ssess:user:%lld", app->cfg.redis_prefix, uid);
}

/* Runs a script on the store role; NULL (and UNAVAILABLE) when it failed. */
static redisReply *run(struct app *app, const struct redis_script *sc, int nkeys, int nargs,
                       const char **argv)
{
    redisReply *r;

    for (int i = 0; i < nargs; i++)
        if (argv[i] == NULL)
            return NULL;
    r = redis_conn_eval(app->store_redis, sc, nkeys, nargs, argv, NULL);
    if (r != NULL && r->type == REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

enum sessions_rc sessions_create(struct app *app, const char *id, long long uid,
                                 const char *value, long long expires_at)
{
    char ttl[16], exp[32], now[32];
    const char *argv[7];
    redisReply *r;

    snprintf(ttl, sizeof(ttl), "%d", SESSIONS_TTL_S);
    snprintf(exp, sizeof(exp), "%lld", expires_at);
    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    argv[0] = key_of(app, id);
    argv[1] = index_of(app, uid);
    argv[2] = value;
    argv[3] = ttl;
    argv[4] = id;
    argv[5] = exp;
    argv[6] = now;
    if ((r = run(app, &script_create, 2, 7, argv)) == NULL)
        return SESSIONS_UNAVAILABLE;
    freeReplyObject(r);
    return SESSIONS_OK;
}

enum sessions_rc sessions_get(struct app *app, const char *id, struct json_object **json,
                              long long *ttl_s)
{
    const char *argv[] = {key_of(app, id)};
    redisReply *r = run(app, &script_get, 1, 1, argv);
    enum sessions_rc rc = SESSIONS_NOTFOUND;

    *json = NULL;
    if (r == NULL)
        return SESSIONS_UNAVAILABLE;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
        r->element[0]->type == REDIS_REPLY_STRING &&
        jsonx_parse(r->element[0]->str, r->element[0]->len, json) == JSONX_OK) {
        *ttl_s = r->element[1]->integer;
        rc = SESSIONS_OK;
    }
    freeReplyObject(r);
    return rc;
}

enum sessions_rc sessions_delete(struct app *app, const char *id, long long uid, bool is_admin)
{
    char u[32];
    const char *argv[5];
    redisReply *r;
    long long res;

    snprintf(u, sizeof(u), "%lld", uid);
    argv[0] = key_of(app, id);
    argv[1] = u;
    argv[2] = is_admin ? "1" : "0";
    argv[3] = app->cfg.redis_prefix;
    argv[4] = id;
    if ((r = run(app, &script_delete, 1, 5, argv)) == NULL)
        return SESSIONS_UNAVAILABLE;
    res = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return res == 1 ? SESSIONS_OK : res == -1 ? SESSIONS_FORBIDDEN : SESSIONS_NOTFOUND;
}

enum sessions_rc sessions_list(struct app *app, long long uid, struct json_object **list)
{
    char now[32];
    const char *argv[2];
    redisReply *r;

    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    argv[0] = index_of(app, uid);
    argv[1] = now;
    if ((r = run(app, &script_list, 1, 2, argv)) == NULL)
        return SESSIONS_UNAVAILABLE;
    *list = json_object_new_array();
    for (size_t i = 0; r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        long long exp = atoll(r->element[i + 1]->str);
        json_object *e = json_object_new_object();
        json_object_object_add(e, "session_id", json_object_new_string(r->element[i]->str));
        json_object_object_add(e, "created_at", jsonx_new_time(exp - SESSIONS_TTL_S));
        json_object_object_add(e, "expires_at", jsonx_new_time(exp));
        json_object_array_add(*list, e);
    }
    freeReplyObject(r);
    return SESSIONS_OK;
}

enum sessions_rc sessions_delete_all(struct app *app, long long uid)
{
    const char *argv[] = {index_of(app, uid), app->cfg.redis_prefix};
    redisReply *r = run(app, &script_delete_all, 1, 2, argv);

    if (r == NULL)
        return SESSIONS_UNAVAILABLE;
    freeReplyObject(r);
    return SESSIONS_OK;
}
