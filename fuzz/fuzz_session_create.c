/* fuzz_session_create: a JSON body on POST /api/sessions, by
 * sessionctl_create as user 1 (the dispatcher would stop at the token check
 * with the database down): the 8 KiB cap, body_json_object, and the stored
 * value built from the client's fields (user_id and created_at cannot be
 * overridden), serialized as the store would get it. The store is down: 503. */
#include "fuzz_app.h"
#include "handlers/handlers.h"
#include "req.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req rq;
    struct resp rs;

    if (size > REQ_BODY_MAX)
        return 0;
    fuzz_begin();
    fuzz_req_init(&rq, &rs, "POST", "/api/sessions");
    fuzz_req_as_user(&rq, 1, false);
    fuzz_req_body(&rq, "application/json", data, size);
    sessionctl_create(&rq, &rs);
    fuzz_check_answer(&rs, "POST /api/sessions");
    return 0;
}
