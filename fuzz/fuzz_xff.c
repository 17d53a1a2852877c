/* fuzz_xff: X-Forwarded-For and the peer address, by clientip_resolve
 * under several trusted-proxy lists, as the dispatcher runs it for every
 * request (the result keys the rate limiter). Input: REMOTE_ADDR, a
 * newline, the header value. Properties: the result fits, it is the peer
 * unless the peer is a trusted proxy, and anything else it returns is an
 * address that was in the header. */
#include <arpa/inet.h>
#include <string.h>

#include "clientip.h"
#include "fuzz_app.h"

static bool is_address(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void check(const char *remote, const char *xff, const char *trusted)
{
    char out[64];
    const char *peer = *remote ? remote : "unknown";

    memset(out, 'x', sizeof(out));
    clientip_resolve(remote, xff, trusted, out, sizeof(out));
    fuzz_require(memchr(out, '\0', sizeof(out)) != NULL, "result not terminated");
    if (strncmp(out, peer, sizeof(out) - 1) == 0)
        return;
    fuzz_require(clientip_in_list(remote, trusted), "an untrusted peer was overridden");
    fuzz_require(is_address(out), "the result is not an address");
    fuzz_require(strstr(xff, out) != NULL, "the result is not from the header");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const lists[] = {"", "127.0.0.1", FUZZ_TRUSTED_PROXIES,
                                        "0.0.0.0/0, ::/0", "10.0.0.0/33, ::ffff:0:0/96"};
    char *f[2];
    size_t lens[2];

    fuzz_begin();
    fuzz_split(data, size, '\n', 2, f, lens);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
        check(f[0], f[1], lists[i]);
    (void)clientip_in_list(f[1], FUZZ_TRUSTED_PROXIES);
    return 0;
}
