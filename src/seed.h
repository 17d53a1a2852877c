/* seed: fills the database with realistic, reproducible demo data for
 * `guildctl seed`. The generator (PRNG, per-user plans) is pure and testable
 * without a database; seed_run() writes the plans in large batches.
 * Invariant: a planned user's missions_completed, experience_points and
 * guild_rank always agree with that user's planned completed progress rows.
 * Every seeded user's password is SEED_PASSWORD (one shared bcrypt hash). */
#ifndef GUILD_SEED_H
#define GUILD_SEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "missions.h"

struct db;

#define SEED_PASSWORD "guild-seed-password"
#define SEED_DEFAULT_SEED 42
#define SEED_MAX_USERS 10000000LL
#define SEED_MAX_SEED 4294967295ULL /* usernames keep 10 digits for it */
#define SEED_GROUP_USERS 10         /* progress rows are shared out per group */
#define SEED_INDEX_MAX 999999999LL  /* usernames carry the index in 9 digits */

/* xoshiro256** seeded through splitmix64: identical on every platform,
 * unlike rand(). */
struct seed_rng {
    uint64_t s[4];
};

/* Seeds r from (seed, stream); distinct streams give independent sequences. */
void seed_rng_init(struct seed_rng *r, uint64_t seed, uint64_t stream);
/* The next 64 random bits. */
uint64_t seed_rng_next(struct seed_rng *r);
/* A uniform integer in [0, n) without modulo bias; 0 when n is 0. */
uint64_t seed_rng_below(struct seed_rng *r, uint64_t n);

/* One run of the generator. users/progress are this run's totals
 * (0 <= progress <= MISSIONS_COUNT * users); first_index is the index of the
 * run's first user (usernames embed seed and index, so a second run with the
 * same seed starts after the first one's last index); now is the time the
 * data is relative to (unix seconds). */
struct seed_params {
    uint64_t seed;
    long long users;
    long long progress;
    long long first_index;
    long long now;
};

struct seed_progress {
    int mission_id;
    bool completed;
    double score;           /* 40..100 when completed, else 0 */
    long long started_at;   /* unix seconds; also the row's created_at */
    long long completed_at; /* -1 when not completed */
};

struct seed_user {
    long long index; /* first_index + position in the run */
    char username[51];
    char full_name[64];
    bool has_full_name;
    bool is_active;
    long long created_at;
    int nprogress; /* rows in progress[], distinct missions in id order */
    struct seed_progress progress[MISSIONS_COUNT];
    int missions_completed;
    long long experience_points;
    const char *guild_rank; /* static, from missions_rank() */
};

/* Number of groups of SEED_GROUP_USERS users in a run (the last may be short). */
long long seed_groups(const struct seed_params *p);

/* How many progress rows each user of group g gets (counts[0..n-1]); the
 * counts over all groups sum to p->progress and each is 0..MISSIONS_COUNT.
 * Returns n, the number of users in the group (0 when g is out of range). */
int seed_group_counts(const struct seed_params *p, long long g, int counts[SEED_GROUP_USERS]);

/* Plans the users of group g into out[0..n-1]. Same params, same plans.
 * Returns n (0 when g is out of range). */
int seed_plan_group(const struct seed_params *p, long long g,
                    struct seed_user out[SEED_GROUP_USERS]);

/* The prefix every username of a seed starts with ("seed42_"). */
void seed_user_prefix(uint64_t seed, char *buf, size_t sz);

/* The index the next run with this seed must start at: one past the highest
 * index already in users (1 for a fresh database). 0, or -1 on a database
 * error or an unparsable username in the seed's range (reason on stderr). */
int seed_next_index(struct db *db, uint64_t seed, long long *first_index);

struct seed_result {
    long long users;
    long long progress;
};

/* Inserts the run p describes; every user gets hashed_password. Commits in
 * chunks, so a failure leaves the chunks before it in place. res counts what
 * was committed. Returns 0, or -1 on a database error (reason on stderr). */
int seed_run(struct db *db, const struct seed_params *p, const char *hashed_password,
             struct seed_result *res);

#endif
