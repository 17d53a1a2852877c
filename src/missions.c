/* missions: see missions.h. */
#include "missions.h"

#include <math.h>
#include <string.h>

static const struct mission catalogue[MISSIONS_COUNT] = {
    {1, "The First Flame", "FastAPI Basics"},
    {2, "Records of Apprentices", "SQLAlchemy & CRUD"},
    {3, "Seal of the Keeper", "JWT Authentication"},
    {4, "External Scrolls", "API Integration"},
    {5, "Parallel Prophecies", "Async Programming"},
    {6, "The Guild Archives", "Data Analysis"},
    {7, "Echo of Time", "Redis Caching"},
    {8, "Circle of Truth", "Testing & CI"},
    {9, "The Forge", "Packaging"},
    {10, "Ascension", "Docker Deployment"},
    {11, "The Whispering Stream", "WebSockets"},
    {12, "The Mirror Gateway", "GraphQL"},
    {13, "The Sky Forge", "Cloud Deployment"},
};

const struct mission *missions_find(long long id)
{
    if (id < 1 || id > MISSIONS_COUNT)
        return NULL;
    return &catalogue[id - 1];
}

const struct mission *missions_all(void)
{
    return catalogue;
}

const char *missions_rank(long long completed)
{
    if (completed >= 13)
        return "Master";
    if (completed >= 10)
        return "Expert";
    if (completed >= 7)
        return "Journeyman";
    if (completed >= 3)
        return "Adept";
    return "Apprentice";
}

int missions_is_rank(const char *name)
{
    static const char *const ranks[] = {"Apprentice", "Adept", "Journeyman", "Expert", "Master"};

    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++)
        if (strcmp(name, ranks[i]) == 0)
            return 1;
    return 0;
}

int missions_xp(double score)
{
    if (!(score >= 0.0))
        return 0;
    if (score > 100.0)
        score = 100.0;
    return (int)floor(score / 10.0);
}

long long missions_score_units(double score)
{
    if (!(score >= 0.0))
        return 0;
    if (score > 100.0)
        score = 100.0;
    return llround(score * MISSIONS_SCORE_UNITS);
}

double missions_score_of(long long units)
{
    return (double)units / MISSIONS_SCORE_UNITS;
}
