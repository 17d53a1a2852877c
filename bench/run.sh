#!/usr/bin/env bash
# bench/run.sh: the Guild API benchmark suite (issue 9): `scripts/stack bench [SCENARIO...]`.
#
# Owns: preparing the data (guildctl seed, only what is missing), switching the responder
# configuration per scenario (raised rate limits, limiter off, cache off, pool size) and
# restoring it afterwards, running wrk with the Lua scripts of bench/lib/ (3 runs per
# scenario), refusing any run that saw a status other than the expected one, and handing the
# raw results to bench/report.py (Markdown table, JSON, charts, docs/performance.md).
# Does not own: the stack (scripts/stack starts it and passes its stack.env in
# BENCH_STACK_ENV), nor any number's interpretation (docs/performance.md).
# Invariants: loopback only (BASE_URL is 127.0.0.1); every run is bounded (wrk -d, --timeout);
# the limiter runs on every request but never trips (limits raised, never disabled, except
# in the scenario that measures it disabled); guild.conf, the pool size and the cache Redis
# are restored on every exit, failures included. Run `bench/run.sh --help` for the settings.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$BENCH_DIR/.." && pwd -P)
CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf '[bench] %s\n' "$*"; }
warn() { printf '[bench] warning: %s\n' "$*" >&2; }
die() { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

usage() {
    cat <<EOF
usage: scripts/stack bench [--smoke] [SCENARIO...]     (or bench/run.sh with BENCH_STACK_ENV)

Runs every scenario (or the ones named) BENCH_RUNS times against the stack, reports median
req/s (expected statuses only), p50 and p99, and req/s as a ratio of the nginx-static
baseline measured in the same run. Any other status, socket error or timeout fails the
scenario (exit 1). Baselines (static, return200) always run unless BENCH_BASELINES=0.

scenarios: ${ALL_SCENARIOS[*]}

--smoke   CI: one run of BENCH_SMOKE_DURATION s per scenario, tiny data, results under the
          var dir, docs untouched; fails only on wrong statuses (no thresholds)

settings (environment):
  BENCH_DURATION     seconds per run                                    [10]
  BENCH_RUNS         runs per scenario (median reported)                [3]
  BENCH_CONNECTIONS  wrk -c                                             [32]
  BENCH_MISS_CONNECTIONS  wrk -c of the cache-off scenarios: each request costs 10-1000x
                     more, so 32 connections would measure mostly queueing   [8]
  BENCH_THREADS      wrk -t                                             [2]
  BENCH_TIMEOUT      wrk --timeout, seconds (a timeout fails the run)   [30]
  BENCH_USERS        seeded users (guildctl seed, seed 42) to have      [100000]
  BENCH_PROGRESS_PER_USER  progress rows seeded per missing user        [3]
  BENCH_WRITE_USERS  write-pool users of the mixes (seed 9001)           [20000]
  BENCH_WRITE_POOL_FRESH  1: pool users without any progress row (reproduces an InnoDB
                     deadlock of concurrent completions, see reset_write_pool)  [0]
  BENCH_POOL_SIZES   responder counts of the pool sweep                 [2 4 8 16]
  BENCH_HOL_CLIENTS  connections hammering the uncached route (hol)     [8]
  BENCH_MISS_VIA     config: GUILD_CACHE_ENABLED=0 | redis-stop: cache Redis stopped [config]
  BENCH_ZIPF_S       Zipf exponent of the user ids                      [1.0]
  BENCH_SEED         seed of the Lua sequences                          [9]
  BENCH_BASELINES    0: do not add the baselines to a named selection   [1]
  BENCH_STRICT       1: a skipped scenario fails the run too            [0]
  BENCH_RESULTS_DIR  where <timestamp>.json/.md go                      [bench/results]
  BENCH_UPDATE_DOCS  1/0: rewrite docs/performance.md + docs/img charts [1 on a full run
                     where no scenario failed]
  BENCH_SMOKE_DURATION, BENCH_SMOKE_USERS, BENCH_SMOKE_WRITE_USERS      [5, 2000, 500]
EOF
}

# ---------------------------------------------------------------------------------------------
# settings

SMOKE=0
SELECTED=()

load_settings() {
    POOL_SIZES=(${BENCH_POOL_SIZES:-2 4 8 16})
    # Canonical order: limiter-off right after stats-hit (the pair compared), then back to the
    # default profile; cache off, the pool sizes and the stopped cache Redis last.
    ALL_SCENARIOS=(static return200 ping stats-hit limiter-off stats-etag advanced-stats-hit
        missions-stats-hit leaderboard-hit user-zipf users-me mix-95-5 mix-50-50 auth-token
        stats-miss advanced-stats-miss missions-stats-miss leaderboard-miss)
    local n
    for n in "${POOL_SIZES[@]}"; do
        [[ $n =~ ^[0-9]+$ ]] && (( n >= 1 )) || die "BENCH_POOL_SIZES: not a count: $n"
        ALL_SCENARIOS+=("pool-$n")
    done
    ALL_SCENARIOS+=(hol)

    if (( SMOKE )); then
        DURATION=${BENCH_SMOKE_DURATION:-5}
        RUNS=1
        USERS=${BENCH_SMOKE_USERS:-2000}
        WRITE_USERS=${BENCH_SMOKE_WRITE_USERS:-500}
    else
        DURATION=${BENCH_DURATION:-10}
        RUNS=${BENCH_RUNS:-3}
        USERS=${BENCH_USERS:-100000}
        WRITE_USERS=${BENCH_WRITE_USERS:-20000}
    fi
    CONNECTIONS=${BENCH_CONNECTIONS:-32}
    MISS_CONNECTIONS=${BENCH_MISS_CONNECTIONS:-8}
    THREADS=${BENCH_THREADS:-2}
    TIMEOUT=${BENCH_TIMEOUT:-30}
    PROGRESS_PER_USER=${BENCH_PROGRESS_PER_USER:-3}
    HOL_CLIENTS=${BENCH_HOL_CLIENTS:-8}
    MISS_VIA=${BENCH_MISS_VIA:-config}
    ZIPF_S=${BENCH_ZIPF_S:-1.0}
    SEED=${BENCH_SEED:-9}
    STRICT=${BENCH_STRICT:-0}
    local v
    for v in DURATION RUNS USERS WRITE_USERS CONNECTIONS MISS_CONNECTIONS THREADS TIMEOUT \
             PROGRESS_PER_USER HOL_CLIENTS SEED; do
        [[ ${!v} =~ ^[0-9]+$ ]] && (( ${!v} >= 1 )) || die "BENCH_$v: not a positive integer: ${!v}"
    done
    (( CONNECTIONS >= THREADS && MISS_CONNECTIONS >= THREADS )) \
        || die "BENCH_CONNECTIONS and BENCH_MISS_CONNECTIONS must be >= BENCH_THREADS"
    (( PROGRESS_PER_USER <= 13 )) || die "BENCH_PROGRESS_PER_USER: at most 13"
    [[ $MISS_VIA == config || $MISS_VIA == redis-stop ]] \
        || die "BENCH_MISS_VIA: config or redis-stop"
    [[ $ZIPF_S =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "BENCH_ZIPF_S: a number, e.g. 1.0"
}

# The stack's facts: BASE_URL, ADMIN_PASSWORD, MYSQL_CLI, GUILDCTL, GUILD_CONF, VAR_DIR,
# FCGI_CHILDREN, STACK_CMD, ... (scripts/stack writes it; sourced, not exported).
load_stack_env() {
    local f=${BENCH_STACK_ENV:-}
    [[ -n $f && -r $f ]] || die "BENCH_STACK_ENV must name a stack.env: use scripts/stack bench"
    # shellcheck disable=SC1090
    . "$f"
    [[ $BASE_URL == http://127.0.0.1:* ]] || die "refusing a non-loopback BASE_URL: $BASE_URL"
    CTL_BIN=${GUILDCTL%% -c *}
    DEFAULT_CHILDREN=$FCGI_CHILDREN
    WORK_BASE=$VAR_DIR/bench            # nginx serves $VAR_DIR/bench/users-stats.json
    STAMP=$(date -u +%Y%m%dT%H%M%SZ)
    WORK=$WORK_BASE/run-$STAMP
    mkdir -p "$WORK/raw" "$WORK/log"
    STACK_LOG=$WORK/log/stack.log
    SCEN_FILE=$WORK/scenarios.jsonl
    : >"$SCEN_FILE"
    if (( SMOKE )); then
        RESULTS_DIR=${BENCH_RESULTS_DIR:-$VAR_DIR/bench-results}
    else
        RESULTS_DIR=${BENCH_RESULTS_DIR:-$REPO/bench/results}
    fi
}

# ---------------------------------------------------------------------------------------------
# small helpers

sql() { $MYSQL_CLI -N -B -e "$1"; }
ctl() { env -i "PATH=$CLEAN_PATH" "HOME=${HOME:-/root}" $GUILDCTL "$@"; }
stack() { env GUILD_FCGI_CHILDREN="${2:-$DEFAULT_CHILDREN}" $STACK_CMD "$1" "${@:3}" >>"$STACK_LOG" 2>&1; }

# http METHOD PATH [curl args...]: status on stdout; headers in $WORK/h, body in $WORK/b.
http() {
    local method=$1 path=$2
    shift 2
    curl -s -o "$WORK/b" -D "$WORK/h" -w '%{http_code}' --max-time 30 -X "$method" "$@" \
        "$BASE_URL$path" || echo 000
}
header_of() { sed -n "s/^$1: *//Ip" "$WORK/h" | tr -d '\r' | tail -n1; }

wait_until() {
    local deadline=$(( SECONDS + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || return 1
        sleep 0.2
    done
}
ping_ok() { [[ $(http GET /ping) == 200 ]]; }
# cache_reachable: a cacheable GET is served through the cache again (not BYPASS).
cache_reachable() {
    [[ $(http GET /api/analytics/users/stats) == 200 ]] && [[ $(header_of X-Cache) != BYPASS ]]
}

# ---------------------------------------------------------------------------------------------
# configuration profiles: guild.conf = the stack's own file + the bench's lines; pool size;
# cache Redis up or down. Restored by restore_stack on every exit.

CONF_ORIG=""
CUR_CONF=""
CUR_CHILDREN=""
CACHE_STOPPED=0

begin_config() {
    CONF_ORIG=$GUILD_CONF.bench-orig
    if [[ -f $CONF_ORIG ]]; then
        warn "found $CONF_ORIG from an interrupted run: restoring it first"
        cp -p "$CONF_ORIG" "$GUILD_CONF"
    fi
    cp -p "$GUILD_CONF" "$CONF_ORIG"
    CUR_CONF=$(cat "$GUILD_CONF")
    CUR_CHILDREN=$DEFAULT_CHILDREN
    trap restore_stack EXIT
    trap 'exit 130' INT TERM
}

restore_stack() {
    local rc=$?
    trap - EXIT
    if [[ -n $CONF_ORIG && -f $CONF_ORIG ]]; then
        say "restoring guild.conf, the pool size ($DEFAULT_CHILDREN) and the cache Redis"
        mv -f "$CONF_ORIG" "$GUILD_CONF"
        if (( CACHE_STOPPED )); then stack start "" redis-cache || warn "could not restart redis-cache"; fi
        stack restart "$DEFAULT_CHILDREN" fcgi || warn "could not restart fcgi (see $STACK_LOG)"
        wait_until 15 ping_ok || warn "the stack does not answer /ping after the restore"
    fi
    exit "$rc"
}

# Lines every bench profile adds: the limiter keeps running on every request (one Lua call
# on the store Redis) but a limit of a million per second never trips; the window is one
# second so the sorted set holds about one second of requests.
BENCH_CONF_LINES=(
    "GUILD_RATE_LIMIT_API=1000000/1"
    "GUILD_RATE_LIMIT_LOGIN=1000000/1"
)

profile_conf() {
    echo "# ---- added by bench/run.sh; the original file is restored when it ends"
    printf '%s\n' "${BENCH_CONF_LINES[@]}"
    case $1 in
        limiter-off) echo "GUILD_RATE_LIMIT_API=0" ;;
        cache-off) [[ $MISS_VIA == config ]] && echo "GUILD_CACHE_ENABLED=0" ;;
    esac
    return 0
}

# cache_off_supported: does this build know GUILD_CACHE_ENABLED? guildctl shares the
# responder's configuration parser, which refuses unknown settings.
cache_off_supported() {
    local tmp rc=0
    tmp=$(mktemp "$WORK/conf.XXXXXX")
    { cat "$CONF_ORIG"; echo "GUILD_CACHE_ENABLED=0"; } >"$tmp"
    env -i "PATH=$CLEAN_PATH" "$CTL_BIN" -c "$tmp" help >/dev/null 2>"$WORK/log/cache-off-check" || rc=$?
    rm -f "$tmp"
    return "$rc"
}

# apply_profile NAME: restart fcgi only when guild.conf or the pool size changes.
apply_profile() {
    local p=$1 children=$DEFAULT_CHILDREN want_cache=up conf
    case $p in
        pool-*) children=${p#pool-} ;;
        hol) want_cache=down ;;
        cache-off) [[ $MISS_VIA == redis-stop ]] && want_cache=down ;;
    esac
    conf="$(cat "$CONF_ORIG")"$'\n'"$(profile_conf "$p")"
    if [[ $conf != "$CUR_CONF" || $children != "$CUR_CHILDREN" ]]; then
        say "profile $p: guild.conf + $(profile_conf "$p" | grep -vc '^#') lines, $children responders; restarting fcgi"
        ( umask 077; printf '%s\n' "$conf" >"$GUILD_CONF.bench-tmp" )
        mv -f "$GUILD_CONF.bench-tmp" "$GUILD_CONF"
        stack restart "$children" fcgi || die "fcgi did not restart (profile $p; see $STACK_LOG)"
        CUR_CONF=$conf
        CUR_CHILDREN=$children
        wait_until 15 ping_ok || die "no /ping after restarting fcgi (profile $p)"
    fi
    if [[ $want_cache == down && $CACHE_STOPPED == 0 ]]; then
        say "profile $p: stopping the cache Redis"
        CACHE_STOPPED=1
        stack stop "" redis-cache || die "could not stop redis-cache"
        sleep 1.2   # responders notice on their next lookup; give them a reconnect interval
    elif [[ $want_cache == up && $CACHE_STOPPED == 1 ]]; then
        say "profile $p: starting the cache Redis"
        stack start "" redis-cache || die "could not start redis-cache"
        CACHE_STOPPED=0
        wait_until 15 cache_reachable || die "responders did not reconnect to the cache Redis"
    fi
}

# ---------------------------------------------------------------------------------------------
# data

SEED_RANGE="username >= 'seed42_0' AND username < 'seed42_:'"
POOL_RANGE="username >= 'seed9001_0' AND username < 'seed9001_:'"

ensure_data() {
    local have missing seeded=0
    have=$(sql "SELECT COUNT(*) FROM users WHERE $SEED_RANGE")
    if (( have < USERS )); then
        missing=$(( USERS - have ))
        say "seeding $missing users and $(( missing * PROGRESS_PER_USER )) progress rows (guildctl seed; $have there)"
        ctl seed --users "$missing" --progress $(( missing * PROGRESS_PER_USER )) | sed 's/^/[bench]   /'
        seeded=1
    else
        say "data: $have seeded users (wanted $USERS): not seeding"
    fi
    have=$(sql "SELECT COUNT(*) FROM users WHERE $POOL_RANGE")
    if (( have < WRITE_USERS )); then
        missing=$(( WRITE_USERS - have ))
        say "seeding the write pool: $missing users without progress (guildctl seed --seed 9001)"
        ctl seed --users "$missing" --progress 0 --seed 9001 | sed 's/^/[bench]   /'
        seeded=1
    fi
    # the read ids as ranges of consecutive ids ("first last"), which is what zipf.lua reads
    sql "SELECT MIN(id), MAX(id) FROM (SELECT id, CAST(id AS SIGNED) - ROW_NUMBER() OVER (ORDER BY id) AS run
         FROM users WHERE $SEED_RANGE) t GROUP BY run ORDER BY 1" >"$WORK/ids"
    sql "SELECT id FROM users WHERE $POOL_RANGE AND is_active = 1 ORDER BY id" >"$WORK/write-ids"
    DATA_USERS=$(sql "SELECT COUNT(*) FROM users")
    DATA_PROGRESS=$(sql "SELECT COUNT(*) FROM mission_progress")
    TOKEN_USER=$(sql "SELECT username FROM users WHERE $SEED_RANGE AND is_active = 1 ORDER BY username LIMIT 1")
    [[ -n $TOKEN_USER ]] || die "no active seeded user to log in as"
    SEED_PASSWORD=$(ctl help | tr '\n' ' ' | sed -n 's/.*password is *"\([^"]*\)".*/\1/p')
    SEED_PASSWORD=${SEED_PASSWORD:-guild-seed-password}
    say "data: $DATA_USERS users, $DATA_PROGRESS progress rows; $(awk '{n += $2 - $1 + 1} END {print n}' "$WORK/ids") seeded ids to read ($(wc -l <"$WORK/ids") runs), $(wc -l <"$WORK/write-ids") write-pool users"
    # seeding went around the API: retire every cache entry computed before it
    (( seeded )) && clear_cache
    return 0
}

# token USER PASSWORD: an access token (POST /api/auth/token, form-urlencoded).
token() {
    local code
    code=$(http POST /api/auth/token --data-urlencode "username=$1" --data-urlencode "password=$2")
    [[ $code == 200 ]] || die "POST /api/auth/token as $1: $code $(head -c 300 "$WORK/b")"
    jq -r .access_token "$WORK/b"
}
admin_token() { token "${ADMIN_USERNAME:-admin}" "$ADMIN_PASSWORD"; }

clear_cache() {
    local t code
    t=$(admin_token)
    code=$(http DELETE '/api/cache/clear?pattern=*' -H "Authorization: Bearer $t")
    [[ $code == 200 ]] || die "DELETE /api/cache/clear: $code $(head -c 300 "$WORK/b")"
}

WARM_PATHS=(/api/analytics/users/stats /api/analytics/users/advanced-stats
    /api/analytics/missions/stats '/api/analytics/leaderboard?limit=10')
warm() {
    local p
    for p in "${WARM_PATHS[@]}"; do http GET "$p" >/dev/null; done
}

# The write pool back to one state before every run of a mix, so the runs start alike and
# the pairs the mix writes (missions 1-12) are all unused: each pool user has exactly one
# progress row, mission 13 completed (XP 8, 1 mission). That row is an anchor: without it
# the keys (user, mission) of every pool user fall into one gap of the progress table's
# unique index, and concurrent completions of *different* users deadlock in InnoDB (gap
# lock + insert intention; the responder answers 503 and does not retry). With it, each
# user's new rows have a gap of their own, as for any user with some history.
# BENCH_WRITE_POOL_FRESH=1 leaves the anchors out (users without any progress, as right
# after registering): it reproduces the deadlock. Then the analytics counters are recomputed
# and the cache is cleared (the reset went around the API), and the analytics re-warmed.
reset_write_pool() {
    local anchors="INSERT INTO mission_progress (user_id, mission_id, mission_name, status,
                score, started_at, completed_at, created_at)
         SELECT id, 13, 'The Sky Forge', 'completed', 80, NOW(), NOW(), NOW()
         FROM users WHERE $POOL_RANGE;
         UPDATE users SET experience_points = 8, missions_completed = 1,
                guild_rank = 'Apprentice', full_name = NULL WHERE $POOL_RANGE;"
    if [[ ${BENCH_WRITE_POOL_FRESH:-0} == 1 ]]; then
        anchors="UPDATE users SET experience_points = 0, missions_completed = 0,
                guild_rank = 'Apprentice', full_name = NULL WHERE $POOL_RANGE;"
    fi
    sql "DELETE p FROM mission_progress p JOIN users u ON u.id = p.user_id WHERE u.$POOL_RANGE;
         $anchors"
    # the reset went around the API: the analytics counters must follow the tables again
    ctl rebuild-summaries >/dev/null || die "guildctl rebuild-summaries failed"
    clear_cache
    warm
}

# The static baseline: the exact bytes of users/stats, in a file nginx serves.
write_static_file() {
    warm
    [[ $(http GET /api/analytics/users/stats) == 200 ]] || die "users/stats does not answer 200"
    cp "$WORK/b" "$WORK_BASE/users-stats.json"
    [[ $(http GET /__bench/static) == 200 ]] && cmp -s "$WORK/b" "$WORK_BASE/users-stats.json" \
        || die "nginx does not serve $WORK_BASE/users-stats.json at /__bench/static (reload nginx: scripts/stack start nginx)"
}

# ---------------------------------------------------------------------------------------------
# scenarios: define_scenario NAME sets
#   S_DESC S_PROFILE S_SCRIPT S_PATH S_METHOD S_BODY S_HEADERS() S_ENV() S_EXPECT S_TOLERATE
#   S_XCACHE (the only X-Cache value allowed) S_PRE_XCACHE (required in the pre-flight)
#   S_CHART (route label for the HIT/MISS chart) S_VARIANT (HIT|MISS|"")
#   S_TOKEN (none|user|admin|login) S_CONNS (wrk -c)

define_scenario() {
    S_DESC="" S_PROFILE=default S_SCRIPT=fixed S_PATH="" S_METHOD=GET S_BODY="" S_EXPECT=200
    S_TOLERATE="" S_XCACHE="" S_PRE_XCACHE="" S_CHART="" S_VARIANT="" S_TOKEN=none
    S_CONNS=$CONNECTIONS
    S_HEADERS=() S_ENV=()
    case $1 in
        static) S_PATH=/__bench/static
            S_DESC="baseline: nginx serves the exact bytes of users/stats from a file" ;;
        return200) S_PATH=/__bench/return200
            S_DESC="baseline: nginx answers 200 from memory (return 200)" ;;
        ping) S_PATH=/ping; S_DESC="GET /ping through the pool (no Redis, no MariaDB)" ;;
        stats-hit|limiter-off|pool-*)
            S_PATH=/api/analytics/users/stats; S_PRE_XCACHE=HIT
            S_DESC="users/stats served from the cache"
            case $1 in
                stats-hit) S_CHART=users/stats; S_VARIANT=HIT ;;
                limiter-off) S_PROFILE=limiter-off
                    S_DESC="users/stats cached, rate limiter disabled (GUILD_RATE_LIMIT_API=0)" ;;
                pool-*) S_PROFILE=$1
                    S_DESC="users/stats cached, pool of ${1#pool-} responders (GUILD_FCGI_CHILDREN)" ;;
            esac ;;
        stats-etag) S_PATH=/api/analytics/users/stats; S_EXPECT=304; S_PRE_XCACHE=HIT
            S_DESC="users/stats with a matching If-None-Match: 304 without a body" ;;
        advanced-stats-hit) S_PATH=/api/analytics/users/advanced-stats; S_PRE_XCACHE=HIT
            S_CHART=advanced-stats; S_VARIANT=HIT; S_DESC="advanced-stats served from the cache" ;;
        missions-stats-hit) S_PATH=/api/analytics/missions/stats; S_PRE_XCACHE=HIT
            S_CHART=missions/stats; S_VARIANT=HIT; S_DESC="missions/stats served from the cache" ;;
        leaderboard-hit) S_PATH='/api/analytics/leaderboard?limit=10'; S_PRE_XCACHE=HIT
            S_CHART=leaderboard; S_VARIANT=HIT; S_DESC="leaderboard?limit=10 served from the cache" ;;
        stats-miss|advanced-stats-miss|missions-stats-miss|leaderboard-miss)
            S_PROFILE=cache-off; S_XCACHE=BYPASS; S_PRE_XCACHE=BYPASS; S_VARIANT=MISS
            S_CONNS=$MISS_CONNECTIONS
            case $1 in
                stats-miss) S_PATH=/api/analytics/users/stats; S_CHART=users/stats ;;
                advanced-stats-miss) S_PATH=/api/analytics/users/advanced-stats; S_CHART=advanced-stats ;;
                missions-stats-miss) S_PATH=/api/analytics/missions/stats; S_CHART=missions/stats ;;
                leaderboard-miss) S_PATH='/api/analytics/leaderboard?limit=10'; S_CHART=leaderboard ;;
            esac
            S_DESC="$S_CHART computed from MariaDB on every request (cache off: $MISS_VIA)" ;;
        user-zipf) S_SCRIPT=user_zipf; S_PATH=/api/users/1
            S_ENV=("BENCH_IDS=$WORK/ids" "BENCH_ZIPF_S=$ZIPF_S" "BENCH_SEED=$SEED")
            S_DESC="GET /api/users/{id}, ids of seeded users drawn by Zipf(s=$ZIPF_S), read-through cache" ;;
        users-me) S_PATH=/api/users/me; S_TOKEN=user
            S_DESC="GET /api/users/me with a Bearer token (JWT check + user row + limiter per user)" ;;
        mix-95-5|mix-50-50) S_SCRIPT=mix; S_PATH=/api/analytics/users/stats; S_TOKEN=admin
            S_EXPECT=200,201; S_TOLERATE=409
            local w=5
            [[ $1 == mix-50-50 ]] && w=50
            S_ENV=("BENCH_IDS=$WORK/ids" "BENCH_WRITE_IDS=$WORK/write-ids" "BENCH_WRITE_PCT=$w"
                   "BENCH_ZIPF_S=$ZIPF_S" "BENCH_SEED=$SEED")
            S_DESC="$(( 100 - w ))% cacheable reads / $w% writes (mission start, complete, user update)" ;;
        auth-token) S_PATH=/api/auth/token; S_METHOD=POST; S_TOKEN=login
            S_HEADERS=("Content-Type: application/x-www-form-urlencoded")
            S_DESC="POST /api/auth/token (bcrypt check on purpose; login limiter raised)" ;;
        hol) S_PROFILE=hol; S_SCRIPT=hol; S_PATH=/ping; S_CONNS=2
            S_DESC="/ping p99 while $HOL_CLIENTS clients hammer advanced-stats with the cache Redis stopped" ;;
        *) return 1 ;;
    esac
    return 0
}

