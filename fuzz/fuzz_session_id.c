/* fuzz_session_id: a session id as clients send it, the last segment of
 * /api/sessions/{id}: routed by router_match, then sessionctl_get and
 * sessionctl_delete as user 1 (the dispatcher would stop at the token check
 * with the database down), which check it with sessions_id_valid before the
 * store is asked. Property: an id that is not a UUID v4 is 404 without
 * touching the store; a UUID v4 goes to the store (down: 503). The
 * responder reads no session cookie (guild_session is only set for
 * browsers), so the path is the only place a session id comes in. */
#include <string.h>

#include "arena.h"
#include "fuzz_app.h"
#include "handlers/handlers.h"
#include "req.h"
#include "resp.h"
#include "router.h"
#include "sessions.h"

static void run(const char *method, const char *path, int (*handler)(struct req *, struct resp *))
{
    struct req rq;
    struct resp rs;
    size_t n;
    const struct route *table = router_routes(&n), *route = NULL;
    char allow[64], *buf;

    fuzz_req_init(&rq, &rs, method, path);
    buf = arena_alloc(rq.arena, strlen(path) + 1);
    fuzz_require(buf != NULL, "arena");
    if (router_match(table, n, method, path, &route, rq.path_params, REQ_MAX_PATH_PARAMS,
                     &rq.npath_params, buf, allow, sizeof(allow)) != ROUTER_FOUND ||
        route->handler != handler)
        return; /* "/" in the id, or empty: another route or 404 */
    fuzz_req_as_user(&rq, 1, false);
    handler(&rq, &rs);
    fuzz_check_answer(&rs, path);
    fuzz_require(rs.status == (sessions_id_valid(req_path_param(&rq, 0)) ? 503 : 404),
                 "session id check and answer disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *id, *path;
    size_t len;

    fuzz_begin();
    fuzz_split(data, size, '\0', 1, &id, &len); /* a path is a C string: it ends at a NUL */
    path = arena_sprintf(fuzz_arena(), "/api/sessions/%s", id);
    fuzz_require(path != NULL, "arena");
    run("GET", path, sessionctl_get);
    run("DELETE", path, sessionctl_delete);
    return 0;
}
