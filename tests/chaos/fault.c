/* fault: see fault.h. Services are stopped and started with the stack's own
 * commands ($STACK_CMD stop|start SERVICE, output appended to $CHAOS_LOG);
 * the stall, the kills and the reloads are signals to the pids the stack's
 * pid files name. The responders are found as the children of multiwatch
 * ($FCGI_PID) in /proc. */
#include "fault.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define FAULT_RESPAWN_WAIT_US 10000000 /* a responder is back within 10 s or we say so */

static const char *const names[] = {
    [FAULT_NONE] = "none",
    [FAULT_CACHE_DOWN] = "cache-down",
    [FAULT_STORE_DOWN] = "store-down",
    [FAULT_CACHE_STALL] = "cache-stall",
    [FAULT_MYSQL_RESTART] = "mysql-restart",
    [FAULT_RESPONDER_KILL] = "responder-kill",
    [FAULT_NGINX_RELOAD] = "nginx-reload",
    [FAULT_HOST_DOWN] = "host-down",
    [FAULT_CACHE_FAILOVER] = "cache-failover",
    [FAULT_STORE_FAILOVER] = "store-failover",
};

int fault_parse(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(name, names[i]) == 0)
            return (int)i;
    return -1;
}

const char *fault_name(enum fault_kind k)
{
    return names[k];
}

static void sleep_until(const struct load *l, int64_t t_us)
{
    int64_t left;
    struct timespec ts;

    while ((left = t_us - load_now_us(l)) > 0) {
        ts.tv_sec = left / 1000000;
        ts.tv_nsec = (left % 1000000) * 1000;
        nanosleep(&ts, NULL);
    }
}

/* $STACK_CMD args, output appended to $CHAOS_LOG (default /dev/null). */
static int stack(const char *args, struct fault_timeline *tl)
{
    char cmd[256];
    int rc;

    if (getenv("STACK_CMD") == NULL) {
        snprintf(tl->err, sizeof(tl->err), "STACK_CMD is not set (source the stack.env)");
        return -1;
    }
    snprintf(cmd, sizeof(cmd), "$STACK_CMD %s >>\"${CHAOS_LOG:-/dev/null}\" 2>&1", args);
    rc = system(cmd);
    if (rc != 0) {
        snprintf(tl->err, sizeof(tl->err), "`scripts/stack %s` failed (status %d)", args, rc);
        return -1;
    }
    return 0;
}

/* The pid in the file $var names; -1 when unreadable. */
static pid_t pid_of(const char *var)
{
    const char *path = getenv(var);
    FILE *f;
    long pid = -1;

    if (path == NULL || (f = fopen(path, "r")) == NULL)
        return -1;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = -1;
    fclose(f);
    return (pid_t)pid;
}

/* Live children of parent (zombies excluded) into out; returns how many. */
static int children_of(pid_t parent, pid_t *out, int max)
{
    DIR *d = opendir("/proc");
    struct dirent *e;
    char path[300], buf[512], *p, state;
    long ppid;
    int n = 0;
    FILE *f;

    if (d == NULL)
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        if ((f = fopen(path, "r")) == NULL)
            continue;
        p = fgets(buf, sizeof(buf), f);
        fclose(f);
        /* "pid (comm) state ppid ...": comm may hold spaces, so parse after the last ')' */
        if (p == NULL || (p = strrchr(buf, ')')) == NULL ||
            sscanf(p + 1, " %c %ld", &state, &ppid) != 2)
            continue;
        if (ppid == parent && state != 'Z' && n < max)
            out[n++] = (pid_t)atol(e->d_name);
    }
    closedir(d);
    return n;
}

static int kill_responder(struct load *l, struct fault_timeline *tl)
{
    pid_t mw = pid_of("FCGI_PID"), kids[256], victim;
    const char *want_s = getenv("FCGI_CHILDREN");
    int n, want = want_s ? atoi(want_s) : 0, i = tl->nhits;
    int64_t t0;

    if (mw <= 0 || (n = children_of(mw, kids, 256)) == 0) {
        snprintf(tl->err, sizeof(tl->err), "no responder found under multiwatch (FCGI_PID)");
        return -1;
    }
    if (want <= 0)
        want = n;
    victim = kids[n - 1];
    tl->hit_inflight[i] = atomic_load(&l->inflight);
    t0 = load_now_us(l);
    if (kill(victim, SIGKILL) != 0) {
        snprintf(tl->err, sizeof(tl->err), "kill -9 %ld: %s", (long)victim, strerror(errno));
        return -1;
    }
    tl->hit_us[i] = t0;
    tl->nhits++;
    /* multiwatch respawns it: wait until the pool is whole again without the victim */
    for (;;) {
        int back = children_of(mw, kids, 256), j, gone = 1;

        for (j = 0; j < back; j++)
            if (kids[j] == victim)
                gone = 0;
        if (gone && back >= want)
            break;
        if (load_now_us(l) - t0 > FAULT_RESPAWN_WAIT_US) {
            snprintf(tl->err, sizeof(tl->err), "the pool has %d of %d responders %d s after a kill",
                     back, want, FAULT_RESPAWN_WAIT_US / 1000000);
            return -1;
        }
        usleep(1000);
    }
    tl->respawn_ms[i] = (long)((load_now_us(l) - t0) / 1000);
    return 0;
}

static int reload_nginx(struct load *l, struct fault_timeline *tl)
{
    pid_t master = pid_of("NGINX_PID");

    if (master <= 0 || kill(master, SIGHUP) != 0) {
        snprintf(tl->err, sizeof(tl->err), "cannot signal nginx (NGINX_PID)");
        return -1;
    }
    tl->hit_inflight[tl->nhits] = atomic_load(&l->inflight);
    tl->hit_us[tl->nhits++] = load_now_us(l);
    return 0;
}

