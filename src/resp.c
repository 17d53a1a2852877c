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

int resp_header(struct resp *rs, const char *name, const char *fmt, ...)
{
    va_list ap;
    char *value, *line;
    size_t n;

    va_start(ap, fmt);
    value = arena_vsprintf(rs->arena, fmt, ap);
    va_end(ap);
    if (value == NULL)
        return -1;
    n = rs->headers_len + strlen(name) + strlen(value) + 5;
    if ((line = arena_alloc(rs->arena, n)) == NULL)
        return -1;
    if (rs->headers_len)
        memcpy(line, rs->headers, rs->headers_len);
    rs->headers_len += (size_t)sprintf(line + rs->headers_len, "%s: %s\r\n", name, value);
    rs->headers = line;
    return 0;
}

void resp_clear_headers(struct resp *rs)
{
    rs->headers = NULL;
    rs->headers_len = 0;
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
