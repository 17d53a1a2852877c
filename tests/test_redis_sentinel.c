/* test_redis_sentinel: the pure half of Sentinel discovery: the
 * GUILD_*_REDIS_SENTINELS list (good lists, IPv6 in brackets, and every bad
 * entry named), the SENTINEL get-master-addr-by-name and ROLE replies in
 * every shape a server can send, which error replies mean "not the master
 * any more", and config_load's validation of the settings (exit-2 errors). */
#include <CUnit/CUnit.h>
#include <hiredis/hiredis.h>
#include <stdlib.h>
#include <string.h>

#include "../src/config.h" /* not the autoconf config.h that -I. finds first */
#include "redis_sentinel.h"
#include "testutil.h"

static void t_list_good(void)
{
    struct redis_sentinel_addr a[REDIS_SENTINEL_MAX];
    size_t n = 99;
    char bad[64] = "";

    CU_ASSERT_EQUAL(redis_sentinel_list_parse("", a, REDIS_SENTINEL_MAX, &n, bad, sizeof(bad)), 0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(redis_sentinel_list_parse("  ", a, REDIS_SENTINEL_MAX, &n, bad, sizeof(bad)),
                    0);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(redis_sentinel_list_parse("10.0.0.1:26379, s2.example:26380 ,[::1]:5000", a,
                                              REDIS_SENTINEL_MAX, &n, bad, sizeof(bad)),
                    0);
    CU_ASSERT_EQUAL_FATAL(n, 3);
    CU_ASSERT_STRING_EQUAL(a[0].host, "10.0.0.1");
    CU_ASSERT_EQUAL(a[0].port, 26379);
    CU_ASSERT_STRING_EQUAL(a[1].host, "s2.example");
    CU_ASSERT_EQUAL(a[1].port, 26380);
    CU_ASSERT_STRING_EQUAL(a[2].host, "::1");
    CU_ASSERT_EQUAL(a[2].port, 5000);
}

static void expect_bad(const char *list, const char *entry)
{
    struct redis_sentinel_addr a[3];
    size_t n;
    char bad[64] = "";

    CU_ASSERT_EQUAL(redis_sentinel_list_parse(list, a, 3, &n, bad, sizeof(bad)), -1);
    CU_ASSERT_STRING_EQUAL(bad, entry);
}

static void t_list_bad(void)
{
    expect_bad("127.0.0.1", "127.0.0.1");                    /* no port */
    expect_bad("127.0.0.1:", "127.0.0.1:");                  /* empty port */
    expect_bad(":26379", ":26379");                          /* empty host */
    expect_bad("h:0", "h:0");                                /* port range */
    expect_bad("h:65536", "h:65536");
    expect_bad("h:26379x", "h:26379x");
    expect_bad("h:+1", "h:+1");
    expect_bad("h:1,,h:2", "");                              /* empty entry */
    expect_bad("h:1,", "");                                  /* trailing comma */
    expect_bad("a b:1", "a b:1");                            /* blank in the host */
    expect_bad("::1:26379", "::1:26379");                    /* IPv6 needs brackets */
    expect_bad("[::1:26379", "[::1:26379");                  /* unclosed */
    expect_bad("[::1]26379", "[::1]26379");
    expect_bad("[]:1", "[]:1");
    expect_bad("h:1,h:2,h:3,h:4", "h:4");                    /* more than max */
}

/* ---- replies, built by hand as hiredis would ---- */

static redisReply str(int type, const char *s)
{
    redisReply r;

    memset(&r, 0, sizeof(r));
    r.type = type;
    r.str = (char *)s; /* test fixture: never freed */
    r.len = strlen(s);
    return r;
}

static redisReply arr(redisReply **el, size_t n)
{
    redisReply r;

    memset(&r, 0, sizeof(r));
    r.type = REDIS_REPLY_ARRAY;
    r.element = el;
    r.elements = n;
    return r;
}

static void t_master_reply(void)
{
    redisReply h = str(REDIS_REPLY_STRING, "10.1.2.3"), p = str(REDIS_REPLY_STRING, "6380");
    redisReply badp = str(REDIS_REPLY_STRING, "63x"), inte;
    redisReply *el[2] = {&h, &p}, *el_bad[2] = {&h, &badp}, *el_int[2] = {&h, &inte};
    redisReply ok = arr(el, 2), one = arr(el, 1), bad = arr(el_bad, 2), wrong = arr(el_int, 2);
    redisReply nil, err = str(REDIS_REPLY_ERROR, "ERR unknown command");
    struct redis_sentinel_addr m;

    memset(&inte, 0, sizeof(inte));
    inte.type = REDIS_REPLY_INTEGER;
    memset(&nil, 0, sizeof(nil));
    nil.type = REDIS_REPLY_NIL;
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(&ok, &m), 0);
    CU_ASSERT_STRING_EQUAL(m.host, "10.1.2.3");
    CU_ASSERT_EQUAL(m.port, 6380);
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(&nil, &m), -1); /* unknown master name */
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(&err, &m), -1);
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(&one, &m), -1);
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(&bad, &m), -1);
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(&wrong, &m), -1);
    CU_ASSERT_EQUAL(redis_sentinel_master_parse(NULL, &m), -1);
}

