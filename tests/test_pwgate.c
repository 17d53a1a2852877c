/* test_pwgate: the per-host cap on concurrent password hashes, on a shared
 * segment of its own (a temporary file): the cap and the per-process
 * clamp, "no cap", slots given back, a slot of a process that died holding
 * it (reaped, zombie, or its pid reused) freed by the next caller that finds
 * the host full and by pwgate_init(), a live holder never robbed, threads
 * never exceeding the cap, and pwgate_hash answering BUSY without hashing. */
#define _GNU_SOURCE
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "metrics.h"
#include "password.h"
#include "pwgate.h"
#include "testutil.h"

#define RECLAIM_WAIT_US 150000 /* past the gate's 100 ms reclaim throttle */

static char dir[] = "/tmp/guild-pwgate.XXXXXX";
static char path[64];

static struct config cfg_of(int cap, int threads)
{
    struct config c;

    memset(&c, 0, sizeof(c));
    c.password_concurrency = cap;
    c.fcgi_threads = threads;
    c.password_cost = 4;
    return c;
}

static int slots_taken(void)
{
    unsigned long long *s = metrics_pw_slots();
    int n = 0;

    for (int i = 0; s != NULL && i < METRICS_PW_SLOTS; i++)
        n += __atomic_load_n(&s[i], __ATOMIC_RELAXED) != 0;
    return n;
}

