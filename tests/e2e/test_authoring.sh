#!/bin/bash
# Issue 3: init, revision, build, bundles with a manifest, the SDK and COPY.
source "$(dirname "$0")/lib.sh"

new_empty() {
    new_project
    rm -rf "$P/migrations" "$P/delembic.yaml"
}

test_init_writes_and_refuses_to_overwrite() {
    new_empty
    run "$D" init
    expect_rc 0
    [ -f delembic.yaml ] && [ -d migrations ] || fail "init wrote nothing"
    run "$D" init
    expect_rc 2
    expect_out "already exists"
    run "$D" -n silver init silver_migrations
    expect_rc 0
    [ -d silver_migrations ] || fail "no silver folder"
    grep -q '^silver:' delembic.yaml || fail "no silver section"
    run "$D" -n silver init
    expect_rc 2
    expect_out "already has a section 'silver'"
    run "$D" -n silver build
    expect_rc 0
    run "$D" -n silver current --database "$URL"
    expect_out "0 of 0 applied"
}

test_revision_numbering_and_compiles_as_generated() {
    new_empty
    "$D" init >/dev/null
    set_database "$URL"
    run "$D" revision -m "load person demographics"
    expect_rc 0
    expect_out "migrations/D001_load_person_demographics.c"
    expect_out "WARNING: the database has no Alembic version table (alembic_version)"
    run "$D" revision -m "Fix: NDC → RxNorm mapping (café, Straße)!"
    expect_rc 0
    expect_out "D002_fix_ndc_rxnorm_mapping_cafe_strasse.c"
    grep -qF '.description = "Fix: NDC → RxNorm mapping (café, Straße)!"' migrations/D002_*.c || fail "description not kept"
    # renamed files and gaps: the highest revision in the sources wins
    mv migrations/D002_*.c migrations/mapping_fix.c
    sed -i 's/"D002"/"D009"/' migrations/mapping_fix.c
    run "$D" revision -m 'quote " and backslash \ in a message'
    expect_out "D010_quote_and_backslash_in_a_message.c"
    sed -i 's/"D010"/"D099"/' migrations/D010_*.c
    run "$D" revision -m "next"
    expect_out "D100_next.c"
    run "$D" revision
    expect_rc 2
    expect_out "needs a message"
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(revision, ',' ORDER BY revision) FROM delembic_version" "D001,D009,D099,D100"
    run "$D" history
    expect_out 'quote " and backslash \ in a message'
}

test_revision_warns_when_database_unreachable() {
    new_empty
    "$D" init >/dev/null
    set_database "postgresql:///nope?host=/nonexistent"
    run "$D" revision -m "offline"
    expect_rc 0
    expect_out "WARNING: could not read the Alembic heads"
    grep -q "DM_NO_DEPS" migrations/D001_offline.c || fail "deps not empty"
}

test_incremental_parallel_build() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mkdir -p "$P/sdk" && cp -r "$ROOT/plugins/include/." "$P/sdk/"
    export DELEMBIC_SDK_INCLUDE="$P/sdk"
    for i in 1 2 3 4 5; do mig T00$i '' "INSERT INTO t_log VALUES ('T00$i')"; done
    printf '#define LOCAL_VALUE 1\n' >migrations/local.h
    sed -i 's|#include <delembic/plugin.h>|#include <delembic/plugin.h>\n#include "local.h"|' migrations/T003.c
    run "$D" build -j 3
    expect_rc 0
    expect_out "5 compiled, 0 up to date"
    run "$D" build
    expect_out "0 compiled, 5 up to date"
    touch_later migrations/T002.c
    run "$D" build
    expect_out "1 compiled, 4 up to date"
    touch_later migrations/local.h
    run "$D" build
    expect_out "1 compiled, 4 up to date"
    touch_later "$P/sdk/delembic/plugin.h"
    run "$D" build
    expect_out "5 compiled, 0 up to date"
    CFLAGS="-O1" run "$D" build
    expect_out "5 compiled, 0 up to date"
    rm migrations/T005.c
    run "$D" build
    expect_rc 0
    [ ! -e build/bundle/T005.so ] || fail "stale T005.so left"
    grep -q T005 build/bundle/manifest.yaml && fail "T005 still in the manifest"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 4
}

test_broken_source_names_file_and_line() {
    new_project
    mig T001 '' "SELECT 1"
    cat >migrations/T002_broken.c <<'C'
#include <delembic/plugin.h>
static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "SELECT 1") +;
}
DM_MIGRATION(.revision = "T002", .upgrade = upgrade);
C
    run "$D" build
    expect_rc 2
    expect_out "T002_broken.c:4:"
    expect_out "did not compile: T002_broken.c"
    [ ! -e build/bundle/manifest.yaml ] || fail "a manifest was written"
}

test_duplicate_revision_names_both_files() {
    new_project
    mig T001 '' "SELECT 1" "" a.c
    mig T001 '' "SELECT 2" "" b.c
    run "$D" build
    expect_rc 2
    expect_out "revision T001 is defined by both"
    expect_out "a.c"
    expect_out "b.c"
}

test_manifest_lists_descriptors() {
    new_project
    mig T001 '' "SELECT 1"
    mig T002 '"T001", "abc123"' "SELECT 1"
    build_ok
    expect_out "warning: T002 depends on 'abc123', taken as an Alembic revision"
    m=build/bundle/manifest.yaml
    grep -q "revision: T002" $m && grep -q "file: T002.so" $m && grep -q "depends_on: \[T001, abc123\]" $m \
        && grep -q "alembic: \[abc123\]" $m || fail "manifest: $(cat $m)"
    sha=$(sha256sum build/bundle/T001.so | cut -d' ' -f1)
    grep -q "sha256: $sha" $m || fail "sha256 of T001.so not in the manifest"
}

