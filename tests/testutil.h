/* testutil: runs one CUnit suite per test binary and prints CUnit's run
 * summary; the exit status is what automake's harness reads
 * (0 pass, 1 fail, 77 skip). */
#ifndef GUILD_TESTUTIL_H
#define GUILD_TESTUTIL_H

struct test_case {
    const char *name;
    void (*fn)(void);
};

/* Runs cases (terminated by {NULL, NULL}) as one suite. setup/teardown run
 * once around the suite and may be NULL. Returns the process exit status. */
int testutil_run(const char *suite, const struct test_case *cases, int (*setup)(void),
                 int (*teardown)(void));

#endif
