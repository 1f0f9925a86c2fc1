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

test_bad_inputs_table() {
    base_project
    # a role with a password, for the wrong-password case
    sql "CREATE ROLE pwuser LOGIN PASSWORD 'right-one'" 2>/dev/null || true
    _pg_as sh -c "sed -i '1i local all pwuser scram-sha-256' '$PGTMP/data/pg_hba.conf'"
    _pg_as "$PGBIN/pg_ctl" -D "$PGTMP/data" reload >/dev/null
    sleep 0.3
    # a descriptor with a NULL revision, in a hand-made bundle entry
    cc -shared -fPIC -I"$ROOT/plugins/include" $(pkg-config --cflags libpq) \
        -o "$P/null_rev.so" "$PLUGINS/broken/null_revision.c" -lpq 2>/dev/null || fail "cc"
    before=$(snapshot)
    local n=0
    while IFS='|' read -r name want_rc needle setup cmd; do
        [ -z "$name" ] && continue
        restore
        eval "$setup" || fail "$name: setup failed"
        run eval "$cmd"
        if [ "$RC" != "$want_rc" ] || ! grep -qF -- "$needle" <<<"$OUT"; then
            fail "$name: exit $RC (want $want_rc), output lacks '$needle':
$OUT"
        fi
        [ "$(wc -l <<<"$OUT")" -le 3 ] || fail "$name: more than one line of error: $OUT"
        grep -q "right-one\|wrong-pass" <<<"$OUT" && fail "$name: a password was printed"
        [ "$(snapshot)" = "$before" ] || fail "$name: the database changed"
        n=$((n + 1))
    done <<'TABLE'
config: malformed YAML|2|delembic.yaml:3:|printf 'delembic:\n  script_location: [a\n  x: y\n' >delembic.yaml|"$D" upgrade head
config: wrong type|2|field 'script_location' must be a text value|printf 'delembic:\n  script_location: [a, b]\n' >delembic.yaml|"$D" upgrade head
config: unknown key|2|unknown field 'databse'|printf 'delembic:\n  databse: x\n' >delembic.yaml|"$D" upgrade head
config: duplicate key|2|duplicate key 'build_dir'|printf 'delembic:\n  build_dir: a\n  build_dir: b\n' >delembic.yaml|"$D" upgrade head
config: empty file|2|is empty|: >delembic.yaml|"$D" upgrade head
config: binary file|2|NUL byte|head -c 3000 /dev/urandom >delembic.yaml; printf '\0' >>delembic.yaml|"$D" upgrade head
config: huge file|2|larger than|printf '%3000000s' x >delembic.yaml|"$D" upgrade head
config: unknown section|2|no section 'prod'|:|"$D" -n prod upgrade head
config: jobs out of range|2|field 'jobs' must be a whole number from 1 to 256|printf '  jobs: -3\n' >>delembic.yaml|"$D" upgrade head
config: bad duration|2|field 'statement_timeout' must be a duration|printf '  statement_timeout: "1; DROP TABLE t_log"\n' >>delembic.yaml|"$D" upgrade head
manifest: malformed YAML|2|manifest.yaml:3:1: invalid YAML|printf 'format: 1\nabi: [1\n' >build/bundle/manifest.yaml|"$D" upgrade head
manifest: missing key|2|required field 'sha256' is missing|sed -i '0,/sha256:/{/sha256:/d}' build/bundle/manifest.yaml|"$D" upgrade head
manifest: unknown key|2|unknown field 'sha512'|sed -i '0,/sha256:/s/sha256:/sha512:/' build/bundle/manifest.yaml|"$D" upgrade head
manifest: duplicate key|2|duplicate key 'revision'|sed -i '0,/file:/s/  file:/  revision: X\n  file:/' build/bundle/manifest.yaml|"$D" upgrade head
manifest: wrong type|2|field 'depends_on' must be a list|sed -i '0,/depends_on:/s/depends_on: .*/depends_on: 5/' build/bundle/manifest.yaml|"$D" upgrade head
manifest: empty|2|the manifest is empty|: >build/bundle/manifest.yaml|"$D" upgrade head
manifest: binary|2|NUL byte|head -c 500 /dev/urandom >build/bundle/manifest.yaml; printf '\0' >>build/bundle/manifest.yaml|"$D" upgrade head
manifest: future format|2|manifest format 99|sed -i 's/^format: 1/format: 99/' build/bundle/manifest.yaml|"$D" upgrade head
manifest: other ABI|2|bundle ABI 2|sed -i 's/^abi: 1/abi: 2/' build/bundle/manifest.yaml|"$D" upgrade head
manifest: cycle|2|dependency cycle: T001 -> T002 -> T001|sed -i '0,/depends_on: \[\]/s/depends_on: \[\]/depends_on: [T002]/' build/bundle/manifest.yaml|"$D" upgrade head
manifest: dangling dependency|2|T002 depends on T00X, which is neither|sed -i 's/depends_on: \[T001\]/depends_on: [T00X]/' build/bundle/manifest.yaml|"$D" upgrade head
pipeline: wrong type|2|'steps' must be a list|printf 'steps: 3\n' >pipeline.yaml|"$D" pipeline run
pipeline: unknown key|2|unknown field 'when'|printf 'steps:\n  - {type: delembic, target: head, when: always}\n' >pipeline.yaml|"$D" pipeline run
pipeline: missing target|2|required field 'target' is missing|printf 'steps:\n  - {type: delembic}\n' >pipeline.yaml|"$D" pipeline run
url: bad URL|2|bad database URL|:|"$D" --database 'postgresql://h/x?bogus=1' upgrade head
url: unreachable|2|cannot connect to the database|:|"$D" --database "postgresql:///x?host=/nonexistent" upgrade head
url: wrong password|2|password authentication failed for user "pwuser"|:|"$D" --database "postgresql://pwuser:wrong-pass@/$DB?host=$PGHOST" upgrade head
url: refusing database|2|database "no_such_db" does not exist|:|"$D" --database "postgresql:///no_such_db?host=$PGHOST" upgrade head
target: unknown revision|2|unknown target revision 'T999'|:|"$D" upgrade T999
so: truncated|2|T002.so: cannot load|head -c 100 "$P/pristine-bundle/T002.so" >build/bundle/T002.so; reseal T002.so|"$D" upgrade head
so: not ELF|2|T002.so: not a shared object|echo 'not elf' >build/bundle/T002.so; reseal T002.so|"$D" upgrade head
so: NULL revision|2|T002.so: revision is NULL or empty|cp "$P/null_rev.so" build/bundle/T002.so; reseal T002.so|"$D" upgrade head
perm: group-writable folder|2|chmod go-w|chmod g+w build/bundle|"$D" upgrade head
perm: world-writable file|2|writable by everyone|chmod o+w build/bundle/T002.so|"$D" upgrade head
perm: symlink out of the bundle|2|leaves the bundle folder|cp build/bundle/T002.so "$P/outside.so"; ln -sf "$P/outside.so" build/bundle/T002.so|"$D" upgrade head
TABLE
    [ $n -ge 25 ] || fail "only $n cases ran"
    echo "    $n bad inputs refused" >&2
    restore
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T002"
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
    expect_out "changed: T001 was applied from sha256"
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
