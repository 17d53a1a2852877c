/* router: the one static route table (method, path pattern, auth, handler)
 * and the matcher. Patterns are literal segments or "{name}", which matches
 * any one non-empty segment (handlers validate its syntax, so "abc" as an id
 * is a 422, not a 404). Literal routes are listed before parameter routes
 * ("/api/users/me" before "/api/users/{id}"). Trailing slashes never matter. */
#ifndef GUILD_ROUTER_H
#define GUILD_ROUTER_H

#include <stddef.h>

struct req;
struct resp;
struct cache_spec;

typedef int (*handler_fn)(struct req *rq, struct resp *rs);

enum route_auth {
    AUTH_NONE,  /* public */
    AUTH_USER,  /* a valid bearer token of an active user */
    AUTH_ADMIN, /* ... who is an admin */
};

struct route {
    const char *method;
    const char *pattern;
    enum route_auth auth;
    handler_fn handler;
    const char *name; /* stable label for logs and metrics, e.g. "users.get" */
    const struct cache_spec *cache; /* read-through cached when set (GET only) */
    int policy;                     /* rate-limit policy: enum guard_policy */
};

enum router_rc { ROUTER_FOUND, ROUTER_NOT_FOUND, ROUTER_BAD_METHOD };

/* Matches method + path against table[0..n). On ROUTER_FOUND sets *out and
 * stores up to max_params pointers to "{...}" segments in params (copied into
 * param_buf, which needs strlen(path)+1 bytes). On ROUTER_BAD_METHOD writes
 * the Allow list ("GET, POST") into allow. */
enum router_rc router_match(const struct route *table, size_t n, const char *method,
                            const char *path, const struct route **out, const char **params,
                            size_t max_params, size_t *nparams, char *param_buf, char *allow,
                            size_t allow_sz);

/* The application's route table. */
const struct route *router_routes(size_t *n);

#endif
