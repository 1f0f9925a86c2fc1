#!/bin/bash
# Issue 4: the real Alembic (Debian's), its graph in the manifest, BLOCKED,
# heads captured by revision, and pipelines.
source "$(dirname "$0")/lib.sh"

# An Alembic project: r1 <- r2 <- r3 (r3 in the typed template style)
alembic_project() {
    new_project
    sql "CREATE TABLE t_log (rev text, at text)"
    alembic init -t generic "$P/alembic" >/dev/null 2>&1 || fail "alembic init failed"
    U="$URL" awk '/^sqlalchemy.url =/ { print "sqlalchemy.url = " ENVIRON["U"]; next } { print }' \
        "$P/alembic.ini" >"$P/alembic.ini.new" && mv "$P/alembic.ini.new" "$P/alembic.ini"
    cd "$P"
    alembic revision -m "first" --rev-id r1 >/dev/null 2>&1 || fail "alembic revision r1"
    alembic revision -m "second" --rev-id r2 >/dev/null 2>&1 || fail "alembic revision r2"
    cat >alembic/versions/r3_third.py <<'PY'
"""third, in the typed template style

Revision ID: r3
Revises: r2
"""
from typing import Sequence, Union

revision: str = "r3"
down_revision: Union[str, None] = "r2"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
PY
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
}

# a data migration that records which Alembic revision was current when it ran
amig() {
    local rev=$1 deps=$2
    mig "$rev" "$deps" "INSERT INTO t_log SELECT '$rev', coalesce((SELECT string_agg(version_num, '+' ORDER BY version_num) FROM alembic_version), '-')"
}

test_blocked_until_schema_is_there() {
    alembic_project
    alembic upgrade r1 >/dev/null 2>&1
    amig D001 '"r1"'
    amig D002 '"r2"'
    build_ok
    grep -q "r3: \[r2\]" build/bundle/manifest.yaml || fail "graph not in the manifest: $(cat build/bundle/manifest.yaml)"
    run "$D" upgrade head
    expect_rc 1
    expect_out "BLOCKED: Migration D002 requires Alembic revision(s) r2 to be applied first. Run 'alembic upgrade head' before retrying."
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT count(*) FROM delembic_version" 0
    expect_sql "SELECT count(*) FROM delembic_run_history" 0
    run "$D" upgrade head --dry-run
    expect_rc 1
    expect_out "[BLOCKED]"
    alembic upgrade head >/dev/null 2>&1
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "D001,D002"
}

test_no_version_table_means_nothing_applied() {
    alembic_project
    amig D001 '"r1"'
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "BLOCKED: Migration D001 requires Alembic revision(s) r1"
}

test_old_ancestor_of_head_passes() {
    alembic_project
    alembic upgrade head >/dev/null 2>&1
    amig D001 '"r1"'
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT at FROM t_log" r3
}

test_branch_and_merge_count_both_parents() {
    alembic_project
    alembic revision -m "branch" --head r2 --splice --rev-id b1 >/dev/null 2>&1 || fail "branch"
    alembic merge -m "merge" --rev-id m1 heads >/dev/null 2>&1 || fail "merge"
    grep -q "down_revision = ('r3', 'b1')\|down_revision = ('b1', 'r3')" alembic/versions/m1_merge.py || fail "no tuple merge: $(grep down_revision alembic/versions/m1_merge.py)"
    amig D001 '"b1"'
    build_ok
    alembic upgrade r3 >/dev/null 2>&1
    run "$D" upgrade head
    expect_rc 1
    expect_out "requires Alembic revision(s) b1"
    alembic upgrade head >/dev/null 2>&1
    expect_sql "SELECT version_num FROM alembic_version" m1
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT at FROM t_log" m1
}

test_unknown_head_asks_for_a_rebuild() {
    alembic_project
    amig D001 '"r3"'
    amig D002 '"r1"'
    build_ok
    sql "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('r9')"
    run "$D" upgrade D002
    expect_rc 1
    expect_out "requires Alembic revision(s) r1"
    expect_out "rebuild the bundle against the current Alembic scripts"
}

test_build_rejects_a_dependency_in_neither_graph() {
    alembic_project
    amig D001 '"r1"'
    amig D002 '"D001", "r2x"'
    run "$D" build
    expect_rc 2
    expect_out "D002"
    expect_out "depends_on entry 'r2x' is neither a data migration nor an Alembic revision"
}

test_build_names_an_unreadable_script() {
    alembic_project
    printf 'revision = make_revision()\ndown_revision = None\n' >alembic/versions/zz_bad.py
    amig D001 '"r1"'
    run "$D" build
    expect_rc 2
    expect_out "zz_bad.py:1: cannot read revision"
}

test_revision_captures_heads() {
    alembic_project
    alembic upgrade head >/dev/null 2>&1
    run "$D" revision -m "after r3"
    expect_rc 0
    expect_out "Alembic heads captured: [r3]"
    grep -q 'DM_DEPS("r3")' migrations/D001_after_r3.c || fail "deps: $(grep depends_on migrations/D001_after_r3.c)"
    alembic revision -m "branch" --head r2 --splice --rev-id b1 >/dev/null 2>&1
    alembic upgrade heads >/dev/null 2>&1
    run "$D" revision -m "two heads"
    expect_out "Alembic heads captured: [b1, r3]"
    grep -q 'DM_DEPS("D001", "b1", "r3")' migrations/D002_two_heads.c || fail "deps: $(grep depends_on migrations/D002_two_heads.c)"
    build_ok
    run "$D" upgrade head
    expect_rc 0
}

test_pipeline_runs_each_migration_after_its_checkpoint() {
    alembic_project
    amig D001 '"r1"'
    amig D002 '"r2"'
    amig D003 '"D001"'
    amig D004 ''
    build_ok
    run "$D" pipeline generate --print
    expect_rc 0
    expect_out "target: \"r1\""
    run "$D" pipeline run --auto
    expect_rc 0
    expect_out "==> [1/"
    expect_out "Pipeline complete"
    expect_sql "SELECT version_num FROM alembic_version" r3
    expect_sql "SELECT string_agg(rev || '@' || at, ',' ORDER BY rev) FROM t_log" "D001@r1,D002@r2,D003@r1,D004@r3"
    # a written pipeline, with a failing step: stops with its exit code
    run "$D" pipeline generate
    expect_rc 0
    [ -f pipeline.yaml ] || fail "no pipeline.yaml"
    printf 'steps:\n  - {name: bad, type: alembic, target: nosuchrev}\n  - {name: never, type: delembic, target: head}\n' >bad.yaml
    run "$D" pipeline run --file bad.yaml
    [ "$RC" != 0 ] || fail "a failing step passed"
    expect_out "step 1 failed"
    expect_no_out "[2/2]"
    printf 'steps:\n  - {name: x, type: shell, target: head}\n' >worse.yaml
    run "$D" pipeline run --file worse.yaml
    expect_rc 2
    expect_out "worse.yaml:2:21: step type must be alembic or delembic"
}

test_pipeline_refuses_multiple_heads() {
    alembic_project
    alembic revision -m "branch" --head r2 --splice --rev-id b1 >/dev/null 2>&1
    amig D001 '"r1"'
    build_ok
    run "$D" pipeline generate --print
    expect_rc 2
    expect_out "alembic merge heads"
}

run_tests
