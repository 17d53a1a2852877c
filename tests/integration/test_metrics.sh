#!/bin/sh
# Integration: GET /metrics through nginx is valid Prometheus text (promtool
# check metrics), has every family the operators rely on, sums over the whole
# responder pool, counts a responder restart, and is refused by nginx to any
# address but 127.0.0.1. Issue 10, defect 6: the store Redis has a maxmemory
# and /metrics shows its used/max ratio, read with INFO at most once a second
# whatever the scrape rate; the shipped alert rules (etc/prometheus) pass
# promtool's checks and its unit tests. Skips (77) outside `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${FCGI_PID:-}" ] || { echo "no test stack: skip"; exit 77; }
command -v promtool >/dev/null || { echo "promtool missing (Debian package prometheus)"; exit 1; }
set -u
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
ko() { fail=$((fail + 1)); echo "  FAILED: $*"; }
tmp=$(mktemp -d /tmp/guild-metrics.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# value of one exact series line, 0 when absent
value() { awk -v s="$1" '$1 == s {v = $2} END {print v + 0}' "$tmp/m"; }
scrape() { curl -s -o "$tmp/m" -w '%{http_code} %{content_type}' "$BASE_URL/metrics"; }

res=$(scrape)
case "$res" in "200 text/plain; version=0.0.4"*) ok "GET /metrics: $res" ;; *) ko "GET /metrics: $res" ;; esac
if promtool check metrics < "$tmp/m" > "$tmp/lint" 2>&1; then ok "promtool check metrics"
else ko "promtool check metrics:"; cat "$tmp/lint"; fi
for fam in guild_http_requests_total guild_http_request_duration_seconds guild_cache_lookups_total \
           guild_cache_recomputations_total guild_cache_invalidations_total \
           guild_ratelimit_decisions_total guild_redis_errors_total guild_mysql_errors_total \
           guild_responder_starts_total; do
    if grep -q "^# TYPE $fam " "$tmp/m"; then ok "family $fam"; else ko "family $fam missing"; fi
done

# pool-wide: 40 pings land on several responders; the sum moves by exactly 40
series='guild_http_requests_total{route="meta.ping",method="GET",status="200"}'
before=$(value "$series")
i=0; while [ $i -lt 40 ]; do curl -s -o /dev/null "$BASE_URL/ping"; i=$((i + 1)); done
scrape >/dev/null
after=$(value "$series")
if [ $((after - before)) -eq 40 ]; then ok "40 pings counted once each over the pool ($before -> $after)"
else ko "ping counter moved by $((after - before)), expected 40"; fi
hist='guild_http_request_duration_seconds_count{route="meta.ping"}'
if [ "$(value "$hist")" -ge 40 ]; then ok "latency histogram counts the pings"; else ko "histogram count $(value "$hist")"; fi

# a responder killed hard is respawned by multiwatch and counted
starts=$(value guild_responder_starts_total)
child=$(pgrep -P "$(cat "$FCGI_PID")" | head -1)
if [ -n "$child" ] && kill -9 "$child"; then
    i=0; now=$starts
    while [ $i -lt 50 ] && [ "$now" -le "$starts" ]; do
        sleep 0.1; scrape >/dev/null; now=$(value guild_responder_starts_total); i=$((i + 1))
    done
    if [ "$now" -eq $((starts + 1)) ]; then ok "responder restart counted ($starts -> $now)"
    else ko "responder starts $starts -> $now after killing $child"; fi
else
    ko "no responder child of $(cat "$FCGI_PID") to kill"
fi

# nginx: loopback 127.0.0.1 only
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$BASE_URL/metrics")
if [ "$code" = 403 ]; then ok "/metrics from 127.0.0.2: 403"; else ko "/metrics from 127.0.0.2: $code"; fi
code=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$BASE_URL/ping")
if [ "$code" = 200 ]; then ok "other routes from 127.0.0.2: 200"; else ko "/ping from 127.0.0.2: $code"; fi

# the store's memory: gauges equal to what the store itself says
mem() { awk -v s="$1" '$1 == s {v = $2} END {print v}' "$tmp/m"; }
scrape >/dev/null
max=$(mem 'guild_redis_maxmemory_bytes{role="store"}')
used=$(mem 'guild_redis_used_memory_bytes{role="store"}')
ratio=$(mem 'guild_redis_memory_used_ratio{role="store"}')
want_max=$($REDIS_STORE_CLI --raw CONFIG GET maxmemory | tail -n 1)
for fam in guild_redis_used_memory_bytes guild_redis_maxmemory_bytes guild_redis_memory_used_ratio; do
    if grep -q "^# TYPE $fam gauge" "$tmp/m"; then ok "gauge $fam"; else ko "gauge $fam missing"; fi
done
if [ -n "$want_max" ] && [ "$want_max" -gt 0 ] 2>/dev/null; then ok "the store Redis has a maxmemory ($want_max)"
else ko "the store Redis has no maxmemory ($want_max)"; fi
if [ "$max" = "$want_max" ]; then ok "maxmemory gauge = CONFIG GET maxmemory ($max)"
else ko "maxmemory gauge [$max], store says [$want_max]"; fi
if [ -n "$used" ] && [ -n "$ratio" ] && awk -v u="$used" -v m="$max" -v r="$ratio" \
        'BEGIN { exit !(u > 0 && r > 0 && r < 1 && (r - u / m) < 1e-6 && (u / m - r) < 1e-6) }'; then
    ok "used $used bytes, ratio $ratio = used / max"
else ko "used [$used], ratio [$ratio], max [$max]"; fi

# cheap: 40 scrapes as fast as they go cost at most one INFO a second (+1)
info_calls() { $REDIS_STORE_CLI INFO commandstats | tr -d '\r' | awk -F'[:=,]' '$1 == "cmdstat_info" {print $3}'; }
b=$(info_calls); t0=$(date +%s%N)
i=0; while [ $i -lt 40 ]; do scrape >/dev/null; i=$((i + 1)); done
t1=$(date +%s%N); a=$(info_calls)
secs=$(( (t1 - t0 + 999999999) / 1000000000 ))
n=$(( ${a:-0} - ${b:-0} - 1 ))   # the first info_calls counts itself in the second
if [ -n "$a" ] && [ "$n" -le $((secs + 1)) ]; then ok "40 scrapes in ${secs} s: $n INFO calls on the store"
else ko "40 scrapes in ${secs} s: $n INFO calls on the store (at most $((secs + 1)))"; fi

# the alert rules shipped for it
rules="${srcdir:-.}/etc/prometheus/guild-alerts.yml"
if promtool check rules "$rules" > "$tmp/rules" 2>&1; then ok "promtool check rules $rules"
else ko "promtool check rules:"; cat "$tmp/rules"; fi
if (cd "${srcdir:-.}/etc/prometheus" && promtool test rules guild-alerts.test.yml) > "$tmp/rt" 2>&1; then
    ok "promtool test rules (the alerts fire at their thresholds, not below)"
else ko "promtool test rules:"; cat "$tmp/rt"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
