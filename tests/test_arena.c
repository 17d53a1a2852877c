/* test_arena: the per-request bump allocator. Covers 16-byte alignment,
 * growth across chunks, allocations larger than a chunk, the hard cap (NULL,
 * never abort), the string helpers, and reuse after arena_reset() and
 * arena_cleanup(). */
#include <CUnit/CUnit.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "testutil.h"

#define CHUNK_MIN (16u * 1024u) /* ARENA_CHUNK_MIN in arena.c */
#define BIG_CAP (4u * 1024u * 1024u)

static int aligned16(const void *p)
{
    return ((uintptr_t)p & 15u) == 0;
}

static void t_alignment(void)
{
    static const size_t sizes[] = {1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1};
    struct arena a;

    arena_init(&a, BIG_CAP);
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        unsigned char *p = arena_alloc(&a, sizes[i]);
        CU_ASSERT_PTR_NOT_NULL_FATAL(p);
        CU_ASSERT_TRUE(aligned16(p));
        memset(p, 0xAB, sizes[i]);
    }
    /* n == 0 still yields a distinct, aligned, usable pointer */
    void *z1 = arena_alloc(&a, 0), *z2 = arena_alloc(&a, 0);
    CU_ASSERT_PTR_NOT_NULL(z1);
    CU_ASSERT_PTR_NOT_NULL(z2);
    CU_ASSERT_PTR_NOT_EQUAL(z1, z2);
    CU_ASSERT_TRUE(aligned16(z1));
    CU_ASSERT_TRUE(aligned16(z2));
    arena_cleanup(&a);
}

/* 3000 allocations of 24 bytes (32 with padding) need ~96 KiB: several
 * chunks. Every block must keep its own contents (no overlap). */
static void t_many_small_across_chunks(void)
{
    enum { N = 3000, SZ = 24 };
    static unsigned char *ptrs[N];
    struct arena a;

    arena_init(&a, BIG_CAP);
    for (size_t i = 0; i < N; i++) {
        ptrs[i] = arena_alloc(&a, SZ);
        CU_ASSERT_PTR_NOT_NULL_FATAL(ptrs[i]);
        CU_ASSERT_TRUE(aligned16(ptrs[i]));
        memset(ptrs[i], (int)(i & 0xFF), SZ);
    }
    CU_ASSERT_TRUE(a.total > CHUNK_MIN);     /* it really grew past one chunk */
    CU_ASSERT_TRUE(a.total <= BIG_CAP);
    for (size_t i = 0; i < N; i++) {
        int ok = 1;
        for (size_t k = 0; k < SZ; k++)
            ok &= ptrs[i][k] == (unsigned char)(i & 0xFF);
        CU_ASSERT_TRUE(ok);
        if (!ok)
            break;
    }
    arena_cleanup(&a);
    CU_ASSERT_PTR_NULL(a.head);
    CU_ASSERT_EQUAL(a.total, 0);
}

static void t_big_alloc(void)
{
    struct arena a;
    unsigned char *small, *big, *after;
    size_t big_n = 100000; /* > 16 KiB chunk; a 64 KiB body must fit in one piece */

    arena_init(&a, BIG_CAP);
    small = arena_alloc(&a, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(small);
    memset(small, 'S', 10);
    big = arena_alloc(&a, big_n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_TRUE(aligned16(big));
    memset(big, 'B', big_n);
    CU_ASSERT_TRUE(a.total >= big_n + 10);
    after = arena_alloc(&a, 10);
    CU_ASSERT_PTR_NOT_NULL_FATAL(after);
    memset(after, 'A', 10);
    /* nothing overwrote anything */
    CU_ASSERT_EQUAL(small[0], 'S');
    CU_ASSERT_EQUAL(small[9], 'S');
    CU_ASSERT_EQUAL(big[0], 'B');
    CU_ASSERT_EQUAL(big[big_n - 1], 'B');
    CU_ASSERT_EQUAL(after[0], 'A');
    arena_cleanup(&a);
}

static void t_cap(void)
{
    struct arena a;
    size_t cap = 64u * 1024u;
    int got_null = 0;
    char fill[2000];

    /* a single request larger than the cap */
    arena_init(&a, cap);
    CU_ASSERT_PTR_NULL(arena_alloc(&a, cap + 1));
    CU_ASSERT_PTR_NULL(arena_alloc(&a, SIZE_MAX));
    CU_ASSERT_EQUAL(a.total, 0);

    /* filling up: small allocations eventually return NULL, and total never
     * passes the cap */
    for (int i = 0; i < 100000; i++) {
        if (arena_alloc(&a, 1000) == NULL) {
            got_null = 1;
            break;
        }
    }
    CU_ASSERT_TRUE(got_null);
    CU_ASSERT_TRUE(a.total <= cap);
    CU_ASSERT_PTR_NULL(arena_alloc(&a, 1000)); /* stays exhausted, no abort */
    memset(fill, 'f', sizeof(fill) - 1);
    fill[sizeof(fill) - 1] = '\0';
    CU_ASSERT_PTR_NULL(arena_strdup(&a, fill)); /* more than any chunk's slack */
    CU_ASSERT_PTR_NULL(arena_sprintf(&a, "%0*d", 20000, 1));
    arena_cleanup(&a);

    /* exactly the cap in one go fits; one more byte does not */
    arena_init(&a, cap);
    CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, cap));
    CU_ASSERT_EQUAL(a.total, cap);
    CU_ASSERT_PTR_NULL(arena_alloc(&a, 1));
    arena_cleanup(&a);
}

