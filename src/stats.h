/* stats: pure arithmetic behind the analytics: pandas-compatible quantile
 * positions and interpolation, rates and rounding. No I/O, unit-tested. */
#ifndef GUILD_STATS_H
#define GUILD_STATS_H

/* For n sorted values and quantile q in [0,1], pandas' default ("linear")
 * uses position q*(n-1): *lo = floor of it (an index to fetch, along with
 * lo+1), *frac = the fractional part. n must be > 0. */
void stats_quantile_pos(long long n, double q, long long *lo, double *frac);

/* Linear interpolation between the values at lo and lo+1. */
double stats_interpolate(double v_lo, double v_hi, double frac);

/* 100 * part / whole, or 0 when whole is 0. */
double stats_percent(double part, double whole);

#endif
