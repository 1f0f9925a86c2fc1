#!/bin/bash
# Issue 11: operating a live database: stamp, forget, repair, show, downgrade,
# Alembic downgrade awareness, and authoring that chains revisions.
source "$(dirname "$0")/lib.sh"

# a project with t_ops (what upgrades wrote) and t_ops_down (downgrades, in order)
ops_project() {
    new_project
    sql "CREATE TABLE t_ops (rev text); CREATE TABLE t_ops_down (id serial, rev text)"
}

# odown REV 'DEPS' [DSLEEP]: a migration with a downgrade; onodown REV 'DEPS': without
odown() {
    local deps=DM_NO_DEPS
    [ -n "$2" ] && deps="DM_DEPS($2)"
    use_plugin ops_down "$1" "DEPS=$deps" "DSLEEP=${3:-0}"
}
onodown() {
    local deps=DM_NO_DEPS
    [ -n "$2" ] && deps="DM_DEPS($2)"
    use_plugin ops_nodown "$1" "DEPS=$deps"
}

# the history rows of REV, oldest first: "status,status,..."
hist() {
    sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history WHERE revision = '$1'"
}

test_stamp_then_upgrade_runs_only_the_rest() {
    ops_project
    odown O001 ''
    odown O002 '"O001"'
    odown O003 '"O002"'
    build_ok
    run "$D" stamp O002
    expect_rc 2
    expect_out "cannot stamp O002: it depends on O001, which is neither applied nor stamped in this call"
    expect_sql "SELECT count(*) FROM delembic_version" 0
    run "$D" stamp --dry-run O001 O002
    expect_rc 0
    expect_out "Would change 2 record(s)"
    expect_sql "SELECT count(*) FROM delembic_version" 0
    run "$D" stamp O001 O002
    expect_rc 0
    expect_out "stamped O001"
    expect_sql "SELECT string_agg(revision || ':' || status, ',' ORDER BY revision) FROM delembic_version" "O001:success,O002:success"
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'stamped' AND username IS NOT NULL AND hostname IS NOT NULL AND started_at IS NOT NULL" 2
    run "$D" stamp O001
    expect_rc 0
    expect_out "Skipped O001: already applied"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',') FROM t_ops" "O003"
    run "$D" history
    expect_out "applied  O001"
}

test_stamp_all_pending_through() {
    ops_project
    odown O001 ''
    odown O002 '"O001"'
    odown O003 '"O002"'
    build_ok
    run "$D" stamp --all-pending --through O002
    expect_rc 0
    expect_sql "SELECT string_agg(revision, ',' ORDER BY revision) FROM delembic_version" "O001,O002"
    run "$D" stamp --all-pending
    expect_rc 0
    expect_sql "SELECT string_agg(revision, ',' ORDER BY revision) FROM delembic_version" "O001,O002,O003"
    expect_sql "SELECT count(*) FROM t_ops" 0
    run "$D" stamp --through O002
    expect_rc 2
    run "$D" stamp NOPE
    expect_rc 2
    expect_out "unknown revision 'NOPE'"
}

test_forget_then_upgrade_reruns() {
    ops_project
    odown O001 ''
    odown O002 '"O001"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    run "$D" forget O001
    expect_rc 2
    expect_out "cannot forget O001: O002 depends on it and is applied"
    expect_sql "SELECT count(*) FROM delembic_version" 2
    run "$D" forget O002
    expect_rc 0
    expect_out "forgotten O002"
    expect_sql "SELECT string_agg(revision, ',') FROM delembic_version" "O001"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_ops" "O001,O002,O002"
    [ "$(hist O002)" = "success,forgotten,success" ] || fail "history of O002: $(hist O002)"
    run "$D" forget --cascade O001
    expect_rc 0
    expect_out "forgotten O002: made pending again with O001 (--cascade)"
    expect_out "forgotten O001"
    expect_sql "SELECT count(*) FROM delembic_version" 0
    run "$D" forget O001
    expect_rc 2
    expect_out "O001 has no record in the database (it is pending); nothing to forget"
}

