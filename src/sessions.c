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

/* Every script below touches at most SESSIONS_BATCH index entries (plus
 * O(log n) lookups), so no call on the store Redis grows with the size of a
 * user's index: a long script stalls every client of the store, and the
 * login limiter fails open while it waits (issue 10, defect 6). */

/* KEYS: session, index. ARGV: value, ttl, id, score (expiry, s.us), now,
 * cap, key prefix, batch. Stores the session, prunes up to batch expired
 * index entries, then evicts the oldest entries beyond cap (never the new
 * one; at most batch per call, expired ones first since they sort first),
 * all in one step, so concurrent creates cannot overshoot the cap.
 * Returns how many it evicted. */
static struct redis_script script_create = {.text =
    "local idx, b = KEYS[2], tonumber(ARGV[8])\n"
    "redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])\n"
    "local n = redis.call('ZCOUNT', idx, '-inf', ARGV[5])\n"
    "if n > 0 then redis.call('ZREMRANGEBYRANK', idx, 0, math.min(n, b) - 1) end\n"
    "redis.call('ZADD', idx, ARGV[4], ARGV[3])\n"
    "local over = math.min(redis.call('ZCARD', idx) - tonumber(ARGV[6]), b)\n"
    "local gone = 0\n"
    "if over > 0 then\n"
    "  for _, id in ipairs(redis.call('ZRANGE', idx, 0, over)) do\n"
    "    if gone == over then break end\n"
    "    if id ~= ARGV[3] then\n"
    "      redis.call('DEL', ARGV[7] .. 'sess:' .. id)\n"
    "      redis.call('ZREM', idx, id)\n"
    "      gone = gone + 1\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('EXPIRE', idx, ARGV[2])\n"
    "return gone\n"};

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

/* One page of a listing. KEYS: index. ARGV: now, batch, key prefix, cursor
 * score and member ("" "" for the first page). Prunes up to batch expired
 * entries, then reads the next batch entries after the cursor in (score,
 * member) order, which pruning, deletes and creates between two pages
 * cannot shift (a rank could): the cursor's own rank when it is still there,
 * else a binary search among the entries of its score. Entries whose session
 * key is gone are dropped from the index on the way. Returns {cursor score,
 * cursor member, {id, score, ...}}; an empty cursor means the last page.
 * Members compare byte by byte as Redis orders them (Lua's < follows the
 * server's collation locale). */
static struct redis_script script_list_page = {.text =
    "local function after(a, c)\n"
    "  for i = 1, math.min(#a, #c) do\n"
    "    local x, y = a:byte(i), c:byte(i)\n"
    "    if x ~= y then return x > y end\n"
    "  end\n"
    "  return #a > #c\n"
    "end\n"
    "local idx, now, b = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])\n"
    "local cs, cm = ARGV[4], ARGV[5]\n"
    "local n = redis.call('ZCOUNT', idx, '-inf', now)\n"
    "if n > 0 then redis.call('ZREMRANGEBYRANK', idx, 0, math.min(n, b) - 1) end\n"
    "local start\n"
    "if cs == '' then\n"
    "  start = redis.call('ZCOUNT', idx, '-inf', now)\n"
    "else\n"
    "  start = redis.call('ZRANK', idx, cm)\n"
    "  if start then start = start + 1 else\n"
    "    local lo = redis.call('ZCOUNT', idx, '-inf', '(' .. cs)\n"
    "    local hi = lo + redis.call('ZCOUNT', idx, cs, cs)\n"
    "    while lo < hi do\n"
    "      local mid = math.floor((lo + hi) / 2)\n"
    "      if after(redis.call('ZRANGE', idx, mid, mid)[1], cm) then hi = mid else lo = mid + 1 end\n"
    "    end\n"
    "    start = lo\n"
    "  end\n"
    "end\n"
    "local page = redis.call('ZRANGE', idx, start, start + b - 1, 'WITHSCORES')\n"
    "local out = {}\n"
    "for i = 1, #page, 2 do\n"
    "  if tonumber(page[i + 1]) > now then\n"
    "    if redis.call('EXISTS', ARGV[3] .. 'sess:' .. page[i]) == 1 then\n"
    "      out[#out + 1] = page[i]\n"
    "      out[#out + 1] = page[i + 1]\n"
    "    else\n"
    "      redis.call('ZREM', idx, page[i])\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if #page < 2 * b then return {'', '', out} end\n"
    "return {page[#page], page[#page - 1], out}\n"};

/* One batch of "delete all". KEYS: index. ARGV: key prefix, batch. Deletes
 * the sessions of the first batch entries and the entries; returns how many
 * entries are left. */
static struct redis_script script_delete_batch = {.text =
    "local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)\n"
    "for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. 'sess:' .. id) end\n"
    "if #ids > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, #ids - 1) end\n"
    "return redis.call('ZCARD', KEYS[1])\n"};

