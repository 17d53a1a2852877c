/* fixtures: see fixtures.h. The helpers every integration suite used to
 * carry its own copy of; each behaves as those copies did. */
#include "fixtures.h"

#include <curl/curl.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned seq;

/* ---- names, strings, time ---------------------------------------------- */

unsigned fx_seq(void)
{
    return seq++;
}

unsigned fx_uniq(char *buf, size_t sz, const char *prefix)
{
    unsigned n = fx_seq();

    snprintf(buf, sz, "%s%d_%u", prefix, (int)getpid(), n);
    return n;
}

int fx_streq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

int fx_near_ok(double got, double want, double tol, const char *what)
{
    if (!isnan(got) && fabs(got - want) <= tol)
        return 1;
    fprintf(stderr, "\n    %s: got %.6f, want %.6f\n", what, got, want);
    return 0;
}

double fx_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int fx_is_iso_utc(const char *s)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd";
    size_t i;

    if (s == NULL || strlen(s) < sizeof(pat))
        return 0;
    for (i = 0; i < sizeof(pat) - 1; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    if (s[i] == '.')
        for (i++; s[i] >= '0' && s[i] <= '9'; i++)
            ;
    return s[i] == 'Z' && s[i + 1] == '\0';
}

/* ---- response checks ---------------------------------------------------- */

void fx_show(const struct http_resp *r, const char *what)
{
    fprintf(stderr, "\n    [%s] got %ld: %.300s\n", what, r->status, r->body ? r->body : "");
}

int fx_is_json_ct(const struct http_resp *r)
{
    char ct[128];

    return http_header(r, "Content-Type", ct, sizeof(ct)) != NULL &&
           strcmp(ct, "application/json; charset=utf-8") == 0;
}

int fx_expect(const struct http_resp *r, long status)
{
    if (r->status == status && fx_is_json_ct(r) && r->json != NULL)
        return 1;
    fx_show(r, "expect status/json");
    return 0;
}

int fx_expect_detail(const struct http_resp *r, long status, const char *detail)
{
    if (fx_expect(r, status) && http_is_detail(r, detail))
        return 1;
    fx_show(r, detail);
    return 0;
}

int fx_expect_401(const struct http_resp *r)
{
    char www[128];

    if (fx_expect_detail(r, 401, "Could not validate credentials") &&
        http_header(r, "WWW-Authenticate", www, sizeof(www)) && strncmp(www, "Bearer", 6) == 0)
        return 1;
    fx_show(r, "401 + WWW-Authenticate: Bearer");
    return 0;
}

int fx_expect_422(const struct http_resp *r, const char *loc0, const char *loc1,
                  const char *type)
{
    json_object *list, *e, *loc, *msg, *ty;
    size_t n, i;

    if (!fx_expect(r, 422) || !json_object_object_get_ex(r->json, "detail", &list) ||
        !json_object_is_type(list, json_type_array) || (n = json_object_array_length(list)) == 0)
        goto bad;
    for (i = 0; i < n; i++) {
        e = json_object_array_get_idx(list, i);
        if (!json_object_object_get_ex(e, "loc", &loc) || !json_object_is_type(loc, json_type_array) ||
            !json_object_object_get_ex(e, "msg", &msg) || !json_object_is_type(msg, json_type_string) ||
            !json_object_object_get_ex(e, "type", &ty) || !json_object_is_type(ty, json_type_string))
            goto bad; /* every entry carries loc, msg and type */
    }
    for (i = 0; i < n; i++) {
        e = json_object_array_get_idx(list, i);
        json_object_object_get_ex(e, "loc", &loc);
        json_object_object_get_ex(e, "type", &ty);
        if (!fx_str_eq(json_object_array_get_idx(loc, 0), loc0))
            continue;
        if (loc1 == NULL ? json_object_array_length(loc) != 1
                         : strcmp(loc1, "*") == 0 ? json_object_array_length(loc) < 2
                                                  : !fx_str_eq(json_object_array_get_idx(loc, 1), loc1))
            continue;
        if (type == NULL || fx_str_eq(ty, type))
            return 1;
    }
bad:
    fprintf(stderr, "\n    expected 422 at [%s, %s] type %s", loc0, loc1 ? loc1 : "-",
            type ? type : "*");
    fx_show(r, "422");
    return 0;
}

