/* seed: demo data for `guildctl seed`; see seed.h.
 * DESIGN: every user's plan is a pure function of (seed, index, run totals),
 * so runs are reproducible and the totals on the user row are computed from
 * the very rows that get inserted. The bulk goes in as one JSON array per
 * statement, bound as a single parameter and unpacked by JSON_TABLE: a
 * prepared, cached, static statement per table whatever the batch size
 * (db.c binds at most DB_MAX_PARAMS parameters, far too few for multi-row
 * VALUES lists). The JSON is generated here from catalogue and name tables,
 * never from user input. Each chunk also adds what it inserted to the
 * analytics counters (db_summary.c) before it commits, computed from the
 * same plans, so seeding keeps them exact without a rescan. */
#include "seed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "db_summary.h"
#include "missions.h"
#include "summary.h"

#define SEED_BATCH_GROUPS 100 /* 1000 users (and their progress) per statement */
#define SEED_TX_BATCHES 10    /* commit every 10000 users */
#define SEED_BATCH_USERS (SEED_BATCH_GROUPS * SEED_GROUP_USERS)
#define SEED_YEAR_S (365LL * 86400)
#define SEED_USER_JSON_MAX 512     /* one users row, escaped, with slack */
#define SEED_PROGRESS_JSON_MAX 384 /* one mission_progress row */

