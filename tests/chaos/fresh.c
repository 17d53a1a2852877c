/* fresh: see fresh.h. Every comparison re-reads MariaDB right after the API
 * answer, with no load running, so "different" can only mean "stale". */
#include "fresh.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wire.h"

#define FRESH_SETTLE_MS 15000 /* how long to wait for the cache to serve again */
#define FRESH_USERS_READ 12   /* users whose cached rows are compared */

static const char *xc_name(int xc)
{
    static const char *const names[] = {"-", "HIT", "MISS", "BYPASS"};

    return names[xc & 3];
}

struct fresh {
    void *w;
    const char *base;
    struct verify *v;
    const char *when; /* "after recovery" / "after a write" */
};

/* GET path twice (the second is served from the cache when the first stored
 * it); calls cmp(json, xcache, ctx) on each 200 answer. */
static void read_twice(struct fresh *fr, const char *path, const char *token,
                       void (*cmp)(struct fresh *fr, json_object *o, const char *path, int xc,
                                   void *ctx),
                       void *ctx)
{
    struct wire_reply r;
    char url[512];
    json_object *o;
    int i;

    snprintf(url, sizeof(url), "%s%s", fr->base, path);
    for (i = 0; i < 2; i++) {
        wire_call(fr->w, "GET", url, NULL, NULL, token, &r);
        if (r.status != 200) {
            verify_note(fr->v, "%s: GET %s answered %d", fr->when, path, r.status);
        } else {
            o = json_tokener_parse(r.body ? r.body : "");
            cmp(fr, o, path, r.xcache, ctx);
            json_object_put(o);
        }
        wire_reply_free(&r);
    }
}

static long long jll(json_object *o, const char *key)
{
    json_object *x;

    if (o == NULL || !json_object_object_get_ex(o, key, &x))
        return -1;
    return json_object_get_int64(x);
}

static double jd(json_object *o, const char *key)
{
    json_object *x;

    if (o == NULL || !json_object_object_get_ex(o, key, &x))
        return NAN;
    return json_object_get_double(x);
}

static void stale(struct fresh *fr, const char *path, int xc, const char *what, double got,
                  double want)
{
    fr->v->fresh_checked++;
    if (fabs(got - want) <= 0.006)
        return;
    fr->v->fresh_stale++;
    verify_note(fr->v, "STALE %s: GET %s (X-Cache %s) %s = %g, MariaDB %g", fr->when, path, xc_name(xc),
         what, got, want);
}

struct totals {
    double users, active, missions, avg;
};

static void totals_row(char **f, int n, void *ctx)
{
    struct totals *t = ctx;

    if (n >= 4) {
        t->users = atof(f[0]);
        t->active = atof(f[1]);
        t->missions = atof(f[2]);
        t->avg = atof(f[3]);
    }
}

static void cmp_user_stats(struct fresh *fr, json_object *o, const char *path, int xc, void *ctx)
{
    struct totals t = {0};

    (void)ctx;
    verify_sql("SELECT COUNT(*), COALESCE(SUM(is_active <> 0), 0), "
               "COALESCE(SUM(missions_completed), 0), COALESCE(AVG(experience_points), 0) "
               "FROM users", totals_row, &t);
    stale(fr, path, xc, "total_users", (double)jll(o, "total_users"), t.users);
    stale(fr, path, xc, "active_users", (double)jll(o, "active_users"), t.active);
    stale(fr, path, xc, "total_missions_completed", (double)jll(o, "total_missions_completed"),
          t.missions);
    stale(fr, path, xc, "average_experience", jd(o, "average_experience"),
          floor(t.avg * 100 + 0.5) / 100);
}

struct leaders {
    char names[10][64];
    long xp[10];
    int n;
};

static void leader_row(char **f, int n, void *ctx)
{
    struct leaders *ls = ctx;

    if (n >= 2 && ls->n < 10) {
        snprintf(ls->names[ls->n], sizeof(ls->names[0]), "%s", f[0]);
        ls->xp[ls->n++] = atol(f[1]);
    }
}

static void cmp_leaderboard(struct fresh *fr, json_object *o, const char *path, int xc, void *ctx)
{
    struct leaders ls = {.n = 0};
    json_object *arr = NULL, *e;
    int i, n;

    (void)ctx;
    verify_sql("SELECT username, experience_points FROM users "
               "ORDER BY experience_points DESC, id ASC LIMIT 10", leader_row, &ls);
    if (o != NULL)
        json_object_object_get_ex(o, "leaderboard", &arr);
    n = arr ? (int)json_object_array_length(arr) : -1;
    fr->v->fresh_checked++;
    if (n != ls.n) {
        fr->v->fresh_stale++;
        verify_note(fr->v, "STALE %s: GET %s (X-Cache %s) has %d entries, MariaDB %d", fr->when, path,
             xc_name(xc), n, ls.n);
        return;
    }
    for (i = 0; i < n; i++) {
        json_object *un;

        e = json_object_array_get_idx(arr, (size_t)i);
        fr->v->fresh_checked++;
        if (!json_object_object_get_ex(e, "username", &un) ||
            strcmp(json_object_get_string(un), ls.names[i]) != 0 ||
            jll(e, "experience_points") != ls.xp[i]) {
            fr->v->fresh_stale++;
            verify_note(fr->v, "STALE %s: GET %s (X-Cache %s) rank %d is %s/%lld, MariaDB %s/%ld",
                 fr->when, path, xc_name(xc), i + 1, json_object_get_string(un),
                 jll(e, "experience_points"), ls.names[i], ls.xp[i]);
            return;
        }
    }
}

