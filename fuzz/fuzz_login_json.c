/* fuzz_login_json: a JSON body on POST /api/auth/login, through the
 * dispatcher: body_json_object (jsonx_parse: UTF-8, strictness, depth),
 * the username/password field readers, the login limiter's key (store
 * down: fails open) and the user lookup (database down: 503). */
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
    fuzz_req_init(&rq, &rs, "POST", "/api/auth/login");
    fuzz_req_body(&rq, "application/json", data, size);
    fuzz_dispatch(&rq, &rs);
    fuzz_check_answer(&rs, "POST /api/auth/login (JSON)");
    return 0;
}
