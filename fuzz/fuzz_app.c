/* fuzz_app: see fuzz_app.h. The stores are made unreachable through unix
 * socket paths that cannot exist: connecting fails at once (no timeout), and
 * the reconnect throttle (db.c, redis_conn.c) then answers "unavailable"
 * without a system call for the next second, so an outage costs the fuzzer
 * almost nothing per input. */
#include "fuzz_app.h"

#include <fcgiapp.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "arena.h"
#include "cache.h"
#include "config.h"
#include "db.h"
#include "db_users.h"
#include "fcgi_io.h"
#include "jsonx.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "req.h"
#include "resp.h"
#include "server.h"
#include "sessions.h"

#define NO_SOCKET "/nonexistent/guild-fuzz/no.sock"

static struct config cfg;
static struct app app;
static bool built;

void fuzz_require(bool cond, const char *msg)
{
    if (!cond) {
        fprintf(stderr, "fuzz: property violated: %s\n", msg);
        abort();
    }
}

/* The settings that make the worker offline and cheap; the environment
 * scripts/stack gives a harness holds nothing else of ours. */
static void set_env(void)
{
    static const char *const env[][2] = {
        {"GUILD_JWT_SECRET", FUZZ_JWT_SECRET},
        {"GUILD_DB_SOCKET", NO_SOCKET},
        {"GUILD_CACHE_REDIS_SOCKET", NO_SOCKET},
        {"GUILD_STORE_REDIS_SOCKET", NO_SOCKET},
        {"GUILD_PASSWORD_COST", "4"}, /* bcrypt's minimum: a valid body costs ~1 ms */
        {"GUILD_TRUSTED_PROXIES", FUZZ_TRUSTED_PROXIES},
        {"GUILD_LOG_FILE", "/dev/null"},
        {"GUILD_REQUEST_LOG", "off"},
        {"GUILD_RECONNECT_INTERVAL_MS", "600000"},
    };

    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++)
        fuzz_require(setenv(env[i][0], env[i][1], 1) == 0, "setenv");
}

/* A private metrics segment, so the counters run as in the responder; the
 * file is unlinked at once (the mapping stays), parallel harnesses never share it. */
static void open_metrics(void)
{
    char path[] = "/tmp/guild-fuzz-metrics-XXXXXX";
    int fd = mkstemp(path);

    fuzz_require(fd >= 0, "mkstemp");
    close(fd);
    fuzz_require(metrics_open(path) == 0, "metrics_open");
    unlink(path);
}

struct app *fuzz_app(void)
{
    char err[256];

    if (built)
        return &app;
    set_env();
    if (config_load(&cfg, NULL, CONFIG_NEED_JWT_SECRET, err, sizeof(err)) != 0) {
        fprintf(stderr, "fuzz: config: %s\n", err);
        abort();
    }
    fuzz_require(log_open(cfg.log_file) == 0, "log_open");
    open_metrics();
    log_set_request_mode(LOG_REQUESTS_OFF);
    fuzz_require(db_library_init() == 0, "db_library_init");
    cache_init();
    ratelimit_init();
    sessions_init();
    fuzz_require(app_open(&app, &cfg) == 0, "app_open");
    built = true; /* kept to the end: libFuzzer exits without a teardown hook */
    return &app;
}

struct arena *fuzz_arena(void)
{
    return &fuzz_app()->arena;
}

void fuzz_begin(void)
{
    arena_reset(&fuzz_app()->arena);
}

void fuzz_req_init(struct req *rq, struct resp *rs, const char *method, const char *path)
{
    struct app *a = fuzz_app();

    memset(rq, 0, sizeof(*rq));
    rq->arena = &a->arena;
    rq->app = a;
    rq->method = method;
    rq->path = path;
    rq->query = "";
    rq->request_id = "fuzz";
    rq->remote_addr = "127.0.0.2";
    rq->client_ip = "127.0.0.2";
    resp_init(rs, &a->arena);
}

