/* auth: HS256 JWT access tokens (libjwt 1.10) and the bearer-token check.
 * Only HS256 is ever accepted: the signature is checked here with a
 * constant-time comparison before libjwt parses anything, and the algorithm
 * libjwt saw is checked again ("none", HS512, RS256 are all refused).
 * exp is required. jti is 128 bits from getrandom(2).
 * Two claims beyond the contract's: "ver", the user's token version when the
 * token was issued (a password change bumps it, so older tokens stop
 * working), and "auth_time", when the password was last presented (a
 * refresh keeps it, so a refresh chain has an absolute end). Tokens issued
 * before these claims existed read as ver 0 and auth_time = iat. */
#ifndef GUILD_AUTH_H
#define GUILD_AUTH_H

#include <stddef.h>

#define AUTH_JTI_LEN 32 /* hex characters */

struct auth_claims {
    char sub[208];
    long long uid;
    long long iat;
    long long exp;
    long long ver;       /* the user's token version at issue */
    long long auth_time; /* when the password was presented (the chain's start) */
    char jti[AUTH_JTI_LEN + 1];
};

/* Who a token is for: the user, its token version, and when its password
 * was presented (0: now, a fresh login). */
struct auth_subject {
    long long uid;
    const char *username;
    long long ver;
    long long auth_time;
};

/* Issues a token for who, valid ttl_s seconds from now. Returns a malloc'd
 * string (caller frees with free()) and fills claims_out (may be NULL), or
 * NULL on failure. */
char *auth_token_issue(const char *secret, const struct auth_subject *who, long long now,
                       long long ttl_s, struct auth_claims *claims_out);

/* Verifies token against secret at time now. Returns 0 and fills *out when
 * the token is an unexpired HS256 token with sub, uid, iat, exp and jti;
 * -1 otherwise (no reason is given to clients). */
int auth_token_verify(const char *secret, const char *token, long long now,
                      struct auth_claims *out);

/* Extracts the token from an "Authorization: Bearer <t>" value (scheme
 * case-insensitive); NULL when absent or another scheme. Points into hdr. */
const char *auth_bearer(const char *hdr);

#endif
