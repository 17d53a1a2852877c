/* password: see password.h. struct crypt_data is ~32 KiB: it is heap-allocated
 * per call rather than kept on the stack or shared between calls. */
#include "password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

int password_hash(const char *pw, int cost, char *out, size_t outsz)
{
    char salt[CRYPT_GENSALT_OUTPUT_SIZE];
    struct crypt_data *data;
    const char *h;
    int ret = -1;

    /* rbytes NULL: libxcrypt draws the salt from getrandom(2) */
    if (crypt_gensalt_rn("$2b$", (unsigned long)cost, NULL, 0, salt, sizeof(salt)) == NULL)
        return -1;
    if ((data = calloc(1, sizeof(*data))) == NULL)
        return -1;
    h = crypt_rn(pw, salt, data, sizeof(*data));
    if (h != NULL && h[0] != '*' && strlen(h) < outsz) {
        strcpy(out, h);
        ret = 0;
    }
    explicit_bzero(data, sizeof(*data));
    free(data);
    return ret;
}

static bool equal_ct(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = (unsigned char)(la != lb);

    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* bcrypt (ours and passlib's) and yescrypt only: a weak imported hash such as
 * MD5-crypt must not log anybody in. */
static bool is_accepted_scheme(const char *hash)
{
    static const char *const prefixes[] = {"$2b$", "$2a$", "$2y$", "$y$"};

    for (size_t i = 0; hash != NULL && i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(hash, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

bool password_verify(const char *pw, const char *hash)
{
    struct crypt_data *data;
    const char *h;
    bool ok = false;

    if (!is_accepted_scheme(hash) || (data = calloc(1, sizeof(*data))) == NULL)
        return false;
    h = crypt_rn(pw, hash, data, sizeof(*data));
    if (h != NULL && h[0] != '*')
        ok = equal_ct(h, hash);
    explicit_bzero(data, sizeof(*data));
    free(data);
    return ok;
}

void password_burn(const char *pw, int cost)
{
    /* a real hash of the configured cost, made once per process: verifying
     * against it is the same work as verifying a real user's password */
    static _Thread_local char dummy[PASSWORD_HASH_MAX];
    static _Thread_local int dummy_cost;

    if (dummy_cost != cost) {
        if (password_hash("guild-dummy-password", cost, dummy, sizeof(dummy)) != 0)
            return;
        dummy_cost = cost;
    }
    (void)password_verify(pw, dummy);
}
