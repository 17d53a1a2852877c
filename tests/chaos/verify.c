/* verify: see verify.h. The acknowledged writes are gathered from every
 * client's ledger into one array sorted by user id; MariaDB's rows are looked
 * up in it with bsearch, so a soak's thousands of users cost milliseconds. */
#include "verify.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire.h"

void verify_note(struct verify *v, const char *fmt, ...)
{
    size_t len = strlen(v->notes);
    va_list ap;

    v->problems++;
    if (len + 8 >= sizeof(v->notes))
        return;
    if (len > 0)
        v->notes[len++] = ';', v->notes[len++] = ' ';
    va_start(ap, fmt);
    vsnprintf(v->notes + len, sizeof(v->notes) - len, fmt, ap);
    va_end(ap);
}

long verify_sql(const char *query, void (*row)(char **f, int n, void *ctx), void *ctx)
{
    const char *cli = getenv("MYSQL_CLI");
    char line[4096], *f[16], *p, *nl;
    long rows = 0;
    FILE *fp;
    int n;

    if (cli == NULL || *cli == '\0') {
        fprintf(stderr, "chaos: MYSQL_CLI is not set (source the stack.env)\n");
        return -1;
    }
    /* the query travels in the environment, so no shell quoting can break it */
    setenv("CHAOS_SQL", query, 1);
    fp = popen("$MYSQL_CLI -N -B -e \"$CHAOS_SQL\"", "r");
    if (fp == NULL)
        return -1;
    while (fgets(line, sizeof(line), fp) != NULL) {
        if ((nl = strchr(line, '\n')) != NULL)
            *nl = '\0';
        n = 0;
        p = line;
        f[n++] = p;
        while (n < 16 && (p = strchr(p, '\t')) != NULL) {
            *p++ = '\0';
            f[n++] = p;
        }
        if (row != NULL)
            row(f, n, ctx);
        rows++;
    }
    return pclose(fp) == 0 ? rows : -1;
}

/* ---- acknowledged writes ------------------------------------------------ */

struct acked {
    const struct load_user *u;
    int db_seen;
    long db_xp, db_missions;
    long rows_xp, rows_done; /* from the progress rows */
    unsigned rows_any, rows_completed;
    int score_bad;
};

struct acked_set {
    struct acked *a;
    size_t n;
    struct verify *v;
};

static int by_id(const void *x, const void *y)
{
    long a = ((const struct acked *)x)->u->id, b = ((const struct acked *)y)->u->id;

    return (a > b) - (a < b);
}

static struct acked *find(struct acked_set *s, long id)
{
    struct load_user key = {.id = id};
    struct acked k = {.u = &key};

    return bsearch(&k, s->a, s->n, sizeof(*s->a), by_id);
}

static void user_row(char **f, int n, void *ctx)
{
    struct acked_set *s = ctx;
    struct acked *a;

    if (n < 4 || (a = find(s, atol(f[0]))) == NULL)
        return;
    if (strcmp(a->u->name, f[1]) != 0) {
        verify_note(s->v, "user %ld is named %s in MariaDB, %s was acknowledged", a->u->id, f[1],
             a->u->name);
        return;
    }
    a->db_seen = 1;
    a->db_xp = atol(f[2]);
    a->db_missions = atol(f[3]);
}

static void progress_row(char **f, int n, void *ctx)
{
    struct acked_set *s = ctx;
    struct acked *a;
    int m;
    double score;

    if (n < 4 || (a = find(s, atol(f[0]))) == NULL)
        return;
    m = atoi(f[1]);
    if (m < 1 || m > LOAD_MISSIONS)
        return;
    a->rows_any |= 1u << m;
    if (strcmp(f[2], "completed") == 0) {
        score = atof(f[3]);
        a->rows_completed |= 1u << m;
        a->rows_done++;
        a->rows_xp += (long)floor(score / 10.0);
        if ((a->u->done_acked & (1u << m)) && fabs(score - a->u->score[m]) > 1e-9)
            a->score_bad = 1;
    }
}

static int popcount(unsigned x)
{
    return __builtin_popcount(x);
}

