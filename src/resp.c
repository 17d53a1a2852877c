/* resp: response building; see resp.h. Bodies are copied into the arena so
 * the json-c tree can be released by the handler at once. */
#include "resp.h"

#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "jsonx.h"

void resp_init(struct resp *rs, struct arena *a)
{
    memset(rs, 0, sizeof(*rs));
    rs->arena = a;
    rs->status = 500;
}

/* Makes room for need more bytes of headers (amortised doubling in the
 * arena: appending n headers costs O(total), not O(n^2)). 0 or -1. */
static int headers_reserve(struct resp *rs, size_t need)
{
    size_t cap = rs->headers_cap ? rs->headers_cap : 256;
    char *p;

    if (rs->headers_len + need <= rs->headers_cap)
        return 0;
    while (cap < rs->headers_len + need)
        cap *= 2;
    if ((p = arena_alloc(rs->arena, cap)) == NULL)
        return -1;
    if (rs->headers_len)
        memcpy(p, rs->headers, rs->headers_len);
    rs->headers = p;
    rs->headers_cap = cap;
    return 0;
}

int resp_header(struct resp *rs, const char *name, const char *fmt, ...)
{
    size_t nlen = strlen(name), room;
    va_list ap;
    int n;

    if (headers_reserve(rs, nlen + 2 + 64 + 3) != 0)
        return -1;
    memcpy(rs->headers + rs->headers_len, name, nlen);
    memcpy(rs->headers + rs->headers_len + nlen, ": ", 2);
    room = rs->headers_cap - rs->headers_len - nlen - 2;
    va_start(ap, fmt);
    n = vsnprintf(rs->headers + rs->headers_len + nlen + 2, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n + 3 > room) { /* a long value: grow, format again */
        if (headers_reserve(rs, nlen + 2 + (size_t)n + 3) != 0)
            return -1;
        /* the buffer may have moved: it kept only the finished lines, so
         * the name goes in again */
        memcpy(rs->headers + rs->headers_len, name, nlen);
        memcpy(rs->headers + rs->headers_len + nlen, ": ", 2);
        room = rs->headers_cap - rs->headers_len - nlen - 2;
        va_start(ap, fmt);
        vsnprintf(rs->headers + rs->headers_len + nlen + 2, room, fmt, ap);
        va_end(ap);
    }
    rs->headers_len += nlen + 2 + (size_t)n;
    memcpy(rs->headers + rs->headers_len, "\r\n", 2);
    rs->headers_len += 2;
    return 0;
}

void resp_clear_headers(struct resp *rs)
{
    rs->headers_len = 0; /* the buffer stays for the next headers */
}

bool resp_has_header(const struct resp *rs, const char *name)
{
    size_t n = strlen(name);
    const char *p = rs->headers;

    while (p != NULL && p < rs->headers + rs->headers_len) {
        if (strncasecmp(p, name, n) == 0 && p[n] == ':')
            return true;
        if ((p = strstr(p, "\r\n")) != NULL)
            p += 2;
    }
    return false;
}

int resp_body(struct resp *rs, int status, const char *content_type, const char *body,
              size_t len)
{
    char *copy = arena_strndup(rs->arena, body, len);

    if (copy == NULL) {
        rs->status = 500;
        rs->content_type = RESP_JSON;
        rs->body = "{\"detail\":\"Internal Server Error\"}";
        rs->body_len = strlen(rs->body);
        return 500;
    }
    rs->status = status;
    rs->content_type = content_type;
    rs->body = copy;
    rs->body_len = len;
    return status;
}

int resp_json_text(struct resp *rs, int status, const char *text, size_t len)
{
    return resp_body(rs, status, RESP_JSON, text, len);
}

int resp_json(struct resp *rs, int status, struct json_object *obj)
{
    size_t len;
    const char *s = jsonx_to_string(obj, &len);

    return resp_json_text(rs, status, s, len);
}

int resp_empty(struct resp *rs, int status)
{
    rs->status = status;
    rs->content_type = NULL;
    rs->body = NULL;
    rs->body_len = 0;
    return status;
}

int resp_error(struct resp *rs, int status, const char *detail)
{
    json_object *o = json_object_new_object();
    int ret;

    if (o == NULL)
        return resp_body(rs, 500, RESP_JSON, NULL, 0);
    json_object_object_add(o, "detail", json_object_new_string(detail));
    ret = resp_json(rs, status, o);
    json_object_put(o);
    return ret;
}

int resp_unauthorized(struct resp *rs, const char *detail)
{
    resp_header(rs, "WWW-Authenticate", "Bearer");
    return resp_error(rs, 401, detail ? detail : "Could not validate credentials");
}

const char *resp_reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}
