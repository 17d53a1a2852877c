/* fresh: no stale read after a fault. Once the stack serves from the cache
 * again, the cached routes (user stats, the leaderboard, mission stats,
 * users/{id} and performance of the load's latest users) must equal what
 * MariaDB says, each read twice (the second read is a HIT); then one more
 * write (the next mission of one of those users, recorded in its ledger so
 * verify_writes checks it too) and the same reads again. */
#ifndef GUILD_CHAOS_FRESH_H
#define GUILD_CHAOS_FRESH_H

#include "load.h"
#include "verify.h"

/* Fills v->fresh_checked, fresh_stale, settle_ms; returns the number of
 * problems found (0: no stale read). */
int fresh_check(struct load *l, const char *base_url, struct verify *v);

#endif
