#!/bin/bash
# Integration (issue 11): the store Redis role behind Redis Sentinel. Starts its own Redis
# primary + replica + 3 Sentinels on loopback ports from GUILD_TEST_SENTINEL_PORT_BASE
# (default 16390: base .. base+4) in a private dir under the test var dir, restarts the test
# stack's pool with GUILD_STORE_REDIS_SENTINELS pointing at them, and through nginx:
#   1. a session and a rate-limited call work through the discovered master;
#   2. SENTINEL FAILOVER under a small load: requests keep succeeding, the pool follows;
#   3. the primary SIGKILLed under load: the replica is promoted, the pool follows within
#      15 s, and the errors between are 503 (sessions; the limiter fails open), never 5xx else;
#   4. a demoted primary that still holds the pool's connections (REPLICAOF without Sentinel
#      killing its clients) answers READONLY: the responders drop it and rediscover (run with
#      GUILD_REDIS_SENTINEL_CHECK_MS=0; fails without the READONLY drop: writes fail for good).
# Prints errors, time to recover and acknowledged sessions lost per step. Always stops its
# servers and restores the normal pool. Skips (77) outside `scripts/stack test`.
[ -n "${BASE_URL:-}" ] && [ -n "${FCGI_PID:-}" ] && [ -n "${STACK_CMD:-}" ] &&
    [ -n "${GUILD_CONF:-}" ] || { echo "no test stack: skip"; exit 77; }
command -v redis-server >/dev/null || { echo "redis-server missing"; exit 1; }
set -u
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
ko() { fail=$((fail + 1)); echo "  FAILED: $*"; }

BASE=${GUILD_TEST_SENTINEL_PORT_BASE:-16390}
P1=$BASE P2=$((BASE + 1)) S=($((BASE + 2)) $((BASE + 3)) $((BASE + 4)))
NAME=guild-store-test
PREFIX=${REDIS_PREFIX:-guild:}
DIR=${VAR_DIR:-/tmp}/sentinel-test.$$
LOAD_WORKERS=4
RECOVER_BOUND_S=15
mkdir -p "$DIR"
saved_conf="$DIR/guild.conf.saved"
cp "$GUILD_CONF" "$saved_conf" || { echo "cannot save $GUILD_CONF"; exit 1; }

rcli() { local port=$1; shift; redis-cli -h 127.0.0.1 -p "$port" "$@"; }

ping_ok() {
    local i
    for i in $(seq 100); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE_URL/ping")" = 200 ] && return 0
        sleep 0.1
    done
    return 1
}

