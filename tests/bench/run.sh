#!/bin/bash
# Benchmarks against the peers measured in the same run on the same throwaway
# PostgreSQL 15 (fsync on): Debian's Alembic, psql's floor of 1,000 separate
# transactions, and psql's \copy. Prints each figure and its ratio; it asserts
# nothing (targets are in the README's performance section).
#   tests/bench/run.sh            (N=1000 migrations, ROWS=1000000 COPY rows)
set -uo pipefail
# Alembic as its users run it: Python writes and reuses its bytecode cache
# (some sandboxes and CI images switch that off for every process)
unset PYTHONDONTWRITEBYTECODE
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
D=$ROOT/$BUILD/core/delembic
N=${N:-1000}
ROWS=${ROWS:-1000000}
REPEAT=${REPEAT:-10}
[ -x "$D" ] || { echo "build delembic first (meson compile -C $BUILD)"; exit 2; }
source "$ROOT/tests/pgcluster.sh"
pg_start on
W=$(mktemp -d /tmp/delembic-bench.XXXXXX)
chmod 755 "$W"
trap 'pg_stop; rm -rf "$W"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.4f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# median of REPEAT runs of a command, in seconds
median_of() {
    local times=()
    for _ in $(seq "$REPEAT"); do
        local t0
        t0=$(now)
        "$@" >/dev/null 2>&1
        times+=("$(elapsed "$t0")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

echo "== preparing $N data migrations and $N Alembic revisions"
mkdir -p "$W/proj/migrations" "$W/alembic/versions"
cd "$W/proj"
cat >delembic.yaml <<YAML
delembic:
  script_location: migrations
  build_dir: build/bundle
YAML
for i in $(seq 1 "$N"); do
    rev=$(printf 'B%04d' "$i")
    deps=DM_NO_DEPS
    [ "$i" -gt 1 ] && deps="DM_DEPS(\"$(printf 'B%04d' $((i - 1)))\")"
    cat >"migrations/$rev.c" <<C
#include <delembic/plugin.h>
static int upgrade(PGconn *conn, dm_ctx *ctx) { return dm_exec(ctx, conn, "INSERT INTO bench_d VALUES ($i)"); }
DM_MIGRATION(.revision = "$rev", .depends_on = $deps, .description = "bench $i", .upgrade = upgrade);
C
    prev=None
    [ "$i" -gt 1 ] && prev="'$(printf 'a%04d' $((i - 1)))'"
    cat >"$W/alembic/versions/a$(printf '%04d' "$i").py" <<PY
from alembic import op
revision = '$(printf 'a%04d' "$i")'
down_revision = $prev
branch_labels = None
depends_on = None
def upgrade():
    op.execute("INSERT INTO bench_a VALUES ($i)")
def downgrade():
    pass
PY
done
cat >"$W/alembic/env.py" <<'PY'
import os
from alembic import context
from sqlalchemy import create_engine, pool
engine = create_engine(os.environ["BENCH_URL"], poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
PY
printf '[alembic]\nscript_location = %s\n' "$W/alembic" >"$W/alembic.ini"
t0=$(now)
CFLAGS="-O1" "$D" build >/dev/null || exit 1
echo "delembic build of $N migrations: $(elapsed "$t0")s (2 cores)"
t0=$(now)
touch migrations/B0001.c
CFLAGS="-O1" "$D" build >/dev/null
echo "incremental build after touching one source: $(elapsed "$t0")s"
sync # let the build's files reach the disk before timing transactions that fsync

DBA=$(pg_newdb bench_alembic)
DBD=$(pg_newdb bench_delembic)
DBP=$(pg_newdb bench_psql)
psql -qAtX -d bench_alembic -c "CREATE TABLE bench_a (i int)"
psql -qAtX -d bench_delembic -c "CREATE TABLE bench_d (i int)"
psql -qAtX -d bench_psql -c "CREATE TABLE bench_p (i int)"

echo "== applying $N one-row migrations to an empty database (3 rounds, interleaved with the floor)"
# Alembic as its users run it: its scripts' bytecode cached by an earlier command
alembic -c "$W/alembic.ini" heads >/dev/null 2>&1
[ -d "$W/alembic/versions/__pycache__" ] || echo "(note: Alembic wrote no bytecode cache)"
t0=$(now)
BENCH_URL=$DBA alembic -c "$W/alembic.ini" upgrade head >/dev/null 2>&1 || { echo "alembic failed"; exit 1; }
t_alembic_apply=$(elapsed "$t0")
for i in $(seq 1 "$N"); do echo "BEGIN; INSERT INTO bench_p VALUES ($i); COMMIT;"; done >"$W/floor.sql"
# the same floor plus the two rows every migration must also write (its version
# row and its history row), in one statement: what the records cost by themselves
psql -qAtX -d bench_psql -c "CREATE TABLE v (revision text PRIMARY KEY, applied_at timestamptz, status text, execution_time_seconds double precision, checksum text); CREATE TABLE h (id serial PRIMARY KEY, revision text, started_at timestamptz, ended_at timestamptz, duration_seconds double precision, status text, exception text, username text, hostname text, checksum text)"
for i in $(seq 1 "$N"); do
    echo "BEGIN; INSERT INTO bench_p VALUES ($i); WITH x AS (INSERT INTO v VALUES ('B$i', now(), 'success', 0.001, repeat('a', 64)) ON CONFLICT (revision) DO NOTHING RETURNING 1) INSERT INTO h (revision, started_at, ended_at, duration_seconds, status, username, hostname, checksum) SELECT 'B$i', now(), now(), 0.001, 'success', 'u', 'h', repeat('a', 64) FROM x; COMMIT;"
done >"$W/floor_records.sql"
ratios=()
sync
for round in 1 2 3; do
    DBD=$(pg_newdb bench_delembic)
    psql -qAtX -d bench_delembic -c "CREATE TABLE bench_d (i int)"
    psql -qAtX -d bench_psql -c "TRUNCATE bench_p"
    t0=$(now)
    /usr/bin/time -f %M -o "$W/mem_apply" "$D" --database "$DBD" -q upgrade head || { echo "delembic failed"; exit 1; }
    t_d=$(elapsed "$t0")
    t0=$(now)
    psql -qAtX -d bench_psql -f "$W/floor.sql" >/dev/null
    t_f=$(elapsed "$t0")
    psql -qAtX -d bench_psql -c "TRUNCATE bench_p, v, h"
    t0=$(now)
    psql -qAtX -d bench_psql -f "$W/floor_records.sql" >/dev/null
    t_fr=$(elapsed "$t0")
    echo "round $round: delembic upgrade head ${t_d}s, psql floor ${t_f}s (ratio $(ratio "$t_d" "$t_f")), psql floor with the two records ${t_fr}s (ratio $(ratio "$t_d" "$t_fr"))"
    ratios+=("$(ratio "$t_d" "$t_f") $t_d $t_f $t_fr")
done
read -r r_med t_delembic_apply t_floor t_floor_rec < <(printf '%s\n' "${ratios[@]}" | sort -n | sed -n 2p)
echo "alembic upgrade head (transaction_per_migration):  ${t_alembic_apply}s"
echo "delembic upgrade head (median round):              ${t_delembic_apply}s"
echo "psql, $N x BEGIN; INSERT; COMMIT; (the floor):    ${t_floor}s"
echo "psql, the same with each transaction also writing a version and a history row: ${t_floor_rec}s"
echo "RATIO delembic / floor = $r_med  (median of 3 rounds; target <= 1.5)"
echo "RATIO delembic / floor with the records = $(ratio "$t_delembic_apply" "$t_floor_rec")"
echo "RATIO alembic / delembic = $(ratio "$t_alembic_apply" "$t_delembic_apply")  (delembic is that many times faster)"

echo "== no-op upgrade head with $N applied (median of $REPEAT)"
t_alembic_noop=$(REPEAT=3 median_of env BENCH_URL="$DBA" alembic -c "$W/alembic.ini" upgrade head)
t_delembic_noop=$(median_of "$D" --database "$DBD" upgrade head)
t_connect=$(median_of psql -qAtX -d bench_delembic -c "SELECT 1")
/usr/bin/time -f %M -o "$W/mem_noop" "$D" --database "$DBD" -q upgrade head
echo "alembic no-op:  ${t_alembic_noop}s"
echo "delembic no-op: ${t_delembic_noop}s   (psql connect + one query: ${t_connect}s)"
echo "RATIO alembic / delembic (no-op) = $(ratio "$t_alembic_noop" "$t_delembic_noop")  (target >= 30)"
echo "peak RSS of the delembic host, $N plugins in the bundle: no-op $(cat "$W/mem_noop") KiB, applying all $(cat "$W/mem_apply") KiB (host process; each worker is a separate process)"

echo "== COPY of a $ROWS-row OMOP CONCEPT-shaped TSV"
mkdir -p "$W/copy/migrations/data"
awk -v n="$ROWS" 'BEGIN { OFS = "\t"; print "concept_id", "concept_name", "domain_id", "vocabulary_id", "concept_class_id", "standard_concept", "concept_code", "valid_start_date", "valid_end_date", "invalid_reason";
  for (i = 1; i <= n; i++) print i, "Concept name number " i " [Mass/volume] in Serum or Plasma", "Measurement", "LOINC", "Lab Test", "S", "C" i, "19700101", "20991231", "" }' \
  >"$W/copy/migrations/data/CONCEPT.csv"
cat >"$W/copy/delembic.yaml" <<YAML
delembic:
  script_location: migrations
  build_dir: build/bundle
YAML
cat >"$W/copy/migrations/C001.c" <<'C'
#include <delembic/plugin.h>
static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_copy_file(ctx, conn, "concept", "data/CONCEPT.csv", &DM_COPY_TSV_HEADER, NULL);
}
DM_MIGRATION(.revision = "C001", .description = "copy concept", .upgrade = upgrade);
C
(cd "$W/copy" && "$D" build >/dev/null) || exit 1
DBC=$(pg_newdb bench_copy)
schema="CREATE TABLE concept (concept_id bigint, concept_name text, domain_id text, vocabulary_id text, concept_class_id text, standard_concept text, concept_code text, valid_start_date date, valid_end_date date, invalid_reason text)"
psql -qAtX -d bench_copy -c "$schema"
best_psql=999999; best_del=999999
for round in 1 2 3; do
    psql -qAtX -d bench_copy -c "TRUNCATE concept" -c "CHECKPOINT"
    t0=$(now)
    psql -qAtX -d bench_copy -c "\\copy concept FROM '$W/copy/migrations/data/CONCEPT.csv' WITH (FORMAT csv, HEADER true, DELIMITER E'\\t')" >/dev/null
    t=$(elapsed "$t0"); best_psql=$(awk -v a="$best_psql" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
    PGOPTIONS="-c client_min_messages=warning" psql -qAtX -d bench_copy -c "TRUNCATE concept" -c "DROP TABLE IF EXISTS delembic_version, delembic_run_history" -c "CHECKPOINT"
    t0=$(now)
    (cd "$W/copy" && "$D" --database "$DBC" -q upgrade head) || exit 1
    t=$(elapsed "$t0"); best_del=$(awk -v a="$best_del" -v b="$t" 'BEGIN { print (b < a) ? b : a }')
done
rows=$(psql -qAtX -d bench_copy -c "SELECT count(*) FROM concept")
echo "psql \\copy:           ${best_psql}s  ($(awk -v r="$ROWS" -v t="$best_psql" 'BEGIN { printf "%d", r / t }') rows/s)"
echo "delembic dm_copy_file: ${best_del}s  ($(awk -v r="$ROWS" -v t="$best_del" 'BEGIN { printf "%d", r / t }') rows/s, $rows rows loaded)"
echo "RATIO delembic / psql rows per second = $(ratio "$best_psql" "$best_del")  (target >= 0.9)"

echo "== -j 8 against -j 1: 8 independent migrations that each wait 0.5 s"
mkdir -p "$W/par/migrations"
cat >"$W/par/delembic.yaml" <<YAML
delembic:
  script_location: migrations
  build_dir: build/bundle
YAML
for i in 1 2 3 4 5 6 7 8; do
    cat >"$W/par/migrations/P00$i.c" <<C
#include <delembic/plugin.h>
static int upgrade(PGconn *conn, dm_ctx *ctx) { return dm_exec(ctx, conn, "SELECT pg_sleep(0.5)"); }
DM_MIGRATION(.revision = "P00$i", .description = "wait", .upgrade = upgrade);
C
done
(cd "$W/par" && "$D" build >/dev/null) || exit 1
DBJ=$(pg_newdb bench_par)
t0=$(now); (cd "$W/par" && "$D" --database "$DBJ" -q upgrade head -j 1); t_j1=$(elapsed "$t0")
psql -qAtX -d bench_par -c "DROP TABLE delembic_version, delembic_run_history"
t0=$(now); (cd "$W/par" && "$D" --database "$DBJ" -q upgrade head -j 8); t_j8=$(elapsed "$t0")
echo "-j 1: ${t_j1}s   -j 8: ${t_j8}s"
echo "RATIO -j1 / -j8 = $(ratio "$t_j1" "$t_j8")  (target >= 4)"

echo
echo "== the history page at scale (tests/bench/see_bench.sh)"
bash "$ROOT/tests/bench/see_bench.sh"

echo
echo "== batched against one statement (tests/bench/batch_bench.sh)"
bash "$ROOT/tests/bench/batch_bench.sh"