test_forget_clears_a_failed_migration() {
    ops_project
    mig O001 '' "SELECT 1/0"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    run "$D" forget O001
    expect_rc 0
    expect_out "was failed"
    expect_sql "SELECT count(*) FROM delembic_version" 0
    [ "$(hist O001)" = "failed,forgotten" ] || fail "history: $(hist O001)"
}

test_held_migration_is_released_by_stamp_or_forget() {
    ops_project
    sql "CREATE TABLE t_log (rev text)"
    use_plugin evil_self_commit O001 MODE=idle
    mig O002 '"O001"' "INSERT INTO t_ops VALUES ('O002')"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT hold IS NOT NULL FROM delembic_version WHERE revision = 'O001'" t
    run "$D" upgrade head
    expect_rc 1
    expect_out "HELD: O001"
    # accept its work as done: the hold goes, what depends on it runs
    run "$D" stamp O001
    expect_rc 0
    expect_out "was failed"
    expect_sql "SELECT status || ':' || coalesce(hold, '-') FROM delembic_version WHERE revision = 'O001'" "success:-"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',') FROM t_ops" "O002"
    [ "$(hist O001)" = "failed,stamped" ] || fail "history of O001: $(hist O001)"
    # or run it again: forget releases a hold too
    ops_release_by_forget
}

ops_release_by_forget() {
    sql "UPDATE delembic_version SET status = 'failed', hold = 'committed by itself' WHERE revision = 'O001'"
    run "$D" forget --cascade O001
    expect_rc 0
    expect_out "forgotten O002"
    expect_out "held: committed by itself"
    expect_sql "SELECT count(*) FROM delembic_version" 0
}

test_repair_accepts_changed_and_drops_missing() {
    ops_project
    odown O001 ''
    odown O002 ''
    build_ok
    run "$D" upgrade head
    expect_rc 0
    sed -i 's/ops @REV@/ops O001 changed/; s/"ops O001"/"ops O001 edited"/' migrations/O001.c
    rm migrations/O002.c
    build_ok
    run "$D" verify --strict
    expect_rc 2
    run "$D" repair </dev/null
    expect_rc 2
    expect_out "repair would drop 1 record(s) missing from the bundle (O002); run 'delembic repair --yes' to drop them; nothing was changed"
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE status = 'repaired'" 0
    run "$D" repair --dry-run
    expect_rc 0
    expect_out "accepted O001"
    expect_out "dropped O002"
    run "$D" repair --yes
    expect_rc 0
    expect_out "accepted O001"
    expect_out "dropped O002"
    expect_sql "SELECT string_agg(revision, ',') FROM delembic_version" "O001"
    expect_sql "SELECT string_agg(revision || ':' || status, ',' ORDER BY id) FROM delembic_run_history WHERE status = 'repaired'" "O001:repaired,O002:repaired"
    run "$D" verify --strict
    expect_rc 0
    run "$D" repair
    expect_rc 0
    expect_out "Nothing to repair."
}

test_show_one_migration_in_full() {
    ops_project
    odown O001 ''
    mig O002 '"O001"' "SELECT 1/0"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    run "$D" show O002
    expect_rc 0
    expect_out "Revision:     O002"
    expect_out "Description:  test migration O002"
    expect_out "File:         O002.so"
    expect_out "Depends on:   O001 (applied)"
    expect_out "Status:       failed"
    expect_out "division by zero"
    expect_out "Attempts:     1"
    run "$D" show O001
    expect_out "Dependents:   O002"
    expect_out "Identity:     "
    expect_out "$(id -un)@$(hostname)"
    run "$D" show NOPE
    expect_rc 2
    expect_out "unknown revision 'NOPE'"
}

