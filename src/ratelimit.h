/* ratelimit: exact sliding-window limits in the store Redis, and the token
 * denylist check that rides in the same round trip.
 * One Lua script per check: drop the times that left the window, count, log
 * this request's time (Redis' clock) if admitted, set the key to expire with
 * the window, read the oldest entry for Reset. Atomic, so 40 parallel
 * requests against a limit of 10 let exactly 10 through. */
#ifndef GUILD_RATELIMIT_H
#define GUILD_RATELIMIT_H

#include <stdbool.h>

struct app;
struct config;

/* A policy: `limit` requests per `window_s`; limit 0 disables it. */
struct rl_policy {
    const char *name; /* "api", "protected", "login" */
    int limit;
    int window_s;
};

enum rl_rc { RL_ALLOWED, RL_LIMITED, RL_UNAVAILABLE };

struct rl_result {
    enum rl_rc rc;
    const struct rl_policy *policy;
    long remaining;
    long reset_s;  /* seconds until the oldest request leaves the window (>= 1) */
    bool revoked;  /* the jti given to rl_check is on the denylist */
    long long cache_lost; /* the pool's lost-invalidation count (cache.h), -1 unknown */
};

/* Counts one request of `who` (e.g. "u:42" or "ip:10.0.0.1") against p and,
 * when jti is not NULL, checks the denylist in the same script, which also
 * reads the count of invalidations any host lost (cache_lost_key) so that
 * every host learns of one on its next request, without a round trip. */
void ratelimit_check(struct app *app, const struct rl_policy *p, const char *who,
                     const char *jti, struct rl_result *out);

/* Login brute-force guard: reserves one attempt of (ip, username) against p
 * before the password is checked; *member identifies the reservation (its
 * logged time).
 * ratelimit_login_forgive() takes it back after a successful login, so only
 * failures count and a success never clears anybody else's attempts. */
void ratelimit_login_reserve(struct app *app, const struct rl_policy *p, const char *ip,
                             const char *username, char *member, unsigned member_sz,
                             struct rl_result *out);
void ratelimit_login_forgive(struct app *app, const char *ip, const char *username,
                             const char *member);

/* Puts jti on the denylist until exp (unix seconds). 0, or -1 when the store
 * is unavailable. */
int ratelimit_revoke(struct app *app, const char *jti, long long exp);

/* Loads script hashes; once per process. */
void ratelimit_init(void);

#endif
