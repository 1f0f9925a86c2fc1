# A throwaway PostgreSQL 15 cluster for tests, benchmarks and the demo.
# source this file, then: pg_start [fsync=on|off]; ...; pg_stop
# The server refuses to run as root, so as root initdb and pg_ctl run as the
# postgres user. The socket lives in a temporary folder; no TCP.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

_pg_as() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

pg_start() {
    local fsync=${1:-off}
    PGTMP=$(mktemp -d /tmp/delembic-pg.XXXXXX)
    chmod 755 "$PGTMP"
    if [ "$(id -u)" = 0 ]; then chown postgres: "$PGTMP"; fi
    _pg_as "$PGBIN/initdb" -D "$PGTMP/data" -A trust -U postgres -E UTF8 --no-sync >"$PGTMP/initdb.log" 2>&1 \
        || { cat "$PGTMP/initdb.log"; return 1; }
    _pg_as "$PGBIN/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w \
        -o "-k $PGTMP -c listen_addresses= -c fsync=$fsync -c max_connections=200 -c shared_buffers=256MB" \
        start >/dev/null || { cat "$PGTMP/server.log"; return 1; }
    export PGTMP PGHOST=$PGTMP PGUSER=postgres PGDATABASE=postgres
    unset PGPASSWORD PGSERVICE DELEMBIC_DATABASE_URL
}

pg_stop() {
    [ -n "${PGTMP:-}" ] || return 0
    _pg_as "$PGBIN/pg_ctl" -D "$PGTMP/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$PGTMP"
    PGTMP=
}

# pg_stop_command: the command that stops the server pg_start started and
# removes its folder, for a server left running (run-demo.sh with KEEP=1)
pg_stop_command() {
    local as=
    if [ "$(id -u)" = 0 ]; then as="runuser -u postgres -- "; fi
    printf '%s%q -D %q -m fast stop && rm -rf %q\n' "$as" "$PGBIN/pg_ctl" "$PGTMP/data" "$PGTMP"
}

# pg_newdb NAME: a fresh database; prints its URL
pg_newdb() {
    PGOPTIONS="-c client_min_messages=warning" psql -qAt -d postgres -c "DROP DATABASE IF EXISTS \"$1\"" -c "CREATE DATABASE \"$1\"" >/dev/null
    echo "postgresql:///$1?host=$PGTMP&user=postgres"
}
