/* test_auth: HS256 access tokens: the issue/verify round trip, expiry, and
 * every forgery we know of (wrong key, tampered payload, alg "none", HS512,
 * missing or mistyped claims, oversized and malformed tokens), plus the
 * parsing of "Authorization: Bearer" values. Attack tokens are built by hand. */
#include <CUnit/CUnit.h>
#include <ctype.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "testutil.h"

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"
#define OTHER "fedcba9876543210fedcba9876543210-other-secret"
#define NOW 1700000000LL
#define TTL 1800LL
#define HDR_HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define HDR_NONE "{\"alg\":\"none\",\"typ\":\"JWT\"}"
#define GOOD_CLAIMS                                                                        \
    "{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,\"exp\":1700001800,"                  \
    "\"jti\":\"0123456789abcdef0123456789abcdef\"}"

/* base64url without padding of len bytes; malloc'd. */
/* auth_token_issue for (uid, name) at version 0, a fresh login. */
static char *issue_for(long long uid, const char *name, long long now, long long ttl,
                       struct auth_claims *out)
{
    struct auth_subject who = {uid, name, 0, 0};

    return auth_token_issue(SECRET, &who, now, ttl, out);
}

static char *b64url(const void *in, size_t len)
{
    char *out = malloc(4 * len / 3 + 8);
    int n;
    size_t o = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(out);
    n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    for (int i = 0; i < n && out[i] != '='; i++)
        out[o++] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[o] = '\0';
    return out;
}

/* "b64(header).b64(payload)"; malloc'd. */
static char *signing_input(const char *header, const char *payload)
{
    char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload));
    char *s = malloc(strlen(h) + strlen(p) + 2);

    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    sprintf(s, "%s.%s", h, p);
    free(h);
    free(p);
    return s;
}

/* header.payload.HMAC-SHA256(key, header.payload), or with the given
 * signature text when sig is not NULL; malloc'd. */
static char *make_token(const char *header, const char *payload, const char *key,
                        const char *sig)
{
    char *in = signing_input(header, payload), *mac64 = NULL, *tok;
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    if (sig == NULL) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(HMAC(EVP_sha256(), key, (int)strlen(key),
                                          (const unsigned char *)in, strlen(in), mac,
                                          &mac_len));
        mac64 = b64url(mac, mac_len);
        sig = mac64;
    }
    tok = malloc(strlen(in) + strlen(sig) + 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    sprintf(tok, "%s.%s", in, sig);
    free(in);
    free(mac64);
    return tok;
}

/* Verifies a hand-built HS256 token with SECRET at NOW. */
static int verify_claims(const char *payload)
{
    struct auth_claims c;
    char *tok = make_token(HDR_HS256, payload, SECRET, NULL);
    int rc = auth_token_verify(SECRET, tok, NOW, &c);

    free(tok);
    return rc;
}

/* A token signed by libjwt with alg and the full set of valid claims, plus a
 * "pad" claim of pad_len characters when pad_len > 0; malloc'd. */
static char *libjwt_token(jwt_alg_t alg, const char *key, size_t pad_len)
{
    jwt_t *jwt = NULL;
    char *tok, *pad = NULL;

    CU_ASSERT_EQUAL_FATAL(jwt_new(&jwt), 0);
    CU_ASSERT_EQUAL(jwt_add_grant(jwt, "sub", "alice"), 0);
    CU_ASSERT_EQUAL(jwt_add_grant_int(jwt, "uid", 7), 0);
    CU_ASSERT_EQUAL(jwt_add_grant_int(jwt, "iat", (long)NOW), 0);
    CU_ASSERT_EQUAL(jwt_add_grant_int(jwt, "exp", (long)(NOW + TTL)), 0);
    CU_ASSERT_EQUAL(jwt_add_grant(jwt, "jti", "0123456789abcdef0123456789abcdef"), 0);
    if (pad_len > 0) {
        pad = malloc(pad_len + 1);
        CU_ASSERT_PTR_NOT_NULL_FATAL(pad);
        memset(pad, 'x', pad_len);
        pad[pad_len] = '\0';
        CU_ASSERT_EQUAL(jwt_add_grant(jwt, "pad", pad), 0);
        free(pad);
    }
    CU_ASSERT_EQUAL_FATAL(
        jwt_set_alg(jwt, alg, (const unsigned char *)key, (int)strlen(key)), 0);
    tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    return tok;
}

