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

/* Scores are kept in whole millionths of a point ("score units"), so every
 * sum of scores is an exact integer (docs/decisions.md, Analytics). */
#define MISSIONS_SCORE_UNITS 1000000

/* A score in [0, 100] (clamped; NaN is 0) as score units, rounded to the
 * nearest (halves away from zero): 85.5 -> 85500000. */
long long missions_score_units(double score);

/* The score that is stored for u units: the double nearest u / 1e6.
 * missions_score_units(missions_score_of(u)) == u for 0 <= u <= 1e8, and
 * MariaDB's ROUND(score * 1000000) of the stored value gives u back. */
double missions_score_of(long long units);

#endif
