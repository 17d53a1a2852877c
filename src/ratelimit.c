/* ratelimit: see ratelimit.h. Keys (store role):
 *   <prefix>rl:<policy>:<who>        ZSET of request members scored by ms
 *   <prefix>revoked:<jti>            a revoked token, expiring with it
 * Members are "<ms>-<host pid>-<counter>-<random>": unique even for two
 * requests in the same microsecond from different processes or hosts. */
#include "ratelimit.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "log.h"
#include "redis_conn.h"

/* KEYS: window, denylist key ("" = none). ARGV: limit, window ms, member,
 * add (1 = count this request). Returns {allowed, remaining, reset ms, revoked}. */
static struct redis_script script_check = {.text =
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local revoked = 0\n"
    "if KEYS[2] ~= '' and redis.call('EXISTS', KEYS[2]) == 1 then revoked = 1 end\n"
    "redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)\n"
    "local count = redis.call('ZCARD', KEYS[1])\n"
    "local allowed = 0\n"
    "if count < limit then\n"
    "  allowed = 1\n"
    "  if ARGV[4] == '1' then\n"
    "    redis.call('ZADD', KEYS[1], now, ARGV[3])\n"
    "    redis.call('PEXPIRE', KEYS[1], window)\n"
    "    count = count + 1\n"
    "  end\n"
    "end\n"
    "local reset = window\n"
    "local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')\n"
    "if oldest[2] then reset = tonumber(oldest[2]) + window - now end\n"
    "return {allowed, limit - count, reset, revoked}\n"};

static char member_prefix[96];
static unsigned long long member_counter;

void ratelimit_init(void)
{
    char host[64] = "host";
    unsigned int rnd = 0;

    redis_script_init(&script_check);
    gethostname(host, sizeof(host) - 1);
    if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
        rnd = (unsigned)time(NULL);
    snprintf(member_prefix, sizeof(member_prefix), "%.40s-%ld-%08x", host, (long)getpid(), rnd);
}

static void unique_member(char *out, size_t sz)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, sz, "%lld%06ld-%s-%llu", (long long)ts.tv_sec, ts.tv_nsec / 1000, member_prefix,
             ++member_counter);
}

/* Runs the script; fills out (rc RL_UNAVAILABLE when the store is down). */
static void run_check(struct app *app, const struct rl_policy *p, const char *key,
                      const char *deny_key, const char *member, bool add, struct rl_result *out)
{
    char limit[16], window[16];
    const char *argv[6];
    redisReply *r;

    out->policy = p;
    out->revoked = false;
    out->remaining = p->limit;
    out->reset_s = p->window_s;
    snprintf(limit, sizeof(limit), "%d", p->limit);
    snprintf(window, sizeof(window), "%d", p->window_s * 1000);
    argv[0] = key;
    argv[1] = deny_key ? deny_key : "";
    argv[2] = limit;
    argv[3] = window;
    argv[4] = member;
    argv[5] = add ? "1" : "0";
    r = key ? redis_conn_eval(app->store_redis, &script_check, 2, 6, argv, NULL) : NULL;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 4) {
        static time_t last;
        log_limited(&last, 5, LOG_WARN, "ratelimit: store Redis unavailable, allowing");
        out->rc = RL_UNAVAILABLE;
        freeReplyObject(r);
        return;
    }
    out->rc = r->element[0]->integer ? RL_ALLOWED : RL_LIMITED;
    out->remaining = r->element[1]->integer < 0 ? 0 : (long)r->element[1]->integer;
    out->reset_s = (long)((r->element[2]->integer + 999) / 1000);
    if (out->reset_s < 1)
        out->reset_s = 1;
    out->revoked = r->element[3]->integer != 0;
    freeReplyObject(r);
}

void ratelimit_check(struct app *app, const struct rl_policy *p, const char *who,
                     const char *jti, struct rl_result *out)
{
    char member[160];
    const char *prefix = app->cfg.redis_prefix;
    const char *key = arena_sprintf(&app->arena, "%srl:%s:%s", prefix, p->name, who);
    const char *deny = jti ? arena_sprintf(&app->arena, "%srevoked:%s", prefix, jti) : NULL;

    unique_member(member, sizeof(member));
    run_check(app, p, key, deny, member, true, out);
}

static const char *login_key(struct app *app, const char *ip, const char *username)
{
    /* the username is client data: its length is bounded by the caller and
     * Redis keys are binary-safe, so it is used as is */
    return arena_sprintf(&app->arena, "%srl:login:%s:%s", app->cfg.redis_prefix, ip, username);
}

void ratelimit_login_reserve(struct app *app, const struct rl_policy *p, const char *ip,
                             const char *username, char *member, unsigned member_sz,
                             struct rl_result *out)
{
    unique_member(member, member_sz);
    run_check(app, p, login_key(app, ip, username), NULL, member, true, out);
}

void ratelimit_login_forgive(struct app *app, const char *ip, const char *username,
                             const char *member)
{
    const char *argv[] = {"ZREM", login_key(app, ip, username), member};
    redisReply *r = argv[1] ? redis_conn_command(app->store_redis, 3, argv, NULL) : NULL;

    freeReplyObject(r);
}

int ratelimit_revoke(struct app *app, const char *jti, long long exp)
{
    char at[32];
    const char *key = arena_sprintf(&app->arena, "%srevoked:%s", app->cfg.redis_prefix, jti);
    const char *argv[] = {"SET", key, "1", "EXAT", at};
    redisReply *r;
    int ok;

    snprintf(at, sizeof(at), "%lld", exp);
    if (key == NULL)
        return -1;
    r = redis_conn_command(app->store_redis, 5, argv, NULL);
    ok = r != NULL && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    return ok ? 0 : -1;
}
