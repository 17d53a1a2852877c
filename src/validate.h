/* validate: the contract's 422 answers and the input rules behind them.
 * Errors are collected (FastAPI reports every failing field at once) and
 * turned into {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}.
 * Integer parsing is strict: decimal digits only, range-checked, no aliases
 * ("0x10", "1e3", " 1", "+1" are all rejected). */
#ifndef GUILD_VALIDATE_H
#define GUILD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

struct resp;

#define VALIDATE_MAX_ERRORS 16

struct verr {
    const char *loc0; /* "body", "query", "path" */
    const char *loc1; /* field name, or NULL for the whole body */
    const char *type;
    const char *msg;
};

struct verrs {
    struct verr items[VALIDATE_MAX_ERRORS];
    size_t n;
};

/* Records one error (extra ones past the limit are dropped). */
void verrs_add(struct verrs *v, const char *loc0, const char *loc1, const char *type,
               const char *msg);

/* 422 with every collected error; returns 422. */
int resp_validation(struct resp *rs, const struct verrs *v);

/* 422 with a single error; returns 422. */
int resp_invalid(struct resp *rs, const char *loc0, const char *loc1, const char *type,
                 const char *msg);

/* The answer to a query string (where "query") or form body (where "body")
 * that req_parse_urlencoded refused with rc: a value holding NUL or invalid
 * UTF-8 is a 422 naming its field; anything else malformed is 400 for a
 * query string, 422 for a body. Returns the status. */
int resp_urlencoded_refused(struct resp *rs, const char *where, int rc, const char *field);

/* A username's one spelling as the database compares it: the users.username
 * column's collation (utf8mb4_bin, PAD SPACE) ignores trailing spaces, so
 * "victim" and "victim" + 249 spaces name one row. Returns name's length
 * without them; whatever keys per-account state (the login limiter) must
 * use only that prefix. */
size_t validate_username_canonical_len(const char *name);

/* Parses a strict decimal integer (optional leading '-') in [min, max].
 * Returns 0, -1 when it is not an integer, -2 when out of range. */
int validate_int(const char *s, long long min, long long max, long long *out);

/* Path id: a positive 64-bit decimal. Returns 0 (valid, *id set), -1 when
 * the text is not an integer (422), or 1 when it is an integer that can name
 * no row (0, negative, beyond 64 bits: 404). */
int validate_path_id(const char *s, long long *id);

#endif
