#!/bin/bash
# Issue 6: isolated workers, crashes, cancellation, -j, exactly-once under
# kill -9 and concurrent runs, plans, JSON and progress.
source "$(dirname "$0")/lib.sh"

log_project() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    sql "CREATE TABLE t_count (rev text, started timestamptz DEFAULT clock_timestamp())"
}

# counter plugin: REV DEPS(C list) SLEEP. SLEEP is how long the migration
# runs (pg_sleep before its row): the overlaps and orders the -j and kill -9
# tests look at are made of it, so it is the behaviour under test, not a wait.
cmig() {
    use_plugin counter "$1" DEPS="$2" SLEEP="${3:-0}"
    [ -n "$2" ] || sed -i 's/DM_DEPS()/DM_NO_DEPS/' "migrations/$1.c"
}

crash_case() {
    local mode=$1 want=$2
    log_project
    use_plugin crash T001 MODE="$mode"
    mig T002 '' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "FAILED: $want"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT exception FROM delembic_run_history WHERE revision = 'T001'" "$want"
    expect_sql "SELECT count(*) FROM delembic_version WHERE revision = 'T002'" 0
    expect_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" 0
}

test_segfault_is_recorded_and_host_lives() { crash_case segv "T001 crashed: SIGSEGV"; }
test_abort_is_recorded() { crash_case abort "T001 crashed: SIGABRT"; }
test_exit_is_recorded() { crash_case exit "T001 crashed: the worker exited with status 3 (a migration must return, not exit)"; }

test_statement_timeout_stops_a_hang() {
    log_project
    printf '  statement_timeout: 1s\n' >>delembic.yaml
    use_plugin crash T001 MODE=hang
    build_ok
    local t0=$SECONDS
    run "$D" upgrade head
    expect_rc 1
    expect_out "canceling statement due to statement timeout"
    [ $((SECONDS - t0)) -lt 10 ] || fail "took $((SECONDS - t0))s"
    expect_sql "SELECT count(*) FROM t_log" 0
}

interrupt_case() {
    local mode=$1 sig=$2 code=$3
    log_project
    use_plugin crash T001 MODE="$mode"
    build_ok
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$!
    # wait until the migration is running: its long statement, or (spin) its
    # C loop after its INSERT
    local running="query LIKE '%pg_sleep(600)%' AND state = 'active'"
    [ "$mode" = spin ] && running="query LIKE 'INSERT INTO t_log%' AND state = 'idle in transaction'"
    wait_for_sql "SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid() AND $running" 1 ||
        fail "the migration never ran: $(cat "$P/out")"
    local t0=$EPOCHREALTIME
    kill -"$sig" $pid
    wait $pid && rc=0 || rc=$?
    local took
    took=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { print int(b - a) }')
    [ "$rc" = "$code" ] || fail "exit $rc, wanted $code: $(cat "$P/out")"
    [ "$took" -le 5 ] || fail "took ${took}s to stop"
    grep -q "Interrupted" "$P/out" || fail "no interruption line: $(cat "$P/out")"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT exception LIKE '%interrupted%' FROM delembic_run_history WHERE revision = 'T001'" t
    expect_sql "SELECT count(*) FROM t_log" 0
    # the worker's connection ends (its backend goes a moment after the host)
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()" 0
}

test_sigterm_cancels_a_long_statement() { interrupt_case hang TERM 143; }
test_sigint_cancels_a_long_statement() { interrupt_case hang INT 130; }
test_sigterm_stops_a_plugin_spinning_in_c() { interrupt_case spin TERM 143; }

test_jobs_respect_a_diamond() {
    log_project
    cmig A '' 0.3
    cmig B '"A"' 2
    cmig C '"A"' 2
    cmig D '"B", "C"' 0.1
    build_ok
    run "$D" upgrade head --dry-run -j 4
    expect_rc 0
    expect_out "wave 2  B"
    expect_out "wave 3  D"
    run "$D" upgrade head -j 4
    expect_rc 0
    expect_out "Running B"
    expect_out "B OK ("
    # from the history (each run's own start and end): B and C overlapped, D
    # started after both ended, B and C after A ended
    local h="delembic_run_history WHERE status = 'success' AND revision"
    expect_sql "SELECT (SELECT started_at FROM $h = 'B') < (SELECT ended_at FROM $h = 'C') AND (SELECT started_at FROM $h = 'C') < (SELECT ended_at FROM $h = 'B')" t
    expect_sql "SELECT (SELECT started_at FROM $h = 'D') > (SELECT max(ended_at) FROM $h IN ('B', 'C'))" t
    expect_sql "SELECT (SELECT ended_at FROM $h = 'A') < (SELECT min(started_at) FROM $h IN ('B', 'C'))" t
}

test_jobs_keep_a_chain_in_order() {
    log_project
    cmig A '' 0.05
    cmig B '"A"' 0.05
    cmig C '"B"' 0.05
    build_ok
    run "$D" upgrade head -j 3
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY started) FROM t_count" "A,B,C"
}

