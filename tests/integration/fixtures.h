/* fixtures: helpers the integration suites share, on top of http.h: unique
 * names, the contract's response checks, json_object accessors, users and
 * tokens (register, log in, the admin's token), the stack's command-line
 * clients ($MYSQL_CLI, $REDIS_*_CLI), simultaneous POSTs from threads, and
 * the suite runner. Every function is prefixed fx_.
 *
 * Ownership: nothing here keeps a pointer the caller passed in. Strings go
 * into caller buffers (always NUL-terminated, truncated to their size);
 * const char * results point into the json_object or response given and
 * live as long as it does; a json_object * result is a new reference only
 * where said ("put it"). Functions documented as fatal use CU_ASSERT_FATAL,
 * so they count as assertions of the calling test and may only be called
 * from inside one; all others assert nothing. */
#ifndef GUILD_TEST_FIXTURES_H
#define GUILD_TEST_FIXTURES_H

#include <CUnit/CUnit.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "testutil.h"

#define FX_JSON_CT "application/json"
#define FX_FORM_CT "application/x-www-form-urlencoded"
#define FX_PASSWORD "correct-horse-9" /* the password of every user the suites create */

/* String equality where a missing string (NULL) is a mismatch; a float
 * within tol, reported on stderr with its expression when not. */
#define CU_ASSERT_STREQ(a, b) CU_ASSERT(fx_streq((a), (b)))
#define CU_ASSERT_NEAR(got, want, tol) CU_ASSERT(fx_near_ok((got), (want), (tol), #got))

/* ---- names, strings, time ---------------------------------------------- */

/* The next number of this binary's counter (0, 1, 2, ...). */
unsigned fx_seq(void);

/* Writes "<prefix><pid>_<n>" into buf, n from fx_seq(): a username unique
 * across binaries and runs. Returns n. */
unsigned fx_uniq(char *buf, size_t sz, const char *prefix);

/* strcmp() == 0 where a NULL on either side is a mismatch. */
int fx_streq(const char *a, const char *b);

/* True when got (not NaN) is within tol of want; otherwise prints what
 * with both values on stderr and returns 0. */
int fx_near_ok(double got, double want, double tol, const char *what);

/* CLOCK_MONOTONIC in milliseconds. */
double fx_now_ms(void);

/* True for "YYYY-MM-DDTHH:MM:SS[.fff]Z". */
int fx_is_iso_utc(const char *s);

/* ---- response checks (print what arrived when they fail) --------------- */

/* Prints "[what] got <status>: <first 300 bytes of the body>" on stderr. */
void fx_show(const struct http_resp *r, const char *what);

/* Content-Type is exactly "application/json; charset=utf-8". */
int fx_is_json_ct(const struct http_resp *r);

/* status matches and the body is JSON with the contract's Content-Type. */
int fx_expect(const struct http_resp *r, long status);

/* fx_expect, and the body is {"detail": detail}. */
int fx_expect_detail(const struct http_resp *r, long status, const char *detail);

/* 401 "Could not validate credentials" with WWW-Authenticate: Bearer. */
int fx_expect_401(const struct http_resp *r);

/* 422 in FastAPI's shape (every entry has loc, msg and type), one entry of
 * which has loc [loc0, loc1] and, when type is not NULL, that type. loc1
 * NULL: loc is exactly [loc0]; loc1 "*": any second element. */
int fx_expect_422(const struct http_resp *r, const char *loc0, const char *loc1,
                  const char *type);

/* ---- json_object accessors (o may be NULL) ----------------------------- */

/* The member key of o (borrowed), or NULL when missing or JSON null. */
json_object *fx_jget(json_object *o, const char *key);

/* Integer member, or -1 when missing or not an integer. */
long long fx_jint(json_object *o, const char *key);

/* Numeric member (integer or double), or NAN when missing or not a number. */
double fx_jdbl(json_object *o, const char *key);

/* String member (borrowed from o), or NULL when missing or not a string. */
const char *fx_jstr(json_object *o, const char *key);

/* True when the member exists and is JSON null. */
int fx_jnull(json_object *o, const char *key);

/* v is a string equal to s. */
int fx_str_eq(json_object *v, const char *s);

/* o is an object with exactly the n keys, each of its type (json_type_null
 * in types: a string or null; json_type_double: any number); members whose
 * name contains "_at" must be ISO UTC times when not null. */
int fx_has_shape(json_object *o, const char *const *keys, const json_type *types, size_t n);

/* o is a UserResponse: exactly the contract's ten fields and types. */
int fx_is_user_response(json_object *o);

/* ---- base64url and JWTs ------------------------------------------------- */

/* Unpadded base64url of len bytes into out, which must hold
 * 4 * ceil(len / 3) + 1 bytes (NUL-terminated). */
void fx_b64url_encode(const unsigned char *in, size_t len, char *out);

/* Decodes len chars of unpadded base64url into out (NUL-terminated);
 * returns the byte count, or -1 on a bad character or when out is too small. */
long fx_b64url_decode(const char *in, size_t len, char *out, size_t sz);

