/* pwgate: a per-host cap on concurrent password hashes. A bcrypt check costs
 * ~55 ms of CPU at the default cost 10, so without a cap 200 anonymous
 * logins hold every worker of the pool for seconds and /ping waits behind
 * them. Every request that hashes or checks a password takes a slot first:
 * a login attempt for its whole length (the dummy check of an unknown user
 * included: handlers/auth.c), a registration or password change around its
 * hash (pwgate_hash). When the host already runs its cap the slot is
 * refused at once (the caller answers 503 + Retry-After) instead of
 * queueing, so a flood holds at most `cap` workers and CPUs and cheap
 * requests keep the rest. guildctl hashes directly: it is not reachable
 * from the network.
 *
 * Slots live in the pool's shared segment (metrics.h), one word each: 0 or
 * the holder's pid and process start time. A slot is taken and given back
 * around one function call (pwgate_hash, handlers/auth.c's login()), so no
 * early return can keep it. A process killed while holding one (kill -9)
 * cannot give it back; the next caller that finds the host full looks up
 * its holders in /proc (at most every 100 ms per process) and frees the
 * slots of dead ones (gone, zombie, or a pid reused by a process that
 * started later), and so does every responder at startup. Without the
 * segment the cap holds per process only. */
#ifndef GUILD_PWGATE_H
#define GUILD_PWGATE_H

#include <stdbool.h>
#include <stddef.h>

struct config;

enum pwgate_rc {
    PWGATE_OK,
    PWGATE_BUSY,   /* the host runs its cap: nothing was hashed */
    PWGATE_FAILED, /* pwgate_hash only: the hash itself failed */
};

/* The host-wide cap for a GUILD_PASSWORD_CONCURRENCY value: -1 (auto) is
 * half the online CPUs, at least 1; 0 means no cap; N is N (at most
 * METRICS_PW_SLOTS). Within one process at most GUILD_FCGI_THREADS - 1 run
 * at once (at least 1), so each process keeps a worker for its other
 * connections. */
int pwgate_host_cap(int setting);

/* Once per responder process, after metrics_open(): frees the slots whose
 * holders are dead. */
void pwgate_init(void);

/* password_hash() at cfg's cost inside a slot (registration, password
 * change). */
enum pwgate_rc pwgate_hash(const struct config *cfg, const char *pw, char *out, size_t outsz);

/* A slot: a token > 0 to hand to pwgate_leave() exactly once, or 0 when
 * the host (or this process) is at its cap. Counted in /metrics either way.
 * Keep the pair around a single call so that every path gives it back. */
int pwgate_enter(const struct config *cfg);
void pwgate_leave(int token);

#endif