void fuzz_req_body(struct req *rq, const char *content_type, const uint8_t *body, size_t len)
{
    char *copy = arena_alloc(rq->arena, len + 1);

    fuzz_require(copy != NULL, "arena");
    memcpy(copy, body, len);
    copy[len] = '\0';
    rq->content_type = content_type;
    rq->body = copy;
    rq->body_len = len;
}

bool fuzz_req_query(struct req *rq, const char *query, size_t len)
{
    rq->query = query;
    return req_parse_urlencoded(rq->arena, query, len, &rq->query_params, &rq->nquery, NULL) ==
           REQ_PARSE_OK;
}

void fuzz_req_path_params(struct req *rq, const char *const *params, size_t n)
{
    fuzz_require(n <= REQ_MAX_PATH_PARAMS, "too many path parameters");
    for (size_t i = 0; i < n; i++)
        rq->path_params[i] = params[i];
    rq->npath_params = n;
}

void fuzz_req_as_user(struct req *rq, long long id, bool is_admin)
{
    struct auth_user *au = arena_alloc(rq->arena, sizeof(*au));
    struct user *u = arena_alloc(rq->arena, sizeof(*u));

    fuzz_require(au != NULL && u != NULL, "arena");
    memset(u, 0, sizeof(*u));
    u->id = id;
    snprintf(u->username, sizeof(u->username), "fuzzer%lld", id);
    snprintf(u->email, sizeof(u->email), "fuzzer%lld@example.com", id);
    snprintf(u->guild_rank, sizeof(u->guild_rank), "Apprentice");
    u->is_active = true;
    u->is_admin = is_admin;
    memset(au, 0, sizeof(*au));
    au->id = id;
    au->username = u->username;
    au->is_admin = is_admin;
    au->is_active = true;
    au->jti = "00000000000000000000000000000000";
    au->exp = 4102444800LL; /* 2100-01-01 */
    rq->user = au;
    rq->account = u;
}

/* libfcgi calls these when a stream's buffer is used up: the input has
 * ended, and output is thrown away. */
static void end_of_input(FCGX_Stream *st)
{
    st->isClosed = 1;
}

static void discard_output(FCGX_Stream *st, int do_close)
{
    st->wrNext = st->stopUnget; /* the buffer's start: write over it */
    if (do_close)
        st->isClosed = 1;
}

int fuzz_fcgi_read(struct req *rq, struct resp *rs, char **env, const uint8_t *body,
                   size_t len)
{
    static const uint8_t none[1];
    FCGX_Stream in;
    FCGX_Request fr;

    if (body == NULL)
        body = none;
    memset(&in, 0, sizeof(in));
    in.rdNext = in.stopUnget = (unsigned char *)(uintptr_t)body; /* read only, by libfcgi */
    in.stop = in.rdNext + len;
    in.isReader = 1;
    in.fillBuffProc = end_of_input;
    memset(&fr, 0, sizeof(fr));
    fr.envp = env;
    fr.in = &in;
    return fcgi_io_read(&fr, rq->arena, rq, rs);
}

void fuzz_fcgi_write(const struct resp *rs)
{
    static unsigned char buf[4096];
    FCGX_Stream out;
    FCGX_Request fr;

    memset(&out, 0, sizeof(out));
    out.wrNext = out.stopUnget = buf;
    out.stop = buf + sizeof(buf);
    out.emptyBuffProc = discard_output;
    memset(&fr, 0, sizeof(fr));
    fr.out = &out;
    fcgi_io_write(&fr, rs);
}

int fuzz_dispatch(struct req *rq, struct resp *rs)
{
    const struct route *matched = NULL;
    int status = server_dispatch(rq, rs, &matched);

    cache_prefetch_drop(rq);
    return status;
}

