#!/usr/bin/env bash
# tests/chaos/soak.sh: the soak checks of issue 10: `scripts/stack soak [--short]`.
#
# Owns: two checks that long runs leave the responders as they found them.
#  1. Memory: the pool's responders serve SOAK_WARM_REQUESTS mixed requests (the driver's
#     load: reads, writes, logins, sessions), then SOAK_REQUESTS in all; each responder's RSS
#     at the end must be within SOAK_RSS_TOLERANCE % of its RSS after the warm-up (the same
#     processes: a respawn fails the check).
#  2. valgrind: the pool is replaced by one responder under valgrind memcheck on the pool's
#     own socket, so nginx sends it SOAK_VG_REQUESTS mixed requests; after SIGTERM its log
#     must show no error and nothing definitely or indirectly lost. The pool comes back after.
# Does not own: the stack (scripts/stack starts it, CHAOS_STACK_ENV), the load (the chaos
# driver, which also checks every acknowledged write against MariaDB after each load).
# Invariants: loopback only; bounded request counts; guild.conf and the pool are restored on
# every exit (tests/chaos/lib.sh).
set -euo pipefail

CHAOS_NAME=soak
# shellcheck source=tests/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
usage: scripts/stack soak [--short]   (or tests/chaos/soak.sh with CHAOS_STACK_ENV)

1. responder RSS after SOAK_REQUESTS mixed requests within SOAK_RSS_TOLERANCE % of its RSS
   after SOAK_WARM_REQUESTS;  2. valgrind memcheck over SOAK_VG_REQUESTS mixed requests
   through nginx: no error, nothing definitely or indirectly lost.

--short   CI: SOAK_SHORT_REQUESTS and SOAK_SHORT_VG_REQUESTS instead

settings (environment):
  SOAK_CLIENTS            concurrent clients     [the pool's workers: responders x 4 threads]
  SOAK_WARM_REQUESTS      requests before the first RSS reading             [1000]
  SOAK_REQUESTS           requests in all (full run)                        [100000]
  SOAK_SHORT_REQUESTS     requests in all (--short)                         [25000]
  SOAK_RSS_TOLERANCE      allowed growth of each responder's RSS, percent   [10]
  SOAK_VG_REQUESTS        requests to the valgrind responder (full run)     [10000]
  SOAK_SHORT_VG_REQUESTS  the same with --short                             [2000]
  SOAK_VG_CLIENTS         concurrent clients of the valgrind run            [4]
  SOAK_SKIP_VALGRIND=1    only the RSS check
EOF
}

SHORT=0
for a in "$@"; do
    case $a in
        -h|--help) usage; exit 0 ;;
        --short) SHORT=1 ;;
        *) die "unknown argument $a (see --help)" ;;
    esac
done
CLIENTS=${SOAK_CLIENTS:-}
WARM=${SOAK_WARM_REQUESTS:-1000}
TOL=${SOAK_RSS_TOLERANCE:-10}
VG_CLIENTS=${SOAK_VG_CLIENTS:-4}
if (( SHORT )); then
    TOTAL=${SOAK_SHORT_REQUESTS:-25000}
    VG_N=${SOAK_SHORT_VG_REQUESTS:-2000}
else
    TOTAL=${SOAK_REQUESTS:-100000}
    VG_N=${SOAK_VG_REQUESTS:-10000}
fi
(( TOTAL > WARM )) || die "SOAK_REQUESTS must exceed SOAK_WARM_REQUESTS"

load_stack_env
# as many clients as the pool has workers (threads: 4 unless GUILD_FCGI_THREADS says
# otherwise), so every worker is warm after the first readings, not only some of them
CLIENTS=${CLIENTS:-$(( FCGI_CHILDREN * ${GUILD_FCGI_THREADS:-4} ))}
begin_config
failed=0

# ---- 1. RSS ----------------------------------------------------------------------------------

