/* load: see load.h. DESIGN
 * - One thread per client, one libcurl handle each (kept alive, like a real
 *   client); the only shared state is the stop flag and two counters.
 * - The mix is a weighted table of operations. A client always has one
 *   current user: it registers one when it has none or when that user has
 *   completed all 13 missions, and logs in when it has no token, so every
 *   write goes to a user of its own.
 * - A write counts as acknowledged only on its documented success status.
 *   No answer or a 5xx means "unknown outcome": the write may have committed,
 *   so the user is tainted (verify.c then checks only what stays true either
 *   way) and the client moves on without retrying (a retry could meet a 409
 *   for a write that did land). */
#include "load.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

#define LOAD_PASSWORD "chaos-pass-1"
#define LOAD_TIMEOUT_MS 15000L /* far past every bound the checks assert */

enum op {
    OP_PING, OP_USERS_STATS, OP_ADV_STATS, OP_MISSIONS_STATS, OP_LEADERBOARD, OP_USER_GET,
    OP_ME, OP_PERF, OP_MISSION, OP_SESSION_NEW, OP_SESSION_LIST, OP_SESSION_GET, OP_NOPS,
    /* not drawn from the mix */
    OP_REGISTER = OP_NOPS, OP_LOGIN, OP_START, OP_NALL
};

static const char *const op_names[OP_NALL] = {
    [OP_PING] = "GET /ping", [OP_USERS_STATS] = "GET users/stats",
    [OP_ADV_STATS] = "GET users/advanced-stats", [OP_MISSIONS_STATS] = "GET missions/stats",
    [OP_LEADERBOARD] = "GET leaderboard", [OP_USER_GET] = "GET users/{id}",
    [OP_ME] = "GET users/me", [OP_PERF] = "GET performance", [OP_MISSION] = "POST complete",
    [OP_SESSION_NEW] = "POST sessions", [OP_SESSION_LIST] = "GET sessions",
    [OP_SESSION_GET] = "GET sessions/{id}", [OP_REGISTER] = "POST register",
    [OP_LOGIN] = "POST token", [OP_START] = "POST missions",
};

const char *load_op_name(int op)
{
    return op >= 0 && op < OP_NALL && op_names[op] ? op_names[op] : "?";
}

/* Relative weights: about 70 % reads, 20 % mission writes, 10 % sessions;
 * registrations and logins come on top, once per user. */
static const int op_weight[OP_NOPS] = {
    [OP_PING] = 5, [OP_USERS_STATS] = 10, [OP_ADV_STATS] = 5, [OP_MISSIONS_STATS] = 5,
    [OP_LEADERBOARD] = 10, [OP_USER_GET] = 15, [OP_ME] = 8, [OP_PERF] = 7,
    [OP_MISSION] = 20, [OP_SESSION_NEW] = 4, [OP_SESSION_LIST] = 3, [OP_SESSION_GET] = 3,
};

static unsigned rnd(struct load_client *c, unsigned n)
{
    return n ? (unsigned)rand_r(&c->rng) % n : 0;
}

int64_t load_now_us(const struct load *l)
{
    return wire_now_us() - l->t_start_us;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    size_t ncap;
    void *np;

    if (need <= *cap)
        return p;
    ncap = *cap ? *cap * 2 : 256;
    while (ncap < need)
        ncap *= 2;
    np = realloc(p, ncap * elem);
    if (np == NULL) {
        fprintf(stderr, "chaos: out of memory\n");
        abort();
    }
    *cap = ncap;
    return np;
}

/* Sends one request and records it. Returns the status (0: no answer). */
static int call(struct load_client *c, enum op op, enum load_class cls, const char *method,
                const char *path, const char *ctype, const char *body, const char *token,
                struct wire_reply *r)
{
    struct load *l = c->load;
    char url[512];
    struct load_rec *rec;
    int64_t t0 = load_now_us(l);

    snprintf(url, sizeof(url), "%s%s", l->base_url, path);
    atomic_fetch_add(&l->inflight, 1);
    wire_call(c->wire, method, url, ctype, body, token, r);
    atomic_fetch_sub(&l->inflight, 1);
    c->recs = grow(c->recs, &c->caprecs, c->nrecs + 1, sizeof(*c->recs));
    rec = &c->recs[c->nrecs++];
    rec->t0_us = t0;
    rec->lat_us = (int32_t)(r->lat_us > INT32_MAX ? INT32_MAX : r->lat_us);
    rec->status = (int16_t)r->status;
    rec->cls = (uint8_t)cls;
    rec->op = (uint8_t)op;
    rec->xcache = (uint8_t)r->xcache;
    rec->shape_ok = r->status > 0 && r->status < 400 ? 1 : (uint8_t)wire_has_detail(r);
    if (c->fail_note[0] == '\0' && (r->status == 0 || r->status >= 400))
        snprintf(c->fail_note, sizeof(c->fail_note), "%s %s -> %d %.120s%s", method, path,
                 r->status, r->status ? (r->body ? r->body : "") : r->err,
                 r->status ? "" : " (no answer)");
    return r->status;
}

