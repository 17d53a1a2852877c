/* test_clientip: which address a request counts as (src/clientip.h).
 * clientip_in_list: single addresses, IPv4 and IPv6 CIDR blocks, lists with
 * spaces, invalid entries ignored; clientip_resolve: X-Forwarded-For honoured
 * only from a trusted peer, walked from the right, garbage falls back. */
#include <CUnit/CUnit.h>
#include <stdbool.h>
#include <string.h>

#include "clientip.h"
#include "testutil.h"

/* ---- clientip_in_list -------------------------------------------------- */

static void t_single(void)
{
    CU_ASSERT_TRUE(clientip_in_list("127.0.0.2", "127.0.0.2"));
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.1", "127.0.0.2"));
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.20", "127.0.0.2"));
    CU_ASSERT_FALSE(clientip_in_list("27.0.0.2", "127.0.0.2"));
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.2", ""));
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.2", NULL));
}

static void t_cidr_v4(void)
{
    /* /8 */
    CU_ASSERT_TRUE(clientip_in_list("10.0.0.0", "10.0.0.0/8"));
    CU_ASSERT_TRUE(clientip_in_list("10.255.255.255", "10.0.0.0/8"));
    CU_ASSERT_TRUE(clientip_in_list("10.1.2.3", "10.0.0.0/8"));
    CU_ASSERT_FALSE(clientip_in_list("11.0.0.0", "10.0.0.0/8"));
    CU_ASSERT_FALSE(clientip_in_list("9.255.255.255", "10.0.0.0/8"));
    /* host bits set in the network part are masked away */
    CU_ASSERT_TRUE(clientip_in_list("10.9.9.9", "10.1.2.3/8"));
    /* /24 */
    CU_ASSERT_TRUE(clientip_in_list("192.168.1.0", "192.168.1.0/24"));
    CU_ASSERT_TRUE(clientip_in_list("192.168.1.255", "192.168.1.0/24"));
    CU_ASSERT_FALSE(clientip_in_list("192.168.2.1", "192.168.1.0/24"));
    CU_ASSERT_FALSE(clientip_in_list("192.168.0.255", "192.168.1.0/24"));
    /* a prefix that is not a multiple of 8 */
    CU_ASSERT_TRUE(clientip_in_list("172.31.255.254", "172.16.0.0/12"));
    CU_ASSERT_FALSE(clientip_in_list("172.32.0.1", "172.16.0.0/12"));
    /* /32: exactly one address */
    CU_ASSERT_TRUE(clientip_in_list("1.2.3.4", "1.2.3.4/32"));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.5", "1.2.3.4/32"));
    /* /0: every IPv4 address, but no IPv6 one */
    CU_ASSERT_TRUE(clientip_in_list("0.0.0.0", "0.0.0.0/0"));
    CU_ASSERT_TRUE(clientip_in_list("8.8.8.8", "0.0.0.0/0"));
    CU_ASSERT_TRUE(clientip_in_list("255.255.255.255", "0.0.0.0/0"));
    CU_ASSERT_FALSE(clientip_in_list("::1", "0.0.0.0/0"));
}

static void t_ipv6(void)
{
    CU_ASSERT_TRUE(clientip_in_list("::1", "::1"));
    CU_ASSERT_TRUE(clientip_in_list("0:0:0:0:0:0:0:1", "::1")); /* same address, other spelling */
    CU_ASSERT_FALSE(clientip_in_list("::2", "::1"));
    CU_ASSERT_TRUE(clientip_in_list("2001:db8::1", "2001:db8::/32"));
    CU_ASSERT_TRUE(clientip_in_list("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8::/32"));
    CU_ASSERT_TRUE(clientip_in_list("2001:DB8::abcd", "2001:db8::/32"));
    CU_ASSERT_FALSE(clientip_in_list("2001:db9::1", "2001:db8::/32"));
    CU_ASSERT_FALSE(clientip_in_list("2001:db7:ffff::1", "2001:db8::/32"));
    CU_ASSERT_TRUE(clientip_in_list("fe80::1", "fe80::/10"));
    CU_ASSERT_TRUE(clientip_in_list("febf::1", "fe80::/10"));
    CU_ASSERT_FALSE(clientip_in_list("fec0::1", "fe80::/10"));
    /* the families never match each other */
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.1", "::1"));
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.1", "::/0"));
    CU_ASSERT_FALSE(clientip_in_list("::1", "127.0.0.1"));
    CU_ASSERT_TRUE(clientip_in_list("2001:db8::1", "::/0"));
}

