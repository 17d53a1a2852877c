/* report: turns a finished load's records and a fault's timeline into the
 * figures the chaos test reports (requests, status counts, p50/p99/max
 * latency, time to recover) and the verdicts it asserts (only the answers the
 * fault's contract allows, a latency bound, at most the in-flight requests
 * failing per kill, a bounded recovery). Prints a human summary and a
 * Markdown table row. */
#ifndef GUILD_CHAOS_REPORT_H
#define GUILD_CHAOS_REPORT_H

#include <stdio.h>

#include "fault.h"
#include "load.h"
#include "verify.h"

struct report_limits {
    long max_latency_ms;  /* no request may take longer */
    long max_recovery_ms; /* degraded answers stop within this after the restore */
};

struct report {
    size_t requests;
    long status_count[600]; /* [0] = no answer */
    double p50_ms, p99_ms, max_ms;
    int max_status;
    size_t slow;            /* answers that took over 1 s */
    long slow_by_op[32];    /* the same, per route (load_op_name) */
    double slow_first_s, slow_last_s; /* when the first and last of them started */
    size_t degraded;        /* answers showing the fault */
    long recovery_ms;       /* last degraded answer's end - restore; -1 when none */
    size_t unexpected;      /* answers the contract does not allow */
    size_t bad_shape;       /* errors without the JSON {"detail"} body */
    long kill_502[FAULT_MAX_HITS];
    long stale_502; /* host-down: sent just after the kill on a dead kept-alive connection */
    double seconds;
    int failed;
    char why[1024];
};

/* Computes r from the load and the timeline, and the verdicts against lim
 * and the verify results. Returns r->failed. */
int report_build(struct report *r, const struct load *l, enum fault_kind k,
                 const struct fault_timeline *tl, const struct verify *v,
                 const struct report_limits *lim);

/* Human summary on out. */
void report_print(FILE *out, const struct report *r, enum fault_kind k,
                  const struct fault_timeline *tl, const struct verify *v);

/* Appends one Markdown table row (header first when the file is empty). */
void report_md_row(const char *path, const struct report *r, enum fault_kind k,
                   const struct fault_timeline *tl, const struct verify *v);

#endif
