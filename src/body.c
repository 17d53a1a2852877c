/* body: see body.h. */
#include "body.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "jsonx.h"
#include "req.h"
#include "resp.h"
#include "validate.h"

int body_json_object(struct req *rq, struct resp *rs, struct json_object **out)
{
    json_object *o = NULL;

    *out = NULL;
    if (rq->body_len == 0)
        return resp_invalid(rs, "body", NULL, "missing", "Field required");
    if (!req_is_json(rq))
        return resp_invalid(rs, "body", NULL, "model_attributes_type",
                            "Input should be a valid dictionary or object to extract fields "
                            "from (send Content-Type: application/json)");
    switch (jsonx_parse(rq->body, rq->body_len, &o)) {
    case JSONX_OK:
        break;
    case JSONX_BAD_UTF8:
        return resp_invalid(rs, "body", NULL, "json_invalid", "JSON decode error: invalid UTF-8");
    case JSONX_TOO_DEEP:
        return resp_invalid(rs, "body", NULL, "json_invalid", "JSON decode error: nested too deep");
    default:
        return resp_invalid(rs, "body", NULL, "json_invalid", "JSON decode error");
    }
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return resp_invalid(rs, "body", NULL, "model_attributes_type",
                            "Input should be a valid dictionary or object to extract fields from");
    }
    *out = o;
    return 0;
}

size_t body_utf8_chars(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

bool body_has_control(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;

    for (size_t i = 0; i < len; i++) {
        if (u[i] < 0x20 || u[i] == 0x7F)
            return true;
        if (u[i] == 0xC2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9F)
            return true; /* C1 controls U+0080..U+009F */
    }
    return false;
}

void body_str(struct arena *a, struct json_object *o, const char *field, bool required,
              bool nullable, size_t min, size_t max, struct verrs *v, const char **out,
              bool *is_null)
{
    json_object *f;
    const char *s;
    size_t len, chars;

    *out = NULL;
    if (is_null != NULL)
        *is_null = false;
    if (!json_object_object_get_ex(o, field, &f)) {
        if (required)
            verrs_add(v, "body", field, "missing", "Field required");
        return;
    }
    if (f == NULL) { /* JSON null: "not given" for an optional field */
        if (nullable) {
            if (is_null != NULL)
                *is_null = true;
        } else
            verrs_add(v, "body", field, "string_type", "Input should be a valid string");
        return;
    }
    if (!json_object_is_type(f, json_type_string)) {
        verrs_add(v, "body", field, "string_type", "Input should be a valid string");
        return;
    }
    s = json_object_get_string(f);
    len = (size_t)json_object_get_string_len(f);
    if (memchr(s, '\0', len) != NULL) {
        verrs_add(v, "body", field, "string_pattern_mismatch", "String must not contain NUL");
        return;
    }
    chars = body_utf8_chars(s, len);
    if (chars < min) {
        verrs_add(v, "body", field, "string_too_short",
                  arena_sprintf(a, "String should have at least %zu character%s", min,
                                min == 1 ? "" : "s"));
        return;
    }
    if (chars > max) {
        verrs_add(v, "body", field, "string_too_long",
                  arena_sprintf(a, "String should have at most %zu characters", max));
        return;
    }
    *out = arena_strndup(a, s, len);
}

/* bound is already formatted: integers print in full (pydantic says
 * "1000000000000", not "1e+12") */
static void range_error(struct arena *a, struct verrs *v, const char *loc0, const char *field,
                        bool too_small, const char *bound)
{
    if (too_small)
        verrs_add(v, loc0, field, "greater_than_equal",
                  arena_sprintf(a, "Input should be greater than or equal to %s", bound));
    else
        verrs_add(v, loc0, field, "less_than_equal",
                  arena_sprintf(a, "Input should be less than or equal to %s", bound));
}

static void range_error_int(struct arena *a, struct verrs *v, const char *loc0,
                            const char *field, bool too_small, long long bound)
{
    range_error(a, v, loc0, field, too_small, arena_sprintf(a, "%lld", bound));
}

void body_int(struct arena *a, struct json_object *o, const char *field, long long min,
              long long max, bool required, struct verrs *v, long long *out, bool *present)
{
    json_object *f;
    long long val;

    *present = false;
    if (!json_object_object_get_ex(o, field, &f)) {
        if (required)
            verrs_add(v, "body", field, "missing", "Field required");
        return;
    }
    /* pydantic's lax mode, which existing clients rely on: 3, 3.0 and "3"
     * are the integer 3; 3.5, "3.5", true and null are errors */
    errno = 0;
    if (f != NULL && json_object_is_type(f, json_type_int)) {
        val = json_object_get_int64(f);
    } else if (f != NULL && json_object_is_type(f, json_type_double) &&
               isfinite(json_object_get_double(f)) &&
               floor(json_object_get_double(f)) == json_object_get_double(f) &&
               fabs(json_object_get_double(f)) < 9e18) {
        val = (long long)json_object_get_double(f);
    } else if (f != NULL && json_object_is_type(f, json_type_string) &&
               validate_int(json_object_get_string(f), LLONG_MIN, LLONG_MAX, &val) == 0) {
        ;
    } else {
        verrs_add(v, "body", field, "int_type", "Input should be a valid integer");
        return;
    }
    if (errno == ERANGE || val < min || val > max) {
        range_error_int(a, v, "body", field, val < min, val < min ? min : max);
        return;
    }
    *out = val;
    *present = true;
}

void body_bool(struct json_object *o, const char *field, struct verrs *v, bool *out,
               bool *present)
{
    json_object *f;

    *present = false;
    if (!json_object_object_get_ex(o, field, &f))
        return;
    if (f == NULL || !json_object_is_type(f, json_type_boolean)) {
        verrs_add(v, "body", field, "bool_type", "Input should be a valid boolean");
        return;
    }
    *out = json_object_get_boolean(f) != 0;
    *present = true;
}

void query_int(struct arena *a, const struct req *rq, const char *name, long long def,
               long long min, long long max, struct verrs *v, long long *out)
{
    const char *s = req_query(rq, name);
    long long val;

    *out = def;
    if (s == NULL)
        return;
    switch (validate_int(s, LLONG_MIN, LLONG_MAX, &val)) {
    case 0:
        break;
    case -2:
        val = s[0] == '-' ? LLONG_MIN : LLONG_MAX;
        break;
    default:
        verrs_add(v, "query", name, "int_parsing",
                  "Input should be a valid integer, unable to parse string as an integer");
        return;
    }
    if (val < min || val > max) {
        range_error_int(a, v, "query", name, val < min, val < min ? min : max);
        return;
    }
    *out = val;
}

void query_number(struct arena *a, const struct req *rq, const char *name, double def,
                  double min, double max, struct verrs *v, double *out)
{
    const char *s = req_query(rq, name);
    char *end;
    double val;

    *out = def;
    if (s == NULL)
        return;
    errno = 0;
    val = strtod(s, &end);
    if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' || errno == ERANGE ||
        !isfinite(val) || strpbrk(s, "xXnN") != NULL) {
        verrs_add(v, "query", name, "float_parsing",
                  "Input should be a valid number, unable to parse string as a number");
        return;
    }
    if (val < min || val > max) {
        range_error(a, v, "query", name, val < min, arena_sprintf(a, "%g", val < min ? min : max));
        return;
    }
    *out = val;
}

