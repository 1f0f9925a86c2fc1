#!/bin/bash
# Issue 12, the proofs: a batched migration commits each batch exactly once,
# together with its checkpoint, whatever instant the host (or its whole
# process group) is killed at; SIGTERM pauses it within 2 s and the next
# upgrade resumes it; a DM_NO_TRANSACTION migration (CREATE INDEX
# CONCURRENTLY) is recorded, and one killed half way runs again cleanly.
source "$(dirname "$0")/lib.sh"

KILL_ROWS=60000        # rows of t: enough batches of KILL_BATCH_MAX for every kill
TERM_ROWS=20000        # rows of t for the SIGTERM test (one pause)
KILL_BATCH_MAX=100     # batch_max: many batches, each one short
KILL_BATCH_SLEEP=0.005 # each batch's UPDATE sleeps this long inside its transaction (a trigger), so
                       # that the random instants fall inside batch transactions as often as between
KILL_COUNT=10          # kills during one batched run
KILL_WITHIN_MS=250     # each kill falls at a random instant within this after the run committed a batch
TERM_EXIT_LIMIT_S=2    # the issue's bound on SIGTERM's exit
[ -z "${VALGRIND:-}" ] || TERM_EXIT_LIMIT_S=20 # every process runs many times slower under valgrind

# a project with t (ROWS rows, default KILL_ROWS, n = 0) and K001: n + 1 on
# every row, in batches of at most KILL_BATCH_MAX
batched_project() {
    ROWS=${1:-$KILL_ROWS}
    new_project
    sql "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)"
    sql "INSERT INTO t (id) SELECT generate_series(1, $ROWS)"
    sql "CREATE FUNCTION slow_batch() RETURNS trigger LANGUAGE plpgsql AS
         \$\$ BEGIN PERFORM pg_sleep($KILL_BATCH_SLEEP); RETURN NULL; END \$\$"
    sql "CREATE TRIGGER slow_batch AFTER UPDATE ON t FOR EACH STATEMENT EXECUTE FUNCTION slow_batch()"
    printf '  batch_max: %s\n' "$KILL_BATCH_MAX" >>delembic.yaml
    use_plugin batched_kill_update K001
    build_ok
}

# rows whose n went up so far (each by one, when all is well)
rows_done() { sql "SELECT sum(n) FROM t"; }

# alive PID: the process exists and is not a zombie
alive() {
    local s
    s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ "$s" != Z* ]]
}

# a random instant within KILL_WITHIN_MS, as sleep takes it
random_instant() { printf '0.%03d' $((RANDOM % KILL_WITHIN_MS)); }

# wait until the run started as PID committed a batch past BEFORE rows (or
# ended: then fail with its output in FILE)
wait_for_progress() {
    local pid=$1 before=$2 file=$3
    wait_for '[ "$(rows_done)" -gt "$before" ] || ! alive "$pid"' || return 1
    alive "$pid" || fail "the run ended before it could be killed: $(cat "$file")"
}

# no session of delembic left in the database (a killed host's worker ends
# when it finds its parent gone)
wait_for_no_delembic() {
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
        AND application_name LIKE 'delembic%'" 0 || fail "delembic sessions outlived the run"
}

# what must hold after any kill: every row's n is 0 or 1, and the
# checkpoint's rows_done is exactly the rows done (they commit together)
expect_exactly_once_so_far() {
    expect_sql "SELECT count(*) FROM t WHERE n NOT IN (0, 1)" 0
    expect_sql "SELECT rows_done = (SELECT sum(n) FROM t) FROM delembic_checkpoint WHERE revision = 'K001'" t
}

