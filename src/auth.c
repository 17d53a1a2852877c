/* auth: see auth.h. The HMAC is recomputed with OpenSSL and compared with
 * CRYPTO_memcmp, so the guarantee does not depend on which libjwt build the
 * server has (older ones compared signatures with strcmp). */
#include "auth.h"

#include <errno.h>
#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#define AUTH_TOKEN_MAX 4096

static int random_hex(char *out, size_t nbytes)
{
    unsigned char raw[32];

    if (nbytes > sizeof(raw) || getrandom(raw, nbytes, 0) != (ssize_t)nbytes)
        return -1;
    for (size_t i = 0; i < nbytes; i++)
        sprintf(out + 2 * i, "%02x", raw[i]);
    return 0;
}

char *auth_token_issue(const char *secret, const struct auth_subject *who, long long now,
                       long long ttl_s, struct auth_claims *claims_out)
{
    long long uid = who->uid;
    struct auth_claims c;
    jwt_t *jwt = NULL;
    char *ret = NULL;

    memset(&c, 0, sizeof(c));
    if (random_hex(c.jti, AUTH_JTI_LEN / 2) != 0 || jwt_new(&jwt) != 0)
        goto out;
    snprintf(c.sub, sizeof(c.sub), "%s", who->username);
    c.uid = uid;
    c.iat = now;
    c.exp = now + ttl_s;
    c.ver = who->ver;
    c.auth_time = who->auth_time > 0 ? who->auth_time : now;
    if (jwt_add_grant(jwt, "sub", c.sub) != 0 || jwt_add_grant_int(jwt, "uid", (long)uid) != 0 ||
        jwt_add_grant_int(jwt, "iat", (long)c.iat) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)c.exp) != 0 || jwt_add_grant(jwt, "jti", c.jti) != 0 ||
        jwt_add_grant_int(jwt, "ver", (long)c.ver) != 0 ||
        jwt_add_grant_int(jwt, "auth_time", (long)c.auth_time) != 0 ||
        jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) != 0)
        goto out;
    /* libjwt 1.10 allocates the string with malloc: the caller free()s it */
    if ((ret = jwt_encode_str(jwt)) != NULL && claims_out != NULL)
        *claims_out = c;
out:
    jwt_free(jwt);
    return ret;
}

/* base64url without padding of len bytes into out (needs 4*len/3+4). */
static size_t b64url(const unsigned char *in, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    size_t o = 0;

    for (int i = 0; i < n; i++) {
        char ch = out[i];
        if (ch == '=')
            break;
        out[o++] = ch == '+' ? '-' : ch == '/' ? '_' : ch;
    }
    out[o] = '\0';
    return o;
}

/* Checks the HS256 signature of "header.payload.signature" in constant time. */
static int signature_ok(const char *secret, const char *token)
{
    const char *dot2 = strrchr(token, '.');
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    char expect[96];
    size_t elen, glen;

    if (dot2 == NULL || dot2 == token || strchr(token, '.') == dot2)
        return 0;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)token,
             (size_t)(dot2 - token), mac, &mac_len) == NULL)
        return 0;
    elen = b64url(mac, mac_len, expect);
    glen = strlen(dot2 + 1);
    return glen == elen && CRYPTO_memcmp(expect, dot2 + 1, elen) == 0;
}

/* Reads an integer claim strictly. libjwt 1.10's jwt_get_grant_int answers
 * a string or a float as 0 or truncated without an error, so the claim's
 * JSON text is read instead: decimal digits only (optionally negative).
 * Returns 0 (*out set), 1 when the claim is absent, -1 when it is not an
 * integer. */
static int claim_int_text(jwt_t *jwt, const char *name, long long *out)
{
    char *text = jwt_get_grants_json(jwt, name), *end;
    const char *p = text;
    long long v;
    int rc = -1;

    if (text == NULL)
        return 1;
    if (*p == '-')
        p++;
    if (*p >= '0' && *p <= '9') {
        errno = 0;
        v = strtoll(text, &end, 10);
        if (errno == 0 && *end == '\0') {
            *out = v;
            rc = 0;
        }
    }
    free(text); /* json_dumps' string: malloc'd */
    return rc;
}

static int claim_int(jwt_t *jwt, const char *name, long long *out)
{
    return claim_int_text(jwt, name, out) == 0 ? 0 : -1;
}

/* claim_int for a claim that may be absent: *out is left alone then. */
static int claim_int_opt(jwt_t *jwt, const char *name, long long *out)
{
    return claim_int_text(jwt, name, out) >= 0 ? 0 : -1;
}

int auth_token_verify(const char *secret, const char *token, long long now,
                      struct auth_claims *out)
{
    jwt_t *jwt = NULL;
    const char *sub, *jti;
    int ret = -1;

    memset(out, 0, sizeof(*out));
    if (token == NULL || strlen(token) > AUTH_TOKEN_MAX || !signature_ok(secret, token))
        return -1;
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0 ||
        jwt == NULL)
        goto out;
    if (jwt_get_alg(jwt) != JWT_ALG_HS256)
        goto out;
    if (claim_int(jwt, "exp", &out->exp) != 0 || claim_int(jwt, "uid", &out->uid) != 0 ||
        claim_int(jwt, "iat", &out->iat) != 0)
        goto out;
    /* optional (tokens from before they existed), but sane when present */
    out->auth_time = out->iat;
    if (claim_int_opt(jwt, "ver", &out->ver) != 0 || out->ver < 0 ||
        claim_int_opt(jwt, "auth_time", &out->auth_time) != 0 || out->auth_time > out->iat)
        goto out;
    sub = jwt_get_grant(jwt, "sub");
    jti = jwt_get_grant(jwt, "jti");
    if (sub == NULL || jti == NULL || strlen(sub) >= sizeof(out->sub) ||
        strlen(jti) > AUTH_JTI_LEN || out->exp <= now || out->uid <= 0)
        goto out;
    strcpy(out->sub, sub);
    strcpy(out->jti, jti);
    ret = 0;
out:
    jwt_free(jwt);
    return ret;
}

const char *auth_bearer(const char *hdr)
{
    if (hdr == NULL)
        return NULL;
    while (*hdr == ' ')
        hdr++;
    if (strncasecmp(hdr, "Bearer ", 7) != 0)
        return NULL;
    hdr += 7;
    while (*hdr == ' ')
        hdr++;
    return *hdr ? hdr : NULL;
}
