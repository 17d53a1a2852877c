#!/bin/sh
# Integration: `make install` into a DESTDIR puts every piece where the
# README's "Deploy on a server" section says (the logrotate rule and the
# Prometheus alert rules included), and the installed responder, started by
# spawn-fcgi against the test stack, answers /ping over FastCGI, also after
# the logrotate rule's SIGUSR2.
# The tree is configured with the default prefix (/usr/local).
# Skips (77) outside `scripts/stack test` (no BASE_URL / GUILD_CONF).
[ -n "${BASE_URL:-}" ] && [ -n "${GUILD_CONF:-}" ] || { echo "no test stack: skip"; exit 77; }
set -u
top=${top_builddir:-$(pwd)}
dest=$(mktemp -d /tmp/guild-install.XXXXXX)
sock="$dest/fcgi.sock"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
ko() { fail=$((fail + 1)); echo "  FAILED: $*"; }
check() { if eval "$2"; then ok "$1"; else ko "$1"; fi; }
cleanup() {
    [ -f "$dest/fcgi.pid" ] && kill "$(cat "$dest/fcgi.pid")" 2>/dev/null
    sleep 0.2
    rm -rf "$dest"
}
trap cleanup EXIT

if make -C "$top" install DESTDIR="$dest/root" >"$dest/install.log" 2>&1; then
    ok "make install DESTDIR=..."
else
    ko "make install"; cat "$dest/install.log"
fi
r="$dest/root"
for f in usr/local/bin/guild-fcgi usr/local/bin/guildctl usr/local/share/guild/sql/001_init.sql \
         usr/local/share/guild/nginx/guild.conf usr/local/etc/guild/guild.conf.sample \
         usr/local/lib/systemd/system/guild-fcgi.service usr/local/share/guild/web/package.json \
         usr/local/share/guild/web/openapi.json usr/local/share/guild/web/dashboard/index.html \
         usr/local/share/guild/web/docs/index.html usr/local/share/guild/web/redoc/index.html \
         usr/local/etc/logrotate.d/guild usr/local/share/guild/prometheus/guild-alerts.yml; do
    check "installed $f" "[ -s '$r/$f' ]"
done
check "binaries are executable" "[ -x '$r/usr/local/bin/guild-fcgi' ] && [ -x '$r/usr/local/bin/guildctl' ]"
check "unit runs the installed binary under spawn-fcgi" \
    "grep -q 'multiwatch -f .* -- /usr/local/bin/guild-fcgi' '$r/usr/local/lib/systemd/system/guild-fcgi.service'"
check "unit is hardened and reads an EnvironmentFile" \
    "grep -q '^NoNewPrivileges=yes' '$r/usr/local/lib/systemd/system/guild-fcgi.service' && grep -q '^ProtectSystem=strict' '$r/usr/local/lib/systemd/system/guild-fcgi.service' && grep -q '^EnvironmentFile=/usr/local/etc/guild/guild.conf' '$r/usr/local/lib/systemd/system/guild-fcgi.service'"
check "the logrotate rule rotates the unit's log and signals the unit's pool" \
    "grep -q '^/var/log/guild/guild.log' '$r/usr/local/etc/logrotate.d/guild' && grep -q 'LogsDirectory=guild' '$r/usr/local/lib/systemd/system/guild-fcgi.service' && grep -q 'kill --kill-who=main --signal=SIGUSR2 guild-fcgi.service' '$r/usr/local/etc/logrotate.d/guild' && grep -q '^GUILD_LOG_FILE=/var/log/guild/guild.log' '$r/usr/local/etc/guild/guild.conf.sample'"
check "installed guildctl migrates (nothing pending)" \
    "'$r/usr/local/bin/guildctl' -c '$GUILD_CONF' migrate '$r/usr/local/share/guild/sql' >/dev/null"

# the installed responder, on its own socket, against the test stack's config
spawn-fcgi -s "$sock" -P "$dest/fcgi.pid" -- "$r/usr/local/bin/guild-fcgi" -c "$GUILD_CONF" >/dev/null 2>&1
i=0; while [ ! -S "$sock" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
out=$(env -i REQUEST_METHOD=GET DOCUMENT_URI=/ping REQUEST_URI=/ping QUERY_STRING= \
      cgi-fcgi -bind -connect "$sock" 2>&1)
check "installed responder answers /ping over FastCGI" \
    "echo \"\$out\" | grep -q 'Status: 200' && echo \"\$out\" | grep -q 'The Guild is alive'"
out=$(env -i REQUEST_METHOD=GET DOCUMENT_URI=/health REQUEST_URI=/health QUERY_STRING= \
      cgi-fcgi -bind -connect "$sock" 2>&1)
check "installed responder reaches MariaDB and Redis (/health)" \
    "echo \"\$out\" | grep -q '\"database\":\"up\"'"

# the postrotate signal: the installed responder reopens its log and keeps serving
kill -USR2 "$(cat "$dest/fcgi.pid")" 2>/dev/null
sleep 0.3
out=$(env -i REQUEST_METHOD=GET DOCUMENT_URI=/ping REQUEST_URI=/ping QUERY_STRING= \
      cgi-fcgi -bind -connect "$sock" 2>&1)
check "installed responder survives SIGUSR2 (log reopen) and still answers" \
    "kill -0 \"\$(cat '$dest/fcgi.pid')\" && echo \"\$out\" | grep -q 'Status: 200'"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