/* ---- PRNG -------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);

    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void seed_rng_init(struct seed_rng *r, uint64_t seed, uint64_t stream)
{
    uint64_t st = stream ^ 0x5EED5EED5EED5EEDULL, x = seed;

    /* fold the stream in through one splitmix step so nearby streams diverge */
    x ^= splitmix64(&st);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t seed_rng_next(struct seed_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t seed_rng_below(struct seed_rng *r, uint64_t n)
{
    uint64_t limit, v;

    if (n == 0)
        return 0;
    limit = UINT64_MAX - UINT64_MAX % n; /* reject the short last bucket */
    do {
        v = seed_rng_next(r);
    } while (v >= limit);
    return v % n;
}

/* ---- plans --------------------------------------------------------------- */

/* Streams: even numbers for users (2 * index), odd for groups. */
static uint64_t user_stream(long long index)
{
    return (uint64_t)index * 2;
}

static uint64_t group_stream(long long first_index)
{
    return (uint64_t)first_index * 2 + 1;
}

static bool params_ok(const struct seed_params *p)
{
    return p->users >= 0 && p->users <= SEED_MAX_USERS && p->progress >= 0 &&
           p->progress <= (long long)MISSIONS_COUNT * p->users && p->first_index >= 1;
}

long long seed_groups(const struct seed_params *p)
{
    if (!params_ok(p))
        return 0;
    return (p->users + SEED_GROUP_USERS - 1) / SEED_GROUP_USERS;
}

/* Progress rows owed to the run's first i users: an exact, even split of
 * p->progress that groups then share out unevenly among their members. */
static long long share(const struct seed_params *p, long long i)
{
    return p->users == 0 ? 0 : p->progress * i / p->users; /* < 1.3e15: no overflow */
}

int seed_group_counts(const struct seed_params *p, long long g, int counts[SEED_GROUP_USERS])
{
    long long start = g * SEED_GROUP_USERS, end, total;
    unsigned weight[SEED_GROUP_USERS];
    struct seed_rng r;
    int n;

    if (g < 0 || g >= seed_groups(p))
        return 0;
    end = start + SEED_GROUP_USERS < p->users ? start + SEED_GROUP_USERS : p->users;
    n = (int)(end - start);
    /* total <= MISSIONS_COUNT * n because progress <= MISSIONS_COUNT * users */
    total = share(p, end) - share(p, start);
    seed_rng_init(&r, p->seed, group_stream(p->first_index + start));
    for (int i = 0; i < n; i++) {
        counts[i] = 0;
        weight[i] = 1u << seed_rng_below(&r, 4); /* 1..8: a few keen users, many casual */
    }
    for (long long t = 0; t < total; t++) {
        uint64_t sum = 0, x;
        int i;

        for (i = 0; i < n; i++)
            sum += counts[i] < MISSIONS_COUNT ? weight[i] : 0;
        x = seed_rng_below(&r, sum);
        for (i = 0; i < n; i++) {
            if (counts[i] >= MISSIONS_COUNT)
                continue;
            if (x < weight[i])
                break;
            x -= weight[i];
        }
        counts[i]++;
    }
    return n;
}

static const char *const first_names[] = {
    "Aria",   "Bran",   "Cora",  "Dorian", "Elena", "Finn",   "Greta", "Hugo",  "Iris",
    "Jonas",  "Kira",   "Leo",   "Mira",   "Nolan", "Orla",   "Piers", "Quinn", "Rosa",
    "Silas",  "Tessa",  "Ulric", "Vera",   "Wren",  "Xander", "Yara",  "Zane",  "Amara",
    "Basil",  "Celia",  "Dante", "Esme",   "Felix", "Gwen",   "Hana",  "Ivo",   "Juno",
    "Kaito",  "Lena",   "Mateo", "Nadia",  "Omar",  "Priya",  "Rhea",  "Sven",  "Talia",
    "Umar",   "Viola",  "Wyatt",
};

static const char *const last_names[] = {
    "Stone",  "Ashford", "Blackwood", "Carver", "Dunmore", "Everly", "Fairbank", "Garrow",
    "Hale",   "Ironside", "Jarvis",   "Kestrel", "Lockwood", "Marsh", "Northcott", "Oakley",
    "Pryce",  "Quill",   "Ravenscroft", "Sterling", "Thorne", "Underhill", "Vale", "Whitlock",
    "Yardley", "Zeller", "Brightwater", "Cole",  "Drake",   "Emberly", "Frost",  "Grimsby",
    "Holt",   "Ivers",   "Kane",    "Larkin",  "Moreau",  "Nash",    "Orwell", "Pike",
};

#define NFIRST (sizeof(first_names) / sizeof(first_names[0]))
#define NLAST (sizeof(last_names) / sizeof(last_names[0]))

void seed_user_prefix(uint64_t seed, char *buf, size_t sz)
{
    snprintf(buf, sz, "seed%llu_", (unsigned long long)seed);
}

static void lower_copy(char *dst, const char *src, size_t sz)
{
    size_t i;

    for (i = 0; i + 1 < sz && src[i] != '\0'; i++)
        dst[i] = (src[i] >= 'A' && src[i] <= 'Z') ? (char)(src[i] - 'A' + 'a') : src[i];
    dst[i] = '\0';
}

static void plan_identity(struct seed_rng *r, uint64_t seed, struct seed_user *u)
{
    const char *first = first_names[seed_rng_below(r, NFIRST)];
    const char *last = last_names[seed_rng_below(r, NLAST)];
    char lf[16], ll[16];

    lower_copy(lf, first, sizeof(lf));
    lower_copy(ll, last, sizeof(ll));
    /* "seed42_000001234_aria_stone": the padded index keeps the usernames of
     * one seed in index order, which seed_next_index() relies on */
    snprintf(u->username, sizeof(u->username), "seed%llu_%09lld_%.12s_%.12s",
             (unsigned long long)seed, u->index, lf, ll);
    snprintf(u->full_name, sizeof(u->full_name), "%s %s", first, last);
    u->has_full_name = seed_rng_below(r, 100) >= 8;
    u->is_active = seed_rng_below(r, 100) < 95;
}

/* Picks count distinct missions, in id order: most users work through the
 * catalogue from the start, the rest pick and choose. */
static void pick_missions(struct seed_rng *r, int count, int *ids)
{
    int pool[MISSIONS_COUNT];

    for (int i = 0; i < MISSIONS_COUNT; i++)
        pool[i] = i + 1;
    if (seed_rng_below(r, 100) >= 60) {
        for (int i = 0; i < count; i++) { /* partial Fisher-Yates */
            int j = i + (int)seed_rng_below(r, (uint64_t)(MISSIONS_COUNT - i)), t = pool[i];

            pool[i] = pool[j];
            pool[j] = t;
        }
        for (int i = 1; i < count; i++) /* insertion sort: at most 13 */
            for (int j = i; j > 0 && pool[j - 1] > pool[j]; j--) {
                int t = pool[j];

                pool[j] = pool[j - 1];
                pool[j - 1] = t;
            }
    }
    memcpy(ids, pool, (size_t)count * sizeof(*ids));
}

static void plan_progress(struct seed_rng *r, long long now, struct seed_user *u)
{
    int ids[MISSIONS_COUNT];

    pick_missions(r, u->nprogress, ids);
    u->missions_completed = 0;
    u->experience_points = 0;
    for (int i = 0; i < u->nprogress; i++) {
        struct seed_progress *pr = &u->progress[i];

        pr->mission_id = ids[i];
        pr->started_at =
            u->created_at + (long long)seed_rng_below(r, (uint64_t)(now - u->created_at) + 1);
        pr->completed = seed_rng_below(r, 100) < 65;
        if (!pr->completed) {
            pr->score = 0;
            pr->completed_at = -1;
            continue;
        }
        pr->score = 40.0 + (double)seed_rng_below(r, 121) / 2.0; /* 40.0..100.0 by halves */
        pr->completed_at = pr->started_at + 600 + (long long)seed_rng_below(r, 14 * 86400);
        if (pr->completed_at > now)
            pr->completed_at = now;
        u->missions_completed++;
        u->experience_points += missions_xp(pr->score);
    }
    u->guild_rank = missions_rank(u->missions_completed);
}

int seed_plan_group(const struct seed_params *p, long long g,
                    struct seed_user out[SEED_GROUP_USERS])
{
    int counts[SEED_GROUP_USERS];
    int n = seed_group_counts(p, g, counts);

    for (int i = 0; i < n; i++) {
        struct seed_user *u = &out[i];
        struct seed_rng r;

        u->index = p->first_index + g * SEED_GROUP_USERS + i;
        seed_rng_init(&r, p->seed, user_stream(u->index));
        plan_identity(&r, p->seed, u);
        u->created_at = p->now - 1 - (long long)seed_rng_below(&r, SEED_YEAR_S);
        u->nprogress = counts[i];
        plan_progress(&r, p->now, u);
    }
    return n;
}

/* ---- JSON batches -------------------------------------------------------- */

struct jbuf {
    char *p;
    size_t len, cap;
};

static int jb_reserve(struct jbuf *b, size_t extra)
{
    char *np;
    size_t ncap;

    if (b->len + extra <= b->cap)
        return 0;
    ncap = b->cap ? b->cap : 65536;
    while (ncap < b->len + extra)
        ncap *= 2;
    if ((np = realloc(b->p, ncap)) == NULL)
        return -1;
    b->p = np;
    b->cap = ncap;
    return 0;
}

/* The put_* helpers write into space jb_reserve() made and return the end. */
static char *put_ll(char *w, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

    if (v < 0)
        *w++ = '-';
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    while (n > 0)
        *w++ = tmp[--n];
    return w;
}

/* A JSON string; escapes '"' and '\\' (the generated text has no control
 * characters), so at most 2 * strlen + 2 bytes. */
static char *put_str(char *w, const char *s)
{
    *w++ = '"';
    for (; *s != '\0'; s++) {
        if (*s == '"' || *s == '\\')
            *w++ = '\\';
        *w++ = *s;
    }
    *w++ = '"';
    return w;
}

static char *put_lit(char *w, const char *s)
{
    size_t n = strlen(s);

    memcpy(w, s, n);
    return w + n;
}

/* Scores are multiples of 0.5: "87.5", exactly, without printf. */
static char *put_score(char *w, double score)
{
    long long half = (long long)(score * 2.0 + 0.5);

    w = put_ll(w, half / 2);
    *w++ = '.';
    *w++ = (half % 2) ? '5' : '0';
    return w;
}

/* [username, full_name|null, is_active, guild_rank, xp, completed, created_at] */
static int users_json(struct jbuf *b, const struct seed_user *users, int n)
{
    char *w;

    b->len = 0;
    if (jb_reserve(b, 2 + (size_t)n * SEED_USER_JSON_MAX) != 0)
        return -1;
    w = b->p;
    *w++ = '[';
    for (int i = 0; i < n; i++) {
        const struct seed_user *u = &users[i];

        if (i > 0)
            *w++ = ',';
        *w++ = '[';
        w = put_str(w, u->username);
        *w++ = ',';
        w = u->has_full_name ? put_str(w, u->full_name) : put_lit(w, "null");
        w = put_lit(w, u->is_active ? ",1," : ",0,");
        w = put_str(w, u->guild_rank);
        *w++ = ',';
        w = put_ll(w, u->experience_points);
        *w++ = ',';
        w = put_ll(w, u->missions_completed);
        *w++ = ',';
        w = put_ll(w, u->created_at);
        *w++ = ']';
    }
    *w++ = ']';
    *w = '\0';
    b->len = (size_t)(w - b->p);
    return 0;
}

/* [user_id, mission_id, mission_name, status, score, started_at, completed_at|null];
 * users[i] has id first_id + i. Counts the rows into *nrows. */
static int progress_json(struct jbuf *b, const struct seed_user *users, int n,
                         long long first_id, long long *nrows)
{
    long long rows = 0;
    char *w;

    for (int i = 0; i < n; i++)
        rows += users[i].nprogress;
    b->len = 0;
    if (jb_reserve(b, 2 + (size_t)rows * SEED_PROGRESS_JSON_MAX) != 0)
        return -1;
    w = b->p;
    *w++ = '[';
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < users[i].nprogress; k++) {
            const struct seed_progress *pr = &users[i].progress[k];

            if (w != b->p + 1)
                *w++ = ',';
            *w++ = '[';
            w = put_ll(w, first_id + i);
            *w++ = ',';
            w = put_ll(w, pr->mission_id);
            *w++ = ',';
            w = put_str(w, missions_find(pr->mission_id)->name);
            w = put_lit(w, pr->completed ? ",\"completed\"," : ",\"in_progress\",");
            w = put_score(w, pr->score);
            *w++ = ',';
            w = put_ll(w, pr->started_at);
            *w++ = ',';
            w = pr->completed ? put_ll(w, pr->completed_at) : put_lit(w, "null");
            *w++ = ']';
        }
    }
    *w++ = ']';
    *w = '\0';
    b->len = (size_t)(w - b->p);
    *nrows = rows;
    return 0;
}