stop_servers() {
    local f
    for f in "$DIR"/*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    sleep 0.3
    for f in "$DIR"/*.pid; do
        [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
    done
}

cleanup() {
    touch "$DIR/stop"
    wait 2>/dev/null
    cp "$saved_conf" "$GUILD_CONF"
    $STACK_CMD restart fcgi >/dev/null 2>&1
    ping_ok || echo "  WARNING: the normal pool did not come back"
    stop_servers
    if [ "$fail" -gt 0 ]; then
        for f in "$DIR"/*.log; do echo "--- $f (tail)"; tail -n 15 "$f"; done
    fi
    rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- Redis primary + replica + 3 Sentinels ----

start_redis() { # port [replicaof-port]
    local port=$1 conf="$DIR/redis-$1.conf"
    {
        echo "port $port"; echo "bind 127.0.0.1"; echo "save \"\""; echo "appendonly no"
        echo "dir $DIR"; echo "dbfilename dump-$port.rdb"
        echo "pidfile $DIR/redis-$port.pid"; echo "logfile $DIR/redis-$port.log"
        echo "daemonize yes"
        [ $# -gt 1 ] && echo "replicaof 127.0.0.1 $2"
    } > "$conf"
    redis-server "$conf"
}

start_sentinel() { # port
    local port=$1 conf="$DIR/sentinel-$1.conf"
    {
        echo "port $port"; echo "bind 127.0.0.1"; echo "dir $DIR"
        echo "pidfile $DIR/sentinel-$port.pid"; echo "logfile $DIR/sentinel-$port.log"
        echo "daemonize yes"
        echo "sentinel monitor $NAME 127.0.0.1 $P1 2"
        echo "sentinel down-after-milliseconds $NAME 1000"
        echo "sentinel failover-timeout $NAME 4000"
        echo "sentinel parallel-syncs $NAME 1"
    } > "$conf"
    redis-server "$conf" --sentinel
}

master_port() { # the port Sentinel S[0..2] (first that answers) names as master
    local s out
    for s in "${S[@]}"; do
        out=$(rcli "$s" SENTINEL get-master-addr-by-name "$NAME" 2>/dev/null | sed -n 2p)
        [ -n "$out" ] && { echo "$out"; return; }
    done
}

role_of() { rcli "$1" ROLE 2>/dev/null | head -1; }
master_is_not() { local m; m=$(master_port); [ -n "$m" ] && [ "$m" != "$1" ]; }

wait_for() { # tenths cmd...: polls until cmd succeeds
    local n=$1 i
    shift
    for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
    return 1
}
replica_synced() { rcli "$P2" INFO replication | grep -q 'master_link_status:up'; }
sentinels_know_replica() {
    local s
    for s in "${S[@]}"; do
        rcli "$s" SENTINEL replicas "$NAME" 2>/dev/null | grep -qx "127.0.0.1:$P2" || return 1
    done
}

start_redis "$P1" && start_redis "$P2" "$P1" || { ko "redis-server did not start"; exit 1; }
for s in "${S[@]}"; do start_sentinel "$s" || { ko "sentinel on $s did not start"; exit 1; }; done
if wait_for 100 replica_synced && wait_for 150 sentinels_know_replica; then
    ok "primary :$P1, replica :$P2, Sentinels :${S[*]} up; every Sentinel sees the replica"
else
    ko "the replica did not sync or the Sentinels did not find it"; exit 1
fi

# ---- the pool, its store role behind the Sentinels ----
pool_conf() { # extra settings...: the test's pool configuration
    {
        cat "$saved_conf"
        echo "GUILD_STORE_REDIS_SENTINELS=127.0.0.1:${S[0]}, 127.0.0.1:${S[1]}, 127.0.0.1:${S[2]}"
        echo "GUILD_STORE_REDIS_MASTER=$NAME"
        echo "GUILD_SESSIONS_PER_USER=10000"
        printf '%s\n' "$@"
    } > "$GUILD_CONF"
}
pool_conf
if $STACK_CMD restart fcgi >/dev/null 2>&1 && ping_ok; then
    ok "pool restarted with GUILD_STORE_REDIS_SENTINELS"
else
    ko "pool did not restart with the Sentinel settings"; exit 1
fi

# a user per load worker (the limiter counts per user), + one for the checks
register_login() { # name -> token on stdout
    curl -s -o /dev/null -X POST -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"email\":\"$1@example.com\",\"password\":\"sentinel-pass-1\"}" \
        "$BASE_URL/api/auth/register"
    curl -s -X POST -d "username=$1&password=sentinel-pass-1" "$BASE_URL/api/auth/login" |
        sed -n 's/.*"access_token" *: *"\([^"]*\)".*/\1/p'
}
uniq=sent$$$RANDOM
TOKENS=()
for i in $(seq 0 $LOAD_WORKERS); do TOKENS[i]=$(register_login "${uniq}w$i"); done
[ -n "${TOKENS[0]}" ] && [ -n "${TOKENS[$LOAD_WORKERS]}" ] || { ko "no tokens"; exit 1; }

