/* metrics: see metrics.h. The segment is a fixed struct; its magic encodes
 * the layout, so a responder built with another layout re-creates it under
 * an exclusive flock instead of reading garbage. */
#include "metrics.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "arena.h"
#include "clock.h"
#include "router.h"

#define MAX_ROUTES 64
#define UNMATCHED MAX_ROUTES
static const int codes[] = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
                            409, 413, 415, 422, 429, 500, 502, 503, 504};
#define NCODES (sizeof(codes) / sizeof(codes[0]) + 1) /* + "other" */
static const double bucket_ms[] = {1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000};
#define NBUCKETS (sizeof(bucket_ms) / sizeof(bucket_ms[0]))
static const char *const kinds[] = {"users.stats", "users.advanced-stats", "missions.stats",
                                    "leaderboard", "performance", "user"};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
static const char *const families[] = {"users", "leaderboard", "missions", "user", "perf", "all"};
#define NFAMS (sizeof(families) / sizeof(families[0]))
static const char *const policies[] = {"api", "protected", "login"};
#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))
static const char *const roles[] = {"cache", "store"};

struct segment {
    uint64_t magic;
    uint64_t starts;
    uint64_t requests[MAX_ROUTES + 1][NCODES];
    uint64_t hist[MAX_ROUTES + 1][NBUCKETS + 1]; /* cumulative on render, +Inf last */
    uint64_t hist_sum_us[MAX_ROUTES + 1];
    uint64_t cache[NKINDS][4];
    uint64_t invalidations[NFAMS];
    uint64_t ratelimit[NPOLICIES][3];
    uint64_t redis_errors[2];
    uint64_t redis_master_switches[2];
    uint64_t mysql_errors;
    uint64_t cache_dirty; /* not a metric: a pool-wide flag, see metrics.h */
    /* the store's memory: the last INFO (valid 0 = unknown) and when it was
     * claimed, in monotonic ms (+1, so that 0 means never) */
    uint64_t store_mem_claimed_ms;
    uint64_t store_mem_valid;
    uint64_t store_mem_used;
    uint64_t store_mem_max;
    uint64_t password_checks[2]; /* refused, admitted */
    unsigned long long pw_slots[METRICS_PW_SLOTS]; /* not a metric: pwgate.c's slots */
    uint64_t cache_lost_seen; /* not a metric: the store's lost-invalidation count, as seen */
};

#define STORE_MEM_INTERVAL_MS 1000

#define SEGMENT_MAGIC (0x6775696c64000000ULL | (uint64_t)sizeof(struct segment))

static struct segment *seg;

