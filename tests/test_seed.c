/* test_seed: the seed generator without a database: PRNG determinism,
 * per-user plans (distinct missions, totals and rank that agree with the
 * planned rows) and the share-out of progress rows, which must sum to M. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "missions.h"
#include "seed.h"
#include "testutil.h"

#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

static struct seed_params params(uint64_t seed, long long users, long long progress)
{
    struct seed_params p = {
        .seed = seed, .users = users, .progress = progress, .first_index = 1, .now = NOW};

    return p;
}

/* Plans the whole run into a fresh array (caller frees); *n gets the count. */
static struct seed_user *plan_all(const struct seed_params *p, long long *n)
{
    long long groups = seed_groups(p);
    struct seed_user *all = calloc((size_t)groups * SEED_GROUP_USERS + 1, sizeof(*all));

    *n = 0;
    if (all == NULL)
        return NULL;
    for (long long g = 0; g < groups; g++)
        *n += seed_plan_group(p, g, all + *n);
    return all;
}

static bool same_user(const struct seed_user *a, const struct seed_user *b)
{
    if (a->index != b->index || strcmp(a->username, b->username) != 0 ||
        a->has_full_name != b->has_full_name || strcmp(a->full_name, b->full_name) != 0 ||
        a->is_active != b->is_active || a->created_at != b->created_at ||
        a->nprogress != b->nprogress || a->missions_completed != b->missions_completed ||
        a->experience_points != b->experience_points || strcmp(a->guild_rank, b->guild_rank) != 0)
        return false;
    for (int i = 0; i < a->nprogress; i++) {
        const struct seed_progress *x = &a->progress[i], *y = &b->progress[i];

        if (x->mission_id != y->mission_id || x->completed != y->completed ||
            x->score != y->score || x->started_at != y->started_at ||
            x->completed_at != y->completed_at)
            return false;
    }
    return true;
}

static void t_rng_deterministic(void)
{
    struct seed_rng a, b, c;
    bool differs = false;

    seed_rng_init(&a, 42, 7);
    seed_rng_init(&b, 42, 7);
    seed_rng_init(&c, 42, 8);
    for (int i = 0; i < 1000; i++) {
        uint64_t x = seed_rng_next(&a);

        CU_ASSERT_EQUAL(x, seed_rng_next(&b));
        differs |= x != seed_rng_next(&c);
    }
    CU_ASSERT_TRUE(differs);
}

static void t_rng_below(void)
{
    struct seed_rng r;
    int seen[13] = {0};

    seed_rng_init(&r, 1, 1);
    CU_ASSERT_EQUAL(seed_rng_below(&r, 0), 0);
    CU_ASSERT_EQUAL(seed_rng_below(&r, 1), 0);
    for (int i = 0; i < 13000; i++) {
        uint64_t v = seed_rng_below(&r, 13);

        CU_ASSERT_FATAL(v < 13);
        seen[v]++;
    }
    for (int i = 0; i < 13; i++) /* about 1000 each */
        CU_ASSERT(seen[i] > 800 && seen[i] < 1200);
}

static void t_plan_deterministic(void)
{
    struct seed_params p = params(42, 2345, 7000), q = params(43, 2345, 7000);
    long long n1, n2, n3, same = 0;
    struct seed_user *a = plan_all(&p, &n1), *b = plan_all(&p, &n2), *c = plan_all(&q, &n3);

    CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
    CU_ASSERT_EQUAL(n1, 2345);
    CU_ASSERT_EQUAL(n2, 2345);
    for (long long i = 0; i < n1; i++) {
        CU_ASSERT_TRUE(same_user(&a[i], &b[i]));
        same += same_user(&a[i], &c[i]);
    }
    CU_ASSERT_EQUAL(same, 0); /* another seed: other usernames at least */
    free(a);
    free(b);
    free(c);
}

static void check_user(const struct seed_user *u)
{
    int completed = 0;
    long long xp = 0;
    unsigned used = 0;

    CU_ASSERT(u->nprogress >= 0 && u->nprogress <= MISSIONS_COUNT);
    CU_ASSERT(u->created_at < NOW && u->created_at >= NOW - 366LL * 86400);
    for (int i = 0; i < u->nprogress; i++) {
        const struct seed_progress *pr = &u->progress[i];

        CU_ASSERT_FATAL(pr->mission_id >= 1 && pr->mission_id <= MISSIONS_COUNT);
        CU_ASSERT_EQUAL(used & (1u << pr->mission_id), 0); /* distinct */
        used |= 1u << pr->mission_id;
        CU_ASSERT(i == 0 || pr->mission_id > u->progress[i - 1].mission_id);
        CU_ASSERT(pr->started_at >= u->created_at && pr->started_at <= NOW);
        if (pr->completed) {
            CU_ASSERT(pr->score >= 40.0 && pr->score <= 100.0);
            CU_ASSERT(pr->completed_at >= pr->started_at && pr->completed_at <= NOW);
            completed++;
            xp += missions_xp(pr->score);
        } else {
            CU_ASSERT_EQUAL(pr->score, 0.0);
            CU_ASSERT_EQUAL(pr->completed_at, -1);
        }
    }
    CU_ASSERT_EQUAL(u->missions_completed, completed);
    CU_ASSERT_EQUAL(u->experience_points, xp);
    CU_ASSERT_STRING_EQUAL(u->guild_rank, missions_rank(completed));
}

