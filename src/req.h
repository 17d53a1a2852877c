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
    size_t value_len; /* == strlen(value): the parser refuses decoded NULs */
};

struct auth_user {
    long long id;
    const char *username;
    bool is_admin;
    bool is_active;
    const char *jti;
    long long exp;
    long long auth_time; /* the token chain's start: when the password was presented */
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
    int query_rc;           /* req_parse_urlencoded's verdict on the query string */
    const char *query_bad;  /* the field it refused, if it named one */
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

/* Why req_parse_urlencoded refused its input. Every name and value it
 * returns is a C string that means exactly its decoded bytes: a decoded NUL
 * would make the C string stop early (limit=3%00zz read as 3), so it is
 * refused here, the one place every query string and form body goes through. */
enum req_parse_rc {
    REQ_PARSE_OK = 0,
    REQ_PARSE_MALFORMED = -1, /* bad escape; a name with NUL or bad UTF-8; no memory */
    REQ_PARSE_NUL = -2,       /* a decoded value holds a NUL byte: *bad names its field */
    REQ_PARSE_UTF8 = -3,      /* a decoded value is not valid UTF-8: *bad names its field */
};

/* Parses "a=1&b=2" (query string or form body) into an arena array.
 * Empty pairs are skipped; a key without '=' gets "". Returns REQ_PARSE_OK
 * or the reason it refused; bad (may be NULL) gets the offending field's
 * name for REQ_PARSE_NUL and REQ_PARSE_UTF8. */
int req_parse_urlencoded(struct arena *a, const char *s, size_t len, struct req_param **out,
                         size_t *n, const char **bad);

/* The value of name in params, or NULL. A repeated name answers its last
 * value, as the reference implementation (Starlette) does. */
const struct req_param *req_param_find(const struct req_param *params, size_t n,
                                       const char *name);

/* The query parameter's value (last occurrence) or NULL. */
const char *req_query(const struct req *rq, const char *name);

/* A request header by its HTTP name ("Authorization", "If-None-Match"),
 * case-insensitive, or NULL. */
const char *req_header(const struct req *rq, const char *name);

/* The path parameter at index i (in pattern order), or NULL. */
const char *req_path_param(const struct req *rq, size_t i);

/* True when the Content-Type's media type is application/json. */
bool req_is_json(const struct req *rq);

#endif