# ---- 1. works through the discovered master ----
create_session() { # token -> "code id"
    local out code id=""
    out=$(curl -s -m 5 -X POST -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
        -d '{"via":"sentinel"}' -w '\n%{http_code}' "$BASE_URL/api/sessions")
    code=${out##*$'\n'}
    [[ $out =~ \"session_id\"\ ?:\ ?\"([0-9a-f-]+)\" ]] && id=${BASH_REMATCH[1]}
    echo "$code $id"
}
read -r code sid <<< "$(create_session "${TOKENS[0]}")"
if [ "$code" = 201 ] && [ "$(rcli "$P1" EXISTS "${PREFIX}sess:$sid")" = 1 ]; then
    ok "session created through the Sentinels' master (:$P1 holds it)"
else
    ko "session create: $code, on :$P1: $(rcli "$P1" EXISTS "${PREFIX}sess:$sid")"
fi
codes=""
for i in $(seq 12); do
    codes+="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer ${TOKENS[0]}" \
        "$BASE_URL/api/protected-endpoint") "
done
n200=$(grep -o 200 <<< "$codes" | wc -l) n429=$(grep -o 429 <<< "$codes" | wc -l)
if [ "$n200" -eq 10 ] && [ "$n429" -eq 2 ]; then ok "rate limit exact through Sentinel: $codes"
else ko "12 protected calls: $codes (want 10 x 200, 2 x 429)"; fi

# ---- the load: LOAD_WORKERS loops creating sessions, each line "time code id" ----
worker() { # index file
    local tok=${TOKENS[$1]} r
    while [ ! -e "$DIR/stop" ]; do
        r=$(create_session "$tok")
        echo "$EPOCHREALTIME $r" >> "$2"
        sleep 0.02
    done
}
start_load() { # tag
    rm -f "$DIR/stop" "$DIR/load-$1".*
    for i in $(seq 1 $LOAD_WORKERS); do worker "$i" "$DIR/load-$1.$i" & done
}
stop_load() { touch "$DIR/stop"; wait; }

# report TAG T0: counts after t0; errors and the last error's time after T0; lost sessions
report() {
    local tag=$1 t0=$2 m all lost
    m=$(master_port)
    all=$(cat "$DIR/load-$tag".* | awk -v t0="$t0" '$1 >= t0')
    total=$(awk 'END {print NR}' <<< "$all")
    n5xx_bad=$(awk '$2 >= 500 && $2 != 503 || $2 == 000 {n++} END {print n + 0}' <<< "$all")
    n503=$(awk '$2 == 503 {n++} END {print n + 0}' <<< "$all")
    nother=$(awk '$2 != 201 && $2 != 503 {n++} END {print n + 0}' <<< "$all")
    recover=$(awk -v t0="$t0" '$2 != 201 {last = $1} END {printf "%.1f", last ? last - t0 : 0}' \
        <<< "$all")
    # acknowledged (201) sessions that the final master does not hold
    lost=0 lost_until=0
    while read -r t id; do
        if [ "$(rcli "$m" EXISTS "${PREFIX}sess:$id")" != 1 ]; then
            lost=$((lost + 1)) lost_until=$(awk -v a="$t" -v b="$t0" 'BEGIN {printf "%.1f", a - b}')
        fi
    done < <(awk '$2 == 201 {print $1, $3}' <<< "$all")
    echo "  [$tag] $total requests after the fault, $n503 x 503, $nother other non-201" \
         "($n5xx_bad 5xx other than 503 or no answer), last error at +${recover} s," \
         "$lost acknowledged sessions lost (the last acknowledged at +$lost_until s); master now :$m"
    echo "SENTINEL_RESULT $tag errors=$n503 recover_s=$recover lost=$lost lost_until_s=$lost_until total=$total"
}

# clean_recovery BOUND_S: the last report's errors were all 503 and the last one came by
# +BOUND_S
clean_recovery() {
    [ "$n5xx_bad" -eq 0 ] && [ "$nother" -eq 0 ] &&
        [ "$(awk -v r="$recover" -v b="$1" 'BEGIN {print (r <= b)}')" = 1 ]
}

# ---- 2. planned switch ----
start_load planned
sleep 2
t0=$EPOCHREALTIME
old=$(master_port)
rcli "${S[0]}" SENTINEL FAILOVER "$NAME" >/dev/null
wait_for 150 master_is_not "$old"
sleep 8
stop_load
report planned "$t0"
new=$(master_port)
if [ "$new" != "$old" ] && clean_recovery "$RECOVER_BOUND_S"; then
    ok "SENTINEL FAILOVER :$old -> :$new: errors only 503, recovered by +$recover s"
else
    ko "planned failover :$old -> :$new: $nother non-201 ($n5xx_bad bad), last at +$recover s"
fi
read -r code _ <<< "$(create_session "${TOKENS[0]}")"
[ "$code" = 201 ] && ok "a session after the switch: 201" || ko "a session after the switch: $code"

# ---- 3. the primary killed under load ----
replica_of_new() { [ "$(role_of "$old")" = slave ] && rcli "$old" INFO replication | grep -q 'master_link_status:up'; }
wait_for 150 replica_of_new || ko "old master :$old did not become a synced replica of :$new"
start_load kill
sleep 2
victim=$(master_port)
t0=$EPOCHREALTIME
kill -9 "$(cat "$DIR/redis-$victim.pid")"
wait_for 200 master_is_not "$victim"
promoted_after=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.1f", b - a}')
sleep 4
stop_load
report kill "$t0"
survivor=$(master_port)
if [ "$survivor" != "$victim" ] && clean_recovery "$RECOVER_BOUND_S"; then
    ok "primary :$victim killed: Sentinel promoted :$survivor after ${promoted_after} s," \
       "the pool followed by +$recover s, errors only 503"
else
    ko "primary killed: master :$survivor, $nother non-201 ($n5xx_bad bad), last at +$recover s"
fi

# ---- 4. a demoted primary still holding the pool's connections: READONLY ----
# the killed server comes back as a replica of the survivor
start_redis "$victim" "$survivor"
replica_back() { [ "$(role_of "$victim")" = slave ] && rcli "$victim" INFO replication | grep -q 'master_link_status:up'; }
wait_for 100 replica_back || ko "restarted :$victim did not sync from :$survivor"
# Without the once-a-second check with a Sentinel (which would also move the workers, a
# second later), so that this step sees the READONLY drop alone: without it, the writes
# would fail for good.
pool_conf "GUILD_REDIS_SENTINEL_CHECK_MS=0"
if $STACK_CMD restart fcgi >/dev/null 2>&1 && ping_ok; then
    ok "pool restarted with GUILD_REDIS_SENTINEL_CHECK_MS=0"
else
    ko "pool did not restart without the Sentinel check"; exit 1
fi
start_load readonly
sleep 2
# promote the replica and point the Sentinels at it, then demote the survivor by hand: no
# Sentinel reconfigures it, so nobody kills its clients and the pool's connections stay open
# (a burst first, so that every worker is connected to :$survivor)
bursts() { # tag: 24 session creates at once; fills burst_codes and burst_503
    local pids=() i
    for i in $(seq 24); do create_session "${TOKENS[0]}" > "$DIR/$1.$i" & pids+=($!); done
    wait "${pids[@]}"
    burst_codes=$(cat "$DIR/$1".* | awk '{print $1}' | sort | uniq -c | tr -s ' \n' ' ')
    burst_503=$(cat "$DIR/$1".* | awk '$1 == 503 {n++} END {print n + 0}')
}
bursts warm
sleep 1.2 # past every worker's reconnect interval (1 s) since its connect
rcli "$victim" REPLICAOF NO ONE >/dev/null
# (every Sentinel forgets the old master before any monitors the new one: a Sentinel still
# holding the old configuration would hand its newer epoch to the others)
for s in "${S[@]}"; do rcli "$s" SENTINEL REMOVE "$NAME" >/dev/null; done
for s in "${S[@]}"; do
    rcli "$s" SENTINEL MONITOR "$NAME" 127.0.0.1 "$victim" 2 >/dev/null
    rcli "$s" SENTINEL SET "$NAME" down-after-milliseconds 1000 failover-timeout 4000 >/dev/null
done
t0=$EPOCHREALTIME
rcli "$survivor" REPLICAOF 127.0.0.1 "$victim" >/dev/null
# and at once a burst wide enough to reach most workers while they are still on :$survivor
bursts burst
sleep 6
stop_load
report readonly "$t0"
readonly_replies=$(rcli "$survivor" INFO errorstats | sed -n 's/^errorstat_READONLY:count=\([0-9]*\).*/\1/p')
echo "  (:$survivor answered READONLY ${readonly_replies:-0} times)"
# The first READONLY on a worker's connection (the limiter's script, which fails open) drops
# it, so the session create that follows usually reconnects to :$victim at once; a worker
# that connected less than its reconnect interval (1 s) ago answers 503 until it may
# reconnect (seen under ASan: up to 17 x 503, all within +0.1 s). Without the drop, every
# create on a stale connection answers READONLY -> 503 for good (223 x 503 until the end).
if [ "$(master_port)" = "$victim" ] && clean_recovery 1.5; then
    ok "demoted :$survivor answered READONLY; the pool moved to :$victim, last 503 at" \
       "+$recover s ($n503 x 503 under load; burst of 24 right after the demotion: $burst_codes)"
else
    ko "after the demotion: $n503 x 503 under load, burst of 24: $burst_codes," \
       "$nother other ($n5xx_bad bad), last at +$recover s (want all within +1.5 s)"
fi
read -r code _ <<< "$(create_session "${TOKENS[0]}")"
[ "$code" = 201 ] && ok "no lasting write errors: a session now is 201" ||
    ko "a session 6 s after the demotion: $code"
echo "SENTINEL_RESULT readonly_burst_503=$burst_503"

sw=$(curl -s "$BASE_URL/metrics" | awk '$1 == "guild_redis_master_switches_total{role=\"store\"}" {print $2}')
if [ "${sw:-0}" -ge 1 ]; then ok "/metrics counts master switches (store: $sw)"
else ko "guild_redis_master_switches_total{role=\"store\"} = ${sw:-absent}"; fi

echo "test_sentinel: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