/* ---- json_object accessors ---------------------------------------------- */

json_object *fx_jget(json_object *o, const char *key)
{
    json_object *v = NULL;

    return o != NULL && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

long long fx_jint(json_object *o, const char *key)
{
    json_object *v = fx_jget(o, key);

    return v != NULL && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
}

double fx_jdbl(json_object *o, const char *key)
{
    json_object *v = fx_jget(o, key);

    if (v == NULL || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return NAN;
    return json_object_get_double(v);
}

const char *fx_jstr(json_object *o, const char *key)
{
    json_object *v = fx_jget(o, key);

    return v != NULL && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int fx_jnull(json_object *o, const char *key)
{
    json_object *v;

    return o != NULL && json_object_object_get_ex(o, key, &v) && v == NULL;
}

int fx_str_eq(json_object *v, const char *s)
{
    return v != NULL && json_object_is_type(v, json_type_string) &&
           strcmp(json_object_get_string(v), s) == 0;
}

int fx_has_shape(json_object *o, const char *const *keys, const json_type *types, size_t n)
{
    json_object *v;

    if (o == NULL || !json_object_is_type(o, json_type_object) ||
        (size_t)json_object_object_length(o) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!json_object_object_get_ex(o, keys[i], &v))
            return 0;
        if (types[i] == json_type_null) {
            if (v != NULL && !json_object_is_type(v, json_type_string))
                return 0;
        } else if (types[i] == json_type_double) {
            if (!json_object_is_type(v, json_type_double) && !json_object_is_type(v, json_type_int))
                return 0;
        } else if (!json_object_is_type(v, types[i])) {
            return 0;
        }
        if (strstr(keys[i], "_at") != NULL && v != NULL && !fx_is_iso_utc(json_object_get_string(v)))
            return 0;
    }
    return 1;
}

int fx_is_user_response(json_object *o)
{
    static const char *const keys[] = {"id", "username", "email", "full_name", "is_active",
                                       "is_admin", "guild_rank", "experience_points",
                                       "missions_completed", "created_at"};
    static const json_type types[] = {json_type_int, json_type_string, json_type_string,
                                      json_type_null, json_type_boolean, json_type_boolean,
                                      json_type_string, json_type_int, json_type_int,
                                      json_type_string};

    return fx_has_shape(o, keys, types, sizeof(keys) / sizeof(keys[0]));
}

/* ---- base64url and JWTs ------------------------------------------------- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void fx_b64url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
}

int fx_sign_hs256(const char *secret, const char *payload, char *out, size_t sz)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    size_t hl = strlen(header), pl = strlen(payload), n;

    /* header.payload.signature, base64url: 4 characters per 3 bytes */
    if (sz < (hl + 2) / 3 * 4 + 1 + (pl + 2) / 3 * 4 + 1 + 44)
        return -1;
    fx_b64url_encode((const unsigned char *)header, hl, out);
    n = strlen(out);
    out[n++] = '.';
    fx_b64url_encode((const unsigned char *)payload, pl, out + n);
    n += strlen(out + n);
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)out, n, mac,
             &mac_len) == NULL)
        return -1;
    out[n++] = '.';
    fx_b64url_encode(mac, mac_len, out + n);
    return 0;
}

