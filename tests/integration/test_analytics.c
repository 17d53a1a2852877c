/* placeholder: being written */
#include <CUnit/CUnit.h>
#include "http.h"
#include "testutil.h"
static void t_todo(void) { CU_FAIL("test_analytics not written yet"); }
int main(void)
{
    static const struct test_case cases[] = {{"todo", t_todo}, {NULL, NULL}};
    int rc = http_init();
    if (rc != 0)
        return rc;
    rc = testutil_run("integration_analytics", cases, NULL, NULL);
    http_cleanup();
    return rc;
}