static void add(uint64_t *c, uint64_t n)
{
    __atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t get(const uint64_t *c)
{
    return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/* The unix socket spawn-fcgi gave us on fd 0, + ".metrics": one segment per
 * pool, so two stacks on one host never mix their numbers. On a TCP
 * listener, one segment per port for the same reason. */
static void default_path(char *out, size_t sz)
{
    union {
        struct sockaddr sa;
        struct sockaddr_un un;
        struct sockaddr_in in4;
        struct sockaddr_in6 in6;
    } a;
    socklen_t len = sizeof(a);

    memset(&a, 0, sizeof(a));
    if (getsockname(0, &a.sa, &len) == 0) {
        if (a.sa.sa_family == AF_UNIX && a.un.sun_path[0] != '\0') {
            snprintf(out, sz, "%.*s.metrics", (int)(sizeof(a.un.sun_path) - 1), a.un.sun_path);
            return;
        }
        if (a.sa.sa_family == AF_INET || a.sa.sa_family == AF_INET6) {
            snprintf(out, sz, "/dev/shm/guild-metrics-%ld-tcp%u", (long)getuid(),
                     (unsigned)ntohs(a.sa.sa_family == AF_INET ? a.in4.sin_port : a.in6.sin6_port));
            return;
        }
    }
    snprintf(out, sz, "/dev/shm/guild-metrics-%ld", (long)getuid());
}

int metrics_open(const char *path)
{
    char def[256];
    struct stat st;
    void *p;
    int fd;

    if (path == NULL || *path == '\0') {
        default_path(def, sizeof(def));
        path = def;
    }
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return -1;
    if (flock(fd, LOCK_EX) != 0 || fstat(fd, &st) != 0 ||
        ((size_t)st.st_size != sizeof(struct segment) &&
         ftruncate(fd, (off_t)sizeof(struct segment)) != 0)) {
        close(fd);
        return -1;
    }
    p = mmap(NULL, sizeof(struct segment), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) {
        close(fd);
        return -1;
    }
    seg = p;
    if (seg->magic != SEGMENT_MAGIC) { /* new, or written by another layout */
        memset(seg, 0, sizeof(*seg));
        seg->magic = SEGMENT_MAGIC;
    }
    add(&seg->starts, 1);
    flock(fd, LOCK_UN);
    close(fd); /* the mapping stays */
    return 0;
}

void metrics_close(void)
{
    if (seg != NULL)
        munmap(seg, sizeof(*seg));
    seg = NULL;
}

static int index_of(const char *const *names, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(names[i], name, len) == 0)
            return (int)i;
    return -1;
}

void metrics_request(int route_index, int status, double dur_ms)
{
    size_t r = route_index >= 0 && route_index < MAX_ROUTES ? (size_t)route_index : UNMATCHED;
    size_t c = NCODES - 1, b = NBUCKETS;

    if (seg == NULL)
        return;
    for (size_t i = 0; i < NCODES - 1; i++)
        if (codes[i] == status)
            c = i;
    for (size_t i = 0; i < NBUCKETS; i++)
        if (dur_ms <= bucket_ms[i]) {
            b = i;
            break;
        }
    add(&seg->requests[r][c], 1);
    add(&seg->hist[r][b], 1);
    add(&seg->hist_sum_us[r], dur_ms > 0 ? (uint64_t)(dur_ms * 1000.0) : 0);
}

void metrics_cache(const char *kind, enum metrics_cache_result res)
{
    int k = index_of(kinds, NKINDS, kind, strlen(kind));

    if (seg != NULL && k >= 0)
        add(&seg->cache[k][res], 1);
}

void metrics_invalidation(const char *family)
{
    int f = index_of(families, NFAMS, family, strcspn(family, ":"));

    if (seg != NULL && f >= 0)
        add(&seg->invalidations[f], 1);
}

void metrics_ratelimit(const char *policy, enum metrics_rl_decision d)
{
    int p = index_of(policies, NPOLICIES, policy, strlen(policy));

    if (seg != NULL && p >= 0)
        add(&seg->ratelimit[p][d], 1);
}

void metrics_redis_error(const char *role)
{
    if (seg != NULL)
        add(&seg->redis_errors[strcmp(role, "store") == 0], 1);
}

void metrics_redis_master_switch(const char *role)
{
    if (seg != NULL)
        add(&seg->redis_master_switches[strcmp(role, "store") == 0], 1);
}

void metrics_mysql_error(void)
{
    if (seg != NULL)
        add(&seg->mysql_errors, 1);
}

bool metrics_store_memory_due(void)
{
    uint64_t now = (uint64_t)clock_ms() + 1, last;

    if (seg == NULL)
        return false;
    last = get(&seg->store_mem_claimed_ms);
    return (last == 0 || now - last >= STORE_MEM_INTERVAL_MS) &&
           __atomic_compare_exchange_n(&seg->store_mem_claimed_ms, &last, now, false,
                                       __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

void metrics_store_memory_set(bool ok, unsigned long long used, unsigned long long max)
{
    if (seg == NULL)
        return;
    __atomic_store_n(&seg->store_mem_valid, 0, __ATOMIC_RELAXED);
    if (!ok)
        return;
    __atomic_store_n(&seg->store_mem_used, used, __ATOMIC_RELAXED);
    __atomic_store_n(&seg->store_mem_max, max, __ATOMIC_RELAXED);
    __atomic_store_n(&seg->store_mem_valid, 1, __ATOMIC_RELEASE);
}

void metrics_cache_dirty_mark(void)
{
    if (seg != NULL)
        add(&seg->cache_dirty, 1);
}

bool metrics_cache_dirty_tracked(void)
{
    return seg != NULL;
}

unsigned long long metrics_cache_dirty_get(void)
{
    return seg != NULL ? (unsigned long long)get(&seg->cache_dirty) : 0;
}

void metrics_cache_dirty_clear(unsigned long long seen)
{
    uint64_t expected = seen;

    if (seg != NULL)
        __atomic_compare_exchange_n(&seg->cache_dirty, &expected, 0, false, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED);
}

bool metrics_cache_lost_seen_raise(unsigned long long count)
{
    uint64_t cur;

    if (seg == NULL)
        return false;
    cur = get(&seg->cache_lost_seen);
    while (cur < count)
        if (__atomic_compare_exchange_n(&seg->cache_lost_seen, &cur, count, false,
                                        __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return true;
    return false;
}

unsigned long long *metrics_pw_slots(void)
{
    return seg != NULL ? seg->pw_slots : NULL;
}

void metrics_password_check(bool admitted)
{
    if (seg != NULL)
        add(&seg->password_checks[admitted], 1);
}

/* ---- rendering ---- */

struct out {
    struct arena *a;
    char *buf;
    size_t len, cap;
    int failed;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (o->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        char *nb = arena_alloc(o->a, o->cap * 2);
        if (nb == NULL) {
            o->failed = 1;
            return;
        }
        memcpy(nb, o->buf, o->len);
        o->buf = nb;
        o->cap *= 2;
    }
}

static void route_label(const struct route *table, size_t nroutes, size_t r, const char **name,
                        const char **method)
{
    *name = r < nroutes ? table[r].name : "unmatched";
    *method = r < nroutes ? table[r].method : "";
}

static void render_requests(struct out *o)
{
    size_t nroutes;
    const struct route *table = router_routes(&nroutes);

    put(o, "# HELP guild_http_requests_total HTTP requests answered by the responders.\n"
           "# TYPE guild_http_requests_total counter\n");
    for (size_t r = 0; r <= MAX_ROUTES; r++) {
        const char *name, *method;
        route_label(table, nroutes, r, &name, &method);
        for (size_t c = 0; c < NCODES; c++) {
            uint64_t v = get(&seg->requests[r][c]);
            if (v == 0)
                continue;
            if (c < NCODES - 1)
                put(o, "guild_http_requests_total{route=\"%s\",method=\"%s\",status=\"%d\"} %llu\n",
                    name, method, codes[c], (unsigned long long)v);
            else
                put(o, "guild_http_requests_total{route=\"%s\",method=\"%s\",status=\"other\"} %llu\n",
                    name, method, (unsigned long long)v);
        }
    }
    put(o, "# HELP guild_http_request_duration_seconds Time from request read to response ready.\n"
           "# TYPE guild_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= MAX_ROUTES; r++) {
        const char *name, *method;
        uint64_t cum = 0;
        route_label(table, nroutes, r, &name, &method);
        for (size_t b = 0; b <= NBUCKETS; b++)
            cum += get(&seg->hist[r][b]);
        if (cum == 0)
            continue;
        cum = 0;
        for (size_t b = 0; b < NBUCKETS; b++) {
            cum += get(&seg->hist[r][b]);
            put(o, "guild_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", name,
                bucket_ms[b] / 1000.0, (unsigned long long)cum);
        }
        cum += get(&seg->hist[r][NBUCKETS]);
        put(o, "guild_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name,
            (unsigned long long)cum);
        put(o, "guild_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", name,
            (double)get(&seg->hist_sum_us[r]) / 1e6);
        put(o, "guild_http_request_duration_seconds_count{route=\"%s\"} %llu\n", name,
            (unsigned long long)cum);
    }
}

static void render_passwords(struct out *o)
{
    unsigned busy = 0;

    for (size_t i = 0; i < METRICS_PW_SLOTS; i++)
        busy += __atomic_load_n(&seg->pw_slots[i], __ATOMIC_RELAXED) != 0;
    put(o, "# HELP guild_password_checks_total Password hashes and checks: admitted, or refused "
           "(503) because the host ran its GUILD_PASSWORD_CONCURRENCY already.\n"
           "# TYPE guild_password_checks_total counter\n"
           "guild_password_checks_total{result=\"admitted\"} %llu\n"
           "guild_password_checks_total{result=\"busy\"} %llu\n",
        (unsigned long long)get(&seg->password_checks[1]),
        (unsigned long long)get(&seg->password_checks[0]));
    put(o, "# HELP guild_password_slots_in_use Password hashes running on this host now.\n"
           "# TYPE guild_password_slots_in_use gauge\n"
           "guild_password_slots_in_use %u\n",
        busy);
}

static void render_rest(struct out *o)
{
    static const char *const results[] = {"hit", "miss", "bypass"};
    static const char *const decisions[] = {"allowed", "limited", "unavailable"};

    put(o, "# HELP guild_cache_lookups_total Cache lookups by entry kind and result.\n"
           "# TYPE guild_cache_lookups_total counter\n");
    for (size_t k = 0; k < NKINDS; k++)
        for (size_t r = 0; r < 3; r++)
            put(o, "guild_cache_lookups_total{entry=\"%s\",result=\"%s\"} %llu\n", kinds[k],
                results[r], (unsigned long long)get(&seg->cache[k][r]));
    put(o, "# HELP guild_cache_recomputations_total Entries computed from MySQL and stored.\n"
           "# TYPE guild_cache_recomputations_total counter\n");
    for (size_t k = 0; k < NKINDS; k++)
        put(o, "guild_cache_recomputations_total{entry=\"%s\"} %llu\n", kinds[k],
            (unsigned long long)get(&seg->cache[k][METRICS_COMPUTE]));
    put(o, "# HELP guild_cache_invalidations_total Generation bumps by family.\n"
           "# TYPE guild_cache_invalidations_total counter\n");
    for (size_t f = 0; f < NFAMS; f++)
        put(o, "guild_cache_invalidations_total{family=\"%s\"} %llu\n", families[f],
            (unsigned long long)get(&seg->invalidations[f]));
    put(o, "# HELP guild_ratelimit_decisions_total Rate-limit checks by policy and decision.\n"
           "# TYPE guild_ratelimit_decisions_total counter\n");
    for (size_t p = 0; p < NPOLICIES; p++)
        for (size_t d = 0; d < 3; d++)
            put(o, "guild_ratelimit_decisions_total{policy=\"%s\",decision=\"%s\"} %llu\n",
                policies[p], decisions[d], (unsigned long long)get(&seg->ratelimit[p][d]));
    put(o, "# HELP guild_redis_errors_total Failed Redis commands and connects by role.\n"
           "# TYPE guild_redis_errors_total counter\n");
    for (size_t i = 0; i < 2; i++)
        put(o, "guild_redis_errors_total{role=\"%s\"} %llu\n", roles[i],
            (unsigned long long)get(&seg->redis_errors[i]));
    put(o, "# HELP guild_redis_master_switches_total Reconnects (per worker thread) that found "
           "a role's master at a new address (Redis Sentinel).\n"
           "# TYPE guild_redis_master_switches_total counter\n");
    for (size_t i = 0; i < 2; i++)
        put(o, "guild_redis_master_switches_total{role=\"%s\"} %llu\n", roles[i],
            (unsigned long long)get(&seg->redis_master_switches[i]));
    put(o, "# HELP guild_mysql_errors_total Failed MySQL connects and statements.\n"
           "# TYPE guild_mysql_errors_total counter\n"
           "guild_mysql_errors_total %llu\n",
        (unsigned long long)get(&seg->mysql_errors));
    render_passwords(o);
    put(o, "# HELP guild_responder_starts_total Responder processes started (restarts included).\n"
           "# TYPE guild_responder_starts_total counter\n"
           "guild_responder_starts_total %llu\n",
        (unsigned long long)get(&seg->starts));
}

/* Left out until a read succeeded, and while the last one failed: an absent
 * series says "unknown"; a zero would say "empty". The ratio needs a limit. */
static void render_store_memory(struct out *o)
{
    uint64_t used, max;

    if (__atomic_load_n(&seg->store_mem_valid, __ATOMIC_ACQUIRE) == 0)
        return;
    used = get(&seg->store_mem_used);
    max = get(&seg->store_mem_max);
    put(o, "# HELP guild_redis_used_memory_bytes used_memory of a Redis role (INFO, at most 1/s).\n"
           "# TYPE guild_redis_used_memory_bytes gauge\n"
           "guild_redis_used_memory_bytes{role=\"store\"} %llu\n"
           "# HELP guild_redis_maxmemory_bytes maxmemory of a Redis role (0: no limit).\n"
           "# TYPE guild_redis_maxmemory_bytes gauge\n"
           "guild_redis_maxmemory_bytes{role=\"store\"} %llu\n",
        (unsigned long long)used, (unsigned long long)max);
    if (max > 0)
        put(o, "# HELP guild_redis_memory_used_ratio used_memory / maxmemory of a Redis role.\n"
               "# TYPE guild_redis_memory_used_ratio gauge\n"
               "guild_redis_memory_used_ratio{role=\"store\"} %.6f\n",
            (double)used / (double)max);
}

char *metrics_render(struct arena *a, size_t *len)
{
    struct out o = {a, NULL, 0, 16384, 0};

    if ((o.buf = arena_alloc(a, o.cap)) == NULL)
        return NULL;
    o.buf[0] = '\0';
    if (seg != NULL) {
        render_requests(&o);
        render_rest(&o);
        render_store_memory(&o);
    }
    if (o.failed)
        return NULL;
    *len = o.len;
    return o.buf;
}
