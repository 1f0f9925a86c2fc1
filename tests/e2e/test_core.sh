#!/bin/bash
# Issue 2: the executor's semantics, as SEED.md describes them.
source "$(dirname "$0")/lib.sh"

setup_log() {
    sql "CREATE TABLE t_log (rev text)"
}

test_apply_chain_history_and_noop() {
    new_project
    setup_log
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    mig T010 '"T002"' "INSERT INTO t_log VALUES ('T010')"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_out "Running T001: test migration T001"
    expect_out "  OK ("
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001,T002,T010"
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 3
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'success' AND username IS NOT NULL AND hostname IS NOT NULL AND ended_at >= started_at" 3
    run "$D" history
    expect_rc 0
    expect_out "applied  T010"
    run "$D" upgrade head
    expect_rc 0
    expect_out "Nothing to do"
    expect_sql "SELECT count(*) FROM t_log" 3
}

test_natural_order_of_independent_migrations() {
    new_project
    setup_log
    for r in D10 D2 D1 D100 D3; do mig $r '' "INSERT INTO t_log VALUES ('$r')"; done
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "D1,D2,D3,D10,D100"
}

test_failed_statement_rolls_back_and_records() {
    new_project
    setup_log
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002'); INSERT INTO no_such_table VALUES (1)"
    mig T003 '"T002"' "INSERT INTO t_log VALUES ('T003')"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "FAILED: statement failed"
    expect_out 'relation "no_such_table" does not exist'
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T002'" failed
    expect_sql "SELECT count(*) FROM delembic_version WHERE revision = 'T003'" 0
    expect_sql "SELECT exception LIKE '%no_such_table%' FROM delembic_run_history WHERE revision = 'T002'" t
}

test_retry_replaces_version_row_history_grows() {
    new_project
    setup_log
    sql "CREATE TABLE t_switch (fail boolean); INSERT INTO t_switch VALUES (true)"
    mig T001 '' "INSERT INTO t_log VALUES ('T001')" "SELECT NOT fail FROM t_switch"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "FAILED: validation failed: T001"
    expect_sql "SELECT count(*) FROM t_log" 0
    run "$D" upgrade head
    expect_rc 1
    sql "UPDATE t_switch SET fail = false"
    run "$D" upgrade head
    expect_rc 0
    expect_out "Running T001"
    expect_sql "SELECT count(*) || ':' || min(status) FROM delembic_version" "1:success"
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history" "failed,failed,success"
    expect_sql "SELECT count(*) FROM t_log" 1
}

test_validate_sees_uncommitted_work_on_same_connection() {
    new_project
    setup_log
    # validate passes only if it sees the row upgrade wrote, in the same transaction
    mig T001 '' "INSERT INTO t_log VALUES ('T001')" "SELECT count(*) = 1 AND txid_current_if_assigned() IS NOT NULL FROM t_log"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 1
}

test_validate_failure_rolls_back_upgrade_work() {
    new_project
    setup_log
    mig T001 '' "INSERT INTO t_log VALUES ('T001')" "SELECT false"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "FAILED: validation failed: T001"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version" failed
}

test_plugin_ignoring_a_failed_statement_fails() {
    new_project
    setup_log
    use_plugin ignore_error T001
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "a statement failed and the migration went on"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version" failed
}

test_plugin_committing_by_itself_is_rolled_back() {
    new_project
    setup_log
    use_plugin self_commit T001
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "ended the host's transaction"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version" failed
}

test_plugin_commit_then_begin_is_rolled_back() {
    new_project
    setup_log
    use_plugin commit_begin T001
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "ended the host's transaction"
    expect_sql "SELECT count(*) FROM t_log" 0
}

test_upgrade_rev_leaves_unrelated_pending() {
    new_project
    setup_log
    mig A1 '' "INSERT INTO t_log VALUES ('A1')"
    mig A2 '"A1"' "INSERT INTO t_log VALUES ('A2')"
    mig B1 '' "INSERT INTO t_log VALUES ('B1')"
    mig A3 '"A2"' "INSERT INTO t_log VALUES ('A3')"
    build_ok
    run "$D" upgrade A2
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "A1,A2"
    run "$D" history
    expect_out "pending  B1"
    expect_out "pending  A3"
    run "$D" upgrade NOPE
    expect_rc 2
    expect_out "unknown target revision 'NOPE'"
}

