/* config: table-driven settings; see config.h.
 * Each setting is one row (name, type, offset, default, range), so adding one
 * is one line and help text, validation and defaults cannot drift apart. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientip.h"
#include "redis_sentinel.h"

#ifndef GUILD_DATADIR
#define GUILD_DATADIR "/usr/local/share/guild"
#endif

enum kind { K_STR, K_INT, K_RATE, K_AUTO_INT }; /* K_AUTO_INT: "auto" (-1) or an int */

struct setting {
    const char *name;
    enum kind kind;
    size_t off;
    const char *def;
    long min, max;
};

#define S(name, field, def) {name, K_STR, offsetof(struct config, field), def, 0, 0}
#define I(name, field, def, lo, hi) {name, K_INT, offsetof(struct config, field), def, lo, hi}
#define R(name, field, def) {name, K_RATE, offsetof(struct config, field), def, 0, 0}
#define A(name, field, def, lo, hi) {name, K_AUTO_INT, offsetof(struct config, field), def, lo, hi}

static const struct setting settings[] = {
    S("GUILD_DB_HOST", db_host, "127.0.0.1"),
    I("GUILD_DB_PORT", db_port, "3306", 1, 65535),
    S("GUILD_DB_SOCKET", db_socket, ""),
    S("GUILD_DB_NAME", db_name, "guild"),
    S("GUILD_DB_USER", db_user, "guild"),
    S("GUILD_DB_PASSWORD", db_password, ""),
    I("GUILD_DB_CONNECT_TIMEOUT_MS", db_connect_timeout_ms, "500", 1, 60000),
    I("GUILD_DB_TIMEOUT_MS", db_timeout_ms, "10000", 1, 600000),
    S("GUILD_CACHE_REDIS_HOST", cache_redis.host, "127.0.0.1"),
    I("GUILD_CACHE_REDIS_PORT", cache_redis.port, "6379", 1, 65535),
    S("GUILD_CACHE_REDIS_SOCKET", cache_redis.socket, ""),
    I("GUILD_CACHE_REDIS_DB", cache_redis.db, "0", 0, 1023),
    S("GUILD_CACHE_REDIS_PASSWORD", cache_redis.password, ""),
    S("GUILD_CACHE_REDIS_SENTINELS", cache_redis.sentinels, ""),
    S("GUILD_CACHE_REDIS_MASTER", cache_redis.master, ""),
    S("GUILD_STORE_REDIS_HOST", store_redis.host, "127.0.0.1"),
    I("GUILD_STORE_REDIS_PORT", store_redis.port, "6379", 1, 65535),
    S("GUILD_STORE_REDIS_SOCKET", store_redis.socket, ""),
    I("GUILD_STORE_REDIS_DB", store_redis.db, "0", 0, 1023),
    S("GUILD_STORE_REDIS_PASSWORD", store_redis.password, ""),
    S("GUILD_STORE_REDIS_SENTINELS", store_redis.sentinels, ""),
    S("GUILD_STORE_REDIS_MASTER", store_redis.master, ""),
    I("GUILD_REDIS_CONNECT_TIMEOUT_MS", redis_connect_timeout_ms, "200", 1, 60000),
    I("GUILD_REDIS_TIMEOUT_MS", redis_timeout_ms, "200", 1, 60000),
    S("GUILD_REDIS_PREFIX", redis_prefix, "guild:"),
    I("GUILD_RECONNECT_INTERVAL_MS", reconnect_interval_ms, "1000", 100, 600000),
    I("GUILD_REDIS_SENTINEL_CHECK_MS", redis_sentinel_check_ms, "1000", 0, 600000),
    S("GUILD_JWT_SECRET", jwt_secret, ""),
    I("ACCESS_TOKEN_EXPIRE_MINUTES", token_expire_minutes, "30", 1, 525600),
    I("GUILD_TOKEN_MAX_AGE_MINUTES", token_max_age_minutes, "1440", 1, 5256000),
    I("GUILD_PASSWORD_COST", password_cost, "10", 4, 16),
    A("GUILD_PASSWORD_CONCURRENCY", password_concurrency, "auto", 0, 64),
    I("GUILD_CACHE_TTL_ANALYTICS_S", cache_ttl_analytics_s, "300", 1, 86400),
    I("GUILD_CACHE_TTL_USER_S", cache_ttl_user_s, "600", 1, 86400),
    I("GUILD_CACHE_LOCK_MS", cache_lock_ms, "5000", 10, 600000),
    I("GUILD_CACHE_LOCK_WAIT_MS", cache_lock_wait_ms, "2000", 0, 60000),
    I("GUILD_CACHE_XFETCH_BETA_PCT", cache_xfetch_beta_pct, "100", 0, 1000),
    I("GUILD_DEBUG_COMPUTE_DELAY", debug_compute_delay, "0", 0, 1),
    I("GUILD_CACHE_ENABLED", cache_enabled, "1", 0, 1),
    R("GUILD_RATE_LIMIT_API", rl_api, "100/60"),
    R("GUILD_RATE_LIMIT_PROTECTED", rl_protected, "10/60"),
    R("GUILD_RATE_LIMIT_LOGIN", rl_login, "5/300"),
    I("GUILD_RATE_LIMIT_FAIL_CLOSED", rl_fail_closed, "0", 0, 1),
    I("GUILD_DENYLIST_FAIL_CLOSED", denylist_fail_closed, "0", 0, 1),
    S("GUILD_TRUSTED_PROXIES", trusted_proxies, ""),
    S("GUILD_METRICS_ALLOW", metrics_allow, "127.0.0.1, ::1"),
    I("GUILD_SESSIONS_PER_USER", sessions_per_user, "50", 1, 10000),
    I("GUILD_FCGI_THREADS", fcgi_threads, "4", 1, 64),
    I("GUILD_FCGI_STANDBY_THREADS", fcgi_standby_threads, "1", 0, 64),
    S("GUILD_FCGI_ALLOW", fcgi_allow, "127.0.0.1, ::1"),
    S("GUILD_LOG_FILE", log_file, ""),
    S("GUILD_REQUEST_LOG", request_log, "buffered"),
    S("GUILD_METRICS_FILE", metrics_file, ""),
    S("GUILD_MIGRATIONS_DIR", migrations_dir, GUILD_DATADIR "/sql"),
};

