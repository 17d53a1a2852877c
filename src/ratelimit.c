/* ratelimit: see ratelimit.h. Keys (store role):
 *   <prefix>rlw:<policy>:<who>       LIST of the admitted requests' times (ms),
 *                                    oldest first; <who> is "u:<id>", "ip:<addr>"
 *                                    (one part: it ends the key) or, for logins,
 *                                    "<len>:<addr>:<username>" (see login_key)
 *   <prefix>revoked:<jti>            a revoked token, expiring with it
 * DESIGN: an exact sliding log ("at most N requests in any window of W
 * seconds"). Only admitted requests are logged, so a list never holds more
 * than N entries; entries leave from the front as they age out, each popped
 * once (amortised O(1) per request). A list of integer times costs ~10 bytes
 * an entry in a listpack, against ~150 for the sorted set of unique members
 * it replaces (rl: keys), and needs no member string from the client.
 * Times come from Redis' clock inside the script, so every responder of
 * every host agrees on them. A clock stepped backwards only makes the log
 * stricter until its entries age out. */
#include "ratelimit.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "arena.h"
#include "cache.h"
#include "log.h"
#include "redis_conn.h"

/* KEYS: window, denylist key ("" = none), lost-invalidation count ("" =
 * none). ARGV: limit (0 = denylist only), window ms, add (1 = log this
 * request if admitted).
 * Returns {allowed, remaining, reset ms, revoked, now ms, lost}; "now" names
 * the logged entry, which a forgiven login removes again. Integer arithmetic
 * only: Lua numbers are doubles, exact far beyond ms timestamps. */
static struct redis_script script_check = {.text =
    "local limit = tonumber(ARGV[1])\n"
    "local revoked, lost = 0, 0\n"
    "if KEYS[2] ~= '' then revoked = redis.call('EXISTS', KEYS[2]) end\n"
    "if KEYS[3] ~= '' then lost = tonumber(redis.call('GET', KEYS[3]) or '0') or 0 end\n"
    "if limit == 0 then return {1, 0, 0, revoked, 0, lost} end\n"
    "local t = redis.call('TIME')\n"
    "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
    "local window, key = tonumber(ARGV[2]), KEYS[1]\n"
    "local n = redis.call('LLEN', key)\n"
    "local oldest = false\n"
    "while n > 0 do\n"
    "  oldest = tonumber(redis.call('LINDEX', key, 0))\n"
    "  if oldest + window > now then break end\n"
    "  redis.call('LPOP', key)\n"
    "  n = n - 1\n"
    "  oldest = false\n"
    "end\n"
    "local allowed = 0\n"
    "if n < limit then\n"
    "  allowed = 1\n"
    "  if ARGV[3] == '1' then\n"
    "    redis.call('RPUSH', key, now)\n"
    "    redis.call('PEXPIRE', key, window)\n"
    "    n = n + 1\n"
    "    if not oldest then oldest = now end\n"
    "  end\n"
    "end\n"
    "local reset = window\n"
    "if oldest then reset = oldest + window - now end\n"
    "return {allowed, limit - n, reset, revoked, now, lost}\n"};

void ratelimit_init(void)
{
    redis_script_init(&script_check);
}

/* Runs the script; fills out (rc RL_UNAVAILABLE when the store is down).
 * limit 0 checks the denylist only. *now_ms gets the logged entry's time. */
static void run_check(struct app *app, const struct rl_policy *p, int limit, const char *key,
                      const char *deny_key, const char *lost_key, bool add,
                      struct rl_result *out, long long *now_ms)
{
    char limit_s[16], window[16];
    const char *argv[6];
    redisReply *r;

    out->policy = p;
    out->revoked = false;
    out->cache_lost = -1;
    out->remaining = p->limit;
    out->reset_s = p->window_s;
    snprintf(limit_s, sizeof(limit_s), "%d", limit);
    snprintf(window, sizeof(window), "%d", p->window_s * 1000);
    argv[0] = key;
    argv[1] = deny_key ? deny_key : "";
    argv[2] = lost_key ? lost_key : "";
    argv[3] = limit_s;
    argv[4] = window;
    argv[5] = add ? "1" : "0";
    r = key ? redis_conn_eval(app->store_redis, &script_check, 3, 6, argv, NULL) : NULL;
    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 6) {
        static _Thread_local time_t last;
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
    if (now_ms != NULL)
        *now_ms = r->element[4]->integer;
    out->cache_lost = r->element[5]->integer;
    freeReplyObject(r);
}

void ratelimit_check(struct app *app, const struct rl_policy *p, const char *who,
                     const char *jti, struct rl_result *out)
{
    const char *prefix = app->cfg.redis_prefix;
    const char *key = arena_sprintf(&app->arena, "%srlw:%s:%s", prefix, p->name, who);
    const char *deny = jti ? arena_sprintf(&app->arena, "%srevoked:%s", prefix, jti) : NULL;

    run_check(app, p, p->limit, key, deny, cache_lost_key(app), true, out, NULL);
}

/* "<prefix>rlw:login:<length of ip>:<ip>:<username>". Both parts are
 * client data and an IPv6 address holds ':' itself: joined plainly,
 * ("2001:db8::1", "5:victim") and ("2001:db8::1:5", "victim") would share a
 * bucket. With the address's length in front, one key splits one way only.
 * The username (canonical, bounded by the caller) is the rest of the key;
 * Redis keys are binary-safe. */
static const char *login_key(struct app *app, const char *ip, const char *username)
{
    return arena_sprintf(&app->arena, "%srlw:login:%zu:%s:%s", app->cfg.redis_prefix,
                         strlen(ip), ip, username);
}

void ratelimit_login_reserve(struct app *app, const struct rl_policy *p, const char *ip,
                             const char *username, char *member, unsigned member_sz,
                             struct rl_result *out)
{
    long long now_ms = 0;

    run_check(app, p, p->limit, login_key(app, ip, username), NULL, NULL, true, out, &now_ms);
    /* entries are times: removing any one equal to ours forgives exactly one */
    snprintf(member, member_sz, "%lld", now_ms);
}

void ratelimit_login_forgive(struct app *app, const char *ip, const char *username,
                             const char *member)
{
    const char *argv[] = {"LREM", login_key(app, ip, username), "-1", member};
    redisReply *r = argv[1] && strcmp(member, "0") != 0
                        ? redis_conn_command(app->store_redis, 4, argv, NULL)
                        : NULL;

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