/* ---- database ------------------------------------------------------------ */

int seed_next_index(struct db *db, uint64_t seed, long long *first_index)
{
    /* usernames are utf8mb4_bin: this range walks the seed's usernames whose
     * index starts with a digit, and the backward scan stops at the highest */
    static const char sql[] = "SELECT username FROM users WHERE username >= ? AND username < ? "
                              "ORDER BY username DESC LIMIT 1";
    char prefix[32], lo[40], hi[40], name[208];
    struct db_val in[2], out[] = {DB_OUT_TEXT(name, sizeof(name))};
    size_t plen;
    char *end;
    long long last;
    int rc;

    seed_user_prefix(seed, prefix, sizeof(prefix));
    plen = strlen(prefix);
    snprintf(lo, sizeof(lo), "%s0", prefix);
    snprintf(hi, sizeof(hi), "%s:", prefix); /* ':' follows '9' */
    in[0] = DB_IN_TEXT(lo);
    in[1] = DB_IN_TEXT(hi);
    rc = db_query_row(db, sql, in, 2, out, 1);
    if (rc == DB_NOTFOUND) {
        *first_index = 1;
        return 0;
    }
    if (rc != DB_OK) {
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return -1;
    }
    last = strtoll(name + plen, &end, 10);
    if (end != name + plen + 9 || *end != '_' || last < 0) {
        fprintf(stderr,
                "guildctl: user \"%s\" is in the range of seed %llu; choose another --seed\n",
                name, (unsigned long long)seed);
        return -1;
    }
    *first_index = last + 1;
    return 0;
}

