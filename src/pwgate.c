/* pwgate: see pwgate.h. Why slots with owners rather than a counter or a
 * semaphore: a shared counter cannot tell which process a unit belongs to,
 * so a kill -9 would leak it for good; a POSIX semaphore has no undo at
 * exit; a System V semaphore with SEM_UNDO would, but its value (the cap)
 * lives in the kernel, outside the pool's own files, and cannot follow a
 * configuration change without a re-initialisation race. An owner word per
 * slot in the segment the pool already shares costs one compare-and-swap to
 * take and one to give back, and says whom to ask when a slot looks stuck. */
#define _GNU_SOURCE
#include "pwgate.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "metrics.h"
#include "password.h"

#define TOKEN_UNSHARED (METRICS_PW_SLOTS + 1) /* admitted without a shared slot */
#define RECLAIM_EVERY_MS 100                  /* a full host looks for dead holders this often */

static atomic_int in_process;          /* hashes this process runs now */
static atomic_llong last_reclaim_ms;    /* per process */
static atomic_ullong my_owner;          /* this process's slot word ... */
static atomic_int my_owner_pid;         /* ... computed for this pid (a fork recomputes) */

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* State and start time (clock ticks after boot) of pid from /proc/PID/stat.
 * 0; -1 when there is no such process; -2 when /proc cannot tell. */
static int proc_stat(pid_t pid, char *state, unsigned long long *start)
{
    char path[64], buf[1024], *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return errno == ENOENT ? -1 : -2;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1; /* it exited between open and read (ESRCH) */
    buf[n] = '\0';
    /* "pid (comm) S ppid ...": comm may hold spaces and ')', so parse from
     * the last ')'; the start time is field 22, the state field 3 */
    if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0')
        return -2;
    *state = p[2];
    p += 2;
    for (int field = 3; field < 22; field++) {
        if ((p = strchr(p, ' ')) == NULL)
            return -2;
        p++;
    }
    *start = strtoull(p, NULL, 10);
    return 0;
}

/* pid in the high half, the low 32 bits of its start time in the low half
 * (0 when /proc cannot tell): a pid reused by a later process differs. */
static unsigned long long owner_word(void)
{
    pid_t pid = getpid();
    unsigned long long start = 0;
    char state;

    if (atomic_load(&my_owner_pid) == (int)pid)
        return atomic_load(&my_owner);
    if (proc_stat(pid, &state, &start) != 0)
        start = 0;
    atomic_store(&my_owner, ((unsigned long long)(uint32_t)pid << 32) | (uint32_t)start);
    atomic_store(&my_owner_pid, (int)pid);
    return atomic_load(&my_owner);
}

static bool holder_dead(unsigned long long owner)
{
    pid_t pid = (pid_t)(owner >> 32);
    uint32_t start = (uint32_t)owner;
    unsigned long long now_start;
    char state;

    switch (proc_stat(pid, &state, &now_start)) {
    case -1:
        return true;
    case 0:
        return state == 'Z' || state == 'X' || (start != 0 && (uint32_t)now_start != start);
    default: /* no /proc: a live pid counts as the holder */
        return kill(pid, 0) != 0 && errno == ESRCH;
    }
}

/* Frees the slots among the first n whose holder is dead; returns how many. */
static int reclaim(unsigned long long *slots, int n, unsigned long long me)
{
    int freed = 0;

    for (int i = 0; i < n; i++) {
        unsigned long long o = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);
        if (o == 0 || o == me || !holder_dead(o))
            continue;
        if (__atomic_compare_exchange_n(&slots[i], &o, 0ULL, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_RELAXED)) {
            log_msg(LOG_WARN, "password gate: freed a slot held by dead process %d",
                    (int)(o >> 32));
            freed++;
        }
    }
    return freed;
}

int pwgate_host_cap(int setting)
{
    static atomic_int auto_cap;
    int cap = setting;

    if (setting < 0) {
        if ((cap = atomic_load(&auto_cap)) == 0) {
            long cpus = sysconf(_SC_NPROCESSORS_ONLN);
            cap = cpus >= 2 ? (int)(cpus / 2) : 1;
            atomic_store(&auto_cap, cap);
        }
    }
    return cap > METRICS_PW_SLOTS ? METRICS_PW_SLOTS : cap;
}

void pwgate_init(void)
{
    unsigned long long *slots = metrics_pw_slots();

    if (slots != NULL)
        reclaim(slots, METRICS_PW_SLOTS, owner_word());
}

/* Takes a free slot among the first cap; a full table is searched for dead
 * holders (throttled) and tried once more. Token or 0. */
static int take_slot(unsigned long long *slots, int cap)
{
    unsigned long long me = owner_word();

    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < cap; i++) {
            unsigned long long expected = 0;
            if (__atomic_compare_exchange_n(&slots[i], &expected, me, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED))
                return i + 1;
        }
        long long now = now_ms(), last = atomic_load(&last_reclaim_ms);
        if (pass > 0 || now - last < RECLAIM_EVERY_MS ||
            !atomic_compare_exchange_strong(&last_reclaim_ms, &last, now) ||
            reclaim(slots, cap, me) == 0)
            break;
    }
    return 0;
}

int pwgate_enter(const struct config *cfg)
{
    int cap = pwgate_host_cap(cfg->password_concurrency);
    int per_process = cfg->fcgi_threads > 1 ? cfg->fcgi_threads - 1 : 1;
    int running = atomic_fetch_add(&in_process, 1);
    unsigned long long *slots = metrics_pw_slots();
    int token = TOKEN_UNSHARED;

    if (cap > 0) {
        if (running >= (per_process < cap ? per_process : cap))
            token = 0;
        else if (slots != NULL)
            token = take_slot(slots, cap);
    }
    if (token == 0)
        atomic_fetch_sub(&in_process, 1);
    metrics_password_check(token != 0);
    return token;
}

void pwgate_leave(int token)
{
    unsigned long long *slots = metrics_pw_slots();

    if (token <= 0)
        return;
    if (token <= METRICS_PW_SLOTS && slots != NULL) {
        unsigned long long me = owner_word();
        /* only if it is still ours (it is, unless someone judged us dead) */
        __atomic_compare_exchange_n(&slots[token - 1], &me, 0ULL, false, __ATOMIC_ACQ_REL,
                                    __ATOMIC_RELAXED);
    }
    atomic_fetch_sub(&in_process, 1);
}

enum pwgate_rc pwgate_hash(const struct config *cfg, const char *pw, char *out, size_t outsz)
{
    int token = pwgate_enter(cfg);
    int rc;

    if (token == 0)
        return PWGATE_BUSY;
    rc = password_hash(pw, cfg->password_cost, out, outsz);
    pwgate_leave(token);
    return rc == 0 ? PWGATE_OK : PWGATE_FAILED;
}
