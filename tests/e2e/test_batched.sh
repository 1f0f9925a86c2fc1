#!/bin/bash
# Issue 12: batched migrations (DM_BATCHED: each batch its own transaction,
# committed with its checkpoint; resumable, paced, throttled) and
# non-transactional ones (DM_NO_TRANSACTION).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_batched.sh"

# batched_steps: a hand-written batch callback over t that logs each batch
steps_project() {
    new_project
    int_table "$1"
    sql "CREATE TABLE batch_log (k serial, size bigint, cursor text);
         CREATE TABLE batch_sleep (s float8); INSERT INTO batch_sleep VALUES (${2:-0})"
    use_plugin batched_steps T001 TABLE=t
}

test_batched_advance_twice_in_one_call_fails() {
    new_project
    int_table 10
    cat >migrations/T001.c <<'C'
#include <delembic/plugin.h>
static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    (void)conn;
    if (dm_batch_advance(ctx, b, "5", 5) != 0)
        return -1;
    return dm_batch_advance(ctx, b, "10", 5);
}
DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "twice", .mode = DM_BATCHED, .batch = batch);
C
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "dm_batch_advance called twice in one call"
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_batched_estimate_passed_becomes_an_unknown_total() {
    # the total is an estimate: once the work passes it, no percent stuck at 100
    new_project
    int_table 10
    cat >migrations/T001.c <<'C'
#include <stdio.h>
#include <delembic/plugin.h>
static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    (void)conn;
    const char *c = dm_batch_cursor(b);
    int at = c ? atoi(c) : 0;
    if (at >= 20)
        return dm_fail(ctx, "stop here");
    if (!c && dm_batch_total(ctx, b, 5) != 0)
        return -1;
    char next[16];
    snprintf(next, sizeof next, "%d", at + 10);
    return dm_batch_advance(ctx, b, next, 10);
}
DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "passes its estimate", .mode = DM_BATCHED, .batch = batch);
C
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT rows_done, total IS NULL FROM delembic_checkpoint" "20|t"
    run "$D" history
    expect_out "20 rows in 2 batches"
    expect_no_out "(100%)"
}

test_batched_update_that_changes_its_key_fails_instead_of_looping() {
    # a SET list that moves rows past the cursor would page over them for ever
    new_project
    int_table 1000
    batch_setting batch_max 100
    bmig T001 t id "id = id + 100000, n = n + 1" NULL "true"
    build_ok
    run_bounded "$D" upgrade head
    expect_rc 1
    expect_out "the SET list changed the key column id of 100 row(s)"
    expect_sql "SELECT count(*) FROM t WHERE n <> 0" 0
    expect_sql "SELECT max(id) FROM t" 1000
}

test_batched_update_backfills_every_row_once_in_several_batches() {
    new_project
    int_table 5000
    batch_setting batch_max 700
    bmig T001 t id "n = n + 1" NULL "NOT EXISTS (SELECT 1 FROM t WHERE n <> 1)"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_out "OK ("
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 5000
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" success
    expect_sql "SELECT string_agg(status, ',') FROM delembic_run_history WHERE revision = 'T001'" success
    # the success record took the checkpoint with it
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    # several transactions: each batch its own (xmin differs between batches)
    local n
    n=$(sql "SELECT count(DISTINCT xmin::text) FROM t")
    [ "$n" -ge 8 ] || fail "only $n transactions updated t (batch_max 700 over 5000 rows)"
}

test_batched_update_pages_text_keys_in_key_order() {
    new_project
    sql "CREATE TABLE s (code text PRIMARY KEY, v int);
         INSERT INTO s SELECT 'k' || g, NULL FROM generate_series(1, 3000) g"
    batch_setting batch_max 250
    bmig T001 s code "v = length(code)" '"v IS NULL"' "NOT EXISTS (SELECT 1 FROM s WHERE v IS NULL)"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM s WHERE v = length(code)" 3000
    expect_sql "SELECT count(DISTINCT xmin::text) >= 12 FROM s" t
}

test_batched_update_only_touches_rows_of_its_filter() {
    new_project
    int_table 2000
    sql "UPDATE t SET n = 5 WHERE id % 2 = 0"
    batch_setting batch_max 300
    bmig T001 t id "n = 1" '"n = 0"' "true"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 1000
    expect_sql "SELECT count(*) FROM t WHERE n = 5" 1000
}