int verify_writes(const struct load *l, struct verify *v)
{
    struct acked_set s = {.v = v};
    char q[512];
    size_t i, k;
    int c, before = v->problems;

    for (c = 0; c < l->nclients; c++)
        s.n += l->clients[c].nusers;
    s.a = calloc(s.n ? s.n : 1, sizeof(*s.a));
    if (s.a == NULL)
        return ++v->problems;
    for (c = 0, k = 0; c < l->nclients; c++)
        for (i = 0; i < l->clients[c].nusers; i++)
            s.a[k++].u = &l->clients[c].users[i];
    qsort(s.a, s.n, sizeof(*s.a), by_id);

    /* the load's users all start with "<tag>_": one range scan of the unique index */
    snprintf(q, sizeof(q),
             "SELECT id, username, experience_points, missions_completed FROM users "
             "WHERE username >= '%s_' AND username < '%s`'", l->tag, l->tag);
    if (verify_sql(q, user_row, &s) < 0)
        verify_note(v, "could not read the users from MariaDB");
    snprintf(q, sizeof(q),
             "SELECT p.user_id, p.mission_id, p.status, p.score FROM mission_progress p "
             "JOIN users u ON u.id = p.user_id WHERE u.username >= '%s_' AND u.username < '%s`'",
             l->tag, l->tag);
    if (verify_sql(q, progress_row, &s) < 0)
        verify_note(v, "could not read the progress rows from MariaDB");

    for (i = 0; i < s.n; i++) {
        struct acked *a = &s.a[i];
        const struct load_user *u = a->u;
        unsigned lost;

        v->users_acked++;
        v->starts_acked += popcount(u->started_acked);
        v->completions_acked += popcount(u->done_acked);
        if (!a->db_seen) {
            verify_note(v, "acknowledged user %ld (%s) is not in MariaDB", u->id, u->name);
            continue;
        }
        v->users_found++;
        v->starts_found += popcount(u->started_acked & a->rows_any);
        v->completions_found += popcount(u->done_acked & a->rows_completed);
        if ((lost = u->started_acked & ~a->rows_any) != 0)
            verify_note(v, "user %ld: acknowledged starts missing (mask %#x)", u->id, lost);
        if ((lost = u->done_acked & ~a->rows_completed) != 0)
            verify_note(v, "user %ld: acknowledged completions missing (mask %#x)", u->id, lost);
        if (a->score_bad)
            verify_note(v, "user %ld: a completion's score differs from the one sent", u->id);
        v->totals_checked++;
        /* true whatever happened to the unacknowledged writes */
        if (a->db_xp != a->rows_xp || a->db_missions != a->rows_done) {
            v->totals_bad++;
            verify_note(v, "user %ld: MariaDB has %ld XP / %ld missions, its progress rows say %ld / %ld",
                 u->id, a->db_xp, a->db_missions, a->rows_xp, a->rows_done);
        } else if (a->db_xp < u->last_total) {
            v->totals_bad++;
            verify_note(v, "user %ld: %ld XP in MariaDB, %ld was acknowledged", u->id, a->db_xp,
                 u->last_total);
        } else if (!u->tainted && (a->db_xp != u->last_total ||
                                   a->db_missions != popcount(u->done_acked))) {
            /* every write of this user got a definite answer: exact totals */
            v->totals_bad++;
            verify_note(v, "user %ld: %ld XP / %ld missions in MariaDB, acknowledged %ld / %d", u->id,
                 a->db_xp, a->db_missions, u->last_total, popcount(u->done_acked));
        }
    }
    free(s.a);
    return v->problems - before;
}

/* ---- sessions ----------------------------------------------------------- */

int verify_sessions(const struct load *l, const char *base_url, struct verify *v)
{
    void *w = wire_open(10000);
    struct wire_reply r;
    char url[512];
    int c, before = v->problems;
    size_t i;

    if (w == NULL)
        return ++v->problems;
    for (c = 0; c < l->nclients; c++) {
        const struct load_client *cl = &l->clients[c];

        for (i = 0; i < cl->nsessions; i++) {
            const struct load_session *s = &cl->sessions[i];

            v->sessions_acked++;
            snprintf(url, sizeof(url), "%s/api/sessions/%s", base_url, s->id);
            wire_call(w, "GET", url, NULL, NULL, cl->users[s->user].token, &r);
            if (r.status == 200)
                v->sessions_found++;
            else if (r.status == 404 && v->session_loss_allowed)
                v->sessions_lost++;
            else
                verify_note(v, "acknowledged session %s: GET answered %d", s->id, r.status);
            wire_reply_free(&r);
        }
    }
    wire_close(w);
    return v->problems - before;
}
