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

run_tests
