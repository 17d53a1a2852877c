/* req: request accessors and the urlencoded parsers; see req.h.
 * Pure functions over memory: no FastCGI here, so all of it is unit-tested. */
#include "req.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "jsonx.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

long req_url_decode(char *dst, const char *src, size_t len, bool plus_is_space)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (src[i] == '%') {
            int hi, lo;
            if (i + 2 >= len || (hi = hexval((unsigned char)src[i + 1])) < 0 ||
                (lo = hexval((unsigned char)src[i + 2])) < 0)
                return -1;
            dst[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else if (src[i] == '+' && plus_is_space) {
            dst[o++] = ' ';
        } else {
            dst[o++] = src[i];
        }
    }
    dst[o] = '\0';
    return (long)o;
}

static size_t count_pairs(const char *s, size_t len)
{
    size_t n = 1;

    for (size_t i = 0; i < len; i++)
        if (s[i] == '&')
            n++;
    return n;
}

int req_parse_urlencoded(struct arena *a, const char *s, size_t len, struct req_param **out,
                         size_t *n, const char **bad)
{
    struct req_param *params;
    size_t cap, count = 0, start = 0;

    *out = NULL;
    *n = 0;
    if (bad != NULL)
        *bad = NULL;
    if (s == NULL || len == 0)
        return REQ_PARSE_OK;
    cap = count_pairs(s, len);
    if ((params = arena_alloc(a, cap * sizeof(*params))) == NULL)
        return REQ_PARSE_MALFORMED;
    while (start <= len) {
        const char *amp = memchr(s + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - s) : len;
        const char *eq = memchr(s + start, '=', end - start);
        size_t klen = eq ? (size_t)(eq - (s + start)) : end - start;
        size_t vlen = eq ? end - start - klen - 1 : 0;

        if (end > start) {
            char *k = arena_alloc(a, klen + 1), *v = arena_alloc(a, vlen + 1);
            long kl, vl;
            if (k == NULL || v == NULL)
                return REQ_PARSE_MALFORMED;
            kl = req_url_decode(k, s + start, klen, true);
            vl = req_url_decode(v, eq ? eq + 1 : "", vlen, true);
            /* a name that is no text names no field we could report */
            if (kl < 0 || vl < 0 || !jsonx_utf8_valid(k, (size_t)kl))
                return REQ_PARSE_MALFORMED;
            if (!jsonx_utf8_valid(v, (size_t)vl)) {
                if (bad != NULL)
                    *bad = k;
                return memchr(v, '\0', (size_t)vl) != NULL ? REQ_PARSE_NUL : REQ_PARSE_UTF8;
            }
            params[count].name = k;
            params[count].value = v;
            params[count].value_len = (size_t)vl;
            count++;
        }
        start = end + 1;
    }
    *out = params;
    *n = count;
    return REQ_PARSE_OK;
}

const struct req_param *req_param_find(const struct req_param *params, size_t n, const char *name)
{
    for (size_t i = n; i-- > 0;)
        if (strcmp(params[i].name, name) == 0)
            return &params[i];
    return NULL;
}

const char *req_query(const struct req *rq, const char *name)
{
    const struct req_param *p = req_param_find(rq->query_params, rq->nquery, name);

    return p ? p->value : NULL;
}

const char *req_header(const struct req *rq, const char *name)
{
    char key[128] = "HTTP_";
    size_t i, n = 5;

    if (rq->env == NULL)
        return NULL;
    for (i = 0; name[i] != '\0' && n < sizeof(key) - 1; i++)
        key[n++] = name[i] == '-' ? '_' : (char)toupper((unsigned char)name[i]);
    key[n] = '\0';
    if (strcasecmp(name, "Content-Type") == 0)
        return rq->content_type;
    for (char *const *e = rq->env; *e != NULL; e++)
        if (strncmp(*e, key, n) == 0 && (*e)[n] == '=')
            return *e + n + 1;
    return NULL;
}

const char *req_path_param(const struct req *rq, size_t i)
{
    return i < rq->npath_params ? rq->path_params[i] : NULL;
}

bool req_is_json(const struct req *rq)
{
    const char *ct = rq->content_type;
    size_t n = strlen("application/json");

    if (ct == NULL)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}
