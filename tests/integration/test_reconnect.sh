#!/bin/sh
# Integration: a worker whose connect was refused (nothing listening: the server is down
# or restarting) uses the server again within ~100 ms of its return, not up to
# GUILD_RECONNECT_INTERVAL_MS (1 s) later. Before, every worker thread that had tried
# during the outage kept answering without Redis for up to a second after the restart:
# the cache BYPASSed, sessions answered 503.
# A one-worker responder of the test's own (so every request reaches the same worker)
# uses a cache Redis of the test's own on a unix socket; the test stops it, asks once
# (refused: BYPASS), starts it again and asks at once. Skips (77) outside
# `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${GUILD_CONF:-}" ] || { echo "no test stack: skip"; exit 77; }
command -v redis-server >/dev/null || { echo "redis-server missing"; exit 1; }
set -u
dir=$(mktemp -d /tmp/guild-reconnect.XXXXXX)
. "$(dirname "$0")/testlib.sh"
sock="$dir/cache.sock"
cleanup() {
    [ -s "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null
    [ -s "$dir/redis.pid" ] && kill "$(cat "$dir/redis.pid")" 2>/dev/null
    sleep 0.3
    [ "$fail" -gt 0 ] && tail -n 15 "$dir/guild.log"
    rm -rf "$dir"
}
trap cleanup EXIT

redis_up() {
    redis-server --port 0 --unixsocket "$sock" --unixsocketperm 700 --save '' \
        --appendonly no --daemonize yes --pidfile "$dir/redis.pid" \
        --logfile "$dir/redis.log" --dir "$dir" >/dev/null
    i=0; while ! redis-cli -s "$sock" PING >/dev/null 2>&1 && [ $i -lt 100 ]; do
        sleep 0.01; i=$((i + 1)); done
}
redis_down() {
    redis-cli -s "$sock" SHUTDOWN NOSAVE >/dev/null 2>&1
    i=0; while [ -e "$sock" ] && [ $i -lt 100 ]; do sleep 0.01; i=$((i + 1)); done
}
now_ms() { date +%s%3N; }

redis_up
spawn_responder "$dir" GUILD_FCGI_THREADS=1 GUILD_CACHE_REDIS_SOCKET="$sock" \
    GUILD_RECONNECT_INTERVAL_MS=1000 || { ko "the responder did not start"; exit 1; }
xcache() { fcgi_get "$1" | sed -n 's/^X-Cache: //p'; }

new_user "reconn$$"
[ -n "$user_id" ] || { ko "could not create a user"; exit 1; }
uri="/api/users/$user_id"
i=0; got=""
while [ "$got" != HIT ] && [ $i -lt 4 ]; do got=$(xcache "$uri"); i=$((i + 1)); done
[ "$got" = HIT ] && ok "the worker caches $uri in the test's Redis" || ko "no HIT before: '$got'"

for round in 1 2 3; do
    # past the interval since the worker's last connect, which a connect that succeeded
    # keeps as the floor (a server that accepts and drops at once is not hammered)
    sleep 1.1
    redis_down
    got=$(xcache "$uri")   # the dead connection fails; the connect after it is refused
    t_refused=$(now_ms)
    [ "$got" = BYPASS ] || ko "round $round: with Redis down the worker answered X-Cache '$got'"
    redis_up
    sleep 0.15   # past the 100 ms retry of a refused connect, well inside the 1 s interval
    got=$(xcache "$uri")
    took=$(( $(now_ms) - t_refused ))
    case "$got" in
        MISS|HIT) ok "round $round: ${took} ms after the refused connect, the worker uses Redis again ($got)" ;;
        *) ko "round $round: ${took} ms after the refused connect the worker still answers X-Cache '$got'" ;;
    esac
done

summary