static int insert_users(struct db *db, const struct jbuf *json, const char *hash, int n,
                        const char *last_username, long long *first_id)
{
    /* ORDER BY ord: rows go in in array order, so the table-level AUTO-INC
     * lock of an INSERT ... SELECT hands them consecutive ids in that order */
    static const char sql[] =
        "INSERT INTO users (username, email, full_name, hashed_password, is_active, is_admin, "
        "guild_rank, experience_points, missions_completed, created_at) "
        "SELECT j.username, CONCAT(j.username, '@example.com'), j.full_name, ?, j.is_active, 0, "
        "j.guild_rank, j.xp, j.completed, FROM_UNIXTIME(j.created_at) "
        "FROM JSON_TABLE(?, '$[*]' COLUMNS ("
        "ord FOR ORDINALITY, "
        "username VARCHAR(50) PATH '$[0]', "
        "full_name VARCHAR(255) PATH '$[1]', "
        "is_active TINYINT PATH '$[2]', "
        "guild_rank VARCHAR(20) PATH '$[3]', "
        "xp BIGINT PATH '$[4]', "
        "completed INT PATH '$[5]', "
        "created_at BIGINT PATH '$[6]')) AS j "
        "ORDER BY j.ord";
    /* the last row's id proves the batch's ids are first..first+n-1 */
    static const char sql_last[] = "SELECT id FROM users WHERE username = ?";
    struct db_val in[] = {DB_IN_TEXT(hash), {.type = DB_TEXT, .s = json->p, .len = json->len}};
    struct db_val key[] = {DB_IN_TEXT(last_username)}, out[] = {DB_OUT_INT};
    unsigned long long affected = 0, id = 0;
    int rc;

    if ((rc = db_exec(db, sql, in, 2, &affected, &id)) != DB_OK) {
        fprintf(stderr, "guildctl: %s%s\n", db_errstr(db),
                rc == DB_DUP ? " (a seeded username or email is taken)" : "");
        return -1;
    }
    if (db_query_row(db, sql_last, key, 1, out, 1) != DB_OK) {
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return -1;
    }
    if (affected != (unsigned long long)n || out[0].i != (long long)(id + (unsigned)n - 1)) {
        fprintf(stderr, "guildctl: seed: users got non-consecutive ids (%llu rows from id %llu, "
                        "last %lld); nothing of this chunk is kept\n",
                affected, id, out[0].i);
        return -1;
    }
    *first_id = (long long)id;
    return 0;
}

