/* report: see report.h. */
#include "report.h"

/* host-down: how long after the kill a request may still meet a dead kept-alive connection */
#define HOST_STALE_US 1000000

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void why(struct report *r, const char *fmt, ...)
{
    size_t len = strlen(r->why);
    va_list ap;

    r->failed = 1;
    if (len + 8 >= sizeof(r->why))
        return;
    if (len > 0)
        r->why[len++] = ';', r->why[len++] = ' ';
    va_start(ap, fmt);
    vsnprintf(r->why + len, sizeof(r->why) - len, fmt, ap);
    va_end(ap);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;

    return (x > y) - (x < y);
}

static double pct_ms(const int32_t *sorted, size_t n, double p)
{
    size_t i;

    if (n == 0)
        return 0;
    i = (size_t)(p * (double)(n - 1) + 0.5);
    return sorted[i] / 1000.0;
}

/* The kill a 502 belongs to: the last one before the answer ended; -1: none. */
static int kill_of(const struct fault_timeline *tl, int64_t t_end)
{
    int i, k = -1;

    for (i = 0; i < tl->nhits; i++)
        if (tl->hit_us[i] <= t_end)
            k = i;
    return k;
}

static const char *class_name(int cls)
{
    static const char *const n[] = {"ping", "cached read", "authenticated read", "write",
                                    "session"};

    return cls >= 0 && cls < LOAD_NCLASS ? n[cls] : "?";
}

int report_build(struct report *r, const struct load *l, enum fault_kind k,
                 const struct fault_timeline *tl, const struct verify *v,
                 const struct report_limits *lim)
{
    int32_t *lat;
    size_t n = load_nrecs(l), j = 0, i;
    int c, kidx;
    int64_t last_degraded_end = -1, t_end_max = 0;
    const struct load_rec *slowest = NULL, *first_bad = NULL;

    memset(r, 0, sizeof(*r));
    r->recovery_ms = -1;
    lat = malloc((n ? n : 1) * sizeof(*lat));
    if (lat == NULL) {
        why(r, "out of memory");
        return 1;
    }
    for (c = 0; c < l->nclients; c++) {
        const struct load_client *cl = &l->clients[c];

        for (i = 0; i < cl->nrecs; i++) {
            const struct load_rec *rec = &cl->recs[i];
            int64_t t_end = rec->t0_us + rec->lat_us;
            int st = rec->status >= 0 && rec->status < 600 ? rec->status : 0;
            int ok;

            lat[j++] = rec->lat_us;
            if (rec->lat_us > 1000000) {
                if (r->slow == 0 || rec->t0_us / 1e6 < r->slow_first_s)
                    r->slow_first_s = rec->t0_us / 1e6;
                if (rec->t0_us / 1e6 > r->slow_last_s)
                    r->slow_last_s = rec->t0_us / 1e6;
                r->slow++;
                r->slow_by_op[rec->op & 31]++;
            }
            r->status_count[st]++;
            if (t_end > t_end_max)
                t_end_max = t_end;
            if (slowest == NULL || rec->lat_us > slowest->lat_us)
                slowest = rec;
            ok = fault_allows(k, (enum load_class)rec->cls, st);
            /* a fault's errors may only come once the fault began */
            if (ok && (st < 200 || st >= 300) && t_end < tl->t_fault_us)
                ok = 0;
            if (ok && st == 502) {
                kidx = kill_of(tl, t_end);
                /* a dead host may fail only what it held: sent before it died, or within
                 * HOST_STALE_US after, on a kept-alive connection nginx had not yet seen
                 * close (nginx then never passes a sent POST on; counted apart) */
                if (kidx < 0 || (k == FAULT_HOST_DOWN &&
                                 rec->t0_us > tl->hit_us[kidx] + tl->stop_cmd_us + HOST_STALE_US))
                    ok = 0;
                else if (k == FAULT_HOST_DOWN && rec->t0_us > tl->hit_us[kidx] + tl->stop_cmd_us)
                    r->stale_502++;
                else
                    r->kill_502[kidx]++;
            }
            if (!ok) {
                r->unexpected++;
                if (first_bad == NULL)
                    first_bad = rec;
            } else if (st >= 400 && !rec->shape_ok) {
                r->bad_shape++;
            }
            if (k != FAULT_NONE && fault_degraded(k, rec)) {
                r->degraded++;
                if (t_end > last_degraded_end)
                    last_degraded_end = t_end;
            }
        }
    }
    r->requests = n;
    qsort(lat, n, sizeof(*lat), cmp_i32);
    r->p50_ms = pct_ms(lat, n, 0.50);
    r->p99_ms = pct_ms(lat, n, 0.99);
    r->max_ms = n ? lat[n - 1] / 1000.0 : 0;
    r->max_status = slowest ? slowest->status : 0;
    r->seconds = t_end_max / 1e6;
    free(lat);
    if (last_degraded_end >= 0)
        r->recovery_ms = last_degraded_end > tl->t_restore_us
                             ? (long)((last_degraded_end - tl->t_restore_us) / 1000) : 0;

    /* ---- verdicts ---- */
    if (n == 0)
        why(r, "no request was sent");
    if (r->unexpected > 0)
        why(r, "%zu answers the contract does not allow (first: %d on %s, a %s, at %.2f s; "
               "429s: %ld, no answer: %ld)", r->unexpected, first_bad->status,
            load_op_name(first_bad->op), class_name(first_bad->cls), first_bad->t0_us / 1e6,
            r->status_count[429],
            r->status_count[0]);
    if (r->bad_shape > 0)
        why(r, "%zu error answers without a JSON {\"detail\"} body", r->bad_shape);
    if (r->max_ms > (double)lim->max_latency_ms)
        why(r, "max latency %.0f ms (%s answered %d) is over the %ld ms bound", r->max_ms,
            load_op_name(slowest->op), slowest->status, lim->max_latency_ms);
    if (k != FAULT_NONE && r->recovery_ms > lim->max_recovery_ms)
        why(r, "still degraded %ld ms after the restore (bound %ld ms)", r->recovery_ms,
            lim->max_recovery_ms);
    /* the fault must have shown, or the test tested nothing */
    if ((k == FAULT_CACHE_DOWN || k == FAULT_CACHE_STALL || k == FAULT_STORE_DOWN ||
         k == FAULT_MYSQL_RESTART) && r->degraded == 0)
        why(r, "no answer showed the fault: was it injected?");
    for (i = 0; (k == FAULT_RESPONDER_KILL || k == FAULT_HOST_DOWN) && i < (size_t)tl->nhits; i++)
        if (r->kill_502[i] > tl->hit_inflight[i])
            why(r, "kill %zu: %ld answers 502, more than the %d requests in flight", i + 1,
                r->kill_502[i], tl->hit_inflight[i]);
    if (v->problems > 0)
        why(r, "%d write/read checks failed: %s", v->problems, v->notes);
    return r->failed;
}