static int setup(void)
{
    if (mkdtemp(dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/seg.metrics", dir);
    return metrics_open(path) == 0 ? 0 : 1;
}

static int teardown(void)
{
    metrics_close();
    unlink(path);
    rmdir(dir);
    return 0;
}

static void t_host_cap(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int autocap = pwgate_host_cap(-1);

    CU_ASSERT(autocap >= 1);
    CU_ASSERT_EQUAL(autocap, cpus >= 2 ? cpus / 2 : 1);
    CU_ASSERT_EQUAL(pwgate_host_cap(0), 0);
    CU_ASSERT_EQUAL(pwgate_host_cap(5), 5);
    CU_ASSERT_EQUAL(pwgate_host_cap(1000), METRICS_PW_SLOTS);
}

static void t_cap_and_release(void)
{
    struct config c = cfg_of(2, 8);
    int a = pwgate_enter(&c), b = pwgate_enter(&c), d;

    CU_ASSERT(a > 0 && b > 0 && a != b);
    CU_ASSERT_EQUAL(slots_taken(), 2);
    CU_ASSERT_EQUAL(pwgate_enter(&c), 0); /* full */
    pwgate_leave(a);
    CU_ASSERT_EQUAL(slots_taken(), 1);
    d = pwgate_enter(&c);
    CU_ASSERT(d > 0);
    pwgate_leave(b);
    pwgate_leave(d);
    pwgate_leave(0); /* a refused token gives nothing back */
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

static void t_per_process_clamp(void)
{
    struct config c = cfg_of(8, 3); /* 3 workers: at most 2 hash at once here */
    int a = pwgate_enter(&c), b = pwgate_enter(&c);

    CU_ASSERT(a > 0 && b > 0);
    CU_ASSERT_EQUAL(pwgate_enter(&c), 0);
    pwgate_leave(a);
    pwgate_leave(b);
    c = cfg_of(8, 1); /* one worker: still one hash at a time */
    a = pwgate_enter(&c);
    CU_ASSERT(a > 0);
    CU_ASSERT_EQUAL(pwgate_enter(&c), 0);
    pwgate_leave(a);
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

static void t_no_cap(void)
{
    struct config c = cfg_of(0, 1);
    int t[100];

    for (int i = 0; i < 100; i++) {
        t[i] = pwgate_enter(&c);
        CU_ASSERT(t[i] > 0);
    }
    CU_ASSERT_EQUAL(slots_taken(), 0); /* no shared state at all */
    for (int i = 0; i < 100; i++)
        pwgate_leave(t[i]);
}

/* A child that takes a slot and exits (or waits on fd to be killed) without
 * giving it back. Returns its pid once it holds the slot. */
static pid_t child_holding(int cap, int wait_fd)
{
    int p[2];
    pid_t pid;
    char ok;

    if (pipe(p) != 0)
        return -1;
    if ((pid = fork()) == 0) {
        struct config c = cfg_of(cap, 8);
        char x = pwgate_enter(&c) > 0 ? 'y' : 'n';
        if (write(p[1], &x, 1) != 1)
            _exit(1);
        if (wait_fd >= 0)
            while (read(wait_fd, &x, 1) != 0)
                ;
        _exit(0); /* like kill -9: no pwgate_leave */
    }
    close(p[1]);
    if (pid < 0 || read(p[0], &ok, 1) != 1 || ok != 'y')
        pid = -1;
    close(p[0]);
    return pid;
}

static char proc_state(pid_t pid)
{
    char f[64], buf[512], *p;
    FILE *fp;
    size_t n;

    snprintf(f, sizeof(f), "/proc/%d/stat", (int)pid);
    if ((fp = fopen(f, "r")) == NULL)
        return 0;
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    return p != NULL && p[1] == ' ' ? p[2] : 0;
}

static void t_dead_holder_freed(void)
{
    struct config c = cfg_of(1, 8);
    pid_t pid = child_holding(1, -1);
    int t;

    CU_ASSERT_FATAL(pid > 0);
    waitpid(pid, NULL, 0);
    CU_ASSERT_EQUAL(slots_taken(), 1); /* the dead child's */
    usleep(RECLAIM_WAIT_US);
    t = pwgate_enter(&c);
    CU_ASSERT(t > 0);
    CU_ASSERT_EQUAL(slots_taken(), 1); /* now ours */
    pwgate_leave(t);
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

static void t_zombie_holder_freed(void)
{
    struct config c = cfg_of(1, 8);
    pid_t pid = child_holding(1, -1);
    int t;

    CU_ASSERT_FATAL(pid > 0);
    for (int i = 0; i < 200 && proc_state(pid) != 'Z'; i++)
        usleep(5000);
    CU_ASSERT_EQUAL(proc_state(pid), 'Z'); /* exited, not reaped yet */
    usleep(RECLAIM_WAIT_US);
    t = pwgate_enter(&c);
    CU_ASSERT(t > 0);
    pwgate_leave(t);
    waitpid(pid, NULL, 0);
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

static void t_live_holder_kept_until_killed(void)
{
    struct config c = cfg_of(1, 8);
    int hold[2], t;
    pid_t pid;

    CU_ASSERT_FATAL(pipe(hold) == 0);
    pid = child_holding(1, hold[0]);
    CU_ASSERT_FATAL(pid > 0);
    usleep(RECLAIM_WAIT_US);
    CU_ASSERT_EQUAL(pwgate_enter(&c), 0); /* alive: its slot stays its own */
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(hold[0]);
    close(hold[1]);
    usleep(RECLAIM_WAIT_US);
    t = pwgate_enter(&c);
    CU_ASSERT(t > 0);
    pwgate_leave(t);
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

/* A slot word naming a live pid with another start time: the holder was a
 * process whose pid has since been reused. */
static void t_reused_pid_freed(void)
{
    struct config c = cfg_of(1, 8);
    unsigned long long *s = metrics_pw_slots();
    unsigned long long start = 0;
    char f[64], buf[1024], *p;
    FILE *fp;
    size_t n;
    int t;

    snprintf(f, sizeof(f), "/proc/%d/stat", (int)getppid());
    CU_ASSERT_FATAL((fp = fopen(f, "r")) != NULL);
    n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    for (int field = 2; p != NULL && field < 22; field++)
        p = strchr(p + 1, ' ');
    CU_ASSERT_FATAL(p != NULL);
    start = strtoull(p + 1, NULL, 10);
    s[0] = ((unsigned long long)getppid() << 32) | (unsigned)(start + 1);
    usleep(RECLAIM_WAIT_US);
    t = pwgate_enter(&c);
    CU_ASSERT(t > 0);
    pwgate_leave(t);
    /* and with the right start time it is a live holder: kept */
    s[0] = ((unsigned long long)getppid() << 32) | (unsigned)start;
    usleep(RECLAIM_WAIT_US);
    CU_ASSERT_EQUAL(pwgate_enter(&c), 0);
    s[0] = 0;
}

/* Startup frees every dead holder's slot, beyond any cap too. */
static void t_init_sweeps(void)
{
    pid_t pid = fork();
    unsigned long long *s = metrics_pw_slots();

    if (pid == 0)
        _exit(0);
    CU_ASSERT_FATAL(pid > 0);
    waitpid(pid, NULL, 0);
    s[METRICS_PW_SLOTS - 1] = (unsigned long long)pid << 32;
    s[7] = (unsigned long long)pid << 32 | 42;
    CU_ASSERT_EQUAL(slots_taken(), 2);
    pwgate_init();
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

#define STRESS_THREADS 8
#define STRESS_ROUNDS 3000
static atomic_int inside, most, admitted;

static void *stress(void *arg)
{
    const struct config *c = arg;

    for (int i = 0; i < STRESS_ROUNDS; i++) {
        int t = pwgate_enter(c), now;
        if (t == 0)
            continue;
        now = atomic_fetch_add(&inside, 1) + 1;
        for (int m = atomic_load(&most); now > m && !atomic_compare_exchange_weak(&most, &m, now);)
            ;
        atomic_fetch_add(&admitted, 1);
        usleep(20); /* held a moment, so that the threads contend */
        atomic_fetch_sub(&inside, 1);
        pwgate_leave(t);
    }
    return NULL;
}

static void t_threads_never_exceed(void)
{
    struct config c = cfg_of(3, 64);
    pthread_t th[STRESS_THREADS];

    for (int i = 0; i < STRESS_THREADS; i++)
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, stress, &c) == 0);
    for (int i = 0; i < STRESS_THREADS; i++)
        pthread_join(th[i], NULL);
    printf("\n    %d of %d admitted, at most %d at once\n", atomic_load(&admitted),
           STRESS_THREADS * STRESS_ROUNDS, atomic_load(&most));
    CU_ASSERT(atomic_load(&most) <= 3);
    CU_ASSERT(atomic_load(&admitted) > 0);
    CU_ASSERT(atomic_load(&admitted) < STRESS_THREADS * STRESS_ROUNDS); /* some were refused */
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

static void t_hash(void)
{
    struct config c = cfg_of(1, 8);
    char h[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX] = "untouched";
    int t;

    CU_ASSERT_EQUAL(pwgate_hash(&c, "secret123", h, sizeof(h)), PWGATE_OK);
    CU_ASSERT_TRUE(password_verify("secret123", h));
    CU_ASSERT_EQUAL(pwgate_hash(&c, "pw", h2, 10), PWGATE_FAILED); /* too small: */
    CU_ASSERT_EQUAL(slots_taken(), 0);                          /* slot back anyway */
    t = pwgate_enter(&c); /* the host is full: nothing is hashed */
    CU_ASSERT(t > 0);
    CU_ASSERT_EQUAL(pwgate_hash(&c, "pw", h2, sizeof(h2)), PWGATE_BUSY);
    CU_ASSERT_STRING_EQUAL(h2, "untouched");
    pwgate_leave(t);
    CU_ASSERT_EQUAL(slots_taken(), 0);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"auto is half the CPUs, at least 1; capped at the table size", t_host_cap},
        {"the cap holds; a slot given back is free again", t_cap_and_release},
        {"a process keeps a worker free", t_per_process_clamp},
        {"0: no cap, no shared state", t_no_cap},
        {"a dead holder's slot is freed when the host is full", t_dead_holder_freed},
        {"a zombie holder's slot is freed", t_zombie_holder_freed},
        {"a live holder keeps its slot until it is killed", t_live_holder_kept_until_killed},
        {"a holder whose pid was reused is dead", t_reused_pid_freed},
        {"startup frees every dead holder's slot", t_init_sweeps},
        {"8 threads never exceed a cap of 3", t_threads_never_exceed},
        {"pwgate_hash: OK, FAILED and BUSY, the slot always back", t_hash},
        {NULL, NULL},
    };
    return testutil_run("pwgate", cases, setup, teardown);
}
