/* validate: see validate.h. */
#include "validate.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "req.h"
#include "resp.h"

void verrs_add(struct verrs *v, const char *loc0, const char *loc1, const char *type,
               const char *msg)
{
    if (v->n >= VALIDATE_MAX_ERRORS)
        return;
    v->items[v->n].loc0 = loc0;
    v->items[v->n].loc1 = loc1;
    v->items[v->n].type = type;
    v->items[v->n].msg = msg;
    v->n++;
}

int resp_validation(struct resp *rs, const struct verrs *v)
{
    json_object *root = json_object_new_object(), *list = json_object_new_array();
    int ret;

    for (size_t i = 0; root && list && i < v->n; i++) {
        json_object *e = json_object_new_object(), *loc = json_object_new_array();
        json_object_array_add(loc, json_object_new_string(v->items[i].loc0));
        if (v->items[i].loc1 != NULL)
            json_object_array_add(loc, json_object_new_string(v->items[i].loc1));
        json_object_object_add(e, "loc", loc);
        json_object_object_add(e, "msg", json_object_new_string(v->items[i].msg));
        json_object_object_add(e, "type", json_object_new_string(v->items[i].type));
        json_object_array_add(list, e);
    }
    json_object_object_add(root, "detail", list);
    ret = resp_json(rs, 422, root);
    json_object_put(root);
    return ret;
}

int resp_invalid(struct resp *rs, const char *loc0, const char *loc1, const char *type,
                 const char *msg)
{
    struct verrs v = {.n = 0};

    verrs_add(&v, loc0, loc1, type, msg);
    return resp_validation(rs, &v);
}

int resp_urlencoded_refused(struct resp *rs, const char *where, int rc, const char *field)
{
    bool query = strcmp(where, "query") == 0;

    if (rc == REQ_PARSE_NUL && field != NULL)
        return resp_invalid(rs, where, field, "string_pattern_mismatch",
                            "Value must not contain NUL characters");
    if (rc == REQ_PARSE_UTF8 && field != NULL)
        return resp_invalid(rs, where, field, "string_unicode",
                            "Input should be a valid string, unable to parse raw data as a "
                            "unicode string");
    if (query)
        return resp_error(rs, 400, "Malformed query string");
    return resp_invalid(rs, where, NULL, "value_error", "Malformed form body");
}

size_t validate_username_canonical_len(const char *name)
{
    size_t n = strlen(name);

    while (n > 0 && name[n - 1] == ' ')
        n--;
    return n;
}

int validate_int(const char *s, long long min, long long max, long long *out)
{
    const char *p = s;
    long long v;
    char *end;

    if (s == NULL || *s == '\0')
        return -1;
    if (*p == '-')
        p++;
    if (*p == '\0')
        return -1;
    for (; *p; p++)
        if (!isdigit((unsigned char)*p))
            return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno == ERANGE || v < min || v > max)
        return -2;
    *out = v;
    return 0;
}

int validate_path_id(const char *s, long long *id)
{
    int rc = validate_int(s, 1, LLONG_MAX, id);

    if (rc == -1)
        return -1;
    return rc == 0 ? 0 : 1;
}
