/* test_token_cache: a remembered token is accepted again only byte for byte
 * and only until its expiry; a tampered copy, another token in the same
 * slot, and a token that never verified are still refused. */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "testutil.h"
#include "token_cache.h"

#define SECRET "0123456789abcdef0123456789abcdef-test"
#define NOW 1764000000LL

/* auth_token_issue for (uid, name) at version 0, a fresh login. */
static char *issue_for(long long uid, const char *name, long long now, long long ttl,
                       struct auth_claims *out)
{
    struct auth_subject who = {uid, name, 0, 0};

    return auth_token_issue(SECRET, &who, now, ttl, out);
}

static void t_hit_and_expiry(void)
{
    struct auth_claims a, b;
    char *tok = issue_for(42, "alice", NOW, 60, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW, &a), 0); /* verified, remembered */
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW + 1, &b), 0); /* from the table */
    CU_ASSERT_EQUAL(b.uid, 42);
    CU_ASSERT_STRING_EQUAL(b.sub, "alice");
    CU_ASSERT_STRING_EQUAL(b.jti, a.jti);
    CU_ASSERT_EQUAL(b.exp, a.exp);
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW + 60, &b), -1); /* expired, even cached */
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW + 3600, &b), -1);
    free(tok);
}

static void t_tampered(void)
{
    struct auth_claims c;
    char *tok = issue_for(7, "bob", NOW, 60, NULL);
    size_t n;

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW, &c), 0);
    n = strlen(tok);
    tok[n - 1] = tok[n - 1] == 'A' ? 'B' : 'A'; /* last signature character */
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW, &c), -1);
    tok[n - 1] = '\0'; /* a prefix of a cached token */
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, tok, NOW, &c), -1);
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, "", NOW, &c), -1);
    CU_ASSERT_EQUAL(token_cache_verify(SECRET, "a.b.c", NOW, &c), -1);
    free(tok);
}

static void t_many(void)
{
    /* more tokens than slots: every one still verifies, and each evicts
     * only a cached entry, never a check */
    char *toks[100];
    struct auth_claims c;

    for (int i = 0; i < 100; i++) {
        toks[i] = issue_for(1000 + i, "user", NOW, 60, NULL);
        CU_ASSERT_PTR_NOT_NULL_FATAL(toks[i]);
        CU_ASSERT_EQUAL(token_cache_verify(SECRET, toks[i], NOW, &c), 0);
        CU_ASSERT_EQUAL(c.uid, 1000 + i);
    }
    for (int i = 0; i < 100; i++) {
        CU_ASSERT_EQUAL(token_cache_verify(SECRET, toks[i], NOW, &c), 0);
        CU_ASSERT_EQUAL(c.uid, 1000 + i);
        free(toks[i]);
    }
}

int main(void)
{
    static const struct test_case cases[] = {
        {"hit_and_expiry", t_hit_and_expiry},
        {"tampered", t_tampered},
        {"many", t_many},
        {NULL, NULL},
    };
    return testutil_run("token_cache", cases, NULL, NULL);
}
