/* test_account: the cached account entry's encoding. A round trip keeps
 * every field, including strings with newlines, colons and digits that look
 * like length prefixes; a malformed or truncated entry is refused (and then
 * read from MariaDB), never half-trusted. */
#include <CUnit/CUnit.h>
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "db_users.h"
#include "testutil.h"

static void sample(struct user *u)
{
    memset(u, 0, sizeof(*u));
    u->id = 9007199254740993LL;
    snprintf(u->username, sizeof(u->username), "%s", "al:ice\n12:x");
    snprintf(u->email, sizeof(u->email), "%s", "alice@example.com");
    snprintf(u->full_name, sizeof(u->full_name), "%s", "Alice\nof 3:Wonderland");
    u->has_full_name = true;
    u->is_active = true;
    u->is_admin = false;
    snprintf(u->guild_rank, sizeof(u->guild_rank), "%s", "Journeyman");
    u->experience_points = 1234567890123LL;
    u->missions_completed = 13;
    u->created_at = 1764000000;
    u->token_version = 4294967295LL;
    snprintf(u->hashed_password, sizeof(u->hashed_password), "%s", "$2b$10$secret");
}

static void t_round_trip(void)
{
    struct user u, v;
    char buf[4096];
    size_t n;

    sample(&u);
    n = account_encode(&u, buf, sizeof(buf));
    CU_ASSERT_FATAL(n > 0 && n < sizeof(buf));
    CU_ASSERT_PTR_NULL(strstr(buf, "secret")); /* the hash is never encoded */
    CU_ASSERT_EQUAL_FATAL(account_decode(buf, n, &v), 0);
    CU_ASSERT_EQUAL(v.id, u.id);
    CU_ASSERT_STRING_EQUAL(v.username, u.username);
    CU_ASSERT_STRING_EQUAL(v.email, u.email);
    CU_ASSERT_STRING_EQUAL(v.full_name, u.full_name);
    CU_ASSERT_TRUE(v.has_full_name);
    CU_ASSERT_TRUE(v.is_active);
    CU_ASSERT_FALSE(v.is_admin);
    CU_ASSERT_STRING_EQUAL(v.guild_rank, u.guild_rank);
    CU_ASSERT_EQUAL(v.experience_points, u.experience_points);
    CU_ASSERT_EQUAL(v.missions_completed, u.missions_completed);
    CU_ASSERT_EQUAL(v.created_at, u.created_at);
    CU_ASSERT_EQUAL(v.token_version, u.token_version);
    CU_ASSERT_STRING_EQUAL(v.hashed_password, "");

    u.has_full_name = false; /* null full name */
    u.is_active = false;
    u.is_admin = true;
    n = account_encode(&u, buf, sizeof(buf));
    CU_ASSERT_EQUAL_FATAL(account_decode(buf, n, &v), 0);
    CU_ASSERT_FALSE(v.has_full_name);
    CU_ASSERT_STRING_EQUAL(v.full_name, "");
    CU_ASSERT_FALSE(v.is_active);
    CU_ASSERT_TRUE(v.is_admin);
}

static void t_too_small(void)
{
    struct user u;
    char buf[40];

    sample(&u);
    CU_ASSERT_EQUAL(account_encode(&u, buf, sizeof(buf)), 0);
}

static void t_malformed(void)
{
    struct user u, v;
    char buf[4096];
    size_t n;

    sample(&u);
    n = account_encode(&u, buf, sizeof(buf));
    for (size_t cut = 0; cut < n; cut++) /* every truncation is refused */
        CU_ASSERT_EQUAL(account_decode(buf, cut, &v), -1);
    buf[n] = 'x'; /* trailing bytes */
    CU_ASSERT_EQUAL(account_decode(buf, n + 1, &v), -1);
    /* the older layout (no token version) reads as stale: MariaDB is asked */
    CU_ASSERT_EQUAL(account_decode("a1 1 1 0 0 0 0 0\n0:0:0:0:", 25, &v), -1);
    CU_ASSERT_EQUAL(account_decode("a2 1 1 0 0 0 0 0\n0:0:0:0:", 25, &v), -1); /* missing field */
    CU_ASSERT_EQUAL(account_decode("a2 1 1 0 0 0 0 0 9 9\n0:0:0:0:", 29, &v), -1); /* extra field */
    CU_ASSERT_EQUAL(account_decode("a2 1 1 0 0 0 0 0 9\n99:x0:0:0:", 29, &v), -1); /* long prefix */
    CU_ASSERT_EQUAL(account_decode("a2 1 1 0 0 0 0 0 9\n0:0:0:0:", 27, &v), 0);    /* all empty */
    CU_ASSERT_EQUAL(v.token_version, 9);
    CU_ASSERT_EQUAL(v.id, 1);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"round_trip", t_round_trip},
        {"too_small", t_too_small},
        {"malformed", t_malformed},
        {NULL, NULL},
    };
    return testutil_run("account", cases, NULL, NULL);
}
