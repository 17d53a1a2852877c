/* test_router: the path matcher on a small table of its own (literal and
 * "{param}" segments, literal-before-param precedence, 404 vs 405 with the
 * Allow list, the root route), plus sanity checks of the application's real
 * route table. Paths arrive without a trailing slash (fcgi_io strips it). */
#include <CUnit/CUnit.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"
#include "testutil.h"

static int h_dummy(struct req *rq, struct resp *rs)
{
    (void)rq;
    (void)rs;
    return 200;
}

static const struct route table[] = {
    {"GET", "/", AUTH_NONE, h_dummy, "root", NULL, 0},
    {"GET", "/ping", AUTH_NONE, h_dummy, "ping", NULL, 0},
    {"GET", "/api/users", AUTH_NONE, h_dummy, "users.list", NULL, 0},
    {"POST", "/api/users", AUTH_USER, h_dummy, "users.create", NULL, 0},
    {"GET", "/api/users/me", AUTH_USER, h_dummy, "users.me", NULL, 0},
    {"GET", "/api/users/{id}", AUTH_NONE, h_dummy, "users.get", NULL, 0},
    {"PUT", "/api/users/{id}", AUTH_USER, h_dummy, "users.update", NULL, 0},
    {"DELETE", "/api/users/{id}", AUTH_ADMIN, h_dummy, "users.delete", NULL, 0},
    {"POST", "/api/users/{id}/missions/{mission_id}/complete", AUTH_USER, h_dummy,
     "missions.complete", NULL, 0},
};
#define NTABLE (sizeof(table) / sizeof(table[0]))

struct match {
    enum router_rc rc;
    const struct route *route;
    const char *params[4];
    size_t nparams;
    char allow[64];
    char *buf; /* exactly strlen(path)+1 bytes, as the contract asks */
};

