/* guildctl: the operator's CLI, sharing the responder's configuration:
 *   guildctl [-c FILE] migrate [DIR]
 *   guildctl [-c FILE] create-admin USERNAME [EMAIL]   (password: stdin or
 *                                                        GUILD_ADMIN_PASSWORD)
 *   guildctl [-c FILE] seed --users N [--progress M] [--seed S]
 *   guildctl [-c FILE] verify-summaries | rebuild-summaries
 * Exit codes: 0 done, 1 failed (verify: a difference), 2 usage or
 * configuration error. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "db_summary.h"
#include "db_users.h"
#include "migrate.h"
#include "password.h"
#include "seed.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: guildctl [-c CONFIG_FILE] COMMAND\n"
               "commands:\n"
               "  migrate [DIR]                 apply pending sql/NNN_*.sql migrations\n"
               "                                (DIR defaults to GUILD_MIGRATIONS_DIR)\n"
               "  create-admin USERNAME [EMAIL] create an admin; password on stdin or in\n"
               "                                GUILD_ADMIN_PASSWORD; exits 0 if it exists\n"
               "  seed --users N [--progress M] [--seed S]\n"
               "                                add N random users (N <= 10000000) and M\n"
               "                                mission progress rows (default 3*N, at most\n"
               "                                13*N); same S (default 42) on an empty database,\n"
               "                                same data; seeded users' password is\n"
               "                                \"" SEED_PASSWORD "\"\n"
               "  verify-summaries              recompute the analytics counters from the\n"
               "                                tables and print every difference (exit 1)\n"
               "  rebuild-summaries             recompute and replace the analytics counters\n"
               "                                (writers wait meanwhile; exact under load)\n"
               "  help                          this text\n");
}

/* Reads the password from the environment or the first line of stdin. */
static int read_password(char *buf, size_t sz)
{
    const char *env = getenv("GUILD_ADMIN_PASSWORD");
    size_t n;

    if (env != NULL) {
        if (strlen(env) >= sz)
            return -1;
        strcpy(buf, env);
    } else if (fgets(buf, (int)sz, stdin) == NULL) {
        return -1;
    }
    n = strcspn(buf, "\r\n");
    buf[n] = '\0';
    return (n >= 8 && n <= 128) ? 0 : -1;
}

static int cmd_create_admin(struct db *db, const struct config *cfg, int argc, char **argv)
{
    struct user u;
    char pw[256];
    int rc;

    if (argc < 1 || strlen(argv[0]) < 3 || strlen(argv[0]) > 50) {
        fprintf(stderr, "guildctl: create-admin needs a USERNAME of 3-50 characters\n");
        return 2;
    }
    memset(&u, 0, sizeof(u));
    switch (db_user_find_by_username(db, argv[0], &u)) {
    case DB_OK:
        printf("exists: user %s (id %lld)\n", u.username, u.id);
        return 0;
    case DB_NOTFOUND:
        break;
    default:
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return 1;
    }
    if (read_password(pw, sizeof(pw)) != 0) {
        fprintf(stderr, "guildctl: the password must be 8-128 characters\n");
        return 2;
    }
    snprintf(u.username, sizeof(u.username), "%s", argv[0]);
    snprintf(u.email, sizeof(u.email), "%s", argc > 1 ? argv[1] : "admin@guild.local");
    if (argc <= 1)
        snprintf(u.email, sizeof(u.email), "%s@guild.local", argv[0]);
    snprintf(u.guild_rank, sizeof(u.guild_rank), "Apprentice");
    u.is_active = u.is_admin = true;
    rc = password_hash(pw, cfg->password_cost, u.hashed_password, sizeof(u.hashed_password));
    explicit_bzero(pw, sizeof(pw));
    if (rc != 0) {
        fprintf(stderr, "guildctl: password hashing failed\n");
        return 1;
    }
    switch (db_user_insert(db, &u)) {
    case DB_OK:
        printf("created: admin %s (id %lld)\n", u.username, u.id);
        return 0;
    case DB_DUP:
        fprintf(stderr, "guildctl: username or email already registered\n");
        return 1;
    default:
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return 1;
    }
}