static int insert_progress(struct db *db, const struct jbuf *json, long long nrows)
{
    static const char sql[] =
        "INSERT INTO mission_progress (user_id, mission_id, mission_name, status, score, "
        "started_at, completed_at, created_at) "
        "SELECT j.user_id, j.mission_id, j.mission_name, j.status, j.score, "
        "FROM_UNIXTIME(j.started_at), FROM_UNIXTIME(j.completed_at), FROM_UNIXTIME(j.started_at) "
        "FROM JSON_TABLE(?, '$[*]' COLUMNS ("
        "user_id BIGINT PATH '$[0]', "
        "mission_id INT PATH '$[1]', "
        "mission_name VARCHAR(100) PATH '$[2]', "
        "status VARCHAR(20) PATH '$[3]', "
        "score DOUBLE PATH '$[4]', "
        "started_at BIGINT PATH '$[5]', "
        "completed_at BIGINT PATH '$[6]')) AS j";
    struct db_val in[] = {{.type = DB_TEXT, .s = json->p, .len = json->len}};
    unsigned long long affected = 0;

    if (db_exec(db, sql, in, 1, &affected, NULL) != DB_OK) {
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return -1;
    }
    if (affected != (unsigned long long)nrows) {
        fprintf(stderr, "guildctl: seed: %llu of %lld progress rows inserted\n", affected, nrows);
        return -1;
    }
    return 0;
}