static int is_hex32(const char *s)
{
    if (strlen(s) != AUTH_JTI_LEN)
        return 0;
    for (; *s; s++)
        if (!isxdigit((unsigned char)*s))
            return 0;
    return 1;
}

static void t_round_trip(void)
{
    struct auth_claims issued, got;
    char *tok = issue_for(42, "alice", NOW, TTL, &issued);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_STRING_EQUAL(issued.sub, "alice");
    CU_ASSERT_EQUAL(issued.uid, 42);
    CU_ASSERT_EQUAL(issued.iat, NOW);
    CU_ASSERT_EQUAL(issued.exp, NOW + TTL);
    CU_ASSERT_TRUE(is_hex32(issued.jti));

    memset(&got, 0x55, sizeof(got));
    CU_ASSERT_EQUAL_FATAL(auth_token_verify(SECRET, tok, NOW, &got), 0);
    CU_ASSERT_STRING_EQUAL(got.sub, "alice");
    CU_ASSERT_EQUAL(got.uid, 42);
    CU_ASSERT_EQUAL(got.iat, NOW);
    CU_ASSERT_EQUAL(got.exp, NOW + TTL);
    CU_ASSERT_STRING_EQUAL(got.jti, issued.jti);
    /* one second before expiry is still valid */
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW + TTL - 1, &got), 0);
    free(tok);

    /* claims_out may be NULL */
    tok = issue_for(1, "bob", NOW, TTL, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &got), 0);
    CU_ASSERT_STRING_EQUAL(got.sub, "bob");
    CU_ASSERT_EQUAL(got.uid, 1);
    free(tok);
}

/* "ver" and "auth_time": issued, read back, optional on old tokens, and
 * refused when they make no sense. */
static void t_version_and_auth_time(void)
{
    struct auth_subject who = {42, "alice", 3, NOW - 600};
    struct auth_claims issued, got;
    char *tok = auth_token_issue(SECRET, &who, NOW, TTL, &issued);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(issued.ver, 3);
    CU_ASSERT_EQUAL(issued.auth_time, NOW - 600);
    CU_ASSERT_EQUAL_FATAL(auth_token_verify(SECRET, tok, NOW, &got), 0);
    CU_ASSERT_EQUAL(got.ver, 3);
    CU_ASSERT_EQUAL(got.auth_time, NOW - 600);
    free(tok);
    /* a fresh login: auth_time is now */
    who.auth_time = 0;
    tok = auth_token_issue(SECRET, &who, NOW, TTL, &issued);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL_FATAL(auth_token_verify(SECRET, tok, NOW, &got), 0);
    CU_ASSERT_EQUAL(got.auth_time, NOW);
    free(tok);
    /* a token from before the claims existed: version 0, auth_time = iat */
    {
        char *old = make_token(HDR_HS256, GOOD_CLAIMS, SECRET, NULL);
        CU_ASSERT_EQUAL_FATAL(auth_token_verify(SECRET, old, NOW, &got), 0);
        CU_ASSERT_EQUAL(got.ver, 0);
        CU_ASSERT_EQUAL(got.auth_time, 1700000000);
        free(old);
    }
#define CLAIMS_WITH(extra)                                                                   \
    "{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,\"exp\":1700001800,"                   \
    "\"jti\":\"0123456789abcdef0123456789abcdef\"," extra "}"
    CU_ASSERT_EQUAL(verify_claims(CLAIMS_WITH("\"ver\":2,\"auth_time\":1699990000")), 0);
    CU_ASSERT_EQUAL(verify_claims(CLAIMS_WITH("\"ver\":-1")), -1);
    CU_ASSERT_EQUAL(verify_claims(CLAIMS_WITH("\"ver\":\"2\"")), -1);
    CU_ASSERT_EQUAL(verify_claims(CLAIMS_WITH("\"ver\":1.5")), -1);
    CU_ASSERT_EQUAL(verify_claims(CLAIMS_WITH("\"auth_time\":\"x\"")), -1);
    /* a chain cannot start after the token it is in */
    CU_ASSERT_EQUAL(verify_claims(CLAIMS_WITH("\"auth_time\":1700000001")), -1);
#undef CLAIMS_WITH
}

static void t_jti_unique(void)
{
    struct auth_claims a, b;
    char *t1 = issue_for(42, "alice", NOW, TTL, &a);
    char *t2 = issue_for(42, "alice", NOW, TTL, &b);

    CU_ASSERT_PTR_NOT_NULL_FATAL(t1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t2);
    CU_ASSERT_TRUE(is_hex32(a.jti));
    CU_ASSERT_TRUE(is_hex32(b.jti));
    CU_ASSERT_STRING_NOT_EQUAL(a.jti, b.jti);
    CU_ASSERT_STRING_NOT_EQUAL(t1, t2); /* same claims otherwise */
    free(t1);
    free(t2);
}

