#!/bin/bash
# Issue 5: verify, permissions, drift, and bad input of every kind: one line
# naming the culprit, a nonzero exit, and nothing applied or lost.
source "$(dirname "$0")/lib.sh"

base_project() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    run "$D" upgrade T001
    expect_rc 0
    cp -a "$P/build/bundle" "$P/pristine-bundle"
    cp delembic.yaml "$P/pristine.yaml"
}

snapshot() {
    sql "SELECT md5(coalesce((SELECT string_agg(revision || status || coalesce(checksum, ''), ',' ORDER BY revision) FROM delembic_version), '')
        || coalesce((SELECT string_agg(id || revision || status, ',' ORDER BY id) FROM delembic_run_history), '')
        || coalesce((SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log), ''))"
}

restore() {
    chmod -R u+w "$P/build/bundle" 2>/dev/null
    rm -rf "$P/build/bundle"
    cp -a "$P/pristine-bundle" "$P/build/bundle"
    cp "$P/pristine.yaml" delembic.yaml
    rm -f pipeline.yaml
}

# set the sha256 of FILE in the manifest to the file's real one
reseal() {
    local f=$1 sha
    sha=$(sha256sum "build/bundle/$f" | cut -d' ' -f1)
    awk -v f="$f" -v s="$sha" '$0 ~ "file: " f "$" { print; getline; sub(/sha256: .*/, "sha256: " s) } { print }' \
        build/bundle/manifest.yaml >m.new && mv m.new build/bundle/manifest.yaml
}

# bad_input_project: base_project, its database state remembered in $BEFORE
bad_input_project() {
    base_project
    BEFORE=$(snapshot)
}

# refuses RC CULPRIT CMD...: CMD, run on bad input, exits RC with one short
# error naming the CULPRIT, prints no password and changes nothing in the
# database; the pristine project then still applies
refuses() {
    local want_rc=$1 culprit=$2
    shift 2
    run "$@"
    expect_rc "$want_rc"
    expect_out "$culprit"
    [ "$(wc -l <<<"$OUT")" -le 3 ] || fail "more than one line of error: $OUT"
    ! grep -q "right-one\|wrong-pass" <<<"$OUT" || fail "a password was printed: $OUT"
    [ "$(snapshot)" = "$BEFORE" ] || fail "the database changed"
    restore
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T002"
}

# password_role: a role pwuser that must log in with its password (right-one)
password_role() {
    sql "CREATE ROLE pwuser LOGIN PASSWORD 'right-one'" 2>/dev/null || true
    if ! _pg_as grep -q '^local all pwuser' "$PGTMP/data/pg_hba.conf"; then
        _pg_as sh -c "sed -i '1i local all pwuser scram-sha-256' '$PGTMP/data/pg_hba.conf'"
        _pg_as "$PGBIN/pg_ctl" -D "$PGTMP/data" reload >/dev/null
    fi
    # the server reads pg_hba.conf again a moment after the reload
    wait_for '[[ "$(psql -w -U pwuser -d "$DB" -c "" 2>&1)" == *"no password supplied"* ]]'
}

# cc_null_revision OUT: OUT, a plugin whose descriptor has a NULL revision
cc_null_revision() {
    cc -shared -fPIC -I"$ROOT/plugins/include" $(pkg-config --cflags libpq) \
        -o "$1" "$PLUGINS/broken/null_revision.c" -lpq 2>/dev/null || fail "cc"
}

test_refuses_a_config_with_malformed_yaml() {
    bad_input_project
    printf 'delembic:\n  script_location: [a\n  x: y\n' >delembic.yaml
    refuses 2 "delembic.yaml:3:" "$D" upgrade head
}

test_refuses_a_config_field_of_the_wrong_type() {
    bad_input_project
    printf 'delembic:\n  script_location: [a, b]\n' >delembic.yaml
    refuses 2 "field 'script_location' must be a text value" "$D" upgrade head
}

test_refuses_a_config_with_an_unknown_key() {
    bad_input_project
    printf 'delembic:\n  databse: x\n' >delembic.yaml
    refuses 2 "unknown field 'databse'" "$D" upgrade head
}

test_refuses_a_config_with_a_duplicate_key() {
    bad_input_project
    printf 'delembic:\n  build_dir: a\n  build_dir: b\n' >delembic.yaml
    refuses 2 "duplicate key 'build_dir'" "$D" upgrade head
}

test_refuses_an_empty_config() {
    bad_input_project
    : >delembic.yaml
    refuses 2 "is empty" "$D" upgrade head
}