test_bundle_refusals_before_any_plugin_runs() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    cp -a build/bundle "$P/pristine"
    # a changed plugin file
    printf 'x' >>build/bundle/T002.so
    run "$D" upgrade head
    expect_rc 2
    expect_out "T002.so: sha256 is"
    expect_sql "SELECT count(*) FROM t_log" 1   # T001 ran; T002 was refused before loading
    expect_sql "SELECT count(*) FROM delembic_version WHERE revision = 'T002'" 0
    # unlisted and missing files stop the run before anything
    for case in unlisted missing revision deps; do
        sql "TRUNCATE t_log; DROP TABLE IF EXISTS delembic_version, delembic_run_history"
        rm -rf build/bundle && cp -a "$P/pristine" build/bundle
        case $case in
            unlisted) cp build/bundle/T001.so build/bundle/extra.so; want="extra.so: a plugin that manifest.yaml does not list" ;;
            missing) rm build/bundle/T002.so; want="T002.so: listed in manifest.yaml for T002 but missing" ;;
            revision) sed -i 's/revision: T001/revision: T00X/; s/\[T001\]/[T00X]/' build/bundle/manifest.yaml; want="descriptor says revision T001 but manifest.yaml says T00X" ;;
            deps) sed -i 's/depends_on: \[T001\]/depends_on: []/' build/bundle/manifest.yaml; want="depends_on of T002 has T001, which manifest.yaml does not list" ;;
        esac
        run "$D" upgrade head
        expect_rc 2
        expect_out "$want"
        [ "$case" = deps ] || expect_sql "SELECT count(*) FROM t_log" 0
    done
}

test_bundle_runs_from_anywhere_with_bundle_flag() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mig T001 '' "INSERT INTO t_log VALUES ('T001')"
    build_ok
    temp_dir vendor
    cp -a build/bundle "$vendor/bundle"
    cd "$vendor"
    run "$D" upgrade head --bundle "$vendor/bundle" --database "$URL"
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 1
    DELEMBIC_DATABASE_URL=$URL run "$D" --bundle "$vendor/bundle" history
    expect_out "applied  T001"
}

test_migration_built_outside_the_tree_with_pkg_config() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    inst="$P/inst"
    DESTDIR="$inst" meson install -C "$ROOT/${BUILD:-build}" --no-rebuild >/dev/null 2>&1 || fail "meson install failed"
    pc=$(dirname "$(find "$inst" -name delembic-plugin.pc | head -1)")
    [ -n "$pc" ] || fail "no delembic-plugin.pc installed"
    mkdir -p "$P/vendor"
    cat >"$P/vendor/V001.c" <<'C'
#include <delembic/plugin.h>
static int upgrade(PGconn *conn, dm_ctx *ctx) { return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('V001')"); }
DM_MIGRATION(.revision = "V001", .description = "vendor built", .upgrade = upgrade);
C
    flags=$(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs delembic-plugin) || fail "pkg-config failed"
    cc -shared -fPIC -o "$P/vendor/V001.so" "$P/vendor/V001.c" $flags || fail "compile failed with: $flags"
    rm "$P/vendor/V001.c"
    sha=$(sha256sum "$P/vendor/V001.so" | cut -d' ' -f1)
    printf 'format: 1\nabi: 1\nmigrations:\n  - revision: V001\n    file: V001.so\n    sha256: %s\n    description: vendor built\n    depends_on: []\n' "$sha" >"$P/vendor/manifest.yaml"
    run "$D" upgrade head --bundle "$P/vendor" --database "$URL"
    expect_rc 0
    expect_sql "SELECT rev FROM t_log" V001
    nm -D "$P/vendor/V001.so" | grep -q ' U del_' && fail "plugin needs host symbols"
    true
}

test_copy_helper_quotes_delimiters_nulls_and_bad_row() {
    new_project
    sql "CREATE TABLE t_copy (id int PRIMARY KEY, name text, note text)"
    mkdir -p migrations/data
    printf 'id\tname\tnote\n1\t"tab\there"\tplain\n2\t"quote ""q"""\tNULL\n3\t"new\nline"\t\n4\t,comma,\tx\n' >migrations/data/good.tsv
    use_plugin copy_load T001 FILE=good.tsv 'DELIM=\\t' NULL=NULL
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_out "copied 4 rows"
    expect_sql "SELECT name FROM t_copy WHERE id = 1" "tab	here"
    expect_sql "SELECT name FROM t_copy WHERE id = 2" 'quote "q"'
    expect_sql "SELECT note IS NULL FROM t_copy WHERE id = 2" t
    expect_sql "SELECT name = E'new\\nline' FROM t_copy WHERE id = 3" t
    expect_sql "SELECT name FROM t_copy WHERE id = 4" ",comma,"
    printf 'id,name,note\n10,a,b\n11,b,c\nnot_a_number,c,d\n12,d,e\n' >migrations/data/bad.csv
    use_plugin copy_load T002 FILE=bad.csv DELIM=, NULL=
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "line 4"
    expect_out "not_a_number"
    expect_sql "SELECT count(*) FROM t_copy WHERE id >= 10" 0
}

run_tests
