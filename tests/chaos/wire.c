/* wire: see wire.h. A reply's body and the headers we look at are collected
 * by libcurl callbacks into the reply itself; headers are matched as they
 * arrive, so nothing but the body is kept. */
#include "wire.h"

#include <curl/curl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WIRE_BODY_MAX (4u << 20) /* a chaos answer is a few KiB; stop keeping past this */

int64_t wire_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void *wire_open(long timeout_ms)
{
    CURL *c = curl_easy_init();

    if (c == NULL)
        return NULL;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
    /* never a proxy from the environment: the chaos tools talk to 127.0.0.1 only */
    curl_easy_setopt(c, CURLOPT_PROXY, "");
    return c;
}

void wire_close(void *h)
{
    if (h != NULL)
        curl_easy_cleanup(h);
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct wire_reply *r = ud;
    size_t n = size * nmemb;
    char *np;

    if (r->body_len + n > WIRE_BODY_MAX)
        return n; /* drop the excess, keep reading */
    np = realloc(r->body, r->body_len + n + 1);
    if (np == NULL)
        return 0;
    memcpy(np + r->body_len, ptr, n);
    r->body_len += n;
    np[r->body_len] = '\0';
    r->body = np;
    return n;
}

/* true when the header line ptr[0..n) is "name: value..." */
static int header_is(const char *ptr, size_t n, const char *name, const char **value)
{
    size_t k = strlen(name);

    if (n <= k || strncasecmp(ptr, name, k) != 0 || ptr[k] != ':')
        return 0;
    *value = ptr + k + 1;
    while (*value < ptr + n && (**value == ' ' || **value == '\t'))
        (*value)++;
    return 1;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct wire_reply *r = ud;
    size_t n = size * nmemb;
    const char *v;
    size_t left;

    if (header_is(ptr, n, "X-Cache", &v)) {
        left = n - (size_t)(v - ptr);
        if (left >= 3 && strncmp(v, "HIT", 3) == 0)
            r->xcache = WIRE_XC_HIT;
        else if (left >= 4 && strncmp(v, "MISS", 4) == 0)
            r->xcache = WIRE_XC_MISS;
        else if (left >= 6 && strncmp(v, "BYPASS", 6) == 0)
            r->xcache = WIRE_XC_BYPASS;
    } else if (header_is(ptr, n, "Content-Type", &v)) {
        left = n - (size_t)(v - ptr);
        r->json_ct = left >= 16 && strncmp(v, "application/json", 16) == 0;
    }
    return n;
}

int wire_call(void *h, const char *method, const char *url, const char *ctype,
              const char *body, const char *token, struct wire_reply *out)
{
    CURL *c = h;
    struct curl_slist *hdrs = NULL;
    char line[1024];
    char errbuf[CURL_ERROR_SIZE] = "";
    CURLcode rc;
    long status = 0;
    int64_t t0;

    memset(out, 0, sizeof(*out));
    if (ctype != NULL) {
        snprintf(line, sizeof(line), "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, line);
    }
    if (token != NULL && *token != '\0') {
        snprintf(line, sizeof(line), "Authorization: Bearer %s", token);
        hdrs = curl_slist_append(hdrs, line);
    }
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body != NULL) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    t0 = wire_now_us();
    rc = curl_easy_perform(c);
    out->lat_us = wire_now_us() - t0;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_slist_free_all(hdrs);
    if (rc != CURLE_OK) {
        snprintf(out->err, sizeof(out->err), "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        out->status = 0;
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    out->status = (int)status;
    return 0;
}

void wire_reply_free(struct wire_reply *r)
{
    if (r == NULL)
        return;
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

int wire_has_detail(const struct wire_reply *r)
{
    json_object *o, *d;
    int ok = 0;

    if (!r->json_ct || r->body == NULL)
        return 0;
    o = json_tokener_parse(r->body);
    if (o != NULL && json_object_is_type(o, json_type_object) &&
        json_object_object_get_ex(o, "detail", &d) &&
        (json_object_is_type(d, json_type_string) || json_object_is_type(d, json_type_array)))
        ok = 1;
    json_object_put(o);
    return ok;
}
