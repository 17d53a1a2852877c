/* summary: the analytics counters as data. A change to them is a list of
 * (metric, key, amount) entries that a write builds from the old and new
 * figures of the rows it touches; a full set of them is what a recomputation
 * from the base tables gives. Pure: building, merging, ordering, comparing
 * and encoding for db_summary.c, which owns the SQL. No I/O; unit-tested.
 * Invariant: after summary_finish() the entries are sorted by (metric, k,
 * name), unique, and none is zero; that order is the row-locking order. */
#ifndef GUILD_SUMMARY_H
#define GUILD_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>

/* The metrics: the values of analytics_summary.metric (sql/002). */
enum summary_metric {
    SUMMARY_USERS = 1,     /* number of users (k 0) */
    SUMMARY_ACTIVE = 2,    /* users with is_active (k 0) */
    SUMMARY_MISSIONS = 3,  /* sum of users.missions_completed (k 0) */
    SUMMARY_XP = 4,        /* sum of users.experience_points (k 0) */
    SUMMARY_RANK = 5,      /* users per guild_rank (name) */
    SUMMARY_XP_USERS = 6,  /* users per experience_points value (k) */
    SUMMARY_ATTEMPTS = 7,  /* progress rows per mission (k = mission_id) */
    SUMMARY_COMPLETED = 8, /* completed progress rows per mission (k) */
    SUMMARY_SCORE = 9,     /* sum of scores per mission (k), in score units */
};

#define SUMMARY_NAME_SZ 96 /* guild_rank is VARCHAR(20): up to 80 bytes of utf8mb4 */

struct summary_entry {
    int metric;
    long long k;
    char name[SUMMARY_NAME_SZ]; /* "" unless metric is SUMMARY_RANK */
    long long n;
};

/* A growable list of entries. failed is set when memory ran out (or a name
 * did not fit); every later call is then a no-op and users must not apply it. */
struct summary_delta {
    struct summary_entry *e;
    size_t len, cap;
    bool failed;
};

/* The figures of one user row that the counters depend on. */
struct summary_user {
    bool is_active;
    const char *guild_rank;
    long long experience_points;
    long long missions_completed;
};

void summary_init(struct summary_delta *d);
/* Frees the entries; d may be reused after summary_init. NULL-safe. */
void summary_cleanup(struct summary_delta *d);
/* Empties d (keeps its memory and clears failed). */
void summary_clear(struct summary_delta *d);

/* Adds n to (metric, k, name); name NULL means "". n == 0 is a no-op. */
void summary_add(struct summary_delta *d, int metric, long long k, const char *name,
                 long long n);

/* Adds (sign +1) or removes (sign -1) one user row's contribution. */
void summary_add_user(struct summary_delta *d, const struct summary_user *u, int sign);

/* Adds or removes one mission_progress row's contribution. */
void summary_add_progress(struct summary_delta *d, long long mission_id, bool completed,
                          long long score_units, int sign);

/* Sorts by (metric, k, name), sums entries with the same key and drops
 * zeros. Call before reading, comparing or encoding. */
void summary_finish(struct summary_delta *d);

/* True when d (finished) changes nothing. */
bool summary_is_empty(const struct summary_delta *d);

/* Walks two finished deltas together and calls fn for every key whose
 * amounts differ (a key missing on one side counts 0 there). Returns the
 * number of differences, or -1 when fn returned non-zero (it stops there). */
long summary_compare(const struct summary_delta *want, const struct summary_delta *have,
                     int (*fn)(const struct summary_entry *key, long long want_n,
                               long long have_n, void *ctx),
                     void *ctx);

/* Entries [from, to) of a finished d as the JSON array the apply statement
 * unpacks: [[metric,k,"name",n],...]; with lead, a first entry
 * [1,0,"",0] (the slot's users row, locked first by every writer) unless
 * the first entry already is that key. Returns a malloc'd string the caller
 * frees, or NULL when memory ran out. */
char *summary_to_json(const struct summary_delta *d, size_t from, size_t to, bool lead);

#endif
