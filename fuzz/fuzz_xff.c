/* fuzz_xff: X-Forwarded-For and the peer address, by clientip_resolve
 * under several trusted-proxy lists, as the dispatcher runs it for every
 * request (the result keys the rate limiter). Input: REMOTE_ADDR, a
 * newline, the header value. Properties: the result fits, it is the peer
 * unless the peer is a trusted proxy, and anything else it returns is an
 * address that was in the header; both in their canonical spelling. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "clientip.h"
#include "fuzz_app.h"

static bool is_address(const char *s)
{
    unsigned char buf[16];

    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

/* s in inet_ntop's spelling (an IPv4-mapped address as IPv4) into out, as
 * clientip_resolve answers; text that is no address is copied. */
static void canon(const char *s, char *out, size_t sz)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a[16];

    if (inet_pton(AF_INET, s, a) == 1)
        inet_ntop(AF_INET, a, out, (socklen_t)sz);
    else if (inet_pton(AF_INET6, s, a) == 1)
        inet_ntop(memcmp(a, mapped, 12) == 0 ? AF_INET : AF_INET6,
                  memcmp(a, mapped, 12) == 0 ? (const void *)(a + 12) : (const void *)a, out,
                  (socklen_t)sz);
    else
        snprintf(out, sz, "%s", s);
}

/* True when one comma-separated hop of xff is the address out (any spelling). */
static bool from_header(const char *xff, const char *out)
{
    char hop[64], c[64];
    const char *p = xff;

    while (*p != '\0') {
        size_t n = strcspn(p, ",");
        const char *h = p;
        size_t m = n;
        while (m > 0 && *h == ' ') {
            h++;
            m--;
        }
        while (m > 0 && h[m - 1] == ' ')
            m--;
        if (m > 0 && m < sizeof(hop)) {
            memcpy(hop, h, m);
            hop[m] = '\0';
            canon(hop, c, sizeof(c));
            if (strcmp(c, out) == 0)
                return true;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    return false;
}

static void check(const char *remote, const char *xff, const char *trusted)
{
    char out[64], peer[64];

    canon(*remote ? remote : "unknown", peer, sizeof(peer));
    memset(out, 'x', sizeof(out));
    clientip_resolve(remote, xff, trusted, out, sizeof(out));
    fuzz_require(memchr(out, '\0', sizeof(out)) != NULL, "result not terminated");
    if (strncmp(out, peer, sizeof(out) - 1) == 0)
        return;
    fuzz_require(clientip_in_list(remote, trusted), "an untrusted peer was overridden");
    fuzz_require(is_address(out), "the result is not an address");
    fuzz_require(from_header(xff, out), "the result is not from the header");
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