static void statuses(const struct report *r, char *buf, size_t sz)
{
    size_t len = 0;
    int s;

    buf[0] = '\0';
    for (s = 0; s < 600 && len + 24 < sz; s++) {
        if (r->status_count[s] == 0)
            continue;
        if (s == 0)
            len += (size_t)snprintf(buf + len, sz - len, "%sno answer: %ld", len ? ", " : "",
                                    r->status_count[s]);
        else
            len += (size_t)snprintf(buf + len, sz - len, "%s%d: %ld", len ? ", " : "", s,
                                    r->status_count[s]);
    }
}

static void recovery(const struct report *r, enum fault_kind k, const struct fault_timeline *tl,
                     char *buf, size_t sz)
{
    if (k == FAULT_RESPONDER_KILL) {
        snprintf(buf, sz, "respawn %ld / %ld ms; 502s %ld / %ld (in flight %d / %d)",
                 tl->respawn_ms[0], tl->respawn_ms[1], r->kill_502[0], r->kill_502[1],
                 tl->hit_inflight[0], tl->hit_inflight[1]);
    } else if (k == FAULT_HOST_DOWN) {
        snprintf(buf, sz, "502s %ld in flight (of %d) + %ld on stale kept-alive connections; "
                 "restart took %.1f s; %s", r->kill_502[0], tl->hit_inflight[0], r->stale_502,
                 tl->restore_cmd_us / 1e6,
                 r->degraded ? "errors only at the kill" : "no error");
    } else if (k == FAULT_NONE || k == FAULT_NGINX_RELOAD) {
        snprintf(buf, sz, "%s", r->degraded ? "degraded answers!" : "nothing to recover");
    } else if (r->recovery_ms < 0) {
        snprintf(buf, sz, "no degraded answer");
    } else {
        if (tl->restore_cmd_us > 0)
            snprintf(buf, sz, "%.2f s (start took %.1f s; %zu degraded answers)",
                     r->recovery_ms / 1000.0, tl->restore_cmd_us / 1e6, r->degraded);
        else
            snprintf(buf, sz, "%.2f s (%zu degraded answers)", r->recovery_ms / 1000.0,
                     r->degraded);
    }
}