test_concurrent_upgrades_apply_each_once() {
    new_project
    sql "CREATE TABLE t_count (rev text)"
    for i in 1 2 3 4 5 6; do
        deps=''
        [ $i -gt 1 ] && deps="\"C$((i - 1))\""
        use_plugin counter C$i SLEEP=0.1 DEPS="$deps"
    done
    # DM_DEPS() with nothing is not valid C; the first has no deps
    sed -i 's/DM_DEPS()/DM_NO_DEPS/' migrations/C1.c
    build_ok
    "$D" upgrade head >"$P/out1" 2>&1 & p1=$!
    "$D" upgrade head >"$P/out2" 2>&1 & p2=$!
    wait $p1; r1=$?
    wait $p2; r2=$?
    [ $r1 = 0 ] && [ $r2 = 0 ] || fail "exit codes $r1 $r2: $(cat "$P/out1" "$P/out2")"
    expect_sql "SELECT count(*) || ':' || count(DISTINCT rev) FROM t_count" "6:6"
    expect_sql "SELECT count(*) FROM delembic_run_history" 6
}

test_lock_timeout_names_the_holder() {
    new_project
    mig T001 '' "SELECT 1"
    build_ok
    # the lock stays held for the whole test: the cleanup's DROP DATABASE ...
    # WITH (FORCE) ends the sleeping backend
    psql -d "$DB" -c "SELECT pg_advisory_lock(7234307559323232611); SELECT pg_sleep(600)" >/dev/null 2>&1 &
    holder=$!
    wait_for_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())" 1
    run "$D" upgrade head --lock-timeout 1
    kill $holder 2>/dev/null || true
    wait $holder 2>/dev/null || true
    expect_rc 3
    expect_out "another delembic run holds the lock"
    expect_out "psql"
}

test_adopts_python_delembic_tables() {
    new_project
    setup_log
    sql "CREATE TABLE delembic_version (revision text PRIMARY KEY, applied_at timestamptz, status text, execution_time_seconds double precision)"
    sql "CREATE TABLE delembic_run_history (id serial PRIMARY KEY, revision text, started_at timestamptz, ended_at timestamptz, duration_seconds double precision, status text, exception text, username text, hostname text)"
    sql "INSERT INTO delembic_version VALUES ('T001', now(), 'success', 0.5)"
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" history
    expect_out "applied  T001"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T002"
    expect_sql "SELECT checksum IS NULL FROM delembic_version WHERE revision = 'T001'" t
    expect_sql "SELECT length(checksum) FROM delembic_version WHERE revision = 'T002'" 64
}

test_config_sections_and_url_precedence() {
    new_project
    setup_log
    other=$(pg_newdb "${DB}_b")
    cat >>delembic.yaml <<YAML
silver:
  script_location: migrations
  build_dir: build/bundle
  database: $other
YAML
    mig T001 '' "CREATE TABLE IF NOT EXISTS t_here (x int)"
    build_ok
    run "$D" -n silver upgrade head
    expect_rc 0
    [ "$(psql -qAtX -d "${DB}_b" -c "SELECT count(*) FROM delembic_version")" = 1 ] || fail "silver not applied"
    expect_sql "SELECT to_regclass('delembic_version') IS NULL" t
    # the environment beats the section; --database beats both
    run env DELEMBIC_DATABASE_URL="$URL" "$D" -n silver current
    expect_out "0 of 1 applied"
    run env DELEMBIC_DATABASE_URL="postgresql:///nope?host=$PGHOST" "$D" --database "$URL" current
    expect_rc 0
    # SQLAlchemy URLs are accepted; passwords never shown
    run "$D" --database "postgresql+psycopg2://bob:s3cret@127.0.0.1:1/x" current
    expect_rc 2
    expect_out "bob:***@"
    expect_no_out "s3cret"
    run "$D" -n nosuch current
    expect_rc 2
    expect_out "no section 'nosuch'"
    psql -qAtX -d postgres -c "DROP DATABASE \"${DB}_b\" WITH (FORCE)" >/dev/null
}

test_walks_up_to_find_config() {
    new_project
    setup_log
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    build_ok
    mkdir -p deep/er/still
    cd deep/er/still
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 1
}

run_tests
