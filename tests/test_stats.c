/* test_stats: quantile position + linear interpolation against values that
 * pandas' Series.quantile (interpolation="linear") gives for the same data,
 * including the edges (one value, q = 0 and 1, whole positions), and
 * stats_percent's rate with its zero guard. */
#include <CUnit/CUnit.h>
#include <math.h>

#include "stats.h"
#include "testutil.h"

#define EPS 1e-9

/* Quantile q of the n sorted values, the way the analytics handler does it. */
static double quantile(const double *v, long long n, double q)
{
    long long lo = -1;
    double frac = -1.0;

    stats_quantile_pos(n, q, &lo, &frac);
    CU_ASSERT_TRUE_FATAL(lo >= 0 && lo < n);
    CU_ASSERT_TRUE(frac >= 0.0 && frac < 1.0);
    return stats_interpolate(v[lo], lo + 1 < n ? v[lo + 1] : v[lo], frac);
}

static void t_pos(void)
{
    long long lo = -1;
    double frac = -1.0;

    stats_quantile_pos(4, 0.25, &lo, &frac); /* 0.75 */
    CU_ASSERT_EQUAL(lo, 0);
    CU_ASSERT_DOUBLE_EQUAL(frac, 0.75, EPS);
    stats_quantile_pos(4, 0.9, &lo, &frac); /* 2.7 */
    CU_ASSERT_EQUAL(lo, 2);
    CU_ASSERT_DOUBLE_EQUAL(frac, 0.7, EPS);
    stats_quantile_pos(5, 0.5, &lo, &frac); /* exactly 2 */
    CU_ASSERT_EQUAL(lo, 2);
    CU_ASSERT_DOUBLE_EQUAL(frac, 0.0, EPS);
    stats_quantile_pos(4, 1.0, &lo, &frac); /* the last index, nothing after it */
    CU_ASSERT_EQUAL(lo, 3);
    CU_ASSERT_DOUBLE_EQUAL(frac, 0.0, EPS);
    stats_quantile_pos(4, 0.0, &lo, &frac);
    CU_ASSERT_EQUAL(lo, 0);
    CU_ASSERT_DOUBLE_EQUAL(frac, 0.0, EPS);
    stats_quantile_pos(1, 0.75, &lo, &frac); /* one value: always index 0 */
    CU_ASSERT_EQUAL(lo, 0);
    CU_ASSERT_DOUBLE_EQUAL(frac, 0.0, EPS);
}

static void t_interpolate(void)
{
    CU_ASSERT_DOUBLE_EQUAL(stats_interpolate(3, 4, 0.7), 3.7, EPS);
    CU_ASSERT_DOUBLE_EQUAL(stats_interpolate(0, 100, 0.9), 90.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(stats_interpolate(10, 20, 0.0), 10.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(stats_interpolate(10, 20, 0.5), 15.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(stats_interpolate(-5, 5, 0.25), -2.5, EPS);
    /* frac 0 must not touch v_hi, so an out-of-range value cannot leak in */
    CU_ASSERT_DOUBLE_EQUAL(stats_interpolate(7, NAN, 0.0), 7.0, EPS);
}

static void t_pandas_four(void)
{
    static const double v[] = {1, 2, 3, 4};

    CU_ASSERT_DOUBLE_EQUAL(quantile(v, 4, 0.25), 1.75, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(v, 4, 0.5), 2.5, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(v, 4, 0.75), 3.25, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(v, 4, 0.9), 3.7, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(v, 4, 0.0), 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(v, 4, 1.0), 4.0, EPS);
}

static void t_pandas_edges(void)
{
    static const double one[] = {10};
    static const double two[] = {0, 100};
    static const double five[] = {1, 2, 3, 4, 5};
    static const double skewed[] = {0, 0, 0, 10, 1000};

    CU_ASSERT_DOUBLE_EQUAL(quantile(one, 1, 0.0), 10.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(one, 1, 0.25), 10.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(one, 1, 0.9), 10.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(one, 1, 1.0), 10.0, EPS);

    CU_ASSERT_DOUBLE_EQUAL(quantile(two, 2, 0.9), 90.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(two, 2, 0.25), 25.0, EPS);

    CU_ASSERT_DOUBLE_EQUAL(quantile(five, 5, 0.5), 3.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(five, 5, 0.0), 1.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(five, 5, 1.0), 5.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(five, 5, 0.9), 4.6, EPS);

    /* pd.Series([0,0,0,10,1000]).quantile([.25,.5,.75,.9]) */
    CU_ASSERT_DOUBLE_EQUAL(quantile(skewed, 5, 0.25), 0.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(skewed, 5, 0.5), 0.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(skewed, 5, 0.75), 10.0, EPS);
    CU_ASSERT_DOUBLE_EQUAL(quantile(skewed, 5, 0.9), 604.0, EPS);
}

static void t_arithmetic_series(void)
{
    enum { N = 1000 };
    static double v[N];
    static const double qs[] = {0.0, 0.01, 0.1, 0.25, 0.3333, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0};

    for (int i = 0; i < N; i++)
        v[i] = 5.0 + 3.0 * i; /* 5, 8, 11, ... */
    /* linear interpolation on an arithmetic series is exact: a + d*q*(n-1) */
    for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++)
        CU_ASSERT_DOUBLE_EQUAL(quantile(v, N, qs[k]), 5.0 + 3.0 * qs[k] * (N - 1), 1e-6);
}

static void t_percent(void)
{
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(1, 3), 100.0 / 3.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(1, 3), 33.333, 1e-3);
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(0, 0), 0.0, 1e-12);
    CU_ASSERT_FALSE(isnan(stats_percent(0, 0)));
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(5, 0), 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(3, 3), 100.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(0, 7), 0.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(stats_percent(7, 8), 87.5, 1e-12);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"pos", t_pos},
        {"interpolate", t_interpolate},
        {"pandas_four", t_pandas_four},
        {"pandas_edges", t_pandas_edges},
        {"arithmetic_series", t_arithmetic_series},
        {"percent", t_percent},
        {NULL, NULL},
    };
    return testutil_run("stats", cases, NULL, NULL);
}
