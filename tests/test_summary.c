/* test_summary: the pure side of the analytics counters: a change built from
 * user and progress rows (merging, zero entries dropped, locking order), the
 * comparison verify-summaries prints, the JSON the apply statement unpacks,
 * score units (every kept score's units survive the round trip through the
 * stored double, as MariaDB's ROUND(score * 1000000) reads it), exact means,
 * and quantiles read off a histogram against the same quantiles over the
 * expanded, sorted values. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "missions.h"
#include "stats.h"
#include "summary.h"
#include "testutil.h"

/* The amount of (metric, k, name) in finished d, 0 when absent. */
static long long amount(const struct summary_delta *d, int metric, long long k, const char *name)
{
    for (size_t i = 0; i < d->len; i++)
        if (d->e[i].metric == metric && d->e[i].k == k && strcmp(d->e[i].name, name) == 0)
            return d->e[i].n;
    return 0;
}

static void t_user_moves(void)
{
    struct summary_delta d;
    struct summary_user before = {true, "Apprentice", 20, 2};
    struct summary_user after = {true, "Adept", 28, 3};

    summary_init(&d);
    summary_add_user(&d, &before, -1);
    summary_add_user(&d, &after, +1);
    summary_finish(&d);
    CU_ASSERT_FALSE(d.failed);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_USERS, 0, ""), 0); /* the same user: no entry */
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_ACTIVE, 0, ""), 0);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_MISSIONS, 0, ""), 1);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_XP, 0, ""), 8);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_RANK, 0, "Apprentice"), -1);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_RANK, 0, "Adept"), 1);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_XP_USERS, 20, ""), -1);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_XP_USERS, 28, ""), 1);
    CU_ASSERT_EQUAL(d.len, 6);
    for (size_t i = 0; i < d.len; i++)
        CU_ASSERT_NOT_EQUAL(d.e[i].n, 0);
    /* sorted by (metric, k, name): the order rows are locked in */
    for (size_t i = 1; i < d.len; i++)
        CU_ASSERT_TRUE(d.e[i - 1].metric < d.e[i].metric ||
                       (d.e[i - 1].metric == d.e[i].metric &&
                        (d.e[i - 1].k < d.e[i].k ||
                         (d.e[i - 1].k == d.e[i].k &&
                          strcmp(d.e[i - 1].name, d.e[i].name) < 0))));
    summary_cleanup(&d);
}

static void t_nothing_changes(void)
{
    struct summary_delta d;
    struct summary_user u = {false, "Master", 130, 13};

    summary_init(&d);
    summary_add_user(&d, &u, -1);
    summary_add_user(&d, &u, +1);
    summary_add_progress(&d, 4, true, 55500000, -1);
    summary_add_progress(&d, 4, true, 55500000, +1);
    summary_finish(&d);
    CU_ASSERT_TRUE(summary_is_empty(&d));
    CU_ASSERT_EQUAL(d.len, 0);
    summary_cleanup(&d);
    summary_cleanup(NULL); /* NULL-safe */
}

static void t_progress(void)
{
    struct summary_delta d;

    summary_init(&d);
    /* completing a started mission: the attempt stays, a completion and its score arrive */
    summary_add_progress(&d, 7, false, 0, -1);
    summary_add_progress(&d, 7, true, 85123457, +1);
    summary_finish(&d);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_ATTEMPTS, 7, ""), 0);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_COMPLETED, 7, ""), 1);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_SCORE, 7, ""), 85123457);
    CU_ASSERT_EQUAL(d.len, 2);
    summary_cleanup(&d);
}

/* Many adds over few keys (a seeding chunk): compaction keeps the array
 * small and the sums exact. */
static void t_bulk_compacts(void)
{
    struct summary_delta d;
    long long want_xp = 0;

    summary_init(&d);
    for (int i = 0; i < 100000; i++) {
        struct summary_user u = {i % 3 != 0, missions_rank(i % 14), i % 131, i % 14};

        summary_add_user(&d, &u, +1);
        want_xp += i % 131;
    }
    CU_ASSERT_TRUE(d.cap < 1024);
    summary_finish(&d);
    CU_ASSERT_FALSE(d.failed);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_USERS, 0, ""), 100000);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_ACTIVE, 0, ""), 100000 - 33334);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_XP, 0, ""), want_xp);
    CU_ASSERT_EQUAL(amount(&d, SUMMARY_XP_USERS, 130, ""), 100000 / 131);
    CU_ASSERT_EQUAL(d.len, 4 + 5 + 131);
    summary_cleanup(&d);
}

