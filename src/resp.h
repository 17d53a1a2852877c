/* resp: the response a handler builds: status, extra headers, body bytes.
 * Only fcgi_io.c turns it into FastCGI output. Every helper returns the HTTP
 * status it set, so a handler can `return resp_error(rs, 404, "...")`.
 * Error bodies have exactly the contract's shapes: {"detail": "..."}. */
#ifndef GUILD_RESP_H
#define GUILD_RESP_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;

#define RESP_JSON "application/json; charset=utf-8"

struct resp {
    struct arena *arena;
    int status;
    const char *content_type; /* NULL for bodiless answers */
    const char *body;
    size_t body_len;
    char *headers; /* "Name: value\r\n" lines, in the arena */
    size_t headers_len;
    size_t headers_cap; /* bytes allocated at headers */
};

void resp_init(struct resp *rs, struct arena *a);

/* Adds a header line; returns 0, or -1 on arena exhaustion. Values must not
 * contain CR/LF (callers pass server-made values only). */
int resp_header(struct resp *rs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Drops every extra header added so far. */
void resp_clear_headers(struct resp *rs);

/* True when the response already carries a header of that name. */
bool resp_has_header(const struct resp *rs, const char *name);

/* Serializes obj (not consumed) as the JSON body. Returns status, or 500 when
 * the arena is exhausted. */
int resp_json(struct resp *rs, int status, struct json_object *obj);

/* Uses already-serialized JSON bytes as the body (copied into the arena). */
int resp_json_text(struct resp *rs, int status, const char *text, size_t len);

/* A body of any type (copied). */
int resp_body(struct resp *rs, int status, const char *content_type, const char *body,
              size_t len);

/* A bodiless answer (204, 304). */
int resp_empty(struct resp *rs, int status);

/* {"detail": detail} with the given status. */
int resp_error(struct resp *rs, int status, const char *detail);

/* 401 "Could not validate credentials" with WWW-Authenticate: Bearer. */
int resp_unauthorized(struct resp *rs, const char *detail);

/* The reason phrase of a status for the Status: line. */
const char *resp_reason(int status);

#endif
