# tests/chaos/lib.sh: what tests/chaos/run.sh (faults) and tests/chaos/soak.sh share.
# Sourced, not run. Owns: reading the stack's facts (CHAOS_STACK_ENV), adding
# tests/chaos/chaos.conf to guild.conf and restoring it (and every service) on every exit.
# The caller sets CHAOS_NAME (the log prefix) first.

CHAOS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$CHAOS_DIR/../.." && pwd -P)
CLEAN_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() { printf '[%s] %s\n' "$CHAOS_NAME" "$*"; }
warn() { printf '[%s] warning: %s\n' "$CHAOS_NAME" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$CHAOS_NAME" "$*" >&2; exit 1; }

# The stack's facts: BASE_URL, MYSQL_CLI, GUILDCTL, GUILD_CONF, VAR_DIR, STACK_CMD, the pid
# files, FCGI_SOCKET, FCGI_CHILDREN. Exported: the driver reads them.
load_stack_env() {
    local f=${CHAOS_STACK_ENV:-}
    [[ -n $f && -r $f ]] || die "CHAOS_STACK_ENV must name a stack.env: use scripts/stack $CHAOS_NAME"
    set -a
    # shellcheck disable=SC1090
    . "$f"
    set +a
    [[ $BASE_URL == http://127.0.0.1:* ]] || die "refusing a non-loopback BASE_URL: $BASE_URL"
    BIN=$REPO/tests/chaos/chaos
    [[ -x $BIN ]] || die "$BIN is not built (make tests/chaos/chaos)"
    STAMP=$(date -u +%Y%m%dT%H%M%SZ)
    WORK=$VAR_DIR/chaos
    mkdir -p "$WORK"
    export CHAOS_LOG=$WORK/stack-$STAMP.log
}

stack() { $STACK_CMD "$@" >>"$CHAOS_LOG" 2>&1; }
ctl() { env -i "PATH=$CLEAN_PATH" "HOME=${HOME:-/root}" $GUILDCTL "$@"; }
ping_ok() { [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$BASE_URL/ping") == 200 ]]; }
wait_until() {
    local deadline=$(( SECONDS + $1 )); shift
    until "$@" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || return 1
        sleep 0.2
    done
}

# Extra cleanup of the caller, run first by restore_stack (a function name or "").
CHAOS_CLEANUP=""
CONF_ORIG=""

restore_stack() {
    local rc=$?
    trap - EXIT
    if [[ -n $CHAOS_CLEANUP ]]; then "$CHAOS_CLEANUP" || true; fi
    # a stall interrupted between SIGSTOP and SIGCONT must not outlive us
    if [[ -s $REDIS_CACHE_PID ]]; then kill -CONT "$(cat "$REDIS_CACHE_PID")" 2>/dev/null || true; fi
    stack start mysql redis-cache redis-store nginx || warn "could not start every service (see $CHAOS_LOG)"
    if [[ -n $CONF_ORIG && -f $CONF_ORIG ]]; then
        say "restoring guild.conf and restarting the responders"
        mv -f "$CONF_ORIG" "$GUILD_CONF"
        stack restart fcgi || warn "could not restart fcgi (see $CHAOS_LOG)"
    else
        stack start fcgi || warn "could not start fcgi (see $CHAOS_LOG)"
    fi
    wait_until 15 ping_ok || warn "the stack does not answer /ping after the restore"
    exit "$rc"
}

# guild.conf + tests/chaos/chaos.conf (raised rate limits), responders restarted; undone by
# restore_stack on every exit.
begin_config() {
    CONF_ORIG=$GUILD_CONF.chaos-orig
    if [[ -f $CONF_ORIG ]]; then
        warn "found $CONF_ORIG from an interrupted run: restoring it first"
        cp -p "$CONF_ORIG" "$GUILD_CONF"
    fi
    cp -p "$GUILD_CONF" "$CONF_ORIG"
    trap restore_stack EXIT
    trap 'exit 130' INT TERM
    {
        cat "$CONF_ORIG"
        echo "# ---- added by tests/chaos (scripts/stack $CHAOS_NAME); the original is restored at the end"
        cat "$CHAOS_DIR/chaos.conf"
    } | ( umask 077; cat >"$GUILD_CONF.chaos-tmp" )
    mv -f "$GUILD_CONF.chaos-tmp" "$GUILD_CONF"
    say "guild.conf + tests/chaos/chaos.conf; restarting the responders"
    stack restart fcgi || die "fcgi did not restart (see $CHAOS_LOG)"
    wait_until 15 ping_ok || die "no /ping after restarting fcgi"
}
