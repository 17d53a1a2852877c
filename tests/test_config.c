/* test_config: settings loading. Covers config_parse_int edge cases, the
 * defaults, the KEY=VALUE file syntax (comments, blanks, export, quotes),
 * the environment winning over the file, the one-line errors (unknown key,
 * bad integer, missing file) and the JWT secret length check. */
#include <CUnit/CUnit.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../src/config.h" /* not the autoconf config.h that -I. finds first */
#include "testutil.h"

/* Every setting config.c knows: cleared so the runner's environment cannot
 * leak into the expectations. */
static const char *const all_settings[] = {
    "GUILD_DB_HOST", "GUILD_DB_PORT", "GUILD_DB_SOCKET", "GUILD_DB_NAME", "GUILD_DB_USER",
    "GUILD_DB_PASSWORD", "GUILD_DB_CONNECT_TIMEOUT_MS", "GUILD_DB_TIMEOUT_MS",
    "GUILD_CACHE_REDIS_HOST", "GUILD_CACHE_REDIS_PORT", "GUILD_CACHE_REDIS_DB",
    "GUILD_CACHE_REDIS_PASSWORD", "GUILD_STORE_REDIS_HOST", "GUILD_STORE_REDIS_PORT",
    "GUILD_STORE_REDIS_DB", "GUILD_STORE_REDIS_PASSWORD", "GUILD_REDIS_CONNECT_TIMEOUT_MS",
    "GUILD_REDIS_TIMEOUT_MS", "GUILD_REDIS_PREFIX", "GUILD_RECONNECT_INTERVAL_MS",
    "GUILD_JWT_SECRET", "ACCESS_TOKEN_EXPIRE_MINUTES", "GUILD_PASSWORD_COST",
    "GUILD_PASSWORD_CONCURRENCY", "GUILD_CACHE_TTL_ANALYTICS_S", "GUILD_CACHE_TTL_USER_S",
    "GUILD_LOG_FILE", "GUILD_MIGRATIONS_DIR", "GUILD_SESSIONS_PER_USER",
};

#define SECRET32 "0123456789abcdef0123456789abcdef"

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof(all_settings) / sizeof(all_settings[0]); i++)
        unsetenv(all_settings[i]);
}

static int suite_setup(void)
{
    clear_env();
    return 0;
}

