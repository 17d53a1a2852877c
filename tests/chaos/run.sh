#!/usr/bin/env bash
# tests/chaos/run.sh: faults under load (issue 10): `scripts/stack chaos [--short] [FAULT...]`.
#
# Owns: adding tests/chaos/chaos.conf to the stack's guild.conf for the run (raised rate
# limits: the load must never meet one) and restoring it on every exit; running the driver
# (tests/chaos/chaos fault NAME) once per fault, in turn, each with its own steady mixed load
# and its own checks; checking the analytics counters against the tables after each fault
# (guildctl verify-summaries); collecting the per-fault Markdown rows into one report.
# Does not own: the stack (scripts/stack starts it and passes its stack.env in
# CHAOS_STACK_ENV), the load, the faults and the checks (tests/chaos/*.c).
# Invariants: loopback only; every phase is bounded in time; whatever happens, every service
# is running again at the end (start is a no-op for a running one, a stalled Redis gets
# SIGCONT) and guild.conf is the stack's own again.
set -euo pipefail

CHAOS_NAME=chaos
# shellcheck source=tests/chaos/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ALL_FAULTS=(cache-down store-down cache-stall mysql-restart responder-kill nginx-reload)

usage() {
    cat <<EOF
usage: scripts/stack chaos [--short] [FAULT...]   (or tests/chaos/run.sh with CHAOS_STACK_ENV)

A steady mixed load (CHAOS_CLIENTS clients: cached reads, user reads, registrations, logins,
mission starts and completions, sessions) against the stack while, in turn, each FAULT is
injected and undone. Per fault: requests, status counts, p50/p99/max latency, time to
recover, acknowledged writes found in MariaDB, sessions still readable, stale reads after
recovery; any answer the fault's contract does not allow, a latency over the bound, a lost
write or a stale read fails the run (exit 1).

faults: ${ALL_FAULTS[*]}

--short   CI: shorter phases (CHAOS_SHORT_SECONDS each), same checks

settings (environment):
  CHAOS_CLIENTS          concurrent clients                                  [8]
  CHAOS_SECONDS          seconds of load per fault                           [20]
  CHAOS_SHORT_SECONDS    the same with --short                               [9]
  CHAOS_WARMUP           seconds of load before the fault                    [4; --short 2]
  CHAOS_HOLD             seconds the fault lasts (the stall: 3)              [3]
  CHAOS_MAX_LATENCY_MS   no answer may take longer                           [3000]
  CHAOS_MAX_RECOVERY_MS  degraded answers must stop within this of the restore [5000]
  CHAOS_REPORT           the Markdown report      [\$VAR_DIR/chaos/report-<time>.md]
EOF
}

SHORT=0
SELECTED=()
for a in "$@"; do
    case $a in
        -h|--help) usage; exit 0 ;;
        --short) SHORT=1 ;;
        -*) die "unknown option $a (see --help)" ;;
        *)
            [[ " ${ALL_FAULTS[*]} " == *" $a "* ]] || die "unknown fault '$a' (one of: ${ALL_FAULTS[*]})"
            SELECTED+=("$a")
            ;;
    esac
done
(( ${#SELECTED[@]} )) || SELECTED=("${ALL_FAULTS[@]}")

CLIENTS=${CHAOS_CLIENTS:-8}
if (( SHORT )); then
    SECONDS_PER=${CHAOS_SHORT_SECONDS:-9}
    WARMUP=${CHAOS_WARMUP:-2}
else
    SECONDS_PER=${CHAOS_SECONDS:-20}
    WARMUP=${CHAOS_WARMUP:-4}
fi
HOLD=${CHAOS_HOLD:-3}
MAX_LAT=${CHAOS_MAX_LATENCY_MS:-3000}
MAX_REC=${CHAOS_MAX_RECOVERY_MS:-5000}

load_stack_env
REPORT=${CHAOS_REPORT:-$WORK/report-$STAMP.md}
# each fault is judged by the counters it leaves: start from counters equal to the tables
# (something that wrote around the API, e.g. a SQL reset, may have left them apart)
if ! out=$(ctl verify-summaries 2>&1); then
    warn "the analytics counters differed from the tables before the run: rebuilding them"
    printf '%s\n' "$out" | head -5 >&2
    ctl rebuild-summaries >/dev/null || die "guildctl rebuild-summaries failed"
fi
begin_config

# ---- the faults ------------------------------------------------------------------------------
say "${#SELECTED[@]} faults, ${SECONDS_PER} s of load each ($CLIENTS clients; fault at ${WARMUP} s for ${HOLD} s)"
{
    echo "# Faults under load ($(date -u +'%Y-%m-%d %H:%M UTC'))"
    echo
    echo "$CLIENTS clients, ${SECONDS_PER} s per fault (fault at ${WARMUP} s, held ${HOLD} s), $FCGI_CHILDREN responders;"
    echo "bounds: latency ≤ ${MAX_LAT} ms, recovery ≤ ${MAX_REC} ms."
    echo
} >"$REPORT"
failed=()
seed=1
for fault in "${SELECTED[@]}"; do
    wait_until 20 ping_ok || die "the stack does not answer /ping before $fault"
    rc=0
    "$BIN" fault "$fault" --clients "$CLIENTS" --seconds "$SECONDS_PER" --warmup "$WARMUP" \
        --hold "$HOLD" --max-latency-ms "$MAX_LAT" --max-recovery-ms "$MAX_REC" \
        --seed "$seed" --md "$REPORT" || rc=$?
    seed=$(( seed + 1 ))
    # the analytics counters are written in the same transactions as the rows: a fault
    # must not leave them apart
    if ! out=$(ctl verify-summaries 2>&1); then
        printf '%s\n' "$out" | head -20 >&2
        warn "$fault: the analytics counters differ from the tables"
        rc=1
    fi
    (( rc == 0 )) || failed+=("$fault")
done
echo >>"$REPORT"
say "report: $REPORT"
cat "$REPORT"
(( ${#failed[@]} == 0 )) || die "failed: ${failed[*]}"
say "every fault passed"
