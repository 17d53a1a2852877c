/* Integration: the meta routes (/, /ping, /missions, /health), the router's
 * 404/405 answers, nginx's own JSON errors (413, 502), and /health while
 * MySQL or Redis is stopped and after both come back, without restarting
 * the responders. Runs against the private stack of `scripts/stack test`. */
#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"

static void t_ping(void)
{
    struct http_resp r;
    char ct[128];

    CU_ASSERT_FATAL(http_get("/ping", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"message\":\"The Guild is alive\",\"status\":\"operational\"}");
    CU_ASSERT_PTR_NOT_NULL(http_header(&r, "Content-Type", ct, sizeof(ct)));
    CU_ASSERT_STRING_EQUAL(ct, "application/json; charset=utf-8");
    http_resp_free(&r);

    CU_ASSERT_FATAL(http_get("/ping/", &r) == 0); /* trailing slash tolerated */
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "message"), "The Guild is alive");
    http_resp_free(&r);

    CU_ASSERT_FATAL(http_get("/ping?x=1&y=%20", &r) == 0); /* a query string changes nothing */
    CU_ASSERT_EQUAL(r.status, 200);
    http_resp_free(&r);
}

static void t_no_version_leak(void)
{
    struct http_resp r;
    char server[128];

    CU_ASSERT_FATAL(http_get("/ping", &r) == 0);
    if (http_header(&r, "Server", server, sizeof(server)) != NULL)
        CU_ASSERT_PTR_NULL(strchr(server, '/')); /* "nginx", never "nginx/1.22.1" */
    http_resp_free(&r);
}

static void t_root(void)
{
    struct http_resp r;

    CU_ASSERT_FATAL(http_get("/", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "message"));
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "version"), PACKAGE_VERSION);
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "status"));
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "docs"), "/docs");
    CU_ASSERT_EQUAL(http_jint(&r, "missions"), 13);
    http_resp_free(&r);
}

static void t_missions(void)
{
    struct http_resp r;
    json_object *list, *m, *v;

    CU_ASSERT_FATAL(http_get("/missions", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_EQUAL(http_jint(&r, "total"), 13);
    CU_ASSERT_FATAL(r.json && json_object_object_get_ex(r.json, "missions", &list));
    CU_ASSERT_EQUAL_FATAL(json_object_array_length(list), 13);
    for (int i = 0; i < 13; i++) {
        m = json_object_array_get_idx(list, (size_t)i);
        CU_ASSERT(json_object_object_get_ex(m, "id", &v) && json_object_get_int(v) == i + 1);
        CU_ASSERT(json_object_object_get_ex(m, "name", &v) && json_object_get_string_len(v) > 0);
        CU_ASSERT(json_object_object_get_ex(m, "focus", &v) && json_object_get_string_len(v) > 0);
    }
    m = json_object_array_get_idx(list, 6);
    CU_ASSERT(json_object_object_get_ex(m, "name", &v) &&
              strcmp(json_object_get_string(v), "Echo of Time") == 0);
    http_resp_free(&r);
}

static void t_not_found(void)
{
    static const char *const paths[] = {"/nope", "/api/nope", "/api", "/pingx", "/ping/extra"};
    struct http_resp r;
    char ct[128];

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        CU_ASSERT_FATAL(http_get(paths[i], &r) == 0);
        CU_ASSERT_EQUAL(r.status, 404);
        CU_ASSERT(http_is_detail(&r, "Not Found"));
        CU_ASSERT(http_header(&r, "Content-Type", ct, sizeof(ct)) && strstr(ct, "application/json"));
        http_resp_free(&r);
    }
}

static void t_malformed_uri(void)
{
    struct http_resp r;

    /* nginx refuses a bad percent-escape itself: 400, still JSON */
    CU_ASSERT_FATAL(http_get("/%zz", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "detail"));
    http_resp_free(&r);
}

static void t_method_not_allowed(void)
{
    static const char *const methods[] = {"POST", "PUT", "DELETE", "PATCH"};
    struct http_resp r;
    char allow[64];

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        CU_ASSERT_FATAL(http_request(methods[i], "/ping", NULL, "{}", 2, &r) == 0);
        CU_ASSERT_EQUAL(r.status, 405);
        CU_ASSERT(http_is_detail(&r, "Method Not Allowed"));
        CU_ASSERT(http_header(&r, "Allow", allow, sizeof(allow)) && strcmp(allow, "GET") == 0);
        http_resp_free(&r);
    }
}

