/* redis_sentinel: parsing for Sentinel discovery; see redis_sentinel.h.
 * Everything here is a pure function of its input, so the unit tests can
 * feed it every shape of list and reply without a Sentinel running. */
#include "redis_sentinel.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

/* One entry text[0..len) ("host:port" or "[v6]:port", trimmed) into *out. */
static int parse_entry(const char *text, size_t len, struct redis_sentinel_addr *out)
{
    const char *colon, *host = text, *end = text + len;
    size_t host_len;
    char port[8];

    if (len > 0 && text[0] == '[') {
        const char *close = memchr(text, ']', len);
        if (close == NULL || close + 1 >= end || close[1] != ':')
            return -1;
        host = text + 1;
        host_len = (size_t)(close - host);
        colon = close + 1;
    } else {
        colon = NULL;
        for (const char *p = text; p < end; p++)
            if (*p == ':')
                colon = p; /* the last one: an unbracketed IPv6 fails on its port */
        if (colon == NULL)
            return -1;
        host_len = (size_t)(colon - text);
    }
    if (host_len == 0 || host_len > REDIS_SENTINEL_HOST_MAX ||
        (size_t)(end - colon - 1) >= sizeof(port) || end - colon - 1 == 0)
        return -1;
    for (size_t i = 0; i < host_len; i++)
        if (host[i] == ' ' || host[i] == '\t' || host[i] == '[' || host[i] == ']' ||
            (host[i] == ':' && text[0] != '['))
            return -1;
    memcpy(port, colon + 1, (size_t)(end - colon - 1));
    port[end - colon - 1] = '\0';
    if (config_parse_int(port, 1, 65535, &out->port) != 0)
        return -1;
    memcpy(out->host, host, host_len);
    out->host[host_len] = '\0';
    return 0;
}

int redis_sentinel_list_parse(const char *s, struct redis_sentinel_addr *out, size_t max,
                              size_t *n, char *bad, size_t badsz)
{
    const char *p = s;

    *n = 0;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == '\0')
        return 0;
    for (;;) {
        const char *start = p, *comma = strchr(p, ',');
        const char *stop = comma ? comma : p + strlen(p);
        size_t len;

        while (start < stop && (*start == ' ' || *start == '\t'))
            start++;
        len = (size_t)(stop - start);
        while (len > 0 && (start[len - 1] == ' ' || start[len - 1] == '\t'))
            len--;
        if (*n >= max || parse_entry(start, len, &out[*n]) != 0) {
            snprintf(bad, badsz, "%.*s", (int)len, start);
            return -1;
        }
        (*n)++;
        if (comma == NULL)
            return 0;
        p = comma + 1;
    }
}

int redis_sentinel_master_parse(const struct redisReply *r, struct redis_sentinel_addr *out)
{
    const struct redisReply *h, *p;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2)
        return -1;
    h = r->element[0];
    p = r->element[1];
    if (h == NULL || p == NULL || h->type != REDIS_REPLY_STRING || p->type != REDIS_REPLY_STRING)
        return -1;
    if (h->len == 0 || h->len > REDIS_SENTINEL_HOST_MAX || memchr(h->str, '\0', h->len) != NULL)
        return -1;
    if (config_parse_int(p->str, 1, 65535, &out->port) != 0)
        return -1;
    memcpy(out->host, h->str, h->len);
    out->host[h->len] = '\0';
    return 0;
}

bool redis_sentinel_role_is_master(const struct redisReply *r)
{
    const struct redisReply *first;

    if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements < 1)
        return false;
    first = r->element[0];
    return first != NULL &&
           (first->type == REDIS_REPLY_STRING || first->type == REDIS_REPLY_STATUS) &&
           first->len == 6 && memcmp(first->str, "master", 6) == 0;
}

static bool has_code(const char *s, size_t len, const char *code)
{
    size_t n = strlen(code);

    return len >= n && memcmp(s, code, n) == 0 && (len == n || s[n] == ' ');
}

bool redis_sentinel_is_failover_error(const struct redisReply *r)
{
    if (r == NULL || r->type != REDIS_REPLY_ERROR || r->str == NULL)
        return false;
    /* Redis 7 passes a script's write refusal through with its own code
     * ("READONLY You can't write ... script: ..."); older servers wrap it
     * as "ERR Error running script ... -READONLY ...". */
    return has_code(r->str, r->len, "READONLY") || has_code(r->str, r->len, "MASTERDOWN") ||
           has_code(r->str, r->len, "LOADING") || has_code(r->str, r->len, "NOREPLICAS") ||
           (has_code(r->str, r->len, "ERR") && strstr(r->str, "-READONLY") != NULL);
}