static enum router_rc run(const struct route *t, size_t n, const char *method, const char *path,
                          struct match *m)
{
    memset(m, 0, sizeof(*m));
    m->buf = malloc(strlen(path) + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(m->buf);
    m->rc = router_match(t, n, method, path, &m->route, m->params, 4, &m->nparams, m->buf,
                         m->allow, sizeof(m->allow));
    return m->rc;
}

static void done(struct match *m)
{
    free(m->buf);
    m->buf = NULL;
}

/* Asserts method+path is found on the route named name. */
static void expect_found(const char *method, const char *path, const char *name)
{
    struct match m;

    CU_ASSERT_EQUAL(run(table, NTABLE, method, path, &m), ROUTER_FOUND);
    CU_ASSERT_PTR_NOT_NULL(m.route);
    if (m.route != NULL)
        CU_ASSERT_STRING_EQUAL(m.route->name, name);
    done(&m);
}

static void expect_not_found(const char *method, const char *path)
{
    struct match m;

    CU_ASSERT_EQUAL(run(table, NTABLE, method, path, &m), ROUTER_NOT_FOUND);
    CU_ASSERT_PTR_NULL(m.route);
    CU_ASSERT_EQUAL(m.nparams, 0);
    done(&m);
}

static void expect_bad_method(const char *method, const char *path, const char *allow)
{
    struct match m;

    CU_ASSERT_EQUAL(run(table, NTABLE, method, path, &m), ROUTER_BAD_METHOD);
    CU_ASSERT_PTR_NULL(m.route);
    CU_ASSERT_STRING_EQUAL(m.allow, allow);
    done(&m);
}

static void t_literal(void)
{
    struct match m;

    expect_found("GET", "/ping", "ping");
    expect_found("GET", "/api/users", "users.list");
    expect_found("POST", "/api/users", "users.create");
    CU_ASSERT_EQUAL(run(table, NTABLE, "GET", "/ping", &m), ROUTER_FOUND);
    CU_ASSERT_PTR_EQUAL(m.route, &table[1]);
    CU_ASSERT_EQUAL(m.nparams, 0);
    CU_ASSERT_EQUAL(m.route->auth, AUTH_NONE);
    done(&m);
}

static void t_param_capture(void)
{
    struct match m;

    CU_ASSERT_EQUAL(run(table, NTABLE, "GET", "/api/users/42", &m), ROUTER_FOUND);
    CU_ASSERT_PTR_EQUAL(m.route, &table[5]);
    CU_ASSERT_EQUAL_FATAL(m.nparams, 1);
    CU_ASSERT_STRING_EQUAL(m.params[0], "42");
    /* the value is a copy in param_buf, not a pointer into the path */
    CU_ASSERT_TRUE(m.params[0] >= m.buf && m.params[0] < m.buf + strlen("/api/users/42") + 1);
    done(&m);

    /* any non-empty segment matches; the handler validates its syntax */
    CU_ASSERT_EQUAL(run(table, NTABLE, "PUT", "/api/users/abc", &m), ROUTER_FOUND);
    CU_ASSERT_STRING_EQUAL(m.route->name, "users.update");
    CU_ASSERT_EQUAL_FATAL(m.nparams, 1);
    CU_ASSERT_STRING_EQUAL(m.params[0], "abc");
    done(&m);

    /* two parameters, in pattern order, in a buffer of exactly strlen+1 */
    CU_ASSERT_EQUAL(run(table, NTABLE, "POST", "/api/users/1234567/missions/13/complete", &m),
                    ROUTER_FOUND);
    CU_ASSERT_STRING_EQUAL(m.route->name, "missions.complete");
    CU_ASSERT_EQUAL_FATAL(m.nparams, 2);
    CU_ASSERT_STRING_EQUAL(m.params[0], "1234567");
    CU_ASSERT_STRING_EQUAL(m.params[1], "13");
    done(&m);

    /* the shortest path: one-character segments */
    CU_ASSERT_EQUAL(run(table, NTABLE, "POST", "/api/users/1/missions/2/complete", &m),
                    ROUTER_FOUND);
    CU_ASSERT_EQUAL_FATAL(m.nparams, 2);
    CU_ASSERT_STRING_EQUAL(m.params[0], "1");
    CU_ASSERT_STRING_EQUAL(m.params[1], "2");
    done(&m);
}

static void t_literal_before_param(void)
{
    struct match m;

    CU_ASSERT_EQUAL(run(table, NTABLE, "GET", "/api/users/me", &m), ROUTER_FOUND);
    CU_ASSERT_PTR_EQUAL(m.route, &table[4]);
    CU_ASSERT_STRING_EQUAL(m.route->name, "users.me");
    CU_ASSERT_EQUAL(m.nparams, 0);
    done(&m);
    /* "mex" is not "me": it goes to the parameter route */
    expect_found("GET", "/api/users/mex", "users.get");
    /* the literal route has no PUT, so PUT /api/users/me reaches the param route */
    expect_found("PUT", "/api/users/me", "users.update");
}

static void t_not_found(void)
{
    expect_not_found("GET", "/api/users/1/x");
    expect_not_found("GET", "/api");
    expect_not_found("GET", "");
    expect_not_found("GET", "/pingx");
    expect_not_found("GET", "/pin");
    expect_not_found("GET", "/ping/x");
    expect_not_found("GET", "/PING"); /* case-sensitive */
    expect_not_found("GET", "/api/users/1/missions/2");
    expect_not_found("GET", "/api/users/1/missions/2/complete/x");
    expect_not_found("GET", "/api/users//missions/2/complete"); /* empty param segment */
    expect_not_found("GET", "/api/usersx");
    expect_not_found("GET", "/nope");
    /* an unknown path never reports 405, whatever the method */
    expect_not_found("DELETE", "/nope");
}

static void t_bad_method(void)
{
    /* me (GET) + {id} (GET, PUT, DELETE): each method once, in table order */
    expect_bad_method("POST", "/api/users/me", "GET, PUT, DELETE");
    expect_bad_method("POST", "/api/users/7", "GET, PUT, DELETE");
    expect_bad_method("PATCH", "/api/users", "GET, POST");
    expect_bad_method("DELETE", "/ping", "GET");
    expect_bad_method("get", "/ping", "GET"); /* methods are case-sensitive */
    expect_bad_method("GET", "/api/users/7/missions/1/complete", "POST");
    expect_bad_method("POST", "/", "GET");
}

static void t_root(void)
{
    static const struct route only_root[] = {{"GET", "/", AUTH_NONE, h_dummy, "root", NULL, 0}};
    struct match m;

    CU_ASSERT_EQUAL(run(only_root, 1, "GET", "/", &m), ROUTER_FOUND);
    CU_ASSERT_PTR_EQUAL(m.route, &only_root[0]);
    done(&m);
    CU_ASSERT_EQUAL(run(only_root, 1, "GET", "/ping", &m), ROUTER_NOT_FOUND);
    done(&m);
    CU_ASSERT_EQUAL(run(only_root, 1, "GET", "/x", &m), ROUTER_NOT_FOUND);
    done(&m);
    CU_ASSERT_EQUAL(run(only_root, 1, "GET", "", &m), ROUTER_NOT_FOUND);
    done(&m);
    CU_ASSERT_EQUAL(run(only_root, 1, "GET", "//", &m), ROUTER_NOT_FOUND);
    done(&m);
    /* in the bigger table "/" is still only the root route */
    expect_found("GET", "/", "root");
}

static void t_empty_table(void)
{
    struct match m;

    CU_ASSERT_EQUAL(run(table, 0, "GET", "/ping", &m), ROUTER_NOT_FOUND);
    CU_ASSERT_STRING_EQUAL(m.allow, "");
    done(&m);
}

static void t_real_table(void)
{
    static const struct {
        const char *method, *path, *name;
    } expected[] = {
        {"GET", "/", "meta.root"},
        {"GET", "/ping", "meta.ping"},
        {"GET", "/missions", "meta.missions"},
        {"GET", "/health", "meta.health"},
    };
    const struct route *routes;
    size_t n = 0;
    struct match m;

    routes = router_routes(&n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(routes);
    CU_ASSERT_TRUE_FATAL(n >= 4);
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++) {
        CU_ASSERT_EQUAL(run(routes, n, expected[i].method, expected[i].path, &m), ROUTER_FOUND);
        if (m.route != NULL) {
            CU_ASSERT_STRING_EQUAL(m.route->name, expected[i].name);
            CU_ASSERT_EQUAL(m.route->auth, AUTH_NONE);
        }
        done(&m);
    }
    CU_ASSERT_EQUAL(run(routes, n, "POST", "/ping", &m), ROUTER_BAD_METHOD);
    CU_ASSERT_STRING_EQUAL(m.allow, "GET");
    done(&m);
    CU_ASSERT_EQUAL(run(routes, n, "GET", "/definitely/not/a/route", &m), ROUTER_NOT_FOUND);
    done(&m);
}

/* Every row is complete and well formed, no (method, pattern) pair appears
 * twice, and no route is shadowed by an earlier one. */
static void t_real_table_rows(void)
{
    const struct route *routes;
    size_t n = 0;

    routes = router_routes(&n);
    for (size_t i = 0; i < n; i++) {
        const char *p = routes[i].pattern;
        size_t len;

        CU_ASSERT_PTR_NOT_NULL_FATAL(routes[i].method);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_PTR_NOT_NULL(routes[i].handler);
        CU_ASSERT_PTR_NOT_NULL(routes[i].name);
        len = strlen(p);
        CU_ASSERT_TRUE(len >= 1 && p[0] == '/');
        CU_ASSERT_TRUE(len == 1 || p[len - 1] != '/'); /* no trailing slash but the root */
        for (size_t j = 0; j < i; j++) {
            int dup = strcmp(routes[i].method, routes[j].method) == 0 &&
                      strcmp(routes[i].pattern, routes[j].pattern) == 0;
            CU_ASSERT_FALSE(dup);
            if (routes[j].name != NULL && routes[i].name != NULL)
                CU_ASSERT_STRING_NOT_EQUAL(routes[i].name, routes[j].name);
        }
        /* a literal route (no '{') must be reachable: its own path finds it */
        if (strchr(p, '{') == NULL) {
            struct match m;
            CU_ASSERT_EQUAL(run(routes, n, routes[i].method, p, &m), ROUTER_FOUND);
            CU_ASSERT_PTR_EQUAL(m.route, &routes[i]);
            done(&m);
        }
    }
}

int main(void)
{
    static const struct test_case cases[] = {
        {"literal", t_literal},
        {"param_capture", t_param_capture},
        {"literal_before_param", t_literal_before_param},
        {"not_found", t_not_found},
        {"bad_method", t_bad_method},
        {"root", t_root},
        {"empty_table", t_empty_table},
        {"real_table", t_real_table},
        {"real_table_rows", t_real_table_rows},
        {NULL, NULL},
    };
    return testutil_run("router", cases, NULL, NULL);
}
