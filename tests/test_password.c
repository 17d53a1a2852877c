/* test_password: bcrypt through libxcrypt. Covers hash/verify round trips
 * at cost 4, random salts, the "$2b$04$" format, vectors made by independent
 * implementations (Apache htpasswd, the OpenBSD/openwall test suite) under
 * the $2a$/$2b$/$2y$ prefixes, garbage hashes, and password_burn(). */
#include <CUnit/CUnit.h>
#include <string.h>

#include "password.h"
#include "testutil.h"

/* `htpasswd -bnBC 4 u password` (apache2-utils 2.4, its own bcrypt code). */
#define HTPASSWD_2Y "$2y$04$JU/BUh5w6MOnbfsfSgMOoOffS9u0GbwC.qTHdbUq...kB0ftLZ2DG"
#define HTPASSWD_2B "$2b$04$JU/BUh5w6MOnbfsfSgMOoOffS9u0GbwC.qTHdbUq...kB0ftLZ2DG"
#define HTPASSWD_2A "$2a$04$JU/BUh5w6MOnbfsfSgMOoOffS9u0GbwC.qTHdbUq...kB0ftLZ2DG"
/* `htpasswd -bnBC 5 u 'Guild-p@ss w0rd'` */
#define HTPASSWD_SPACE "$2y$05$cCVJhuQS58jbWzRe/4EJEevD2qICpQ5h1RmQdIgh6iHUspL6DvXRe"
/* openwall crypt_blowfish / OpenBSD test vector for "U*U" */
#define OPENWALL_UU "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"

