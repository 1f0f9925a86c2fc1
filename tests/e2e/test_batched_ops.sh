#!/bin/bash
# Issue 12 fixes: a batched migration's checkpoint and the operator commands
# (forget and stamp remove it, so the next upgrade starts from the
# beginning), and resuming only with the code and mode that wrote it.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_batched.sh"

# T001 over t (3000 rows, batches of 100), whose first upgrade fails at row
# 2001 (a trigger refuses rows above 2000 while flag has a row): 20 batches
# committed, its checkpoint at 2000, its version row failed
failed_project() {
    new_project
    int_table 3000
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
    expect_sql "SELECT mode, rows_done, batches FROM delembic_checkpoint" "batched|2000|20"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
}

# the data as before any run, and nothing refused any more
reset_data() {
    sql "DELETE FROM flag; UPDATE t SET n = 0"
}

# the next upgrade starts from the beginning: every row once, no resume
expect_fresh_upgrade() {
    run "$D" upgrade head
    expect_rc 0
    expect_no_out "resuming from its checkpoint"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 3000
    expect_sql "SELECT count(*) FROM t WHERE n <> 1" 0
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" success
}

# the bundle's identity of its only migration (build/bundle/manifest.yaml)
bundle_identity() {
    awk '$1 == "identity:" { print $2; exit }' build/bundle/manifest.yaml
}

test_batched_ops_forget_after_a_failure_removes_the_checkpoint() {
    failed_project
    run "$D" forget T001
    expect_rc 0
    expect_out "made pending again"
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    expect_sql "SELECT count(*) FROM delembic_version" 0
    expect_sql "SELECT status FROM delembic_run_history ORDER BY id DESC LIMIT 1" forgotten
    expect_sql "SELECT exception LIKE '%checkpoint%2000 rows in 20 batches%removed%' FROM delembic_run_history ORDER BY id DESC LIMIT 1" t
    reset_data
    expect_fresh_upgrade
}

