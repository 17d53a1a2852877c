/* placeholder: being written */
#include <CUnit/CUnit.h>
#include "testutil.h"
static void t_todo(void) { CU_FAIL("test_config not written yet"); }
int main(void)
{
    static const struct test_case cases[] = {{"todo", t_todo}, {NULL, NULL}};
    return testutil_run("config", cases, NULL, NULL);
}