void report_print(FILE *out, const struct report *r, enum fault_kind k,
                  const struct fault_timeline *tl, const struct verify *v)
{
    char st[256], rec[160];

    statuses(r, st, sizeof(st));
    recovery(r, k, tl, rec, sizeof(rec));
    fprintf(out, "[chaos] %-15s %zu requests in %.1f s (%.0f/s); statuses: %s\n", fault_name(k),
            r->requests, r->seconds, r->seconds > 0 ? r->requests / r->seconds : 0, st);
    fprintf(out, "[chaos] %-15s latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; fault at %.2f s, "
                 "restored at %.2f s; recovery: %s\n", "", r->p50_ms, r->p99_ms, r->max_ms,
            tl->t_fault_us / 1e6, tl->t_restore_us / 1e6, rec);
    if (r->slow > 0) {
        int op;

        fprintf(out, "[chaos] %-15s %zu answers took over 1 s (started %.2f..%.2f s):", "",
                r->slow, r->slow_first_s, r->slow_last_s);
        for (op = 0; op < 32; op++)
            if (r->slow_by_op[op] > 0)
                fprintf(out, " %s %ld", load_op_name(op), r->slow_by_op[op]);
        fputc('\n', out);
    }
    fprintf(out, "[chaos] %-15s acknowledged -> in MariaDB: users %ld/%ld, starts %ld/%ld, "
                 "completions %ld/%ld, totals bad %ld of %ld; sessions %ld/%ld; "
                 "fresh reads %ld checked, %ld stale (cache back %ld ms after the load)\n", "",
            v->users_acked, v->users_found, v->starts_acked, v->starts_found,
            v->completions_acked, v->completions_found, v->totals_bad, v->totals_checked,
            v->sessions_acked, v->sessions_found, v->fresh_checked, v->fresh_stale, v->settle_ms);
    if (v->session_loss_allowed)
        fprintf(out, "[chaos] %-15s sessions lost in the failover (acknowledged, then 404): %ld\n",
                "", v->sessions_lost);
    fprintf(out, "[chaos] %-15s %s%s\n", "", r->failed ? "FAILED: " : "ok", r->failed ? r->why : "");
}

/* True when the file already has the table's header line. */
static int has_table(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");
    int found = 0;

    if (f == NULL)
        return 0;
    while (!found && fgets(line, sizeof(line), f) != NULL)
        found = strncmp(line, "| fault |", 9) == 0;
    fclose(f);
    return found;
}

void report_md_row(const char *path, const struct report *r, enum fault_kind k,
                   const struct fault_timeline *tl, const struct verify *v)
{
    char st[256], rec[160];
    FILE *f;
    long acked = v->users_acked + v->starts_acked + v->completions_acked;
    long found = v->users_found + v->starts_found + v->completions_found;

    int header;

    if (path == NULL)
        return;
    header = !has_table(path);
    if ((f = fopen(path, "a")) == NULL)
        return;
    if (header)
        fprintf(f, "| fault | requests | statuses | p50 / p99 / max ms | answers > 1 s | recovery | "
                   "writes acked / in MariaDB | sessions acked / readable | stale reads | result |\n"
                   "|---|---:|---|---|---:|---|---|---|---|---|\n");
    statuses(r, st, sizeof(st));
    recovery(r, k, tl, rec, sizeof(rec));
    fprintf(f, "| %s | %zu | %s | %.1f / %.1f / %.0f | %zu | %s | %ld / %ld | %ld / %ld | %ld of %ld | %s |\n",
            fault_name(k), r->requests, st, r->p50_ms, r->p99_ms, r->max_ms, r->slow, rec, acked, found,
            v->sessions_acked, v->sessions_found, v->fresh_stale, v->fresh_checked,
            r->failed ? "**FAILED**" : "ok");
    fclose(f);
}
