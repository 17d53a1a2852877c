/* sessions: server-side sessions in the store Redis.
 *   <prefix>sess:<uuid>        the session JSON, 24 h TTL
 *   <prefix>sess:user:<uid>    ZSET of the user's session ids scored by expiry
 *                              (seconds.microseconds: the creation order)
 * Create and delete keep the per-user index in the same Lua script as the
 * session itself. A user holds at most GUILD_SESSIONS_PER_USER sessions: the
 * create that goes over evicts the oldest in the same script. Listing and
 * "delete all" walk the index in pages of SESSIONS_BATCH entries, one short
 * script each, pruning expired entries and entries whose session is gone as
 * they pass: no store call grows with the size of an index. Ids are UUID v4
 * from getrandom(2). */
#ifndef GUILD_SESSIONS_H
#define GUILD_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>

struct app;
struct json_object;

#define SESSIONS_TTL_S 86400
#define SESSIONS_ID_LEN 36
#define SESSIONS_BATCH 100       /* index entries per store call */
#define SESSIONS_MAX_PAGES 10000 /* a walk stops after this many calls (1,000,000 entries) */

enum sessions_rc { SESSIONS_OK, SESSIONS_NOTFOUND, SESSIONS_FORBIDDEN, SESSIONS_UNAVAILABLE };

/* Writes a new random UUID v4 into id (SESSIONS_ID_LEN + 1 bytes). 0 or -1. */
int sessions_new_id(char *id);

/* True when s is a lowercase or uppercase UUID v4 (36 characters). */
bool sessions_id_valid(const char *s);

/* Stores value (JSON text) as session id of uid, created at now_us (unix
 * time in microseconds), expiring SESSIONS_TTL_S later; evicts uid's oldest
 * sessions beyond the configured cap. */
enum sessions_rc sessions_create(struct app *app, const char *id, long long uid,
                                 const char *value, long long now_us);

/* Reads a session: *json (new reference) and *ttl_s. */
enum sessions_rc sessions_get(struct app *app, const char *id, struct json_object **json,
                              long long *ttl_s);

/* Deletes a session when uid owns it or is_admin. */
enum sessions_rc sessions_delete(struct app *app, const char *id, long long uid, bool is_admin);

/* The user's live sessions as a JSON array of {session_id, created_at,
 * expires_at} (new reference in *list). */
enum sessions_rc sessions_list(struct app *app, long long uid, struct json_object **list);

/* Deletes every session of uid, SESSIONS_BATCH per store call. A failure
 * half-way leaves the rest for the next call (UNAVAILABLE). */
enum sessions_rc sessions_delete_all(struct app *app, long long uid);

/* Loads script hashes; once per process. */
void sessions_init(void);

#endif