static void t_role_reply(void)
{
    redisReply master = str(REDIS_REPLY_STRING, "master"), slave = str(REDIS_REPLY_STRING, "slave");
    redisReply sentinel = str(REDIS_REPLY_STRING, "sentinel"), m2 = str(REDIS_REPLY_STRING, "masterx");
    redisReply *em[1] = {&master}, *es[1] = {&slave}, *ese[1] = {&sentinel}, *em2[1] = {&m2};
    redisReply rm = arr(em, 1), rs = arr(es, 1), rse = arr(ese, 1), rm2 = arr(em2, 1);
    redisReply empty = arr(NULL, 0), err = str(REDIS_REPLY_ERROR, "NOAUTH Authentication required.");

    CU_ASSERT_TRUE(redis_sentinel_role_is_master(&rm));
    CU_ASSERT_FALSE(redis_sentinel_role_is_master(&rs));
    CU_ASSERT_FALSE(redis_sentinel_role_is_master(&rse));
    CU_ASSERT_FALSE(redis_sentinel_role_is_master(&rm2));
    CU_ASSERT_FALSE(redis_sentinel_role_is_master(&empty));
    CU_ASSERT_FALSE(redis_sentinel_role_is_master(&err));
    CU_ASSERT_FALSE(redis_sentinel_role_is_master(NULL));
}

static void t_failover_errors(void)
{
    static const char *const yes[] = {
        "READONLY You can't write against a read only replica.",
        "READONLY You can't write against a read only replica. script: 8b2a, on @user_script:1.",
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
        "LOADING Redis is loading the dataset in memory",
        "NOREPLICAS Not enough good replicas to write.",
        "ERR Error running script (call to f_1): @user_script:1: -READONLY You can't write",
    };
    static const char *const no[] = {
        "NOSCRIPT No matching script. Please use EVAL.",
        "ERR wrong number of arguments",
        "OOM command not allowed when used memory > 'maxmemory'.",
        "READONLYX", "NOAUTH Authentication required.",
    };
    redisReply status = str(REDIS_REPLY_STATUS, "READONLY");

    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        redisReply r = str(REDIS_REPLY_ERROR, yes[i]);
        CU_ASSERT_TRUE(redis_sentinel_is_failover_error(&r));
    }
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        redisReply r = str(REDIS_REPLY_ERROR, no[i]);
        CU_ASSERT_FALSE(redis_sentinel_is_failover_error(&r));
    }
    CU_ASSERT_FALSE(redis_sentinel_is_failover_error(&status)); /* not an error reply */
    CU_ASSERT_FALSE(redis_sentinel_is_failover_error(NULL));
}

/* ---- config_load: the settings and their one-line errors ---- */

static const char *const role_settings[] = {
    "GUILD_CACHE_REDIS_SENTINELS", "GUILD_CACHE_REDIS_MASTER", "GUILD_STORE_REDIS_SENTINELS",
    "GUILD_STORE_REDIS_MASTER",
};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof(role_settings) / sizeof(role_settings[0]); i++)
        unsetenv(role_settings[i]);
}

static int load(char *err, size_t errsz, struct config *c)
{
    return config_load(c, NULL, CONFIG_NEED_NOTHING, err, errsz);
}

static void t_config(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL(load(err, sizeof(err), &c), 0); /* off by default */
    CU_ASSERT_STRING_EQUAL(c.store_redis.sentinels, "");
    CU_ASSERT_STRING_EQUAL(c.store_redis.master, "");
    CU_ASSERT_EQUAL(c.redis_sentinel_check_ms, 1000);
    config_cleanup(&c);

    setenv("GUILD_STORE_REDIS_SENTINELS", "127.0.0.1:26379,127.0.0.1:26380", 1);
    CU_ASSERT_EQUAL(load(err, sizeof(err), &c), -1); /* a master name is required */
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_STORE_REDIS_MASTER"));
    config_cleanup(&c);

    setenv("GUILD_STORE_REDIS_MASTER", "guild-store", 1);
    CU_ASSERT_EQUAL(load(err, sizeof(err), &c), 0);
    CU_ASSERT_STRING_EQUAL(c.store_redis.master, "guild-store");
    config_cleanup(&c);

    setenv("GUILD_CACHE_REDIS_SENTINELS", "127.0.0.1:26379,nope", 1);
    setenv("GUILD_CACHE_REDIS_MASTER", "guild-cache", 1);
    CU_ASSERT_EQUAL(load(err, sizeof(err), &c), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_CACHE_REDIS_SENTINELS"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "'nope'"));
    CU_ASSERT_PTR_NULL(strchr(err, '\n'));
    config_cleanup(&c);

    setenv("GUILD_CACHE_REDIS_SENTINELS", "[::1]:26379", 1);
    setenv("GUILD_CACHE_REDIS_MASTER", "two words", 1);
    CU_ASSERT_EQUAL(load(err, sizeof(err), &c), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_CACHE_REDIS_MASTER"));
    config_cleanup(&c);
    clear_env();
}

int main(void)
{
    static const struct test_case cases[] = {
        {"address lists: empty, names, IPv4, [IPv6]", t_list_good},
        {"address lists: every bad entry is named", t_list_bad},
        {"SENTINEL get-master-addr-by-name replies", t_master_reply},
        {"ROLE replies: only \"master\" is a master", t_role_reply},
        {"READONLY, MASTERDOWN, LOADING drop the connection; others do not", t_failover_errors},
        {"config: off by default, master required, bad entries rejected", t_config},
        {NULL, NULL},
    };
    return testutil_run("redis_sentinel", cases, NULL, NULL);
}