test_refuses_a_binary_config() {
    bad_input_project
    head -c 3000 /dev/urandom >delembic.yaml
    printf '\0' >>delembic.yaml
    refuses 2 "NUL byte" "$D" upgrade head
}

test_refuses_a_huge_config() {
    bad_input_project
    printf '%3000000s' x >delembic.yaml
    refuses 2 "larger than" "$D" upgrade head
}

test_refuses_an_unknown_config_section() {
    bad_input_project
    refuses 2 "no section 'prod'" "$D" -n prod upgrade head
}

test_refuses_jobs_out_of_range() {
    bad_input_project
    printf '  jobs: -3\n' >>delembic.yaml
    refuses 2 "field 'jobs' must be a whole number from 1 to 256" "$D" upgrade head
}

test_refuses_a_statement_timeout_that_is_not_a_duration() {
    bad_input_project
    printf '  statement_timeout: "1; DROP TABLE t_log"\n' >>delembic.yaml
    refuses 2 "field 'statement_timeout' must be a duration" "$D" upgrade head
}

test_refuses_a_manifest_with_malformed_yaml() {
    bad_input_project
    printf 'format: 1\nabi: [1\n' >build/bundle/manifest.yaml
    refuses 2 "manifest.yaml:3:1: invalid YAML" "$D" upgrade head
}

test_refuses_a_manifest_missing_a_required_key() {
    bad_input_project
    sed -i '0,/sha256:/{/sha256:/d}' build/bundle/manifest.yaml
    refuses 2 "required field 'sha256' is missing" "$D" upgrade head
}

test_refuses_a_manifest_with_an_unknown_key() {
    bad_input_project
    sed -i '0,/sha256:/s/sha256:/sha512:/' build/bundle/manifest.yaml
    refuses 2 "unknown field 'sha512'" "$D" upgrade head
}

test_refuses_a_manifest_with_a_duplicate_key() {
    bad_input_project
    sed -i '0,/file:/s/  file:/  revision: X\n  file:/' build/bundle/manifest.yaml
    refuses 2 "duplicate key 'revision'" "$D" upgrade head
}

test_refuses_a_manifest_field_of_the_wrong_type() {
    bad_input_project
    sed -i '0,/depends_on:/s/depends_on: .*/depends_on: 5/' build/bundle/manifest.yaml
    refuses 2 "field 'depends_on' must be a list" "$D" upgrade head
}

test_refuses_an_empty_manifest() {
    bad_input_project
    : >build/bundle/manifest.yaml
    refuses 2 "the manifest is empty" "$D" upgrade head
}

test_refuses_a_binary_manifest() {
    bad_input_project
    head -c 500 /dev/urandom >build/bundle/manifest.yaml
    printf '\0' >>build/bundle/manifest.yaml
    refuses 2 "NUL byte" "$D" upgrade head
}

test_refuses_a_manifest_of_a_future_format() {
    bad_input_project
    sed -i 's/^format: 1/format: 99/' build/bundle/manifest.yaml
    refuses 2 "manifest format 99" "$D" upgrade head
}

test_refuses_a_bundle_for_another_abi() {
    bad_input_project
    sed -i 's/^abi: 1/abi: 2/' build/bundle/manifest.yaml
    refuses 2 "bundle ABI 2" "$D" upgrade head
}

test_refuses_a_dependency_cycle() {
    bad_input_project
    sed -i '0,/depends_on: \[\]/s/depends_on: \[\]/depends_on: [T002]/' build/bundle/manifest.yaml
    refuses 2 "dependency cycle: T001 -> T002 -> T001" "$D" upgrade head
}

test_refuses_a_dependency_on_an_unknown_revision() {
    bad_input_project
    sed -i 's/depends_on: \[T001\]/depends_on: [T00X]/' build/bundle/manifest.yaml
    refuses 2 "T002 depends on T00X, which is neither" "$D" upgrade head
}

test_refuses_a_pipeline_whose_steps_are_not_a_list() {
    bad_input_project
    printf 'steps: 3\n' >pipeline.yaml
    refuses 2 "'steps' must be a list" "$D" pipeline run
}

test_refuses_a_pipeline_step_with_an_unknown_key() {
    bad_input_project
    printf 'steps:\n  - {type: delembic, target: head, when: always}\n' >pipeline.yaml
    refuses 2 "unknown field 'when'" "$D" pipeline run
}

test_refuses_a_pipeline_step_without_a_target() {
    bad_input_project
    printf 'steps:\n  - {type: delembic}\n' >pipeline.yaml
    refuses 2 "required field 'target' is missing" "$D" pipeline run
}

