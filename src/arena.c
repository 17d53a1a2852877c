/* arena: chunked bump allocator with a hard cap; see arena.h.
 * Chunks grow to fit large requests (a 64 KiB body fits in one allocation).
 * Not thread-safe: each responder process is single-threaded. */
#include "arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK_MIN (16u * 1024u)
#define ARENA_ALIGN 16u

struct arena_chunk {
    struct arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

void arena_init(struct arena *a, size_t cap)
{
    a->head = NULL;
    a->total = 0;
    a->cap = cap;
}

static struct arena_chunk *chunk_new(struct arena *a, size_t need)
{
    size_t size = need > ARENA_CHUNK_MIN ? need : ARENA_CHUNK_MIN;
    struct arena_chunk *c;

    if (size > a->cap || a->total > a->cap - size)
        return NULL;
    if ((c = malloc(sizeof(*c) + size)) == NULL)
        return NULL;
    c->size = size;
    c->used = 0;
    c->next = a->head;
    a->head = c;
    a->total += size;
    return c;
}

void *arena_alloc(struct arena *a, size_t n)
{
    struct arena_chunk *c = a->head;
    size_t off;

    if (n == 0)
        n = 1;
    if (n > a->cap)
        return NULL;
    if (c != NULL) {
        off = (c->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
        if (off <= c->size && c->size - off >= n) {
            c->used = off + n;
            return c->data + off;
        }
    }
    if ((c = chunk_new(a, n)) == NULL)
        return NULL;
    c->used = n;
    return c->data;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
    char *p;

    if (s == NULL || (p = arena_alloc(a, n + 1)) == NULL)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
    return s == NULL ? NULL : arena_strndup(a, s, strlen(s));
}

char *arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
{
    char small[256]; /* most strings fit: format once, then copy */
    va_list ap2;
    char *p;
    int n;

    va_copy(ap2, ap);
    n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0 || (p = arena_alloc(a, (size_t)n + 1)) == NULL)
        return NULL;
    if ((size_t)n < sizeof(small))
        memcpy(p, small, (size_t)n + 1);
    else
        vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *arena_sprintf(struct arena *a, const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = arena_vsprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

void arena_reset(struct arena *a)
{
    struct arena_chunk *c = a->head, *next;

    if (c == NULL)
        return;
    /* keep the oldest chunk (the tail): it is the steady-state working set */
    while (c->next != NULL) {
        next = c->next;
        a->total -= c->size;
        free(c);
        c = next;
    }
    c->used = 0;
    a->head = c;
}

void arena_cleanup(struct arena *a)
{
    struct arena_chunk *c = a->head, *next;

    while (c != NULL) {
        next = c->next;
        free(c);
        c = next;
    }
    a->head = NULL;
    a->total = 0;
}