static bool atext(int c)
{
    return isalnum(c) || (c != 0 && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL) || c >= 0x80;
}

bool body_email_valid(const char *s)
{
    const char *at = strrchr(s, '@'), *p, *label, *tld = NULL;
    size_t len = strlen(s);

    if (at == NULL || at == s || len > 255 || (size_t)(at - s) > 64)
        return false;
    /* local part: dot-atom, no leading/trailing/double dots */
    for (p = s; p < at; p++) {
        if (*p == '.') {
            if (p == s || p + 1 == at || p[1] == '.')
                return false;
        } else if (!atext((unsigned char)*p)) {
            return false;
        }
    }
    /* domain: labels of letters/digits/hyphens, not starting/ending with '-' */
    label = at + 1;
    if (*label == '\0')
        return false;
    for (p = label;; p++) {
        if (*p == '.' || *p == '\0') {
            size_t n = (size_t)(p - label);
            if (n == 0 || n > 63 || label[0] == '-' || p[-1] == '-')
                return false;
            tld = label;
            if (*p == '\0')
                break;
            label = p + 1;
        } else if (!isalnum((unsigned char)*p) && *p != '-' && (unsigned char)*p < 0x80) {
            return false;
        }
    }
    if (tld == at + 1) /* no dot in the domain */
        return false;
    for (p = tld; *p; p++)
        if (!isalpha((unsigned char)*p) && (unsigned char)*p < 0x80)
            return false;
    return strlen(tld) >= 2;
}