test_downgrade_chain_in_reverse_order() {
    ops_project
    odown O001 ''
    odown O002 '"O001"'
    odown O003 '"O002"'
    odown O004 '"O001"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    run "$D" downgrade O002 --dry-run
    expect_rc 0
    expect_out "Would downgrade 2 migration(s), in this order:
  O003: ops O003
  O002: ops O002"
    expect_sql "SELECT count(*) FROM t_ops_down" 0
    run "$D" downgrade O002
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY id) FROM t_ops_down" "O003,O002"
    expect_sql "SELECT string_agg(revision, ',' ORDER BY revision) FROM delembic_version" "O001,O004"
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_ops" "O001,O004"
    [ "$(hist O003)" = "success,downgraded" ] || fail "history of O003: $(hist O003)"
    run "$D" downgrade -1
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY id) FROM t_ops_down" "O003,O002,O004"
    run "$D" downgrade base
    expect_rc 0
    expect_sql "SELECT count(*) FROM delembic_version" 0
    run "$D" downgrade base
    expect_rc 0
    expect_out "Nothing to downgrade"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_ops" 4
}

test_downgrade_without_callback_stops_before_anything_runs() {
    ops_project
    odown O001 ''
    onodown O002 '"O001"'
    odown O003 '"O002"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    run "$D" downgrade O001
    expect_rc 1
    expect_out "O002: ops O002 (no downgrade)  [NO DOWNGRADE]"
    expect_out "cannot downgrade: O002 has no downgrade callback; nothing was run"
    expect_sql "SELECT count(*) FROM t_ops_down" 0
    expect_sql "SELECT count(*) FROM delembic_version" 3
    expect_sql "SELECT count(*) FROM delembic_run_history" 3
    run "$D" downgrade O003
    expect_rc 0
    run "$D" downgrade O001 --dry-run
    expect_rc 1
    expect_out "[NO DOWNGRADE]"
}

test_kill_9_during_downgrade_leaves_each_step_once_or_not() {
    ops_project
    odown O001 ''
    odown O002 '"O001"' 30
    odown O003 '"O002"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    "$D" downgrade base >"$P/down.log" 2>&1 &
    local pid=$!
    # O003 done, O002's downgrade sleeping inside its transaction
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic worker%' AND query LIKE '%pg_sleep(30)%' AND state = 'active'" 1
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    # the worker dies with its parent (SIGKILL); its server session would
    # sleep on until it notices: end it, and its open transaction with it
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'delembic%'" >/dev/null
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic%'" 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY id) FROM t_ops_down" "O003"
    expect_sql "SELECT string_agg(revision, ',' ORDER BY revision) FROM delembic_version" "O001,O002"
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_ops" "O001,O002"
    [ "$(hist O003)" = "success,downgraded" ] || fail "history of O003: $(hist O003)"
    [ "$(hist O002)" = "success" ] || fail "history of O002: $(hist O002)"
    sed -i 's/pg_sleep(30)/pg_sleep(0)/' migrations/O002.c
    build_ok
    run "$D" downgrade base
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY id) FROM t_ops_down" "O003,O002,O001"
    expect_sql "SELECT count(*) FROM delembic_version" 0
}

test_kill_9_of_a_downgrade_worker_leaves_it_applied() {
    ops_project
    odown O001 '' 30
    odown O002 '"O001"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    "$D" downgrade base >"$P/down.log" 2>&1 &
    local pid=$!
    wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic worker%' AND query LIKE '%pg_sleep(30)%' AND state = 'active'" 1
    local worker
    worker=$(sql "SELECT substring(application_name from 'pid=([0-9]+)') FROM pg_stat_activity WHERE application_name LIKE 'delembic worker%'")
    kill -9 "$worker"
    local rc=0
    wait "$pid" || rc=$?
    [ "$rc" = 1 ] || fail "downgrade exited $rc: $(cat "$P/down.log")"
    grep -q "FAILED: O001 crashed: SIGKILL" "$P/down.log" || fail "no crash line: $(cat "$P/down.log")"
    expect_sql "SELECT string_agg(revision, ',' ORDER BY revision) FROM delembic_version WHERE status = 'success'" "O001"
    expect_sql "SELECT string_agg(rev, ',' ORDER BY id) FROM t_ops_down" "O002"
    [ "$(hist O001)" = "success,failed" ] || fail "history of O001: $(hist O001)"
    expect_sql "SELECT exception FROM delembic_run_history WHERE revision = 'O001' AND status = 'failed'" "downgrade: O001 crashed: SIGKILL"
}