long fx_b64url_decode(const char *in, size_t len, char *out, size_t sz)
{
    unsigned acc = 0;
    int bits = 0;
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        const char *p = strchr(b64url, in[i]);
        if (p == NULL || in[i] == '\0')
            return -1;
        acc = acc << 6 | (unsigned)(p - b64url);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o + 1 >= sz)
                return -1;
            out[o++] = (char)(acc >> bits & 0xff);
        }
    }
    out[o] = '\0';
    return (long)o;
}

json_object *fx_jwt_part(const char *token, int part)
{
    const char *s = token, *dot;
    char buf[2048];

    for (int i = 0; i < part; i++)
        if ((s = strchr(s, '.')) == NULL)
            return NULL;
        else
            s++;
    if ((dot = strchr(s, '.')) == NULL ||
        fx_b64url_decode(s, (size_t)(dot - s), buf, sizeof(buf)) < 0)
        return NULL;
    return json_tokener_parse(buf);
}

/* ---- requests, users and tokens ----------------------------------------- */

void fx_call(const char *method, const char *path, const char *token, const char *json,
             struct http_resp *r)
{
    CU_ASSERT_FATAL(http_send(method, path, token, json ? FX_JSON_CT : NULL, json, r) == 0);
}

void fx_get(const char *path, const char *token, struct http_resp *r)
{
    fx_call("GET", path, token, NULL, r);
}

long fx_login(const char *name, const char *pw, char *tok, size_t sz)
{
    struct http_resp r;
    char body[512];
    long status;

    snprintf(body, sizeof(body), "username=%s&password=%s", name, pw);
    if (http_send("POST", "/api/auth/token", NULL, FX_FORM_CT, body, &r) != 0)
        return -1;
    status = r.status;
    if (tok != NULL && sz > 0)
        snprintf(tok, sz, "%s",
                 status == 200 && http_jstr(&r, "access_token") ? http_jstr(&r, "access_token") : "");
    http_resp_free(&r);
    return status;
}

long fx_admin_login(const char *name, char *tok, size_t sz)
{
    const char *pw = getenv("ADMIN_PASSWORD");

    if (name == NULL)
        name = getenv("ADMIN_USERNAME");
    if (name == NULL || pw == NULL)
        return -1;
    return fx_login(name, pw, tok, sz);
}

int fx_admin_token(char *tok, size_t sz)
{
    tok[0] = '\0';
    fx_admin_login(NULL, tok, sz);
    if (tok[0] != '\0')
        return 0;
    fprintf(stderr, "no admin token: the admin tests will fail\n");
    return -1;
}

int fx_admin_setup(char *name, size_t nsz, char *tok, size_t tsz, long *id)
{
    const char *user = getenv("ADMIN_USERNAME");
    struct http_resp r;

    snprintf(name, nsz, "%s", user ? user : "admin");
    tok[0] = '\0';
    *id = -1;
    fx_admin_login(name, tok, tsz);
    if (tok[0] == '\0' || http_send("GET", "/api/users/me", tok, NULL, NULL, &r) != 0)
        return -1;
    *id = (long)http_jint(&r, "id");
    http_resp_free(&r);
    return *id > 0 ? 0 : -1;
}

long fx_register(const char *path, const char *name, const char *pw, long *id)
{
    struct http_resp r;
    char body[512];
    long status;

    *id = -1;
    snprintf(body, sizeof(body),
             "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}", name, name, pw);
    if (http_send("POST", path, NULL, FX_JSON_CT, body, &r) != 0)
        return -1;
    status = r.status;
    if (fx_expect(&r, 201))
        *id = (long)http_jint(&r, "id");
    http_resp_free(&r);
    return status;
}

long fx_new_user(const char *path, const char *prefix, char *name, size_t nsz, char *tok,
                 size_t tsz)
{
    long id;

    fx_uniq(name, nsz, prefix);
    CU_ASSERT_FATAL(fx_register(path, name, FX_PASSWORD, &id) != -1);
    CU_ASSERT_FATAL(id > 0);
    CU_ASSERT_FATAL(fx_login(name, FX_PASSWORD, tok, tsz) == 200);
    return id;
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * nmemb;
}