static void t_expired(void)
{
    struct auth_claims c;
    char *tok = issue_for(42, "alice", NOW, TTL, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW + TTL, &c), -1); /* exp == now */
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW + TTL + 1, &c), -1);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW + 10 * TTL, &c), -1);
    free(tok);

    /* ttl 0: expired the moment it is issued */
    tok = issue_for(42, "alice", NOW, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
}

static void t_wrong_key(void)
{
    struct auth_claims c;
    char *tok = issue_for(42, "alice", NOW, TTL, NULL);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), 0); /* control */
    CU_ASSERT_EQUAL(auth_token_verify(OTHER, tok, NOW, &c), -1);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET "x", tok, NOW, &c), -1);
    free(tok);
}

static void t_tampered_payload(void)
{
    struct auth_claims c;
    char *tok = issue_for(42, "alice", NOW, TTL, NULL);
    char *dot1, *dot2, *forged, *good_sig;
    size_t mid;

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    dot1 = strchr(tok, '.');
    CU_ASSERT_PTR_NOT_NULL_FATAL(dot1);
    dot2 = strchr(dot1 + 1, '.');
    CU_ASSERT_PTR_NOT_NULL_FATAL(dot2);

    /* one character of the payload segment changed */
    mid = (size_t)(dot1 - tok) + (size_t)(dot2 - dot1) / 2;
    tok[mid] = tok[mid] == 'A' ? 'B' : 'A';
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);

    /* a payload naming another uid with the signature of a genuine token */
    tok = make_token(HDR_HS256, GOOD_CLAIMS, SECRET, NULL);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), 0); /* control */
    CU_ASSERT_EQUAL(c.uid, 7);
    good_sig = strrchr(tok, '.') + 1;
    forged = make_token(HDR_HS256,
                        "{\"sub\":\"alice\",\"uid\":1,\"iat\":1700000000,\"exp\":1700001800,"
                        "\"jti\":\"0123456789abcdef0123456789abcdef\"}",
                        SECRET, good_sig);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, forged, NOW, &c), -1);
    free(forged);
    /* a later exp, same signature */
    forged = make_token(HDR_HS256,
                        "{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,\"exp\":1900001800,"
                        "\"jti\":\"0123456789abcdef0123456789abcdef\"}",
                        SECRET, good_sig);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, forged, NOW, &c), -1);
    free(forged);
    free(tok);
}

static void t_alg_none(void)
{
    struct auth_claims c;
    char *in = signing_input(HDR_NONE, GOOD_CLAIMS);
    char *tok = malloc(strlen(in) + 32);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    /* no signature segment at all, an empty one, and a bogus one */
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, in, NOW, &c), -1);
    sprintf(tok, "%s.", in);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    sprintf(tok, "%s.c2lnbmF0dXJl", in);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    sprintf(tok, "%s..", in);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
    free(in);

    /* alg none even with a valid HS256 MAC over it */
    tok = make_token(HDR_NONE, GOOD_CLAIMS, SECRET, NULL);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
    tok = make_token("{\"alg\":\"None\",\"typ\":\"JWT\"}", GOOD_CLAIMS, SECRET, NULL);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
}

static void t_other_algs(void)
{
    struct auth_claims c;
    char *tok;

    /* control: the same claims via libjwt with HS256 are accepted */
    tok = libjwt_token(JWT_ALG_HS256, SECRET, 0);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), 0);
    CU_ASSERT_STRING_EQUAL(c.sub, "alice");
    free(tok);

    tok = libjwt_token(JWT_ALG_HS512, SECRET, 0);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
    tok = libjwt_token(JWT_ALG_HS384, SECRET, 0);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);

    /* an HS512 header carrying an HS256 MAC */
    tok = make_token("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", GOOD_CLAIMS, SECRET, NULL);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
    /* an RS256 header with an HMAC made from the secret (key confusion) */
    tok = make_token("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", GOOD_CLAIMS, SECRET, NULL);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
}

