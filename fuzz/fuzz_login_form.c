/* fuzz_login_form: a form body (OAuth2 password flow,
 * application/x-www-form-urlencoded) on POST /api/auth/token, through the
 * dispatcher: the UTF-8 check and req_parse_urlencoded in auth_login's
 * credential reader, the field checks, the login limiter's key (the store
 * is down: it fails open) and the user lookup (the database is down: 503).
 * The body may hold any byte, NUL included, as a real one can. */
#include "fuzz_app.h"
#include "req.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req rq;
    struct resp rs;

    if (size > REQ_BODY_MAX)
        return 0; /* fcgi_io answers 413 before any parser runs */
    fuzz_begin();
    fuzz_req_init(&rq, &rs, "POST", "/api/auth/token");
    fuzz_req_body(&rq, "application/x-www-form-urlencoded", data, size);
    fuzz_dispatch(&rq, &rs);
    fuzz_check_answer(&rs, "POST /api/auth/token (form)");
    return 0;
}
