#!/bin/bash
# Batched against one statement, measured in the same run on the same
# throwaway PostgreSQL 15 (fsync on): a table of BENCH_ROWS rows (default
# 2,000,000) with an integer primary key, each row's n increased by one
#   (a) as one statement: UPDATE t SET n = n + 1
#   (b) by a plain keyset loop in PL/pgSQL, KEYSET_BATCH rows per committed
#       transaction (the reference)
#   (c) by a DM_BATCHED migration calling dm_batch_update, applied by
#       `delembic upgrade` with the default batch settings
# each on a freshly loaded table. While each runs, a pgbench client updates
# random single rows of the same table (CLIENT_RATE per second) with
# lock_timeout = 1s; its updates go through a PL/pgSQL function that catches
# the lock timeout, counts it and goes on (pgbench aborts a client on any
# other error than a serialization or deadlock failure). A sampler reads
# pg_stat_activity every SAMPLE_MS and keeps the oldest xact_start of the
# run's own sessions: the longest transaction it saw (a lower bound, within
# SAMPLE_MS). Prints rows per second, the ratios and the client's figures;
# asserts nothing (targets are in the README's "Benchmarks" paragraph).
#   tests/bench/batch_bench.sh      (BENCH_ROWS=2000000 KEYSET_BATCH=10000 PHASES=abc)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
D=$ROOT/$BUILD/core/delembic
BENCH_ROWS=${BENCH_ROWS:-2000000}
KEYSET_BATCH=${KEYSET_BATCH:-10000}
CLIENT_RATE=${CLIENT_RATE:-100}      # the client's updates per second (pgbench -R)
CLIENT_LOCK_TIMEOUT=1s               # the client's lock_timeout
CLIENT_SLOW_MS=50                    # the client notes each update that waited longer
SAMPLE_MS=${SAMPLE_MS:-50}           # the sampler looks at pg_stat_activity this often
PHASES=${PHASES:-abc}                # which of (a), (b), (c) to run
[ -x "$D" ] || { echo "build delembic first (meson compile -C $BUILD)"; exit 2; }
source "$ROOT/tests/pgcluster.sh"
PGBENCH=$PGBIN/pgbench
[ -x "$PGBENCH" ] || { echo "pgbench not found at $PGBENCH (it comes with PostgreSQL 15)"; exit 2; }
pg_start on || exit 2
W=$(mktemp -d /tmp/delembic-batchbench.XXXXXX)
chmod 755 "$W"
CLIENT_PID=
SAMPLER_PID=
# the sampler stops when this file appears (its psql then ends its input and
# writes what it has)
stop_helpers() {
    [ -z "$CLIENT_PID" ] || { kill "$CLIENT_PID" 2>/dev/null; wait "$CLIENT_PID" 2>/dev/null; }
    [ -z "$SAMPLER_PID" ] || { touch "$W/stop_sampler"; wait "$SAMPLER_PID" 2>/dev/null; }
    CLIENT_PID=
    SAMPLER_PID=
}
trap 'stop_helpers; pg_stop; rm -rf "$W"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
per_second() { awk -v r="$1" -v t="$2" 'BEGIN { printf "%d", r / t }'; }
q() { PGOPTIONS="-c client_min_messages=warning" psql -qAtX -v ON_ERROR_STOP=1 -d bench_batch -c "$1"; }

URL=$(pg_newdb bench_batch)
q "CREATE TABLE bench_client (phase text, waited_ms double precision, timed_out boolean)"
# the client's update: one random row; a lock timeout is counted, not fatal
q "CREATE FUNCTION touch_row(p int, ph text) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz := clock_timestamp(); ms double precision;
BEGIN
    UPDATE t SET m = m + 1 WHERE id = p;
    ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
    IF ms > $CLIENT_SLOW_MS THEN
        INSERT INTO bench_client VALUES (ph, ms, false);
    END IF;
EXCEPTION WHEN lock_not_available THEN
    INSERT INTO bench_client VALUES (ph, extract(epoch FROM clock_timestamp() - t0) * 1000, true);
END \$\$"

# fresh_table: t with BENCH_ROWS rows, vacuumed and analyzed, then a checkpoint
fresh_table() {
    q "DROP TABLE IF EXISTS t" &&
        q "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL, m int NOT NULL DEFAULT 0)" &&
        q "INSERT INTO t (id, n) SELECT g, 0 FROM generate_series(1, $BENCH_ROWS) g" &&
        q "VACUUM ANALYZE t" && q "CHECKPOINT"
}

# start_helpers PHASE APP: the pgbench client (PHASE names its rows in
# bench_client) and the sampler of the transactions of sessions whose
# application_name is like APP
start_helpers() {
    local phase=$1 app=$2
    cat >"$W/client.sql" <<SQL
\\set id random(1, $BENCH_ROWS)
SET lock_timeout = '$CLIENT_LOCK_TIMEOUT';
SELECT touch_row(:id, '$phase');
SQL
    "$PGBENCH" -n -c 1 -R "$CLIENT_RATE" -T 36000 -f "$W/client.sql" bench_batch >"$W/pgbench_$phase.log" 2>&1 &
    CLIENT_PID=$!
    rm -f "$W/stop_sampler"
    local pause
    pause=$(awk -v ms="$SAMPLE_MS" 'BEGIN { print ms / 1000 }')
    # one session, one statement (so one fresh statistics snapshot) a sample
    while [ ! -e "$W/stop_sampler" ] && sleep "$pause"; do
        echo "SELECT coalesce(max(extract(epoch FROM clock_timestamp() - xact_start)), 0)
              FROM pg_stat_activity WHERE datname = 'bench_batch' AND application_name LIKE '$app'
              AND xact_start IS NOT NULL;"
    done | psql -qAtX -d bench_batch >"$W/samples_$phase" 2>/dev/null &
    SAMPLER_PID=$!
}