static int unknown_outcome(int status)
{
    return status == 0 || status >= 500;
}

static json_object *parse(const struct wire_reply *r)
{
    return r->body ? json_tokener_parse(r->body) : NULL;
}

static long jlong(json_object *o, const char *key)
{
    json_object *v;

    if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return -1;
    return (long)json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *key)
{
    json_object *v;

    if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static struct load_user *cur_user(struct load_client *c)
{
    return c->cur >= 0 ? &c->users[c->cur] : NULL;
}

static void do_register(struct load_client *c)
{
    struct load *l = c->load;
    struct wire_reply r;
    char name[64], body[256];
    json_object *o;
    struct load_user *u;
    static atomic_long seq;
    long n = atomic_fetch_add(&seq, 1);

    snprintf(name, sizeof(name), "%s_%d_%ld", l->tag, c->index, n);
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}", name,
             name, LOAD_PASSWORD);
    if (call(c, OP_REGISTER, LOAD_WRITE, "POST", "/api/auth/register", "application/json", body, NULL, &r) ==
        201) {
        o = parse(&r);
        if (jlong(o, "id") > 0) {
            c->users = grow(c->users, &c->capusers, c->nusers + 1, sizeof(*c->users));
            u = &c->users[c->nusers];
            memset(u, 0, sizeof(*u));
            u->id = jlong(o, "id");
            snprintf(u->name, sizeof(u->name), "%s", name);
            u->next_mission = 1;
            c->cur = (int)c->nusers++;
        }
        json_object_put(o);
    } else if (unknown_outcome(r.status)) {
        c->unknown_writes++;
    }
    wire_reply_free(&r);
}

static void do_login(struct load_client *c, struct load_user *u)
{
    struct wire_reply r;
    char body[256];
    json_object *o;
    const char *tok;

    snprintf(body, sizeof(body), "username=%s&password=%s", u->name, LOAD_PASSWORD);
    if (call(c, OP_LOGIN, LOAD_WRITE, "POST", "/api/auth/token", "application/x-www-form-urlencoded",
             body, NULL, &r) == 200) {
        o = parse(&r);
        tok = jstr(o, "access_token");
        if (tok != NULL)
            snprintf(u->token, sizeof(u->token), "%s", tok);
        json_object_put(o);
    }
    wire_reply_free(&r);
}

/* The next step of the current user's missions: every third mission is
 * started first (POST .../missions), the others are completed directly
 * (which creates the progress row). */
static void do_mission(struct load_client *c, struct load_user *u)
{
    struct wire_reply r;
    char path[160], body[64];
    int m = u->next_mission, st;
    json_object *o;
    long total;

    if (m % 3 == 0 && !(u->start_tried & (1u << m))) {
        u->start_tried |= 1u << m;
        snprintf(path, sizeof(path), "/api/users/%ld/missions", u->id);
        snprintf(body, sizeof(body), "{\"mission_id\":%d}", m);
        st = call(c, OP_START, LOAD_WRITE, "POST", path, "application/json", body, u->token, &r);
        if (st == 201)
            u->started_acked |= 1u << m;
        else if (unknown_outcome(st)) {
            u->tainted = 1;
            c->unknown_writes++;
        }
        wire_reply_free(&r);
        return;
    }
    u->score[m] = (int)((u->id * 7 + m * 13) % 101);
    snprintf(path, sizeof(path), "/api/users/%ld/missions/%d/complete?score=%d", u->id, m,
             u->score[m]);
    st = call(c, OP_MISSION, LOAD_WRITE, "POST", path, NULL, NULL, u->token, &r);
    if (st == 200) {
        o = parse(&r);
        total = jlong(o, "total_experience");
        if (total >= 0) {
            u->done_acked |= 1u << m;
            u->last_total = total;
        }
        json_object_put(o);
    } else if (unknown_outcome(st)) {
        u->tainted = 1;
        c->unknown_writes++;
    }
    u->next_mission = m + 1;
    wire_reply_free(&r);
}

static void do_session_new(struct load_client *c, struct load_user *u)
{
    struct wire_reply r;
    char body[96];
    json_object *o;
    const char *sid;
    struct load_session *s;

    snprintf(body, sizeof(body), "{\"chaos\":%zu,\"client\":%d}", c->nsessions, c->index);
    if (call(c, OP_SESSION_NEW, LOAD_SESSION, "POST", "/api/sessions", "application/json", body, u->token, &r) ==
        201) {
        o = parse(&r);
        sid = jstr(o, "session_id");
        if (sid != NULL) {
            c->sessions = grow(c->sessions, &c->capsessions, c->nsessions + 1,
                               sizeof(*c->sessions));
            s = &c->sessions[c->nsessions++];
            snprintf(s->id, sizeof(s->id), "%s", sid);
            s->user = c->cur;
        }
        json_object_put(o);
    }
    wire_reply_free(&r);
}

