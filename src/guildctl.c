/* guildctl: the operator's CLI, sharing the responder's configuration:
 *   guildctl [-c FILE] migrate [DIR]
 *   guildctl [-c FILE] create-admin USERNAME [EMAIL]   (password: stdin or
 *                                                        GUILD_ADMIN_PASSWORD)
 * Exit codes: 0 done, 1 failed, 2 usage or configuration error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "db_users.h"
#include "migrate.h"
#include "password.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: guildctl [-c CONFIG_FILE] COMMAND\n"
               "commands:\n"
               "  migrate [DIR]                 apply pending sql/NNN_*.sql migrations\n"
               "                                (DIR defaults to GUILD_MIGRATIONS_DIR)\n"
               "  create-admin USERNAME [EMAIL] create an admin; password on stdin or in\n"
               "                                GUILD_ADMIN_PASSWORD; exits 0 if it exists\n"
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
