#!/bin/bash
# Issue 12, watching a long run: history, show and --json of a batched
# migration under way or paused (rows done, total, batches, batch size, time
# left), the live progress line's percent, rate and time left, and the COPY
# helper's progress from its file's size.
source "$(dirname "$0")/lib.sh"

COPY_ROWS=200000      # rows of the COPY test's file (about 4 MB)
COPY_SLOW_EVERY=200   # the table's trigger sleeps at every this many rows,
COPY_SLOW_SLEEP=0.002 # this long: the COPY lasts a few seconds, long enough for a pace

copy_project() {
    new_project
    sql "CREATE TABLE t_copy (id int, name text, note text)"
    sql "CREATE FUNCTION slow_copy() RETURNS trigger LANGUAGE plpgsql AS
         \$\$ BEGIN IF NEW.id % $COPY_SLOW_EVERY = 0 THEN PERFORM pg_sleep($COPY_SLOW_SLEEP); END IF; RETURN NEW; END \$\$"
    sql "CREATE TRIGGER slow_copy BEFORE INSERT ON t_copy FOR EACH ROW EXECUTE FUNCTION slow_copy()"
    mkdir -p migrations/data
    awk -v n="$COPY_ROWS" 'BEGIN { print "id,name,note"; for (i = 1; i <= n; i++) print i ",name" i ",note" }' \
        >migrations/data/big.csv
    use_plugin copy_load C001 FILE=big.csv DELIM=, NULL=
    build_ok
}

# the COPY helper reports bytes of the file's size: so a percent, and once
# its pace is known, a rate and the time left; the count of rows at the end
test_copy_progress_has_percent_rate_and_time_left_from_the_file_size() {
    copy_project
    DELEMBIC_PROGRESS_SECONDS=0.01 run_bounded "$D" upgrade head
    expect_rc 0
    grep -qE '^  C001: [0-9.]+ [kM]B of [0-9.]+ MB \([0-9]+%\)' <<<"$OUT" || fail "no percent of the file: $OUT"
    grep -qE 'MB of [0-9.]+ MB \([0-9]+%\), [0-9.]+ [kM]B/s, about [0-9]+ s left' <<<"$OUT" ||
        fail "no rate and time left: $OUT"
    expect_out "C001: $COPY_ROWS of $COPY_ROWS rows (100%)"
    expect_out "copied $COPY_ROWS rows"
}

test_copy_progress_on_a_terminal_is_one_live_line_with_percent_and_time_left() {
    copy_project
    OUT=$(script -qec "$D upgrade head" /dev/null)
    grep -q $'\r' <<<"$OUT" || fail "no live progress line: $OUT"
    grep -qE 'about [0-9]+ s left' <<<"$OUT" || fail "no time left on the live line: $OUT"
    expect_out "OK ("
}

# ---- batched migrations under way ---------------------------------------

BATCH_ROWS=30000      # rows of t
BATCH_MAX=100         # batch_max: many short batches
BATCH_SLEEP=0.005     # each batch's UPDATE sleeps this long (a trigger): the run lasts a few seconds
RUNNING_BATCH_PAUSE=100ms # the running test's batch_pause: 300 batches last half a minute

batched_project() {
    new_project
    sql "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)"
    sql "INSERT INTO t (id) SELECT generate_series(1, $BATCH_ROWS)"
    sql "ANALYZE t" # the planner's count: dm_batch_update's total
    sql "CREATE FUNCTION slow_batch() RETURNS trigger LANGUAGE plpgsql AS
         \$\$ BEGIN PERFORM pg_sleep($BATCH_SLEEP); RETURN NULL; END \$\$"
    sql "CREATE TRIGGER slow_batch AFTER UPDATE ON t FOR EACH STATEMENT EXECUTE FUNCTION slow_batch()"
    printf '  batch_max: %s\n' "$BATCH_MAX" >>delembic.yaml
    use_plugin batched_kill_update K001
    build_ok
}

rows_done() { sql "SELECT sum(n) FROM t"; }

# start upgrade in the background (HOST), wait until it committed a batch
start_batched_run() {
    setsid "$D" upgrade head >"$P/run.out" 2>&1 &
    HOST=$!
    wait_for '[ "$(rows_done)" -gt 0 ]' || fail "no batch committed: $(cat "$P/run.out")"
}

# SIGTERM: the run pauses
pause_batched_run() {
    kill -TERM "$HOST"
    wait "$HOST" && RC=0 || RC=$?
    [ "$RC" = 143 ] || fail "exit $RC after SIGTERM, wanted 143: $(cat "$P/run.out")"
}

