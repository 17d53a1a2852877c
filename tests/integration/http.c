/* http: see http.h. One curl easy handle is reused so tests measure the
 * server, not connection setup; every request gets a fresh response struct. */
#include "http.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

static CURL *curl;
static const char *base_url;

struct buf {
    char *p;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;
    char *np = realloc(b->p, b->len + n + 1);

    if (np == NULL)
        return 0;
    memcpy(np + b->len, ptr, n);
    b->len += n;
    np[b->len] = '\0';
    b->p = np;
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct buf *b = ud;
    size_t n = size * nmemb;

    if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0)
        b->len = 0; /* a new response (after 100-continue): keep only the last */
    return on_data(ptr, size, nmemb, ud);
}

int http_init(void)
{
    base_url = getenv("BASE_URL");
    if (base_url == NULL || *base_url == '\0') {
        fprintf(stderr, "BASE_URL is not set: run through `scripts/stack test` (skipping)\n");
        return 77;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    curl = curl_easy_init();
    return curl ? 0 : 1;
}

void http_set_base(const char *url)
{
    base_url = url;
}

void http_cleanup(void)
{
    if (curl != NULL)
        curl_easy_cleanup(curl);
    curl = NULL;
    curl_global_cleanup();
}

/* Sends one request on c: from the local address iface when not NULL;
 * nosignal for handles used in threads. Fills out like http_request. */
static int perform(CURL *c, const char *iface, int nosignal, const char *method,
                   const char *path, const char *const *headers, const char *body,
                   size_t body_len, struct http_resp *out)
{
    struct buf b = {NULL, 0}, h = {NULL, 0};
    struct curl_slist *hl = NULL;
    char url[4096], ct[128];
    CURLcode rc;

    snprintf(url, sizeof(url), "%s%s", base_url, path);
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    /* the path goes out exactly as written: tests send dot segments and
     * double slashes on purpose */
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    if (iface != NULL)
        curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 20000L);
    if (nosignal)
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L); /* safe in threads */
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    hl = curl_slist_append(hl, "Expect:");
    for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
        hl = curl_slist_append(hl, headers[i]);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
    }
    rc = curl_easy_perform(c);
    curl_slist_free_all(hl);
    if (rc != CURLE_OK) {
        fprintf(stderr, "http %s %s%s%s: %s\n", method, path, iface ? " from " : "",
                iface ? iface : "", curl_easy_strerror(rc));
        free(b.p);
        free(h.p);
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    out->body = b.p ? b.p : calloc(1, 1);
    out->body_len = b.len;
    out->headers = h.p ? h.p : calloc(1, 1);
    out->headers_len = h.len;
    if (http_header(out, "Content-Type", ct, sizeof(ct)) && strstr(ct, "json") && b.len > 0)
        out->json = json_tokener_parse(out->body);
    return 0;
}

int http_request(const char *method, const char *path, const char *const *headers,
                 const char *body, size_t body_len, struct http_resp *out)
{
    memset(out, 0, sizeof(*out));
    return perform(curl, NULL, 0, method, path, headers, body, body_len, out);
}

int http_get(const char *path, struct http_resp *out)
{
    return http_request("GET", path, NULL, NULL, 0, out);
}

int http_json(const char *method, const char *path, const char *token, const char *json,
              struct http_resp *out)
{
    char auth[2048];
    const char *headers[3] = {"Content-Type: application/json", NULL, NULL};

    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        headers[1] = auth;
    }
    return http_request(method, path, headers, json, json ? strlen(json) : 0, out);
}

void http_resp_free(struct http_resp *r)
{
    free(r->body);
    free(r->headers);
    json_object_put(r->json);
    memset(r, 0, sizeof(*r));
}

const char *http_header(const struct http_resp *r, const char *name, char *buf, size_t sz)
{
    size_t n = strlen(name);
    const char *p = r->headers;

    while (p != NULL && *p) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
            const char *v = p + n + 1;
            size_t len;
            while (*v == ' ')
                v++;
            len = strcspn(v, "\r\n");
            if (len >= sz)
                len = sz - 1;
            memcpy(buf, v, len);
            buf[len] = '\0';
            return buf;
        }
        if ((p = strchr(p, '\n')) != NULL)
            p++;
    }
    return NULL;
}

