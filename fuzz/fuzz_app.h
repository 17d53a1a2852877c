/* fuzz_app: what every libFuzzer harness of fuzz/ shares, and nothing that
 * parses: one responder worker (struct app) whose MariaDB and Redis sockets
 * do not exist, so every store call fails at once as in an outage and a
 * handler runs all of its parsing and validation before answering 503;
 * requests built from fuzz bytes; and the oracle every answer must pass
 * (no 500, errors in the contract's JSON shape). The bytes always go to the
 * src/ code the responder runs: a harness never re-implements a parser. */
#ifndef GUILD_FUZZ_APP_H
#define GUILD_FUZZ_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct app;
struct arena;
struct req;
struct resp;

/* The libFuzzer entry points (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The HS256 secret of the fuzz worker: public, for fuzzing only (the JWT
 * seeds of fuzz/corpus/ are signed with it). */
#define FUZZ_JWT_SECRET "fuzz-only-secret-never-deployed-0123456789abcdef"

/* The trusted proxies of the fuzz worker (X-Forwarded-For counts from them). */
#define FUZZ_TRUSTED_PROXIES "127.0.0.1, 10.0.0.0/8, ::1, 2001:db8::/32"

/* The worker, built on first use and kept for the process: config from the
 * defaults plus the settings above (password cost 4, logs to /dev/null),
 * stores unreachable. Aborts when it cannot be built (a harness bug). */
struct app *fuzz_app(void);

/* The worker's arena (reset by fuzz_begin). */
struct arena *fuzz_arena(void);

/* Starts an input: resets the worker's arena, so nothing of the previous
 * input survives (the responder resets it after each request). Call first. */
void fuzz_begin(void);

/* Starts a request on the worker: rq zeroed with the worker's arena, rs
 * initialised. Several requests of one input share the arena. */
void fuzz_req_init(struct req *rq, struct resp *rs, const char *method, const char *path);

/* Gives rq a body (copied into the arena, NUL-terminated as fcgi_io does)
 * and a content type (NULL: none). */
void fuzz_req_body(struct req *rq, const char *content_type, const uint8_t *body, size_t len);

/* Parses query[0..len) as the dispatcher does (req_parse_urlencoded).
 * Returns false when the responder would have answered 400 instead. */
bool fuzz_req_query(struct req *rq, const char *query, size_t len);

/* Sets path parameters as the router would have captured them. */
void fuzz_req_path_params(struct req *rq, const char *const *params, size_t n);

/* Makes rq's caller user id (active; admin when is_admin), as the
 * dispatcher does after a valid token. */
void fuzz_req_as_user(struct req *rq, long long id, bool is_admin);

/* Reads a request the way the responder does (fcgi_io_read) from a fake
 * FastCGI request: env is its NULL-terminated "NAME=value" list (kept by rq:
 * put it in the arena), body the bytes on its stdin. Call after
 * fuzz_req_init. Returns fcgi_io_read's result (non-zero: rs holds the answer). */
int fuzz_fcgi_read(struct req *rq, struct resp *rs, char **env, const uint8_t *body,
                   size_t len);

/* Writes rs as the responder would (fcgi_io_write), into a discarding stream. */
void fuzz_fcgi_write(const struct resp *rs);

/* Routes rq and runs it like server_handle does after reading the request
 * (server_dispatch, then dropping an unused cache lookup). Returns the status. */
int fuzz_dispatch(struct req *rq, struct resp *rs);

/* The oracle: aborts (a libFuzzer crash, with the input saved) unless the
 * answer is one the contract allows: 2xx-5xx but never 500, a 204/304
 * without body, every other answer a JSON body, every error one of
 * {"detail": "..."} or {"detail": [{"loc": [...], "msg": "...", "type": "..."}]}.
 * With FUZZ_TRACE set in the environment it also prints every answer (to
 * see what a replayed input got). */
void fuzz_check_answer(const struct resp *rs, const char *what);

/* Aborts with msg when cond is false (a property of the code under test). */
void fuzz_require(bool cond, const char *msg);

/* Splits data into at most n fields at the first n-1 separator bytes; the
 * last field takes the rest. Each field is copied into the worker's arena
 * (after fuzz_begin), NUL-terminated (a field may hold NUL bytes:
 * lens[i] is its length). Missing fields are "". */
void fuzz_split(const uint8_t *data, size_t size, char sep, size_t n, char **fields,
                size_t *lens);

#endif