test_batched_failure_keeps_committed_batches_and_resume_does_each_row_once() {
    new_project
    int_table 3000
    # rows above 2000 refuse the update while the flag is there
    sql "CREATE TABLE flag (x int); INSERT INTO flag VALUES (1);
         CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS \$\$
         BEGIN IF NEW.id > 2000 AND EXISTS (SELECT 1 FROM flag) THEN RAISE EXCEPTION 'refused %', NEW.id; END IF;
         RETURN NEW; END \$\$;
         CREATE TRIGGER refuse BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION refuse()"
    batch_setting batch_min 100
    batch_setting batch_max 100
    bmig T001 t id "n = n + 1" NULL "NOT EXISTS (SELECT 1 FROM t WHERE n <> 1)"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "refused 2001"
    # the 20 batches before it committed, each with its checkpoint
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 2000
    expect_sql "SELECT count(*) FROM t WHERE n = 0" 1000
    expect_sql "SELECT mode, cursor, rows_done, batches, state FROM delembic_checkpoint" "batched|2000|2000|20|running"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    sql "DELETE FROM flag"
    run "$D" upgrade head
    expect_rc 0
    expect_out "resuming from its checkpoint: 2000 rows in 20 batches done"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 3000
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" success
}

test_batched_validate_runs_once_after_the_last_batch() {
    new_project
    int_table 1000
    batch_setting batch_max 200
    # validate fails until the flag table exists: all batches stay committed
    bmig T001 t id "n = n + 1" NULL "to_regclass('ok_now') IS NOT NULL"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "validation failed"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 1000
    expect_sql "SELECT rows_done FROM delembic_checkpoint" 1000
    sql "CREATE TABLE ok_now ()"
    run "$D" upgrade head
    expect_rc 0
    # nothing updated twice: the resumed run found no row after the cursor
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 1000
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_batched_that_neither_advances_nor_finishes_fails() {
    new_project
    cat >migrations/T001.c <<'C'
#include <delembic/plugin.h>
static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b) { (void)conn; (void)ctx; (void)b; return 0; }
DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "stuck", .mode = DM_BATCHED, .batch = batch);
C
    build_ok
    run_bounded "$D" upgrade head
    expect_rc 1
    expect_out "without calling dm_batch_advance or dm_batch_finish"
}

test_batched_plugin_with_upgrade_is_refused_naming_the_field() {
    new_project
    cat >migrations/T001.c <<'C'
#include <delembic/plugin.h>
static int up(PGconn *conn, dm_ctx *ctx) { (void)conn; (void)ctx; return 0; }
static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b) { return dm_batch_finish(ctx, b) + 0 * (conn != NULL); }
DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "both", .mode = DM_BATCHED,
             .upgrade = up, .batch = batch);
C
    run "$D" build
    expect_rc 2
    expect_out "leave .upgrade unset"
}

test_batched_progress_reports_rows_of_the_estimated_total() {
    new_project
    int_table 4000
    batch_setting batch_max 500
    bmig T001 t id "n = n + 1" NULL true
    build_ok
    # not a terminal: plain progress lines, here as often as they come
    run env DELEMBIC_PROGRESS_SECONDS=0.001 "$D" upgrade head
    expect_rc 0
    # the planner's estimate (the table was analyzed) is the total; the last line is all of it
    expect_out "T001: 4000 of 4000 rows"
}

test_batched_size_adapts_toward_the_target() {
    steps_project 20000
    batch_setting batch_target 0.2s
    batch_setting batch_min 10
    batch_setting batch_max 100000
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 20000
    # fast batches: each at most twice the one before, and they grew
    expect_sql "SELECT size FROM batch_log ORDER BY k LIMIT 1" 1000
    expect_sql "SELECT bool_and(size <= 2 * prev) FROM (SELECT size, lag(size) OVER (ORDER BY k) prev FROM batch_log) x WHERE prev IS NOT NULL" t
    expect_sql "SELECT max(size) > 1000 FROM batch_log" t
}

test_batched_size_stays_within_min_and_max() {
    steps_project 3000
    batch_setting batch_min 150
    batch_setting batch_max 400
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT min(size), max(size) FROM batch_log" "400|400"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 3000
}

test_batched_slow_batches_shrink_toward_the_target() {
    steps_project 1900 0.3
    batch_setting batch_target 0.1s
    batch_setting batch_min 50
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(size::text, ',' ORDER BY k) FROM (SELECT * FROM batch_log ORDER BY k LIMIT 4) x" "1000,500,250,125"
}

