/* token_cache: the bearer tokens a worker verified recently, so that a
 * client sending the same token again costs a table look-up instead of two
 * HMACs, base64 and a JSON parse. Only the signature and the claims are
 * remembered; expiry is checked on every use, and revocation, deletion and
 * deactivation are checked per request as before (limiter script, account).
 * Per worker thread, direct-mapped, fixed size: no lock, no allocation. */
#ifndef GUILD_TOKEN_CACHE_H
#define GUILD_TOKEN_CACHE_H

struct auth_claims;

/* auth_token_verify(secret, token, now, out) with a memory. The secret must
 * be the same on every call of a thread (the responder's configured one). */
int token_cache_verify(const char *secret, const char *token, long long now,
                       struct auth_claims *out);

#endif
