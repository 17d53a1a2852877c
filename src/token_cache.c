/* token_cache: see token_cache.h. A hit needs the exact token string that
 * passed auth_token_verify before: it is compared in full, in constant time
 * (CRYPTO_memcmp), so response timing tells nothing about cached tokens of
 * other clients. The slot index is FNV-1a of the token: not secret-keyed,
 * but a collision only costs a verification. */
#include "token_cache.h"

#include <openssl/crypto.h>
#include <string.h>

#include "auth.h"

#define TOKEN_CACHE_SLOTS 32
#define TOKEN_CACHE_LEN_MAX 512 /* ours are ~250 bytes; longer ones are not kept */

struct slot {
    size_t len; /* 0 = empty */
    char token[TOKEN_CACHE_LEN_MAX];
    struct auth_claims claims;
};

static _Thread_local struct slot slots[TOKEN_CACHE_SLOTS];

static unsigned fnv1a(const char *s, size_t len)
{
    unsigned h = 2166136261u;

    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

int token_cache_verify(const char *secret, const char *token, long long now,
                       struct auth_claims *out)
{
    size_t len = token != NULL ? strlen(token) : 0;
    struct slot *s = len > 0 && len <= TOKEN_CACHE_LEN_MAX
                         ? &slots[fnv1a(token, len) % TOKEN_CACHE_SLOTS]
                         : NULL;

    if (s != NULL && s->len == len && CRYPTO_memcmp(s->token, token, len) == 0) {
        if (s->claims.exp <= now)
            return -1;
        *out = s->claims;
        return 0;
    }
    if (auth_token_verify(secret, token, now, out) != 0)
        return -1;
    if (s != NULL) {
        memcpy(s->token, token, len);
        s->len = len;
        s->claims = *out;
    }
    return 0;
}