static void t_mixed_list(void)
{
    const char *list = "10.0.0.0/8, 127.0.0.2 ,::1,  2001:db8::/32,192.168.1.0/24";

    CU_ASSERT_TRUE(clientip_in_list("10.20.30.40", list));
    CU_ASSERT_TRUE(clientip_in_list("127.0.0.2", list));
    CU_ASSERT_TRUE(clientip_in_list("::1", list));
    CU_ASSERT_TRUE(clientip_in_list("2001:db8:1::2", list));
    CU_ASSERT_TRUE(clientip_in_list("192.168.1.77", list));
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.1", list));
    CU_ASSERT_FALSE(clientip_in_list("8.8.8.8", list));
    CU_ASSERT_FALSE(clientip_in_list("::2", list));
    CU_ASSERT_FALSE(clientip_in_list("192.168.2.77", list));
    /* separators only, or trailing ones */
    CU_ASSERT_FALSE(clientip_in_list("127.0.0.2", " , ,, "));
    CU_ASSERT_TRUE(clientip_in_list("127.0.0.2", ",127.0.0.2,"));
}

static void t_invalid_entries(void)
{
    const char *list = "junk, 300.1.1.1, 1.2.3.4/33, /8, ::1/129, 1.2.3, 127.0.0.2";

    /* the valid entry at the end still counts */
    CU_ASSERT_TRUE(clientip_in_list("127.0.0.2", list));
    /* the invalid ones match nothing */
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.4", "1.2.3.4/33"));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.4", "1.2.3.4/-1"));
    CU_ASSERT_FALSE(clientip_in_list("::1", "::1/129"));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.4", "300.1.1.1"));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.0", "1.2.3"));
    CU_ASSERT_FALSE(clientip_in_list("8.8.8.8", list));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.4", "1.2.3.4x"));
    /* an entry longer than any address is skipped, not truncated into a match */
    CU_ASSERT_FALSE(clientip_in_list(
        "1.2.3.4", "1.2.3.4/32000000000000000000000000000000000000000000000000000000000000000000000000000000000"));
}

/* A prefix that is not a number must not turn into /0 ("trust everybody"):
 * a typo in GUILD_TRUSTED_PROXIES would let any client pick its address. */
static void t_invalid_prefix_not_zero(void)
{
    CU_ASSERT_FALSE(clientip_in_list("8.8.8.8", "10.0.0.0/abc"));
    CU_ASSERT_FALSE(clientip_in_list("8.8.8.8", "10.0.0.0/"));
    CU_ASSERT_FALSE(clientip_in_list("8.8.8.8", "10.0.0.0/ 8"));
    CU_ASSERT_FALSE(clientip_in_list("2001:db9::1", "2001:db8::/x"));
    /* trailing garbage after the number is not a valid prefix either */
    CU_ASSERT_FALSE(clientip_in_list("10.1.1.1", "10.0.0.0/8x"));
}

static void t_invalid_addr(void)
{
    CU_ASSERT_FALSE(clientip_in_list("junk", "0.0.0.0/0, ::/0"));
    CU_ASSERT_FALSE(clientip_in_list("", "0.0.0.0/0, ::/0"));
    CU_ASSERT_FALSE(clientip_in_list(NULL, "0.0.0.0/0, ::/0"));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.4 ", "0.0.0.0/0"));
    CU_ASSERT_FALSE(clientip_in_list("1.2.3.4:80", "0.0.0.0/0"));
    CU_ASSERT_FALSE(clientip_in_list("10.0.0.0/8", "10.0.0.0/8")); /* a block is not an address */
}

/* ---- clientip_resolve -------------------------------------------------- */

/* clientip_resolve into a fresh buffer; returns 1 when it produced want. */
static int resolves(const char *remote, const char *xff, const char *trusted, const char *want)
{
    char out[64];

    memset(out, 'x', sizeof(out));
    clientip_resolve(remote, xff, trusted, out, sizeof(out));
    if (strcmp(out, want) == 0)
        return 1;
    CU_FAIL("clientip_resolve");
    return 0;
}

static void t_untrusted_remote(void)
{
    CU_ASSERT(resolves("8.8.8.8", "1.2.3.4", "127.0.0.2", "8.8.8.8"));
    CU_ASSERT(resolves("127.0.0.1", "1.2.3.4", "127.0.0.2", "127.0.0.1"));
    CU_ASSERT(resolves("127.0.0.1", "1.2.3.4, 127.0.0.2", "127.0.0.2", "127.0.0.1"));
    /* no trusted list at all */
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4", "", "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4", NULL, "127.0.0.2"));
}

static void t_trusted_single(void)
{
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4", "127.0.0.2", "1.2.3.4"));
    CU_ASSERT(resolves("127.0.0.2", "  1.2.3.4  ", "127.0.0.2", "1.2.3.4"));
    CU_ASSERT(resolves("::1", "2001:db8::5", "::1", "2001:db8::5"));
    CU_ASSERT(resolves("10.0.0.9", "203.0.113.7", "10.0.0.0/8", "203.0.113.7"));
}