static void t_plan_consistent(void)
{
    struct seed_params p = params(7, 5000, 5000 * 13 / 2);
    long long n, progress = 0, completed = 0, active = 0;
    struct seed_user *all = plan_all(&p, &n);

    CU_ASSERT_FATAL(all != NULL);
    for (long long i = 0; i < n; i++) {
        check_user(&all[i]);
        progress += all[i].nprogress;
        completed += all[i].missions_completed;
        active += all[i].is_active;
    }
    CU_ASSERT_EQUAL(progress, p.progress);
    CU_ASSERT(completed * 100 > progress * 60 && completed * 100 < progress * 70); /* ~65% */
    CU_ASSERT(active * 100 > n * 93 && active * 100 < n * 97);                     /* ~95% */
    free(all);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(((const struct seed_user *)a)->username, ((const struct seed_user *)b)->username);
}

static void t_usernames(void)
{
    struct seed_params p = params(4294967295ULL, 3000, 0);
    long long n;
    struct seed_user *all = plan_all(&p, &n);
    char prefix[32];

    CU_ASSERT_FATAL(all != NULL);
    seed_user_prefix(p.seed, prefix, sizeof(prefix));
    CU_ASSERT_STRING_EQUAL(prefix, "seed4294967295_");
    CU_ASSERT_EQUAL(strncmp(all[0].username, "seed4294967295_000000001_", 25), 0);
    for (long long i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(strncmp(all[i].username, prefix, strlen(prefix)), 0);
        CU_ASSERT(strlen(all[i].username) <= 50);
        CU_ASSERT_EQUAL(all[i].index, i + 1);
    }
    qsort(all, (size_t)n, sizeof(*all), cmp_name); /* index order is name order */
    for (long long i = 1; i < n; i++)
        CU_ASSERT(strcmp(all[i - 1].username, all[i].username) < 0);
    for (long long i = 0; i < n; i++)
        CU_ASSERT_EQUAL(all[i].index, i + 1);
    free(all);
}

static void t_first_index(void)
{
    struct seed_params p = params(42, 20, 60);
    struct seed_user a[SEED_GROUP_USERS];

    p.first_index = 1001;
    CU_ASSERT_EQUAL(seed_plan_group(&p, 0, a), SEED_GROUP_USERS);
    CU_ASSERT_EQUAL(a[0].index, 1001);
    CU_ASSERT_EQUAL(strncmp(a[0].username, "seed42_000001001_", 17), 0);
}

static long long sum_counts(const struct seed_params *p, int *max_seen)
{
    int counts[SEED_GROUP_USERS];
    long long sum = 0;

    *max_seen = 0;
    for (long long g = 0; g < seed_groups(p); g++) {
        int n = seed_group_counts(p, g, counts);

        for (int i = 0; i < n; i++) {
            CU_ASSERT(counts[i] >= 0 && counts[i] <= MISSIONS_COUNT);
            sum += counts[i];
            if (counts[i] > *max_seen)
                *max_seen = counts[i];
        }
    }
    return sum;
}

static void t_counts_sum(void)
{
    static const long long cases[][2] = {
        {1, 0}, {1, 1}, {1, 13}, {7, 20}, {10, 30}, {11, 143}, {999, 2997}, {1000, 1},
        {12345, 37035}, {12345, 12345 * 13}, {100000, 300000}, {3, 0},
    };
    int max_seen;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct seed_params p = params(42, cases[i][0], cases[i][1]);

        CU_ASSERT_EQUAL(sum_counts(&p, &max_seen), cases[i][1]);
    }
    /* uneven, not a flat 3 per user */
    struct seed_params p = params(42, 1000, 3000);
    CU_ASSERT_EQUAL(sum_counts(&p, &max_seen), 3000);
    CU_ASSERT(max_seen > 6);
}

static void t_out_of_range(void)
{
    struct seed_params p = params(42, 25, 75), bad = params(42, 10, 131);
    int counts[SEED_GROUP_USERS];
    struct seed_user u[SEED_GROUP_USERS];

    CU_ASSERT_EQUAL(seed_groups(&p), 3);
    CU_ASSERT_EQUAL(seed_group_counts(&p, 2, counts), 5); /* the short last group */
    CU_ASSERT_EQUAL(seed_group_counts(&p, 3, counts), 0);
    CU_ASSERT_EQUAL(seed_group_counts(&p, -1, counts), 0);
    CU_ASSERT_EQUAL(seed_plan_group(&p, 3, u), 0);
    CU_ASSERT_EQUAL(seed_groups(&bad), 0); /* more than 13 rows per user */
}

int main(void)
{
    static const struct test_case cases[] = {
        {"rng is deterministic per seed and stream", t_rng_deterministic},
        {"rng_below is in range and even", t_rng_below},
        {"same params, same plans", t_plan_deterministic},
        {"totals and rank agree with planned rows", t_plan_consistent},
        {"usernames are prefixed, unique, index-ordered", t_usernames},
        {"first_index shifts usernames", t_first_index},
        {"progress counts sum to M", t_counts_sum},
        {"groups out of range plan nothing", t_out_of_range},
        {NULL, NULL},
    };
    return testutil_run("seed", cases, NULL, NULL);
}