static void t_body_too_large(void)
{
    size_t n = 70 * 1024;
    char *big = malloc(n);
    const char *headers[] = {"Content-Type: application/json", NULL};
    struct http_resp r;

    CU_ASSERT_FATAL(big != NULL);
    memset(big, 'a', n);
    CU_ASSERT_FATAL(http_request("POST", "/ping", headers, big, n, &r) == 0);
    CU_ASSERT_EQUAL(r.status, 413);
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "detail"));
    http_resp_free(&r);
    free(big);
}

/* Polls /health until its status and JSON fields match, for up to ~6 s
 * (responders retry a dead server at most once a second). */
static int wait_health(long status, const char *db, const char *cache)
{
    struct http_resp r;

    for (int i = 0; i < 60; i++) {
        int ok = http_get("/health", &r) == 0 && r.status == status &&
                 http_jstr(&r, "database") && strcmp(http_jstr(&r, "database"), db) == 0 &&
                 http_jstr(&r, "cache") && strcmp(http_jstr(&r, "cache"), cache) == 0;
        http_resp_free(&r);
        if (ok)
            return 1;
        usleep(100 * 1000);
    }
    return 0;
}

static void t_health_ok(void)
{
    struct http_resp r;

    CU_ASSERT_FATAL(http_get("/health", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "status"), "ok");
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "database"), "up");
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "cache"), "up");
    http_resp_free(&r);
}

static void t_health_redis_down(void)
{
    struct http_resp r;

    CU_ASSERT_FATAL(http_stack("stop redis") == 0);
    CU_ASSERT(wait_health(200, "up", "down")); /* degraded, still 200 */
    CU_ASSERT_FATAL(http_get("/health", &r) == 0);
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "status"), "ok");
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_get("/ping", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_stack("start redis") == 0);
    CU_ASSERT(wait_health(200, "up", "up"));
}

static void t_health_mysql_down(void)
{
    struct http_resp r;

    CU_ASSERT_FATAL(http_stack("stop mysql") == 0);
    CU_ASSERT(wait_health(503, "down", "up"));
    CU_ASSERT_FATAL(http_get("/health", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 503);
    CU_ASSERT_STRING_EQUAL(http_jstr(&r, "status"), "unavailable");
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_get("/ping", &r) == 0); /* liveness needs no database */
    CU_ASSERT_EQUAL(r.status, 200);
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_stack("start mysql") == 0);
    CU_ASSERT(wait_health(200, "up", "up"));
}

static void t_both_down_then_back(void)
{
    CU_ASSERT_FATAL(http_stack("stop redis") == 0);
    CU_ASSERT_FATAL(http_stack("stop mysql") == 0);
    CU_ASSERT(wait_health(503, "down", "down"));
    CU_ASSERT_FATAL(http_stack("start mysql") == 0);
    CU_ASSERT_FATAL(http_stack("start redis") == 0);
    CU_ASSERT(wait_health(200, "up", "up"));
}

static void t_gateway_error_is_json(void)
{
    struct http_resp r;

    CU_ASSERT_FATAL(http_stack("stop fcgi") == 0);
    CU_ASSERT_FATAL(http_get("/ping", &r) == 0);
    CU_ASSERT(r.status == 502 || r.status == 503 || r.status == 504);
    CU_ASSERT_PTR_NOT_NULL(http_jstr(&r, "detail"));
    http_resp_free(&r);
    CU_ASSERT_FATAL(http_stack("start fcgi") == 0);
    CU_ASSERT_FATAL(http_get("/ping", &r) == 0);
    CU_ASSERT_EQUAL(r.status, 200);
    http_resp_free(&r);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"GET /ping", t_ping},
        {"no server version leak", t_no_version_leak},
        {"GET /", t_root},
        {"GET /missions", t_missions},
        {"404 JSON for unknown paths", t_not_found},
        {"400 JSON for a malformed URI", t_malformed_uri},
        {"405 JSON with Allow", t_method_not_allowed},
        {"413 JSON for a 70 KiB body", t_body_too_large},
        {"GET /health all up", t_health_ok},
        {"GET /health with Redis stopped", t_health_redis_down},
        {"GET /health with MariaDB stopped", t_health_mysql_down},
        {"both stopped, then back without restart", t_both_down_then_back},
        {"502 from nginx is JSON", t_gateway_error_is_json},
        {NULL, NULL},
    };
    return fx_run_suite("integration_meta", cases, NULL, NULL);
}
