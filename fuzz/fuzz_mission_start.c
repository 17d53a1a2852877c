/* fuzz_mission_start: a JSON body on POST /api/users/1/missions, by
 * progress_start as user 1 (the dispatcher would stop at the token check
 * with the database down): mission_id in pydantic's lax integer mode,
 * mission_name. A valid body reaches the database: 503. */
#include "fuzz_app.h"
#include "handlers/handlers.h"
#include "req.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const id[] = {"1"};
    struct req rq;
    struct resp rs;

    if (size > REQ_BODY_MAX)
        return 0;
    fuzz_begin();
    fuzz_req_init(&rq, &rs, "POST", "/api/users/1/missions");
    fuzz_req_path_params(&rq, id, 1);
    fuzz_req_as_user(&rq, 1, false);
    fuzz_req_body(&rq, "application/json", data, size);
    progress_start(&rq, &rs);
    fuzz_check_answer(&rs, "POST /api/users/1/missions");
    return 0;
}
