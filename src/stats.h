/* stats: pure arithmetic behind the analytics: pandas-compatible quantile
 * positions and interpolation (also over a histogram), means of exact
 * integer sums, rates. No I/O, unit-tested. */
#ifndef GUILD_STATS_H
#define GUILD_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* For n sorted values and quantile q in [0,1], pandas' default ("linear")
 * uses position q*(n-1): *lo = floor of it (an index to fetch, along with
 * lo+1), *frac = the fractional part. n must be > 0. */
void stats_quantile_pos(long long n, double q, long long *lo, double *frac);

/* Linear interpolation between the values at lo and lo+1. */
double stats_interpolate(double v_lo, double v_hi, double frac);

/* 100 * part / whole, or 0 when whole is 0. */
double stats_percent(double part, double whole);

/* The mean sum / (n * scale) as the double nearest the exact quotient
 * (one IEEE division, exact operands while sum < 2^53 and n * scale <
 * 2^53), or 0 when n is 0. Analytics means are computed from exact integer
 * sums this way, so the same integers always give the same answer. */
double stats_mean(long long sum, long long n, double scale);

#define STATS_HIST_MAX_Q 8

/* Quantiles of n values known only as a histogram (value -> count), read in
 * one ascending pass: the same figures as stats_quantile_pos +
 * stats_interpolate over the n sorted values, without materialising them. */
struct stats_hist {
    long long n, seen;
    size_t nq;
    long long lo[STATS_HIST_MAX_Q];
    double frac[STATS_HIST_MAX_Q];
    double v_lo[STATS_HIST_MAX_Q], v_hi[STATS_HIST_MAX_Q];
    bool have_lo[STATS_HIST_MAX_Q], have_hi[STATS_HIST_MAX_Q];
};

/* Prepares h for n values and the quantiles q[0..nq) (nq <= STATS_HIST_MAX_Q,
 * each in [0, 1]). */
void stats_hist_init(struct stats_hist *h, long long n, const double *q, size_t nq);

/* The next bin: count (> 0) values equal to value, values strictly ascending
 * from bin to bin. Bins past the n-th value are ignored. */
void stats_hist_feed(struct stats_hist *h, double value, long long count);

/* Quantile i once every bin was fed; 0 when n is 0. A histogram that held
 * fewer than n values yields its largest value for positions it lacked. */
double stats_hist_value(const struct stats_hist *h, size_t i);

#endif
