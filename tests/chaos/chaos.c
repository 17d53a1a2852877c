/* chaos: the fault-under-load and soak driver of `scripts/stack chaos` and
 * `scripts/stack soak` (tests/chaos/run.sh, tests/chaos/soak.sh drive it).
 *   chaos fault NAME  a steady mixed load while NAME is injected and undone,
 *                     then the checks: only the answers the fault's contract
 *                     allows, bounded latency and recovery, every
 *                     acknowledged write in MariaDB, no stale read.
 *   chaos load        the same load with no fault (soak, valgrind): every
 *                     answer must be a 2xx and every acknowledged write found.
 * Thin main: options, then load.c, fault.c, fresh.c, verify.c and report.c.
 * Exit status: 0 all checks passed, 1 a check failed, 2 bad usage or setup. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "fresh.h"
#include "load.h"
#include "report.h"
#include "verify.h"
#include "wire.h"

struct opts {
    int fault;
    int clients;
    double seconds, warmup, hold;
    long requests;
    struct report_limits lim;
    const char *tag, *md;
    unsigned seed;
    int fresh, verify;
};

static void usage(void)
{
    fputs("usage: chaos fault NAME [options]   NAME: cache-down store-down cache-stall\n"
          "                                      mysql-restart responder-kill nginx-reload\n"
          "                                      host-down cache-failover store-failover\n"
          "                                      (the last three: scripts/cluster)\n"
          "       chaos load [options]         no fault: every answer must be a 2xx\n"
          "options: --clients N [8]  --seconds S [fault: 20; load: 10 unless --requests]\n"
          "         --requests N (load)  --warmup S [4]  --hold S [3]\n"
          "         --max-latency-ms MS [3000]  --max-recovery-ms MS [5000]\n"
          "         --tag NAME (username prefix)  --seed N  --md FILE (append a table row)\n"
          "         --no-fresh (skip the stale-read check)  --no-verify (skip the write checks)\n"
          "environment (stack.env): BASE_URL MYSQL_CLI STACK_CMD REDIS_CACHE_PID FCGI_PID\n"
          "         NGINX_PID FCGI_CHILDREN; CHAOS_LOG: where the stack commands' output goes\n",
          stderr);
}

static int parse_args(int argc, char **argv, struct opts *o)
{
    int i;

    if (argc < 2)
        return -1;
    i = 2;
    if (strcmp(argv[1], "fault") == 0) {
        if (argc < 3 || (o->fault = fault_parse(argv[2])) <= 0)
            return -1;
        i = 3;
    } else if (strcmp(argv[1], "load") != 0) {
        return -1;
    }
    for (; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--no-fresh") == 0) {
            o->fresh = 0;
            continue;
        }
        if (strcmp(a, "--no-verify") == 0) {
            o->verify = 0;
            continue;
        }
        if (val == NULL)
            return -1;
        i++;
        if (strcmp(a, "--clients") == 0)
            o->clients = atoi(val);
        else if (strcmp(a, "--seconds") == 0)
            o->seconds = atof(val);
        else if (strcmp(a, "--requests") == 0)
            o->requests = atol(val);
        else if (strcmp(a, "--warmup") == 0)
            o->warmup = atof(val);
        else if (strcmp(a, "--hold") == 0)
            o->hold = atof(val);
        else if (strcmp(a, "--max-latency-ms") == 0)
            o->lim.max_latency_ms = atol(val);
        else if (strcmp(a, "--max-recovery-ms") == 0)
            o->lim.max_recovery_ms = atol(val);
        else if (strcmp(a, "--tag") == 0)
            o->tag = val;
        else if (strcmp(a, "--seed") == 0)
            o->seed = (unsigned)atol(val);
        else if (strcmp(a, "--md") == 0)
            o->md = val;
        else
            return -1;
    }
    if (o->clients < 1 || o->clients > 256 || o->seconds <= 0 || o->requests < 0)
        return -1;
    if (o->fault != FAULT_NONE && o->warmup + o->hold >= o->seconds)
        return -1;
    return 0;
}

/* A username prefix unique to this run and fault: "c" + time in base 36 + pid. */
static void make_tag(char *buf, size_t sz, int fault)
{
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    unsigned long t = (unsigned long)time(NULL) * 100000UL + (unsigned long)getpid() % 100000UL;
    char tmp[24];
    int n = 0;

    while (t > 0 && n < (int)sizeof(tmp) - 1) {
        tmp[n++] = digits[t % 36];
        t /= 36;
    }
    snprintf(buf, sz, "c%d", fault);
    while (n > 0 && strlen(buf) + 1 < sz) {
        size_t len = strlen(buf);

        buf[len] = tmp[--n];
        buf[len + 1] = '\0';
    }
}