struct attempts {
    long n[LOAD_MISSIONS + 1];
};

static void attempts_row(char **f, int n, void *ctx)
{
    struct attempts *a = ctx;
    int m;

    if (n >= 2 && (m = atoi(f[0])) >= 1 && m <= LOAD_MISSIONS)
        a->n[m] = atol(f[1]);
}

static void cmp_mission_stats(struct fresh *fr, json_object *o, const char *path, int xc,
                              void *ctx)
{
    struct attempts want = {{0}}, got = {{0}};
    json_object *arr = NULL, *e;
    size_t i;
    int m;
    char what[32];

    (void)ctx;
    verify_sql("SELECT mission_id, COUNT(*) FROM mission_progress GROUP BY mission_id",
               attempts_row, &want);
    if (o != NULL)
        json_object_object_get_ex(o, "missions", &arr);
    for (i = 0; arr != NULL && i < json_object_array_length(arr); i++) {
        e = json_object_array_get_idx(arr, i);
        m = (int)jll(e, "mission_id");
        if (m >= 1 && m <= LOAD_MISSIONS)
            got.n[m] = jll(e, "total_attempts");
    }
    for (m = 1; m <= LOAD_MISSIONS; m++) {
        snprintf(what, sizeof(what), "mission %d total_attempts", m);
        stale(fr, path, xc, what, (double)got.n[m], (double)want.n[m]);
    }
}

struct urow {
    long xp, missions;
};

static void urow_row(char **f, int n, void *ctx)
{
    struct urow *u = ctx;

    if (n >= 2) {
        u->xp = atol(f[0]);
        u->missions = atol(f[1]);
    }
}

static void cmp_user(struct fresh *fr, json_object *o, const char *path, int xc, void *ctx)
{
    long id = *(const long *)ctx;
    struct urow u = {-1, -1};
    char q[160];
    int perf = strstr(path, "/performance") != NULL;

    snprintf(q, sizeof(q), "SELECT experience_points, missions_completed FROM users WHERE id = %ld",
             id);
    verify_sql(q, urow_row, &u);
    stale(fr, path, xc, perf ? "total_experience" : "experience_points",
          (double)jll(o, perf ? "total_experience" : "experience_points"), (double)u.xp);
    stale(fr, path, xc, "missions_completed", (double)jll(o, "missions_completed"),
          (double)u.missions);
}

static void read_all(struct fresh *fr, const long *ids, const char *const *tokens, int n)
{
    char path[160];
    int i;

    read_twice(fr, "/api/analytics/users/stats", NULL, cmp_user_stats, NULL);
    read_twice(fr, "/api/analytics/leaderboard?limit=10", NULL, cmp_leaderboard, NULL);
    read_twice(fr, "/api/analytics/missions/stats", NULL, cmp_mission_stats, NULL);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "/api/users/%ld", ids[i]);
        read_twice(fr, path, NULL, cmp_user, (void *)&ids[i]);
        if (tokens[i] != NULL && tokens[i][0] != '\0') {
            snprintf(path, sizeof(path), "/api/analytics/users/%ld/performance", ids[i]);
            read_twice(fr, path, tokens[i], cmp_user, (void *)&ids[i]);
        }
    }
}

/* Waits until /health is 200 and a cached GET is not BYPASS. */
static int settle(struct fresh *fr)
{
    struct wire_reply r;
    char health[256], stats[256];
    int64_t t0 = wire_now_us();
    int ok = 0;

    snprintf(health, sizeof(health), "%s/health", fr->base);
    snprintf(stats, sizeof(stats), "%s/api/analytics/users/stats", fr->base);
    while (!ok && wire_now_us() - t0 < (int64_t)FRESH_SETTLE_MS * 1000) {
        wire_call(fr->w, "GET", health, NULL, NULL, NULL, &r);
        ok = r.status == 200;
        wire_reply_free(&r);
        if (ok) {
            wire_call(fr->w, "GET", stats, NULL, NULL, NULL, &r);
            ok = r.status == 200 && r.xcache != WIRE_XC_BYPASS && r.xcache != WIRE_XC_NONE;
            wire_reply_free(&r);
        }
        if (!ok)
            usleep(50000);
    }
    fr->v->settle_ms = (long)((wire_now_us() - t0) / 1000);
    return ok ? 0 : -1;
}