test_batched_pause_sleeps_between_batches() {
    steps_project 400
    batch_setting batch_min 100
    batch_setting batch_max 100
    batch_setting batch_pause 300ms
    build_ok
    local t0=$SECONDS
    run "$D" upgrade head
    expect_rc 0
    # 5 calls (the last finds nothing): 4 pauses of 0.3 s at least
    expect_sql "SELECT count(*) FROM batch_log" 5
    expect_sql "SELECT extract(epoch FROM max(ended_at) - min(started_at)) >= 1.2 FROM delembic_run_history" t
}

test_batched_invalid_batch_setting_names_the_field() {
    new_project
    batch_setting batch_target soon
    mig T001 '' "SELECT 1"
    run "$D" upgrade head
    expect_rc 2
    expect_out "field 'batch_target' must be a duration"
    [ "$(grep -c . <<<"$OUT")" = 1 ] || fail "more than one line: $OUT"
}

test_batched_min_above_batch_max_names_the_field() {
    new_project
    batch_setting batch_min 500
    batch_setting batch_max 100
    mig T001 '' "SELECT 1"
    run "$D" upgrade head
    expect_rc 2
    expect_out "field 'batch_min' (500) is more than batch_max (100)"
}

test_batched_zero_batch_lock_timeout_names_the_field() {
    new_project
    batch_setting batch_lock_timeout 0
    mig T001 '' "SELECT 1"
    run "$D" upgrade head
    expect_rc 2
    expect_out "field 'batch_lock_timeout' must be more than zero"
}

# a session that holds row ROW of t locked for SECONDS, in the background;
# returns once it holds it
hold_row_lock() {
    psql -qAtX -d "$DB" -c "BEGIN" -c "UPDATE t SET n = n WHERE id = $1" -c "SELECT pg_sleep($2)" -c "COMMIT" >/dev/null 2>&1 &
    HOLDER=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep($2)%' AND state = 'active' AND pid <> pg_backend_pid()" 1
}

test_batched_lock_timeout_rolls_back_and_retries_with_backoff() {
    steps_project 2000
    batch_setting batch_min 500
    batch_setting batch_max 500
    batch_setting batch_lock_timeout 100ms
    build_ok
    hold_row_lock 1200 60
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$! rc
    # batch 3 meets the lock, is rolled back and waits; then the lock goes
    wait_for 'grep -qs "retry 1 of 5" "$P/out"' || fail "$(cat "$P/out")"
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
    wait $HOLDER || true
    wait $pid && rc=0 || rc=$?
    [ "$rc" = 0 ] || fail "exit $rc: $(cat "$P/out")"
    grep -qF "batch 3 timed out on a lock (batch_lock_timeout 0.1 s); rolled back, retry 1 of 5 in 0.2 s" "$P/out" ||
        fail "$(cat "$P/out")"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 2000
}

test_batched_lock_timeout_fails_after_its_retries_keeping_the_checkpoint() {
    steps_project 2000
    batch_setting batch_min 500
    batch_setting batch_max 500
    batch_setting batch_lock_timeout 100ms
    build_ok
    hold_row_lock 1200 60
    run "$D" upgrade head
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND pid <> pg_backend_pid()" >/dev/null
    wait $HOLDER || true
    expect_rc 1
    expect_out "batch 3 timed out on a lock (batch_lock_timeout 0.1 s) 6 times in a row (BATCH_LOCK_RETRIES 5)"
    expect_sql "SELECT rows_done, batches FROM delembic_checkpoint" "1000|2"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 1000
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 2000
}