static void t_strings(void)
{
    struct arena a;
    char *s, *big;
    char longstr[20001];

    arena_init(&a, BIG_CAP);
    s = arena_strdup(&a, "hello world");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "hello world");
    s = arena_strdup(&a, "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "");
    CU_ASSERT_PTR_NULL(arena_strdup(&a, NULL));

    s = arena_strndup(&a, "hello world", 5);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "hello");
    s = arena_strndup(&a, "abc", 0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "");
    s = arena_strndup(&a, "a\0b", 3); /* copies n bytes as-is, embedded NUL */
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(memcmp(s, "a\0b\0", 4), 0);
    CU_ASSERT_PTR_NULL(arena_strndup(&a, NULL, 3));

    s = arena_sprintf(&a, "%d-%s-%05.1f", 42, "x", 3.14159);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "42-x-003.1");
    s = arena_sprintf(&a, "%s", "");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "");

    /* longer than a chunk */
    memset(longstr, 'q', sizeof(longstr) - 1);
    longstr[sizeof(longstr) - 1] = '\0';
    big = arena_sprintf(&a, "<%s>", longstr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(strlen(big), sizeof(longstr) + 1);
    CU_ASSERT_EQUAL(big[0], '<');
    CU_ASSERT_EQUAL(big[1], 'q');
    CU_ASSERT_EQUAL(big[sizeof(longstr) - 1], 'q');
    CU_ASSERT_EQUAL(big[sizeof(longstr)], '>');
    arena_cleanup(&a);
}

static void t_reset_reuses_memory(void)
{
    struct arena a;
    unsigned char *first, *again;
    size_t total_one_chunk;

    arena_init(&a, BIG_CAP);
    arena_reset(&a); /* on an empty arena: no-op */
    CU_ASSERT_PTR_NULL(a.head);
    CU_ASSERT_EQUAL(a.total, 0);

    first = arena_alloc(&a, 100);
    CU_ASSERT_PTR_NOT_NULL_FATAL(first);
    total_one_chunk = a.total;
    CU_ASSERT_EQUAL(total_one_chunk, CHUNK_MIN);
    for (int i = 0; i < 10; i++) /* grow to several chunks */
        CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, 10000));
    CU_ASSERT_TRUE(a.total > total_one_chunk);

    arena_reset(&a);
    CU_ASSERT_EQUAL(a.total, total_one_chunk); /* only the first chunk is kept */
    CU_ASSERT_PTR_NOT_NULL(a.head);
    again = arena_alloc(&a, 100);
    CU_ASSERT_PTR_EQUAL(again, first); /* the kept chunk is reused from its start */

    /* several request cycles: steady state, no growth */
    for (int cycle = 0; cycle < 5; cycle++) {
        for (int i = 0; i < 10; i++) {
            char *s = arena_sprintf(&a, "cycle %d item %d", cycle, i);
            CU_ASSERT_PTR_NOT_NULL_FATAL(s);
        }
        CU_ASSERT_EQUAL(a.total, total_one_chunk);
        arena_reset(&a);
        CU_ASSERT_EQUAL(a.total, total_one_chunk);
    }

    /* a reset arena still honours the cap accounting after regrowth */
    CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, 200000));
    CU_ASSERT_EQUAL(a.total, total_one_chunk + 200000);
    arena_reset(&a);
    CU_ASSERT_EQUAL(a.total, total_one_chunk);
    arena_cleanup(&a);
}

static void t_cleanup_then_init(void)
{
    struct arena a;
    char *s;

    arena_init(&a, BIG_CAP);
    CU_ASSERT_PTR_NOT_NULL(arena_alloc(&a, 50000));
    CU_ASSERT_PTR_NOT_NULL(arena_strdup(&a, "before"));
    arena_cleanup(&a);
    CU_ASSERT_PTR_NULL(a.head);
    CU_ASSERT_EQUAL(a.total, 0);
    arena_cleanup(&a); /* twice is harmless */
    CU_ASSERT_PTR_NULL(a.head);

    arena_init(&a, 32u * 1024u);
    CU_ASSERT_EQUAL(a.cap, 32u * 1024u);
    s = arena_strdup(&a, "after");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_STRING_EQUAL(s, "after");
    CU_ASSERT_PTR_NULL(arena_alloc(&a, 32u * 1024u)); /* new, smaller cap applies */
    arena_cleanup(&a);
}

int main(void)
{
    static const struct test_case cases[] = {
        {"alignment", t_alignment},
        {"many_small_across_chunks", t_many_small_across_chunks},
        {"big_alloc", t_big_alloc},
        {"cap", t_cap},
        {"strings", t_strings},
        {"reset_reuses_memory", t_reset_reuses_memory},
        {"cleanup_then_init", t_cleanup_then_init},
        {NULL, NULL},
    };
    return testutil_run("arena", cases, NULL, NULL);
}