test_old_abi_plugin_loads_without_downgrade() {
    ops_project
    # a plugin built against today's ABI before .downgrade existed: its size
    # ends at validate
    cat >migrations/O001.c <<'C'
#include <delembic/plugin.h>
static int upgrade(PGconn *conn, dm_ctx *ctx) { return dm_exec(ctx, conn, "INSERT INTO t_ops VALUES ('O001')"); }
static int downgrade(PGconn *conn, dm_ctx *ctx) { return dm_exec(ctx, conn, "INSERT INTO t_ops_down (rev) VALUES ('O001')"); }
DM_EXPORT const struct dm_descriptor dm_descriptor = {
    .abi_version = DM_ABI_VERSION, .size = (uint32_t)DM_DESCRIPTOR_SIZE_V1,
    .revision = "O001", .depends_on = DM_NO_DEPS, .description = "old", .upgrade = upgrade,
    .downgrade = downgrade};
C
    build_ok
    run "$D" upgrade head
    expect_rc 0
    run "$D" downgrade O001
    expect_rc 1
    expect_out "O001 has no downgrade callback"
    expect_sql "SELECT count(*) FROM t_ops_down" 0
}

test_ops_json_is_one_strict_document() {
    ops_project
    odown O001 ''
    onodown O002 '"O001"'
    build_ok
    local cmd
    for cmd in "stamp O001" "show O001" "forget O001" "stamp --all-pending" "repair" "downgrade O001 --dry-run" \
               "downgrade O002" "stamp NOPE" "forget NOPE" "show" "downgrade -1 --dry-run"; do
        # shellcheck disable=SC2086
        OUT=$("$D" --json $cmd 2>/dev/null) && RC=0 || RC=$?
        python3 "$ROOT/tests/e2e/json_strict.py" /dev/stdin "$RC" <<<"$OUT" || fail "not one strict JSON document for '$cmd': $OUT"
        grep -qF "\"exit_code\":$RC" <<<"$OUT" || fail "'$cmd': exit $RC, document: $OUT"
    done
}

test_ops_help() {
    ops_project
    local cmd
    for cmd in stamp forget repair show downgrade; do
        run "$D" "$cmd" --help
        expect_rc 0
        expect_out "usage: delembic $cmd"
    done
    run "$D" downgrade --help
    expect_out "downgrade REV | -1 | base"
    # the overall help lists each command with its summary (the table's row)
    run "$D" --help
    expect_out "downgrade  undo applied migrations"
}

# An Alembic project r1 <- r2, with data migrations on each
ops_alembic_project() {
    ops_project
    alembic init -t generic "$P/alembic" >/dev/null 2>&1 || fail "alembic init failed"
    U="$URL" awk '/^sqlalchemy.url =/ { print "sqlalchemy.url = " ENVIRON["U"]; next } { print }' \
        "$P/alembic.ini" >"$P/alembic.ini.new" && mv "$P/alembic.ini.new" "$P/alembic.ini"
    alembic revision -m "first" --rev-id r1 >/dev/null 2>&1 || fail "alembic revision r1"
    alembic revision -m "second" --rev-id r2 >/dev/null 2>&1 || fail "alembic revision r2"
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
}

