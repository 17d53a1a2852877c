# tests/integration/testlib.sh: what the shell integration tests share (sourced, POSIX sh):
# the pass/fail tally, and a fresh user through nginx. Needs BASE_URL (stack.env).

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
