#!/usr/bin/env bash
# tests/cluster/run.sh: the cluster tests (issue 11), run as `scripts/stack cluster test
# [--short]` (scripts/cluster passes CLUSTER_CMD and CLUSTER_ENV_FILE).
#
# Owns: the order of the cluster tests and their verdict: a fresh `up`; the cross-host checks
# (tests/cluster/cross_host, in the lb namespace, when built); the cluster faults under load
# (tests/chaos/chaos against the round-robin listener, from the lb namespace: app host 1's
# pool killed, the cache and the store Redis primary killed, MariaDB restarted), each RUNS
# times with the medians in a Markdown report; after host-down, that app1 takes traffic
# again; Sentinel alone (no responder): time to promote a replica after a primary is
# killed, and acknowledged keys lost; `down` leaving nothing with the prefix; an `up` made
# to fail half-way leaving nothing either.
# Does not own: the cluster (scripts/cluster), the load, faults and checks (tests/chaos/*.c),
# the cross-host properties (tests/cluster/cross_host.c).
# Invariants: every request goes to 127.0.0.1 inside the lb namespace; bounded in time;
# the cluster is down at the end, whatever happened.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
say() { printf '[cluster-test] %s\n' "$*"; }
die() { printf '[cluster-test] error: %s\n' "$*" >&2; exit 1; }

SHORT=0
for a in "$@"; do
    case $a in
        --short) SHORT=1 ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) die "unknown argument $a" ;;
    esac
done
CMD=${CLUSTER_CMD:?run through scripts/cluster test}
ENVF=${CLUSTER_ENV_FILE:?run through scripts/cluster test}
RUNS=${CLUSTER_RUNS:-$(( SHORT ? 1 : 3 ))}
SECS=${CLUSTER_SECONDS:-$(( SHORT ? 12 : 16 ))}
CLIENTS=${CLUSTER_CLIENTS:-8}
FAULTS=(host-down mysql-restart cache-failover store-failover)
T0=$SECONDS
CV=$(dirname "$ENVF")
WORK=$CV/../cluster-test
rm -rf "$WORK"
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd -P)
REPORT=${CLUSTER_REPORT:-$WORK/report.md}
FAILED=()

# $CMD is "env GUILD_CLUSTER_...=... scripts/cluster": word-split on purpose.
cluster() { $CMD "$@"; }

