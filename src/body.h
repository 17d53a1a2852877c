/* body: request bodies and query parameters as typed, validated fields.
 * Each getter records a FastAPI-shaped error in struct verrs instead of
 * failing at once, so one 422 lists every bad field. Messages and types
 * follow pydantic v2 ("missing", "string_type", "string_too_short", ...). */
#ifndef GUILD_BODY_H
#define GUILD_BODY_H

#include <stdbool.h>
#include <stddef.h>

struct arena;
struct json_object;
struct req;
struct resp;
struct verrs;

/* Parses the body as a JSON object (the route requires one). Returns 0 with
 * *out a new reference (caller puts), or the status after filling rs: 422 for
 * a non-JSON content type, an empty or malformed body, invalid UTF-8, or a
 * value that is not an object. */
int body_json_object(struct req *rq, struct resp *rs, struct json_object **out);

/* A string field of characters (code points) in [min, max]. Absent: *out
 * NULL, and an error only when required. JSON null: allowed when nullable
 * (*is_null set), else an error. */
void body_str(struct arena *a, struct json_object *o, const char *field, bool required,
              bool nullable, size_t min, size_t max, struct verrs *v, const char **out,
              bool *is_null);

/* An integer field in [min, max]. Like pydantic's lax mode, 3, 3.0 and "3"
 * are accepted; 1.5, "1.5", true and null are errors. *present tells whether
 * it was given. */
void body_int(struct arena *a, struct json_object *o, const char *field, long long min,
              long long max, bool required, struct verrs *v, long long *out, bool *present);

/* A boolean field (JSON true/false only). */
void body_bool(struct json_object *o, const char *field, struct verrs *v, bool *out,
               bool *present);

/* A query parameter as an integer in [min, max], defaulting to def when
 * absent. Errors go to v with loc ["query", name]. */
void query_int(struct arena *a, const struct req *rq, const char *name, long long def,
               long long min, long long max, struct verrs *v, long long *out);

/* A number (int or decimal) query parameter in [min, max]. */
void query_number(struct arena *a, const struct req *rq, const char *name, double def,
                  double min, double max, struct verrs *v, double *out);

/* Number of UTF-8 code points in s (s is valid UTF-8). */
size_t body_utf8_chars(const char *s, size_t len);

/* True when s contains a control character (C0, DEL or C1). */
bool body_has_control(const char *s, size_t len);

/* Loose RFC 5321 syntax check: local@domain, dot-atoms, a dotted domain of
 * letters/digits/hyphens with a 2+ letter TLD, at most 255 bytes (the contract's limit). */
bool body_email_valid(const char *s);

#endif
