#!/bin/bash
# Issue 10, the renovation: one output model (no printing in core/*.c),
# errors with kinds and hints, the command table and its help.
source "$(dirname "$0")/lib.sh"

test_core_sources_do_not_print() {
    # everything core code reports goes through core/notify.h to the CLI's
    # renderers; child processes after fork write with dprintf to their log
    local hits
    hits=$(grep -nE '\b(printf|fprintf|vfprintf|fputs|puts|putchar|fputc|fwrite|term_line|json_print)\s*\(' \
        "$ROOT"/core/*.c | grep -vE 'snprintf|vsnprintf|sbuf_printf|xasprintf|vasprintf' |
        grep -E 'stdout|stderr|\b(printf|puts|putchar)\s*\(|term_line|json_print' || true)
    [ -z "$hits" ] || fail "core code prints:
$hits"
}

test_commands_answer_with_results_not_json() {
    # commands hand results (core/results.h) to the renderers, and the
    # executor hands events: neither writes JSON
    local hits
    hits=$(grep -n 'json_' "$ROOT"/core/cmd_*.c "$ROOT"/core/executor.c || true)
    [ -z "$hits" ] || fail "commands write JSON themselves:
$hits"
}

test_no_strstr_on_error_messages() {
    # callers test an error's kind, never its prose
    local hits
    hits=$(grep -nE 'strstr\([^,]*(err|e)(->|\.)msg' "$ROOT"/core/*.c "$ROOT"/core/cli/*.c || true)
    [ -z "$hits" ] || fail "strstr on a message:
$hits"
}

test_sql_text_lives_in_store() {
    # every SQL text the host sends on Delembic's tables and its sessions is
    # in core/store*.c (alembic.c reads Alembic's own table; txwatch.c
    # compares command tags, not SQL); other modules call store functions
    local hits
    hits=$(grep -nE '"(SELECT|INSERT INTO|UPDATE|DELETE FROM|CREATE|PREPARE|EXECUTE|BEGIN|SET|RESET|DISCARD|WITH|DROP|ALTER|TRUNCATE) ' \
        "$ROOT"/core/*.c "$ROOT"/core/cli/*.c | grep -vE '/core/(store[a-z_]*|alembic|txwatch)\.c:' || true)
    [ -z "$hits" ] || fail "SQL outside store:
$hits"
    hits=$(grep -nE '(PQexec|PQexecParams|PQsendQuery|db_query)\([a-z]+, "' "$ROOT"/core/*.c |
        grep -vE '/core/(store[a-z_]*|alembic|db)\.c:' || true)
    [ -z "$hits" ] || fail "a literal statement outside store:
$hits"
}

test_help_lists_every_command_with_its_summary() {
    run "$D" --help
    expect_rc 0
    for cmd in init revision build upgrade current history verify pipeline graph; do
        grep -qE "^  $cmd +[a-z]" <<<"$OUT" || fail "--help lacks a summary line for $cmd: $OUT"
    done
}

test_help_cmd_and_cmd_help_show_usage_options_and_example() {
    run "$D" help upgrade
    expect_rc 0
    expect_out "usage: delembic upgrade"
    expect_out "--lock-timeout S"
    expect_out "Examples:"
    local a=$OUT
    run "$D" upgrade --help
    expect_rc 0
    [ "$OUT" = "$a" ] || fail "'help upgrade' and 'upgrade --help' differ"
}

test_unknown_command_suggests_the_nearest() {
    run "$D" upgarde
    expect_rc 2
    expect_out "unknown command 'upgarde' (did you mean 'upgrade'?)"
    expect_out "hint: see 'delembic --help'"
    run "$D" --json histroy
    expect_rc 2
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["error_kind"]=="usage", d; assert "history" in d["error"], d' "$OUT" ||
        fail "JSON error lacks its kind or suggestion: $OUT"
}

test_errors_carry_their_kind_in_json() {
    new_project
    mig T001 '' "SELECT 1/0"
    build_ok
    jkind() { python3 -c 'import json,sys; print(json.loads(sys.stdin.read()).get("error_kind"))'; }
    local k
    k=$("$D" --json upgrade 2>/dev/null | jkind || true)
    [ "$k" = migration ] || fail "a failed migration's kind: $k"
    k=$("$D" --json --bundle "$P/nowhere" upgrade 2>/dev/null | jkind || true)
    [ "$k" = bundle ] || fail "a missing bundle's kind: $k"
    k=$("$D" --json --database "postgresql:///nosuchdb_renov?host=$PGTMP" current 2>/dev/null | jkind || true)
    [ "$k" = database ] || fail "an unreachable database's kind: $k"
    k=$("$D" --json upgrade --nosuch 2>/dev/null | jkind || true)
    [ "$k" = usage ] || fail "a usage error's kind: $k"
}

test_failed_migration_is_reported_once() {
    new_project
    mig T001 '' "SELECT 1/0"
    build_ok
    run "$D" upgrade
    expect_rc 1
    local n
    n=$(grep -c "division by zero" <<<"$OUT")
    [ "$n" = 1 ] || fail "the failure is printed $n times: $OUT"
}

test_history_all_shows_every_attempt() {
    new_project
    mig T001 '' "SELECT 1/0"
    build_ok
    run "$D" upgrade
    expect_rc 1
    run "$D" upgrade
    expect_rc 1
    mig T001 '' "CREATE TABLE t1 (x int)"
    build_ok
    run "$D" upgrade
    expect_rc 0
    run "$D" history
    expect_rc 0
    local n
    n=$(grep -c "T001" <<<"$OUT")
    [ "$n" = 1 ] || fail "history (latest per revision) shows T001 $n times: $OUT"
    run "$D" history --all
    expect_rc 0
    n=$(grep -c "^failed .*T001" <<<"$OUT")
    [ "$n" = 2 ] || fail "history --all shows $n failed attempts: $OUT"
    n=$(grep -c "^success .*T001" <<<"$OUT")
    [ "$n" = 1 ] || fail "history --all shows $n successful attempts: $OUT"
    expect_out "division by zero"
    run "$D" --json history --all
    expect_rc 0
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert [a["status"] for a in d["attempts"]]==["failed","failed","success"], d' "$OUT" ||
        fail "JSON attempts: $OUT"
}

test_history_times_carry_their_zone() {
    new_project
    mig T001 '' "CREATE TABLE t1 (x int)"
    build_ok
    run "$D" upgrade
    expect_rc 0
    run "$D" history
    grep -qE "^applied +T001 +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}[+-][0-9]{2}" <<<"$OUT" ||
        fail "applied_at without its zone: $OUT"
}

test_long_revision_ids_keep_the_columns() {
    new_project
    mig T001 '' "CREATE TABLE t1 (x int)"
    mig T_a_rather_long_revision_id_0002 '"T001"' "CREATE TABLE t2 (x int)"
    build_ok
    run "$D" upgrade
    expect_rc 0
    run "$D" history
    # the APPLIED AT column starts at the same offset on every line
    local cols
    cols=$(awk 'NR > 1 { print index($0, "20") }' <<<"$OUT" | sort -u | wc -l)
    [ "$cols" = 1 ] || fail "columns shift: $OUT"
}

test_dry_run_with_jobs_lists_waves_in_order() {
    new_project
    mig T001 '' "CREATE TABLE t1 (x int)"
    mig T002 '"T001"' "CREATE TABLE t2 (x int)"
    mig T003 '' "CREATE TABLE t3 (x int)"
    build_ok
    run "$D" upgrade --dry-run -j 2
    expect_rc 0
    local waves
    waves=$(grep -oE "wave [0-9]+" <<<"$OUT" | awk '{print $2}' | tr '\n' ' ')
    [ "$waves" = "1 1 2 " ] || fail "waves out of order ($waves): $OUT"
}

test_outside_a_project_says_no_config_was_found() {
    local dir
    temp_dir dir
    OUT=$(cd "$dir" && "$D" history 2>&1) && RC=0 || RC=$?
    expect_rc 2
    expect_out "no delembic.yaml found in $dir or any parent folder"
    expect_out "hint: run 'delembic init'"
    expect_no_out "bundle folder"
}

test_verbose_shows_sql_and_phase_timings() {
    new_project
    mig T001 '' "CREATE TABLE t1 (x int)"
    build_ok
    OUT=$("$D" -v upgrade 2>&1 >/dev/null) && RC=0 || RC=$?
    expect_rc 0
    expect_out "debug: sql ("
    expect_out "debug: phase connect:"
    expect_out "debug: phase run:"
    run "$D" upgrade
    expect_no_out "debug:"
}

test_a_plugin_cannot_pass_its_error_off_as_the_records_verdict() {
    # the record's outcomes are told apart by SQLSTATE (and only for an error
    # the statement raised itself), never by the message: a trigger that
    # raises the record's own token and SQLSTATE fails the migration instead
    # of having it reported as "already applied by another run"
    new_project
    mig T001 '' "CREATE FUNCTION spoof() RETURNS trigger LANGUAGE plpgsql AS \$f\$ BEGIN RAISE EXCEPTION 'invalid input syntax for type interval: \\\"delembic-already-applied:0\\\"' USING ERRCODE = '22007'; END \$f\$; CREATE TRIGGER spoof BEFORE INSERT ON delembic_version FOR EACH ROW EXECUTE FUNCTION spoof()"
    build_ok
    run "$D" upgrade
    expect_rc 1
    expect_no_out "already applied"
    expect_out "delembic-already-applied"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" "failed"
    expect_sql "SELECT count(*) FROM pg_proc WHERE proname = 'spoof'" "0"
}

test_quiet_still_says_failures_and_warnings() {
    # -q: only errors and warnings
    new_project
    mig T001 '' "SELECT 1"
    mig T002 '"T001"' "SELECT 1/0"
    build_ok
    echo '/* edited */' >>migrations/T001.c
    "$D" -q upgrade >"$P/o" 2>"$P/e" && RC=0 || RC=$?
    [ "$RC" = 1 ] || fail "exit $RC"
    [ ! -s "$P/o" ] || fail "stdout under -q: $(cat "$P/o")"
    grep -q "WARNING: sources changed since the last build: migrations/T001.c" "$P/e" || fail "no warning: $(cat "$P/e")"
    grep -q "T002 FAILED: .*division by zero" "$P/e" || fail "no failure: $(cat "$P/e")"
}

test_json_keeps_warnings_and_plugin_lines_on_stderr() {
    new_project
    mig T001 '' "SELECT 1"
    build_ok
    echo '/* edited */' >>migrations/T001.c
    "$D" --json upgrade >"$P/o" 2>"$P/e" && RC=0 || RC=$?
    [ "$RC" = 0 ] || fail "exit $RC"
    python3 "$ROOT/tests/e2e/json_strict.py" "$P/o" 0 || fail "not one document: $(cat "$P/o")"
    grep -q "WARNING: sources changed since the last build" "$P/e" || fail "no warning on stderr: $(cat "$P/e")"
}

run_tests
