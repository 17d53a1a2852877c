/* jsonx: see jsonx.h. */
#include "jsonx.h"

#include <ctype.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

bool jsonx_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;

    while (i < len) {
        unsigned c = s[i];
        size_t n;
        unsigned cp;

        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            n = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += n + 1;
    }
    return true;
}

/* json-c's strict mode still lets through single-quoted strings, raw control
 * characters inside strings, "1." and NaN/Infinity. This scan rejects them,
 * so a body is valid exactly when Python's json.loads (minus NaN) takes it. */
/* The 4 hex digits after "\\u" at s[i], or -1. */
static long hex4(const char *s, size_t len, size_t i)
{
    char buf[5];

    if (i + 6 > len || s[i] != '\\' || s[i + 1] != 'u')
        return -1;
    memcpy(buf, s + i + 2, 4);
    buf[4] = '\0';
    for (int k = 0; k < 4; k++)
        if (!isxdigit((unsigned char)buf[k]))
            return -1;
    return strtol(buf, NULL, 16);
}

/* A "\\uD8xx" escape must be followed by a "\\uDCxx" one, and a low
 * surrogate never stands alone: lone halves are not Unicode text. */
static bool surrogates_paired(const char *s, size_t len, size_t i)
{
    long cp = hex4(s, len, i);

    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return false;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        long lo = hex4(s, len, i + 6);
        return lo >= 0xDC00 && lo <= 0xDFFF;
    }
    return true;
}

static enum jsonx_rc lexically_strict(const char *buf, size_t len)
{
    bool in_str = false;
    int depth = 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];
        if (in_str) {
            if (c < 0x20)
                return JSONX_MALFORMED;
            if (c == '\\' && i + 1 < len && buf[i + 1] == 'u') {
                long cp = hex4(buf, len, i);
                if (!surrogates_paired(buf, len, i))
                    return JSONX_MALFORMED; /* json-c would turn it into U+FFFD */
                i += (cp >= 0xD800 && cp <= 0xDBFF) ? 11 : 1; /* past a whole pair */
            } else if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > JSONX_MAX_DEPTH)
                return JSONX_TOO_DEEP; /* containers only, as the header promises */
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == '.') {
            if (i + 1 >= len || buf[i + 1] < '0' || buf[i + 1] > '9')
                return JSONX_MALFORMED;
        } else if (c >= 0x80 || (isalpha(c) && strchr("truefalsn", c) == NULL && c != 'E') ||
                   c == '\'' || (c < 0x20 && c != ' ' && c != '\t' && c != '\n' && c != '\r')) {
            return JSONX_MALFORMED;
        }
    }
    return in_str ? JSONX_MALFORMED : JSONX_OK;
}

enum jsonx_rc jsonx_parse(const char *buf, size_t len, struct json_object **out)
{
    struct json_tokener *tok;
    json_object *obj;
    enum json_tokener_error jerr;
    size_t end;

    *out = NULL;
    if (!jsonx_utf8_valid(buf, len))
        return JSONX_BAD_UTF8;
    enum jsonx_rc lex = lexically_strict(buf, len);
    if (lex != JSONX_OK)
        return lex;
    /* json-c counts a scalar inside the innermost container as one more level */
    if ((tok = json_tokener_new_ex(JSONX_MAX_DEPTH + 1)) == NULL)
        return JSONX_MALFORMED;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    obj = json_tokener_parse_ex(tok, buf, (int)len);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);
    /* json_tokener_continue: the text ended inside a value. A number at the
     * very end is still open for json-c (more digits could follow), so one
     * blank closes it, as a trailing newline would: "42" and "42\n" parse
     * alike (found by fuzz/fuzz_json). A truncated text stays unfinished. */
    if (jerr == json_tokener_continue && obj == NULL) {
        obj = json_tokener_parse_ex(tok, " ", 1);
        jerr = json_tokener_get_error(tok);
        end = len; /* all of buf was consumed by the first call */
    }
    json_tokener_free(tok);
    if (jerr == json_tokener_error_depth) {
        json_object_put(obj);
        return JSONX_TOO_DEEP;
    }
    if (jerr != json_tokener_success || obj == NULL) {
        json_object_put(obj);
        return JSONX_MALFORMED;
    }
    for (; end < len; end++) {
        if (buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\r' && buf[end] != '\n') {
            json_object_put(obj);
            return JSONX_MALFORMED;
        }
    }
    *out = obj;
    return JSONX_OK;
}

const char *jsonx_to_string(struct json_object *obj, size_t *len)
{
    return json_object_to_json_string_length(
        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

struct json_object *jsonx_new_rounded(double v, int decimals)
{
    char buf[64];
    int n;

    if (!isfinite(v))
        v = 0.0;
    /* printf rounds the exact binary value, ties to even: the same digits as
     * Python's round(v, decimals) (2.675 -> 2.67, 0.125 -> 0.12) */
    n = snprintf(buf, sizeof(buf), "%.*f", decimals, v);
    if (n <= 0 || n >= (int)sizeof(buf))
        return json_object_new_double(0.0);
    if (strchr(buf, '.') != NULL) /* drop trailing zeros, keep "x.0" as Python prints */
        while (buf[n - 1] == '0' && buf[n - 2] != '.')
            buf[--n] = '\0';
    else {
        buf[n++] = '.';
        buf[n++] = '0';
        buf[n] = '\0';
    }
    if (strcmp(buf, "-0.0") == 0)
        memmove(buf, buf + 1, 4);
    return json_object_new_double_s(strtod(buf, NULL), buf);
}

struct json_object *jsonx_new_time(long long t)
{
    char buf[32];
    struct tm tm;
    time_t tt = (time_t)t;

    if (t < 0 || gmtime_r(&tt, &tm) == NULL)
        return NULL; /* json-c serializes a NULL child as null */
    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return json_object_new_string(buf);
}
