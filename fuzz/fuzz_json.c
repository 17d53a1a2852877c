/* fuzz_json: the JSON body reader every JSON route starts with,
 * body_json_object (Content-Type check, then jsonx_parse: UTF-8, the lexical
 * strictness scan, json-c's tokener, the depth limit), and the serializer
 * every answer goes through. Input: the Content-Type header, a newline, the
 * body. Properties: an accepted body is valid UTF-8 and a JSON object; what
 * jsonx serializes, jsonx parses again to the same text (a stored session
 * or cache entry is read back by the same parser). */
#include <json-c/json.h>
#include <string.h>

#include "body.h"
#include "fuzz_app.h"
#include "jsonx.h"
#include "req.h"
#include "resp.h"

/* Serialize, parse back, serialize again: same text. */
static void check_round_trip(json_object *o)
{
    size_t len, len2;
    const char *text = jsonx_to_string(o, &len), *text2;
    json_object *back = NULL;

    fuzz_require(text != NULL, "jsonx_to_string failed");
    fuzz_require(jsonx_parse(text, len, &back) == JSONX_OK,
                 "jsonx_parse rejects what jsonx_to_string wrote");
    text2 = jsonx_to_string(back, &len2);
    fuzz_require(len == len2 && memcmp(text, text2, len) == 0, "serialization not stable");
    json_object_put(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct req rq;
    struct resp rs;
    char *f[2];
    size_t lens[2];
    json_object *o = NULL;
    enum jsonx_rc rc;

    if (size > REQ_BODY_MAX)
        return 0;
    fuzz_begin();
    fuzz_req_init(&rq, &rs, "POST", "/api/sessions");
    fuzz_split(data, size, '\n', 2, f, lens);
    /* a header is a C string: the content type ends at a NUL byte */
    fuzz_req_body(&rq, f[0], (const uint8_t *)f[1], lens[1]);
    if (body_json_object(&rq, &rs, &o) != 0) {
        fuzz_require(o == NULL, "an error still returned an object");
        fuzz_check_answer(&rs, "body_json_object");
    } else {
        fuzz_require(o != NULL && json_object_is_type(o, json_type_object),
                     "accepted body is not an object");
        fuzz_require(req_is_json(&rq), "accepted body without a JSON content type");
        json_object_put(o);
        o = NULL;
    }
    rc = jsonx_parse(f[1], lens[1], &o);
    fuzz_require((rc == JSONX_OK) == (o != NULL), "result and object disagree");
    if (rc == JSONX_OK) {
        fuzz_require(jsonx_utf8_valid(f[1], lens[1]), "accepted invalid UTF-8");
        check_round_trip(o);
        json_object_put(o);
    }
    return 0;
}