test_jobs_stop_cleanly_after_a_failure() {
    log_project
    cmig A '' 1.0
    # B fails 0.2 s in, while A still runs (the scenario, not a wait)
    mig B '' "SELECT pg_sleep(0.2); INSERT INTO no_such_table VALUES (1)"
    cmig C '' 0
    cmig E '"A"' 0
    build_ok
    run "$D" upgrade head -j 2
    expect_rc 1
    expect_out "B FAILED"
    # A was running: it finishes and is recorded; nothing new started
    expect_sql "SELECT string_agg(revision || '=' || status, ',' ORDER BY revision) FROM delembic_version" "A=success,B=failed"
    expect_sql "SELECT count(*) FROM t_count WHERE rev IN ('C', 'E')" 0
}

test_eight_concurrent_runs_apply_each_once() {
    log_project
    for i in $(seq 1 12); do
        deps=''
        [ $((i % 3)) != 1 ] && deps="\"M$((i - 1))\""
        cmig M$i "$deps" 0.02
    done
    build_ok
    pids=()
    for k in $(seq 8); do
        "$D" upgrade head -j 2 >"$P/run$k" 2>&1 &
        pids+=($!)
    done
    for k in "${!pids[@]}"; do
        wait "${pids[$k]}" || fail "run $k failed: $(cat "$P/run$((k + 1))")"
    done
    expect_sql "SELECT count(*) || ':' || count(DISTINCT rev) FROM t_count" "12:12"
    expect_sql "SELECT count(*) FROM delembic_run_history" 12
}

test_kill_9_at_random_instants_never_doubles() {
    log_project
    local n=36
    for i in $(seq 1 $n); do
        deps=''
        [ $((i % 4)) != 1 ] && deps="\"K$((i - 1))\""
        cmig K$i "$deps" 0.0$((RANDOM % 5 + 1))
    done
    build_ok
    # the kill lands at a random instant, 0.1 to 0.4 s in: the sleeps below
    # are that instant (the behaviour under test), not waits
    for round in $(seq 1 10); do
        if [ $((round % 2)) = 0 ]; then
            setsid "$D" upgrade head -j 2 >/dev/null 2>&1 &
            local pid=$!
            sleep "0.$((RANDOM % 4 + 1))"
            kill -9 -- -"$pid" 2>/dev/null || true   # the whole process group
        else
            "$D" upgrade head -j 2 >/dev/null 2>&1 &
            local pid=$!
            sleep "0.$((RANDOM % 4 + 1))"
            kill -9 "$pid" 2>/dev/null || true        # the host only: workers follow it
        fi
        wait "$pid" 2>/dev/null || true
    done
    run "$D" upgrade head -j 2
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_count" $n
    expect_sql "SELECT count(*) FROM (SELECT rev FROM t_count GROUP BY rev HAVING count(*) > 1) d" 0
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" $n
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'success'" $n
}

test_kill_9_of_a_worker_is_a_crash() {
    log_project
    use_plugin crash T001 MODE=hang
    build_ok
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$! w=""
    wait_for_sql "SELECT count(*) FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND query LIKE '%pg_sleep(600)%' AND state = 'active'" 1 ||
        fail "the migration never ran: $(cat "$P/out")"
    w=$(pgrep -P $pid | head -1) || true
    [ -n "$w" ] || fail "no worker process"
    kill -9 "$w"
    wait $pid && rc=0 || rc=$?
    [ "$rc" = 1 ] || fail "exit $rc: $(cat "$P/out")"
    grep -q "crashed: SIGKILL" "$P/out" || fail "$(cat "$P/out")"
    expect_sql "SELECT count(*) FROM t_log" 0
}

test_json_documents() {
    log_project
    cmig A '' 0
    cmig B '"A"' 0
    build_ok
    run "$D" --json upgrade head
    expect_rc 0
    /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_code"] == 0 and len(d["results"]) == 2, d' "$OUT" || fail "upgrade json: $OUT"
    for cmd in history current verify "upgrade --dry-run"; do
        run "$D" --json $cmd
        /usr/bin/python3 -c 'import json,sys; json.loads(sys.argv[1])' "$OUT" || fail "$cmd json: $OUT"
    done
    run "$D" --json upgrade NOPE
    expect_rc 2
    /usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["exit_code"] == 2 and "NOPE" in d["error"]' "$OUT" || fail "error json: $OUT"
}

test_progress_lines() {
    log_project
    sql "CREATE TABLE t_copy (id int, name text, note text)"
    mkdir -p migrations/data
    awk 'BEGIN { print "id,name,note"; for (i = 0; i < 300000; i++) print i ",name" i ",note" }' >migrations/data/big.csv
    use_plugin copy_load T001 FILE=big.csv DELIM=, NULL=
    build_ok
    DELEMBIC_PROGRESS_SECONDS=0 run "$D" upgrade head
    expect_rc 0
    expect_out "T001: "
    expect_out " rows"
    expect_out "copied 300000 rows"
    sql "DROP TABLE delembic_version, delembic_run_history; TRUNCATE t_copy"
    # on a terminal: one live line rewritten in place
    OUT=$(script -qec "$D upgrade head" /dev/null)
    grep -q $'\r' <<<"$OUT" || fail "no live progress line: $OUT"
}

run_tests
