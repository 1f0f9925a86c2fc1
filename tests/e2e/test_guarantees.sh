#!/bin/bash
# Issue "Guarantees that hold in the field": what a plugin does to its session
# (search_path, roles, forks, closing the connection, committing by itself,
# spinning in C) and what happens to the run lock cannot break exactly-once.
source "$(dirname "$0")/lib.sh"

log_project() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    sql "CREATE TABLE t_count (rev text, started timestamptz DEFAULT clock_timestamp())"
}

# counter plugin: REV DEPS(C list) SLEEP
cmig() {
    use_plugin counter "$1" DEPS="$2" SLEEP="${3:-0}"
    [ -n "$2" ] || sed -i 's/DM_DEPS()/DM_NO_DEPS/' "migrations/$1.c"
}

# a role of this test's own (roles are cluster-wide), dropped at the end
make_role() {
    ROLE="r_$DB"
    PGOPTIONS="-c client_min_messages=warning" psql -qAtX -d postgres -c "DROP ROLE IF EXISTS \"$ROLE\"" -c "CREATE ROLE \"$ROLE\" NOLOGIN" >/dev/null
}

drop_role() {
    sql "DROP OWNED BY \"$ROLE\""
    psql -qAtX -d postgres -c "DROP ROLE \"$ROLE\"" >/dev/null
}

