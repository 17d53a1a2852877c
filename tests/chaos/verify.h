/* verify: that no acknowledged write was lost, once a load has stopped.
 * - verify_writes: every acknowledged write is in MariaDB (registrations,
 *   mission starts and completions, with the score sent), every user's totals
 *   agree with its progress rows, and a user whose writes all got a definite
 *   answer has exactly the total the last completion announced.
 * - verify_sessions: every acknowledged session is still readable by its owner.
 * Also the counters and notes every check fills (fresh.c's too), and the
 * MariaDB access they share. MariaDB is read through $MYSQL_CLI (stack.env),
 * the API through base_url.
 * Each function fills its counters in *v and returns the number of problems
 * (0: all good), with the first few described in v->notes. */
#ifndef GUILD_CHAOS_VERIFY_H
#define GUILD_CHAOS_VERIFY_H

#include "load.h"

struct verify {
    long users_acked, users_found;
    long starts_acked, starts_found;
    long completions_acked, completions_found;
    long totals_checked, totals_bad;   /* per-user XP / missions consistency */
    long sessions_acked, sessions_found;
    /* a store failover (Redis replicates asynchronously) may lose the last sessions: set
     * before verify_sessions, they are counted in sessions_lost, not as problems */
    int session_loss_allowed;
    long sessions_lost;
    long fresh_checked, fresh_stale;   /* cached figures compared with MariaDB */
    long settle_ms;                    /* wait until the cache served again (fresh_check) */
    int problems;
    char notes[1024];
};

int verify_writes(const struct load *l, struct verify *v);
int verify_sessions(const struct load *l, const char *base_url, struct verify *v);

/* Counts a problem and appends its description (printf-style) to v->notes. */
void verify_note(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Runs query through $MYSQL_CLI -N -B; calls row(fields, nfields, ctx) for
 * each output row (tab-separated, at most 16 fields). Returns the number of
 * rows, or -1 when the client failed. */
long verify_sql(const char *query, void (*row)(char **f, int n, void *ctx), void *ctx);

#endif