test_alembic_downgrade_shows_the_orphan() {
    ops_alembic_project
    alembic upgrade head >/dev/null 2>&1 || fail "alembic upgrade"
    odown O001 '"r1"'
    odown O002 '"r2"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    alembic downgrade r1 >/dev/null 2>&1 || fail "alembic downgrade"
    run "$D" history
    expect_rc 0
    expect_out "orphaned: needs Alembic r2 which is not applied"
    run "$D" show O002
    expect_out "r2 (NOT applied now)"
    expect_out "orphaned: needs Alembic r2 which is not applied"
    run "$D" show O001
    expect_out "r1 (applied now)"
    expect_no_out "orphaned"
    run "$D" upgrade head
    expect_rc 0
    expect_out "WARNING: O002: orphaned: needs Alembic r2 which is not applied"
    run "$D" upgrade head --strict
    expect_rc 2
    expect_out "O002: orphaned: needs Alembic r2 which is not applied (--strict)"
    run "$D" --json history
    python3 "$ROOT/tests/e2e/json_strict.py" /dev/stdin 0 <<<"$OUT" || fail "history --json"
    expect_out '"orphaned":"orphaned: needs Alembic r2 which is not applied"'
    # stamping needs the Alembic revision too
    run "$D" forget O002
    expect_rc 0
    run "$D" stamp O002
    expect_rc 1
    expect_out "cannot stamp O002: it needs Alembic r2, which is not applied"
    alembic upgrade head >/dev/null 2>&1
    run "$D" upgrade head --strict
    expect_rc 0
    run "$D" history
    expect_no_out "orphaned"
}

test_ops_wait_for_the_run_lock() {
    ops_project
    odown O001 ''
    build_ok
    psql -qAtX -d "$DB" -c "SELECT pg_advisory_lock(7234307559323232611); SELECT pg_sleep(30)" >/dev/null 2>&1 &
    local holder=$!
    wait_for_sql "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = 1835166051" 1
    run "$D" stamp O001 --lock-timeout 0.5
    expect_rc 3
    expect_out "another delembic run holds the lock"
    expect_sql "SELECT to_regclass('delembic_version') IS NULL" t
    kill "$holder" 2>/dev/null || true
    sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()" >/dev/null
    wait "$holder" 2>/dev/null || true
    run "$D" stamp O001 --lock-timeout 10
    expect_rc 0
}

test_revision_chains_to_the_delembic_heads() {
    ops_project
    run "$D" revision -m "first"
    expect_rc 0
    expect_out "WARNING: the database has no Alembic version table (alembic_version)"
    grep -q "DM_NO_DEPS" migrations/D001_first.c || fail "D001 deps: $(grep depends_on migrations/D001_first.c)"
    run "$D" revision -m "second"
    expect_out "Delembic heads chained: [D001]"
    grep -qF 'DM_DEPS("D001")' migrations/D002_second.c || fail "D002 not chained: $(grep depends_on migrations/D002_second.c)"
    run "$D" revision -m "side" --no-chain
    expect_rc 0
    grep -q "DM_NO_DEPS" migrations/D003_side.c || fail "--no-chain chained: $(grep depends_on migrations/D003_side.c)"
    run "$D" revision -m "merge"
    expect_out "Delembic heads chained: [D002, D003]"
    grep -qF 'DM_DEPS("D002", "D003")' migrations/D004_merge.c || fail "D004: $(grep depends_on migrations/D004_merge.c)"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    run "$D" graph --dot
    expect_out '"m-D002" -> "m-D004"'
    expect_out '"m-D003" -> "m-D004"'
}

test_revision_chains_alembic_heads_too() {
    ops_alembic_project
    alembic upgrade head >/dev/null 2>&1 || fail "alembic upgrade"
    run "$D" revision -m "one"
    run "$D" revision -m "two"
    expect_rc 0
    expect_no_out "WARNING"
    grep -qF 'DM_DEPS("D001", "r2")' migrations/D002_two.c || fail "D002: $(grep depends_on migrations/D002_two.c)"
}

test_section_extends_another() {
    ops_project
    odown O001 ''
    build_ok
    local other
    other=$(pg_newdb "${DB}_b")
    cat >>delembic.yaml <<YAML
staging:
  extends: delembic
  database: $other
loop_a:
  extends: loop_b
loop_b:
  extends: loop_a
lost:
  extends: nowhere
YAML
    psql -qAtX -d "${DB}_b" -c "CREATE TABLE t_ops (rev text)" >/dev/null
    run "$D" -n staging upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_ops" 0
    [ "$(psql -qAtX -d "${DB}_b" -c "SELECT string_agg(rev, ',') FROM t_ops")" = "O001" ] || fail "staging did not run on its own database"
    run "$D" -n loop_a history
    expect_rc 2
    expect_out "a cycle of extends: 'loop_a' extends 'loop_b' extends 'loop_a'"
    run "$D" -n lost history
    expect_rc 2
    expect_out "section 'lost' extends 'nowhere', which is not a section of this file"
    psql -qAtX -d postgres -c "DROP DATABASE IF EXISTS \"${DB}_b\" WITH (FORCE)" >/dev/null 2>&1
}

