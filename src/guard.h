/* guard: the per-request rate limit of /api/ routes and the revoked-token
 * check, in one store-Redis round trip (ratelimit.c), plus the X-RateLimit-*
 * and IETF RateLimit/RateLimit-Policy headers on every /api/ answer. */
#ifndef GUILD_GUARD_H
#define GUILD_GUARD_H

#include <stdbool.h>

struct req;
struct resp;
struct auth_claims;
struct rl_result;

enum guard_policy { GUARD_API = 0, GUARD_PROTECTED = 1 };

/* What the denylist said about the request's token. */
enum guard_token { GUARD_TOKEN_OK, GUARD_TOKEN_REVOKED, GUARD_TOKEN_UNKNOWN };

/* Counts the request against its policy (per user when claims is a verified
 * token, else per client IP). Returns 0 to go on, or the status it set (429,
 * or 503 when the store is down and GUILD_RATE_LIMIT_FAIL_CLOSED=1).
 * *token tells whether claims' jti is revoked (UNKNOWN: store down). */
int guard_limit(struct req *rq, struct resp *rs, enum guard_policy policy,
                const struct auth_claims *claims, enum guard_token *token);

/* Adds the limit headers of r to rs (nothing when the store was down). */
void guard_headers(struct resp *rs, const struct rl_result *r);

/* The 429 answer of r: headers, Retry-After and the contract's detail. */
int guard_too_many(struct resp *rs, const struct rl_result *r);

#endif