# record_scenario NAME STATUS REASON [EXTRA-JSON]: one line of $SCEN_FILE for report.py.
record_scenario() {
    local extra=${4:-"{}"}
    jq -cn --arg name "$1" --arg status "$2" --arg reason "$3" --arg desc "$S_DESC" \
        --arg profile "$S_PROFILE" --arg path "$S_PATH" --arg method "$S_METHOD" \
        --arg expect "$S_EXPECT" --arg tolerate "$S_TOLERATE" --arg xcache "$S_XCACHE" \
        --arg chart "$S_CHART" --arg variant "$S_VARIANT" --argjson runs "$RUNS" \
        --arg children "$CUR_CHILDREN" --argjson extra "$extra" --argjson conns "$S_CONNS" \
        --arg load "$S_LOAD" \
        '{name: $name, status: $status, reason: $reason, description: $desc, profile: $profile,
          method: $method, path: $path, accepts: $expect, tolerates: $tolerate,
          xcache_only: $xcache, chart_route: $chart, variant: $variant, runs_planned: $runs,
          connections: $conns, fcgi_children: ($children | tonumber), extra: $extra,
          loadavg_at_start: $load}' >>"$SCEN_FILE"
}

FAILED=()
SKIPPED=()

fail_scenario() {
    printf '[bench] FAIL %s: %s\n' "$1" "$2" >&2
    FAILED+=("$1")
    record_scenario "$1" fail "$2" "${3:-"{}"}"
}