static int count_diff(const struct summary_entry *key, long long want, long long have, void *ctx)
{
    int *n = ctx;

    (*n)++;
    if (key->metric == SUMMARY_RANK) {
        CU_ASSERT_STRING_EQUAL(key->name, "Adept");
        CU_ASSERT_EQUAL(want, 2);
        CU_ASSERT_EQUAL(have, 0);
    } else {
        CU_ASSERT_EQUAL(key->metric, SUMMARY_XP_USERS);
        CU_ASSERT_EQUAL(want, 5);
        CU_ASSERT_EQUAL(have, 4);
    }
    return 0;
}

static void t_compare(void)
{
    struct summary_delta want, have;
    int calls = 0;

    summary_init(&want);
    summary_init(&have);
    summary_add(&want, SUMMARY_USERS, 0, NULL, 7);
    summary_add(&want, SUMMARY_RANK, 0, "Adept", 2);
    summary_add(&want, SUMMARY_XP_USERS, 10, NULL, 5);
    summary_add(&have, SUMMARY_XP_USERS, 10, NULL, 4);
    summary_add(&have, SUMMARY_USERS, 0, NULL, 7);
    summary_finish(&want);
    summary_finish(&have);
    CU_ASSERT_EQUAL(summary_compare(&want, &have, count_diff, &calls), 2);
    CU_ASSERT_EQUAL(calls, 2);
    CU_ASSERT_EQUAL(summary_compare(&want, &want, NULL, NULL), 0);
    summary_cleanup(&want);
    summary_cleanup(&have);
}

static void t_json(void)
{
    struct summary_delta d;
    char *j;

    summary_init(&d);
    summary_add(&d, SUMMARY_RANK, 0, "Ad\"ept\\\n", 1);
    summary_add(&d, SUMMARY_SCORE, 3, NULL, -85500000);
    summary_finish(&d);
    j = summary_to_json(&d, 0, d.len, true); /* with the slot's users row first */
    CU_ASSERT_STRING_EQUAL(j, "[[1,0,\"\",0],[5,0,\"Ad\\\"ept\\\\\\u000a\",1],[9,3,\"\",-85500000]]");
    free(j);
    j = summary_to_json(&d, 1, d.len, false);
    CU_ASSERT_STRING_EQUAL(j, "[[9,3,\"\",-85500000]]");
    free(j);
    summary_add(&d, SUMMARY_USERS, 0, NULL, 1);
    summary_finish(&d);
    j = summary_to_json(&d, 0, 1, true); /* already first: not twice */
    CU_ASSERT_STRING_EQUAL(j, "[[1,0,\"\",1]]");
    free(j);
    j = summary_to_json(&d, 0, 0, true);
    CU_ASSERT_STRING_EQUAL(j, "[[1,0,\"\",0]]");
    free(j);
    summary_cleanup(&d);
}

static void t_name_too_long(void)
{
    struct summary_delta d;
    char name[SUMMARY_NAME_SZ + 1];

    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    summary_init(&d);
    summary_add(&d, SUMMARY_RANK, 0, name, 1);
    CU_ASSERT_TRUE(d.failed);
    summary_cleanup(&d);
}

/* Every kept score (0..100 in millionths) survives the stored double, read
 * back as C's llround and as MariaDB's ROUND (rint: halves to even). */
