/* clientip: which address a request came from. REMOTE_ADDR (the peer nginx
 * saw) unless that peer is a trusted proxy, in which case X-Forwarded-For is
 * walked from the right, skipping trusted proxies, to the first address that
 * is not one. Pure functions, unit-tested. */
#ifndef GUILD_CLIENTIP_H
#define GUILD_CLIENTIP_H

#include <stdbool.h>
#include <stddef.h>

/* True when addr is in the comma-separated list of addresses and CIDR
 * blocks (IPv4 and IPv6), e.g. "10.0.0.0/8, 127.0.0.2, ::1". */
bool clientip_in_list(const char *addr, const char *list);

/* True when every entry of list is an address or a CIDR block; else false
 * with the first bad entry copied into bad. Checked at startup. */
bool clientip_list_valid(const char *list, char *bad, size_t bad_sz);

/* Writes the client address into out (sz bytes), in one canonical spelling
 * (inet_ntop's; an IPv4-mapped IPv6 address as IPv4). remote may be NULL
 * ("unknown"); xff may be NULL. */
void clientip_resolve(const char *remote, const char *xff, const char *trusted, char *out,
                      size_t sz);

#endif