test_batched_ops_forget_of_a_paused_migration_removes_its_checkpoint() {
    new_project
    int_table 50000
    sql "CREATE TABLE batch_log (k serial, size bigint, cursor text);
         CREATE TABLE batch_sleep (s float8); INSERT INTO batch_sleep VALUES (0.3)"
    use_plugin batched_steps T001 TABLE=t
    batch_setting batch_min 1000
    batch_setting batch_max 1000
    build_ok
    "$D" upgrade head >"$P/out" 2>&1 &
    local pid=$! rc
    wait_for_sql "SELECT batches >= 2 FROM delembic_checkpoint" t || fail "$(cat "$P/out")"
    kill -TERM $pid
    wait $pid && rc=0 || rc=$?
    [ "$rc" = 143 ] || fail "exit $rc, wanted 143: $(cat "$P/out")"
    expect_sql "SELECT count(*) FROM delembic_version" 0
    expect_sql "SELECT state FROM delembic_checkpoint" paused
    run "$D" forget T001
    expect_rc 0
    expect_out "made pending again"
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history" "paused,forgotten"
    expect_sql "SELECT exception LIKE '%was paused%checkpoint%removed%' FROM delembic_run_history WHERE status = 'forgotten'" t
    sql "UPDATE t SET n = 0; UPDATE batch_sleep SET s = 0"
    run "$D" upgrade head
    expect_rc 0
    expect_no_out "resuming from its checkpoint"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 50000
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

test_batched_ops_forget_without_record_or_checkpoint_still_refuses() {
    new_project
    int_table 10
    bmig T001 t id "n = n + 1" NULL "true"
    build_ok
    run "$D" forget T001
    expect_rc 2
    expect_out "T001 has no record in the database (it is pending); nothing to forget"
}

test_batched_ops_stamp_removes_the_checkpoint() {
    failed_project
    run "$D" stamp T001
    expect_rc 0
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" success
    expect_sql "SELECT exception LIKE '%checkpoint%removed%' FROM delembic_run_history ORDER BY id DESC LIMIT 1" t
    # a later forget does not bring the old checkpoint back into play
    run "$D" forget T001
    expect_rc 0
    reset_data
    expect_fresh_upgrade
}

test_batched_ops_resume_with_other_code_fails_naming_both_identities() {
    failed_project
    local old new
    old=$(bundle_identity)
    [ ${#old} -ge 12 ] || fail "no identity in the manifest"
    expect_sql "SELECT identity FROM delembic_checkpoint" "$old"
    # the same revision now backfills another table
    sql "CREATE TABLE t2 (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0);
         INSERT INTO t2 (id) SELECT g FROM generate_series(1, 3000) g"
    bmig T001 t2 id "n = n + 1" NULL "NOT EXISTS (SELECT 1 FROM t2 WHERE n <> 1)"
    build_ok
    new=$(bundle_identity)
    [ "$old" != "$new" ] || fail "the identity did not change"
    reset_data
    sql "UPDATE t SET n = 1 WHERE id <= 2000"
    run "$D" upgrade head
    expect_rc 1
    expect_out "T001: its checkpoint (2000 rows in 20 batches) was written by other code (identity ${old:0:12}), not by this bundle's (identity ${new:0:12}); restore the code that wrote it, or 'delembic forget T001' to start again from the beginning"
    # nothing applied: no batch ran, the checkpoint is as it was
    expect_sql "SELECT count(*) FROM t2 WHERE n <> 0" 0
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 2000
    expect_sql "SELECT rows_done, batches, identity FROM delembic_checkpoint" "2000|20|$old"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" failed
    # and forget starts it again from the beginning, with the new code
    run "$D" forget T001
    expect_rc 0
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t2 WHERE n = 1" 3000
}

test_batched_ops_resume_in_another_mode_fails_and_keeps_the_checkpoint() {
    failed_project
    local old new
    old=$(bundle_identity)
    sql "CREATE TABLE notx_sleep (s float8)"
    use_plugin batched_notx T001
    build_ok
    new=$(bundle_identity)
    reset_data
    run "$D" upgrade head
    expect_rc 1
    expect_out "T001: its checkpoint (2000 rows in 20 batches) was written by other code in batched mode (identity ${old:0:12}), not by this bundle's no_transaction code (identity ${new:0:12}); restore the code that wrote it, or 'delembic forget T001' to start again from the beginning"
    expect_sql "SELECT to_regclass('t_n_idx') IS NULL" t
    expect_sql "SELECT mode, rows_done, batches, identity FROM delembic_checkpoint" "batched|2000|20|$old"
}

test_batched_ops_checkpoint_without_identity_resumes_as_before() {
    failed_project
    # a database whose checkpoint table predates the identity column
    sql "ALTER TABLE delembic_checkpoint DROP COLUMN identity"
    sql "DELETE FROM flag"
    run "$D" upgrade head
    expect_rc 0
    expect_out "resuming from its checkpoint: 2000 rows in 20 batches done"
    expect_sql "SELECT count(*) FROM t WHERE n = 1" 3000
    expect_sql "SELECT count(*) FROM information_schema.columns WHERE table_name = 'delembic_checkpoint' AND column_name = 'identity'" 1
}

test_batched_ops_repair_drop_of_a_removed_migration_removes_its_checkpoint() {
    new_project
    sql "CREATE TABLE t (id bigint PRIMARY KEY, n int NOT NULL DEFAULT 0)"
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
    char next[16];
    snprintf(next, sizeof next, "%d", at + 10);
    return dm_batch_advance(ctx, b, next, 10);
}
DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "fails after two batches", .mode = DM_BATCHED, .batch = batch);
C
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 1
    rm migrations/T001.c
    build_ok
    run "$D" repair --yes
    expect_rc 0
    expect_sql "SELECT count(*) FROM delembic_version" 0
    expect_sql "SELECT count(*) FROM delembic_checkpoint" 0
}

run_tests