int fault_run(const struct fault_plan *plan, struct load *l, struct fault_timeline *tl)
{
    const char *svc = plan->kind == FAULT_STORE_DOWN ? "redis-store"
                      : plan->kind == FAULT_STORE_FAILOVER ? "redis-store"
                      : plan->kind == FAULT_HOST_DOWN ? "app1"
                      : plan->kind == FAULT_MYSQL_RESTART ? "mysql" : "redis-cache";
    char args[64];
    pid_t redis;
    int rc = 0;
    int64_t t0;

    memset(tl, 0, sizeof(*tl));
    sleep_until(l, plan->warmup_us);
    tl->t_fault_us = load_now_us(l);
    switch (plan->kind) {
    case FAULT_NONE:
        tl->t_restore_us = tl->t_fault_us;
        return 0;
    case FAULT_CACHE_DOWN:
    case FAULT_STORE_DOWN:
    case FAULT_MYSQL_RESTART:
        snprintf(args, sizeof(args), "stop %s", svc);
        if (stack(args, tl) != 0)
            return -1;
        sleep_until(l, tl->t_fault_us + plan->hold_us);
        snprintf(args, sizeof(args), "start %s", svc);
        t0 = load_now_us(l);
        rc = stack(args, tl);
        tl->t_restore_us = load_now_us(l);
        tl->restore_cmd_us = tl->t_restore_us - t0;
        return rc;
    case FAULT_HOST_DOWN:
    case FAULT_CACHE_FAILOVER:
    case FAULT_STORE_FAILOVER:
        /* the load's requests in flight when the host or primary dies: for a host, the
         * most that may fail (nginx passes the rest to the other host) */
        tl->hit_inflight[0] = atomic_load(&l->inflight);
        snprintf(args, sizeof(args), "stop %s", svc);
        if (stack(args, tl) != 0)
            return -1;
        /* the kill happened while the command ran (hit_us .. hit_us + stop_cmd_us):
         * "in flight at the kill" means sent before it returned, and the bound is the
         * larger count of the two moments */
        tl->hit_us[0] = tl->t_fault_us;
        tl->stop_cmd_us = load_now_us(l) - tl->t_fault_us;
        if (atomic_load(&l->inflight) > tl->hit_inflight[0])
            tl->hit_inflight[0] = atomic_load(&l->inflight);
        tl->nhits = 1;
        sleep_until(l, tl->t_fault_us + plan->hold_us);
        snprintf(args, sizeof(args), "start %s", svc);
        t0 = load_now_us(l);
        rc = stack(args, tl);
        tl->restore_cmd_us = load_now_us(l) - t0;
        /* a failover needs no restore: recovery counts from the kill (the old primary
         * only comes back as a replica); a host counts from its restart */
        tl->t_restore_us = plan->kind == FAULT_HOST_DOWN ? load_now_us(l) : tl->t_fault_us;
        return rc;
    case FAULT_CACHE_STALL:
        if ((redis = pid_of("REDIS_CACHE_PID")) <= 0 || kill(redis, SIGSTOP) != 0) {
            snprintf(tl->err, sizeof(tl->err), "cannot stop the cache Redis (REDIS_CACHE_PID)");
            return -1;
        }
        sleep_until(l, tl->t_fault_us + plan->hold_us);
        kill(redis, SIGCONT);
        tl->t_restore_us = load_now_us(l);
        return 0;
    case FAULT_RESPONDER_KILL:
    case FAULT_NGINX_RELOAD:
        rc = plan->kind == FAULT_RESPONDER_KILL ? kill_responder(l, tl) : reload_nginx(l, tl);
        if (rc != 0)
            return rc;
        sleep_until(l, tl->t_fault_us + plan->hold_us);
        rc = plan->kind == FAULT_RESPONDER_KILL ? kill_responder(l, tl) : reload_nginx(l, tl);
        tl->t_restore_us = tl->hit_us[tl->nhits > 0 ? tl->nhits - 1 : 0];
        return rc;
    }
    return -1;
}

int fault_allows(enum fault_kind k, enum load_class cls, int status)
{
    if (status >= 200 && status < 300)
        return 1;
    switch (k) {
    case FAULT_HOST_DOWN:
        /* the requests app host 1 held when it died and that nginx may not pass on (a
         * POST once sent); report.c bounds them by the requests then in flight */
        return status == 502;
    case FAULT_STORE_FAILOVER:
    case FAULT_STORE_DOWN:
        /* sessions live in the store: 503 "Session store unavailable"; the
         * limiter and the token denylist fail open, so nothing else may fail */
        return status == 503 && cls == LOAD_SESSION;
    case FAULT_MYSQL_RESTART:
        /* whatever needs MariaDB answers 503 JSON; /ping needs nothing */
        return status == 503 && cls != LOAD_PING;
    case FAULT_RESPONDER_KILL:
        /* the requests the dead responder held; counted against the in-flight bound */
        return status == 502;
    default:
        /* the cache Redis down or frozen: BYPASS, never an error; a reload loses nothing */
        return 0;
    }
}

int fault_degraded(enum fault_kind k, const struct load_rec *r)
{
    int ok = r->status >= 200 && r->status < 300;

    switch (k) {
    case FAULT_CACHE_DOWN:
    case FAULT_CACHE_STALL:
    case FAULT_CACHE_FAILOVER:
        return !ok || r->xcache == WIRE_XC_BYPASS;
    case FAULT_STORE_DOWN:
    case FAULT_STORE_FAILOVER:
        return !ok && r->cls == LOAD_SESSION;
    default:
        return !ok;
    }
}
