/* stats: see stats.h. */
#include "stats.h"

#include <math.h>

void stats_quantile_pos(long long n, double q, long long *lo, double *frac)
{
    double pos = q * (double)(n - 1);
    double f = floor(pos);

    *lo = (long long)f;
    *frac = pos - f;
    if (*lo >= n - 1) { /* q = 1: the last value, nothing to interpolate */
        *lo = n - 1;
        *frac = 0.0;
    }
}

double stats_interpolate(double v_lo, double v_hi, double frac)
{
    return frac == 0.0 ? v_lo : v_lo + (v_hi - v_lo) * frac;
}

double stats_percent(double part, double whole)
{
    return whole > 0 ? 100.0 * part / whole : 0.0;
}
