/* fuzz_if_none_match: the If-None-Match header of a cached GET, by
 * cache_etag_matches (the list of entity tags, "*", weak W/ tags, quoting).
 * Input: the header value. Properties: the tag itself, its weak form and
 * "*" always match, and ", <tag>" appended to any header without quotes
 * makes it match (a stray quote may open a quoted string that swallows what
 * follows: the header is malformed then, and a miss only costs a 200). */
#include <string.h>

#include "arena.h"
#include "cache.h"
#include "fuzz_app.h"

/* Our ETags: a quoted hex digest, as cache.c makes them. */
#define ETAG "\"0123456789abcdef0123456789abcdef\""

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct arena *a;
    char *inm, *with;
    size_t len;

    fuzz_begin();
    a = fuzz_arena();
    fuzz_split(data, size, '\0', 1, &inm, &len);
    (void)cache_etag_matches(inm, ETAG);
    (void)cache_etag_matches(inm, "\"\"");
    fuzz_require(cache_etag_matches(ETAG, ETAG) && cache_etag_matches("W/" ETAG, ETAG) &&
                     cache_etag_matches("*", ETAG),
                 "the tag itself does not match");
    if (strchr(inm, '"') == NULL) {
        with = arena_sprintf(a, "%s, %s", inm, ETAG);
        fuzz_require(with != NULL, "arena");
        fuzz_require(cache_etag_matches(with, ETAG), "a listed tag does not match");
    }
    return 0;
}
