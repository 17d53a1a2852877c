/* test_missions: the fixed catalogue (ids 1..13 with API.md's names and
 * focuses), lookups outside it, the rank thresholds, rank-name checks and
 * the XP formula floor(score / 10) clamped to [0, 100]. */
#include <CUnit/CUnit.h>
#include <math.h>
#include <stddef.h>

#include "missions.h"
#include "testutil.h"

static const struct {
    const char *name, *focus;
} api_md[MISSIONS_COUNT] = {
    {"The First Flame", "FastAPI Basics"},
    {"Records of Apprentices", "SQLAlchemy & CRUD"},
    {"Seal of the Keeper", "JWT Authentication"},
    {"External Scrolls", "API Integration"},
    {"Parallel Prophecies", "Async Programming"},
    {"The Guild Archives", "Data Analysis"},
    {"Echo of Time", "Redis Caching"},
    {"Circle of Truth", "Testing & CI"},
    {"The Forge", "Packaging"},
    {"Ascension", "Docker Deployment"},
    {"The Whispering Stream", "WebSockets"},
    {"The Mirror Gateway", "GraphQL"},
    {"The Sky Forge", "Cloud Deployment"},
};

static void t_catalogue(void)
{
    const struct mission *all = missions_all();

    CU_ASSERT_EQUAL(MISSIONS_COUNT, 13);
    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    for (int i = 0; i < MISSIONS_COUNT; i++) {
        const struct mission *m = missions_find(i + 1);

        CU_ASSERT_PTR_NOT_NULL_FATAL(m);
        CU_ASSERT_EQUAL(m->id, i + 1);
        CU_ASSERT_STRING_EQUAL(m->name, api_md[i].name);
        CU_ASSERT_STRING_EQUAL(m->focus, api_md[i].focus);
        CU_ASSERT_PTR_EQUAL(m, &all[i]); /* missions_all() is in id order */
    }
}

static void t_find_outside(void)
{
    CU_ASSERT_PTR_NULL(missions_find(0));
    CU_ASSERT_PTR_NULL(missions_find(14));
    CU_ASSERT_PTR_NULL(missions_find(-1));
    CU_ASSERT_PTR_NULL(missions_find(-9223372036854775807LL - 1));
    CU_ASSERT_PTR_NULL(missions_find(9223372036854775807LL));
    CU_ASSERT_PTR_NULL(missions_find(4294967297LL)); /* 2^32 + 1: no truncation to 1 */
}

static void t_rank(void)
{
    static const struct {
        long long completed;
        const char *rank;
    } cases[] = {
        {-1, "Apprentice"}, {0, "Apprentice"},  {2, "Apprentice"}, {3, "Adept"},
        {6, "Adept"},       {7, "Journeyman"},  {9, "Journeyman"}, {10, "Expert"},
        {12, "Expert"},     {13, "Master"},     {20, "Master"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *r = missions_rank(cases[i].completed);
        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_STRING_EQUAL(r, cases[i].rank);
        CU_ASSERT_TRUE(missions_is_rank(r));
    }
}

static void t_is_rank(void)
{
    CU_ASSERT_TRUE(missions_is_rank("Apprentice"));
    CU_ASSERT_TRUE(missions_is_rank("Adept"));
    CU_ASSERT_TRUE(missions_is_rank("Journeyman"));
    CU_ASSERT_TRUE(missions_is_rank("Expert"));
    CU_ASSERT_TRUE(missions_is_rank("Master"));
    CU_ASSERT_FALSE(missions_is_rank("master"));
    CU_ASSERT_FALSE(missions_is_rank("MASTER"));
    CU_ASSERT_FALSE(missions_is_rank("Master "));
    CU_ASSERT_FALSE(missions_is_rank("Grandmaster"));
    CU_ASSERT_FALSE(missions_is_rank("Novice"));
    CU_ASSERT_FALSE(missions_is_rank(""));
}

static void t_xp(void)
{
    CU_ASSERT_EQUAL(missions_xp(0.0), 0);
    CU_ASSERT_EQUAL(missions_xp(9.99), 0);
    CU_ASSERT_EQUAL(missions_xp(10.0), 1);
    CU_ASSERT_EQUAL(missions_xp(19.999), 1);
    CU_ASSERT_EQUAL(missions_xp(50.0), 5);
    CU_ASSERT_EQUAL(missions_xp(70.0), 7);
    CU_ASSERT_EQUAL(missions_xp(95.0), 9);
    CU_ASSERT_EQUAL(missions_xp(99.999), 9);
    CU_ASSERT_EQUAL(missions_xp(100.0), 10);
    CU_ASSERT_EQUAL(missions_xp(-1.0), 0);
    CU_ASSERT_EQUAL(missions_xp(-0.0), 0);
    CU_ASSERT_EQUAL(missions_xp(150.0), 10);
    CU_ASSERT_EQUAL(missions_xp(NAN), 0);
    CU_ASSERT_EQUAL(missions_xp(INFINITY), 10);
    CU_ASSERT_EQUAL(missions_xp(-INFINITY), 0);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"catalogue", t_catalogue},
        {"find_outside", t_find_outside},
        {"rank", t_rank},
        {"is_rank", t_is_rank},
        {"xp", t_xp},
        {NULL, NULL},
    };
    return testutil_run("missions", cases, NULL, NULL);
}