/* Writes text to a fresh temp file; path receives its name. */
static void write_tmp(char *path, size_t sz, const char *text)
{
    int fd;
    FILE *f;

    snprintf(path, sz, "/tmp/guild-test-config-XXXXXX");
    fd = mkstemp(path);
    CU_ASSERT_TRUE_FATAL(fd >= 0);
    f = fdopen(fd, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL_FATAL(fclose(f), 0);
}

/* config_load from a file holding text; returns its result. */
static int load_text(struct config *c, const char *text, enum config_need need, char *err,
                     size_t errsz)
{
    char path[64];
    int rc;

    write_tmp(path, sizeof(path), text);
    rc = config_load(c, path, need, err, errsz);
    unlink(path);
    return rc;
}

static void t_parse_int(void)
{
    int v = -7;

    CU_ASSERT_EQUAL(config_parse_int("5", 1, 10, &v), 0);
    CU_ASSERT_EQUAL(v, 5);
    CU_ASSERT_EQUAL(config_parse_int("1", 1, 10, &v), 0); /* bounds are inclusive */
    CU_ASSERT_EQUAL(v, 1);
    CU_ASSERT_EQUAL(config_parse_int("10", 1, 10, &v), 0);
    CU_ASSERT_EQUAL(v, 10);
    CU_ASSERT_EQUAL(config_parse_int("-3", -5, 5, &v), 0);
    CU_ASSERT_EQUAL(v, -3);
    CU_ASSERT_EQUAL(config_parse_int("65535", 1, 65535, &v), 0);
    CU_ASSERT_EQUAL(v, 65535);

    v = 1234;
    CU_ASSERT_EQUAL(config_parse_int("", 0, 10, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int(NULL, 0, 10, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("12x", 0, 100, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("x12", 0, 100, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("1.5", 0, 100, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("5 ", 0, 10, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("-1", 0, 10, &v), -1); /* below min */
    CU_ASSERT_EQUAL(config_parse_int("0", 1, 10, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("11", 1, 10, &v), -1); /* over max */
    CU_ASSERT_EQUAL(config_parse_int("65536", 1, 65535, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("99999999999999999999", 0, INT_MAX, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("2147483648", 0, LONG_MAX, &v), -1); /* > INT_MAX */
    CU_ASSERT_EQUAL(v, 1234); /* untouched on every failure */
}

/* " 5" from the environment is accepted while "5 " is refused: strtol()
 * skips leading blanks. A strict parser rejects both. */
static void t_parse_int_leading_blank(void)
{
    int v = 1234;

    CU_ASSERT_EQUAL(config_parse_int(" 5", 0, 10, &v), -1);
    CU_ASSERT_EQUAL(config_parse_int("\t5", 0, 10, &v), -1);
    CU_ASSERT_EQUAL(v, 1234);
}

static void t_defaults(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL_FATAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(c.db_host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.db_port, 3306);
    CU_ASSERT_STRING_EQUAL(c.db_socket, "");
    CU_ASSERT_STRING_EQUAL(c.db_name, "guild");
    CU_ASSERT_STRING_EQUAL(c.db_user, "guild");
    CU_ASSERT_STRING_EQUAL(c.db_password, "");
    CU_ASSERT_EQUAL(c.db_connect_timeout_ms, 500);
    CU_ASSERT_EQUAL(c.db_timeout_ms, 10000);
    CU_ASSERT_STRING_EQUAL(c.cache_redis.host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.cache_redis.port, 6379);
    CU_ASSERT_EQUAL(c.cache_redis.db, 0);
    CU_ASSERT_STRING_EQUAL(c.cache_redis.password, "");
    CU_ASSERT_STRING_EQUAL(c.store_redis.host, "127.0.0.1");
    CU_ASSERT_EQUAL(c.store_redis.port, 6379);
    CU_ASSERT_EQUAL(c.redis_connect_timeout_ms, 200);
    CU_ASSERT_EQUAL(c.redis_timeout_ms, 200);
    CU_ASSERT_STRING_EQUAL(c.redis_prefix, "guild:");
    CU_ASSERT_EQUAL(c.reconnect_interval_ms, 1000);
    CU_ASSERT_STRING_EQUAL(c.jwt_secret, "");
    CU_ASSERT_EQUAL(c.token_expire_minutes, 30); /* API.md: default 30 */
    CU_ASSERT_EQUAL(c.password_cost, 10);
    CU_ASSERT_EQUAL(c.cache_ttl_analytics_s, 300); /* API.md: 300 s */
    CU_ASSERT_EQUAL(c.cache_ttl_user_s, 600);      /* API.md: 600 s */
    CU_ASSERT_STRING_EQUAL(c.log_file, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(c.migrations_dir);
    {
        size_t n = strlen(c.migrations_dir);
        CU_ASSERT_TRUE(n >= 4 && strcmp(c.migrations_dir + n - 4, "/sql") == 0);
    }
    config_cleanup(&c);
    CU_ASSERT_PTR_NULL(c.db_host);
    CU_ASSERT_PTR_NULL(c.jwt_secret);
    CU_ASSERT_PTR_NULL(c.migrations_dir);
}

static void t_file(void)
{
    struct config c;
    char err[256] = "";
    const char *text = "# a comment\n"
                       "   # an indented comment\n"
                       "\n"
                       "   \n"
                       "GUILD_DB_HOST=db.example\n"
                       "export GUILD_DB_NAME=guilddb\n"
                       "GUILD_DB_USER='quoted user'\n"
                       "GUILD_DB_PASSWORD=\"p@ss word#1\"\n"
                       "GUILD_DB_SOCKET='/run/mysqld/mysqld.sock\"\n" /* mismatched: kept */
                       "  GUILD_DB_PORT=3307\n"
                       "GUILD_REDIS_PREFIX=  pre:  \n"
                       "GUILD_CACHE_REDIS_HOST=cache.local\r\n"
                       "GUILD_CACHE_REDIS_PORT=\t6380\t\n"
                       "GUILD_STORE_REDIS_PASSWORD=\n"
                       "GUILD_STORE_REDIS_DB=3"; /* no final newline */

    clear_env();
    CU_ASSERT_EQUAL_FATAL(load_text(&c, text, CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(c.db_host, "db.example");
    CU_ASSERT_STRING_EQUAL(c.db_name, "guilddb");
    CU_ASSERT_STRING_EQUAL(c.db_user, "quoted user");
    CU_ASSERT_STRING_EQUAL(c.db_password, "p@ss word#1");
    CU_ASSERT_STRING_EQUAL(c.db_socket, "'/run/mysqld/mysqld.sock\"");
    CU_ASSERT_EQUAL(c.db_port, 3307);
    CU_ASSERT_STRING_EQUAL(c.redis_prefix, "pre:");
    CU_ASSERT_STRING_EQUAL(c.cache_redis.host, "cache.local");
    CU_ASSERT_EQUAL(c.cache_redis.port, 6380);
    CU_ASSERT_STRING_EQUAL(c.store_redis.password, "");
    CU_ASSERT_EQUAL(c.store_redis.db, 3);
    /* untouched settings keep their defaults */
    CU_ASSERT_EQUAL(c.store_redis.port, 6379);
    CU_ASSERT_EQUAL(c.token_expire_minutes, 30);
    config_cleanup(&c);

    /* a comment-only file changes nothing */
    CU_ASSERT_EQUAL(load_text(&c, "# nothing\n\n", CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(c.db_host, "127.0.0.1");
    config_cleanup(&c);

    /* a later line wins over an earlier one */
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_PORT=1\nGUILD_DB_PORT=2\n", CONFIG_NEED_NOTHING, err,
                              sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(c.db_port, 2);
    config_cleanup(&c);
}

static void t_env_overrides_file(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    setenv("GUILD_DB_HOST", "env.host", 1);
    setenv("GUILD_DB_PORT", "4406", 1);
    setenv("GUILD_DB_USER", "", 1); /* set but empty still wins */
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_HOST=file.host\nGUILD_DB_PORT=3307\n"
                                  "GUILD_DB_USER=fileuser\nGUILD_DB_NAME=filedb\n",
                              CONFIG_NEED_NOTHING, err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(c.db_host, "env.host");
    CU_ASSERT_EQUAL(c.db_port, 4406);
    CU_ASSERT_STRING_EQUAL(c.db_user, "");
    CU_ASSERT_STRING_EQUAL(c.db_name, "filedb"); /* only in the file */
    config_cleanup(&c);

    /* and over the defaults without a file */
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(c.db_host, "env.host");
    config_cleanup(&c);
    clear_env();
}

static void t_unknown_key(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_HOST=x\nGUILD_NOPE=1\n", CONFIG_NEED_NOTHING, err,
                              sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_NOPE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2:")); /* the line number */
    config_cleanup(&c);

    /* a known key with a prefix/suffix is still unknown */
    err[0] = '\0';
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_HOSTX=x\n", CONFIG_NEED_NOTHING, err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_DB_HOSTX"));
    config_cleanup(&c);

    /* a line without '=' */
    err[0] = '\0';
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_HOST\n", CONFIG_NEED_NOTHING, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "KEY=VALUE"));
    config_cleanup(&c);
}

static void t_bad_int(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_PORT=70000\n", CONFIG_NEED_NOTHING, err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_DB_PORT"));
    config_cleanup(&c);

    err[0] = '\0';
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_PORT=abc\n", CONFIG_NEED_NOTHING, err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_DB_PORT"));
    config_cleanup(&c);

    err[0] = '\0';
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_DB_PORT=\n", CONFIG_NEED_NOTHING, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_DB_PORT"));
    config_cleanup(&c);

    /* from the environment */
    err[0] = '\0';
    setenv("GUILD_PASSWORD_COST", "3", 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_PASSWORD_COST"));
    config_cleanup(&c);
    unsetenv("GUILD_PASSWORD_COST");

    err[0] = '\0';
    setenv("ACCESS_TOKEN_EXPIRE_MINUTES", "30m", 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "ACCESS_TOKEN_EXPIRE_MINUTES"));
    config_cleanup(&c);
    unsetenv("ACCESS_TOKEN_EXPIRE_MINUTES");
}

static void t_missing_file(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL(config_load(&c, "/nonexistent/guild-test.conf", CONFIG_NEED_NOTHING, err,
                                sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/guild-test.conf"));
    config_cleanup(&c);
}

static void t_jwt_secret(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    /* unset: refused when needed, fine for guildctl */
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_JWT_SECRET, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_JWT_SECRET"));
    config_cleanup(&c);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    config_cleanup(&c);

    /* 31 bytes: too short */
    err[0] = '\0';
    setenv("GUILD_JWT_SECRET", SECRET32 + 1, 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_JWT_SECRET, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_JWT_SECRET"));
    config_cleanup(&c);

    /* exactly 32 bytes, and longer */
    setenv("GUILD_JWT_SECRET", SECRET32, 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_JWT_SECRET, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(c.jwt_secret, SECRET32);
    config_cleanup(&c);
    setenv("GUILD_JWT_SECRET", SECRET32 SECRET32 "!", 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_JWT_SECRET, err, sizeof(err)), 0);
    config_cleanup(&c);
    unsetenv("GUILD_JWT_SECRET");

    /* from the file, quoted */
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_JWT_SECRET=\"" SECRET32 "\"\n", CONFIG_NEED_JWT_SECRET,
                              err, sizeof(err)),
                    0);
    CU_ASSERT_STRING_EQUAL(c.jwt_secret, SECRET32);
    config_cleanup(&c);
}

static void t_redis_prefix_length(void)
{
    struct config c;
    char err[256] = "";
    char prefix[70];

    clear_env();
    memset(prefix, 'p', 64);
    prefix[64] = '\0';
    setenv("GUILD_REDIS_PREFIX", prefix, 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    config_cleanup(&c);
    prefix[64] = 'p';
    prefix[65] = '\0';
    setenv("GUILD_REDIS_PREFIX", prefix, 1);
    CU_ASSERT_EQUAL(config_load(&c, NULL, CONFIG_NEED_NOTHING, err, sizeof(err)), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_REDIS_PREFIX"));
    config_cleanup(&c);
    unsetenv("GUILD_REDIS_PREFIX");
}

static void t_trusted_proxies_and_rates(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_TRUSTED_PROXIES=10.0.0.0/8, 127.0.0.2 ::1\n"
                                  "GUILD_RATE_LIMIT_API=7/3\nGUILD_RATE_LIMIT_LOGIN=0\n",
                              CONFIG_NEED_NOTHING, err, sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(c.rl_api.limit, 7);
    CU_ASSERT_EQUAL(c.rl_api.window_s, 3);
    CU_ASSERT_EQUAL(c.rl_login.limit, 0);
    CU_ASSERT_EQUAL(c.rl_protected.limit, 10); /* default 10/60 */
    CU_ASSERT_EQUAL(c.rl_protected.window_s, 60);
    config_cleanup(&c);
    /* a typo must not trust every client: refused at startup */
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_TRUSTED_PROXIES=10.0.0.0/abc\n", CONFIG_NEED_NOTHING,
                              err, sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_TRUSTED_PROXIES"));
    config_cleanup(&c);
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_RATE_LIMIT_API=10\n", CONFIG_NEED_NOTHING, err,
                              sizeof(err)),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_RATE_LIMIT_API"));
    config_cleanup(&c);
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_RATE_LIMIT_API=10/0\n", CONFIG_NEED_NOTHING, err,
                              sizeof(err)),
                    -1);
    config_cleanup(&c);
}

/* The per-user session cap: 50 by default, 1..10000. */
static void t_sessions_per_user(void)
{
    struct config c;
    char err[256] = "";

    clear_env();
    CU_ASSERT_EQUAL(load_text(&c, "", CONFIG_NEED_NOTHING, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(c.sessions_per_user, 50);
    config_cleanup(&c);
    CU_ASSERT_EQUAL(load_text(&c, "GUILD_SESSIONS_PER_USER=3\n", CONFIG_NEED_NOTHING, err,
                              sizeof(err)),
                    0);
    CU_ASSERT_EQUAL(c.sessions_per_user, 3);
    config_cleanup(&c);
    for (int i = 0; i < 3; i++) {
        static const char *const bad[] = {"GUILD_SESSIONS_PER_USER=0\n",
                                          "GUILD_SESSIONS_PER_USER=10001\n",
                                          "GUILD_SESSIONS_PER_USER=lots\n"};
        err[0] = '\0';
        CU_ASSERT_EQUAL(load_text(&c, bad[i], CONFIG_NEED_NOTHING, err, sizeof(err)), -1);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_SESSIONS_PER_USER"));
        config_cleanup(&c);
    }
}

/* GUILD_PASSWORD_CONCURRENCY: auto (the default, -1), 0 (no cap) or 1..64. */
static void t_password_concurrency(void)
{
    static const struct {
        const char *text;
        int rc, want;
    } cases[] = {
        {"", 0, -1},
        {"GUILD_PASSWORD_CONCURRENCY=auto\n", 0, -1},
        {"GUILD_PASSWORD_CONCURRENCY=0\n", 0, 0},
        {"GUILD_PASSWORD_CONCURRENCY=12\n", 0, 12},
        {"GUILD_PASSWORD_CONCURRENCY=64\n", 0, 64},
        {"GUILD_PASSWORD_CONCURRENCY=65\n", -1, 0},
        {"GUILD_PASSWORD_CONCURRENCY=-1\n", -1, 0},
        {"GUILD_PASSWORD_CONCURRENCY=Auto\n", -1, 0},
        {"GUILD_PASSWORD_CONCURRENCY=\n", -1, 0},
    };
    struct config c;
    char err[256];

    clear_env();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(load_text(&c, cases[i].text, CONFIG_NEED_NOTHING, err, sizeof(err)),
                        cases[i].rc);
        if (cases[i].rc == 0) {
            CU_ASSERT_EQUAL(c.password_concurrency, cases[i].want);
        } else {
            CU_ASSERT_PTR_NOT_NULL(strstr(err, "GUILD_PASSWORD_CONCURRENCY must be auto or"));
        }
        config_cleanup(&c);
    }
}

static void t_retry_ms(void)
{
    struct config c;

    memset(&c, 0, sizeof(c));
    c.reconnect_interval_ms = 1000;
    CU_ASSERT_EQUAL(config_retry_ms(&c, false), 1000); /* a timeout: the whole interval */
    CU_ASSERT_EQUAL(config_retry_ms(&c, true), CONFIG_REFUSED_RETRY_MS);
    c.reconnect_interval_ms = 100; /* the smallest interval allowed: never longer for a refusal */
    CU_ASSERT_EQUAL(config_retry_ms(&c, true), 100);
    CU_ASSERT_EQUAL(config_retry_ms(&c, false), 100);
    c.reconnect_interval_ms = 600000;
    CU_ASSERT_EQUAL(config_retry_ms(&c, true), CONFIG_REFUSED_RETRY_MS);
    CU_ASSERT_EQUAL(config_retry_ms(&c, false), 600000);
}

static void t_cleanup_zeroed(void)
{
    struct config c;

    memset(&c, 0, sizeof(c));
    config_cleanup(&c); /* safe on a zeroed struct */
    CU_ASSERT_PTR_NULL(c.db_host);
    CU_ASSERT_PTR_NULL(c.redis_prefix);
    config_cleanup(&c); /* and twice */
    CU_ASSERT_PTR_NULL(c.log_file);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"parse_int", t_parse_int},
        {"parse_int_leading_blank", t_parse_int_leading_blank},
        {"defaults", t_defaults},
        {"file", t_file},
        {"env_overrides_file", t_env_overrides_file},
        {"unknown_key", t_unknown_key},
        {"bad_int", t_bad_int},
        {"missing_file", t_missing_file},
        {"jwt_secret", t_jwt_secret},
        {"redis_prefix_length", t_redis_prefix_length},
        {"trusted_proxies_and_rates", t_trusted_proxies_and_rates},
        {"sessions_per_user", t_sessions_per_user},
        {"password_concurrency", t_password_concurrency},
        {"retry_ms", t_retry_ms},
        {"cleanup_zeroed", t_cleanup_zeroed},
        {NULL, NULL},
    };
    return testutil_run("config", cases, suite_setup, NULL);
}