# SIGNAL EXIT_CODE: stop a batched run between batches; it pauses; the next resumes
pause_case() {
    steps_project 50000 0.3
    batch_setting batch_min 1000
    batch_setting batch_max 1000
    build_ok
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$!
    wait_for_sql "SELECT batches >= 3 FROM delembic_checkpoint" t || fail "$(cat "$P/out")"
    local t0=$EPOCHREALTIME rc
    kill -"$1" $pid
    wait $pid && rc=0 || rc=$?
    local took
    took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')
    [ "$rc" = "$2" ] || fail "exit $rc, wanted $2: $(cat "$P/out")"
    awk -v t="$took" 'BEGIN { exit !(t < 2) }' || fail "took ${took}s to stop"
    grep -q "PAUSED: paused after" "$P/out" || fail "no PAUSED line: $(cat "$P/out")"
    expect_sql "SELECT status FROM delembic_run_history WHERE revision = 'T001'" paused
    expect_sql "SELECT count(*) FROM delembic_version" 0
    expect_sql "SELECT state FROM delembic_checkpoint" paused
    # the batch in flight was rolled back: exactly the checkpoint's rows are done
    expect_sql "SELECT count(*) = (SELECT rows_done FROM delembic_checkpoint) FROM t WHERE n = 1" t
    expect_sql "SELECT count(*) FROM t WHERE n > 1" 0
    sql "UPDATE batch_sleep SET s = 0"
    run "$D" upgrade head
    expect_rc 0
    expect_out "resuming from its checkpoint"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 50000
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history" "paused,success"
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_batched_sigterm_pauses_and_the_next_upgrade_resumes() { pause_case TERM 143; }
test_batched_sigint_pauses_and_the_next_upgrade_resumes() { pause_case INT 130; }

test_batched_past_its_timeout_pauses_resumably() {
    steps_project 20000 0.3
    batch_setting batch_min 1000
    batch_setting batch_max 1000
    batch_setting timeout 1s
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "PAUSED: timed out after 1 s; paused after"
    expect_sql "SELECT status FROM delembic_run_history" paused
    expect_sql "SELECT count(*) = (SELECT rows_done FROM delembic_checkpoint) FROM t WHERE n = 1" t
    sql "UPDATE batch_sleep SET s = 0"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 20000
}

test_batched_dependents_start_after_its_validate_committed_with_jobs() {
    new_project
    int_table 6000
    sql "CREATE TABLE seen (left_over bigint, at timestamptz DEFAULT clock_timestamp())"
    batch_setting batch_max 500
    # 12 batches with pauses: T001 takes over a second, however loaded the
    # machine, so T003 (in the same wave) starts while it runs
    batch_setting batch_pause 0.1s
    bmig T001 t id "n = n + 1" NULL "NOT EXISTS (SELECT 1 FROM t WHERE n <> 1)"
    mig T002 '"T001"' "INSERT INTO seen (left_over) SELECT count(*) FROM t WHERE n = 0"
    mig T003 '' "SELECT pg_sleep(0.5)"
    build_ok
    run "$D" upgrade head -j 2
    expect_rc 0
    expect_sql "SELECT left_over FROM seen" 0
    local h="delembic_run_history WHERE status = 'success' AND revision"
    expect_sql "SELECT (SELECT started_at FROM $h = 'T002') >= (SELECT ended_at FROM $h = 'T001')" t
    # T003 ran beside the batches
    expect_sql "SELECT (SELECT started_at FROM $h = 'T003') < (SELECT ended_at FROM $h = 'T001')" t
}

test_batched_plugin_that_commits_inside_a_batch_is_stopped() {
    new_project
    int_table 100
    cat >migrations/T001.c <<'C'
#include <delembic/plugin.h>
static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    if (dm_exec(ctx, conn, "UPDATE t SET n = n + 1; COMMIT") != 0)
        return -1;
    return dm_batch_finish(ctx, b);
}
DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "commits", .mode = DM_BATCHED, .batch = batch);
C
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "may not COMMIT"
    expect_sql "SELECT count(*) FROM t WHERE n = 0" 100
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

# ---- DM_NO_TRANSACTION ------------------------------------------------------

notx_project() {
    new_project
    int_table 20000
    sql "CREATE TABLE notx_sleep (s float8)"
    use_plugin batched_notx T001
}

test_no_transaction_create_index_concurrently_is_recorded() {
    notx_project
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_n_idx'::regclass" t
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" success
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    # as a transactional migration the same statement is refused by the server
    new_project
    mig T001 '' "CREATE INDEX CONCURRENTLY IF NOT EXISTS x ON delembic_version (status)"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "cannot run inside a transaction block"
}

