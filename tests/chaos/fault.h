/* fault: the faults the chaos test injects into a running stack, one per
 * phase, while a load runs: what each one does (through the stack's own
 * commands or a signal to the process the stack's pid files name), when, and
 * what the stack promises meanwhile (which answers are acceptable, what
 * "degraded" means for the time to recover).
 * The stack is described by stack.env's variables in the environment:
 * STACK_CMD, REDIS_CACHE_PID, FCGI_PID, NGINX_PID, FCGI_CHILDREN.
 * The cluster faults use STACK_CMD only: `stop|start app1`, `stop|start
 * redis-cache|redis-store` (scripts/cluster: the role's current primary). */
#ifndef GUILD_CHAOS_FAULT_H
#define GUILD_CHAOS_FAULT_H

#include <stdint.h>

#include "load.h"

enum fault_kind {
    FAULT_NONE,          /* plain load (soak, baseline) */
    FAULT_CACHE_DOWN,    /* stop redis-cache, start it again */
    FAULT_STORE_DOWN,    /* stop redis-store, start it again */
    FAULT_CACHE_STALL,   /* SIGSTOP the cache Redis, SIGCONT after the hold */
    FAULT_MYSQL_RESTART, /* stop mysql, start it again */
    FAULT_RESPONDER_KILL,/* kill -9 one responder, twice, hold apart */
    FAULT_NGINX_RELOAD,  /* SIGHUP nginx, twice, hold apart */
    /* the cluster's faults (scripts/cluster's STACK_CMD, issue 11) */
    FAULT_HOST_DOWN,     /* kill -9 app host 1's whole pool, start it after the hold */
    FAULT_CACHE_FAILOVER,/* kill -9 the cache primary: Sentinel promotes the replica; the
                          * old primary comes back as a replica after the hold */
    FAULT_STORE_FAILOVER,/* the same for the store primary */
};

#define FAULT_MAX_HITS 2

struct fault_plan {
    enum fault_kind kind;
    int64_t warmup_us; /* load before the fault */
    int64_t hold_us;   /* how long the fault lasts (or the gap between the two hits) */
};

/* What happened, in µs on the load's clock. */
struct fault_timeline {
    int64_t t_fault_us;    /* the fault began (first hit) */
    int64_t t_restore_us;  /* the service was back: start returned, SIGCONT sent, last hit */
    int64_t restore_cmd_us;/* how long `scripts/stack start` took (0 for signals) */
    int64_t stop_cmd_us;   /* cluster faults: how long the stop (the kill) command took */
    int nhits;
    int64_t hit_us[FAULT_MAX_HITS];      /* each kill / reload */
    int hit_inflight[FAULT_MAX_HITS];    /* the load's requests in flight at that moment */
    long respawn_ms[FAULT_MAX_HITS];     /* kill: until the pool had all its responders again */
    char err[256];                       /* why an injection failed */
};

/* The kind named name ("cache-down", ...), FAULT_NONE for "none", -1 when unknown. */
int fault_parse(const char *name);
const char *fault_name(enum fault_kind k);

/* Runs plan against the running load l: sleeps through the warmup, injects,
 * holds, restores. Returns 0, or -1 with tl->err set (the fault could not be
 * injected or undone: the stack may need `scripts/stack start`). */
int fault_run(const struct fault_plan *plan, struct load *l, struct fault_timeline *tl);

/* The promise: may a request of this class get this status under this fault?
 * 2xx always; 5xx only where the fault's contract allows it. */
int fault_allows(enum fault_kind k, enum load_class cls, int status);

/* Is this answer degraded (the fault still shows)? For the time to recover. */
int fault_degraded(enum fault_kind k, const struct load_rec *r);

#endif
