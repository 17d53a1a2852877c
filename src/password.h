/* password: slow salted password hashes through libxcrypt.
 * New hashes are bcrypt "$2b$" (cost from config), which the Python app's
 * passlib also reads and writes, so users move both ways. Verification
 * accepts $2b$/$2a$/$2y$ and yescrypt, and compares in constant time. */
#ifndef GUILD_PASSWORD_H
#define GUILD_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define PASSWORD_HASH_MAX 128

/* Hashes pw with a fresh salt from the kernel CSPRNG into out
 * (PASSWORD_HASH_MAX bytes). Returns 0, or -1 on failure. */
int password_hash(const char *pw, int cost, char *out, size_t outsz);

/* True when pw matches hash. Constant-time in the comparison. */
bool password_verify(const char *pw, const char *hash);

/* Spends the time of one verification against a fixed hash of the given
 * cost, so an unknown username takes as long as a wrong password. */
void password_burn(const char *pw, int cost);

#endif