const char *http_jstr(const struct http_resp *r, const char *key)
{
    json_object *v;

    if (r->json == NULL || !json_object_object_get_ex(r->json, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

long long http_jint(const struct http_resp *r, const char *key)
{
    json_object *v;

    if (r->json == NULL || !json_object_object_get_ex(r->json, key, &v) ||
        !json_object_is_type(v, json_type_int))
        return -1;
    return json_object_get_int64(v);
}

int http_is_detail(const struct http_resp *r, const char *detail)
{
    const char *d = http_jstr(r, "detail");

    return d != NULL && strcmp(d, detail) == 0;
}

int http_stack(const char *args)
{
    const char *cmd = getenv("STACK_CMD");
    char line[2048];
    int rc;

    if (cmd == NULL)
        return -1;
    snprintf(line, sizeof(line), "%s %s >/dev/null 2>&1", cmd, args);
    rc = system(line);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

/* ---- added for the auth/users/analytics suites ---- */

int http_send(const char *method, const char *path, const char *token,
              const char *content_type, const char *body, struct http_resp *out)
{
    return http_send_headers(method, path, token, content_type, body, NULL, out);
}

double http_jnum(const struct http_resp *r, const char *key)
{
    json_object *v;

    if (r->json == NULL || !json_object_object_get_ex(r->json, key, &v) ||
        !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return NAN;
    return json_object_get_double(v);
}

int http_jbool(const struct http_resp *r, const char *key)
{
    json_object *v;

    if (r->json == NULL || !json_object_object_get_ex(r->json, key, &v) ||
        !json_object_is_type(v, json_type_boolean))
        return -1;
    return json_object_get_boolean(v) ? 1 : 0;
}

int http_jnull(const struct http_resp *r, const char *key)
{
    json_object *v;

    return r->json != NULL && json_object_object_get_ex(r->json, key, &v) && v == NULL;
}

/* ---- added for the cache suite ---- */

int http_send_headers(const char *method, const char *path, const char *token,
                      const char *content_type, const char *body,
                      const char *const *extra_headers, struct http_resp *out)
{
    char auth[2048], ct[256], retry[32];
    const char *headers[24];
    size_t nh = 0;
    int rc = -1;

    if (token != NULL) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
        headers[nh++] = auth;
    }
    if (content_type != NULL) {
        snprintf(ct, sizeof(ct), "Content-Type: %s", content_type);
        headers[nh++] = ct;
    }
    for (size_t i = 0; extra_headers != NULL && extra_headers[i] != NULL && nh < 23; i++)
        headers[nh++] = extra_headers[i];
    headers[nh] = NULL;
    for (int attempt = 0; attempt < 4; attempt++) {
        long wait_s;

        rc = http_request(method, path, headers, body, body ? strlen(body) : 0, out);
        if (rc != 0 || out->status != 429 || attempt == 3)
            break;
        wait_s = http_header(out, "Retry-After", retry, sizeof(retry)) ? atol(retry) : 1;
        if (wait_s < 1 || wait_s > 65)
            break;
        fprintf(stderr, "http %s %s: 429, retrying in %ld s\n", method, path, wait_s);
        http_resp_free(out);
        sleep((unsigned)wait_s);
    }
    return rc;
}

int http_request_on(void *curl_handle, const char *method, const char *path,
                    const char *const *headers, const char *body, size_t body_len,
                    struct http_resp *out)
{
    memset(out, 0, sizeof(*out));
    return perform(curl_handle, NULL, 1, method, path, headers, body, body_len, out);
}

/* ---- added for the rate-limit and session suites ---- */

static CURL *curl_from; /* connections bound to another local address */

int http_request_from(const char *iface, const char *method, const char *path,
                      const char *const *headers, const char *body, size_t body_len,
                      struct http_resp *out)
{
    memset(out, 0, sizeof(*out));
    if (curl_from == NULL && (curl_from = curl_easy_init()) == NULL)
        return -1;
    return perform(curl_from, iface, 0, method, path, headers, body, body_len, out);
}