/* An HS256 JWT of payload (JSON text, any claims) signed with secret into
 * out: for tests that need claims the API never issues. 0, or -1 when out
 * is too small. */
int fx_sign_hs256(const char *secret, const char *payload, char *out, size_t sz);

/* The decoded JSON of part 0 (header) or 1 (payload) of a JWT, or NULL;
 * a new reference: put it. */
json_object *fx_jwt_part(const char *token, int part);

/* ---- requests, users and tokens ---------------------------------------- */

/* method path with an optional bearer token and JSON body (NULL: none),
 * 429s retried (http_send). Fatal on a transport error; the caller frees r. */
void fx_call(const char *method, const char *path, const char *token, const char *json,
             struct http_resp *r);

/* fx_call("GET", path, token, NULL, r). */
void fx_get(const char *path, const char *token, struct http_resp *r);

/* POST /api/auth/token with a form body. On 200 the access token is copied
 * into tok, else tok becomes ""; tok may be NULL. Returns the HTTP status,
 * -1 on a transport error. */
long fx_login(const char *name, const char *pw, char *tok, size_t sz);

/* fx_login as the admin: name NULL means $ADMIN_USERNAME; the password is
 * $ADMIN_PASSWORD. Returns -1 (tok untouched) when either is unset. */
long fx_admin_login(const char *name, char *tok, size_t sz);

/* A suite setup's admin token: tok becomes "" and then, through
 * fx_admin_login(NULL, ...), the admin's token; when there is none it says
 * so on stderr (the tests that need it fail on their own). Returns 0 when
 * a token was obtained, else -1. */
int fx_admin_token(char *tok, size_t sz);

/* For suites that need the admin's name and id too: name gets
 * $ADMIN_USERNAME (or "admin"), tok the admin's token (fx_admin_login;
 * "" when none), *id the admin's id from GET /api/users/me (-1 when none).
 * Returns 0 when all three are known, else -1. */
int fx_admin_setup(char *name, size_t nsz, char *tok, size_t tsz, long *id);

/* POSTs {"username": name, "email": name@example.com, "password": pw} to
 * path (/api/auth/register or /api/users). *id gets the new id when the
 * answer is fx_expect(201) (otherwise -1, and the answer is printed).
 * Returns the HTTP status, -1 on a transport error. */
long fx_register(const char *path, const char *name, const char *pw, long *id);

/* A fresh active user: a unique name with prefix into name, registered
 * through path with FX_PASSWORD, and its token into tok. Returns the id.
 * Fatal (three assertions: transport, 201, login 200). */
long fx_new_user(const char *path, const char *prefix, char *name, size_t nsz, char *tok,
                 size_t tsz);

/* POSTs body (NULL: empty) to $BASE_URL path on a curl handle of its own,
 * from the local address iface (NULL: any), with the extra headers
 * (NULL-terminated "Name: value" list or NULL). Waits on go (when not NULL)
 * right before sending, also when the handle could not be made, so that a
 * thread of a group never blocks the others. The body of the answer is
 * dropped; its status goes into *status. For threads: no shared state, no
 * signals, a 30 s timeout, no 429 retry. Returns 0, or -1 when no answer
 * arrived (*status untouched). */
int fx_post_at_once(const char *iface, const char *path, const char *const *headers,
                    const char *body, pthread_barrier_t *go, long *status);

/* ---- the stack's command-line clients ---------------------------------- */

/* Runs "$<var> args" through the shell, output discarded; returns the exit
 * status, -1 when var is unset or the shell could not run. */
int fx_cli_run(const char *var, const char *args);

/* The first line "$<var> args" prints (stderr dropped), newline stripped,
 * into out. Returns 0 when the command exited 0, else -1. */
int fx_cli_line(const char *var, const char *args, char *out, size_t sz);

/* The first line of "$<var> args" as a number; fail when the command
 * failed or printed nothing. */
long long fx_cli_long(const char *var, const char *args, long long fail);

/* The first column of the first row of query through $MYSQL_CLI, or -1.
 * query must not contain '"'. */
long long fx_sql_long(const char *query);

/* $REDIS_PREFIX, or "guild:" when unset. */
const char *fx_redis_prefix(void);

/* Deletes every user but admin_name (which must not contain quotes) and all
 * progress, and zeroes the admin's figures, through $MYSQL_CLI, then
 * recounts the analytics counters ($GUILDCTL rebuild-summaries). Returns
 * the first non-zero exit status, else 0. */
int fx_reset_users(const char *admin_name);

/* ---- suite ------------------------------------------------------------- */

/* For a teardown: when *stopped, runs `$STACK_CMD start service` and clears
 * *stopped if that worked. */
void fx_stack_restore(bool *stopped, const char *service);

/* The whole main() of a suite: http_init() (its status when the stack is
 * not configured), the cases as one CUnit suite, http_cleanup(). Returns
 * the process exit status. */
int fx_run_suite(const char *name, const struct test_case *cases, int (*setup)(void),
                 int (*teardown)(void));

#endif