int main(int argc, char **argv)
{
    struct opts o = {.clients = 8, .seconds = 0, .warmup = 4, .hold = 3,
                     .lim = {.max_latency_ms = 3000, .max_recovery_ms = 5000},
                     .seed = 1, .fresh = 1, .verify = 1};
    const char *base = getenv("BASE_URL");
    struct fault_plan plan;
    struct fault_timeline tl;
    struct verify v;
    struct report r;
    struct load l;
    char tag[24];
    int rc = 0;

    if (argc >= 2 && strcmp(argv[1], "fault") == 0)
        o.seconds = 20;
    else
        o.seconds = 10;
    if (parse_args(argc, argv, &o) != 0) {
        usage();
        return 2;
    }
    if (base == NULL || strncmp(base, "http://127.0.0.1:", 17) != 0) {
        fprintf(stderr, "chaos: BASE_URL must be http://127.0.0.1:PORT (source the stack.env)\n");
        return 2;
    }
    if (o.tag != NULL)
        snprintf(tag, sizeof(tag), "%s", o.tag);
    else
        make_tag(tag, sizeof(tag), o.fault);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(&tl, 0, sizeof(tl));
    memset(&v, 0, sizeof(v));
    if (load_start(&l, base, tag, o.clients, o.requests, o.seed) != 0) {
        fprintf(stderr, "chaos: cannot start the load\n");
        return 2;
    }
    if (o.fault != FAULT_NONE) {
        plan.kind = (enum fault_kind)o.fault;
        plan.warmup_us = (int64_t)(o.warmup * 1e6);
        plan.hold_us = (int64_t)(o.hold * 1e6);
        if (fault_run(&plan, &l, &tl) != 0) {
            fprintf(stderr, "chaos: %s: %s\n", fault_name(plan.kind), tl.err);
            rc = 1;
        }
    }
    if (o.fault != FAULT_NONE || o.requests == 0) {
        while (load_now_us(&l) < (int64_t)(o.seconds * 1e6))
            usleep(10000);
        load_stop(&l, 0);
    } else {
        load_stop(&l, 1);
    }
    if (o.fresh && o.fault != FAULT_NONE)
        fresh_check(&l, base, &v);
    if (o.verify) {
        v.session_loss_allowed = o.fault == FAULT_STORE_FAILOVER;
        verify_writes(&l, &v);
        verify_sessions(&l, base, &v);
    }
    report_build(&r, &l, (enum fault_kind)o.fault, &tl, &v, &o.lim);
    report_print(stdout, &r, (enum fault_kind)o.fault, &tl, &v);
    if (r.failed) {
        int c;

        for (c = 0; c < l.nclients; c++)
            if (l.clients[c].fail_note[0])
                printf("[chaos]   client %d, first error: %s\n", c, l.clients[c].fail_note);
    }
    report_md_row(o.md, &r, (enum fault_kind)o.fault, &tl, &v);
    load_free(&l);
    curl_global_cleanup();
    return rc || r.failed ? 1 : 0;
}