static void t_score_units_round_trip(void)
{
    long long bad = 0;

    for (long long u = 0; u <= 100LL * MISSIONS_SCORE_UNITS; u++) {
        double stored = missions_score_of(u), x = stored * 1000000;

        if (missions_score_units(stored) != u || (long long)rint(x) != u)
            bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(missions_score_units(85.5), 85500000);
    CU_ASSERT_EQUAL(missions_score_units(85.1234567), 85123457);
    CU_ASSERT_EQUAL(missions_score_units(99.9999996), 100000000);
    CU_ASSERT_EQUAL(missions_score_units(-1), 0);
    CU_ASSERT_EQUAL(missions_score_units(NAN), 0);
    CU_ASSERT_EQUAL(missions_score_units(1e9), 100000000);
    CU_ASSERT_EQUAL(missions_xp(missions_score_of(missions_score_units(99.9999996))), 10);
}

static void t_mean(void)
{
    CU_ASSERT_EQUAL(stats_mean(0, 0, 1.0), 0.0);
    CU_ASSERT_EQUAL(stats_mean(10, 4, 1.0), 2.5);
    /* 1.12504 exactly: the double nearest it, not a 4-decimal rounding first */
    CU_ASSERT_EQUAL(stats_mean(112504, 100000, 1.0), 1.12504);
    CU_ASSERT_EQUAL(stats_mean(171000000, 2, MISSIONS_SCORE_UNITS), 85.5);
    CU_ASSERT_EQUAL(stats_mean(100000000, 3, MISSIONS_SCORE_UNITS), 100.0 / 3.0);
}

/* The pandas quantile of sorted v[0..n). */
static double quantile_of(const long long *v, long long n, double q)
{
    long long lo;
    double frac;

    stats_quantile_pos(n, q, &lo, &frac);
    return stats_interpolate((double)v[lo], (double)(lo + 1 < n ? v[lo + 1] : v[lo]), frac);
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return (x > y) - (x < y);
}

static void t_hist_quantiles(void)
{
    static const double q[] = {0.0, 0.25, 0.5, 0.75, 0.9, 1.0};
    unsigned seed = 12345;
    long long *v = malloc(2000 * sizeof(*v));

    CU_ASSERT_PTR_NOT_NULL_FATAL(v);
    for (int round = 0; round < 500; round++) {
        long long n = 1 + rand_r(&seed) % (round < 100 ? 6 : 2000);
        long long span = 1 + rand_r(&seed) % (round % 2 ? 5 : 1000);
        struct stats_hist h;

        for (long long i = 0; i < n; i++)
            v[i] = rand_r(&seed) % span - (round % 3 == 0 ? span / 2 : 0);
        qsort(v, (size_t)n, sizeof(*v), cmp_ll);
        stats_hist_init(&h, n, q, sizeof(q) / sizeof(q[0]));
        for (long long i = 0; i < n;) { /* the histogram: runs of equal values */
            long long j = i;

            while (j < n && v[j] == v[i])
                j++;
            stats_hist_feed(&h, (double)v[i], j - i);
            i = j;
        }
        for (size_t k = 0; k < sizeof(q) / sizeof(q[0]); k++)
            if (stats_hist_value(&h, k) != quantile_of(v, n, q[k])) {
                CU_FAIL("histogram quantile differs from the sorted values'");
                fprintf(stderr, "\n    n=%lld q=%g: %.17g vs %.17g\n", n, q[k],
                        stats_hist_value(&h, k), quantile_of(v, n, q[k]));
            }
    }
    free(v);
}

static void t_hist_edges(void)
{
    static const double q[] = {0.25, 0.5, 0.75, 0.9};
    struct stats_hist h;

    stats_hist_init(&h, 0, q, 4); /* no users */
    CU_ASSERT_EQUAL(stats_hist_value(&h, 1), 0.0);
    stats_hist_init(&h, 1, q, 4); /* one user */
    stats_hist_feed(&h, 42, 1);
    CU_ASSERT_EQUAL(stats_hist_value(&h, 3), 42.0);
    stats_hist_init(&h, 4, q, 4); /* 0 0 10 30: p25 0, p50 5, p75 15, p90 24 */
    stats_hist_feed(&h, 0, 2);
    stats_hist_feed(&h, 10, 1);
    stats_hist_feed(&h, 30, 1);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_value(&h, 0), 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_value(&h, 1), 5.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_value(&h, 2), 15.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_value(&h, 3), 24.0, 1e-12);
    stats_hist_init(&h, 5, q, 4); /* a short histogram (4 of 5): its largest value */
    stats_hist_feed(&h, 1, 2);
    stats_hist_feed(&h, 7, 2);
    CU_ASSERT_EQUAL(stats_hist_value(&h, 3), 7.0);
    stats_hist_feed(&h, 9, 1); /* the fifth arrives: 1 1 7 7 9, p90 at 3.6 */
    stats_hist_feed(&h, 11, 3); /* values past the n-th are ignored */
    CU_ASSERT_DOUBLE_EQUAL(stats_hist_value(&h, 3), 8.2, 1e-12);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"a completion moves rank, XP, missions and the histogram", t_user_moves},
        {"no change: no entries", t_nothing_changes},
        {"progress: attempts, completions, score units", t_progress},
        {"bulk adds compact to distinct keys", t_bulk_compacts},
        {"compare reports each differing counter", t_compare},
        {"apply JSON: escaping, lead row, ranges", t_json},
        {"a name longer than the column fails the change", t_name_too_long},
        {"score units round-trip through the stored double", t_score_units_round_trip},
        {"means of exact sums", t_mean},
        {"histogram quantiles = quantiles of the sorted values", t_hist_quantiles},
        {"histogram quantile edges", t_hist_edges},
        {NULL, NULL},
    };

    return testutil_run("summary", cases, NULL, NULL);
}
