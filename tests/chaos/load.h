/* load: the chaos tools' steady mixed load. Several client threads, each on
 * its own kept-alive connection, loop over a fixed mix of reads (ping, the
 * cached analytics and user routes, the caller's own row) and writes
 * (registration, login, mission start and completion, sessions) until told to
 * stop or until a request budget is spent. Every request is recorded (start,
 * latency, status, X-Cache, route class); every acknowledged write (a 2xx)
 * goes into the client's ledger, and every write whose outcome is unknown (no
 * answer, 5xx) marks its user "tainted", so verify.c can demand exact totals
 * only where the client knows them.
 * Each client owns its users: no two clients write to one user, so a user's
 * acknowledged totals are a strict sequence. */
#ifndef GUILD_CHAOS_LOAD_H
#define GUILD_CHAOS_LOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define LOAD_MISSIONS 13 /* the mission catalogue: ids 1..13 */

/* What a request depends on, which decides what a fault may do to it. */
enum load_class {
    LOAD_PING,      /* /ping: nginx + a responder only */
    LOAD_CACHED,    /* anonymous cached GETs: cache Redis, else MariaDB (BYPASS) */
    LOAD_AUTH_READ, /* authenticated reads: the caller's row, cached or from MariaDB */
    LOAD_WRITE,     /* writes and logins: MariaDB */
    LOAD_SESSION,   /* sessions: the store Redis (and the caller's row) */
    LOAD_NCLASS
};

struct load_rec {
    int64_t t0_us;  /* start, µs since the load started */
    int32_t lat_us;
    int16_t status; /* 0: no HTTP answer */
    uint8_t cls;    /* enum load_class */
    uint8_t xcache; /* enum wire_xcache */
    uint8_t shape_ok; /* a 4xx/5xx with the contract's JSON {"detail"} (1 for a 2xx/3xx) */
    uint8_t op;       /* which route (load_op_name) */
};

/* A user a client registered and answered 201 for. */
struct load_user {
    long id;
    char name[64];
    char token[640];         /* "" until a login succeeded */
    int next_mission;        /* 1..13, 14 = done */
    unsigned start_tried;    /* bit m: POST missions {m} was sent */
    unsigned started_acked;  /* bit m: POST missions {m} answered 201 */
    unsigned done_acked;     /* bit m: completion answered 200 */
    int score[LOAD_MISSIONS + 1]; /* the score sent for mission m */
    long last_total;         /* total_experience of the last acknowledged completion */
    int tainted;             /* a write of this user has an unknown outcome */
};

struct load_session {
    char id[48];
    int user; /* index into the owning client's users */
};

struct load_client {
    pthread_t thread;
    struct load *load;
    int index;
    unsigned rng;
    void *wire;
    struct load_rec *recs;
    size_t nrecs, caprecs;
    struct load_user *users;
    size_t nusers, capusers;
    int cur; /* index of the user writes go to; -1 until one is registered */
    struct load_session *sessions;
    size_t nsessions, capsessions;
    long unknown_writes; /* writes without a definite answer (no answer or 5xx) */
    char fail_note[256]; /* the first unexpected answer, for the report */
};

struct load {
    const char *base_url;
    char tag[24];        /* prefix of every username of this load */
    int nclients;
    long max_requests;   /* 0: until load_stop */
    int64_t t_start_us;  /* wire_now_us() at start */
    atomic_int stop;
    atomic_long issued;
    atomic_int inflight;
    struct load_client *clients;
};

/* Starts nclients threads against base_url; usernames start with tag (letters,
 * digits, _; at most 20 bytes). max_requests > 0: the clients stop by
 * themselves after that many requests in all. seed fixes the mix. Returns 0,
 * or -1 (nothing left running). */
int load_start(struct load *l, const char *base_url, const char *tag, int nclients,
               long max_requests, unsigned seed);

/* Waits for the clients (after asking them to stop unless wait_only). */
void load_stop(struct load *l, int wait_only);

/* µs since load_start. */
int64_t load_now_us(const struct load *l);

/* Frees everything load_start made (after load_stop). */
void load_free(struct load *l);

/* "GET users/stats", ... for a record's op. */
const char *load_op_name(int op);

/* Total records over all clients. */
size_t load_nrecs(const struct load *l);

#endif