finish() {
    local rc=$? left
    trap - EXIT
    cluster down >>"$WORK/down.log" 2>&1 || true
    left=$(cluster leftovers)
    if [[ -n $left ]]; then
        printf '%s\n' "$left" >&2
        echo "[cluster-test] error: left behind after down" >&2
        rc=1
    fi
    say "took $(( SECONDS - T0 )) s"
    exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

# whether the responders were given the Sentinels (scripts/cluster up decides, cluster.env says)
have_sentinel_client() { [[ ${CLUSTER_SENTINEL_CLIENT:-0} == 1 ]]; }

median() { sort -n | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else print a[int((NR + 1) / 2)]}'; }

# ---- 1. up ---------------------------------------------------------------------------------
say "up (fresh state)"
cluster down >/dev/null 2>&1 || true
rm -rf "$CV"
cluster up >"$WORK/up.log" 2>&1 || { tail -40 "$WORK/up.log" >&2; die "cluster up failed"; }
set -a
# shellcheck disable=SC1090
. "$ENVF"
set +a
export CHAOS_LOG=$WORK/stack-commands.log
LB=$CLUSTER_LB_EXEC
lb() { $LB "$@"; }

# ---- 2. cross-host checks ------------------------------------------------------------------
if [[ -x $REPO/tests/cluster/cross_host ]]; then
    say "cross-host checks (tests/cluster/cross_host in the lb namespace)"
    if lb timeout 300 "$REPO/tests/cluster/cross_host" >"$WORK/cross_host.log" 2>&1; then
        say "cross_host: passed"
        CROSS="passed"
    else
        tail -30 "$WORK/cross_host.log" >&2
        FAILED+=(cross_host)
        CROSS="FAILED"
    fi
else
    say "cross_host: not built (make tests/cluster/cross_host): skipped"
    CROSS="not built"
fi

# ---- 3. faults under load ------------------------------------------------------------------
# requests answered by app1's responders, from its own /metrics (per host)
app1_requests() {
    lb curl -s --max-time 3 "$CLUSTER_HOST1_URL/metrics" |
        awk '/^guild_http_requests_total/ {s += $NF} END {print s + 0}'
}
app1_takes_traffic() {
    local before after i
    before=$(app1_requests)
    for i in $(seq 20); do lb curl -s -o /dev/null --max-time 2 "$CLUSTER_URL/ping"; done
    after=$(app1_requests)
    # the second /metrics request itself counts once
    (( after - before > 1 ))
}
wait_until() {
    local deadline=$(( SECONDS + $1 )); shift
    until "$@" >/dev/null 2>&1; do (( SECONDS < deadline )) || return 1; sleep 0.5; done
}

declare -A FIG=()    # FIG[fault:metric] = one value per run, space-separated
add_fig() { FIG[$1:$2]+="$3 "; }

run_fault() {
    local fault=$1 run=$2 hold out rc=0 maxrec=5000
    case $fault in
        host-down) hold=4 ;;
        mysql-restart) hold=3 ;;
        *) hold=6; maxrec=10000 ;;
    esac
    out=$WORK/$fault-$run.out
    lb "$REPO/tests/chaos/chaos" fault "$fault" --clients "$CLIENTS" --seconds "$SECS" \
        --warmup 3 --hold "$hold" --max-recovery-ms "$maxrec" --seed "$run" \
        --md "$WORK/rows.md" >"$out" 2>&1 || rc=$?
    grep '^\[chaos\]' "$out" | head -8
    # the figures: non-2xx answers, recovery, 502s (host), lost sessions (store)
    add_fig "$fault" errors "$(grep -o 'statuses: .*' "$out" | tr ',' '\n' |
        awk -F': ' '{k = $(NF-1); v = $NF; gsub(/[^0-9]/, "", k)} k != "" && (k < 200 || k >= 300) {s += v}
                    /no answer/ {s += v} END {print s + 0}')"
    add_fig "$fault" requests "$(grep -o '[0-9]* requests in' "$out" | head -1 | cut -d' ' -f1)"
    case $fault in
        host-down)
            add_fig "$fault" inflight502 "$(sed -n 's/.*502s \([0-9]*\) in flight.*/\1/p' "$out" | head -1)"
            add_fig "$fault" stale502 "$(sed -n 's/.* + \([0-9]*\) on stale.*/\1/p' "$out" | head -1)"
            if wait_until 15 app1_takes_traffic; then
                add_fig "$fault" app1back yes
            else
                add_fig "$fault" app1back no
                say "host-down: app1 takes no traffic through $CLUSTER_URL 15 s after its restart"
                rc=1
            fi
            ;;
        *)
            add_fig "$fault" recovery_s "$(grep -o 'recovery: [0-9.]* s' "$out" | grep -o '[0-9.]*' || echo 0)"
            ;;
    esac
    [[ $fault == store-failover ]] &&
        add_fig "$fault" lost "$(grep -o 'sessions lost in the failover[^:]*: [0-9]*' "$out" | grep -o '[0-9]*$')"
    if ! env -i PATH="$PATH" $GUILDCTL verify-summaries >>"$out" 2>&1; then
        say "$fault: the analytics counters differ from the tables"
        rc=1
    fi
    (( rc == 0 )) || { FAILED+=("$fault#$run"); say "$fault run $run: FAILED (see $out)"; }
    # the next run starts on a whole cluster (start is a no-op for what runs)
    cluster start app1 >>"$CHAOS_LOG" 2>&1 || true
    cluster start redis-cache >>"$CHAOS_LOG" 2>&1 || true
    cluster start redis-store >>"$CHAOS_LOG" 2>&1 || true
    cluster start mysql >>"$CHAOS_LOG" 2>&1 || true
    wait_until 20 lb curl -sf -o /dev/null --max-time 2 "$CLUSTER_URL/ping" || true
}

PENDING=()
for fault in "${FAULTS[@]}"; do
    if [[ $fault == *-failover ]] && ! have_sentinel_client; then
        say "$fault: PENDING (the responder has no Sentinel client in this tree: it cannot follow a promotion)"
        PENDING+=("$fault")
        continue
    fi
    for (( r = 1; r <= RUNS; r++ )); do
        say "fault $fault, run $r of $RUNS ($SECS s, $CLIENTS clients)"
        run_fault "$fault" "$r"
    done
done

# ---- 4. Sentinel alone: promotion time and what a crash loses --------------------------------
# Independent of the responders: per role, PROMO_KEYS acknowledged SETs on the primary, kill -9
# it, time until a Sentinel names the replica master, count the keys the new master lacks;
# then the old primary rejoins as a replica (and must be a healthy replica before the next run).
PROMO_KEYS=${CLUSTER_PROMO_KEYS:-5000}
sentinel_master_ip() { $SENTINEL_CLI --raw SENTINEL get-master-addr-by-name "$1" 2>/dev/null | head -1; }
replica_ok() {
    $SENTINEL_CLI --raw SENTINEL replicas "$1" 2>/dev/null | paste - - |
        awk -F'\t' '$1 == "flags" {f = $2} $1 == "master-link-status" {l = $2} END {exit !(f == "slave" && l == "ok")}'
}
promotion() {
    local role=$1 run=$2 m old new t0 ms found
    m=guild-$role
    old=$(sentinel_master_ip "$m")
    seq "$PROMO_KEYS" | awk -v p="cluster-test:$role:$run:" '{print "SET " p $1 " x"}' |
        cluster redis-cli "$role" >/dev/null
    t0=$(date +%s%N)
    cluster stop "redis-$role" >>"$CHAOS_LOG" 2>&1
    until new=$(sentinel_master_ip "$m") && [[ -n $new && $new != "$old" ]]; do
        (( ($(date +%s%N) - t0) / 1000000 < 30000 )) || { say "$role: no promotion within 30 s"; return 1; }
        sleep 0.05
    done
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    found=$(cluster redis-cli "$role" --scan --pattern "cluster-test:$role:$run:*" | wc -l)
    say "$role primary $old killed: Sentinel promoted $new in $ms ms; keys acknowledged before the kill and missing after: $(( PROMO_KEYS - found )) of $PROMO_KEYS"
    add_fig "promote-$role" ms "$ms"
    add_fig "promote-$role" lost "$(( PROMO_KEYS - found ))"
    cluster start "redis-$role" >>"$CHAOS_LOG" 2>&1
    wait_until 30 replica_ok "$m" || { say "$role: the old primary is not a healthy replica 30 s later"; return 1; }
}
for role in cache store; do
    for (( r = 1; r <= RUNS; r++ )); do
        promotion "$role" "$r" || FAILED+=("promote-$role#$r")
    done
