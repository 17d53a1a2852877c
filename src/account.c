/* account: see account.h. Entry "<name>" = "acct:<id>" in the cache role;
 * its value, after the generations line, is
 *   a2 <id> <active> <admin> <has full name> <xp> <missions> <created> <token version>\n
 *   <len>:<username><len>:<email><len>:<full name><len>:<rank>
 * Strings are length-prefixed: any byte may appear in them. An entry of an
 * older layout (a1) fails to decode and is read again from MariaDB. */
#include "account.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "db.h"
#include "db_users.h"
#include "req.h"

#define ACCOUNT_ENTRY_MAX 4096

size_t account_encode(const struct user *u, char *out, size_t sz)
{
    const char *strs[4] = {u->username, u->email, u->has_full_name ? u->full_name : "",
                           u->guild_rank};
    int n = snprintf(out, sz, "a2 %lld %d %d %d %lld %lld %lld %lld\n", u->id,
                     u->is_active ? 1 : 0, u->is_admin ? 1 : 0, u->has_full_name ? 1 : 0,
                     u->experience_points, u->missions_completed, u->created_at,
                     u->token_version);
    size_t at;

    if (n < 0 || (size_t)n >= sz)
        return 0;
    at = (size_t)n;
    for (int i = 0; i < 4; i++) {
        size_t len = strlen(strs[i]);
        n = snprintf(out + at, sz - at, "%zu:", len);
        if (n < 0 || at + (size_t)n + len >= sz)
            return 0;
        at += (size_t)n;
        memcpy(out + at, strs[i], len);
        at += len;
    }
    out[at] = '\0';
    return at;
}

/* Reads "<len>:<bytes>" at *p into buf (cap bytes with the NUL). */
static int take_str(const char **p, const char *end, char *buf, size_t cap)
{
    char *colon;
    unsigned long long len;

    if (*p >= end || **p < '0' || **p > '9')
        return -1;
    len = strtoull(*p, &colon, 10);
    if (colon >= end || *colon != ':' || len >= cap || len > (size_t)(end - colon - 1))
        return -1;
    memcpy(buf, colon + 1, (size_t)len);
    buf[len] = '\0';
    *p = colon + 1 + len;
    return 0;
}

/* Reads one decimal (optionally negative) field and its separator. */
static int take_num(const char **p, const char *end, char sep, long long *out)
{
    const char *q = *p;
    long long v = 0;
    bool neg = false;

    if (q < end && *q == '-') {
        neg = true;
        q++;
    }
    if (q >= end || *q < '0' || *q > '9')
        return -1;
    for (; q < end && *q >= '0' && *q <= '9'; q++) {
        if (v > (9223372036854775807LL - (*q - '0')) / 10)
            return -1;
        v = v * 10 + (*q - '0');
    }
    if (q >= end || *q != sep)
        return -1;
    *out = neg ? -v : v;
    *p = q + 1;
    return 0;
}

int account_decode(const char *s, size_t len, struct user *u)
{
    const char *end = s + len, *p = s;
    long long active, admin, has_fn;

    memset(u, 0, sizeof(*u));
    if (len < 3 || memcmp(s, "a2 ", 3) != 0)
        return -1;
    p += 3;
    if (take_num(&p, end, ' ', &u->id) != 0 || take_num(&p, end, ' ', &active) != 0 ||
        take_num(&p, end, ' ', &admin) != 0 || take_num(&p, end, ' ', &has_fn) != 0 ||
        take_num(&p, end, ' ', &u->experience_points) != 0 ||
        take_num(&p, end, ' ', &u->missions_completed) != 0 ||
        take_num(&p, end, ' ', &u->created_at) != 0 ||
        take_num(&p, end, '\n', &u->token_version) != 0)
        return -1;
    u->is_active = active != 0;
    u->is_admin = admin != 0;
    u->has_full_name = has_fn != 0;
    if (take_str(&p, end, u->username, sizeof(u->username)) != 0 ||
        take_str(&p, end, u->email, sizeof(u->email)) != 0 ||
        take_str(&p, end, u->full_name, sizeof(u->full_name)) != 0 ||
        take_str(&p, end, u->guild_rank, sizeof(u->guild_rank)) != 0 || p != end)
        return -1;
    return 0;
}

void account_entry_name(long long id, char name[ACCOUNT_NAME_MAX], char family[ACCOUNT_NAME_MAX])
{
    snprintf(name, ACCOUNT_NAME_MAX, "acct:%lld", id);
    snprintf(family, ACCOUNT_NAME_MAX, "user:%lld", id);
}

int account_find(struct req *rq, long long id, struct user *u)
{
    struct app *app = rq->app;
    char name[ACCOUNT_NAME_MAX], family[ACCOUNT_NAME_MAX], enc[ACCOUNT_ENTRY_MAX];
    struct cache_blob b;
    size_t n;
    int rc;

    account_entry_name(id, name, family);
    rc = cache_blob_get(rq, name, family, &b);
    if (rc == 1 && account_decode(b.data, b.len, u) == 0 && u->id == id)
        return DB_OK;
    if ((rc = db_user_find(app->db, id, u)) != DB_OK)
        return rc;
    u->hashed_password[0] = '\0'; /* never leaves this function, never cached */
    if (b.gen != NULL && (n = account_encode(u, enc, sizeof(enc))) > 0)
        cache_blob_put(app, name, family, &b, "account", enc, n);
    return DB_OK;
}
