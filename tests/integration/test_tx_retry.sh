#!/bin/sh
# Integration: a write that InnoDB picks as a deadlock victim is run again, not answered
# 503 (db_transaction). A deadlock is made on purpose: a MariaDB session locks (and
# changes, so that it is the heavier side) every analytics counter row, then, while a
# mission start of user A waits on one of them holding the share lock its foreign-key
# check took on A's row, asks for A's row itself. InnoDB breaks the cycle by rolling back
# the lighter transaction, the start; the session then rolls back too, and the start's
# second attempt goes through: 201, with its progress row and counter. Skips (77) outside
# `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${MYSQL_CLI:-}" ] || { echo "no test stack: skip"; exit 77; }
set -u
dir=$(mktemp -d /tmp/guild-tx.XXXXXX)
trap 'rm -rf "$dir"' EXIT
. "$(dirname "$0")/testlib.sh"

new_user "tx$$"
id=$user_id tok=$user_token
[ -n "$id" ] || { ko "could not create a user"; exit 1; }
attempts() { $MYSQL_CLI -N -e "SELECT COALESCE(SUM(n), 0) FROM analytics_summary WHERE metric = 7 AND k = 4"; }
before=$(attempts)

cat >"$dir/lock.sql" <<SQL
BEGIN;
UPDATE analytics_summary SET n = n + 1;
SELECT SLEEP(1.5);
SELECT id FROM users WHERE id = $id FOR UPDATE;
SELECT SLEEP(0.5);
ROLLBACK;
SQL
$MYSQL_CLI -N <"$dir/lock.sql" >"$dir/lock.out" 2>&1 &
locker=$!
sleep 0.5
st=$(curl -s -o "$dir/start" -w '%{http_code}' --max-time 30 -X POST "$BASE_URL/api/users/$id/missions" \
     -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d '{"mission_id":4}')
wait "$locker"; lrc=$?
if [ "$lrc" = 0 ] && ! grep -qi deadlock "$dir/lock.out"; then
    ok "the locking session was not the victim (the start was)"
else
    ko "the locking session lost the deadlock instead (rc $lrc): $(cat "$dir/lock.out")"
fi
[ "$st" = 201 ] && ok "the mission start answered 201 after losing a deadlock" \
    || ko "the mission start: $st $(cat "$dir/start")"
after=$(attempts)
[ "$after" = $((before + 1)) ] && ok "its counter moved once ($before -> $after)" \
    || ko "mission 4 attempts $before -> $after, want +1"
rows=$($MYSQL_CLI -N -e "SELECT COUNT(*) FROM mission_progress WHERE user_id = $id AND mission_id = 4")
[ "$rows" = 1 ] && ok "one progress row" || ko "$rows progress rows"
summary
