#!/bin/sh
# Integration: one responder under valgrind (memcheck, full leak check) on
# its own FastCGI socket, against the test stack, driven through every kind
# of route (cache hit and miss, auth, writes, errors, sessions, metrics) and
# a log reopen (SIGUSR2), then stopped with SIGTERM: no memory error, nothing definitely or
# indirectly lost. Skips (77) outside `scripts/stack test`, or under the
# sanitizer build (valgrind and ASan cannot run together).
[ -n "${BASE_URL:-}" ] && [ -n "${GUILD_CONF:-}" ] || { echo "no test stack: skip"; exit 77; }
command -v valgrind >/dev/null || { echo "valgrind missing: skip"; exit 77; }
top=${top_builddir:-$(pwd)}
bin="$top/src/guild-fcgi"
if nm -an "$bin" 2>/dev/null | grep -q __asan_init; then echo "ASan build: skip"; exit 77; fi
set -u
dir=$(mktemp -d /tmp/guild-vg.XXXXXX)
sock="$dir/fcgi.sock"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
ko() { fail=$((fail + 1)); echo "  FAILED: $*"; }
trap 'kill $(cat "$dir/pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT

spawn-fcgi -s "$sock" -P "$dir/pid" -- /usr/bin/valgrind --leak-check=full \
    --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
    --log-file="$dir/vg.log" "$bin" -c "$GUILD_CONF" >/dev/null 2>&1
i=0; while [ ! -S "$sock" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 1

token=$(curl -s -X POST "$BASE_URL/api/auth/token" --data-urlencode "username=$ADMIN_USERNAME" \
        --data-urlencode "password=$ADMIN_PASSWORD" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
# fcgi METHOD URI [BODY [CONTENT_TYPE]]: one request to the valgrind responder
fcgi() {
    path=${2%%\?*}; query=""; case "$2" in *\?*) query=${2#*\?} ;; esac
    body=${3:-}
    printf '%s' "$body" | env -i REQUEST_METHOD="$1" DOCUMENT_URI="$path" REQUEST_URI="$2" \
        QUERY_STRING="$query" CONTENT_TYPE="${4:-application/json}" CONTENT_LENGTH=${#body} \
        REMOTE_ADDR=127.0.0.1 HTTP_AUTHORIZATION="Bearer $token" HTTP_IF_NONE_MATCH='"x"' \
        cgi-fcgi -bind -connect "$sock" 2>/dev/null | head -1
}
n=$$
for req in "GET /ping" "GET /" "GET /missions" "GET /health" "GET /metrics" "GET /nope" "POST /ping" \
           "GET /api/users?limit=5" "GET /api/users/me" "GET /api/users/1" "GET /api/users/abc" \
           "GET /api/analytics/users/stats" "GET /api/analytics/users/stats" \
           "GET /api/analytics/users/advanced-stats" "GET /api/analytics/missions/stats" \
           "GET /api/analytics/leaderboard?limit=5" "GET /api/analytics/leaderboard?limit=0" \
           "GET /api/analytics/users/1/performance" "GET /api/cache/stats" "GET /api/cache/warm" \
           "GET /api/sessions" "GET /api/protected-endpoint"; do
    fcgi ${req% *} ${req#* } >/dev/null
done
fcgi POST /api/auth/register "{\"username\":\"vg$n\",\"email\":\"vg$n@example.com\",\"password\":\"secret123\"}" >/dev/null
fcgi POST /api/auth/register '{"username":5,"email":"bad","password":"x"}' >/dev/null
fcgi POST /api/auth/register '{bad json' >/dev/null
fcgi POST /api/auth/token "username=admin&password=wrong" application/x-www-form-urlencoded >/dev/null
fcgi POST /api/users/1/missions '{"mission_id":2}' >/dev/null
fcgi POST "/api/users/1/missions/5/complete?score=70" >/dev/null
fcgi PUT /api/users/1 '{"full_name":"Valgrind Admin"}' >/dev/null
fcgi POST /api/sessions '{"cart":[1,2,3]}' >/dev/null
kill -USR2 "$(cat "$dir/pid")"   # a log rotation's reopen, with the workers' buffers
sleep 0.5
fcgi POST /api/cache/warm >/dev/null
sleep 1
fcgi DELETE "/api/cache/clear?pattern=leaderboard:*" >/dev/null
fcgi DELETE /api/sessions >/dev/null
status=$(fcgi GET /ping)
case "$status" in *200*) ok "responder under valgrind served the run" ;; *) ko "responder under valgrind: $status" ;; esac

kill "$(cat "$dir/pid")" 2>/dev/null
i=0; while kill -0 "$(cat "$dir/pid")" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
if grep -q "ERROR SUMMARY: 0 errors" "$dir/vg.log"; then ok "valgrind: 0 errors, nothing definitely/indirectly lost"
else ko "valgrind reported errors:"; cat "$dir/vg.log"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
