/* missions: the fixed mission catalogue (ids 1..13) and the guild ranks.
 * Pure data and arithmetic, shared by handlers, SQL seeding and tests. */
#ifndef GUILD_MISSIONS_H
#define GUILD_MISSIONS_H

#define MISSIONS_COUNT 13

struct mission {
    int id;
    const char *name;
    const char *focus;
};

/* The catalogue entry for id, or NULL when id is outside 1..13. */
const struct mission *missions_find(long long id);

/* The whole catalogue, in id order. */
const struct mission *missions_all(void);

/* The rank for a number of completed missions (Master, Expert, Journeyman,
 * Adept, Apprentice). */
const char *missions_rank(long long completed);

/* True when name is one of the five rank names. */
int missions_is_rank(const char *name);

/* XP for a completion: floor(score / 10) for a score in [0, 100]. */
int missions_xp(double score);

#endif