skip_scenario() {
    printf '[bench] SKIP %s: %s\n' "$1" "$2" >&2
    SKIPPED+=("$1")
    record_scenario "$1" skip "$2"
}

# curl arguments that reproduce the scenario's request (for the pre-flight).
S_CURL=()
prepare_request() {
    local h
    S_CURL=()
    case $S_TOKEN in
        user) S_HEADERS+=("Authorization: Bearer $(token "$TOKEN_USER" "$SEED_PASSWORD")") ;;
        admin) S_ENV+=("BENCH_TOKEN=$(admin_token)") ;;
        login) S_BODY="username=$TOKEN_USER&password=$SEED_PASSWORD" ;;
    esac
    if [[ $S_EXPECT == 304 ]]; then
        warm
        http GET "$S_PATH" >/dev/null
        S_HEADERS+=("If-None-Match: $(header_of ETag)")
    fi
    for h in "${S_HEADERS[@]}"; do S_CURL+=(-H "$h"); done
    if [[ -n $S_BODY ]]; then S_CURL+=(--data-binary "$S_BODY"); fi
    return 0
}

# preflight NAME: one request by curl must get the first expected status (and X-Cache).
preflight() {
    local code xc i
    [[ $S_SCRIPT == mix || $S_SCRIPT == hol ]] && return 0
    for i in 1 2 3; do
        code=$(http "$S_METHOD" "$S_PATH" "${S_CURL[@]}")
        xc=$(header_of X-Cache)
        [[ -z $S_PRE_XCACHE || $xc == "$S_PRE_XCACHE" ]] && break
        sleep 0.2
    done
    if [[ $code != "${S_EXPECT%%,*}" ]]; then
        fail_scenario "$1" "pre-flight: $S_METHOD $S_PATH answered $code, expected $S_EXPECT: $(head -c 300 "$WORK/b")"
        return 1
    fi
    if [[ -n $S_PRE_XCACHE && $xc != "$S_PRE_XCACHE" ]]; then
        if [[ $S_PRE_XCACHE == BYPASS && $MISS_VIA == config ]]; then
            fail_scenario "$1" "pre-flight: X-Cache: ${xc:-none} with GUILD_CACHE_ENABLED=0: the responder does not honour the setting, so this would not measure a miss"
        else
            fail_scenario "$1" "pre-flight: expected X-Cache: $S_PRE_XCACHE, got ${xc:-none}"
        fi
        return 1
    fi
    # a rate limiter that runs answers its headers (the one run with it off must not)
    local lim
    lim=$(header_of X-RateLimit-Limit)
    if [[ $S_PATH == /api/* ]]; then
        if [[ $S_PROFILE == limiter-off && -n $lim ]]; then
            fail_scenario "$1" "pre-flight: X-RateLimit-Limit: $lim with GUILD_RATE_LIMIT_API=0"; return 1
        elif [[ $S_PROFILE != limiter-off && $S_TOKEN != login && -z $lim ]]; then
            fail_scenario "$1" "pre-flight: no X-RateLimit-Limit header: is the limiter running (store Redis up)?"; return 1
        fi
    fi
    return 0
}

# run_wrk OUT CONNS THREADS SECONDS SCRIPT PATH [ENV...]: one wrk run; 0 if it passed.
run_wrk() {
    local out=$1 conns=$2 threads=$3 secs=$4 script=$5 path=$6
    shift 6
    local -a hdr=()
    local h log=${out%.json}.log
    for h in "${S_HEADERS[@]}"; do hdr+=(-H "$h"); done
    rm -f "$out"
    if ! env BENCH_LIB="$BENCH_DIR/lib" BENCH_OUT="$out" BENCH_EXPECT="$S_EXPECT" \
            BENCH_TOLERATE="$S_TOLERATE" BENCH_XCACHE="$S_XCACHE" BENCH_THREADS="$threads" \
            BENCH_METHOD="$S_METHOD" BENCH_BODY="$S_BODY" "$@" \
            wrk -t"$threads" -c"$conns" -d"${secs}s" --timeout "${TIMEOUT}s" --latency \
                -s "$BENCH_DIR/lib/$script.lua" "${hdr[@]}" "$BASE_URL$path" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        return 2
    fi
    grep '^\[bench\]' "$log" || true
    [[ -s $out ]] || { tail -n 20 "$log" >&2; return 2; }
    [[ $(jq -r .pass "$out") == true ]]
}

run_fixed() {
    local name=$1 i out
    for (( i = 1; i <= RUNS; i++ )); do
        [[ $S_SCRIPT == mix ]] && reset_write_pool
        say "$name: run $i/$RUNS (${DURATION}s, -t$THREADS -c$S_CONNS)"
        out=$WORK/raw/$name.$i.json
        if ! run_wrk "$out" "$S_CONNS" "$THREADS" "$DURATION" "$S_SCRIPT" "$S_PATH" "${S_ENV[@]}" \
                "BENCH_RUN=$i" "BENCH_RUNS=$RUNS"; then
            if [[ -s $out ]]; then
                fail_scenario "$name" "run $i: $(jq -r '.problem + " -- " + .message' "$out")"
            else
                fail_scenario "$name" "run $i: wrk failed (see $WORK/raw/$name.$i.log)"
            fi
            return 0
        fi
    done
    record_scenario "$name" pass ""
}

# Head of line: HOL_CLIENTS connections hammer an uncached aggregate while a second wrk
# probes /ping; the probe's p50/p99 is the result. Closed-loop probes understate the tail
# (coordinated omission): the number is a floor, not a ceiling.
run_hol() {
    local name=$1 i out hammer code pid rc_h=0 rc_p=0 probe_secs=$DURATION
    local hammer_path=/api/analytics/users/advanced-stats extra
    extra=$(jq -cn --argjson c "$HOL_CLIENTS" --arg p "$hammer_path" \
        '{hammer_clients: $c, hammer_path: $p, probe_connections: 2, target_p99_ms: 20}')
    code=$(http GET "$hammer_path")
    if [[ $code != 200 || $(header_of X-Cache) != BYPASS ]]; then
        fail_scenario "$name" "pre-flight: $hammer_path answered $code X-Cache: $(header_of X-Cache) with the cache Redis stopped (expected 200 BYPASS)" "$extra"
        return 0
    fi
    for (( i = 1; i <= RUNS; i++ )); do
        say "$name: run $i/$RUNS: $HOL_CLIENTS clients on $hammer_path for $(( DURATION + 2 ))s, probe /ping (-c2) for ${probe_secs}s"
        out=$WORK/raw/$name.$i.json
        hammer=$WORK/raw/$name-hammer.$i.json
        S_XCACHE=BYPASS
        run_wrk "$hammer" "$HOL_CLIENTS" 1 $(( DURATION + 2 )) fixed "$hammer_path" &
        pid=$!
        S_XCACHE=""
        sleep 1
        run_wrk "$out" 2 1 "$probe_secs" fixed /ping || rc_p=$?
        wait "$pid" || rc_h=$?
        if (( rc_h || rc_p )); then
            local why="" f
            for f in "$out" "$hammer"; do
                [[ -s $f && $(jq -r .pass "$f") == true ]] && continue
                [[ $f == "$out" ]] && why+="/ping probe: " || why+="hammer: "
                if [[ -s $f ]]; then
                    why+="$(jq -r '.problem + " -- " + .message' "$f"); "
                else
                    why+="wrk failed (see ${f%.json}.log); "
                fi
            done
            fail_scenario "$name" "run $i: ${why%; }" "$extra"
            return 0
        fi
    done
    record_scenario "$name" pass "" "$extra"
}

run_scenario() {
    local name=$1
    define_scenario "$name" || die "unknown scenario '$name' (scenarios: ${ALL_SCENARIOS[*]})"
    # the machine may be shared: what else was running shows in the load average
    S_LOAD=$(cut -d' ' -f1 /proc/loadavg)
    echo
    say "=== $name: $S_DESC"
    if [[ $S_PROFILE == cache-off && $MISS_VIA == config ]] && ! cache_off_supported; then
        skip_scenario "$name" "this responder does not know GUILD_CACHE_ENABLED ($(grep -o 'unknown setting.*' "$WORK/log/cache-off-check" | head -n1 || true)): a miss cannot be measured with the cache off by configuration. BENCH_MISS_VIA=redis-stop measures it with the cache Redis stopped instead"
        return 0
    fi
    apply_profile "$S_PROFILE"
    if [[ $S_SCRIPT == hol ]]; then
        run_hol "$name"
        return 0
    fi
    [[ $S_PRE_XCACHE == HIT ]] && warm
    prepare_request
    preflight "$name" || return 0
    run_fixed "$name"
}

# ---------------------------------------------------------------------------------------------
# machine facts, for the report

pkg_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }

write_meta() {
    local commit dirty
    commit=$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo "?")
    dirty=$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo true || echo false)
    jq -n --arg stamp "$STAMP" --arg started "$1" --arg finished "$(date -u +%FT%TZ)" \
        --arg commit "$commit" --argjson dirty "$dirty" \
        --arg nproc "$(nproc)" --arg cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1)" \
        --arg kernel "$(uname -srm)" --arg os "$(. /etc/os-release && echo "$PRETTY_NAME")" \
        --arg mem "$(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)" \
        --arg load0 "$2" --arg load1 "$(cut -d' ' -f1-3 /proc/loadavg)" \
        --arg nginx "$(nginx -v 2>&1 | sed 's/.*nginx\///')" \
        --arg mariadb "$(mariadbd --version 2>/dev/null | sed 's/.*Ver //; s/ for .*//')" \
        --arg redis "$(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')" \
        --arg wrk "$(wrk -v 2>&1 | head -n1 | awk '{print $2}')" \
        --arg libfcgi "$(pkg_version libfcgi0ldbl)" --arg jsonc "$(pkg_version libjson-c5)" \
        --arg libjwt "$(pkg_version libjwt0)" --arg hiredis "$(pkg_version libhiredis0.14)" \
        --arg gcc "$(gcc -dumpfullversion 2>/dev/null || echo '?')" \
        --argjson duration "$DURATION" --argjson runs "$RUNS" --argjson conns "$CONNECTIONS" \
        --argjson threads "$THREADS" --argjson timeout "$TIMEOUT" --argjson children "$DEFAULT_CHILDREN" \
        --argjson users "$DATA_USERS" --argjson progress "$DATA_PROGRESS" \
        --argjson write_users "$(wc -l <"$WORK/write-ids")" --arg zipf "$ZIPF_S" \
        --arg miss_via "$MISS_VIA" --argjson smoke "$( (( SMOKE )) && echo true || echo false)" \
        --arg conf "$(printf '%s; ' "${BENCH_CONF_LINES[@]}")" \
        --arg pool "$($STACK_CMD status 2>/dev/null | sed -n 's/^fcgi  *[a-z]*  *[0-9-]*  *//p')" \
        '{stamp: $stamp, started_at: $started, finished_at: $finished,
          git: {commit: $commit, dirty: $dirty},
          machine: {nproc: ($nproc | tonumber), cpu: $cpu, kernel: $kernel, os: $os, memory: $mem,
                    loadavg_start: $load0, loadavg_end: $load1},
          versions: {nginx: $nginx, mariadb: $mariadb, redis: $redis, wrk: $wrk, libfcgi: $libfcgi,
                     "json-c": $jsonc, libjwt: $libjwt, hiredis: $hiredis, gcc: $gcc},
          settings: {duration_s: $duration, runs: $runs, connections: $conns, threads: $threads,
                     timeout_s: $timeout, fcgi_children: $children, users: $users,
                     progress_rows: $progress, write_pool_users: $write_users, zipf_s: $zipf,
                     miss_via: $miss_via, smoke: $smoke, bench_conf: $conf, pool: $pool}}' \
        >"$WORK/meta.json"
}

