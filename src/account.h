/* account: the row of the user a verified token names, read on every
 * authenticated request. From the cache role when current, else from
 * MariaDB (then cached). The entry lives under the "user:<id>" family, which
 * every write to the row bumps (update, delete, mission completion) before
 * it answers, so a deletion is 401 and a deactivation 403 on the very next
 * request, exactly as with a database read. The password hash is never
 * cached. */
#ifndef GUILD_ACCOUNT_H
#define GUILD_ACCOUNT_H

#include <stddef.h>

struct req;
struct user;

/* The cache entry name and family of user id's account. */
#define ACCOUNT_NAME_MAX 48
void account_entry_name(long long id, char name[ACCOUNT_NAME_MAX], char family[ACCOUNT_NAME_MAX]);

/* Fills u (hashed_password left empty), taking the entry from rq's
 * prefetch when the dispatcher sent it ahead. DB_OK, DB_NOTFOUND or DB_ERR. */
int account_find(struct req *rq, long long id, struct user *u);

/* The entry's encoding, exposed for unit tests. account_encode returns the
 * length written (< sz), or 0 when it does not fit; account_decode returns
 * 0, or -1 on a malformed entry. */
size_t account_encode(const struct user *u, char *out, size_t sz);
int account_decode(const char *s, size_t len, struct user *u);

#endif
