#!/bin/sh
# Integration: a write whose cache invalidation is lost on one host must not be served
# stale by another host (issue 11). Host A is the test stack's pool (through nginx); host
# B is a second pool on TCP with its own shared segment, as on another machine, asked
# directly over FastCGI. B caches a user; the cache Redis freezes (SIGSTOP), so A's update
# of that user commits but cannot bump the generation; the cache Redis thaws; B's next
# read must show the update. B never saw the failure: it learns of it from the store role
# (the count A raised there, which the limiter script reads back), and retires the cache.
# Skips (77) outside `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${GUILD_CONF:-}" ] && [ -n "${REDIS_CACHE_PID:-}" ] \
    || { echo "no test stack: skip"; exit 77; }
set -u
dir=$(mktemp -d /tmp/guild-lost.XXXXXX)
. "$(dirname "$0")/testlib.sh"
cache_pid=$(cat "$REDIS_CACHE_PID")
cleanup() {
    kill -CONT "$cache_pid" 2>/dev/null
    [ -s "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null
    sleep 0.3
    rm -rf "$dir"
}
trap cleanup EXIT

# host B: two workers, its own shared segment
spawn_responder "$dir" GUILD_FCGI_THREADS=2 || { ko "host B did not start"; exit 1; }

# host_b URI: GET over FastCGI to host B; prints "X-Cache full_name"
host_b() {
    fcgi_get "$1" | awk '/^X-Cache:/ {c=$2} /^\{/ {b=$0} END {print c, b}' \
        | sed 's/^\([A-Z]*\) .*"full_name":"\([^"]*\)".*/\1 \2/'
}

new_user "lost$$" before
id=$user_id tok=$user_token
[ -n "$id" ] && [ -n "$tok" ] || { ko "could not create a user"; exit 1; }

# a new host first takes in the store's count of earlier losses (one cache retirement),
# so it may take a read or two before it caches
i=0; got=""
while [ "$got" != "HIT before" ] && [ $i -lt 4 ]; do got=$(host_b "/api/users/$id"); i=$((i + 1)); done
[ "$got" = "HIT before" ] && ok "host B serves user $id from the cache: $got" || ko "host B before: '$got'"

kill -STOP "$cache_pid"
st=$(curl -s -o "$dir/put" -w '%{http_code}' -X PUT "$BASE_URL/api/users/$id" \
     -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d '{"full_name":"after"}')
kill -CONT "$cache_pid"
[ "$st" = 200 ] && ok "host A's update answered 200 while the cache Redis was frozen" \
    || ko "host A's update: $st $(cat "$dir/put")"

got=$(host_b "/api/users/$id")
case "$got" in
    *" after") ok "host B's next read shows the update: $got" ;;
    *) ko "host B served a stale answer after host A's lost invalidation: '$got'" ;;
esac
host_b "/api/users/$id" >/dev/null
got=$(host_b "/api/users/$id")
[ "$got" = "HIT after" ] && ok "host B caches again once repaired: $got" || ko "host B after repair: '$got'"
grep -q "another host lost an invalidation" "$dir/guild.log" && ok "host B logged why it retired the cache" \
    || ko "no log line on host B"
summary