test_refuses_a_malformed_database_url() {
    bad_input_project
    refuses 2 "bad database URL" "$D" --database 'postgresql://h/x?bogus=1' upgrade head
}

test_refuses_an_unreachable_database() {
    bad_input_project
    refuses 2 "cannot connect to the database" "$D" --database "postgresql:///x?host=/nonexistent" upgrade head
}

test_refuses_a_wrong_password_without_printing_it() {
    bad_input_project
    password_role
    refuses 2 'password authentication failed for user "pwuser"' "$D" --database "postgresql://pwuser:wrong-pass@/$DB?host=$PGHOST" upgrade head
}

test_refuses_a_database_that_does_not_exist() {
    bad_input_project
    refuses 2 'database "no_such_db" does not exist' "$D" --database "postgresql:///no_such_db?host=$PGHOST" upgrade head
}

test_refuses_an_unknown_target_revision() {
    bad_input_project
    refuses 2 "unknown target revision 'T999'" "$D" upgrade T999
}

test_refuses_a_truncated_shared_object() {
    bad_input_project
    head -c 100 "$P/pristine-bundle/T002.so" >build/bundle/T002.so
    reseal T002.so
    refuses 2 "T002.so: cannot load" "$D" upgrade head
}

test_refuses_a_plugin_that_is_not_a_shared_object() {
    bad_input_project
    echo 'not elf' >build/bundle/T002.so
    reseal T002.so
    refuses 2 "T002.so: not a shared object" "$D" upgrade head
}

test_refuses_a_plugin_with_a_null_revision() {
    bad_input_project
    cc_null_revision build/bundle/T002.so
    reseal T002.so
    refuses 2 "T002.so: revision is NULL or empty" "$D" upgrade head
}

test_refuses_a_group_writable_bundle_folder() {
    bad_input_project
    chmod g+w build/bundle
    refuses 2 "chmod go-w" "$D" upgrade head
}

test_refuses_a_world_writable_plugin() {
    bad_input_project
    chmod o+w build/bundle/T002.so
    refuses 2 "writable by everyone" "$D" upgrade head
}

test_refuses_a_plugin_symlinked_out_of_the_bundle() {
    bad_input_project
    cp build/bundle/T002.so "$P/outside.so"
    ln -sf "$P/outside.so" build/bundle/T002.so
    refuses 2 "leaves the bundle folder" "$D" upgrade head
}

test_verify_clean_and_broken_bundles() {
    base_project
    run "$D" verify --offline
    expect_rc 0
    expect_out "0 problem(s)"
    chmod g+w build/bundle
    echo junk >build/bundle/T002.so
    printf x >>build/bundle/T001.so
    cp build/bundle/T001.so build/bundle/stray.so
    run "$D" verify --offline
    expect_rc 2
    expect_out "permissions:"
    expect_out "checksum: $P/build/bundle/T001.so: sha256 is"
    expect_out "file: $P/build/bundle/T002.so: not a shared object"
    expect_out "unlisted:"
    expect_out "4 problem(s)"
    chmod g-w build/bundle
    restore
    # a bundle built for another machine
    python3 -c "
import sys
d = bytearray(open('build/bundle/T002.so','rb').read()); d[18] = 183; d[19] = 0
open('build/bundle/T002.so','wb').write(bytes(d))"
    reseal T002.so
    run "$D" verify --offline
    expect_rc 2
    expect_out "built for aarch64"
    run "$D" --json verify --offline
    expect_rc 2
    expect_out '"ok":false'
}

test_drift_changed_and_missing() {
    base_project
    run "$D" upgrade head
    expect_rc 0
    # rebuild T001 with a changed body
    sed -i "s/VALUES ('T001')/VALUES ('T001-v2')/" migrations/T001.c
    build_ok
    run "$D" history
    expect_out "changed  T001"
    run "$D" verify
    expect_rc 0
    expect_out "changed: T001 was applied with identity"
    run "$D" verify --strict
    expect_rc 2
    run "$D" upgrade head
    expect_rc 0
    expect_out "WARNING: T001 changed since it was applied"
    run "$D" upgrade head --strict
    expect_rc 2
    expect_out "changed since they ran (--strict)"
    # applied in the database, gone from the bundle
    rm migrations/T002.c
    build_ok
    run "$D" history
    expect_out "missing  T002"
    run "$D" verify
    expect_out "missing: T002 is in the database"
    run "$D" --json history
    expect_out '"status":"missing"'
}

run_tests