# responders: the pids of multiwatch's children, sorted
responders() { pgrep -P "$(cat "$FCGI_PID")" | sort -n; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

say "RSS: $WARM mixed requests, then $(( TOTAL - WARM )) more in 4 steps ($CLIENTS clients)"
t0=$SECONDS
"$BIN" load --requests "$WARM" --clients "$CLIENTS" --seed 11 || die "the warm-up load failed"
mapfile -t pids < <(responders)
(( ${#pids[@]} > 0 )) || die "no responder found under multiwatch"
declare -A rss1=() curve=()
for p in "${pids[@]}"; do rss1[$p]=$(rss_kb "$p"); curve[$p]=${rss1[$p]}; done
done_n=$WARM
for step in 1 2 3 4; do
    n=$(( (TOTAL - WARM) * step / 4 - (done_n - WARM) ))
    if ! "$BIN" load --requests "$n" --clients "$CLIENTS" --seed $(( 11 + step )); then
        warn "the soak load failed (step $step)"
        failed=1
    fi
    done_n=$(( done_n + n ))
    for p in "${pids[@]}"; do
        if [[ -r /proc/$p/status ]]; then curve[$p]+=" $(rss_kb "$p")"; fi
    done
done
mapfile -t pids2 < <(responders)
if [[ "${pids[*]}" != "${pids2[*]}" ]]; then
    warn "the responders changed during the soak (${pids[*]} -> ${pids2[*]}): one died"
    failed=1
fi
sum1=0 sum2=0
for p in "${pids[@]}"; do
    [[ -r /proc/$p/status ]] || continue
    r1=${rss1[$p]} r2=$(rss_kb "$p")
    sum1=$(( sum1 + r1 )) sum2=$(( sum2 + r2 ))
    growth=$(awk -v a="$r1" -v b="$r2" 'BEGIN { printf "%+.1f", (b - a) * 100 / a }')
    say "responder $p: RSS $r1 kB after $WARM requests, $r2 kB after $TOTAL ($growth %; kB at each quarter: ${curve[$p]})"
    if (( r2 * 100 > r1 * (100 + TOL) )); then
        warn "responder $p grew more than $TOL %"
        failed=1
    fi
done
say "pool: $sum1 kB -> $sum2 kB over $TOTAL requests in $(( SECONDS - t0 )) s"

# ---- 2. valgrind -----------------------------------------------------------------------------

VG_DIR=""
VG_PID=""
vg_cleanup() {
    if [[ -n $VG_PID ]] && kill -0 "$VG_PID" 2>/dev/null; then
        kill -TERM "$VG_PID" 2>/dev/null || true
        wait_until 30 bash -c "! kill -0 $VG_PID" || kill -KILL "$VG_PID" 2>/dev/null || true
    fi
    rm -f "$FCGI_SOCKET"
    return 0
}
CHAOS_CLEANUP=vg_cleanup

if [[ ${SOAK_SKIP_VALGRIND:-0} == 1 ]]; then
    say "valgrind: skipped (SOAK_SKIP_VALGRIND=1)"
elif nm -an "$REPO/src/guild-fcgi" 2>/dev/null | grep -q __asan_init; then
    say "valgrind: skipped (ASan build)"
else
    command -v valgrind >/dev/null || die "valgrind is not installed"
    VG_DIR=$WORK/valgrind-$STAMP
    mkdir -p "$VG_DIR"
    say "valgrind: one responder under memcheck on the pool's socket, $VG_N mixed requests"
    stack stop fcgi || die "could not stop the pool"
    # spawn-fcgi forks the responder and exits; -P records the responder's pid. The
    # responder gets a clean environment, as under scripts/stack (settings come from guild.conf)
    spawn-fcgi -s "$FCGI_SOCKET" -M 0660 -P "$VG_DIR/pid" -- \
        /usr/bin/env -i "PATH=$CLEAN_PATH" "HOME=${HOME:-/root}" \
        /usr/bin/valgrind --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --log-file="$VG_DIR/vg.log" \
        "$REPO/src/guild-fcgi" -c "$GUILD_CONF" \
        >>"$CHAOS_LOG" 2>&1 || die "spawn-fcgi failed (see $CHAOS_LOG)"
    VG_PID=$(cat "$VG_DIR/pid")
    wait_until 60 ping_ok || die "the valgrind responder does not answer /ping"
    t0=$SECONDS
    if ! "$BIN" load --requests "$VG_N" --clients "$VG_CLIENTS" --seed 13 --max-latency-ms 30000; then
        warn "the load against the valgrind responder failed"
        failed=1
    fi
    say "valgrind: $VG_N requests in $(( SECONDS - t0 )) s; stopping the responder"
    kill -TERM "$VG_PID"
    if ! wait_until 60 bash -c "! kill -0 $VG_PID"; then
        warn "the valgrind responder did not exit within 60 s of SIGTERM"
        failed=1
    fi
    VG_PID=""
    if grep -q "ERROR SUMMARY: 0 errors" "$VG_DIR/vg.log"; then
        say "valgrind: 0 errors, nothing definitely or indirectly lost ($VG_DIR/vg.log)"
        grep -E "in use at exit|definitely lost|indirectly lost|possibly lost|still reachable" \
            "$VG_DIR/vg.log" | sed 's/^==[0-9]*== */    /' || true
    else
        warn "valgrind reported errors (full log: $VG_DIR/vg.log):"
        head -150 "$VG_DIR/vg.log" >&2
        failed=1
    fi
fi

(( failed == 0 )) || die "soak failed"
say "soak passed"
