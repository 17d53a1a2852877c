/* fuzz_cache_clear: the query string of DELETE /api/cache/clear, by
 * cachectl_clear as an admin (the dispatcher would stop at the token check
 * with the database down): the pattern's validation, then its use in the
 * SCAN pattern behind the escaped key prefix (the cache is down: 503). */
#include <string.h>

#include "fuzz_app.h"
#include "handlers/handlers.h"
#include "req.h"
#include "resp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req rq;
    struct resp rs;
    char *q;
    size_t len;

    fuzz_begin();
    fuzz_req_init(&rq, &rs, "DELETE", "/api/cache/clear");
    fuzz_split(data, size, '\0', 1, &q, &len);
    len = strlen(q); /* QUERY_STRING is a C string: it ends at a NUL byte */
    if (!fuzz_req_query(&rq, q, len))
        return 0; /* the dispatcher's "400 Malformed query string" */
    fuzz_req_as_user(&rq, 1, true);
    cachectl_clear(&rq, &rs);
    fuzz_check_answer(&rs, "DELETE /api/cache/clear");
    fuzz_require(rs.status == 422 || rs.status == 503, "a pattern neither refused nor tried");
    return 0;
}