# ---------------------------------------------------------------------------------------------

main() {
    while (( $# )); do
        case $1 in
            --smoke) SMOKE=1 ;;
            -h|--help) load_settings; usage; return 0 ;;
            -*) die "unknown option $1" ;;
            *) SELECTED+=("$1") ;;
        esac
        shift
    done
    load_settings
    local s full=1
    if (( ${#SELECTED[@]} )); then
        full=0
        for s in "${SELECTED[@]}"; do
            [[ " ${ALL_SCENARIOS[*]} " == *" $s "* ]] \
                || die "unknown scenario '$s' (scenarios: ${ALL_SCENARIOS[*]})"
        done
        if [[ ${BENCH_BASELINES:-1} == 1 ]]; then SELECTED+=(static return200); fi
    else
        SELECTED=("${ALL_SCENARIOS[@]}")
    fi
    command -v wrk >/dev/null || die "wrk is not installed (scripts/stack installs it)"
    load_stack_env
    local started load0
    started=$(date -u +%FT%TZ)
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    say "results of this run: $WORK (raw), $RESULTS_DIR (table, JSON)"
    begin_config
    apply_profile default
    ensure_data
    write_static_file
    # canonical order (fewest restarts), filtered by the selection
    for s in "${ALL_SCENARIOS[@]}"; do
        [[ " ${SELECTED[*]} " == *" $s "* ]] && run_scenario "$s"
    done
    echo
    write_meta "$started" "$load0"
    local update_docs=${BENCH_UPDATE_DOCS:-}
    if [[ -z $update_docs ]]; then
        update_docs=0
        (( full && ! SMOKE )) && update_docs=1
        if (( update_docs && ${#FAILED[@]} )); then
            warn "not updating docs/performance.md: scenarios failed (BENCH_UPDATE_DOCS=1 forces it)"
            update_docs=0
        fi
    fi
    local -a report=(python3 "$BENCH_DIR/report.py" --work "$WORK" --results "$RESULTS_DIR")
    if (( update_docs )); then
        report+=(--docs "$REPO/docs/performance.md" --img "$REPO/docs/img")
    fi
    "${report[@]}"
    if (( update_docs )); then
        say "updated docs/performance.md, docs/img/bench-*.svg, bench/results/latest.{json,md}: commit them to publish this run"
    fi
    if (( ${#SKIPPED[@]} )); then
        warn "SKIPPED: ${SKIPPED[*]} (see the reasons above and in the table)"
    fi
    if (( ${#FAILED[@]} )); then
        printf '[bench] FAILED: %s (a status other than the expected one, a socket error or a failed pre-flight; see above)\n' "${FAILED[*]}" >&2
        return 1
    fi
    if (( ${#SKIPPED[@]} && STRICT )); then
        die "skipped scenarios with BENCH_STRICT=1"
    fi
    say "all scenarios passed their status checks"
}

main "$@"