/* KEYS: session. Returns {value, ttl}. */
static struct redis_script script_get = {.text =
    "return {redis.call('GET', KEYS[1]), redis.call('TTL', KEYS[1])}\n"};

void sessions_init(void)
{
    redis_script_init(&script_create);
    redis_script_init(&script_delete);
    redis_script_init(&script_list_page);
    redis_script_init(&script_delete_batch);
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
                                 const char *value, long long now_us)
{
    char ttl[16], score[48], now[32], cap[16], batch[16];
    const char *argv[10];
    redisReply *r;

    snprintf(ttl, sizeof(ttl), "%d", SESSIONS_TTL_S);
    /* the expiry in seconds with microseconds: the index's order is the
     * creation order, also within one second (the cap evicts the oldest) */
    snprintf(score, sizeof(score), "%lld.%06lld", now_us / 1000000 + SESSIONS_TTL_S,
             now_us % 1000000);
    snprintf(now, sizeof(now), "%lld", now_us / 1000000);
    snprintf(cap, sizeof(cap), "%d", app->cfg.sessions_per_user);
    snprintf(batch, sizeof(batch), "%d", SESSIONS_BATCH);
    argv[0] = key_of(app, id);
    argv[1] = index_of(app, uid);
    argv[2] = value;
    argv[3] = ttl;
    argv[4] = id;
    argv[5] = score;
    argv[6] = now;
    argv[7] = cap;
    argv[8] = app->cfg.redis_prefix;
    argv[9] = batch;
    if ((r = run(app, &script_create, 2, 10, argv)) == NULL)
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

/* Appends the {id, score, ...} pairs of one page to list. */
static void add_entries(json_object *list, const redisReply *pairs)
{
    for (size_t i = 0; pairs->type == REDIS_REPLY_ARRAY && i + 1 < pairs->elements; i += 2) {
        long long exp = atoll(pairs->element[i + 1]->str); /* whole seconds of "s.us" */
        json_object *e = json_object_new_object();
        json_object_object_add(e, "session_id", json_object_new_string(pairs->element[i]->str));
        json_object_object_add(e, "created_at", jsonx_new_time(exp - SESSIONS_TTL_S));
        json_object_object_add(e, "expires_at", jsonx_new_time(exp));
        json_object_array_add(list, e);
    }
}

/* A page reply is {cursor score, cursor member, pairs}. */
static bool page_ok(const redisReply *r)
{
    return r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
           r->element[0]->type == REDIS_REPLY_STRING && r->element[1]->type == REDIS_REPLY_STRING &&
           r->element[2]->type == REDIS_REPLY_ARRAY;
}

enum sessions_rc sessions_list(struct app *app, long long uid, struct json_object **list)
{
    char now[32], batch[16], cs[64] = "", cm[SESSIONS_ID_LEN + 64] = "";
    const char *argv[6];
    redisReply *r;

    snprintf(now, sizeof(now), "%lld", (long long)time(NULL));
    snprintf(batch, sizeof(batch), "%d", SESSIONS_BATCH);
    argv[0] = index_of(app, uid);
    argv[1] = now;
    argv[2] = batch;
    argv[3] = app->cfg.redis_prefix;
    argv[4] = cs;
    argv[5] = cm;
    *list = json_object_new_array();
    /* Ends: each page starts strictly after the previous one in (score,
     * member) order, and creates add at most one entry per request. */
    for (int page = 0; page < SESSIONS_MAX_PAGES; page++) {
        if ((r = run(app, &script_list_page, 1, 6, argv)) == NULL || !page_ok(r)) {
            freeReplyObject(r);
            json_object_put(*list);
            *list = NULL;
            return SESSIONS_UNAVAILABLE;
        }
        add_entries(*list, r->element[2]);
        snprintf(cs, sizeof(cs), "%s", r->element[0]->str);
        snprintf(cm, sizeof(cm), "%s", r->element[1]->str);
        freeReplyObject(r);
        if (cs[0] == '\0')
            break;
    }
    return SESSIONS_OK;
}

enum sessions_rc sessions_delete_all(struct app *app, long long uid)
{
    char batch[16];
    const char *argv[3];
    redisReply *r;
    long long left = 1;

    snprintf(batch, sizeof(batch), "%d", SESSIONS_BATCH);
    argv[0] = index_of(app, uid);
    argv[1] = app->cfg.redis_prefix;
    argv[2] = batch;
    for (int page = 0; left > 0 && page < SESSIONS_MAX_PAGES; page++) {
        if ((r = run(app, &script_delete_batch, 1, 3, argv)) == NULL)
            return SESSIONS_UNAVAILABLE;
        left = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
        freeReplyObject(r);
    }
    return SESSIONS_OK;
}