test_no_transaction_claim_is_committed_before_its_upgrade_runs() {
    notx_project
    sql "INSERT INTO notx_sleep VALUES (60)"
    build_ok
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$!
    wait_for_sql "SELECT mode || ':' || state FROM delembic_checkpoint" "no_transaction:running" || fail "$(cat "$P/out")"
    # stopped there: upgrade's statement is cancelled, the failure recorded, the claim gone
    kill -TERM $pid
    local rc
    wait $pid && rc=0 || rc=$?
    [ "$rc" = 143 ] || fail "exit $rc: $(cat "$P/out")"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_no_transaction_killed_midway_is_recorded_interrupted_and_runs_again() {
    notx_project
    build_ok
    # a writer still open: CREATE INDEX CONCURRENTLY makes its invalid index, then waits for it
    psql -qAtX -d "$DB" -c "BEGIN" -c "UPDATE t SET n = n WHERE id = 1" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
    local writer=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(60)%' AND state = 'active' AND pid <> pg_backend_pid()" 1
    setsid "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CREATE INDEX CONCURRENTLY%' AND wait_event_type = 'Lock'" 1 ||
        fail "$(cat "$P/out")"
    # the host and its worker die at once; so does the worker's server session
    { kill -9 -- -$pid; wait $pid; } 2>/dev/null || true
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE (query LIKE 'CREATE INDEX CONCURRENTLY%' OR query LIKE '%pg_sleep(60)%') AND pid <> pg_backend_pid()" >/dev/null
    wait $writer || true
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" 0
    expect_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_n_idx'::regclass" f
    expect_sql "SELECT mode, state FROM delembic_checkpoint" "no_transaction|running"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history" "interrupted,success"
    expect_sql "SELECT exception FROM delembic_run_history WHERE status = 'interrupted'" \
        "the run ended while this non-transactional migration ran (a crash or a kill); it runs again, from the start"
    expect_sql "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_n_idx'::regclass" t
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_no_transaction_failure_is_recorded_failed_and_runs_again() {
    notx_project
    sql "ALTER TABLE t RENAME TO t_away"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out 'relation "t" does not exist'
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    sql "ALTER TABLE t_away RENAME TO t"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history" "failed,success"
}

# ---- max_replication_lag, against a real streaming replica -----------------

# start_replica: a streaming replica of the test cluster (pg_basebackup as the
# postgres user, unix socket only), its socket folder in $REPLICA; it reports
# to the primary every second
start_replica() {
    temp_dir REPLICA
    [ "$(id -u)" != 0 ] || chown postgres: "$REPLICA"
    _pg_as "$PGBIN/pg_basebackup" -h "$PGTMP" -U postgres -D "$REPLICA/data" -R -X stream -c fast >"$REPLICA/basebackup.log" 2>&1 ||
        fail "pg_basebackup: $(cat "$REPLICA/basebackup.log")" || return 1
    _pg_as "$PGBIN/pg_ctl" -D "$REPLICA/data" -l "$REPLICA/server.log" -w \
        -o "-k $REPLICA -c listen_addresses= -c wal_receiver_status_interval=1s -c shared_buffers=32MB -c max_connections=200" start >/dev/null ||
        fail "the replica did not start: $(cat "$REPLICA/server.log")" || return 1
    wait_for_sql "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'" 1
}

stop_replica() {
    [ -n "${REPLICA:-}" ] && _pg_as "$PGBIN/pg_ctl" -D "$REPLICA/data" -m immediate -w stop >/dev/null 2>&1
    REPLICA=
}

replica_sql() {
    psql -qAtX -v ON_ERROR_STOP=1 -h "$REPLICA" -d postgres -c "$1"
}

test_batched_waits_while_a_replica_lags_then_goes_on() {
    trap 'stop_replica; cleanup_project' EXIT
    new_project
    int_table 3000
    batch_setting batch_max 500
    batch_setting max_replication_lag 1s
    bmig T001 t id "n = n + 1" NULL "NOT EXISTS (SELECT 1 FROM t WHERE n <> 1)"
    build_ok
    start_replica
    # replay paused on the replica, WAL written on the primary: its replay lag grows
    replica_sql "SELECT pg_wal_replay_pause()" >/dev/null
    sql "CREATE TABLE wal_maker AS SELECT g FROM generate_series(1, 1000) g"
    wait_for_sql "SELECT coalesce(max(extract(epoch FROM replay_lag)), 0) > 1.5 FROM pg_stat_replication" t
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$!
    wait_for 'grep -qs "waiting: replica lag" "$P/out"' || fail "$(cat "$P/out")"
    # it waits before its first batch: nothing is done yet
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 0
    grep -qE "T001: waiting: replica lag [0-9.]+ s > 1 s \(max_replication_lag\)" "$P/out" || fail "$(cat "$P/out")"
    replica_sql "SELECT pg_wal_replay_resume()" >/dev/null
    local rc
    wait $pid && rc=0 || rc=$?
    [ "$rc" = 0 ] || fail "exit $rc: $(cat "$P/out")"
    grep -q "going on" "$P/out" || fail "$(cat "$P/out")"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 3000
    # the replica has it all
    wait_for '[ "$(psql -qAtX -h "$REPLICA" -d "$DB" -c "SELECT count(*) FROM t WHERE n = 1")" = 3000 ]'
}

run_tests
