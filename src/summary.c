/* summary: see summary.h. Entries are appended; when the array is full it is
 * compacted (sorted, equal keys summed) before it grows, so a bulk writer
 * (seeding thousands of users) keeps one entry per distinct key. */
#include "summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void summary_init(struct summary_delta *d)
{
    d->e = NULL;
    d->len = d->cap = 0;
    d->failed = false;
}

void summary_cleanup(struct summary_delta *d)
{
    if (d == NULL)
        return;
    free(d->e);
    summary_init(d);
}

void summary_clear(struct summary_delta *d)
{
    d->len = 0;
    d->failed = false;
}

static int cmp_key(const struct summary_entry *a, const struct summary_entry *b)
{
    if (a->metric != b->metric)
        return a->metric < b->metric ? -1 : 1;
    if (a->k != b->k)
        return a->k < b->k ? -1 : 1;
    return strcmp(a->name, b->name);
}

static int cmp_entry(const void *a, const void *b)
{
    return cmp_key(a, b);
}

void summary_finish(struct summary_delta *d)
{
    size_t w = 0;

    if (d->failed || d->len == 0)
        return;
    qsort(d->e, d->len, sizeof(d->e[0]), cmp_entry);
    for (size_t r = 0; r < d->len; r++) {
        if (w > 0 && cmp_key(&d->e[w - 1], &d->e[r]) == 0) {
            d->e[w - 1].n += d->e[r].n;
            continue;
        }
        if (w > 0 && d->e[w - 1].n == 0)
            w--; /* the previous key summed to zero: overwrite it */
        if (w != r)
            d->e[w] = d->e[r];
        w++;
    }
    if (w > 0 && d->e[w - 1].n == 0)
        w--;
    d->len = w;
}

/* Room for one more entry: compacts first, grows when that freed little. */
static int reserve(struct summary_delta *d)
{
    struct summary_entry *ne;
    size_t ncap;

    if (d->len < d->cap)
        return 0;
    if (d->cap > 0) {
        summary_finish(d);
        if (d->len < d->cap / 2)
            return 0;
    }
    ncap = d->cap ? d->cap * 2 : 16;
    if ((ne = realloc(d->e, ncap * sizeof(*ne))) == NULL)
        return -1;
    d->e = ne;
    d->cap = ncap;
    return 0;
}

void summary_add(struct summary_delta *d, int metric, long long k, const char *name,
                 long long n)
{
    struct summary_entry *e;

    if (d->failed || n == 0)
        return;
    if (name == NULL)
        name = "";
    if (strlen(name) >= SUMMARY_NAME_SZ || reserve(d) != 0) {
        d->failed = true;
        return;
    }
    e = &d->e[d->len++];
    e->metric = metric;
    e->k = k;
    strcpy(e->name, name);
    e->n = n;
}

void summary_add_user(struct summary_delta *d, const struct summary_user *u, int sign)
{
    summary_add(d, SUMMARY_USERS, 0, NULL, sign);
    summary_add(d, SUMMARY_ACTIVE, 0, NULL, u->is_active ? sign : 0);
    summary_add(d, SUMMARY_MISSIONS, 0, NULL, sign * u->missions_completed);
    summary_add(d, SUMMARY_XP, 0, NULL, sign * u->experience_points);
    summary_add(d, SUMMARY_RANK, 0, u->guild_rank, sign);
    summary_add(d, SUMMARY_XP_USERS, u->experience_points, NULL, sign);
}

void summary_add_progress(struct summary_delta *d, long long mission_id, bool completed,
                          long long score_units, int sign)
{
    summary_add(d, SUMMARY_ATTEMPTS, mission_id, NULL, sign);
    summary_add(d, SUMMARY_COMPLETED, mission_id, NULL, completed ? sign : 0);
    summary_add(d, SUMMARY_SCORE, mission_id, NULL, sign * score_units);
}

bool summary_is_empty(const struct summary_delta *d)
{
    for (size_t i = 0; i < d->len; i++)
        if (d->e[i].n != 0)
            return false;
    return true;
}

long summary_compare(const struct summary_delta *want, const struct summary_delta *have,
                     int (*fn)(const struct summary_entry *key, long long want_n,
                               long long have_n, void *ctx),
                     void *ctx)
{
    size_t i = 0, j = 0;
    long diffs = 0;

    while (i < want->len || j < have->len) {
        const struct summary_entry *key;
        long long w = 0, h = 0;
        int c = i >= want->len ? 1 : j >= have->len ? -1 : cmp_key(&want->e[i], &have->e[j]);

        if (c <= 0)
            w = want->e[i].n;
        if (c >= 0)
            h = have->e[j].n;
        key = c <= 0 ? &want->e[i] : &have->e[j];
        i += c <= 0;
        j += c >= 0;
        if (w == h)
            continue;
        diffs++;
        if (fn != NULL && fn(key, w, h, ctx) != 0)
            return -1;
    }
    return diffs;
}

/* ---- JSON for the apply statement ---------------------------------------- */

/* A JSON string of s: quotes, backslashes and control bytes escaped; other
 * bytes (UTF-8 from the database) copied. Needs at most 6 * strlen + 2. */
static char *put_json_str(char *w, const char *s)
{
    *w++ = '"';
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (c == '"' || c == '\\') {
            *w++ = '\\';
            *w++ = (char)c;
        } else if (c < 0x20) {
            w += sprintf(w, "\\u%04x", c);
        } else {
            *w++ = (char)c;
        }
    }
    *w++ = '"';
    return w;
}

char *summary_to_json(const struct summary_delta *d, size_t from, size_t to, bool lead)
{
    /* "[1,0,\"\",0]," + per entry: two numbers of <= 20 chars, the name, punctuation */
    size_t cap = 16 + 16, i;
    char *buf, *w;

    if (to > d->len)
        to = d->len;
    if (from > to)
        from = to;
    for (i = from; i < to; i++)
        cap += 2 * 21 + 6 * strlen(d->e[i].name) + 16;
    if ((buf = malloc(cap)) == NULL)
        return NULL;
    w = buf;
    *w++ = '[';
    if (lead && !(from < to && d->e[from].metric == SUMMARY_USERS && d->e[from].k == 0 &&
                  d->e[from].name[0] == '\0'))
        w += sprintf(w, "[%d,0,\"\",0]%s", SUMMARY_USERS, from < to ? "," : "");
    for (i = from; i < to; i++) {
        w += sprintf(w, "%s[%d,%lld,", i > from ? "," : "", d->e[i].metric, d->e[i].k);
        w = put_json_str(w, d->e[i].name);
        w += sprintf(w, ",%lld]", d->e[i].n);
    }
    *w++ = ']';
    *w = '\0';
    return buf;
}
