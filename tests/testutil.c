/* testutil: see testutil.h. */
#include "testutil.h"

#include <CUnit/Basic.h>
#include <stdio.h>

int testutil_run(const char *suite, const struct test_case *cases, int (*setup)(void),
                 int (*teardown)(void))
{
    CU_pSuite s;
    unsigned failed;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    if ((s = CU_add_suite(suite, setup, teardown)) == NULL) {
        CU_cleanup_registry();
        return 1;
    }
    for (const struct test_case *c = cases; c->name != NULL; c++) {
        if (CU_add_test(s, c->name, c->fn) == NULL) {
            CU_cleanup_registry();
            return 1;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    if (CU_get_number_of_tests_run() == 0)
        failed++; /* a suite that ran nothing is not a pass */
    CU_cleanup_registry();
    return failed == 0 ? 0 : 1;
}
