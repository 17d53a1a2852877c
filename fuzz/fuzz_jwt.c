/* fuzz_jwt: the Authorization header and bearer-token verification, as the
 * dispatcher runs them: auth_bearer, then token_cache_verify (the cache in
 * front of auth_token_verify: HS256 signature in constant time, libjwt's
 * decoding, the algorithm pin, the claims), then the route's token check.
 * First byte even: the rest is the header value as sent (garbage, alg
 * "none", other keys, truncations...). Odd: the rest is a JWT header and
 * payload (JSON text, newline-separated) that the harness encodes and signs
 * with the worker's key, so libjwt's parsing and the claim checks behind
 * the signature get fuzzed too. Properties: the cached and uncached
 * verifications agree, and GET /api/users/me answers 401 for every token
 * they refuse and goes past the token (503: database down) for every other. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "auth.h"
#include "fuzz_app.h"
#include "req.h"
#include "resp.h"
#include "token_cache.h"

/* base64url without padding (the JWT encoding) of in[0..len), in the arena. */
static char *b64url(struct arena *a, const unsigned char *in, size_t len)
{
    char *out = arena_alloc(a, 4 * (len / 3 + 1) + 1);
    size_t o = 0;
    int n;

    fuzz_require(out != NULL, "arena");
    n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    for (int i = 0; i < n && out[i] != '='; i++)
        out[o++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[o] = '\0';
    return out;
}

/* "Bearer <header>.<payload>.<HS256 signature with the worker's key>". */
static char *signed_header(struct arena *a, const uint8_t *data, size_t size)
{
    char *f[2], *signing;
    size_t lens[2];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    fuzz_split(data, size, '\n', 2, f, lens);
    signing = arena_sprintf(a, "%s.%s", b64url(a, (unsigned char *)f[0], lens[0]),
                            b64url(a, (unsigned char *)f[1], lens[1]));
    fuzz_require(signing != NULL, "arena");
    fuzz_require(HMAC(EVP_sha256(), FUZZ_JWT_SECRET, (int)strlen(FUZZ_JWT_SECRET),
                      (const unsigned char *)signing, strlen(signing), mac, &mac_len) != NULL,
                 "HMAC");
    return arena_sprintf(a, "Bearer %s.%s", signing, b64url(a, mac, mac_len));
}

static bool same_claims(const struct auth_claims *x, const struct auth_claims *y)
{
    return strcmp(x->sub, y->sub) == 0 && strcmp(x->jti, y->jti) == 0 && x->uid == y->uid &&
           x->iat == y->iat && x->exp == y->exp;
}

/* 0 when the token is accepted, checking that every way to verify agrees. */
static int verify(const char *hdr, long long now)
{
    const char *token = auth_bearer(hdr);
    struct auth_claims direct, cached, again;
    int rc;

    if (token == NULL)
        return -1;
    rc = auth_token_verify(FUZZ_JWT_SECRET, token, now, &direct);
    fuzz_require(token_cache_verify(FUZZ_JWT_SECRET, token, now, &cached) == rc,
                 "token cache and verification disagree");
    fuzz_require(token_cache_verify(FUZZ_JWT_SECRET, token, now, &again) == rc,
                 "a cached token answers differently");
    if (rc == 0) {
        fuzz_require(same_claims(&direct, &cached) && same_claims(&direct, &again),
                     "token cache returns other claims");
        fuzz_require(direct.uid > 0 && direct.exp > now, "accepted a bad uid or an expired token");
    }
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req rq;
    struct resp rs;
    char *hdr, *env[2];
    size_t len;
    long long now = (long long)time(NULL);
    int rc;

    if (size < 1)
        return 0;
    fuzz_begin();
    fuzz_req_init(&rq, &rs, "GET", "/api/users/me");
    if (data[0] & 1) {
        hdr = signed_header(rq.arena, data + 1, size - 1);
    } else {
        fuzz_split(data + 1, size - 1, '\0', 1, &hdr, &len);
        hdr[strnlen(hdr, len)] = '\0'; /* a FastCGI parameter ends at a NUL */
    }
    fuzz_require(hdr != NULL, "arena");
    rc = verify(hdr, now);
    env[0] = arena_sprintf(rq.arena, "HTTP_AUTHORIZATION=%s", hdr);
    env[1] = NULL;
    fuzz_require(env[0] != NULL, "arena");
    rq.env = env;
    fuzz_dispatch(&rq, &rs);
    fuzz_check_answer(&rs, "GET /api/users/me");
    if (time(NULL) == now) /* a token may expire between the two checks */
        fuzz_require(rc == 0 ? rs.status == 503 : rs.status == 401,
                     "the route's token check disagrees with verification");
    return 0;
}
