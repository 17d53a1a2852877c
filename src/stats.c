/* stats: see stats.h. */
#include "stats.h"

#include <math.h>
#include <string.h>

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

double stats_mean(long long sum, long long n, double scale)
{
    return n > 0 ? (double)sum / ((double)n * scale) : 0.0;
}

void stats_hist_init(struct stats_hist *h, long long n, const double *q, size_t nq)
{
    memset(h, 0, sizeof(*h));
    h->n = n;
    h->nq = nq < STATS_HIST_MAX_Q ? nq : STATS_HIST_MAX_Q;
    for (size_t i = 0; i < h->nq && n > 0; i++)
        stats_quantile_pos(n, q[i], &h->lo[i], &h->frac[i]);
}

void stats_hist_feed(struct stats_hist *h, double value, long long count)
{
    long long first = h->seen, last = h->seen + count - 1; /* positions of this bin */

    if (count <= 0 || first >= h->n)
        return;
    for (size_t i = 0; i < h->nq; i++) {
        long long hi = h->lo[i] + 1 < h->n ? h->lo[i] + 1 : h->lo[i];

        if (!h->have_lo[i] && h->lo[i] >= first && h->lo[i] <= last) {
            h->v_lo[i] = value;
            h->have_lo[i] = true;
        }
        if (!h->have_hi[i] && hi >= first && hi <= last) {
            h->v_hi[i] = value;
            h->have_hi[i] = true;
        }
    }
    h->seen += count;
    for (size_t i = 0; i < h->nq; i++) { /* remembered for a short histogram */
        if (!h->have_lo[i])
            h->v_lo[i] = value;
        if (!h->have_hi[i])
            h->v_hi[i] = value;
    }
}

double stats_hist_value(const struct stats_hist *h, size_t i)
{
    if (h->n <= 0 || i >= h->nq)
        return 0.0;
    return stats_interpolate(h->v_lo[i], h->v_hi[i], h->frac[i]);
}