/* One more write that touches every cached family: the next mission of a
 * user of the load whose rows the reads before have just cached (user:{id},
 * perf:{id}), recorded in that user's ledger so verify_writes checks it too;
 * else a user of its own (register, log in, mission 1). Fills id and tok
 * (the user's) and returns 0 when the write was acknowledged. */
static int fresh_write(struct fresh *fr, struct load *l, long *id, char *tok, size_t tsz)
{
    struct wire_reply r;
    char url[512], body[256], name[64];
    json_object *o, *x;
    struct load_user *u = NULL;
    int c, m = 1, ok = 0;
    size_t i;

    for (c = 0; c < l->nclients && u == NULL; c++)
        for (i = 0; i < l->clients[c].nusers && u == NULL; i++)
            if (l->clients[c].users[i].token[0] != '\0' &&
                l->clients[c].users[i].next_mission <= LOAD_MISSIONS)
                u = &l->clients[c].users[i];
    if (u != NULL) {
        *id = u->id;
        snprintf(tok, tsz, "%s", u->token);
        m = u->next_mission++;
        u->score[m] = 100;
    } else {
        snprintf(name, sizeof(name), "%s_v%ld", l->tag, (long)getpid());
        snprintf(url, sizeof(url), "%s/api/auth/register", fr->base);
        snprintf(body, sizeof(body),
                 "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"chaos-pass-1\"}",
                 name, name);
        wire_call(fr->w, "POST", url, "application/json", body, NULL, &r);
        o = r.status == 201 && r.body ? json_tokener_parse(r.body) : NULL;
        *id = (long)jll(o, "id");
        json_object_put(o);
        wire_reply_free(&r);
        if (*id <= 0)
            return -1;
        snprintf(url, sizeof(url), "%s/api/auth/token", fr->base);
        snprintf(body, sizeof(body), "username=%s&password=chaos-pass-1", name);
        wire_call(fr->w, "POST", url, "application/x-www-form-urlencoded", body, NULL, &r);
        o = r.status == 200 && r.body ? json_tokener_parse(r.body) : NULL;
        if (o != NULL && json_object_object_get_ex(o, "access_token", &x))
            snprintf(tok, tsz, "%s", json_object_get_string(x));
        json_object_put(o);
        wire_reply_free(&r);
        if (tok[0] == '\0')
            return -1;
    }
    snprintf(url, sizeof(url), "%s/api/users/%ld/missions/%d/complete?score=100", fr->base, *id,
             m);
    wire_call(fr->w, "POST", url, NULL, NULL, tok, &r);
    if (r.status == 200) {
        o = r.body ? json_tokener_parse(r.body) : NULL;
        if (u != NULL && jll(o, "total_experience") >= 0) {
            u->done_acked |= 1u << m;
            u->last_total = (long)jll(o, "total_experience");
        }
        json_object_put(o);
        ok = 1;
    } else if (u != NULL) {
        u->tainted = 1;
    }
    wire_reply_free(&r);
    return ok ? 0 : -1;
}

int fresh_check(struct load *l, const char *base_url, struct verify *v)
{
    struct fresh fr = {.base = base_url, .v = v, .when = "after recovery"};
    long ids[FRESH_USERS_READ + 1];
    const char *tokens[FRESH_USERS_READ + 1];
    char tok[640] = "";
    int n = 0, c, before = v->problems;
    size_t i;

    fr.w = wire_open(10000);
    if (fr.w == NULL)
        return ++v->problems;
    if (settle(&fr) != 0)
        verify_note(v, "the cache did not serve again within %d ms of the load's end", FRESH_SETTLE_MS);
    /* the most recently written users of each client: the rows the fault may have left stale */
    for (c = 0; c < l->nclients && n < FRESH_USERS_READ; c++) {
        const struct load_client *cl = &l->clients[c];

        for (i = cl->nusers; i > 0 && n < FRESH_USERS_READ && i + 2 > cl->nusers; i--) {
            ids[n] = cl->users[i - 1].id;
            tokens[n++] = cl->users[i - 1].token;
        }
    }
    read_all(&fr, ids, tokens, n);
    fr.when = "after a write";
    if (fresh_write(&fr, l, &ids[n], tok, sizeof(tok)) != 0) {
        verify_note(v, "the post-recovery write (a mission completion) failed");
    } else {
        for (c = 0; c < n && ids[c] != ids[n]; c++)
            ;
        tokens[c] = tok;
        read_all(&fr, ids, tokens, c == n ? n + 1 : n);
    }
    wire_close(fr.w);
    return v->problems - before;
}