#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

int config_parse_int(const char *s, long min, long max, int *out)
{
    char *end;
    long v;

    if (s == NULL || (*s != '-' && (*s < '0' || *s > '9')))
        return -1; /* strtol would skip leading blanks and accept "+5" */
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max || v < INT_MIN || v > INT_MAX)
        return -1;
    *out = (int)v;
    return 0;
}

int config_parse_rate(const char *s, int *limit, int *window_s)
{
    int l, w;
    const char *slash = strchr(s, '/');
    char buf[16];

    if (strcmp(s, "0") == 0) {
        *limit = 0;
        *window_s = 1;
        return 0;
    }
    if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
        return -1;
    memcpy(buf, s, (size_t)(slash - s));
    buf[slash - s] = '\0';
    if (config_parse_int(buf, 1, 1000000, &l) != 0 || config_parse_int(slash + 1, 1, 86400, &w) != 0)
        return -1;
    *limit = l;
    *window_s = w;
    return 0;
}

static const struct setting *find_setting(const char *name, size_t len)
{
    for (size_t i = 0; i < NSETTINGS; i++)
        if (strlen(settings[i].name) == len && strncmp(settings[i].name, name, len) == 0)
            return &settings[i];
    return NULL;
}

static int apply(struct config *c, const struct setting *s, const char *value, char *err,
                 size_t errsz)
{
    char *base = (char *)c;

    if (s->kind == K_RATE) {
        struct rate_setting *r = (struct rate_setting *)(void *)(base + s->off);
        if (config_parse_rate(value, &r->limit, &r->window_s) != 0) {
            snprintf(err, errsz, "%s must be LIMIT/SECONDS (e.g. 10/60) or 0", s->name);
            return -1;
        }
        return 0;
    }
    if (s->kind == K_AUTO_INT && strcmp(value, "auto") == 0) {
        *(int *)(void *)(base + s->off) = -1;
        return 0;
    }
    if (s->kind == K_INT || s->kind == K_AUTO_INT) {
        if (config_parse_int(value, s->min, s->max, (int *)(void *)(base + s->off)) != 0) {
            snprintf(err, errsz, "%s must be %san integer in [%ld, %ld]", s->name,
                     s->kind == K_AUTO_INT ? "auto or " : "", s->min, s->max);
            return -1;
        }
        return 0;
    }
    char **slot = (char **)(void *)(base + s->off);
    char *copy = strdup(value);
    if (copy == NULL) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    free(*slot);
    *slot = copy;
    return 0;
}

/* Strips blanks around, and one pair of matching quotes, as systemd does. */
static char *trim_value(char *v)
{
    size_t n;

    while (*v == ' ' || *v == '\t')
        v++;
    n = strlen(v);
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\r' || v[n - 1] == '\n'))
        v[--n] = '\0';
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        v++;
    }
    return v;
}

