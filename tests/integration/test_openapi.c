/* Integration: web/openapi.json against the responder's route table. The
 * first test needs no server: every route is documented with its method and
 * bearer requirement, and every documented API or meta operation is routed.
 * The second (only with BASE_URL) checks nginx serves the same document. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http.h"
#include "router.h"
#include "testutil.h"

#ifndef GUILD_OPENAPI_PATH
#define GUILD_OPENAPI_PATH "web/openapi.json"
#endif

/* Paths nginx or the static pages serve outside the route table: documented,
 * but exempt from "every documented operation is routed". */
static const char *const NON_API[] = {"/docs", "/redoc", "/dashboard", "/openapi.json", "/metrics",
                                      NULL};

static const char *const METHODS[] = {"get", "put", "post", "delete", "patch", "head", "options",
                                      "trace", NULL};

static json_object *doc;

static int load_doc(void)
{
    doc = json_object_from_file(GUILD_OPENAPI_PATH);
    if (doc == NULL)
        fprintf(stderr, "cannot read %s: %s\n", GUILD_OPENAPI_PATH, json_util_get_last_err());
    return 0; /* the tests assert on doc, so a missing file is a failure, not a suite error */
}

static int free_doc(void)
{
    json_object_put(doc);
    doc = NULL;
    return 0;
}

/* Copies path with every "{name}" segment as "{}" and no trailing slash
 * ("/" stays "/"), so "/api/users/{id}/" and "/api/users/{user_id}" agree. */
static void norm_path(const char *path, char *out, size_t sz)
{
    size_t o = 0;
    const char *p = path;

    while (*p != '\0' && o + 3 < sz) {
        if (*p == '{' && (p == path || p[-1] == '/')) {
            const char *close = strchr(p, '}');
            if (close != NULL && (close[1] == '/' || close[1] == '\0')) {
                out[o++] = '{';
                out[o++] = '}';
                p = close + 1;
                continue;
            }
        }
        out[o++] = *p++;
    }
    while (o > 1 && out[o - 1] == '/')
        o--;
    out[o] = '\0';
}

static bool is_non_api(const char *path)
{
    for (size_t i = 0; NON_API[i] != NULL; i++)
        if (strcmp(path, NON_API[i]) == 0)
            return true;
    return false;
}

/* The document's operation for method (any case) and pattern, or NULL. */
static json_object *doc_operation(const char *method, const char *pattern)
{
    json_object *paths, *o;
    char want[512], have[512], lower[16];
    size_t i;

    if (!json_object_object_get_ex(doc, "paths", &paths))
        return NULL;
    for (i = 0; method[i] != '\0' && i + 1 < sizeof(lower); i++)
        lower[i] = (char)(method[i] >= 'A' && method[i] <= 'Z' ? method[i] + 32 : method[i]);
    lower[i] = '\0';
    norm_path(pattern, want, sizeof(want));
    json_object_object_foreach(paths, key, item) {
        norm_path(key, have, sizeof(have));
        if (strcmp(want, have) == 0 && json_object_object_get_ex(item, lower, &o))
            return o;
    }
    return NULL;
}

/* True when the named security scheme is HTTP bearer. */
static bool scheme_is_bearer(const char *name)
{
    json_object *comp, *schemes, *s, *type, *scheme;

    return json_object_object_get_ex(doc, "components", &comp) &&
           json_object_object_get_ex(comp, "securitySchemes", &schemes) &&
           json_object_object_get_ex(schemes, name, &s) &&
           json_object_object_get_ex(s, "type", &type) &&
           strcmp(json_object_get_string(type), "http") == 0 &&
           json_object_object_get_ex(s, "scheme", &scheme) &&
           strcasecmp(json_object_get_string(scheme), "bearer") == 0;
}

/* How many alternatives of the operation's effective security (its own, else
 * the document's) name a bearer scheme; *total gets their number. */
