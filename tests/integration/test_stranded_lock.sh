#!/bin/sh
# Integration: a recompute lock whose holder could not store (the cache Redis froze while
# it computed, or its connection broke) must not keep the other readers of that entry
# waiting. A reader trusts a live holder's process on its own host and, before the fix,
# waited its whole GUILD_CACHE_LOCK_WAIT_MS (2 s) for a lock nobody computed under, until
# the lock expired (GUILD_CACHE_LOCK_MS, 5 s). The holder now remembers the lock and
# releases it at its next lookup that reaches Redis.
# The holder is a responder process of the test's own on this host (one worker thread, on
# TCP, asked directly over FastCGI), so that its next request is sure to reach the same
# worker; the reader is the test stack's pool, through nginx. Skips (77) outside
# `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${GUILD_CONF:-}" ] && [ -n "${REDIS_CACHE_CLI:-}" ] ||
    { echo "no test stack: skip"; exit 77; }
set -u
dir=$(mktemp -d /tmp/guild-stranded.XXXXXX)
. "$(dirname "$0")/testlib.sh"
prefix=${REDIS_PREFIX:-guild:}
cleanup() {
    [ -s "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null
    sleep 0.3
    [ "$fail" -gt 0 ] && tail -n 20 "$dir/guild.log"
    rm -rf "$dir"
}
trap cleanup EXIT

spawn_responder "$dir" GUILD_FCGI_THREADS=1 || { ko "the holder's responder did not start"; exit 1; }

# holder URI [STORE_DELAY_MS]: GET from the one-worker responder; prints its X-Cache
holder() { fcgi_get "$1" HTTP_X_DEBUG_STORE_DELAY_MS="${2:-0}" | sed -n 's/^X-Cache: //p'; }
lock_exists() { $REDIS_CACHE_CLI EXISTS "${prefix}c:user:$1|lock"; }
now_ms() { date +%s%3N; }

new_user "strand$$"
id=$user_id
[ -n "$id" ] || { ko "could not create a user"; exit 1; }
# the key this test watches must be the one the responder locks (a new responder first
# takes in the store's count of earlier lost invalidations, one cache retirement, so it
# may take a read or two before it caches)
i=0; got=""
while [ "$got" != HIT ] && [ $i -lt 4 ]; do got=$(holder "/api/users/$id"); i=$((i + 1)); done
[ "$got" = HIT ] || { ko "the holder's responder does not cache /api/users/$id"; exit 1; }
[ "$($REDIS_CACHE_CLI EXISTS "${prefix}c:user:$id")" = 1 ] ||
    { ko "no entry ${prefix}c:user:$id: the key naming changed"; exit 1; }
$REDIS_CACHE_CLI DEL "${prefix}c:user:$id" >/dev/null

# 1. the holder takes the lock, computes, and waits 600 ms before storing; meanwhile its
#    connection is killed, so its store fails (not sent again: the connection was not
#    idle) and the lock stays behind
t0=$(now_ms)
holder "/api/users/$id" 600 >"$dir/first" &
hp=$!
i=0; while [ "$(lock_exists "$id")" != 1 ] && [ $i -lt 40 ]; do sleep 0.01; i=$((i + 1)); done
[ "$(lock_exists "$id")" = 1 ] && ok "the holder took the recompute lock" ||
    ko "no lock ${prefix}c:user:$id|lock while the holder computed"
sleep 0.2
$REDIS_CACHE_CLI CLIENT KILL TYPE normal >/dev/null
wait "$hp"
[ "$(cat "$dir/first")" = MISS ] && ok "the holder answered its computation (MISS)" ||
    ko "the holder answered X-Cache '$(cat "$dir/first")', not MISS"
[ "$(lock_exists "$id")" = 1 ] && [ "$($REDIS_CACHE_CLI EXISTS "${prefix}c:user:$id")" = 0 ] &&
    ok "its store failed and the lock outlived it" ||
    ko "the store went through or the lock is gone: the test did not strand it"

# 2. the holder's next lookup (another entry) reaches Redis again and releases it, long
#    before the lock would expire (GUILD_CACHE_LOCK_MS after t0)
sleep 1.1   # past the reconnect interval (1 s) since the worker's last connect
holder "/api/analytics/leaderboard" >/dev/null
gone=$(lock_exists "$id")
t1=$(now_ms)
[ "$gone" = 0 ] && ok "the holder's next lookup released the lock ($((t1 - t0)) ms after it was taken)" ||
    ko "the lock is still there $((t1 - t0)) ms after it was taken: left to expire"
grep -q "recompute lock(s) stranded by a failed Redis call released" "$dir/guild.log" &&
    ok "the holder logged the release" || ko "no release in the holder's log"

# 3. a reader through nginx does not wait for it
s=$(now_ms)
xc=$(curl -s -o /dev/null -D - "$BASE_URL/api/users/$id" | tr -d '\r' | sed -n 's/^X-Cache: //Ip')
took=$(( $(now_ms) - s ))
[ "$took" -lt 1000 ] && ok "a reader through nginx answered in $took ms (X-Cache $xc)" ||
    ko "a reader through nginx took $took ms (X-Cache $xc): it waited on the lock"

summary
