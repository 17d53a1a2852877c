#!/bin/sh
# Integration (issue 10, defect 11): the log is rotated under load and no line is lost.
# Four clients send a bounded number of requests through nginx (GET /ping, and /health
# one time in ten) while the log is rotated several times, alternately by hand (mv +
# SIGUSR2 to the pool's multiwatch, which passes it on to every responder) and by
# logrotate with the shipped rule (etc/logrotate.d/guild) aimed at this stack: its log,
# no owner change, and `kill -USR2 <multiwatch>` for its systemctl line. Afterwards:
# every request answered 200, no responder restarted, and each request's X-Request-ID
# appears in exactly one request line across the live and rotated files (gzip included).
# The responders buffer request lines (GUILD_REQUEST_LOG=buffered, the default), so
# this also proves the buffers reach a file. Skips (77) outside `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${FCGI_PID:-}" ] && [ -n "${GUILD_LOG_FILE:-}" ] ||
    { echo "no test stack: skip"; exit 77; }
command -v logrotate >/dev/null || { echo "logrotate missing (Debian package logrotate)"; exit 1; }
set -u
CLIENTS=4
PER_CLIENT=1500
ROTATIONS=6
rule="${srcdir:-.}/etc/logrotate.d/guild"
log=$GUILD_LOG_FILE
pool=$(cat "$FCGI_PID")
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
ko() { fail=$((fail + 1)); echo "  FAILED: $*"; }
tmp=$(mktemp -d /tmp/guild-logrotate.XXXXXX)
cleanup() {
    for p in $(cat "$tmp"/pids 2>/dev/null); do kill "$p" 2>/dev/null; done
    [ "$fail" -eq 0 ] && rm -f "$log".*   # rotated files stay for a post-mortem
    rm -rf "$tmp"
}
trap cleanup EXIT

starts() { curl -s "$BASE_URL/metrics" | awk '$1 == "guild_responder_starts_total" {print $2}'; }
# request lines of the live and rotated logs
all_lines() { for f in "$log" "$log".*; do [ -f "$f" ] && zcat -f "$f"; done; }

# the shipped rule parses (with an owner that exists on this host)
sed "s/^\([[:space:]]*create [0-7]*\) .*/\1 $(id -un) $(id -gn)/" "$rule" > "$tmp/shipped.conf"
if logrotate -d -s "$tmp/state0" "$tmp/shipped.conf" > "$tmp/parse" 2>&1 && ! grep -q '^error' "$tmp/parse"
then ok "logrotate parses $rule"; else ko "logrotate -d $rule:"; cat "$tmp/parse"; fi
grep -q 'postrotate' "$rule" && grep -q 'SIGUSR2' "$rule" && grep -q 'delaycompress' "$rule" &&
    ok "the rule signals SIGUSR2 after rotating and delays compression" ||
    ko "the rule lacks postrotate SIGUSR2 or delaycompress"

# the same rule aimed at this stack
sed -e "s|^/var/log/guild/guild.log|$log|" \
    -e "s/^\([[:space:]]*create [0-7]*\) .*/\1 $(id -un) $(id -gn)/" \
    -e "s|^\([[:space:]]*\)systemctl kill .*|\1kill -USR2 $pool|" "$rule" > "$tmp/stack.conf"
grep -q "kill -USR2 $pool" "$tmp/stack.conf" || ko "could not aim the rule at this stack"

# the load: each client one curl over a kept-alive connection, a line per answer
i=0
while [ $i -lt $CLIENTS ]; do
    n=0
    while [ $n -lt $PER_CLIENT ]; do
        if [ $((n % 10)) -eq 9 ]; then path=/health; else path=/ping; fi
        printf 'url = "%s%s"\noutput = "/dev/null"\n' "$BASE_URL" "$path"
        n=$((n + 1))
    done > "$tmp/urls$i"
    curl -s --max-time 120 -K "$tmp/urls$i" -w '%{http_code} %header{x-request-id}\n' \
        > "$tmp/out$i" 2>"$tmp/err$i" &
    echo $! >> "$tmp/pids"
    i=$((i + 1))
done
total=$((CLIENTS * PER_CLIENT))
before=$(starts)

# rotate at 1/7, 2/7, ... of the load, so that every rotation meets requests in flight
done_count() { cat "$tmp"/out* 2>/dev/null | wc -l; }
alive() { for p in $(cat "$tmp/pids"); do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
k=1; under_load=0
while [ $k -le $ROTATIONS ]; do
    want=$((total * k / (ROTATIONS + 1)))
    while [ "$(done_count)" -lt $want ] && alive; do sleep 0.05; done
    alive && under_load=$((under_load + 1))
    if [ $((k % 2)) -eq 1 ]; then
        mv "$log" "$log.mv$k" && kill -USR2 "$pool"
    else
        logrotate -f -s "$tmp/state" "$tmp/stack.conf" > "$tmp/lr$k" 2>&1 || { ko "logrotate run $k:"; cat "$tmp/lr$k"; }
    fi
    k=$((k + 1))
done
for p in $(cat "$tmp/pids"); do wait "$p"; done
if [ "$under_load" -ge $((ROTATIONS - 1)) ]; then ok "$under_load of $ROTATIONS rotations while the load ran"
else ko "only $under_load of $ROTATIONS rotations met the load"; fi

cat "$tmp"/out* > "$tmp/answers"
sent=$(wc -l < "$tmp/answers")
good=$(awk '$1 == 200 && length($2) > 0' "$tmp/answers" | wc -l)
if [ "$sent" -eq $total ] && [ "$good" -eq $total ]; then ok "$total requests, all 200 with a request id"
else ko "$sent answers of $total, $good of them 200 with an id"; awk '{print "    status", $1}' "$tmp/answers" | sort | uniq -c; fi
after=$(starts)
if [ -n "$before" ] && [ "$before" = "$after" ]; then ok "no responder restarted ($before starts)"
else ko "responder starts $before -> $after"; fi

# every request id in exactly one request line; idle workers' buffers reach the file
# within a couple of seconds (the responders' main threads flush lines older than 1 s)
awk '{print $2}' "$tmp/answers" | sort > "$tmp/ids"
i=0
while :; do
    all_lines | awk '$2 == "req" {print $3}' | sort > "$tmp/logged"
    missing=$(comm -23 "$tmp/ids" "$tmp/logged" | wc -l)
    [ "$missing" -eq 0 ] || [ $i -ge 50 ] && break
    sleep 0.1; i=$((i + 1))
done
dups=$(uniq -d "$tmp/logged" | comm -12 "$tmp/ids" - | wc -l)
files=$(ls "$log".* 2>/dev/null | wc -l)
if [ "$missing" -eq 0 ]; then ok "all $total request lines found across $files rotated files + the live one ($((i / 10)).$((i % 10)) s after the load)"
else ko "$missing of $total request lines missing after 5 s"; fi
if [ "$dups" -eq 0 ]; then ok "no request line written twice"; else ko "$dups request lines written twice"; fi
if [ "$files" -ge $ROTATIONS ]; then ok "$files rotated files"; else ko "$files rotated files, expected $ROTATIONS"; fi
ls "$log".*.gz >/dev/null 2>&1 && ok "logrotate compressed the older ones (delaycompress)" ||
    ko "no compressed rotated file"
[ -f "$log" ] && ok "the responders write the live file again" || ko "$log missing"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
