/* test_log: log rotation with buffered request lines (issue 10, defect 11).
 * Lines that worker threads buffered before log_reopen() land in the renamed
 * file, lines made after it in the new one, each exactly once; a thread's
 * lines are written when it ends; log_flush_aged() writes out what an idle
 * thread has held for a second, and nothing younger; a reopen that cannot
 * open the path keeps writing to the old file. */
#include <CUnit/CUnit.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "testutil.h"

#define THREADS 4
#define LINES 100 /* per thread and phase: ~10 KB, under the 16 KiB buffer */

static char dir[64], path[128], rotated[128];

static int setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/guild-test-log.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof(path), "%s/guild.log", dir);
    snprintf(rotated, sizeof(rotated), "%s/guild.log.1", dir);
    return 0;
}

static int teardown(void)
{
    unlink(path);
    unlink(rotated);
    rmdir(dir);
    return 0;
}

/* How many lines of file contain needle (-1: no file). */
static int count(const char *file, const char *needle)
{
    char line[1024];
    int n = 0;
    FILE *f = fopen(file, "r");

    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

static void log_phase(int thread, const char *phase)
{
    char id[64];

    for (int i = 0; i < LINES; i++) {
        snprintf(id, sizeof(id), "%s-t%d-%d", phase, thread, i);
        log_request(id, "GET", "/ping", 200, 0.5, NULL, 0);
    }
}

struct worker {
    int n;
    pthread_barrier_t *made, *reopened;
};

static void *worker(void *arg)
{
    struct worker *w = arg;

    log_phase(w->n, "before");
    pthread_barrier_wait(w->made);     /* main renames and reopens now */
    pthread_barrier_wait(w->reopened); /* then more lines, written when the thread ends */
    log_phase(w->n, "after");
    return NULL;
}

static void t_reopen_splits_exactly(void)
{
    pthread_barrier_t made, reopened;
    pthread_t th[THREADS];
    struct worker w[THREADS];
    char id[64];

    CU_ASSERT_FATAL(log_open(path) == 0);
    log_set_request_mode(LOG_REQUESTS_BUFFERED);
    pthread_barrier_init(&made, NULL, THREADS + 1);
    pthread_barrier_init(&reopened, NULL, THREADS + 1);
    for (int i = 0; i < THREADS; i++) {
        w[i] = (struct worker){i, &made, &reopened};
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, worker, &w[i]) == 0);
    }
    pthread_barrier_wait(&made);
    CU_ASSERT_EQUAL(count(path, " req before-"), 0); /* still in the threads' buffers */
    CU_ASSERT_FATAL(rename(path, rotated) == 0);
    CU_ASSERT_EQUAL(log_reopen(), 0);
    pthread_barrier_wait(&reopened);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    log_close();
    pthread_barrier_destroy(&made);
    pthread_barrier_destroy(&reopened);

    CU_ASSERT_EQUAL(count(rotated, " req before-"), THREADS * LINES);
    CU_ASSERT_EQUAL(count(rotated, " req after-"), 0);
    CU_ASSERT_EQUAL(count(path, " req after-"), THREADS * LINES);
    CU_ASSERT_EQUAL(count(path, " req before-"), 0);
    CU_ASSERT_EQUAL(count(path, "log: reopened"), 1);
    for (int t = 0; t < THREADS; t++) /* each line exactly once */
        for (int i = 0; i < LINES; i += 33) {
            snprintf(id, sizeof(id), " req before-t%d-%d ", t, i);
            CU_ASSERT_EQUAL(count(rotated, id), 1);
            snprintf(id, sizeof(id), " req after-t%d-%d ", t, i);
            CU_ASSERT_EQUAL(count(path, id), 1);
        }
    unlink(path);
    unlink(rotated);
}

static pthread_barrier_t idle_made, idle_done;

static void *idle_worker(void *arg)
{
    time_t t0 = time(NULL);

    (void)arg;
    while (time(NULL) == t0) /* at the start of a second: the check below is not a second later */
        usleep(1000);
    log_request("idle-1", "GET", "/ping", 200, 0.5, NULL, 0);
    log_request("idle-2", "GET", "/ping", 200, 0.5, NULL, 0);
    pthread_barrier_wait(&idle_made);
    pthread_barrier_wait(&idle_done); /* idle: no next request flushes them */
    return NULL;
}

static void t_aged_flush(void)
{
    pthread_t th;

    CU_ASSERT_FATAL(log_open(path) == 0);
    log_set_request_mode(LOG_REQUESTS_BUFFERED);
    pthread_barrier_init(&idle_made, NULL, 2);
    pthread_barrier_init(&idle_done, NULL, 2);
    CU_ASSERT_FATAL(pthread_create(&th, NULL, idle_worker, NULL) == 0);
    pthread_barrier_wait(&idle_made);
    log_flush_aged(); /* younger than a second: stays buffered */
    CU_ASSERT_EQUAL(count(path, " req idle-"), 0);
    usleep(2100 * 1000); /* whole seconds are compared: > 2 s is surely "a second old" */
    log_flush_aged();
    CU_ASSERT_EQUAL(count(path, " req idle-"), 2);
    pthread_barrier_wait(&idle_done);
    pthread_join(th, NULL);
    log_close();
    CU_ASSERT_EQUAL(count(path, " req idle-"), 2); /* not again at the thread's end */
    pthread_barrier_destroy(&idle_made);
    pthread_barrier_destroy(&idle_done);
    unlink(path);
}

static void t_reopen_failure_keeps_old_file(void)
{
    char sub[128], in_sub[160], moved[160];

    snprintf(sub, sizeof(sub), "%s/sub", dir);
    snprintf(in_sub, sizeof(in_sub), "%s/guild.log", sub);
    snprintf(moved, sizeof(moved), "%s/moved.log", dir);
    CU_ASSERT_FATAL(mkdir(sub, 0700) == 0);
    CU_ASSERT_FATAL(log_open(in_sub) == 0);
    log_set_request_mode(LOG_REQUESTS_SYNC);
    CU_ASSERT_FATAL(rename(in_sub, moved) == 0);
    CU_ASSERT_FATAL(rmdir(sub) == 0); /* the path cannot be created again */
    CU_ASSERT_EQUAL(log_reopen(), -1);
    log_request("still-old", "GET", "/ping", 200, 0.5, NULL, 0);
    log_close();
    CU_ASSERT_EQUAL(count(moved, " req still-old "), 1);
    CU_ASSERT_EQUAL(count(moved, "cannot reopen"), 1);
    unlink(moved);
}

static void t_stderr_reopen_is_noop(void)
{
    CU_ASSERT_EQUAL(log_open(NULL), 0);
    CU_ASSERT_EQUAL(log_reopen(), 0);
    log_close();
}

int main(void)
{
    static const struct test_case cases[] = {
        {"reopen: buffered lines before it in the old file, after it in the new", t_reopen_splits_exactly},
        {"an idle thread's lines: written once a second old, not before", t_aged_flush},
        {"reopen that cannot open the path keeps the old file", t_reopen_failure_keeps_old_file},
        {"reopen with stderr: no-op", t_stderr_reopen_is_noop},
        {NULL, NULL},
    };
    return testutil_run("log", cases, setup, teardown);
}