/* A whole-string decimal in [0, max]; 0, or -1. */
static int parse_num(const char *s, unsigned long long max, unsigned long long *out)
{
    unsigned long long v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        if (*s < '0' || *s > '9' || v > (max - (unsigned)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    *out = v;
    return 0;
}

/* "--name VALUE" or "--name=VALUE" at argv[*i]: the value (advancing *i past
 * it), NULL when argv[*i] is another option, "" when the value is missing. */
static const char *opt_value(const char *name, int argc, char **argv, int *i)
{
    size_t n = strlen(name);

    if (strncmp(argv[*i], name, n) != 0)
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n] != '\0')
        return NULL;
    return ++*i < argc ? argv[*i] : "";
}

/* Parses seed's options into p (first_index and now are left alone).
 * 0, or -1 after a one-line complaint on stderr. */
static int parse_seed_args(int argc, char **argv, struct seed_params *p)
{
    unsigned long long users = 0, progress = 0, seed = SEED_DEFAULT_SEED;
    bool have_users = false, have_progress = false;
    const char *v;

    for (int i = 0; i < argc; i++) {
        if ((v = opt_value("--users", argc, argv, &i)) != NULL) {
            if (parse_num(v, (unsigned long long)SEED_MAX_USERS, &users) != 0 || users == 0)
                goto bad;
            have_users = true;
        } else if ((v = opt_value("--progress", argc, argv, &i)) != NULL) {
            if (parse_num(v, (unsigned long long)MISSIONS_COUNT * SEED_MAX_USERS, &progress) != 0)
                goto bad;
            have_progress = true;
        } else if ((v = opt_value("--seed", argc, argv, &i)) != NULL) {
            if (parse_num(v, SEED_MAX_SEED, &seed) != 0)
                goto bad;
        } else {
            fprintf(stderr, "guildctl: seed: unknown argument \"%s\"\n", argv[i]);
            return -1;
        }
    }
    if (!have_users) {
        fprintf(stderr, "guildctl: seed needs --users N\n");
        return -1;
    }
    if (!have_progress)
        progress = 3 * users;
    if (progress > (unsigned long long)MISSIONS_COUNT * users) {
        fprintf(stderr, "guildctl: seed: --progress is at most %d per user (%llu)\n",
                MISSIONS_COUNT, (unsigned long long)MISSIONS_COUNT * users);
        return -1;
    }
    p->seed = seed;
    p->users = (long long)users;
    p->progress = (long long)progress;
    return 0;
bad:
    fprintf(stderr, "guildctl: seed: --users takes 1..%lld, --progress 0..13*N, --seed 0..%llu\n",
            SEED_MAX_USERS, SEED_MAX_SEED);
    return -1;
}

