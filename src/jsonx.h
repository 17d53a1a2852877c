/* jsonx: json-c helpers: strict, bounded parsing of request bodies and the
 * one serialization format every answer uses (compact, "/" not escaped).
 * Never trusts json-c's silent type coercions: callers check types. */
#ifndef GUILD_JSONX_H
#define GUILD_JSONX_H

#include <stdbool.h>
#include <stddef.h>

struct json_object;

#define JSONX_MAX_DEPTH 32

enum jsonx_rc { JSONX_OK = 0, JSONX_MALFORMED = -1, JSONX_BAD_UTF8 = -2, JSONX_TOO_DEEP = -3 };

/* Parses exactly buf[0..len) as one JSON value (trailing blanks allowed),
 * rejecting invalid UTF-8 and nesting deeper than JSONX_MAX_DEPTH.
 * On JSONX_OK *out is a new reference the caller puts. */
enum jsonx_rc jsonx_parse(const char *buf, size_t len, struct json_object **out);

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * no NUL byte). */
bool jsonx_utf8_valid(const char *s, size_t len);

/* The compact text of obj; the string belongs to obj. */
const char *jsonx_to_string(struct json_object *obj, size_t *len);

/* A double that serializes with at most `decimals` decimals, as Python's
 * round() output would print (12.35, 0.0, 100.0). New reference. */
struct json_object *jsonx_new_rounded(double v, int decimals);

/* An ISO 8601 UTC time ("2026-11-25T17:12:18Z"), or JSON null when t < 0. */
struct json_object *jsonx_new_time(long long t);

#endif