static void t_roundtrip(void)
{
    char h[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL_FATAL(password_hash("correct horse", 4, h, sizeof(h)), 0);
    CU_ASSERT_TRUE(password_verify("correct horse", h));
    CU_ASSERT_FALSE(password_verify("correct horsE", h));
    CU_ASSERT_FALSE(password_verify("correct hors", h));
    CU_ASSERT_FALSE(password_verify("correct horse ", h));
    CU_ASSERT_FALSE(password_verify("", h));

    CU_ASSERT_EQUAL_FATAL(password_hash("p\xc3\xa4ss w\xc3\xb6rd \xf0\x9f\x94\x91", 4, h,
                                        sizeof(h)),
                          0);
    CU_ASSERT_TRUE(password_verify("p\xc3\xa4ss w\xc3\xb6rd \xf0\x9f\x94\x91", h));
    CU_ASSERT_FALSE(password_verify("pass word", h));
}

static void t_format(void)
{
    char h[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL_FATAL(password_hash("password", 4, h, sizeof(h)), 0);
    CU_ASSERT_EQUAL(strncmp(h, "$2b$04$", 7), 0);
    CU_ASSERT_EQUAL(strlen(h), 60); /* bcrypt: 7 + 22 salt + 31 hash */
    CU_ASSERT_EQUAL(strspn(h + 7, "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
                    53);

    CU_ASSERT_EQUAL_FATAL(password_hash("password", 5, h, sizeof(h)), 0);
    CU_ASSERT_EQUAL(strncmp(h, "$2b$05$", 7), 0);
    CU_ASSERT_TRUE(password_verify("password", h));
}

static void t_salt_is_random(void)
{
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL_FATAL(password_hash("same password", 4, h1, sizeof(h1)), 0);
    CU_ASSERT_EQUAL_FATAL(password_hash("same password", 4, h2, sizeof(h2)), 0);
    CU_ASSERT_STRING_NOT_EQUAL(h1, h2);
    CU_ASSERT_NOT_EQUAL(memcmp(h1 + 7, h2 + 7, 22), 0); /* the salts differ */
    CU_ASSERT_TRUE(password_verify("same password", h1));
    CU_ASSERT_TRUE(password_verify("same password", h2));
}

static void t_hash_failures(void)
{
    char h[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL(password_hash("pw", 4, h, 60), -1); /* 60 chars need 61 bytes */
    CU_ASSERT_EQUAL(password_hash("pw", 4, h, 61), 0);
    CU_ASSERT_EQUAL(strlen(h), 60);
    CU_ASSERT_EQUAL(password_hash("pw", 3, h, sizeof(h)), -1);  /* bcrypt minimum is 4 */
    CU_ASSERT_EQUAL(password_hash("pw", 32, h, sizeof(h)), -1); /* maximum is 31 */
}

static void t_known_vectors(void)
{
    CU_ASSERT_TRUE(password_verify("password", HTPASSWD_2Y));
    CU_ASSERT_TRUE(password_verify("password", HTPASSWD_2B));
    CU_ASSERT_TRUE(password_verify("password", HTPASSWD_2A));
    CU_ASSERT_FALSE(password_verify("Password", HTPASSWD_2Y));
    CU_ASSERT_FALSE(password_verify("password1", HTPASSWD_2B));
    CU_ASSERT_FALSE(password_verify("", HTPASSWD_2A));

    CU_ASSERT_TRUE(password_verify("Guild-p@ss w0rd", HTPASSWD_SPACE));
    CU_ASSERT_FALSE(password_verify("Guild-p@ss", HTPASSWD_SPACE));

    CU_ASSERT_TRUE(password_verify("U*U", OPENWALL_UU));
    CU_ASSERT_FALSE(password_verify("U*U*", OPENWALL_UU));
}

static void t_garbage_hashes(void)
{
    static const char *const bad[] = {
        "", "x", "$", "*0", "*1", "$$", "$2b$", "$2b$04$", "$2b$04$short",
        "$2b$99$JU/BUh5w6MOnbfsfSgMOoOffS9u0GbwC.qTHdbUq...kB0ftLZ2DG",
        "$2b$04$JU/BUh5w6MOnbfsfSgMOoOffS9u0GbwC.qTHdbUq...kB0ftLZ2D!",
        "abJnggxhB/yWI", /* traditional DES crypt of "password": refused */
        "$9$whatever", "password",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_FALSE(password_verify("password", bad[i]));
    CU_ASSERT_FALSE(password_verify("password", NULL));
}

/* A hash that is only a prefix of the right one (salt, or one char short)
 * must not verify: crypt() recomputes the full hash from the salt. */
static void t_truncated_hash(void)
{
    char h[PASSWORD_HASH_MAX];
    char cut[PASSWORD_HASH_MAX];

    CU_ASSERT_EQUAL_FATAL(password_hash("password", 4, h, sizeof(h)), 0);
    memcpy(cut, h, 29); /* "$2b$04$" + 22 salt chars */
    cut[29] = '\0';
    CU_ASSERT_FALSE(password_verify("password", cut));
    memcpy(cut, h, 59);
    cut[59] = '\0';
    CU_ASSERT_FALSE(password_verify("password", cut));
    memcpy(cut, h, 61);
    cut[59] = cut[59] == 'a' ? 'b' : 'a'; /* one flipped hash char */
    CU_ASSERT_FALSE(password_verify("password", cut));
    CU_ASSERT_TRUE(password_verify("password", h));
}

static void t_burn(void)
{
    char h[PASSWORD_HASH_MAX];

    password_burn("nobody's password", 4);
    password_burn("again, cached dummy", 4);
    password_burn("another cost", 5);
    password_burn("", 4);
    /* burning leaves hashing and verifying working */
    CU_ASSERT_EQUAL_FATAL(password_hash("after burn", 4, h, sizeof(h)), 0);
    CU_ASSERT_TRUE(password_verify("after burn", h));
    CU_ASSERT_FALSE(password_verify("guild-dummy-password", h));
}

int main(void)
{
    static const struct test_case cases[] = {
        {"roundtrip", t_roundtrip},
        {"format", t_format},
        {"salt_is_random", t_salt_is_random},
        {"hash_failures", t_hash_failures},
        {"known_vectors", t_known_vectors},
        {"garbage_hashes", t_garbage_hashes},
        {"truncated_hash", t_truncated_hash},
        {"burn", t_burn},
        {NULL, NULL},
    };
    return testutil_run("password", cases, NULL, NULL);
}
