/* fuzz_request: a whole request as nginx hands it to the responder, from
 * the FastCGI parameters to the bytes written back: fcgi_io_read (method,
 * REQUEST_URI decoding and cleaning, the query string, Content-Length and
 * the body), server_dispatch (routing, X-Forwarded-For, the bearer token,
 * the limiter and the cache, both down, then the handler) and
 * fcgi_io_write. Input: eight lines, then the body: REQUEST_METHOD,
 * REQUEST_URI, CONTENT_TYPE, CONTENT_LENGTH, Authorization,
 * X-Forwarded-For, If-None-Match, REMOTE_ADDR (an empty line: absent). */
#include <string.h>

#include "arena.h"
#include "fuzz_app.h"
#include "req.h"
#include "resp.h"

#define NFIELDS 9

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[NFIELDS - 1] = {
        "REQUEST_METHOD",       "REQUEST_URI",       "CONTENT_TYPE",       "CONTENT_LENGTH",
        "HTTP_AUTHORIZATION",   "HTTP_X_FORWARDED_FOR", "HTTP_IF_NONE_MATCH", "REMOTE_ADDR"};
    struct req rq;
    struct resp rs;
    char *f[NFIELDS], *env[NFIELDS + 1], *q;
    size_t lens[NFIELDS], n = 0;

    if (size > REQ_BODY_MAX + 1024)
        return 0;
    fuzz_begin();
    fuzz_req_init(&rq, &rs, NULL, NULL);
    fuzz_split(data, size, '\n', NFIELDS, f, lens);
    for (size_t i = 0; i < NFIELDS - 1; i++) {
        if (*f[i] == '\0')
            continue; /* absent; a parameter also ends at its first NUL byte */
        env[n] = arena_sprintf(rq.arena, "%s=%s", names[i], f[i]);
        fuzz_require(env[n++] != NULL, "arena");
    }
    if ((q = strchr(f[1], '?')) != NULL) { /* nginx's $query_string */
        env[n] = arena_sprintf(rq.arena, "QUERY_STRING=%s", q + 1);
        fuzz_require(env[n++] != NULL, "arena");
    }
    env[n] = NULL;
    if (fuzz_fcgi_read(&rq, &rs, env, (const uint8_t *)f[NFIELDS - 1], lens[NFIELDS - 1]) == 0)
        fuzz_dispatch(&rq, &rs);
    fuzz_check_answer(&rs, rq.path ? rq.path : "(no path)");
    fuzz_fcgi_write(&rs);
    return 0;
}