/* One item of a 422 list: {"loc": [strings...], "msg": "...", "type": "..."}. */
static bool is_validation_item(json_object *e)
{
    json_object *loc, *msg, *type;

    if (!json_object_is_type(e, json_type_object) || !json_object_object_get_ex(e, "loc", &loc) ||
        !json_object_object_get_ex(e, "msg", &msg) ||
        !json_object_object_get_ex(e, "type", &type) ||
        !json_object_is_type(loc, json_type_array) || json_object_array_length(loc) == 0 ||
        !json_object_is_type(msg, json_type_string) || !json_object_is_type(type, json_type_string))
        return false;
    for (size_t i = 0; i < json_object_array_length(loc); i++)
        if (!json_object_is_type(json_object_array_get_idx(loc, i), json_type_string))
            return false;
    return true;
}

static bool is_error_shape(json_object *o, int status)
{
    json_object *detail, *health;

    if (status == 503 && json_object_object_get_ex(o, "status", &health) &&
        json_object_is_type(health, json_type_string))
        return true; /* GET /health's own shape for "MariaDB down" (API.md) */

    if (!json_object_is_type(o, json_type_object) || json_object_object_length(o) != 1 ||
        !json_object_object_get_ex(o, "detail", &detail))
        return false;
    if (json_object_is_type(detail, json_type_string))
        return true;
    if (status != 422 || !json_object_is_type(detail, json_type_array) ||
        json_object_array_length(detail) == 0)
        return false;
    for (size_t i = 0; i < json_object_array_length(detail); i++)
        if (!is_validation_item(json_object_array_get_idx(detail, i)))
            return false;
    return true;
}

static void fail(const struct resp *rs, const char *what, const char *why)
{
    fprintf(stderr, "fuzz: %s answered %d (%s): %.*s\n", what, rs->status, why,
            (int)(rs->body_len < 400 ? rs->body_len : 400), rs->body ? rs->body : "");
    abort();
}

void fuzz_check_answer(const struct resp *rs, const char *what)
{
    bool is_json = rs->content_type != NULL && strncmp(rs->content_type, "application/json", 16) == 0;
    json_object *o = NULL;

    if (getenv("FUZZ_TRACE") != NULL) /* replaying one input: what did it get? */
        fprintf(stderr, "fuzz: %s -> %d %.*s\n", what, rs->status,
                (int)(rs->body_len < 300 ? rs->body_len : 300), rs->body ? rs->body : "");

    if (rs->status < 200 || rs->status > 599 || rs->status == 500)
        fail(rs, what, "status out of the contract");
    if (rs->status == 204 || rs->status == 304) {
        if (rs->body_len != 0)
            fail(rs, what, "bodiless status with a body");
        return;
    }
    if (!is_json) { /* /metrics' text, empty while no segment is mapped */
        if (rs->status >= 400)
            fail(rs, what, "error without a JSON content type");
        return;
    }
    if (rs->body == NULL || rs->body_len == 0)
        fail(rs, what, "JSON answer without a body");
    if (jsonx_parse(rs->body, rs->body_len, &o) != JSONX_OK)
        fail(rs, what, "body is not strict JSON");
    if (rs->status >= 400 && !is_error_shape(o, rs->status)) {
        json_object_put(o);
        fail(rs, what, "error body not in the contract's shape");
    }
    json_object_put(o);
}

void fuzz_split(const uint8_t *data, size_t size, char sep, size_t n, char **fields,
                size_t *lens)
{
    struct arena *a = fuzz_arena();
    size_t pos = 0;

    for (size_t i = 0; i < n; i++) {
        const uint8_t *end = i + 1 < n && pos < size ? memchr(data + pos, sep, size - pos) : NULL;
        size_t len = pos >= size ? 0 : end != NULL ? (size_t)(end - (data + pos)) : size - pos;

        fields[i] = arena_alloc(a, len + 1);
        fuzz_require(fields[i] != NULL, "arena");
        if (len > 0)
            memcpy(fields[i], data + pos, len);
        fields[i][len] = '\0';
        lens[i] = len;
        pos += len + (end != NULL ? 1 : 0);
        if (end == NULL)
            pos = size;
    }
}