static void t_chain(void)
{
    const char *trusted = "127.0.0.2, 10.0.0.0/8";

    /* the rightmost address no trusted proxy added */
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4, 10.0.0.5", trusted, "1.2.3.4"));
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4,10.0.0.5", trusted, "1.2.3.4"));
    /* a client-supplied (spoofed) leftmost hop is not believed */
    CU_ASSERT(resolves("127.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.5", trusted, "1.2.3.4"));
    CU_ASSERT(resolves("127.0.0.2", "6.6.6.6, 1.2.3.4", trusted, "1.2.3.4"));
    /* every hop trusted: the leftmost one */
    CU_ASSERT(resolves("127.0.0.2", "10.0.0.7, 10.0.0.5", trusted, "10.0.0.7"));
    CU_ASSERT(resolves("127.0.0.2", "127.0.0.2", trusted, "127.0.0.2"));
    /* empty hops are skipped */
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4,, 10.0.0.5", trusted, "1.2.3.4"));
}

static void t_garbage(void)
{
    const char *trusted = "127.0.0.2, 10.0.0.0/8";

    /* garbage met before an untrusted address: the proxy's own address */
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4, junk", trusted, "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", "junk", trusted, "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4:5678", trusted, "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", "1.2.3.4, 10.0.0.5, junk", trusted, "127.0.0.2"));
    /* garbage left of the answer is never looked at */
    CU_ASSERT(resolves("127.0.0.2", "junk, 1.2.3.4", trusted, "1.2.3.4"));
    /* a hop too long to be an address */
    CU_ASSERT(resolves("127.0.0.2",
                       "1111111111111111111111111111111111111111111111111111111111111111111111",
                       trusted, "127.0.0.2"));
}

/* One client, one spelling: the address keys its rate-limit bucket. */
static void t_canonical(void)
{
    const char *trusted = "127.0.0.2";

    CU_ASSERT(resolves("127.0.0.2", "2001:DB8:0:0::1", trusted, "2001:db8::1"));
    CU_ASSERT(resolves("127.0.0.2", "2001:0db8::0001", trusted, "2001:db8::1"));
    CU_ASSERT(resolves("127.0.0.2", "::ffff:192.0.2.1", trusted, "192.0.2.1"));
    CU_ASSERT(resolves("::FFFF:198.51.100.7", NULL, NULL, "198.51.100.7"));
    CU_ASSERT(resolves("2001:db8:0::5", NULL, NULL, "2001:db8::5"));
}

static void t_empty_xff(void)
{
    CU_ASSERT(resolves("127.0.0.2", "", "127.0.0.2", "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", "   ", "127.0.0.2", "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", " , ", "127.0.0.2", "127.0.0.2"));
    CU_ASSERT(resolves("127.0.0.2", NULL, "127.0.0.2", "127.0.0.2"));
    CU_ASSERT(resolves("8.8.8.8", NULL, "127.0.0.2", "8.8.8.8"));
}

static void t_null_remote(void)
{
    CU_ASSERT(resolves(NULL, NULL, "127.0.0.2", "unknown"));
    CU_ASSERT(resolves(NULL, "1.2.3.4", "127.0.0.2", "unknown"));
    CU_ASSERT(resolves("", "1.2.3.4", "127.0.0.2", "unknown"));
    CU_ASSERT(resolves(NULL, "1.2.3.4", "0.0.0.0/0, ::/0", "unknown"));
}

static void t_small_buffer(void)
{
    char out[8];

    memset(out, 'x', sizeof(out));
    clientip_resolve("127.0.0.2", "203.0.113.200", "127.0.0.2", out, sizeof(out));
    CU_ASSERT(memchr(out, '\0', sizeof(out)) != NULL); /* truncated, but terminated */
}

int main(void)
{
    static const struct test_case cases[] = {
        {"in_list: single addresses", t_single},
        {"in_list: IPv4 CIDR /8 /24 /12 /32 /0", t_cidr_v4},
        {"in_list: IPv6 ::1, 2001:db8::/32, fe80::/10", t_ipv6},
        {"in_list: mixed list with spaces", t_mixed_list},
        {"in_list: invalid entries ignored", t_invalid_entries},
        {"in_list: a non-numeric prefix is not /0", t_invalid_prefix_not_zero},
        {"in_list: invalid address is false", t_invalid_addr},
        {"resolve: untrusted remote ignores XFF", t_untrusted_remote},
        {"resolve: trusted remote + single XFF", t_trusted_single},
        {"resolve: chain, rightmost untrusted, all trusted -> leftmost", t_chain},
        {"resolve: garbage hop -> remote", t_garbage},
        {"resolve: one canonical spelling per address", t_canonical},
        {"resolve: empty/NULL XFF -> remote", t_empty_xff},
        {"resolve: NULL remote -> unknown", t_null_remote},
        {"resolve: small output buffer", t_small_buffer},
        {NULL, NULL},
    };

    return testutil_run("clientip", cases, NULL, NULL);
}