done

# ---- 5. down leaves nothing; an up that fails half-way leaves nothing ----------------------
say "down"
cluster down >"$WORK/down.log" 2>&1 || { cat "$WORK/down.log" >&2; FAILED+=(down); }
left=$(cluster leftovers)
[[ -z $left ]] || { printf '%s\n' "$left" >&2; FAILED+=(down-leftovers); }
FAIL_POINTS=(pools)
(( SHORT )) || FAIL_POINTS=(network redis pools nginx)
for fp in "${FAIL_POINTS[@]}"; do
    say "up failing on purpose at '$fp' (GUILD_CLUSTER_FAIL_AT), then nothing may be left"
    if GUILD_SKIP_BUILD=1 GUILD_SKIP_INSTALL=1 GUILD_CLUSTER_FAIL_AT=$fp cluster up >"$WORK/fail-$fp.log" 2>&1; then
        FAILED+=("fail-at-$fp:up-succeeded")
    fi
    grep -q "failing on purpose at '$fp'" "$WORK/fail-$fp.log" || FAILED+=("fail-at-$fp:not-reached")
    left=$(cluster leftovers)
    [[ -z $left ]] || { printf '%s\n' "$left" >&2; FAILED+=("fail-at-$fp:leftovers"); }
done

# ---- report --------------------------------------------------------------------------------
{
    echo "# Cluster tests ($(date -u +'%Y-%m-%d %H:%M UTC'); $RUNS run(s) per fault, $SECS s, $CLIENTS clients)"
    echo
    echo "cross-host checks: $CROSS"
    echo
    echo "| fault | requests (median) | non-2xx answers per run (median) | recovery / 502s | sessions lost |"
    echo "|---|---:|---|---|---|"
    for fault in "${FAULTS[@]}"; do
        if [[ " ${PENDING[*]} " == *" $fault "* ]]; then
            echo "| $fault | pending | | | |"
            continue
        fi
        req=$(tr ' ' '\n' <<<"${FIG[$fault:requests]:-}" | grep . | median)
        err="${FIG[$fault:errors]:-}($(tr ' ' '\n' <<<"${FIG[$fault:errors]:-}" | grep . | median))"
        if [[ $fault == host-down ]]; then
            rec="502s in flight: ${FIG[$fault:inflight502]:-} (median $(tr ' ' '\n' <<<"${FIG[$fault:inflight502]:-}" | grep . | median)); on stale kept-alive connections: ${FIG[$fault:stale502]:-}; app1 back: ${FIG[$fault:app1back]:-}"
        else
            rec="recovery s: ${FIG[$fault:recovery_s]:-}(median $(tr ' ' '\n' <<<"${FIG[$fault:recovery_s]:-}" | grep . | median))"
        fi
        lost=${FIG[$fault:lost]:-}
        [[ -n $lost ]] && lost="$lost(median $(tr ' ' '\n' <<<"$lost" | grep . | median))"
        echo "| $fault | $req | $err | $rec | ${lost:--} |"
    done
    for role in cache store; do
        echo "| Sentinel alone, $role primary killed ($PROMO_KEYS acknowledged SETs just before) | | | promotion ms: ${FIG[promote-$role:ms]:-}(median $(tr ' ' '\n' <<<"${FIG[promote-$role:ms]:-}" | grep . | median)) | keys lost: ${FIG[promote-$role:lost]:-} |"
    done
    echo
    echo "Per run (tests/chaos rows):"
    echo
    cat "$WORK/rows.md" 2>/dev/null || true
    echo
    echo "teardown: down and failed ups at ${FAIL_POINTS[*]}: $([[ " ${FAILED[*]} " == *" down"* || " ${FAILED[*]} " == *fail-at* ]] && echo 'SOMETHING LEFT' || echo 'nothing left')"
} >"$REPORT"
cat "$REPORT"
(( ${#FAILED[@]} == 0 )) || die "failed: ${FAILED[*]}"
say "all cluster tests passed${PENDING[*]:+ (pending: ${PENDING[*]})}"
