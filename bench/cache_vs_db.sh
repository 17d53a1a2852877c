#!/usr/bin/env bash
# bench/cache_vs_db.sh: latency and throughput of the cached analytics routes
# with the cache (X-Cache: HIT) and without it (cache Redis stopped: every
# request computes from MariaDB, X-Cache: BYPASS), measured side by side in
# one run, alternating rounds so machine noise hits both sides alike.
# Reports the median of the rounds and the ratio. Targets 127.0.0.1 only.
#
# usage: bench/cache_vs_db.sh [ROUNDS] [SECONDS_PER_RUN]
# needs a running stack (scripts/stack up); seeds it to BENCH_USERS users
# (default 100000) when it has fewer. Uses wrk (installed if missing).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-5}
SECS=${2:-5}
BENCH_USERS=${BENCH_USERS:-100000}
CONNS=${BENCH_CONNECTIONS:-8}
ENV_FILE=$("$REPO/scripts/stack" env)
set -a; . "$ENV_FILE"; set +a

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }

users=$($MYSQL_CLI -N -e "SELECT COUNT(*) FROM users")
if [ "$users" -lt "$BENCH_USERS" ]; then
    echo "seeding $((BENCH_USERS - users)) users ..."
    $GUILDCTL seed --users $((BENCH_USERS - users)) --progress $(( (BENCH_USERS - users) * 3 ))
fi

ROUTES=(/api/analytics/users/stats /api/analytics/users/advanced-stats
        /api/analytics/missions/stats "/api/analytics/leaderboard?limit=10")

# wrk run -> "requests_per_s p50_ms p99_ms"
measure() {
    wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$BASE_URL$1" 2>/dev/null | awk '
        /Requests\/sec/ {rps=$2}
        /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
        function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
        END {printf "%.1f %.3f %.3f\n", rps, ms(p50), ms(p99)}'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

OUT=$(mktemp -d)
trap '"$REPO/scripts/stack" start redis-cache >/dev/null 2>&1 || true; rm -rf "$OUT"' EXIT
for ((r = 1; r <= ROUNDS; r++)); do
    for mode in cache db; do
        if [ "$mode" = db ]; then "$REPO/scripts/stack" stop redis-cache >/dev/null; sleep 1.2
        else "$REPO/scripts/stack" start redis-cache >/dev/null; sleep 1.2
            for route in "${ROUTES[@]}"; do curl -s -o /dev/null "$BASE_URL$route"; done
        fi
        for route in "${ROUTES[@]}"; do
            measure "$route" >> "$OUT/$mode.$(echo "$route" | tr -c 'a-z0-9' _)"
        done
    done
    echo "round $r/$ROUNDS done"
done

printf '\n%-42s %12s %12s %10s %12s %12s %10s\n' route "rps cache" "rps db" "ratio" "p50 ms cache" "p50 ms db" "ratio"
for route in "${ROUTES[@]}"; do
    f=$(echo "$route" | tr -c 'a-z0-9' _)
    rc=$(cut -d' ' -f1 "$OUT/cache.$f" | median); rd=$(cut -d' ' -f1 "$OUT/db.$f" | median)
    lc=$(cut -d' ' -f2 "$OUT/cache.$f" | median); ld=$(cut -d' ' -f2 "$OUT/db.$f" | median)
    awk -v r="$route" -v rc="$rc" -v rd="$rd" -v lc="$lc" -v ld="$ld" 'BEGIN {
        printf "%-42s %12.0f %12.0f %9.1fx %12.3f %12.3f %9.1fx\n", r, rc, rd, rc/rd, lc, ld, ld/lc }'
done
echo "(medians of $ROUNDS alternating rounds of ${SECS}s, $CONNS connections, $($MYSQL_CLI -N -e 'SELECT COUNT(*) FROM users') users)"