no_backend_left() {
    local n=1
    for _ in $(seq 50); do
        n=$(sql "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        [ "$n" = 0 ] && return 0
        sleep 0.1
    done
    fail "$n backend(s) left in the database"
}

# ---- 6: the record ignores the plugin's search_path, temp objects and role

test_record_ignores_a_plugins_search_path() {
    log_project
    sql "CREATE SCHEMA cdm; CREATE TABLE cdm.t_log (rev text)"
    # decoys with the same shape as the real tables
    sql "CREATE TABLE cdm.delembic_version (revision text PRIMARY KEY, applied_at timestamptz, status text, execution_time_seconds double precision, checksum text)"
    sql "CREATE TABLE cdm.delembic_run_history (id serial PRIMARY KEY, revision text, started_at timestamptz, ended_at timestamptz, duration_seconds double precision, status text, exception text, username text, hostname text, checksum text)"
    mig T001 '' "SET LOCAL search_path = cdm; INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "SET search_path = cdm; INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM cdm.t_log" 2
    expect_sql "SELECT string_agg(revision || '=' || status, ',' ORDER BY revision) FROM public.delembic_version" "T001=success,T002=success"
    expect_sql "SELECT count(*) FROM public.delembic_run_history WHERE status = 'success'" 2
    expect_sql "SELECT count(*) FROM cdm.delembic_version" 0
    expect_sql "SELECT count(*) FROM cdm.delembic_run_history" 0
    run "$D" upgrade head
    expect_rc 0
    expect_out "Nothing to do"
}

test_record_ignores_temp_tables_and_function_overloads() {
    log_project
    # temp tables named like ours, and a to_timestamp overload first on the path
    mig T001 '' "CREATE TEMP TABLE delembic_version (revision text PRIMARY KEY, applied_at timestamptz, status text, execution_time_seconds double precision, checksum text) ON COMMIT DROP; CREATE TEMP TABLE delembic_run_history (id serial PRIMARY KEY, revision text, started_at timestamptz, ended_at timestamptz, duration_seconds double precision, status text, exception text, username text, hostname text, checksum text) ON COMMIT DROP; CREATE FUNCTION public.to_timestamp(double precision) RETURNS timestamptz LANGUAGE sql AS 'SELECT timestamptz ''1999-01-01 00:00:00+00'''; SET LOCAL search_path = public, pg_catalog; INSERT INTO t_log VALUES ('T001')"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT status, applied_at > '2020-01-01' FROM delembic_version" "success|t"
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'success' AND started_at > '2020-01-01'" 1
    run "$D" upgrade head
    expect_rc 0
    expect_out "Nothing to do"
    expect_sql "SELECT count(*) FROM t_log" 1
}

test_record_is_written_with_the_hosts_role() {
    log_project
    make_role
    sql "GRANT INSERT ON t_log TO \"$ROLE\""
    mig T001 '' "SET LOCAL ROLE $ROLE; INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "SET ROLE $ROLE; INSERT INTO t_log VALUES ('T002')"
    mig T003 '"T002"' "SET SESSION AUTHORIZATION $ROLE; INSERT INTO t_log VALUES ('T003')"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 3
    expect_sql "SELECT count(*) FROM t_log" 3
    drop_role
}

test_guard_cannot_be_captured_by_search_path() {
    log_project
    # a current_setting() that always says 'on', found before pg_catalog's
    sql "CREATE SCHEMA evil; CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql AS 'SELECT ''on''::text'"
    mig T001 '' "INSERT INTO t_log VALUES ('T001'); SET LOCAL search_path = evil, pg_catalog; COMMIT"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "a migration may not COMMIT"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version" failed
}

test_tables_live_in_version_table_schema() {
    log_project
    printf '  version_table_schema: DelOps\n' >>delembic.yaml
    mig T001 '' "SET LOCAL search_path = public; INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade T001
    expect_rc 0
    expect_sql "SELECT to_regclass('public.delembic_version') IS NULL AND to_regclass('public.delembic_run_history') IS NULL" t
    expect_sql "SELECT revision || '=' || status FROM \"DelOps\".delembic_version" "T001=success"
    expect_sql "SELECT count(*) FROM \"DelOps\".delembic_run_history" 1
    run "$D" history
    expect_rc 0
    expect_out "applied  T001"
    expect_out "pending  T002"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM \"DelOps\".delembic_version WHERE status = 'success'" 2
    run "$D" upgrade head
    expect_out "Nothing to do"
    printf '  version_table_schema: ""\n' >>delembic.yaml
    sed -i '/version_table_schema: DelOps/d' delembic.yaml
    run "$D" upgrade head
    expect_rc 2
    expect_out "version_table_schema"
}

# ---- 7: a forked child never comes back into the host

test_forked_plugin_child_never_returns_to_the_host() {
    log_project
    use_plugin evil_fork T001 MODE=return
    use_plugin evil_fork T002 MODE=insert
    use_plugin evil_fork T003 MODE=log
    sed -i 's/.description/.depends_on = DM_DEPS("T001"), .description/' migrations/T002.c
    sed -i 's/.description/.depends_on = DM_DEPS("T002"), .description/' migrations/T003.c
    build_ok
    run "$D" upgrade head
    expect_rc 0
    [ "$(grep -c '  OK (' <<<"$OUT")" = 3 ] || fail "wanted 3 OK lines: $OUT"
    expect_no_out "the child speaks"
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001-parent,T002-child,T002-parent,T003-parent"
    # every row committed in the transaction that recorded its migration's success
    expect_sql "SELECT count(*) FROM t_log l JOIN delembic_version v ON l.rev LIKE v.revision || '-%' AND l.xmin = v.xmin" 4
    expect_sql "SELECT string_agg(status, ',') FROM delembic_run_history" "success,success,success"
}

# ---- 8: each migration starts from a clean session

test_each_migration_starts_from_a_clean_session() {
    log_project
    make_role
    sql "GRANT pg_read_all_data, pg_write_all_data TO \"$ROLE\""
    sql "CREATE TABLE t_seen (what text); CREATE SEQUENCE s"
    mig T001 '' "LISTEN x; PREPARE p AS SELECT 1; CREATE TEMP TABLE t (x int); CREATE FUNCTION pg_temp.f() RETURNS int LANGUAGE sql AS 'SELECT 1'; SET search_path = pg_temp, public; SET work_mem = '77MB'; SELECT pg_advisory_lock(42); DECLARE c CURSOR WITH HOLD FOR SELECT 1; SELECT nextval('public.s'); SET ROLE $ROLE; INSERT INTO public.t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO public.t_seen SELECT concat_ws('|', (SELECT count(*) FROM pg_listening_channels()), (SELECT count(*) FROM pg_prepared_statements WHERE name = 'p'), to_regclass('pg_temp.t') IS NULL, to_regprocedure('pg_temp.f()') IS NULL, current_setting('work_mem'), current_setting('search_path'), current_user, (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'), (SELECT count(*) FROM pg_cursors)); PREPARE p AS SELECT 2; DO \$\$ BEGIN PERFORM currval('public.s'); INSERT INTO public.t_seen VALUES ('currval leaked'); EXCEPTION WHEN object_not_in_prerequisite_state THEN NULL; END \$\$"
    build_ok
    run "$D" upgrade head -j 1
    expect_rc 0
    expect_sql "SELECT string_agg(what, ',') FROM t_seen" '0|0|t|t|4MB|"$user", public|postgres|0|0'
    drop_role
}

# each leak on its own, seen by the next migration on the same worker
test_each_kind_of_session_leak_is_undone_on_its_own() {
    log_project
    make_role
    sql "CREATE TABLE t_seen (what text)"
    local seen="INSERT INTO public.t_seen SELECT concat_ws('|', (SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'p%'), (SELECT count(*) FROM pg_listening_channels()), (SELECT count(*) FROM pg_cursors), current_setting('work_mem'), session_user, current_user)"
    mig L1 '' "PREPARE p1 AS SELECT 1"
    use_plugin evil_prepare L2 DEPS='"L1"'
    mig L3 '"L2"' "$seen; DO \$\$ BEGIN EXECUTE 'PREPARE p3 AS SELECT 3'; END \$\$"
    mig L4 '"L3"' "$seen; LISTEN y"
    mig L5 '"L4"' "$seen; DECLARE c CURSOR WITH HOLD FOR SELECT 1"
    mig L6 '"L5"' "$seen; SET SESSION AUTHORIZATION $ROLE; SET work_mem = '77MB'"
    mig L7 '"L6"' "$seen"
    build_ok
    run "$D" upgrade head -j 1
    expect_rc 0
    # (L2 leaves p_proto: L3's line says whether p1 and p_proto are gone)
    expect_sql "SELECT count(*) FROM t_seen" 5
    expect_sql "SELECT count(DISTINCT what) FROM t_seen" 1
    expect_sql "SELECT min(what) FROM t_seen" "0|0|0|4MB|postgres|postgres"
    drop_role
}

test_temporary_objects_of_a_migration_are_gone_for_the_next() {
    log_project
    sql "CREATE TABLE t_seen (what text)"
    # only temporary objects this time (no prepared statement to give it away)
    mig T001 '' "CREATE TEMP TABLE t (x int); CREATE TEMP VIEW v AS SELECT 1 AS one; CREATE TABLE public.kept (x int)"
    mig T002 '"T001"' "INSERT INTO public.t_seen SELECT concat_ws('|', to_regclass('pg_temp.t') IS NULL, to_regclass('pg_temp.v') IS NULL, to_regclass('public.kept') IS NOT NULL)"
    build_ok
    run "$D" upgrade head -j 1
    expect_rc 0
    expect_sql "SELECT string_agg(what, ',') FROM t_seen" 't|t|t'
}

# ---- 9: a run that loses its lock stops; a second run completes alone

test_a_run_that_loses_its_lock_stops_and_a_second_run_completes() {
    log_project
    local n=6
    for i in $(seq 1 $n); do
        deps=''
        [ "$i" -gt 1 ] && deps="\"L$((i - 1))\""
        cmig L$i "$deps" 0.6
    done
    build_ok
    "$D" upgrade head >"$P/run1" 2>&1 &
    local pid1=$!
    for _ in $(seq 150); do
        [ "$(sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 2>/dev/null)" -ge 1 ] 2>/dev/null && break
        sleep 0.1
    done
    # a pooler, a failover or an operator ends the lock holder's session
    [ "$(sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'delembic upgrade pid=$pid1'")" = t ] ||
        fail "no lock session to terminate: $(cat "$P/run1")"
    run "$D" upgrade head
    local rc1=0
    wait $pid1 || rc1=$?
    expect_rc 0
    [ "$rc1" = 3 ] || fail "the first run exited $rc1: $(cat "$P/run1")"
    grep -q "lost the run lock" "$P/run1" || fail "no lost-lock line: $(cat "$P/run1")"
    expect_sql "SELECT count(*) || ':' || count(DISTINCT rev) FROM t_count" "$n:$n"
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" $n
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'success'" $n
    ! grep -q "already applied" "$P/run1" || fail "both runs ran a migration: $(cat "$P/run1")"
    expect_no_out "already applied"
    local oks=$(($(grep -c '  OK (' "$P/run1") + $(grep -c '  OK (' <<<"$OUT")))
    [ "$oks" = $n ] || fail "$oks OK lines for $n migrations: $(cat "$P/run1") $OUT"
}

test_fence_refuses_a_commit_after_the_lock_session_ended() {
    log_project
    cmig L1 '' 1.5
    build_ok
    "$D" upgrade head >"$P/run1" 2>&1 &
    local pid1=$!
    for _ in $(seq 100); do
        [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(1.5)%' AND pid <> pg_backend_pid()")" = 1 ] && break
        sleep 0.1
    done
    # the parent cannot react: only the migration's own transaction can tell
    kill -STOP $pid1
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'delembic upgrade pid=$pid1'" >/dev/null
    # and another run holds the run lock now
    psql -qAtX -d "$DB" -c "SELECT pg_advisory_lock(7234307559323232611), pg_sleep(30)" >/dev/null 2>&1 &
    local holder=$!
    for _ in $(seq 100); do
        [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic worker%' AND state = 'idle' AND query = 'ROLLBACK'")" = 1 ] && break
        sleep 0.1
    done
    kill -CONT $pid1
    local rc1=0
    wait $pid1 || rc1=$?
    kill $holder 2>/dev/null || true
    wait $holder 2>/dev/null || true
    [ "$rc1" = 3 ] || fail "exit $rc1: $(cat "$P/run1")"
    grep -q "FAILED: the run lost its lock" "$P/run1" || fail "$(cat "$P/run1")"
    expect_sql "SELECT count(*) FROM t_count" 0
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 0
}

# ---- 10: a wall-clock limit per migration

test_timeout_kills_a_plugin_spinning_in_c() {
    log_project
    use_plugin crash T001 MODE=spin
    build_ok
    local t0=$SECONDS
    run "$D" upgrade head --timeout 1
    expect_rc 1
    expect_out "timed out after 1 s"
    [ $((SECONDS - t0)) -le 8 ] || fail "took $((SECONDS - t0))s"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT exception LIKE '%timed out after 1 s%' FROM delembic_run_history WHERE revision = 'T001'" t
    expect_sql "SELECT count(*) FROM t_log" 0
    no_backend_left
}

test_timeout_from_the_section_stops_a_long_statement() {
    log_project
    printf '  timeout: 1500ms\n' >>delembic.yaml
    use_plugin crash T001 MODE=hang
    mig T002 '' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    local t0=$SECONDS
    run "$D" upgrade head
    expect_rc 1
    expect_out "timed out after 1.5 s"
    [ $((SECONDS - t0)) -le 8 ] || fail "took $((SECONDS - t0))s"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT count(*) FROM delembic_version WHERE revision = 'T002'" 0
    no_backend_left
    # a migration shorter than the limit is not touched
    run "$D" upgrade T002 --timeout 30
    expect_rc 0
}

test_timeout_values_are_checked() {
    log_project
    mig T001 '' "SELECT 1"
    build_ok
    run "$D" upgrade head --timeout soon
    expect_rc 2
    expect_out "--timeout"
    printf '  timeout: forever\n' >>delembic.yaml
    run "$D" upgrade head
    expect_rc 2
    expect_out "delembic.yaml:5:"
    expect_out "'timeout'"
}

# ---- 11: PQfinish on the host's connection is the plugin's fault

test_plugin_closing_the_hosts_connection_is_its_fault() {
    log_project
    use_plugin evil_pqfinish T001 MODE=host
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "FAILED: the migration closed the host's connection (PQfinish); its work was rolled back"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version" failed
    use_plugin evil_pqfinish T001 MODE=host_validate
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "closed the host's connection (PQfinish)"
    expect_sql "SELECT count(*) FROM t_log" 0
    no_backend_left
}

test_plugin_may_close_its_own_connection() {
    log_project
    use_plugin evil_pqfinish T001 MODE=own DB="$DB"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T001-own"
}

# ---- 12: work a migration committed by itself is never run again silently

self_commit_case() {
    local mode=$1
    log_project
    use_plugin evil_self_commit T001 MODE="$mode"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    mig T003 '' "INSERT INTO t_log VALUES ('T003')"
    build_ok
    run "$D" upgrade T001
    expect_rc 1
    expect_out "the migration committed by itself; its work up to that point is committed"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001-before"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT exception LIKE '%the migration committed by itself; its work up to that point is committed%' FROM delembic_run_history" t
    # not run again automatically, nor anything that depends on it
    run "$D" upgrade head
    expect_rc 1
    expect_out "T001"
    expect_out "delembic forget T001"
    expect_out "delembic stamp T001"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001-before"
    expect_sql "SELECT count(*) FROM delembic_run_history" 1
    run "$D" upgrade --dry-run
    expect_rc 1
    # an unrelated migration still runs when asked for by name
    run "$D" upgrade T003
    expect_rc 0
    no_backend_left
}

test_self_commit_leaving_no_transaction_is_held() { self_commit_case idle; }
test_self_commit_then_begin_is_held() { self_commit_case begin; }
test_self_commit_then_failure_is_held() { self_commit_case fail; }
test_self_commit_then_crash_is_held() { self_commit_case crash; }

# the host (or its whole process group) killed after the plugin's own COMMIT,
# before anyone could record it: the claim the transaction carried holds it
self_commit_killed_case() {
    local target=$1
    log_project
    use_plugin evil_self_commit T001 MODE=hang
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    setsid "$D" upgrade head >"$P/out" 2>&1 &
    local host=$!
    wait_for_sql "SELECT count(*) FROM t_log" 1
    if [ "$target" = group ]; then kill -KILL -- "-$host"; else kill -KILL "$host"; fi
    wait "$host" 2>/dev/null || true
    # the orphaned worker ends when its parent's socket closes
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic%'" 0
    run_bounded "$D" upgrade head # a second run of T001 would never end
    expect_rc 1
    expect_out "HELD: T001"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001-before"
    expect_sql "SELECT status || ':' || hold FROM delembic_version WHERE revision = 'T001'" "failed:committed by itself"
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE revision = 'T001' AND exception LIKE 'the migration committed by itself%ended before it could record this)'" 1
    expect_sql "SELECT count(*) FROM delembic_claim" 0
    # and again: still held, nothing run twice, no second history row
    run_bounded "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001-before"
    expect_sql "SELECT count(*) FROM delembic_run_history" 1
}

test_self_commit_then_host_killed_is_held() { self_commit_killed_case host; }
test_self_commit_then_process_group_killed_is_held() { self_commit_killed_case group; }

test_held_revision_accepted_by_sql_lets_dependents_run() {
    log_project
    use_plugin evil_self_commit T001 MODE=idle
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    # what the README says to do until 'delembic stamp' exists
    sql "UPDATE delembic_version SET status = 'success', hold = NULL WHERE revision = 'T001'"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001-before,T002"
}

# ---- the audit trail takes any bytes a plugin's message holds

test_failure_with_bytes_that_are_not_utf8_is_recorded() {
    log_project
    use_plugin evil_bytes T001
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "FAILED: bad bytes"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    expect_sql "SELECT exception = 'bad bytes ' || chr(65533) || ' here ' || chr(65533) || chr(65533) || ' end' FROM delembic_run_history WHERE revision = 'T001'" t
}

test_plugin_printing_to_stdout_leaves_the_json_document_whole() {
    log_project
    use_plugin evil_stdout T001
    build_ok
    "$D" --json upgrade head >"$P/out.json" 2>"$P/err.txt" || fail "exit $?: $(cat "$P/out.json" "$P/err.txt")"
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/out.json" 0 || fail "not one JSON document: $(cat "$P/out.json")"
    grep -q "plugin says hello on stdout" "$P/err.txt" || fail "the plugin's line is lost: $(cat "$P/err.txt")"
    expect_sql "SELECT count(*) FROM t_log" 1
    # verify loads it too (in a child): its constructor's lines go to stderr
    local cmd
    for cmd in verify "verify --offline"; do
        "$D" --json $cmd >"$P/out.json" 2>"$P/err.txt" || fail "$cmd: exit $?: $(cat "$P/out.json" "$P/err.txt")"
        python3 "$ROOT/tests/e2e/json_strict.py" "$P/out.json" 0 || fail "$cmd: not one JSON document: $(cat "$P/out.json")"
        grep -q "plugin writes to fd 1" "$P/err.txt" || fail "$cmd: the constructor's line is lost: $(cat "$P/err.txt")"
    done
}

# ==== issue 9 findings X1-X10: exactly once against plugins that leave the
# host's transaction, reset or close its connection, or change its session

# leave_case MODE: a migration that leaves the host's transaction (plugin
# evil_leave_txn), and a second one that depends on it
leave_case() {
    log_project
    use_plugin evil_leave_txn T001 MODE="$1"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade head
}

# the rows of t_log, in order
log_rows() { sql "SELECT coalesce(string_agg(rev, ',' ORDER BY rev), '') FROM t_log"; }

# X1: what a plugin runs after its COMMIT was refused cannot commit: outside
# the host's transaction the worker's session is read-only
test_batches_after_a_refused_commit_never_double_data() {
    leave_case batches
    expect_rc 1
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_out "FAILED: upgrade ended the host's transaction"
    expect_out "a migration may not COMMIT"
    expect_sql "SELECT status || ':' || coalesce(hold, 'none') FROM delembic_version WHERE revision = 'T001'" "failed:none"
    run "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT count(*) FROM t_log" 0
}

test_autocommit_after_a_rollback_commits_nothing() {
    leave_case autocommit
    expect_rc 1
    expect_out "ended the host's transaction"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT coalesce(hold, 'none') FROM delembic_version WHERE revision = 'T001'" none
}

test_chained_transaction_after_a_rollback_is_rolled_back() {
    leave_case chain
    expect_rc 1
    expect_out "ended the host's transaction"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT coalesce(hold, 'none') FROM delembic_version WHERE revision = 'T001'" none
}

test_refused_commit_alone_is_a_plain_failure() {
    leave_case refused
    expect_rc 1
    expect_out "a migration may not COMMIT"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT coalesce(hold, 'none') FROM delembic_version WHERE revision = 'T001'" none
    use_plugin evil_leave_txn T001 MODE=savepoint
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001-after,T001-host,T002"
}

test_savepoint_then_failure_is_a_plain_failure() {
    leave_case savepoint_fail
    expect_rc 1
    expect_out "FAILED: gave up"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT coalesce(hold, 'none') FROM delembic_version WHERE revision = 'T001'" none
}

# work that may have committed outside the host's transaction is held: the
# migration is not run again (nor what depends on it) until an operator acts
held_leave_case() {
    leave_case "$1"
    expect_rc 1
    expect_out "may have committed"
    local rows
    rows=$(log_rows)
    [ -n "$rows" ] || fail "nothing committed: $OUT"
    expect_sql "SELECT status || ':' || (hold IS NOT NULL)::text FROM delembic_version WHERE revision = 'T001'" "failed:true"
    expect_sql "SELECT exception LIKE '%may have committed%' FROM delembic_run_history WHERE revision = 'T001'" t
    run "$D" upgrade head
    expect_rc 1
    expect_out "HELD: T001"
    expect_sql "SELECT coalesce(string_agg(rev, ',' ORDER BY rev), '') FROM t_log" "$rows"
}

test_batches_in_read_write_transactions_are_held() {
    held_leave_case batches_rw
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001-b1,T001-b2"
}
test_autocommit_after_turning_read_write_on_is_held() { held_leave_case autocommit_rw; }
test_autocommit_after_set_config_is_held() { held_leave_case setconfig_rw; }
test_chained_transaction_committed_is_held() { held_leave_case chain_commit; }

# X2: PQreset on the host's connection: the new session is read-only like
# the worker's, so a retry commits nothing; work that may have committed in it
# anyway is held; the worker ends (its session changed under the parent)
test_reset_connection_then_retry_commits_nothing() {
    log_project
    use_plugin evil_reset T001 MODE=terminated
    mig T002 '' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade T001
    expect_rc 1
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_out "FAILED: the migration reset the host's connection (PQreset); its work was rolled back"
    expect_sql "SELECT coalesce(hold, 'none') FROM delembic_version WHERE revision = 'T001'" none
    run "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT count(*) FROM t_log" 0
    run "$D" upgrade T002
    expect_rc 0
    no_backend_left
}

test_reset_connection_then_read_write_retry_is_held() {
    log_project
    use_plugin evil_reset T001 MODE=terminated_rw
    mig T002 '' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade T001
    expect_rc 1
    expect_out "the migration reset the host's connection (PQreset)"
    expect_out "may have committed"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001-retry"
    expect_sql "SELECT (hold IS NOT NULL)::text FROM delembic_version WHERE revision = 'T001'" true
    run "$D" upgrade T001
    expect_rc 1
    expect_out "HELD: T001"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "T001-retry"
    run "$D" upgrade T002
    expect_rc 0
    no_backend_left
}

test_reset_of_a_healthy_connection_is_a_plain_failure() {
    log_project
    use_plugin evil_reset T001 MODE=healthy
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "the migration reset the host's connection (PQreset); its work was rolled back"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT coalesce(hold, 'none') FROM delembic_version" none
    no_backend_left
}

# X3: a PQfinish from a destructor (at dlclose, outside any callback) is
# refused, with a warning naming the revision; the migration succeeds
test_plugin_closing_the_connection_from_its_destructor_is_refused() {
    log_project
    use_plugin evil_pqfinish_dtor T001
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_out "T001: WARNING: its plugin called PQfinish on the host's connection"
    [ "$(grep -c '  OK (' <<<"$OUT")" = 2 ] || fail "wanted 2 OK lines: $OUT"
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T002"
    expect_sql "SELECT string_agg(status || ':' || coalesce(hold, 'none'), ',' ORDER BY revision) FROM delembic_version" "success:none,success:none"
}

# X4: a plugin's client_encoding never reaches the record (its text travels
# as hex, which every client encoding reads the same)
test_record_survives_a_plugins_client_encoding() {
    log_project
    mig 'D001_ロード' '' "SET client_encoding = SJIS; INSERT INTO t_log VALUES ('D001')"
    mig 'D002_ア' '"D001_ロード"' "SET client_encoding = BIG5; INSERT INTO t_log VALUES ('D002')"
    mig 'D003_ü' '"D002_ア"' "SET client_encoding = GBK; INSERT INTO t_log VALUES ('D003')"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(revision || '=' || status, ',' ORDER BY revision) FROM delembic_version" "D001_ロード=success,D002_ア=success,D003_ü=success"
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'success' AND username IS NOT NULL AND hostname IS NOT NULL" 3
    expect_sql "SELECT count(*) FROM t_log" 3
    run "$D" upgrade head
    expect_rc 0
    expect_out "Nothing to do"
}

# X5: DEALLOCATE or DISCARD in a migration: the host's prepared statements
# are made again before they are needed, for it and for the next one
test_deallocate_in_a_migration_leaves_the_host_working() {
    log_project
    mig T001 '' "DEALLOCATE ALL; INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "DEALLOCATE delembic_open; DEALLOCATE delembic_record; INSERT INTO t_log VALUES ('T002')"
    mig T003 '"T002"' "DISCARD SEQUENCES; INSERT INTO t_log VALUES ('T003')"
    mig T004 '"T003"' "DISCARD PLANS; DEALLOCATE delembic_temp; CREATE TABLE made_by_t004 (x int)"
    mig T005 '"T004"' "INSERT INTO t_log VALUES ('T005')"
    build_ok
    run "$D" upgrade head -j 1
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T002,T003,T005"
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 5
}

# X8: what a plugin or the server says goes through the same password
# redaction as delembic's own messages, in text, --json and the history
secret_case() {
    log_project
    use_plugin evil_secrets T001 MODE="$1" PW=S3cretPw
    build_ok
    local url="$URL&password=S3cretPw"
    run "$D" --database "$url" upgrade head
    expect_rc 1
    local text=$OUT
    "$D" --json --database "$url" upgrade head >"$P/out.json" 2>"$P/err.txt" || true
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/out.json" 1 || fail "not one JSON document: $(cat "$P/out.json")"
    local all
    all="$text $(cat "$P/out.json" "$P/err.txt") $(sql "SELECT string_agg(exception, ' ') FROM delembic_run_history")"
    ! grep -q "S3cretPw\|SrcPassw0rd" <<<"$all" || fail "a password is shown: $all"
    grep -q '\*\*\*' <<<"$all" || fail "nothing masked: $all"
}

test_passwords_in_plugin_messages_are_masked() {
    secret_case plugin
    expect_out "connecting with ***"
    expect_out "postgresql://etl:***@db.example/source"
    expect_out "FAILED: source database:"
}

test_passwords_in_server_errors_from_a_plugin_are_masked() {
    secret_case server
    expect_out 'invalid input syntax for type integer: "***"'
}

# X6: the host's own statements name pg_catalog's operators: a user's
# operator that matches their argument types exactly (pg_catalog has none
# for float8 * int4, int8 % int4, oid = regclass, text || bigint) is never
# chosen over them
test_user_operators_never_capture_the_hosts_statements() {
    log_project
    local op l o r fn
    for op in 'float8 * int4' 'int8 % int4' 'oid = regclass' 'text || bigint' 'oid = int4' 'text = text'; do
        read -r l o r <<<"$op"
        fn="evil_$(md5sum <<<"$op" | cut -c1-8)"
        sql "CREATE FUNCTION public.$fn(a $l, b $r) RETURNS boolean LANGUAGE plpgsql AS \$\$ BEGIN RAISE EXCEPTION USING MESSAGE = 'captured: $op'; END \$\$"
        sql "CREATE OPERATOR public.$o (LEFTARG = $l, RIGHTARG = $r, FUNCTION = public.$fn)"
    done
    mig T001 '' "CREATE TABLE made_by_t001 (x int); INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade head -j 1
    expect_rc 0
    expect_no_out "captured"
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 2
    run "$D" history
    expect_rc 0
    expect_no_out "captured"
}

# X7: the lock holder's role comes from the server: the waiting line and the
# error show it escaped (the server itself turns control characters in an
# application name into '?')
test_lock_holder_names_are_escaped() {
    log_project
    ROLE=$'mallory\e[2J'"_$DB"
    psql -qAtX -d postgres -c "DO \$\$ BEGIN EXECUTE format('CREATE ROLE %I LOGIN SUPERUSER', '$ROLE'); END \$\$" >/dev/null
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    build_ok
    PGUSER=$ROLE psql -qAtX -d "$DB" -c "SELECT pg_advisory_lock(7234307559323232611), pg_sleep(60)" >/dev/null 2>&1 &
    local holder=$!
    wait_for_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 1835166051" 1
    run "$D" upgrade head --lock-timeout 1
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '$ROLE'" >/dev/null
    wait $holder 2>/dev/null || true
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE usename = '$ROLE'" 0
    psql -qAtX -d postgres -c "DO \$\$ BEGIN EXECUTE format('DROP ROLE %I', '$ROLE'); END \$\$" >/dev/null
    expect_rc 3
    expect_out "Waiting for the delembic lock held by"
    expect_out 'user mallory\x1b[2J'
    ! grep -q $'\e' <<<"$OUT" || fail "a raw escape reached the terminal: $(od -c <<<"$OUT" | head)"
}

# X9: a HELD revision's dependents are named: marked in --dry-run, listed in
# the HELD line and in --json
test_dependents_of_a_held_revision_are_named() {
    log_project
    use_plugin evil_self_commit T001 MODE=idle
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    mig T003 '"T002"' "INSERT INTO t_log VALUES ('T003')"
    mig T004 '' "INSERT INTO t_log VALUES ('T004')"
    build_ok
    run "$D" upgrade T001
    expect_rc 1
    run "$D" upgrade head --dry-run
    expect_rc 1
    expect_out "T001: commits by itself (idle)  [HELD]"
    expect_out "T002: test migration T002  [after HELD T001]"
    expect_out "T003: test migration T003  [after HELD T001]"
    grep -q "T004: test migration T004$" <<<"$OUT" || fail "T004 is marked: $OUT"
    expect_out "T002, T003"
    run "$D" upgrade head
    expect_rc 1
    expect_out "HELD: T001"
    expect_out "T002, T003"
    "$D" --json upgrade head --dry-run >"$P/out.json" 2>/dev/null || true
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/out.json" 1 || fail "not one JSON document: $(cat "$P/out.json")"
    python3 - "$P/out.json" <<'PY' || fail "JSON: $(cat "$P/out.json")"
import json, sys
d = json.load(open(sys.argv[1]))
held = {h["revision"]: h for h in d["held"]}
assert held["T001"]["dependents"] == ["T002", "T003"], held
plan = {e["revision"]: e for e in d["plan"]}
assert plan["T002"]["after_held"] == "T001" and plan["T003"]["after_held"] == "T001", plan
assert "after_held" not in plan["T004"] and "after_held" not in plan["T001"], plan
PY
}

# X10: a build during a run swaps the bundle; the run keeps the one it
# started with (its code and its data/), and the next build removes it
test_build_during_a_run_leaves_the_run_its_bundle() {
    log_project
    sql "CREATE TABLE t_go (rev text)"
    use_plugin surface_wait L1
    use_plugin evil_swap_reader L2 DEPS='"L1"' TAG=old
    mkdir -p migrations/data
    echo old >migrations/data/v.txt
    build_ok
    "$D" upgrade head >"$P/run1" 2>&1 &
    local pid1=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%t_go%' AND pid <> pg_backend_pid()" 1
    use_plugin evil_swap_reader L2 DEPS='"L1"' TAG=new
    echo new >migrations/data/v.txt
    run "$D" build
    expect_rc 0
    sql "INSERT INTO t_go VALUES ('L1')"
    local rc1=0
    wait $pid1 || rc1=$?
    [ "$rc1" = 0 ] || fail "the run exited $rc1: $(cat "$P/run1")"
    ! grep -q "sha256" "$P/run1" || fail "the run saw the new bundle: $(cat "$P/run1")"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "L2-old:old"
    # the old bundle waited for the run beside the new one; the next build removes it
    ls -a build | grep -q '^\.bundle\.old-' || fail "no kept bundle: $(ls -a build)"
    run "$D" build
    expect_rc 0
    ! ls -a build | grep -q '^\.bundle\.old-' || fail "the kept bundle is still there: $(ls -a build)"
    # what ran is the old code: the new bundle's L2 shows as changed
    run "$D" upgrade head
    expect_rc 0
    expect_out "WARNING: L2 changed since it was applied"
}

# a bundle replaced by other means (rm and copy, rsync --delete, a build of
# an older delembic): the run goes on when what is there now is what it
# started with (each file is checked against its manifest), and stops naming
# the replacement otherwise
replaced_by_hand() {
    log_project
    sql "CREATE TABLE t_go (rev text)"
    use_plugin surface_wait L1
    use_plugin evil_swap_reader L2 DEPS='"L1"' TAG=old
    mkdir -p migrations/data
    echo old >migrations/data/v.txt
    build_ok
    cp -a build/bundle "$P/copy"
    if [ "$1" = other ]; then
        use_plugin evil_swap_reader L2 DEPS='"L1"' TAG=new
        run "$D" build -o "$P/other"
        expect_rc 0
        rm -rf "$P/copy"
        cp -a "$P/other" "$P/copy"
    fi
    "$D" upgrade head >"$P/run1" 2>&1 &
    local pid1=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%t_go%' AND pid <> pg_backend_pid()" 1
    rm -rf build/bundle
    cp -a "$P/copy" build/bundle
    sql "INSERT INTO t_go VALUES ('L1')"
    RC1=0
    wait $pid1 || RC1=$?
}

test_bundle_copied_again_during_a_run_runs_on() {
    replaced_by_hand same
    [ "$RC1" = 0 ] || fail "the run exited $RC1: $(cat "$P/run1")"
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "L2-old:old"
}

test_bundle_replaced_by_hand_during_a_run_is_named() {
    replaced_by_hand other
    [ "$RC1" = 2 ] || fail "the run exited $RC1: $(cat "$P/run1")"
    grep -q "the bundle was replaced or removed while this run used it" "$P/run1" || fail "$(cat "$P/run1")"
    expect_sql "SELECT count(*) FROM t_log" 0
}

run_tests
