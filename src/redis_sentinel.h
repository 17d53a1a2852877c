/* redis_sentinel: the pure parts of asking Redis Sentinel for a role's
 * master: the GUILD_*_REDIS_SENTINELS address list, the reply of SENTINEL
 * get-master-addr-by-name, the reply of ROLE, and which error replies mean
 * "this server is no longer (or not yet) the writable master". No I/O here:
 * redis_conn.c does the connecting, so that all of this is unit-tested. */
#ifndef GUILD_REDIS_SENTINEL_H
#define GUILD_REDIS_SENTINEL_H

#include <stdbool.h>
#include <stddef.h>

struct redisReply;

/* Longest host (name or IPv6 literal, without brackets) we keep. */
#define REDIS_SENTINEL_HOST_MAX 255
/* Most Sentinels one role may list. */
#define REDIS_SENTINEL_MAX 16

struct redis_sentinel_addr {
    char host[REDIS_SENTINEL_HOST_MAX + 1];
    int port;
};

/* Parses "host:port,host:port,[v6]:port" (blanks around entries allowed;
 * "" is an empty list). Fills out[0..*n) (at most max). Returns 0, or -1 with
 * the offending entry (truncated) in bad: an empty entry, a missing or bad
 * port (1..65535), a host with blanks, an unclosed '[', or more than max. */
int redis_sentinel_list_parse(const char *s, struct redis_sentinel_addr *out, size_t max,
                              size_t *n, char *bad, size_t badsz);

/* The reply of SENTINEL get-master-addr-by-name: a two-element array of
 * host and port strings. 0 with *out filled; -1 for a nil reply (the
 * Sentinel does not know the master name), an error or any other shape. */
int redis_sentinel_master_parse(const struct redisReply *r, struct redis_sentinel_addr *out);

/* True when a ROLE reply says "master" (its first element). */
bool redis_sentinel_role_is_master(const struct redisReply *r);

/* True for an error reply that means the server we talk to cannot take
 * writes as the master any more (READONLY: demoted to a replica;
 * MASTERDOWN: a replica that lost its master; LOADING: restarted and still
 * loading its data; NOREPLICAS: a master cut off from its replicas under
 * min-replicas-to-write, likely replaced already): the connection should be dropped and the master
 * discovered again. Redis may prefix a script's error with "ERR ... ", so
 * the code is also looked for after "-READONLY"/"READONLY" inside a script
 * error. */
bool redis_sentinel_is_failover_error(const struct redisReply *r);

#endif
