/* fuzz_register: a JSON body on POST /api/auth/register, through the
 * dispatcher: body_json_object, then users_create_from_body's readers and
 * checks (username, email syntax, password, full_name; POST /api/users runs
 * the same function). A body that passes is hashed (bcrypt cost 4) and the
 * insert fails on the unreachable database: 503. */
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
    fuzz_req_init(&rq, &rs, "POST", "/api/auth/register");
    fuzz_req_body(&rq, "application/json", data, size);
    fuzz_dispatch(&rq, &rs);
    fuzz_check_answer(&rs, "POST /api/auth/register");
    return 0;
}