int fx_post_at_once(const char *iface, const char *path, const char *const *headers,
                    const char *body, pthread_barrier_t *go, long *status)
{
    const char *base = getenv("BASE_URL");
    struct curl_slist *hl = NULL;
    char url[512];
    CURL *c = curl_easy_init();
    int rc = -1;

    if (c != NULL) {
        snprintf(url, sizeof(url), "%s%s", base ? base : "", path);
        for (size_t i = 0; headers != NULL && headers[i] != NULL; i++)
            hl = curl_slist_append(hl, headers[i]);
        hl = curl_slist_append(hl, "Expect:");
        curl_easy_setopt(c, CURLOPT_URL, url);
        if (iface != NULL)
            curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, body ? (long)strlen(body) : 0L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    }
    if (go != NULL)
        pthread_barrier_wait(go);
    if (c != NULL && curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
        rc = 0;
    }
    curl_slist_free_all(hl);
    if (c != NULL)
        curl_easy_cleanup(c);
    return rc;
}

/* ---- the stack's command-line clients ----------------------------------- */

int fx_cli_run(const char *var, const char *args)
{
    const char *cli = getenv(var);
    char cmd[4096];
    int rc;

    if (cli == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", cli, args);
    rc = system(cmd);
    return rc == -1 ? -1 : WEXITSTATUS(rc);
}

int fx_cli_line(const char *var, const char *args, char *out, size_t sz)
{
    const char *cli = getenv(var);
    char cmd[4096];
    FILE *p;

    out[0] = '\0';
    if (cli == NULL)
        return -1;
    snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", cli, args);
    if ((p = popen(cmd, "r")) == NULL)
        return -1;
    if (fgets(out, (int)sz, p) == NULL)
        out[0] = '\0';
    out[strcspn(out, "\r\n")] = '\0';
    return pclose(p) == 0 ? 0 : -1;
}

long long fx_cli_long(const char *var, const char *args, long long fail)
{
    char line[128];

    if (fx_cli_line(var, args, line, sizeof(line)) != 0 || line[0] == '\0')
        return fail;
    return atoll(line);
}

long long fx_sql_long(const char *query)
{
    char args[2048];

    if (strchr(query, '"') != NULL)
        return -1;
    snprintf(args, sizeof(args), "-N -B -e \"%s\"", query);
    return fx_cli_long("MYSQL_CLI", args, -1);
}

const char *fx_redis_prefix(void)
{
    const char *p = getenv("REDIS_PREFIX");

    return p ? p : "guild:";
}

int fx_reset_users(const char *admin_name)
{
    char q[512];
    int rc;

    if (strchr(admin_name, '\'') != NULL || strchr(admin_name, '"') != NULL)
        return -1;
    snprintf(q, sizeof(q),
             "-e \"DELETE FROM mission_progress; DELETE FROM users WHERE username <> '%s'; "
             "UPDATE users SET experience_points=0, missions_completed=0, "
             "guild_rank='Apprentice', is_active=1, is_admin=1\"",
             admin_name);
    if ((rc = fx_cli_run("MYSQL_CLI", q)) != 0)
        return rc;
    /* rows went behind the API's back: recount the analytics counters */
    return fx_cli_run("GUILDCTL", "rebuild-summaries");
}

/* ---- suite --------------------------------------------------------------- */

void fx_stack_restore(bool *stopped, const char *service)
{
    char args[128];

    if (!*stopped)
        return;
    snprintf(args, sizeof(args), "start %s", service);
    if (http_stack(args) == 0)
        *stopped = false;
}

int fx_run_suite(const char *name, const struct test_case *cases, int (*setup)(void),
                 int (*teardown)(void))
{
    int rc = http_init();

    if (rc != 0)
        return rc;
    rc = testutil_run(name, cases, setup, teardown);
    http_cleanup();
    return rc;
}