static int load_file(struct config *c, const char *file, char *err, size_t errsz)
{
    char line[4096];
    unsigned lineno = 0;
    FILE *f = fopen(file, "r");
    int ret = -1;

    if (f == NULL) {
        snprintf(err, errsz, "cannot open config file %s: %s", file, strerror(errno));
        return -1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = line, *eq;
        const struct setting *s;

        lineno++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\0' || *p == '\n' || *p == '\r')
            continue;
        if (strncmp(p, "export ", 7) == 0)
            p += 7;
        if ((eq = strchr(p, '=')) == NULL) {
            snprintf(err, errsz, "%s:%u: expected KEY=VALUE", file, lineno);
            goto out;
        }
        if ((s = find_setting(p, (size_t)(eq - p))) == NULL) {
            snprintf(err, errsz, "%s:%u: unknown setting %.*s", file, lineno, (int)(eq - p), p);
            goto out;
        }
        if (apply(c, s, trim_value(eq + 1), err, errsz) != 0)
            goto out;
    }
    ret = 0;
out:
    fclose(f);
    return ret;
}

/* A role's Sentinel list parses, and names its master when it is set. */
static int check_sentinels(const struct redis_settings *rs, const char *role, char *err,
                           size_t errsz)
{
    struct redis_sentinel_addr addrs[REDIS_SENTINEL_MAX];
    size_t n;
    char bad[80];

    if (redis_sentinel_list_parse(rs->sentinels, addrs, REDIS_SENTINEL_MAX, &n, bad,
                                  sizeof(bad)) != 0) {
        snprintf(err, errsz,
                 "GUILD_%s_REDIS_SENTINELS: '%s' is not host:port or [ipv6]:port (at most %d)",
                 role, bad, REDIS_SENTINEL_MAX);
        return -1;
    }
    if (n > 0 && *rs->master == '\0') {
        snprintf(err, errsz, "GUILD_%s_REDIS_MASTER must name the master when "
                 "GUILD_%s_REDIS_SENTINELS is set", role, role);
        return -1;
    }
    if (strlen(rs->master) > 128 || strpbrk(rs->master, " \t\r\n") != NULL) {
        snprintf(err, errsz, "GUILD_%s_REDIS_MASTER must be a name of at most 128 bytes "
                 "without blanks", role);
        return -1;
    }
    return 0;
}

static int check(const struct config *c, enum config_need need, char *err, size_t errsz)
{
    if (need & CONFIG_NEED_JWT_SECRET) {
        if (strlen(c->jwt_secret) < 32) {
            snprintf(err, errsz, "GUILD_JWT_SECRET must be set to at least 32 bytes");
            return -1;
        }
    }
    {
        char bad[80];
        if (!clientip_list_valid(c->trusted_proxies, bad, sizeof(bad))) {
            snprintf(err, errsz, "GUILD_TRUSTED_PROXIES: '%s' is not an address or CIDR block", bad);
            return -1;
        }
        if (!clientip_list_valid(c->metrics_allow, bad, sizeof(bad))) {
            snprintf(err, errsz, "GUILD_METRICS_ALLOW: '%s' is not an address or CIDR block", bad);
            return -1;
        }
        if (!clientip_list_valid(c->fcgi_allow, bad, sizeof(bad))) {
            snprintf(err, errsz, "GUILD_FCGI_ALLOW: '%s' is not an address or CIDR block", bad);
            return -1;
        }
    }
    if (strcmp(c->request_log, "buffered") != 0 && strcmp(c->request_log, "sync") != 0 &&
        strcmp(c->request_log, "off") != 0) {
        snprintf(err, errsz, "GUILD_REQUEST_LOG must be buffered, sync or off");
        return -1;
    }
    if (check_sentinels(&c->cache_redis, "CACHE", err, errsz) != 0 ||
        check_sentinels(&c->store_redis, "STORE", err, errsz) != 0)
        return -1;
    if (strlen(c->redis_prefix) > 64) {
        snprintf(err, errsz, "GUILD_REDIS_PREFIX must be at most 64 bytes");
        return -1;
    }
    return 0;
}

int config_load(struct config *c, const char *file, enum config_need need, char *err, size_t errsz)
{
    size_t i;

    memset(c, 0, sizeof(*c));
    for (i = 0; i < NSETTINGS; i++)
        if (apply(c, &settings[i], settings[i].def, err, errsz) != 0)
            return -1;
    if (file != NULL && load_file(c, file, err, errsz) != 0)
        return -1;
    for (i = 0; i < NSETTINGS; i++) {
        const char *v = getenv(settings[i].name);
        if (v != NULL && apply(c, &settings[i], v, err, errsz) != 0)
            return -1;
    }
    return check(c, need, err, errsz);
}

void config_cleanup(struct config *c)
{
    char *base = (char *)c;

    for (size_t i = 0; i < NSETTINGS; i++) {
        if (settings[i].kind == K_STR) {
            char **slot = (char **)(void *)(base + settings[i].off);
            free(*slot);
            *slot = NULL;
        }
    }
}

int config_retry_ms(const struct config *c, bool refused)
{
    return refused && c->reconnect_interval_ms > CONFIG_REFUSED_RETRY_MS
               ? CONFIG_REFUSED_RETRY_MS
               : c->reconnect_interval_ms;
}