static void t_claims_required(void)
{
    /* control: the hand-built token with every claim is accepted */
    CU_ASSERT_EQUAL(verify_claims(GOOD_CLAIMS), 0);

    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* no exp */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,"
                                  "\"exp\":1700001800}"),
                    -1); /* no jti */
    CU_ASSERT_EQUAL(verify_claims("{\"uid\":7,\"iat\":1700000000,\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* no sub */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"iat\":1700000000,\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* no uid */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* no iat */
}

static void t_claims_typed(void)
{
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":\"7\",\"iat\":1700000000,"
                                  "\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* uid as a string */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,"
                                  "\"exp\":\"1700001800\","
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* exp as a string */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,"
                                  "\"exp\":1.7e12,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* exp as a float */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"iat\":\"x\","
                                  "\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* iat as a string (libjwt alone reads it as 0) */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7.9,\"iat\":1700000000,"
                                  "\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* uid as a float (libjwt alone truncates it to 7) */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":7,\"uid\":7,\"iat\":1700000000,"
                                  "\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* sub not a string */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":0,\"iat\":1700000000,"
                                  "\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef\"}"),
                    -1); /* uid not positive */
    CU_ASSERT_EQUAL(verify_claims("{\"sub\":\"alice\",\"uid\":7,\"iat\":1700000000,"
                                  "\"exp\":1700001800,"
                                  "\"jti\":\"0123456789abcdef0123456789abcdef0\"}"),
                    -1); /* jti longer than 32 */
}

static void t_oversized(void)
{
    struct auth_claims c;
    char *tok = libjwt_token(JWT_ALG_HS256, SECRET, 3600);

    /* a correctly signed token of about 5000 characters */
    CU_ASSERT_TRUE(strlen(tok) > 4096);
    CU_ASSERT_TRUE(strlen(tok) < 6000);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);

    /* control: the same with a small pad is accepted */
    tok = libjwt_token(JWT_ALG_HS256, SECRET, 100);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), 0);
    free(tok);
}

static void t_garbage(void)
{
    static const char *const bad[] = {"", "a", "a.b", "a.b.c", "...", ".", "..", "a..c",
                                      ".b.c", "a.b.", "Bearer x.y.z", "\xff\xfe.\x01.\x80"};
    struct auth_claims c;
    char *tok = malloc(5001);

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CU_ASSERT_EQUAL(auth_token_verify(SECRET, bad[i], NOW, &c), -1);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, NULL, NOW, &c), -1);

    CU_ASSERT_PTR_NOT_NULL_FATAL(tok);
    memset(tok, 'a', 5000);
    tok[5000] = '\0';
    tok[100] = '.';
    tok[200] = '.';
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    memset(tok, '.', 5000);
    CU_ASSERT_EQUAL(auth_token_verify(SECRET, tok, NOW, &c), -1);
    free(tok);
}

static void t_bearer(void)
{
    const char *h;

    CU_ASSERT_STRING_EQUAL(auth_bearer("Bearer abc"), "abc");
    CU_ASSERT_STRING_EQUAL(auth_bearer("bearer abc"), "abc");
    CU_ASSERT_STRING_EQUAL(auth_bearer("BEARER abc"), "abc");
    CU_ASSERT_STRING_EQUAL(auth_bearer("  Bearer   abc"), "abc");
    h = "Bearer x.y.z";
    CU_ASSERT_PTR_EQUAL(auth_bearer(h), h + 7); /* points into hdr */
    CU_ASSERT_PTR_NULL(auth_bearer("Basic abc"));
    CU_ASSERT_PTR_NULL(auth_bearer("Bearer "));
    CU_ASSERT_PTR_NULL(auth_bearer("Bearer    "));
    CU_ASSERT_PTR_NULL(auth_bearer("Bearer"));
    CU_ASSERT_PTR_NULL(auth_bearer("Bearerabc"));
    CU_ASSERT_PTR_NULL(auth_bearer(""));
    CU_ASSERT_PTR_NULL(auth_bearer(NULL));
}

int main(void)
{
    static const struct test_case cases[] = {
        {"round_trip", t_round_trip},
        {"version_and_auth_time", t_version_and_auth_time},
        {"jti_unique", t_jti_unique},
        {"expired", t_expired},
        {"wrong_key", t_wrong_key},
        {"tampered_payload", t_tampered_payload},
        {"alg_none", t_alg_none},
        {"other_algs", t_other_algs},
        {"claims_required", t_claims_required},
        {"claims_typed", t_claims_typed},
        {"oversized", t_oversized},
        {"garbage", t_garbage},
        {"bearer", t_bearer},
        {NULL, NULL},
    };
    return testutil_run("auth", cases, NULL, NULL);
}
