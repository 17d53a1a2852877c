/* fuzz_user_update: a JSON body on PUT /api/users/1, by users_update (the
 * dispatcher would stop at the token check with the database down): the
 * field readers and checks of the update (email, full_name, password,
 * guild_rank, experience_points, missions_completed, is_active, is_admin)
 * and the admin-only rule. The first input byte picks the caller: bit 0
 * admin, bit 1 another user than 1. */
#include "fuzz_app.h"
#include "handlers/handlers.h"
#include "req.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const id[] = {"1"};
    struct req rq;
    struct resp rs;

    if (size < 1 || size - 1 > REQ_BODY_MAX)
        return 0;
    fuzz_begin();
    fuzz_req_init(&rq, &rs, "PUT", "/api/users/1");
    fuzz_req_path_params(&rq, id, 1);
    fuzz_req_as_user(&rq, (data[0] & 2) ? 2 : 1, (data[0] & 1) != 0);
    fuzz_req_body(&rq, "application/json", data + 1, size - 1);
    users_update(&rq, &rs);
    fuzz_check_answer(&rs, "PUT /api/users/1");
    return 0;
}
