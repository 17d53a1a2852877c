/* arena: the per-request allocator (h2o's pool idea).
 * Everything a request needs lives here and is released in one go by
 * arena_reset() after the response is sent. The arena has a hard cap: past it
 * arena_alloc() returns NULL and the request gets a 500, never an abort. */
#ifndef GUILD_ARENA_H
#define GUILD_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_chunk;

struct arena {
    struct arena_chunk *head; /* newest chunk first; the last one is kept on reset */
    size_t total;             /* bytes held in chunks */
    size_t cap;               /* hard limit on total */
};

/* Prepares an empty arena that will never hold more than cap bytes. */
void arena_init(struct arena *a, size_t cap);

/* Returns n bytes aligned for any type, or NULL when the cap would be passed
 * or malloc failed. Memory lives until arena_reset()/arena_cleanup(). */
void *arena_alloc(struct arena *a, size_t n);

/* Copies of strings in the arena; NULL on exhaustion (or when s is NULL). */
char *arena_strdup(struct arena *a, const char *s);
char *arena_strndup(struct arena *a, const char *s, size_t n);

/* printf into the arena; NULL on exhaustion. */
char *arena_sprintf(struct arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Frees everything but the first chunk, so a steady workload does not malloc. */
void arena_reset(struct arena *a);

/* Frees every chunk. The arena may be initialised again. */
void arena_cleanup(struct arena *a);

#endif