test_common_code_is_in_every_plugin_and_its_identity() {
    ops_project
    mkdir -p migrations/common
    cat >migrations/common/helpers.h <<'C'
int ops_insert(PGconn *conn, dm_ctx *ctx, const char *rev);
C
    cat >migrations/common/helpers.c <<'C'
#include <delembic/plugin.h>
int ops_insert(PGconn *conn, dm_ctx *ctx, const char *rev)
{
    const char *p[1] = {rev};
    return dm_exec_params(ctx, conn, "INSERT INTO t_ops (rev) VALUES ($1 || '-v1')", 1, p, NULL);
}
C
    local r
    for r in O001 O002; do
        cat >migrations/$r.c <<C
#include <delembic/plugin.h>
#include "helpers.h"
static int upgrade(PGconn *conn, dm_ctx *ctx) { return ops_insert(conn, ctx, "$r"); }
DM_MIGRATION(.revision = "$r", .depends_on = DM_NO_DEPS, .description = "uses common", .upgrade = upgrade);
C
    done
    build_ok
    expect_out "Built 2 migration(s)"
    ls build/bundle | grep -q helpers && fail "common code became a plugin: $(ls build/bundle)"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_ops" "O001-v1,O002-v1"
    local before
    before=$(grep identity: build/bundle/manifest.yaml)
    sed -i "s/-v1/-v2/" migrations/common/helpers.c
    run "$D" upgrade head
    expect_out "sources changed since the last build"
    build_ok
    expect_out "2 compiled"
    [ "$before" != "$(grep identity: build/bundle/manifest.yaml)" ] || fail "identities did not change with the common code"
    run "$D" verify --strict
    expect_rc 2
    expect_out "O001 was applied with identity"
    expect_out "O002 was applied with identity"
    build_ok
    expect_out "0 compiled"
}

# forget after a self-commit: the claim the transaction left goes with the
# row, so the next upgrade runs it again instead of holding it (attack finding)
test_forget_of_a_self_committed_migration_runs_it_again() {
    ops_project
    sql "CREATE TABLE t_log (rev text)"
    use_plugin evil_self_commit O001 MODE=idle
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT count(*) FROM delembic_claim" 1
    run "$D" forget O001
    expect_rc 0
    expect_sql "SELECT count(*) FROM delembic_claim" 0
    run "$D" --json upgrade --dry-run
    expect_rc 0
    expect_no_out "HELD"
    run "$D" upgrade head
    expect_rc 1 # it commits by itself again: held again, by its own run
    expect_sql "SELECT string_agg(rev, ',') FROM t_log" "O001-before,O001-before"
    expect_sql "SELECT count(*) FROM delembic_run_history WHERE exception LIKE '%ended before it could record this%'" 0
}

# an applied migration the bundle no longer has may depend on the target: a
# downgrade is not planned around it (attack finding)
test_downgrade_refuses_while_an_applied_migration_is_missing_from_the_bundle() {
    ops_project
    odown O001 ''
    odown O002 '"O001"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    rm migrations/O002.c
    build_ok
    local t
    for t in -1 O001; do
        run "$D" downgrade "$t"
        expect_rc 1
        expect_out "O002 is applied but not in this bundle"
    done
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 2
    expect_sql "SELECT count(*) FROM t_ops_down" 0
}

# a message build would refuse as a description is refused at once, and no
# file is written (attack finding)
test_revision_refuses_a_message_with_control_characters() {
    ops_project
    run "$D" revision -m $'evil \x1b[2J\r\nRunning'
    expect_rc 2
    expect_out "the message holds a control character (byte 0x1b at offset 5)"
    [ -z "$(ls migrations/*.c 2>/dev/null)" ] || fail "a source was written: $(ls migrations)"
}

run_tests
