# tests/integration/testlib.sh: what the shell integration tests share (sourced, POSIX sh):
# the pass/fail tally, a fresh user through nginx, and a responder of the test's own asked
# directly over FastCGI. Needs BASE_URL (stack.env); the responder GUILD_CONF, HTTP_PORT.

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
ko() { fail=$((fail + 1)); echo "  FAILED: $*"; }
# summary: the tally's last line; the exit status of a test that ends with it
summary() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# new_user NAME [FULL_NAME]: registers NAME (password correct-horse-9) and logs in;
# sets user_id and user_token (both empty on failure)
new_user() {
    fn=""
    [ -n "${2:-}" ] && fn=",\"full_name\":\"$2\""
    curl -s -o /dev/null -X POST "$BASE_URL/api/auth/register" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"correct-horse-9\"$fn}"
    user_token=$(curl -s -X POST "$BASE_URL/api/auth/token" --data-urlencode "username=$1" \
        --data-urlencode "password=correct-horse-9" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
    user_id=$(curl -s "$BASE_URL/api/users/me" -H "Authorization: Bearer $user_token" \
        | sed -n 's/.*"id":\([0-9]*\).*/\1/p')
}

# spawn_responder DIR [VAR=VALUE...]: one responder process of the test's own, with the
# stack's configuration plus the settings given, on a free loopback TCP port from
# HTTP_PORT + 41 (as on another host, or a worker the test must reach directly); its log
# (DIR/guild.log), pid file and metrics segment in DIR. Sets resp_port; fails if it does
# not listen within 10 s. The caller stops it (kill "$(cat DIR/pid)").
spawn_responder() {
    sr_dir=$1
    shift
    resp_port=$((HTTP_PORT + 41))
    while [ -n "$(ss -Hltn "sport = :$resp_port")" ]; do resp_port=$((resp_port + 1)); done
    env GUILD_LOG_FILE="$sr_dir/guild.log" GUILD_METRICS_FILE="$sr_dir/metrics" "$@" \
        spawn-fcgi -a 127.0.0.1 -p "$resp_port" -P "$sr_dir/pid" -- \
        "${top_builddir:-$(pwd)}/src/guild-fcgi" -c "$GUILD_CONF" >/dev/null 2>&1
    sr_i=0
    while [ -z "$(ss -Hltn "sport = :$resp_port")" ] && [ $sr_i -lt 100 ]; do
        sleep 0.1; sr_i=$((sr_i + 1))
    done
    [ -n "$(ss -Hltn "sport = :$resp_port")" ]
}

# fcgi_get URI [VAR=VALUE...]: GET URI (no query string) from the spawn_responder
# responder over FastCGI, with the CGI variables given (HTTP_X_...=... for a header);
# the answer's headers and body, without CRs, on stdout
fcgi_get() {
    fg_uri=$1
    shift
    env -i REQUEST_METHOD=GET DOCUMENT_URI="$fg_uri" REQUEST_URI="$fg_uri" QUERY_STRING= \
        REMOTE_ADDR=127.0.0.1 "$@" timeout 10 cgi-fcgi -bind -connect "127.0.0.1:$resp_port" \
        2>/dev/null | tr -d '\r'
}