expect_all_done_once() {
    expect_sql "SELECT count(*) FROM t" "$ROWS"
    expect_sql "SELECT count(*) FROM t WHERE n <> 1" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'K001'" success
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

# KILL_COUNT times: start upgrade (a resume after the first), wait for a
# batch of its own, kill -9 the host (host) or its process group (group) at a
# random instant; then one last upgrade finishes the migration. host and
# group wait for the killed run's sessions to end before the next; at_once
# kills the host and starts the next run at once, while the orphaned worker
# may still be in a batch.
kill_case() {
    local target=$1 i before host
    batched_project
    for i in $(seq 1 "$KILL_COUNT"); do
        before=$(rows_done)
        setsid "$D" upgrade head >"$P/out.$i" 2>&1 &
        host=$!
        wait_for_progress "$host" "$before" "$P/out.$i" || return 1
        sleep "$(random_instant)"
        if [ "$target" = group ]; then kill -KILL -- "-$host"; else kill -KILL "$host"; fi
        wait "$host" 2>/dev/null || true
        [ -z "${KILL_DEBUG:-}" ] || echo "kill $i: $(rows_done) rows at the kill" >&2
        if [ "$target" != at_once ]; then
            wait_for_no_delembic || return 1
            [ -z "${KILL_DEBUG:-}" ] || echo "kill $i: $(rows_done) rows when its sessions were gone" >&2
        fi
        [ "$(rows_done)" -lt "$KILL_ROWS" ] ||
            fail "the run finished before kill $i of $KILL_COUNT: make KILL_ROWS bigger" || return 1
        expect_exactly_once_so_far || return 1
    done
    run_bounded "$D" upgrade head
    expect_rc 0
    expect_all_done_once
}

test_batched_host_killed_at_ten_instants_applies_each_row_once() { kill_case host; }
test_batched_process_group_killed_at_ten_instants_applies_each_row_once() { kill_case group; }
test_batched_host_killed_and_resumed_at_once_applies_each_row_once() { kill_case at_once; }

test_batched_sigterm_pauses_within_2s_and_the_next_upgrade_resumes() {
    batched_project "$TERM_ROWS"
    setsid "$D" upgrade head >"$P/out" 2>&1 &
    local host=$! rc took
    wait_for_progress "$host" 0 "$P/out" || return 1
    local t0=$EPOCHREALTIME
    kill -TERM "$host"
    wait "$host" && rc=0 || rc=$?
    took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    [ "$rc" = 143 ] || fail "exit $rc, wanted 143: $(cat "$P/out")"
    awk -v t="$took" -v l="$TERM_EXIT_LIMIT_S" 'BEGIN { exit !(t <= l) }' ||
        fail "took ${took}s to stop after SIGTERM (limit ${TERM_EXIT_LIMIT_S}s)"
    expect_sql "SELECT state FROM delembic_checkpoint WHERE revision = 'K001'" paused
    expect_sql "SELECT status FROM delembic_run_history WHERE revision = 'K001' ORDER BY id DESC LIMIT 1" paused
    expect_exactly_once_so_far
    local paused_at
    paused_at=$(rows_done)
    [ "$paused_at" -lt "$ROWS" ] || fail "finished before SIGTERM; make TERM_ROWS bigger"
    wait_for_no_delembic
    run_bounded "$D" upgrade head
    expect_rc 0
    expect_all_done_once
    # it went on from the checkpoint: no batch before the pause ran again
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE revision = 'K001' AND status = 'success'" 1
}

# ---- DM_NO_TRANSACTION ---------------------------------------------------

cic_project() {
    new_project
    sql "CREATE TABLE t (id int PRIMARY KEY, n int NOT NULL DEFAULT 0)"
    sql "INSERT INTO t (id, n) SELECT g, g % 100 FROM generate_series(1, 1000) g"
    use_plugin batched_kill_cic N001
    build_ok
}

# CREATE INDEX CONCURRENTLY waits for a lock (the writer)
cic_waits() {
    [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%'
        AND wait_event_type = 'Lock'")" = 1 ]
}

expect_index_valid() {
    expect_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_n_idx')" t
}

test_batched_no_transaction_create_index_concurrently_is_applied_and_recorded() {
    cic_project
    run_bounded "$D" upgrade head
    expect_rc 0
    expect_index_valid
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'N001'" success
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history WHERE revision = 'N001'" success
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    run_bounded "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE revision = 'N001'" 1
}

# the host (or its process group) killed while CREATE INDEX CONCURRENTLY
# waits for a writer: the index is left invalid, the checkpoint says running;
# the next upgrade records the interruption, runs it again, and the index is
# valid at the end
cic_kill_case() {
    local target=$1
    cic_project
    # a writer the index build waits for, after it committed its invalid index
    PGAPPNAME=cic_blocker psql -qAtX -d "$DB" -c "BEGIN; UPDATE t SET n = n WHERE id = 1; SELECT pg_sleep(600)" \
        >/dev/null 2>&1 &
    local blocker=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cic_blocker' AND wait_event = 'PgSleep'" 1
    setsid "$D" upgrade head >"$P/out" 2>&1 &
    local host=$!
    wait_for 'cic_waits || ! alive "$host"' && alive "$host" ||
        { fail "the index build never waited: $(cat "$P/out")"; return 1; }
    expect_sql "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_n_idx') AND NOT indisvalid" 1
    if [ "$target" = group ]; then kill -KILL -- "-$host"; else kill -KILL "$host"; fi
    wait "$host" 2>/dev/null || true
    # the build's own session waits on: the server ends it (as an operator,
    # or a restart, would), then the writer ends
    sql "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
         WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND pid <> pg_backend_pid()" >/dev/null
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'cic_blocker'" >/dev/null
    wait "$blocker" 2>/dev/null || true
    wait_for_no_delembic
    expect_sql "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_n_idx') AND NOT indisvalid" 1
    expect_sql "SELECT mode || ':' || state FROM delembic_checkpoint WHERE revision = 'N001'" no_transaction:running
    run_bounded "$D" upgrade head
    expect_rc 0
    expect_out "dropping the invalid index"
    expect_index_valid
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'N001'" success
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history WHERE revision = 'N001'" \
        interrupted,success
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_batched_no_transaction_host_killed_during_create_index_reruns_clean() { cic_kill_case host; }
test_batched_no_transaction_group_killed_during_create_index_reruns_clean() { cic_kill_case group; }

run_tests