static void one_op(struct load_client *c)
{
    struct load_user *u = cur_user(c);
    struct wire_reply r;
    char path[160];
    int total = 0, pick;
    enum op op;
    const struct load_session *s;

    if (u == NULL || u->next_mission > LOAD_MISSIONS) {
        do_register(c);
        return;
    }
    if (u->token[0] == '\0') {
        do_login(c, u);
        return;
    }
    for (op = 0; op < OP_NOPS; op++)
        total += op_weight[op];
    pick = (int)rnd(c, (unsigned)total);
    for (op = 0; op < OP_NOPS - 1 && pick >= op_weight[op]; op++)
        pick -= op_weight[op];

    switch (op) {
    case OP_PING:
        call(c, op, LOAD_PING, "GET", "/ping", NULL, NULL, NULL, &r);
        break;
    case OP_USERS_STATS:
        call(c, op, LOAD_CACHED, "GET", "/api/analytics/users/stats", NULL, NULL, NULL, &r);
        break;
    case OP_ADV_STATS:
        call(c, op, LOAD_CACHED, "GET", "/api/analytics/users/advanced-stats", NULL, NULL, NULL, &r);
        break;
    case OP_MISSIONS_STATS:
        call(c, op, LOAD_CACHED, "GET", "/api/analytics/missions/stats", NULL, NULL, NULL, &r);
        break;
    case OP_LEADERBOARD:
        call(c, op, LOAD_CACHED, "GET",
             rnd(c, 2) ? "/api/analytics/leaderboard?limit=10" : "/api/analytics/leaderboard?limit=25",
             NULL, NULL, NULL, &r);
        break;
    case OP_USER_GET:
        snprintf(path, sizeof(path), "/api/users/%ld", c->users[rnd(c, (unsigned)c->nusers)].id);
        call(c, op, LOAD_CACHED, "GET", path, NULL, NULL, NULL, &r);
        break;
    case OP_ME:
        call(c, op, LOAD_AUTH_READ, "GET", "/api/users/me", NULL, NULL, u->token, &r);
        break;
    case OP_PERF:
        snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", u->id);
        call(c, op, LOAD_AUTH_READ, "GET", path, NULL, NULL, u->token, &r);
        break;
    case OP_MISSION:
        do_mission(c, u);
        return;
    case OP_SESSION_NEW:
        do_session_new(c, u);
        return;
    case OP_SESSION_LIST:
        call(c, op, LOAD_SESSION, "GET", "/api/sessions", NULL, NULL, u->token, &r);
        break;
    default: /* OP_SESSION_GET */
        if (c->nsessions == 0) {
            do_session_new(c, u);
            return;
        }
        s = &c->sessions[rnd(c, (unsigned)c->nsessions)];
        if (c->users[s->user].token[0] == '\0')
            return;
        snprintf(path, sizeof(path), "/api/sessions/%s", s->id);
        call(c, op, LOAD_SESSION, "GET", path, NULL, NULL, c->users[s->user].token, &r);
        break;
    }
    wire_reply_free(&r);
}

static void *client_main(void *arg)
{
    struct load_client *c = arg;
    struct load *l = c->load;

    while (!atomic_load(&l->stop)) {
        if (l->max_requests > 0 && atomic_fetch_add(&l->issued, 1) >= l->max_requests)
            break;
        one_op(c);
    }
    return NULL;
}

int load_start(struct load *l, const char *base_url, const char *tag, int nclients,
               long max_requests, unsigned seed)
{
    int i;

    memset(l, 0, sizeof(*l));
    l->base_url = base_url;
    snprintf(l->tag, sizeof(l->tag), "%s", tag);
    l->nclients = nclients;
    l->max_requests = max_requests;
    l->clients = calloc((size_t)nclients, sizeof(*l->clients));
    if (l->clients == NULL)
        return -1;
    for (i = 0; i < nclients; i++) {
        l->clients[i].load = l;
        l->clients[i].index = i;
        l->clients[i].rng = seed * 7919u + (unsigned)i;
        l->clients[i].cur = -1;
        l->clients[i].wire = wire_open(LOAD_TIMEOUT_MS);
        if (l->clients[i].wire == NULL) {
            load_free(l);
            return -1;
        }
    }
    l->t_start_us = wire_now_us();
    for (i = 0; i < nclients; i++) {
        if (pthread_create(&l->clients[i].thread, NULL, client_main, &l->clients[i]) != 0) {
            atomic_store(&l->stop, 1);
            while (--i >= 0)
                pthread_join(l->clients[i].thread, NULL);
            load_free(l);
            return -1;
        }
    }
    return 0;
}

void load_stop(struct load *l, int wait_only)
{
    int i;

    if (!wait_only)
        atomic_store(&l->stop, 1);
    for (i = 0; i < l->nclients; i++)
        pthread_join(l->clients[i].thread, NULL);
}

void load_free(struct load *l)
{
    int i;

    if (l->clients == NULL)
        return;
    for (i = 0; i < l->nclients; i++) {
        wire_close(l->clients[i].wire);
        free(l->clients[i].recs);
        free(l->clients[i].users);
        free(l->clients[i].sessions);
    }
    free(l->clients);
    l->clients = NULL;
}

size_t load_nrecs(const struct load *l)
{
    size_t n = 0;
    int i;

    for (i = 0; i < l->nclients; i++)
        n += l->clients[i].nrecs;
    return n;
}
