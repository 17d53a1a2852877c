/* clientip: see clientip.h. */
#include "clientip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Parses "a.b.c.d" or an IPv6 address into 16 bytes (IPv4 mapped), with its
 * bit length (32 or 128). */
static bool parse_addr(const char *s, unsigned char out[16], int *bits)
{
    unsigned char v4[4];

    if (inet_pton(AF_INET, s, v4) == 1) {
        memset(out, 0, 16);
        memcpy(out + 12, v4, 4);
        *bits = 32;
        return true;
    }
    if (inet_pton(AF_INET6, s, out) == 1) {
        *bits = 128;
        return true;
    }
    return false;
}

/* Writes addr's one spelling into out: "2001:DB8:0::1", "2001:db8::1" and
 * "::ffff:192.0.2.1" vs "192.0.2.1" are one client, and the address keys a
 * rate-limit bucket, so two spellings must never make two buckets. Text
 * that is no address is copied as is. */
static void canonical(const char *addr, char *out, size_t sz)
{
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    int bits;

    if (!parse_addr(addr, a, &bits)) {
        snprintf(out, sz, "%s", addr);
        return;
    }
    if (bits == 32 || memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0)
        inet_ntop(AF_INET, a + 12, text, sizeof(text));
    else
        inet_ntop(AF_INET6, a, text, sizeof(text));
    snprintf(out, sz, "%s", text);
}

/* True when addr (text) lies in entry ("addr" or "addr/prefix"). */
static bool in_entry(const unsigned char a[16], int abits, const char *entry)
{
    char buf[64];
    unsigned char net[16];
    const char *slash = strchr(entry, '/');
    int bits, prefix;
    size_t len = slash ? (size_t)(slash - entry) : strlen(entry);

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, entry, len);
    buf[len] = '\0';
    if (!parse_addr(buf, net, &bits) || bits != abits)
        return false;
    prefix = bits;
    if (slash != NULL) { /* digits only: "/abc" or "/8x" must not read as /0 */
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || p > bits)
            return false;
        prefix = (int)p;
    }
    prefix += 128 - bits; /* IPv4 lives in the last 32 bits */
    for (int i = 0; i < 16 && prefix > 0; i++, prefix -= 8) {
        unsigned char mask = prefix >= 8 ? 0xFF : (unsigned char)(0xFF << (8 - prefix));
        if ((a[i] & mask) != (net[i] & mask))
            return false;
    }
    return true;
}

/* True when entry is an address or CIDR block we can match. */
static bool entry_valid(const char *entry)
{
    unsigned char any[16] = {0};

    /* an address that parses matches itself, so in_entry tells validity */
    char buf[64];
    const char *slash = strchr(entry, '/');
    size_t len = slash ? (size_t)(slash - entry) : strlen(entry);
    int bits;

    if (len == 0 || len >= sizeof(buf))
        return false;
    memcpy(buf, entry, len);
    buf[len] = '\0';
    if (!parse_addr(buf, any, &bits))
        return false;
    return in_entry(any, bits, entry);
}

bool clientip_list_valid(const char *list, char *bad, size_t bad_sz)
{
    char entry[80];

    while (*list) {
        size_t n;
        while (*list == ' ' || *list == ',')
            list++;
        n = strcspn(list, ", ");
        if (n > 0) {
            snprintf(entry, sizeof(entry), "%.*s", (int)n, list);
            if (n >= sizeof(entry) || !entry_valid(entry)) {
                snprintf(bad, bad_sz, "%s", entry);
                return false;
            }
        }
        list += n;
    }
    return true;
}

bool clientip_in_list(const char *addr, const char *list)
{
    unsigned char a[16];
    char entry[80];
    int bits;

    if (addr == NULL || list == NULL || !parse_addr(addr, a, &bits))
        return false;
    while (*list) {
        size_t n;
        while (*list == ' ' || *list == ',')
            list++;
        n = strcspn(list, ", ");
        if (n > 0 && n < sizeof(entry)) {
            memcpy(entry, list, n);
            entry[n] = '\0';
            if (in_entry(a, bits, entry))
                return true;
        }
        list += n;
    }
    return false;
}

void clientip_resolve(const char *remote, const char *xff, const char *trusted, char *out,
                      size_t sz)
{
    char hop[64];
    const char *end;

    canonical(remote && *remote ? remote : "unknown", out, sz);
    if (xff == NULL || trusted == NULL || *trusted == '\0' || !clientip_in_list(remote, trusted))
        return;
    /* walk right to left: the rightmost hop not added by a trusted proxy */
    end = xff + strlen(xff);
    while (end > xff) {
        const char *start = end;
        size_t n;
        while (start > xff && start[-1] != ',')
            start--;
        while (*start == ' ')
            start++;
        n = (size_t)(end - start);
        while (n > 0 && start[n - 1] == ' ')
            n--;
        if (n > 0 && n < sizeof(hop)) {
            unsigned char tmp[16];
            int bits;
            memcpy(hop, start, n);
            hop[n] = '\0';
            if (!parse_addr(hop, tmp, &bits))
                return; /* garbage in the header: keep the proxy's address */
            canonical(hop, out, sz);
            if (!clientip_in_list(hop, trusted))
                return;
        }
        end = start;
        while (end > xff && (end[-1] == ',' || end[-1] == ' '))
            end--;
    }
}
