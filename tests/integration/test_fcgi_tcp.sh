#!/bin/sh
# Integration: the responder on a TCP listener (spawn-fcgi -a ADDR -p PORT, how an app
# host serves a remote nginx; scripts/stack's GUILD_FCGI_LISTEN, the cluster's app hosts).
# A peer in GUILD_FCGI_ALLOW (default: loopback) is served; any other peer is closed
# unanswered and logged, because whoever speaks FastCGI to the pool chooses REMOTE_ADDR.
# The per-pool metrics segment of a TCP pool is named after its port. Talks FastCGI
# directly (cgi-fcgi), against the test stack's MariaDB and Redis. Skips (77) outside
# `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${GUILD_CONF:-}" ] || { echo "no test stack: skip"; exit 77; }
top=${top_builddir:-$(pwd)}
bin="$top/src/guild-fcgi"
set -u
dir=$(mktemp -d /tmp/guild-tcp.XXXXXX)
. "$(dirname "$0")/testlib.sh"
stop_pool() {
    [ -s "$dir/pid" ] || return 0
    kill "$(cat "$dir/pid")" 2>/dev/null
    i=0; while kill -0 "$(cat "$dir/pid")" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    rm -f "$dir/pid"
}
trap 'stop_pool; rm -f "/dev/shm/guild-metrics-$(id -u)-tcp$port"; rm -rf "$dir"' EXIT

# a free loopback port above the stack's own
port=$((HTTP_PORT + 37))
while [ -n "$(ss -Hltn "sport = :$port")" ]; do port=$((port + 1)); done

# start_pool [ENV...]: one responder (2 workers) on 127.0.0.1:$port with extra settings
start_pool() {
    env GUILD_LOG_FILE="$dir/guild.log" GUILD_FCGI_THREADS=2 "$@" \
        spawn-fcgi -a 127.0.0.1 -p "$port" -P "$dir/pid" -- "$bin" -c "$GUILD_CONF" >/dev/null 2>&1
    i=0; while [ -z "$(ss -Hltn "sport = :$port")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
    sleep 0.3
}
# fcgi URI: the answer's first line and body, one request over TCP
fcgi() {
    env -i REQUEST_METHOD=GET DOCUMENT_URI="$1" REQUEST_URI="$1" QUERY_STRING= \
        REMOTE_ADDR=127.0.0.1 timeout 5 cgi-fcgi -bind -connect "127.0.0.1:$port" 2>/dev/null
}

echo "# a loopback peer, the default GUILD_FCGI_ALLOW"
start_pool env -u GUILD_FCGI_ALLOW
out=$(fcgi /ping)
case "$out" in *'"message":"The Guild is alive"'*) ok "GET /ping over TCP: alive" ;; *) ko "GET /ping over TCP: '$out'" ;; esac
out=$(fcgi /health)
case "$out" in *Status:\ 200*|*'"status":"healthy"'*) ok "GET /health over TCP" ;; *) ko "GET /health over TCP: '$out'" ;; esac
seg="/dev/shm/guild-metrics-$(id -u)-tcp$port"
if [ -f "$seg" ]; then ok "metrics segment of a TCP pool: $seg"; else ko "no metrics segment at $seg"; fi
stop_pool

echo "# a peer outside GUILD_FCGI_ALLOW"
: >"$dir/guild.log"
start_pool GUILD_FCGI_ALLOW=10.0.0.0/8
out=$(fcgi /ping)
if [ -z "$out" ]; then ok "127.0.0.1 not in 10.0.0.0/8: closed unanswered"; else ko "refused peer got an answer: '$out'"; fi
sleep 1.2  # the request log is buffered; the refusal is a plain log line
if grep -q "refused a FastCGI connection from 127.0.0.1" "$dir/guild.log"; then ok "the refusal is logged"
else ko "no log line for the refusal:"; tail -5 "$dir/guild.log"; fi
stop_pool

echo "# the peer allowed by name in a list"
start_pool GUILD_FCGI_ALLOW="10.1.2.3, 127.0.0.1"
out=$(fcgi /ping)
case "$out" in *'"message":"The Guild is alive"'*) ok "listed peer served" ;; *) ko "listed peer: '$out'" ;; esac
stop_pool

echo "# a bad GUILD_FCGI_ALLOW stops the responder at startup"
if out=$(env GUILD_FCGI_ALLOW=10.0.0.300 "$bin" -c "$GUILD_CONF" 2>&1 </dev/null); then
    ko "started with GUILD_FCGI_ALLOW=10.0.0.300"
else
    case "$out" in *GUILD_FCGI_ALLOW*) ok "config error names GUILD_FCGI_ALLOW" ;; *) ko "config error: '$out'" ;; esac
fi
summary