static double elapsed_s(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static int cmd_seed(struct db *db, const struct config *cfg, int argc, char **argv)
{
    struct seed_params p = {0};
    struct seed_result res = {0, 0};
    char hash[PASSWORD_HASH_MAX], prefix[32];
    struct timespec t0;
    double secs;
    int rc;

    if (parse_seed_args(argc, argv, &p) != 0) {
        usage(stderr);
        return 2;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* one hash for everyone: bcrypt per user would take hours, not seconds */
    if (password_hash(SEED_PASSWORD, cfg->password_cost, hash, sizeof(hash)) != 0) {
        fprintf(stderr, "guildctl: password hashing failed\n");
        return 1;
    }
    if (seed_next_index(db, p.seed, &p.first_index) != 0)
        return 1;
    if (p.first_index + p.users - 1 > SEED_INDEX_MAX) {
        fprintf(stderr, "guildctl: seed %llu has no room for %lld more users\n",
                (unsigned long long)p.seed, p.users);
        return 1;
    }
    /* relative to today's midnight (UTC): the same seed gives the same data
     * all day */
    p.now = (long long)time(NULL);
    p.now -= p.now % 86400;
    rc = seed_run(db, &p, hash, &res) == 0 ? 0 : 1;
    secs = elapsed_s(&t0);
    seed_user_prefix(p.seed, prefix, sizeof(prefix));
    printf("seed: %lld users (%s%09lld..%09lld), %lld progress rows in %.2f s "
           "(%.0f rows/s)%s\n",
           res.users, prefix, p.first_index, p.first_index + res.users - 1, res.progress, secs,
           secs > 0 ? (double)(res.users + res.progress) / secs : 0.0,
           rc == 0 ? "" : "; stopped by the error above");
    return rc;
}

static const char *metric_name(int metric)
{
    static const char *const names[] = {
        "?",         "users",         "active_users",  "missions_completed", "experience_points",
        "rank",      "xp_histogram",  "attempts",      "completed",          "score_units",
    };

    return metric > 0 && metric < (int)(sizeof(names) / sizeof(names[0])) ? names[metric] : "?";
}

static int print_diff(int metric, long long k, const char *name, long long want, long long have,
                      void *ctx)
{
    (void)ctx;
    printf("differs: %s", metric_name(metric));
    if (*name != '\0')
        printf(" \"%s\"", name);
    else if (metric >= 6)
        printf(" %lld", k);
    printf(": kept %lld, tables say %lld\n", have, want);
    return 0;
}

static int cmd_verify_summaries(struct db *db)
{
    long diffs = db_summary_verify(db, print_diff, NULL);

    if (diffs < 0) {
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return 1;
    }
    if (diffs > 0) {
        printf("verify-summaries: %ld counter(s) differ from the tables\n", diffs);
        return 1;
    }
    printf("verify-summaries: every counter matches the tables\n");
    return 0;
}

static int cmd_rebuild_summaries(struct db *db)
{
    struct timespec t0;
    long rows = 0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (db_summary_rebuild(db, &rows) != DB_OK) {
        fprintf(stderr, "guildctl: %s\n", db_errstr(db));
        return 1;
    }
    printf("rebuild-summaries: %ld counters from the tables in %.2f s\n", rows, elapsed_s(&t0));
    return 0;
}

static int run(const struct config *cfg, int argc, char **argv)
{
    struct db *db;
    int rc;

    if (strcmp(argv[0], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if ((db = db_new(cfg)) == NULL)
        return 1;
    if (strcmp(argv[0], "migrate") == 0) {
        rc = migrate_run(db, argc > 1 ? argv[1] : cfg->migrations_dir) < 0 ? 1 : 0;
    } else if (strcmp(argv[0], "create-admin") == 0) {
        rc = cmd_create_admin(db, cfg, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "seed") == 0) {
        rc = cmd_seed(db, cfg, argc - 1, argv + 1);
    } else if (strcmp(argv[0], "verify-summaries") == 0 && argc == 1) {
        rc = cmd_verify_summaries(db);
    } else if (strcmp(argv[0], "rebuild-summaries") == 0 && argc == 1) {
        rc = cmd_rebuild_summaries(db);
    } else {
        usage(stderr);
        rc = 2;
    }
    db_free(db);
    return rc;
}

int main(int argc, char **argv)
{
    const char *conf = NULL;
    struct config cfg;
    char err[512];
    int opt, rc;

    while ((opt = getopt(argc, argv, "+c:h")) != -1) {
        if (opt == 'c') {
            conf = optarg;
        } else {
            usage(opt == 'h' ? stdout : stderr);
            return opt == 'h' ? 0 : 2;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    if (config_load(&cfg, conf, CONFIG_NEED_NOTHING, err, sizeof(err)) != 0) {
        fprintf(stderr, "guildctl: %s\n", err);
        config_cleanup(&cfg);
        return 2;
    }
    if (db_library_init() != 0) {
        config_cleanup(&cfg);
        return 1;
    }
    rc = run(&cfg, argc - optind, argv + optind);
    db_library_end();
    config_cleanup(&cfg);
    return rc;
}
