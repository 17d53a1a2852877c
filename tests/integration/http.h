/* http: the integration tests' HTTP client (libcurl) against the private
 * stack that `scripts/stack test` started. BASE_URL and STACK_CMD come from
 * the environment (var/test/stack.env). Without BASE_URL the binaries exit 77
 * (automake's SKIP), e.g. under a bare `make distcheck`. */
#ifndef GUILD_TEST_HTTP_H
#define GUILD_TEST_HTTP_H

#include <stddef.h>

struct json_object;

struct http_resp {
    long status;
    char *body;
    size_t body_len;
    char *headers; /* raw header block of the final response */
    size_t headers_len;
    struct json_object *json; /* parsed body when it is JSON, else NULL */
};

/* Sends one request. headers: NULL-terminated "Name: value" strings or NULL.
 * Returns 0 when an HTTP answer arrived (any status); -1 on transport error. */
int http_request(const char *method, const char *path, const char *const *headers,
                 const char *body, size_t body_len, struct http_resp *out);

/* Shorthands: GET; a JSON body with an optional bearer token. */
int http_get(const char *path, struct http_resp *out);
int http_json(const char *method, const char *path, const char *token, const char *json,
              struct http_resp *out);

void http_resp_free(struct http_resp *r);

/* Copies the value of a response header (case-insensitive) into buf;
 * returns buf or NULL when absent. */
const char *http_header(const struct http_resp *r, const char *name, char *buf, size_t sz);

/* Member accessors on r->json (NULL/-1 when missing or of another type). */
const char *http_jstr(const struct http_resp *r, const char *key);
long long http_jint(const struct http_resp *r, const char *key);

/* True when r->json is {"detail": detail}. */
int http_is_detail(const struct http_resp *r, const char *detail);

/* Runs "$STACK_CMD args" (e.g. "stop redis"); returns its exit status. */
int http_stack(const char *args);

/* Call first in main(): 0 when the stack is configured, else 77. Also
 * initialises libcurl; http_cleanup() at the end. */
int http_init(void);
void http_cleanup(void);

/* Sends every later request to url instead of $BASE_URL (the cluster test
 * picks an app host per request); url must outlive its use. */
void http_set_base(const char *url);

/* ---- added for the auth/users/analytics suites ---- */

/* Sends body (NULL: none) with the given Content-Type (NULL: no such header)
 * and an optional bearer token. A 429 is retried once its Retry-After
 * (at most 65 s) has passed, up to 3 times, so functional suites do not
 * depend on the rate-limit settings; rate-limit tests use http_request.
 * Returns like http_request. */
int http_send(const char *method, const char *path, const char *token,
              const char *content_type, const char *body, struct http_resp *out);

/* Numeric member of r->json as a double (int or double); NAN when missing
 * or of another type. */
double http_jnum(const struct http_resp *r, const char *key);

/* Boolean member of r->json: 0 or 1; -1 when missing or not a boolean. */
int http_jbool(const struct http_resp *r, const char *key);

/* True when the member exists and is JSON null. */
int http_jnull(const struct http_resp *r, const char *key);

/* ---- added for the cache suite ---- */

/* Like http_send, with extra "Name: value" headers (NULL-terminated list or
 * NULL) besides the token and content type; 429s are retried the same way. */
int http_send_headers(const char *method, const char *path, const char *token,
                      const char *content_type, const char *body,
                      const char *const *extra_headers, struct http_resp *out);

/* Like http_request on a caller-owned curl easy handle (a CURL *), so that
 * threads can send requests at once, one handle each. No 429 retry. */
int http_request_on(void *curl_handle, const char *method, const char *path,
                    const char *const *headers, const char *body, size_t body_len,
                    struct http_resp *out);

/* ---- added for the rate-limit and session suites ---- */

/* Like http_request, sent from the local address iface (e.g. "127.0.0.2",
 * which the test stack trusts as a proxy, so X-Forwarded-For in headers
 * names the client). Uses its own curl handle, so its connections are never
 * reused by http_request (which must keep coming from 127.0.0.1). No 429
 * retry. */
int http_request_from(const char *iface, const char *method, const char *path,
                      const char *const *headers, const char *body, size_t body_len,
                      struct http_resp *out);

#endif