# check_progress_json FILE STATE ROWS: the progress object of K001 in a
# history (or show) document
check_progress_json() {
    python3 - "$@" <<'PY' || fail "progress in $1: $(cat "$1")"
import json, sys
doc = json.load(open(sys.argv[1]))
state, rows, total = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
m = doc if doc["command"] == "show" else [m for m in doc["migrations"] if m["revision"] == "K001"][0]
p = m["progress"]
assert m["status"] == state, m
assert p["mode"] == "batched" and p["state"] == state, p
assert p["rows_done"] == rows and p["total"] == total, p
assert p["batches"] >= 1 and p["batch_size"] >= 1, p
assert 0 < p["percent"] < 100, p
assert p["rows_per_second"] > 0 and p["seconds_left"] > 0, p
assert p["started_at"] and p["updated_at"], p
assert ("cursor" in p) == (doc["command"] == "show"), p
PY
}

test_batched_history_and_show_of_a_paused_migration() {
    batched_project
    start_batched_run
    pause_batched_run
    local done batches
    done=$(rows_done)
    batches=$(sql "SELECT batches FROM delembic_checkpoint")
    run "$D" history
    expect_rc 0
    grep -qE "^paused +K001 " <<<"$OUT" || fail "no paused line: $OUT"
    expect_out "$done of $BATCH_ROWS rows ("
    expect_out "in $batches batches, batch size "
    grep -qE 'rows/s, about [0-9]+ (s|min) left; paused at ' <<<"$OUT" || fail "no pace or time left: $OUT"
    "$D" --json history >"$P/h.json"
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/h.json" 0 || fail "not one strict JSON document"
    check_progress_json "$P/h.json" paused "$done" "$BATCH_ROWS"
    run "$D" show K001
    expect_rc 0
    expect_out "Status:       paused (paused at "
    expect_out "Progress:     $done of $BATCH_ROWS rows"
    expect_out "Cursor:       $(sql "SELECT cursor FROM delembic_checkpoint")"
    "$D" --json show K001 >"$P/s.json"
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/s.json" 0 || fail "not one strict JSON document"
    check_progress_json "$P/s.json" paused "$done" "$BATCH_ROWS"
    # resumed and done: applied, and no progress left to show
    run_bounded "$D" upgrade head
    expect_rc 0
    run "$D" history
    grep -qE "^applied +K001 " <<<"$OUT" || fail "not applied: $OUT"
    expect_no_out "rows/s"
    "$D" --json history >"$P/h.json"
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/h.json" 0 || fail "not one strict JSON document"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["migrations"][0]["progress"] is None, d' \
        "$P/h.json" || fail "progress after success: $(cat "$P/h.json")"
}

test_batched_history_while_running_then_interrupted() {
    batched_project
    # a pause between batches: the run lasts while history looks (under valgrind too)
    printf '  batch_pause: %s\n' "$RUNNING_BATCH_PAUSE" >>delembic.yaml
    start_batched_run
    run "$D" history
    expect_rc 0
    grep -qE "^running +K001 " <<<"$OUT" || fail "no running line: $OUT"
    expect_out " of $BATCH_ROWS rows ("
    "$D" --json history >"$P/h.json"
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/h.json" 0 || fail "not one strict JSON document"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); p=d["migrations"][0]["progress"]; assert p["state"] == "running" and p["rows_done"] > 0, p' \
        "$P/h.json" || fail "running progress: $(cat "$P/h.json")"
    # killed: no run holds the lock, the checkpoint stays: interrupted
    kill -KILL -- "-$HOST"
    wait "$HOST" 2>/dev/null || true
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
        AND application_name LIKE 'delembic%'" 0
    run "$D" history
    grep -qE "^interrupted +K001 " <<<"$OUT" || fail "no interrupted line: $OUT"
    expect_out "$(rows_done) of $BATCH_ROWS rows ("
    run "$D" show K001
    expect_out "Status:       interrupted (interrupted at "
}

test_batched_live_progress_line_has_percent_rate_and_time_left() {
    batched_project
    OUT=$(script -qec "$D upgrade head" /dev/null)
    grep -q $'\r' <<<"$OUT" || fail "no live progress line: $OUT"
    grep -qE "K001: [0-9]+ of $BATCH_ROWS rows \([0-9]+%\), [0-9]+ rows/s, about [0-9]+ s left" <<<"$OUT" ||
        fail "no percent, rate and time left: $OUT"
    expect_out "OK ("
    expect_sql "SELECT count(*) FROM t WHERE n <> 1" 0
}

run_tests
