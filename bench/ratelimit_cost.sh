#!/usr/bin/env bash
# bench/ratelimit_cost.sh: what rate limiting costs a cached GET. Measures
# GET /api/analytics/users/stats (a cache HIT) with the api policy enforced
# (a limit too high to trigger, so every request still runs the limiter
# script on the store Redis) and with it disabled (GUILD_RATE_LIMIT_API=0),
# alternating rounds in one run; reports medians and the ratio.
# usage: bench/ratelimit_cost.sh [ROUNDS] [SECONDS]   (needs scripts/stack up)
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-5}
SECS=${2:-5}
ENV_FILE=$("$REPO/scripts/stack" env)
set -a; . "$ENV_FILE"; set +a
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
CONF="$GUILD_CONF"
cp "$CONF" "$CONF.bench-orig"
restore() { mv -f "$CONF.bench-orig" "$CONF"; "$REPO/scripts/stack" restart fcgi >/dev/null 2>&1 || true; }
trap restore EXIT
URL="$BASE_URL/api/analytics/users/stats"

set_limit() {
    grep -v '^GUILD_RATE_LIMIT_API=' "$CONF.bench-orig" > "$CONF"
    echo "GUILD_RATE_LIMIT_API=$1" >> "$CONF"
    "$REPO/scripts/stack" restart fcgi >/dev/null
    curl -s -o /dev/null "$URL"  # warm the entry
}
rps() { wrk -t2 -c8 -d"${SECS}s" "$URL" 2>/dev/null | awk '/Requests\/sec/ {print $2}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

: > /tmp/rl_on; : > /tmp/rl_off
for ((r = 1; r <= ROUNDS; r++)); do
    set_limit 1000000/60; rps >> /tmp/rl_on
    set_limit 0; rps >> /tmp/rl_off
    echo "round $r/$ROUNDS: on $(tail -1 /tmp/rl_on) req/s, off $(tail -1 /tmp/rl_off) req/s"
done
on=$(median < /tmp/rl_on); off=$(median < /tmp/rl_off)
awk -v on="$on" -v off="$off" 'BEGIN { printf "median req/s: limiting on %.0f, off %.0f, on/off = %.2f\n", on, off, on/off }'