static size_t bearer_alternatives(json_object *operation, size_t *total)
{
    json_object *sec = NULL;
    size_t n = 0;

    *total = 0;
    if (!json_object_object_get_ex(operation, "security", &sec))
        json_object_object_get_ex(doc, "security", &sec);
    if (sec == NULL || !json_object_is_type(sec, json_type_array))
        return 0;
    *total = json_object_array_length(sec);
    for (size_t i = 0; i < *total; i++) {
        json_object *req = json_object_array_get_idx(sec, i);
        bool bearer = false;

        json_object_object_foreach(req, name, scopes) {
            (void)scopes;
            bearer = bearer || scheme_is_bearer(name);
        }
        n += bearer;
    }
    return n;
}

static void t_routes_documented(void)
{
    const struct route *routes;
    size_t n, total;
    json_object *info, *version, *operation;

    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT(json_object_object_get_ex(doc, "info", &info) &&
              json_object_object_get_ex(info, "version", &version) &&
              strcmp(json_object_get_string(version), PACKAGE_VERSION) == 0);
    routes = router_routes(&n);
    CU_ASSERT_FATAL(n > 0);
    for (size_t i = 0; i < n; i++) {
        size_t bearer;

        operation = doc_operation(routes[i].method, routes[i].pattern);
        if (operation == NULL) {
            fprintf(stderr, "route %s %s is missing from %s\n", routes[i].method,
                    routes[i].pattern, GUILD_OPENAPI_PATH);
            CU_FAIL("a route is not documented (see stderr)");
            continue;
        }
        bearer = bearer_alternatives(operation, &total);
        if (routes[i].auth != AUTH_NONE && (total == 0 || bearer != total)) {
            fprintf(stderr, "%s %s needs a token but is not documented as bearer-only\n",
                    routes[i].method, routes[i].pattern);
            CU_FAIL("an authenticated route lacks its bearer requirement (see stderr)");
        }
        if (routes[i].auth == AUTH_NONE && bearer != 0) {
            fprintf(stderr, "%s %s is public but documented with a bearer requirement\n",
                    routes[i].method, routes[i].pattern);
            CU_FAIL("a public route is documented as needing a token (see stderr)");
        }
    }
}

static bool routed(const struct route *routes, size_t n, const char *method, const char *path)
{
    char want[512], have[512];

    norm_path(path, want, sizeof(want));
    for (size_t i = 0; i < n; i++) {
        norm_path(routes[i].pattern, have, sizeof(have));
        if (strcasecmp(routes[i].method, method) == 0 && strcmp(want, have) == 0)
            return true;
    }
    return false;
}

static void t_documented_routed(void)
{
    const struct route *routes;
    json_object *paths, *operation;
    size_t n, checked = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_FATAL(json_object_object_get_ex(doc, "paths", &paths));
    routes = router_routes(&n);
    json_object_object_foreach(paths, path, item) {
        if (is_non_api(path))
            continue;
        for (size_t m = 0; METHODS[m] != NULL; m++) {
            if (!json_object_object_get_ex(item, METHODS[m], &operation))
                continue;
            checked++;
            if (!routed(routes, n, METHODS[m], path)) {
                fprintf(stderr, "documented %s %s has no route in src/router.c\n", METHODS[m], path);
                CU_FAIL("a documented operation is not routed (see stderr)");
            }
        }
    }
    CU_ASSERT(checked > 0);
}

static void t_served_by_nginx(void)
{
    const char *base = getenv("BASE_URL");
    struct http_resp r;
    json_object *served;

    if (base == NULL || *base == '\0') {
        fprintf(stderr, "BASE_URL is not set: not fetching /openapi.json\n");
        return;
    }
    CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
    CU_ASSERT_FATAL(http_get("/openapi.json", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    served = r.body != NULL ? json_tokener_parse(r.body) : NULL;
    CU_ASSERT_PTR_NOT_NULL(served);
    CU_ASSERT(served != NULL && json_object_equal(served, doc));
    json_object_put(served);
    http_resp_free(&r);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"every route is documented, bearer as routed", t_routes_documented},
        {"every documented API/meta operation is routed", t_documented_routed},
        {"GET /openapi.json serves the same document", t_served_by_nginx},
        {NULL, NULL},
    };
    const char *base = getenv("BASE_URL");
    bool online = base != NULL && *base != '\0';
    int rc;

    if (online && http_init() != 0)
        return 1;
    rc = testutil_run("integration_openapi", cases, load_doc, free_doc);
    if (online)
        http_cleanup();
    return rc;
}
