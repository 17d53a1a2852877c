/* fuzz_input: libFuzzer harness for everything that reads client bytes
 * before a handler sees them: JSON bodies (strict parse, then the typed field
 * readers), urlencoded query/form parsing and percent-decoding, path routing,
 * integer and id validation, If-None-Match lists, session ids, and the
 * X-Forwarded-For walk. The first input byte picks the target. Built and run
 * by fuzz/run.sh with ASan + UBSan. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "body.h"
#include "cache.h"
#include "clientip.h"
#include "jsonx.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "sessions.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_json(struct arena *a, const char *s, size_t n)
{
    struct verrs v = {.n = 0};
    json_object *o = NULL;
    const char *str;
    long long i;
    bool present, b, is_null;

    if (jsonx_parse(s, n, &o) != JSONX_OK)
        return;
    if (json_object_is_type(o, json_type_object)) {
        body_str(a, o, "username", true, false, 3, 50, &v, &str, NULL);
        body_str(a, o, "full_name", false, true, 0, 255, &v, &str, &is_null);
        if (str != NULL)
            (void)body_email_valid(str);
        body_int(a, o, "mission_id", 1, 13, true, &v, &i, &present);
        body_bool(o, "is_active", &v, &b, &present);
    }
    (void)jsonx_to_string(o, &n);
    json_object_put(o);
}

static void fuzz_query(struct arena *a, const char *s, size_t n)
{
    struct req rq;
    struct verrs v = {.n = 0};
    long long i;
    double d;

    memset(&rq, 0, sizeof(rq));
    rq.arena = a;
    if (req_parse_urlencoded(a, s, n, &rq.query_params, &rq.nquery) != 0)
        return;
    query_int(a, &rq, "limit", 10, 1, 100, &v, &i);
    query_number(a, &rq, "score", 100, 0, 100, &v, &d);
    (void)req_query(&rq, "pattern");
}

static void fuzz_route(struct arena *a, const char *s)
{
    size_t n, np;
    const struct route *table = router_routes(&n), *r;
    const char *params[REQ_MAX_PATH_PARAMS];
    char allow[64], *buf = arena_alloc(a, strlen(s) + 1);
    long long id;

    if (buf == NULL)
        return;
    (void)router_match(table, n, "GET", s, &r, params, REQ_MAX_PATH_PARAMS, &np, buf, allow,
                       sizeof(allow));
    (void)validate_path_id(s, &id);
    (void)sessions_id_valid(s);
}

static void fuzz_headers(const char *s)
{
    char ip[64];

    (void)cache_etag_matches(s, "\"0123456789abcdef0123456789abcdef\"");
    clientip_resolve("127.0.0.2", s, "127.0.0.0/8, 10.0.0.0/8, ::1", ip, sizeof(ip));
    (void)clientip_in_list(s, "10.0.0.0/8, 2001:db8::/32");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena a;
    char *s;

    if (size < 1 || size > 70000)
        return 0;
    arena_init(&a, 8u << 20);
    if ((s = arena_strndup(&a, (const char *)data + 1, size - 1)) == NULL)
        goto out;
    switch (data[0] % 4) {
    case 0: fuzz_json(&a, (const char *)data + 1, size - 1); break;
    case 1: fuzz_query(&a, s, size - 1); break;
    case 2: fuzz_route(&a, s); break;
    default: fuzz_headers(s); break;
    }
out:
    arena_cleanup(&a);
    return 0;
}