struct batch {
    struct seed_user *users; /* SEED_BATCH_USERS */
    struct jbuf json;
    struct summary_delta counted; /* the chunk's change to the counters */
};

/* Adds the n planned users and their progress to the chunk's counters. */
static void count_batch(struct summary_delta *d, const struct seed_user *users, int n)
{
    for (int i = 0; i < n; i++) {
        const struct seed_user *u = &users[i];
        struct summary_user fig = {u->is_active, u->guild_rank, u->experience_points,
                                   u->missions_completed};

        summary_add_user(d, &fig, +1);
        for (int k = 0; k < u->nprogress; k++)
            summary_add_progress(d, u->progress[k].mission_id, u->progress[k].completed,
                                 missions_score_units(u->progress[k].score), +1);
    }
}

/* Plans groups from *g on into one batch and inserts it (inside the caller's
 * transaction). Adds what it inserted to res. 0, or -1. */
static int write_batch(struct db *db, const struct seed_params *p, const char *hash,
                       long long *g, struct batch *b, struct seed_result *res)
{
    long long ngroups = seed_groups(p), first_id = 0, nrows = 0;
    int n = 0;

    for (int k = 0; k < SEED_BATCH_GROUPS && *g < ngroups; k++)
        n += seed_plan_group(p, (*g)++, b->users + n);
    if (users_json(&b->json, b->users, n) != 0)
        goto oom;
    if (insert_users(db, &b->json, hash, n, b->users[n - 1].username, &first_id) != 0)
        return -1;
    if (progress_json(&b->json, b->users, n, first_id, &nrows) != 0)
        goto oom;
    if (nrows > 0 && insert_progress(db, &b->json, nrows) != 0)
        return -1;
    count_batch(&b->counted, b->users, n);
    res->users += n;
    res->progress += nrows;
    return 0;
oom:
    fprintf(stderr, "guildctl: seed: out of memory\n");
    return -1;
}

int seed_run(struct db *db, const struct seed_params *p, const char *hashed_password,
             struct seed_result *res)
{
    struct batch b = {.users = NULL, .json = {NULL, 0, 0}};
    struct seed_result chunk;
    long long g = 0, ngroups = seed_groups(p);
    int ret = -1;

    res->users = res->progress = 0;
    summary_init(&b.counted);
    if ((b.users = malloc(SEED_BATCH_USERS * sizeof(*b.users))) == NULL) {
        fprintf(stderr, "guildctl: seed: out of memory\n");
        goto out;
    }
    while (g < ngroups) {
        chunk.users = chunk.progress = 0;
        summary_clear(&b.counted);
        if (db_begin(db) != DB_OK) {
            fprintf(stderr, "guildctl: %s\n", db_errstr(db));
            goto out;
        }
        for (int k = 0; k < SEED_TX_BATCHES && g < ngroups; k++)
            if (write_batch(db, p, hashed_password, &g, &b, &chunk) != 0)
                goto rollback;
        /* last, right before the commit: the counters' rows stay locked briefly */
        if (db_summary_apply(db, &b.counted) != DB_OK) {
            fprintf(stderr, "guildctl: %s\n", db_errstr(db));
            goto rollback;
        }
        if (db_commit(db) != DB_OK) {
            fprintf(stderr, "guildctl: %s\n", db_errstr(db));
            goto rollback;
        }
        res->users += chunk.users;
        res->progress += chunk.progress;
    }
    ret = 0;
    goto out;
rollback:
    db_rollback(db);
out:
    summary_cleanup(&b.counted);
    free(b.json.p);
    free(b.users);
    return ret;
}
