/* config: every setting of the responder and guildctl, from a KEY=VALUE file
 * (-c FILE, systemd EnvironmentFile syntax) and then the environment, which
 * wins. Validation happens here, once, at startup: a bad setting is a one-line
 * error and exit code 2, never a crash later. */
#ifndef GUILD_CONFIG_H
#define GUILD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

struct redis_settings {
    char *host;
    int port;
    char *socket; /* unix socket path; "" = TCP host:port */
    int db;
    char *password; /* "" = no AUTH */
    char *sentinels; /* "host:port,..." of Redis Sentinels; "" = use host:port/socket */
    char *master;    /* the Sentinels' name for this role's master */
};

struct rate_setting {
    int limit; /* 0 = disabled */
    int window_s;
};

struct config {
    /* MySQL / MariaDB */
    char *db_host;
    int db_port;
    char *db_socket; /* "" = TCP */
    char *db_name;
    char *db_user;
    char *db_password;
    int db_connect_timeout_ms;
    int db_timeout_ms;
    /* Redis: a disposable cache role and a durable store role */
    struct redis_settings cache_redis;
    struct redis_settings store_redis;
    int redis_connect_timeout_ms;
    int redis_timeout_ms;
    char *redis_prefix;
    int reconnect_interval_ms;
    int redis_sentinel_check_ms; /* confirm an open connection's master this often; 0 never */
    /* auth */
    char *jwt_secret;
    int token_expire_minutes;
    int token_max_age_minutes; /* a refresh chain's absolute lifetime from the login */
    int password_cost;
    int password_concurrency; /* password hashes at once per host: -1 auto, 0 no cap (pwgate.h) */
    /* cache lifetimes */
    int cache_ttl_analytics_s;
    int cache_ttl_user_s;
    int cache_lock_ms;         /* how long a miss holds the recompute lock */
    int cache_lock_wait_ms;    /* how long others wait for it before computing */
    int cache_xfetch_beta_pct; /* XFetch beta x 100 (0 disables early refresh) */
    int debug_compute_delay;   /* test stacks only: honour X-Debug-Compute-Delay-Ms */
    int cache_enabled;         /* 0: every cacheable route computes (X-Cache: BYPASS) */
    /* rate limiting and the token denylist (store role) */
    struct rate_setting rl_api;       /* every /api/ route: per user, else per client IP */
    struct rate_setting rl_protected; /* GET /api/protected-endpoint, per user */
    struct rate_setting rl_login;     /* failed logins per (client IP, username) */
    int rl_fail_closed;               /* store down: 503 instead of allowing */
    int denylist_fail_closed;         /* store down: refuse tokens with 503 */
    char *trusted_proxies;            /* addresses/CIDRs whose X-Forwarded-For counts */
    char *metrics_allow;              /* peers (nginx's REMOTE_ADDR) that may read /metrics */
    int sessions_per_user;            /* live sessions a user may hold; the oldest go first */
    /* responder */
    int fcgi_threads;         /* workers (threads) per responder process */
    int fcgi_standby_threads; /* stand-ins serving while workers wait on a cache lock */
    char *fcgi_allow;         /* peers that may connect when the pool listens on TCP */
    /* files */
    char *log_file;
    char *request_log; /* "buffered" (default), "sync" (a write per request) or "off" */
    char *metrics_file; /* shared counters; "" = the FastCGI socket path + ".metrics" */
    char *migrations_dir;
};

enum config_need {
    CONFIG_NEED_NOTHING = 0,
    CONFIG_NEED_JWT_SECRET = 1, /* the responder; guildctl does not sign tokens */
};

/* Fills c from defaults, then file (may be NULL), then the environment.
 * Returns 0, or -1 with a one-line reason in err. Call config_cleanup() in
 * both cases. */
int config_load(struct config *c, const char *file, enum config_need need, char *err, size_t errsz);

/* Frees the strings config_load() allocated; safe on a zeroed struct. */
void config_cleanup(struct config *c);

/* How long after a failed connect the next may be tried. A connect the
 * server refused outright (nothing listens: ECONNREFUSED, or ENOENT for a
 * unix socket) cost the request nothing, and nothing is there to be
 * stormed, so it is retried after CONFIG_REFUSED_RETRY_MS: a restarted
 * server is used within that, not up to reconnect_interval_ms later by
 * each worker. Any other failure (a timeout costs the request the connect
 * timeout per try) waits the whole interval. */
#define CONFIG_REFUSED_RETRY_MS 100
int config_retry_ms(const struct config *c, bool refused);

/* Parses a decimal int in [min, max]; returns 0 or -1. Exposed for tests. */
int config_parse_int(const char *s, long min, long max, int *out);

/* Parses a rate policy "LIMIT/SECONDS" ("10/60") or "0" (disabled).
 * Returns 0 or -1. Exposed for tests. */
int config_parse_rate(const char *s, int *limit, int *window_s);

#endif
