/* req: one HTTP request as handlers see it, independent of FastCGI.
 * fcgi_io.c fills it from FastCGI params and stdin; unit tests fill it by hand.
 * All strings live in the request's arena. Also the pure parsers behind it:
 * percent-decoding and query/form parsing. */
#ifndef GUILD_REQ_H
#define GUILD_REQ_H

#include <stdbool.h>
#include <stddef.h>

struct app;
struct arena;
struct user;
struct cache_prefetch;

#define REQ_BODY_MAX (64 * 1024)
#define REQ_MAX_PATH_PARAMS 4

struct req_param {
    const char *name;
    const char *value;
    size_t value_len; /* values may hold NUL bytes after decoding */
};

struct auth_user {
    long long id;
    const char *username;
    bool is_admin;
    bool is_active;
    const char *jti;
    long long exp;
};

struct req {
    struct arena *arena;
    struct app *app;
    const char *method;
    const char *path;  /* decoded, without query string or trailing slash */
    const char *query; /* raw, "" when absent */
    const char *content_type;
    const char *request_id;
    const char *remote_addr;
    const char *client_ip; /* remote_addr, or X-Forwarded-For from a trusted proxy */
    char *const *env; /* FastCGI params as "NAME=value" (headers are HTTP_*) */
    const char *body;
    size_t body_len;
    struct req_param *query_params;
    size_t nquery;
    const char *path_params[REQ_MAX_PATH_PARAMS];
    size_t npath_params;
    struct auth_user *user;  /* set by the dispatcher for authenticated routes */
    struct user *account;    /* the caller's full row, loaded with the token check */
    const char *cache_state; /* "hit" | "miss" | "bypass" | NULL, for the log line */
    struct cache_prefetch *cache_pf; /* a cache lookup in flight (cache.h) */
};

/* Decodes %XX (and '+' as space when plus_is_space) from src[0..len) into dst,
 * which needs len+1 bytes. Returns the decoded length, or -1 on a malformed
 * escape. dst is NUL-terminated. */
long req_url_decode(char *dst, const char *src, size_t len, bool plus_is_space);

/* Parses "a=1&b=2" (query string or form body) into an arena array.
 * Empty pairs are skipped; a key without '=' gets "". Returns 0, or -1 on a
 * malformed escape or arena exhaustion. */
int req_parse_urlencoded(struct arena *a, const char *s, size_t len, struct req_param **out,
                         size_t *n);

/* The first value of name in params, or NULL. */
const struct req_param *req_param_find(const struct req_param *params, size_t n,
                                       const char *name);

/* The query parameter's value (first occurrence) or NULL. */
const char *req_query(const struct req *rq, const char *name);

/* A request header by its HTTP name ("Authorization", "If-None-Match"),
 * case-insensitive, or NULL. */
const char *req_header(const struct req *rq, const char *name);

/* The path parameter at index i (in pattern order), or NULL. */
const char *req_path_param(const struct req *rq, size_t i);

/* True when the Content-Type's media type is application/json. */
bool req_is_json(const struct req *rq);

#endif