# client_figures PHASE: "U updates, E lock-timeout errors, slowest wait X ms"
client_figures() {
    local upd errs slow
    upd=$(q "SELECT sum(m) FROM t")
    errs=$(q "SELECT count(*) FROM bench_client WHERE phase = '$1' AND timed_out")
    slow=$(q "SELECT coalesce(round(max(waited_ms)) || ' ms', 'under $CLIENT_SLOW_MS ms') FROM bench_client WHERE phase = '$1' AND NOT timed_out")
    echo "$upd updates, $errs lock-timeout errors, slowest successful update $slow"
}

longest() { sort -g "$W/samples_$1" | tail -1 | awk '{ printf "%.3f", $1 + 0 }'; }

check_all_plus_one() {
    local bad
    bad=$(q "SELECT count(*) FROM t WHERE n <> 1")
    [ "$bad" = 0 ] || echo "  WARNING: $bad rows do not have n = 1"
}

echo "== $BENCH_ROWS rows, n + 1 on every row; a pgbench client updates random rows ($CLIENT_RATE/s, lock_timeout $CLIENT_LOCK_TIMEOUT)"

has() { [[ "$PHASES" == *$1* ]]; }
t_a= t_b= t_c= client_a= client_c= long_c=

# the migration of (c), built before anything is timed
if has c; then
mkdir -p "$W/proj/migrations"
cat >"$W/proj/delembic.yaml" <<YAML
delembic:
  script_location: migrations
  build_dir: build/bundle
  database: $URL
YAML
cat >"$W/proj/migrations/BATCH1.c" <<'C'
#include <delembic/plugin.h>
static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    return dm_batch_update(ctx, conn, b, "t", "id", "n = n + 1", NULL);
}
DM_MIGRATION(.revision = "BATCH1", .description = "n + 1 in batches", .mode = DM_BATCHED, .batch = batch);
C
(cd "$W/proj" && "$D" -q build) || { echo "building the batched migration failed"; exit 1; }
fi

# (a) one statement
if has a; then
fresh_table || exit 1
start_helpers a 'batch_bench'
t0=$(now)
PGAPPNAME=batch_bench q "UPDATE t SET n = n + 1" >/dev/null || exit 1
t_a=$(elapsed "$t0")
stop_helpers
check_all_plus_one
client_a=$(client_figures a)
echo "(a) UPDATE t SET n = n + 1, one statement: ${t_a}s, $(per_second "$BENCH_ROWS" "$t_a") rows/s"
echo "    client: $client_a"
fi

# (b) keyset loop in PL/pgSQL, one transaction per batch
if has b; then
fresh_table || exit 1
start_helpers b 'batch_bench'
t0=$(now)
PGAPPNAME=batch_bench q "DO \$\$
DECLARE last int := 0; upto int;
BEGIN
    LOOP
        SELECT max(id) INTO upto FROM (SELECT id FROM t WHERE id > last ORDER BY id LIMIT $KEYSET_BATCH) s;
        EXIT WHEN upto IS NULL;
        UPDATE t SET n = n + 1 WHERE id > last AND id <= upto;
        last := upto;
        COMMIT;
    END LOOP;
END \$\$" >/dev/null || exit 1
t_b=$(elapsed "$t0")
stop_helpers
check_all_plus_one
client_b=$(client_figures b)
long_b=$(longest b)
echo "(b) keyset loop in PL/pgSQL, $KEYSET_BATCH rows a batch: ${t_b}s, $(per_second "$BENCH_ROWS" "$t_b") rows/s, longest transaction seen ${long_b}s"
echo "    client: $client_b"
fi

# (c) the batched migration
if has c; then
fresh_table || exit 1
start_helpers c 'delembic worker%'
t0=$(now)
(cd "$W/proj" && "$D" -q upgrade head) || { echo "delembic upgrade failed"; exit 1; }
t_c=$(elapsed "$t0")
stop_helpers
check_all_plus_one
client_c=$(client_figures c)
long_c=$(longest c)
echo "(c) DM_BATCHED migration, dm_batch_update, delembic upgrade: ${t_c}s, $(per_second "$BENCH_ROWS" "$t_c") rows/s, longest batch transaction seen ${long_c}s"
echo "    client: $client_c"
fi

errors_of() { awk '{ print $3 }' <<<"$1"; }
[ -n "$t_a" ] && [ -n "$t_c" ] && echo "RATIO rows/s (c) batched / (a) one statement = $(ratio "$t_a" "$t_c")  (target >= 0.85)"
[ -n "$t_a" ] && [ -n "$t_b" ] && echo "RATIO rows/s (b) keyset loop / (a) one statement = $(ratio "$t_a" "$t_b")  (the reference)"
[ -n "$t_c" ] && echo "LONGEST batch transaction of (c) = ${long_c}s  (target <= 1; sampled every ${SAMPLE_MS} ms)"
[ -n "$t_a" ] && echo "LOCK-TIMEOUT errors of the client during (a) one statement: $(errors_of "$client_a")"
[ -n "$t_c" ] && echo "LOCK-TIMEOUT errors of the client during (c) batched: $(errors_of "$client_c")  (target: 0)"
exit 0
