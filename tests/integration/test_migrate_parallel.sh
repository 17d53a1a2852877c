#!/bin/sh
# Integration: `guildctl migrate` run by several app hosts at once (every host's unit runs
# it before its pool starts). On an empty database, 4 runs started together must all exit
# 0 and leave each migration applied and recorded exactly once: MariaDB's named lock
# serialises them (src/migrate.c). Uses a scratch database of the test stack's MariaDB
# (created and dropped through $MYSQL_ROOT_CLI). Skips (77) outside `scripts/stack test`.
[ -n "${MYSQL_ROOT_CLI:-}" ] && [ -n "${GUILD_CONF:-}" ] || { echo "no test stack: skip"; exit 77; }
top=${top_builddir:-$(pwd)}
ctl="$top/src/guildctl"
set -u
db="guild_migtest_$$"
dir=$(mktemp -d /tmp/guild-mig.XXXXXX)
. "$(dirname "$0")/testlib.sh"
user=$(sed -n 's/^GUILD_DB_USER=//p' "$GUILD_CONF" | tail -1)
trap '$MYSQL_ROOT_CLI -e "DROP DATABASE IF EXISTS \`$db\`" 2>/dev/null; rm -rf "$dir"' EXIT
$MYSQL_ROOT_CLI -e "CREATE DATABASE \`$db\` CHARACTER SET utf8mb4;
    GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'127.0.0.1';
    GRANT ALL PRIVILEGES ON \`$db\`.* TO '$user'@'localhost';" || { ko "cannot create $db"; exit 1; }

files=$(ls "$top/sql" | grep -c '^[0-9][0-9][0-9]_.*\.sql$')
pids=""
for i in 1 2 3 4; do
    GUILD_DB_NAME=$db "$ctl" -c "$GUILD_CONF" migrate >"$dir/out.$i" 2>&1 &
    pids="$pids $!"
done
rcs=""
for pid in $pids; do wait "$pid"; rcs="$rcs $?"; done
case "$rcs" in *[1-9]*) ko "4 parallel runs: exit statuses$rcs"; cat "$dir"/out.* ;;
               *) ok "4 parallel runs of guildctl migrate all exit 0" ;; esac
applied=$(cat "$dir"/out.* | grep -c '^applied ')
[ "$applied" -eq "$files" ] && ok "each of the $files migrations applied once in all (runs said: $applied)" \
    || ko "migrations applied $applied times, want $files"
recorded=$($MYSQL_ROOT_CLI -N -e "SELECT COUNT(*) FROM \`$db\`.schema_migrations")
[ "$recorded" = "$files" ] && ok "schema_migrations holds $files rows" || ko "schema_migrations: $recorded rows"
GUILD_DB_NAME=$db "$ctl" -c "$GUILD_CONF" migrate >"$dir/again" 2>&1 && ! grep -q '^applied' "$dir/again" \
    && ok "a later run applies nothing" || { ko "a later run:"; cat "$dir/again"; }
summary
