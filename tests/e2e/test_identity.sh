#!/bin/bash
# Issue "Guarantees that hold in the field", items 1, 3 and 4: a migration's
# code identity (reproducible .so files, drift that survives renames and other
# checkouts), atomic builds that never break the good bundle, and the warning
# when sources are newer than the bundle.
source "$(dirname "$0")/lib.sh"

# the identity (or sha256) the manifest of bundle $2 (default build/bundle) gives revision $1
manifest_field() {
    awk -v r="$1" -v k="$2:" '$1 == "-" && $2 == "revision:" { cur = $3 } cur == r && $1 == k { print $2; exit }' \
        "${3:-build/bundle}/manifest.yaml"
}
ident_of() { manifest_field "$1" identity "${2:-build/bundle}"; }
sha_of() { manifest_field "$1" sha256 "${2:-build/bundle}"; }

# a project with a local header and a data file
ident_project() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    printf '#define LOCAL_TAG "v1"\n' >migrations/local.h
    mig T001 '' "INSERT INTO t_log VALUES ('T001')" "" T001_first.c
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002 \" LOCAL_TAG \"')" "" T002_second.c
    sed -i 's|#include <delembic/plugin.h>|#include <delembic/plugin.h>\n#include "local.h"|' migrations/T002_second.c
    mkdir -p migrations/data
    printf 'a,b\n1,2\n' >migrations/data/small.csv
}

# a second checkout of the project: another folder, T002's source renamed
second_checkout() {
    Q="$P/elsewhere/deeper/checkout"
    mkdir -p "$Q"
    cp -a "$P/delembic.yaml" "$P/migrations" "$Q/"
    mv "$Q/migrations/T002_second.c" "$Q/migrations/D999_renamed_by_a_teammate.c"
}

test_same_source_in_another_folder_and_name_builds_byte_identical() {
    ident_project
    build_ok
    second_checkout
    (cd "$Q" && "$D" build >/dev/null 2>&1) || fail "build in the second checkout failed"
    cmp build/bundle/T001_first.so "$Q/build/bundle/T001_first.so" || fail "T001 differs between checkouts"
    cmp build/bundle/T002_second.so "$Q/build/bundle/D999_renamed_by_a_teammate.so" || fail "T002 differs after a rename"
    for r in T001 T002; do
        a=$(ident_of $r) b=$(ident_of $r "$Q/build/bundle")
        [ ${#a} = 64 ] || fail "no identity for $r in the manifest: $(cat build/bundle/manifest.yaml)"
        [ "$a" = "$b" ] || fail "identity of $r differs between checkouts: $a / $b"
        [ "$(sha_of $r)" = "$(sha_of $r "$Q/build/bundle")" ] || fail "sha256 of $r differs"
    done
    # the identity is not the file's sha256
    [ "$(ident_of T001)" != "$(sha_of T001)" ] || fail "identity is the .so sha256"
}

test_applied_from_one_checkout_no_drift_from_another() {
    ident_project
    build_ok
    run "$D" upgrade head
    expect_rc 0
    second_checkout
    cd "$Q"
    build_ok
    run "$D" verify --strict
    expect_rc 0
    expect_no_out "changed"
    run "$D" upgrade head --strict
    expect_rc 0
    expect_no_out "WARNING"
    run "$D" history
    expect_out "applied  T002"
    expect_no_out "changed"
    # rows that hold the identity (as the worker records it), or the .so
    # sha256 (as earlier versions did): unchanged either way
    sql "UPDATE delembic_version SET checksum = '$(ident_of T002)' WHERE revision = 'T002'"
    run "$D" verify --strict
    expect_rc 0
    expect_no_out "changed"
    run "$D" upgrade head --strict
    expect_rc 0
    run "$D" history
    expect_out "applied  T002"
    # an identity that is not this code's is drift
    sql "UPDATE delembic_version SET checksum = repeat('ab', 32) WHERE revision = 'T002'"
    run "$D" history
    expect_out "changed  T002"
    run "$D" verify --strict
    expect_rc 2
    expect_out "T002 was applied with identity abababababab..., the bundle now has identity $(ident_of T002 | cut -c1-12)..."
    run "$D" upgrade head --strict
    expect_rc 2
    expect_out "changed since they ran (--strict)"
    run "$D" --json current
    expect_out '"changed":1'
}

test_identity_follows_source_header_and_flags() {
    ident_project
    build_ok
    id1=$(ident_of T001) id2=$(ident_of T002) sha2=$(sha_of T002)
    # mtimes alone change nothing
    touch_later migrations/*.c migrations/local.h
    build_ok
    [ "$(ident_of T002)" = "$id2" ] && [ "$(sha_of T002)" = "$sha2" ] || fail "a touch changed T002"
    # the source
    sed -i "s/VALUES ('T001')/VALUES ('T001b')/" migrations/T001_first.c
    build_ok
    [ "$(ident_of T001)" != "$id1" ] || fail "a source edit kept T001's identity"
    [ "$(ident_of T002)" = "$id2" ] || fail "T001's edit changed T002"
    sed -i "s/VALUES ('T001b')/VALUES ('T001')/" migrations/T001_first.c
    build_ok
    [ "$(ident_of T001)" = "$id1" ] || fail "reverting T001 did not give its identity back"
    # a project-local header
    printf '#define LOCAL_TAG "v2"\n' >migrations/local.h
    build_ok
    [ "$(ident_of T002)" != "$id2" ] || fail "a header edit kept T002's identity"
    [ "$(ident_of T001)" = "$id1" ] || fail "a header T001 does not include changed its identity"
    printf '#define LOCAL_TAG "v1"\n' >migrations/local.h
    build_ok
    [ "$(ident_of T002)" = "$id2" ] || fail "reverting the header did not give T002's identity back"
    # the flags
    CFLAGS="-O1 -g" run "$D" build
    expect_rc 0
    [ "$(ident_of T001)" != "$id1" ] || fail "other CFLAGS kept T001's identity"
    build_ok
    [ "$(ident_of T001)" = "$id1" ] || fail "the default CFLAGS did not give T001's identity back"
}

test_failed_build_leaves_the_bundle_as_it_was() {
    ident_project
    build_ok
    cp -a build/bundle "$P/before"
    # a duplicate revision
    mig T001 '' "SELECT 1" "" T001_copy.c
    run "$D" build
    expect_rc 2
    expect_out "revision T001 is defined by both"
    diff -r "$P/before" build/bundle || fail "the duplicate left the bundle changed"
    rm migrations/T001_copy.c
    # a compile error next to a good new source
    mig T003 '"T002"' "INSERT INTO t_log VALUES ('T003')"
    printf 'static int broken(void) { return 1 +; }\n' >migrations/T004_broken.c
    run "$D" build
    expect_rc 2
    expect_out "T004_broken.c:1:"
    diff -r "$P/before" build/bundle || fail "the compile error left the bundle changed"
    rm migrations/T004_broken.c
    # a dependency on nothing, and a cycle
    mig T004 '"T00X"' "SELECT 1"
    printf 'delembic:\n  script_location: migrations\n  build_dir: build/bundle\n  database: %s\n  alembic_config: alembic.ini\n' "$URL" >delembic.yaml
    mkdir -p alembic/versions
    printf '[alembic]\nscript_location = alembic\n' >alembic.ini
    run "$D" build
    expect_rc 2
    expect_out "depends_on entry 'T00X'"
    diff -r "$P/before" build/bundle || fail "a bad dependency left the bundle changed"
    mig T004 '"T005"' "SELECT 1"
    mig T005 '"T004"' "SELECT 1"
    run "$D" build
    expect_rc 2
    expect_out "cycle"
    diff -r "$P/before" build/bundle || fail "a cycle left the bundle changed"
    ls -A build | grep -v '^bundle$' | grep -v 'build-state' && fail "staging left beside the bundle"
    # the good bundle still runs
    rm migrations/T004.c migrations/T005.c
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T002 v1"
    # and the next good build replaces it whole
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 3
}

test_bundle_holds_no_build_state_and_no_local_paths() {
    ident_project
    build_ok
    [ ! -e build/bundle/.deps ] || fail "build state inside the bundle"
    extra=$(ls -A build/bundle | grep -vE '^(manifest\.yaml|.*\.so|data)$') && fail "unexpected files in the bundle: $extra"
    [ -f build/bundle/data/small.csv ] || fail "data/ not copied"
    grep -rl -- "$P" build/bundle && fail "the project's path is inside the bundle"
    grep -rl -- "$ROOT" build/bundle && fail "delembic's build path is inside the bundle"
    # the bundle folder keeps its rules
    [ "$(stat -c %a build/bundle)" = 755 ] || fail "bundle folder mode $(stat -c %a build/bundle)"
    run "$D" verify --offline
    expect_rc 0
}

test_upgrade_warns_when_sources_changed_since_the_build() {
    ident_project
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_no_out "WARNING"
    # edit a source without building
    sed -i "s/VALUES ('T001')/VALUES ('T001 edited')/" migrations/T001_first.c
    mig T003 '"T002"' "INSERT INTO t_log VALUES ('T003')"
    run "$D" upgrade head --strict
    expect_rc 2
    expect_out "sources changed since the last build: migrations/T001_first.c, migrations/T003.c"
    run "$D" upgrade head
    expect_rc 0
    expect_out "WARNING: sources changed since the last build: migrations/T001_first.c, migrations/T003.c; run 'delembic build'"
    # a header, and a removed source
    build_ok
    printf '#define LOCAL_TAG "v3"\n' >migrations/local.h
    rm migrations/T003.c
    run "$D" upgrade head
    expect_out "WARNING: sources changed since the last build: migrations/T003.c, migrations/local.h"
    # --bundle: a shipped bundle has no sources to compare
    run "$D" upgrade head --bundle build/bundle
    expect_no_out "sources changed"
}

test_upgrade_strict_refuses_a_stale_bundle_before_anything_runs() {
    ident_project
    build_ok
    sed -i "s/VALUES ('T001')/VALUES ('T001 edited')/" migrations/T001_first.c
    run "$D" upgrade head --strict
    expect_rc 2
    expect_out "migrations/T001_first.c"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT to_regclass('delembic_version') IS NULL" t   # not even connected
    build_ok
    run "$D" upgrade head --strict
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001 edited,T002 v1"
}

test_touch_without_content_change_is_not_stale() {
    ident_project
    build_ok
    touch_later migrations/*.c migrations/local.h
    run "$D" upgrade head --strict
    expect_rc 0
    expect_no_out "WARNING"
    # rewritten with the same bytes (as a git checkout does)
    cp migrations/T001_first.c "$P/t" && rm migrations/T001_first.c && cp "$P/t" migrations/T001_first.c
    run "$D" upgrade head --strict
    expect_rc 0
    expect_no_out "sources changed"
}

test_rename_without_rebuild_is_not_stale() {
    # the same bytes under a new name: the bundle runs that very code
    ident_project
    build_ok
    mv migrations/T001_first.c migrations/T001_renamed.c
    run "$D" upgrade head --strict
    expect_rc 0
    expect_no_out "sources changed"
    # a rename that also changes the code is stale, under its new name
    mv migrations/T001_renamed.c migrations/T001_again.c
    sed -i "s/VALUES ('T001')/VALUES ('T001 edited')/" migrations/T001_again.c
    run "$D" upgrade head
    expect_out "WARNING: sources changed since the last build:"
    expect_out "migrations/T001_again.c"
    expect_out "migrations/T001_first.c"
}

test_build_replaces_only_a_bundle_folder() {
    ident_project
    mkdir -p "$P/notes" && echo keep >"$P/notes/todo.txt"
    run "$D" build -o "$P/notes"
    expect_rc 2
    expect_out "not a bundle folder (it holds 'todo.txt')"
    [ "$(cat "$P/notes/todo.txt")" = keep ] || fail "a folder that is not a bundle was touched"
    # an empty folder, or one with a bundle of the old layout (.deps/ inside), is fine
    mkdir -p "$P/dist/old/.deps" && touch "$P/dist/old/.deps/T001.d" "$P/dist/old/T001_first.so"
    run "$D" build -o "$P/dist/old"
    expect_rc 0
    [ ! -e "$P/dist/old/.deps" ] || fail ".deps kept"
    run "$D" verify --offline --bundle "$P/dist/old"
    expect_rc 0
}

test_concurrent_builds_and_a_killed_one_leave_a_good_bundle() {
    ident_project
    for i in $(seq 3 12); do mig T0$(printf %02d $i) '' "SELECT $i"; done
    "$D" build -j 1 >"$P/b1.log" 2>&1 & b1=$!
    "$D" build -j 1 >"$P/b2.log" 2>&1 & b2=$!
    wait $b1 || fail "first build: $(cat "$P/b1.log")"
    wait $b2 || fail "second build: $(cat "$P/b2.log")"
    run "$D" verify --offline
    expect_rc 0
    expect_out "12 migration(s), 0 problem(s)"
    # a build killed mid-way leaves its staging folder; the next build clears it
    mkdir -p build/.bundle.new-Zz9Yy8 && touch build/.bundle.new-Zz9Yy8/T001_first.so
    sed -i 's/SELECT 3/SELECT 33/' migrations/T003.c
    build_ok
    [ ! -e build/.bundle.new-Zz9Yy8 ] || fail "a dead build's staging folder was left"
    run "$D" upgrade head
    expect_rc 0
}

# ---- findings against issue 9 (the build engineer's B items) ---------------

test_build_refuses_a_latin1_description_naming_source_and_field() {
    ident_project
    build_ok
    cp -a build/bundle "$P/before"
    # saved as ISO-8859-1: "donn\xe9es" is not UTF-8
    printf '#include <delembic/plugin.h>\nstatic int up(PGconn *c, dm_ctx *x) { return dm_exec(x, c, "SELECT 1"); }\nDM_MIGRATION(.revision = "T003", .depends_on = DM_DEPS("T002"), .description = "Chargement des donn\xe9es", .upgrade = up);\n' \
        >migrations/T003_latin1.c
    run_bounded "$D" build
    expect_rc 2
    expect_out "migrations/T003_latin1.c"
    expect_out "description"
    expect_out "not valid UTF-8"
    expect_out "save the source as UTF-8"
    diff -r "$P/before" build/bundle || fail "the refused build changed the bundle"
    # control characters in the description are refused the same way
    printf '#include <delembic/plugin.h>\nstatic int up(PGconn *c, dm_ctx *x) { return dm_exec(x, c, "SELECT 1"); }\nDM_MIGRATION(.revision = "T003", .depends_on = DM_DEPS("T002"), .description = "clear \\033[2J screen", .upgrade = up);\n' \
        >migrations/T003_latin1.c
    run_bounded "$D" build
    expect_rc 2
    expect_out "migrations/T003_latin1.c"
    expect_out "description of T003 holds a control character"
    diff -r "$P/before" build/bundle || fail "the refused build changed the bundle"
    # saved as UTF-8, it builds
    printf '#include <delembic/plugin.h>\nstatic int up(PGconn *c, dm_ctx *x) { return dm_exec(x, c, "SELECT 1"); }\nDM_MIGRATION(.revision = "T003", .depends_on = DM_DEPS("T002"), .description = "Chargement des donn\xc3\xa9es", .upgrade = up);\n' \
        >migrations/T003_latin1.c
    build_ok
    grep -q "description: Chargement des donn" build/bundle/manifest.yaml || fail "no description in: $(cat build/bundle/manifest.yaml)"
}

test_system_header_change_rebuilds_and_changes_the_identity() {
    ident_project
    local X
    temp_dir X
    printf '#define SHARED_TAG "s1"\n' >"$X/shared_util.h"
    sed -i 's|#include <delembic/plugin.h>|#include <delembic/plugin.h>\n#include <shared_util.h>|; s|VALUES (.T001.)|VALUES ('"'"'T001 " SHARED_TAG "'"'"')|' \
        migrations/T001_first.c
    export CFLAGS="-O2 -g -isystem $X"
    build_ok
    local id1
    id1=$(ident_of T001)
    printf '#define SHARED_TAG "s2"\n' >"$X/shared_util.h"
    touch_later "$X/shared_util.h"
    run "$D" build
    expect_rc 0
    expect_out "1 compiled"
    [ "$(ident_of T001)" != "$id1" ] || fail "a change to an -isystem header kept T001's identity"
    # what a teammate's fresh build gives
    run "$D" build -o "$P/fresh"
    expect_rc 0
    [ "$(ident_of T001)" = "$(ident_of T001 "$P/fresh")" ] || fail "the incremental identity is not a fresh build's"
    cmp build/bundle/T001_first.so "$P/fresh/T001_first.so" || fail "the incremental .so is not a fresh build's"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT rev FROM t_log WHERE rev LIKE 'T001%'" "T001 s2"
}

# CFLAGS="$1" build -o $P/other: the identity of T001 and T002 there
other_idents() {
    rm -rf "$P/other" "$P/.other.build-state"
    CFLAGS="$1" run "$D" build -o "$P/other"
    [ "$RC" = 0 ] || { fail "build with CFLAGS='$1' failed: $OUT"; return 1; }
    echo "$(ident_of T001 "$P/other") $(ident_of T002 "$P/other")"
}

test_identity_ignores_debug_and_warning_flags_and_flag_order() {
    ident_project
    build_ok # CFLAGS="-O2 -g"
    local want="$(ident_of T001) $(ident_of T002)" flags got
    for flags in "-g -O2" "-O2" "-O2 -g3 -ggdb -gdwarf-4" "-O2 -g -Wno-unused-parameter -Wshadow -Werror -pedantic -w" \
        "-O2 -g -fdiagnostics-color=never -fmax-errors=3 -Werror=format-security -pedantic-errors -w"; do
        got=$(other_idents "$flags") || return 1
        [ "$got" = "$want" ] || fail "CFLAGS='$flags' changed the identities: $got, not $want"
    done
    # flags that change the code still count, and so does their order
    for flags in "-O1 -g" "-O2 -g -fno-inline" "-O2 -g -DTAG=1" "-O2 -g -Wl,-z,now" "-O2 -g -Wp,-DTAG=1" "-O3 -O2 -O1"; do
        got=$(other_idents "$flags") || return 1
        [ "$got" != "$want" ] || fail "CFLAGS='$flags' kept the identities"
    done
    [ "$(other_idents "-O1 -O2")" != "$(other_idents "-O2 -O1")" ] || fail "the order of -O flags does not count"
}

test_identity_is_the_sdk_source_not_how_its_archive_was_compiled() {
    ident_project
    build_ok
    local want="$(ident_of T001) $(ident_of T002)" X
    temp_dir X
    # the same sdk.c compiled otherwise, as a release build of delembic would
    cc -std=c11 -D_GNU_SOURCE -O0 -fPIC -c "$ROOT/plugins/sdk.c" -I"$ROOT/plugins/include" $(pkg-config --cflags libpq) -o "$X/sdk.o" \
        || fail "cc sdk.c"
    ar rcs "$X/libdelembic-plugin.a" "$X/sdk.o"
    DELEMBIC_SDK_LIB=$X/libdelembic-plugin.a run "$D" build -o "$P/other"
    expect_rc 0
    [ "$(sha_of T001 "$P/other")" != "$(sha_of T001)" ] || fail "the other archive gave the same .so"
    [ "$(ident_of T001 "$P/other") $(ident_of T002 "$P/other")" = "$want" ] || fail "the archive's bytes changed the identities"
    # the SDK header is part of the identity
    mkdir -p "$X/include/delembic"
    { cat "$ROOT/plugins/include/delembic/plugin.h"; echo '/* another SDK header */ typedef int dm_other_t;'; } \
        >"$X/include/delembic/plugin.h"
    DELEMBIC_SDK_INCLUDE=$X/include run "$D" build -o "$P/other2"
    expect_rc 0
    [ "$(ident_of T001 "$P/other2")" != "$(ident_of T001)" ] || fail "another SDK header kept the identity"
}

test_migration_using_posix_and_free_builds_without_warnings() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    # no feature macro, no <stdlib.h>: plugin.h and build's flags bring what the README promises
    cat >migrations/T001_posix.c <<'C'
#include <string.h>
#include <unistd.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    pid_t me = getpid();
    char *name = strdup("T001");
    char *v = NULL;
    if (!name || me <= 0 || dm_scalar_text(ctx, conn, "SELECT 'ok'", &v) != 0)
        return -1;
    int rc = dm_exec_params(ctx, conn, "INSERT INTO t_log VALUES ($1 || ' ' || $2)", 2, DM_PARAMS(name, v), NULL);
    free(v);
    free(name);
    return rc;
}

DM_MIGRATION(.revision = "T001", .depends_on = DM_NO_DEPS, .description = "posix", .upgrade = upgrade);
C
    run "$D" build
    expect_rc 0
    expect_no_out "warning"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT rev FROM t_log" "T001 ok"
}

test_project_copied_with_its_build_folder_is_not_stale() {
    ident_project
    build_ok
    run "$D" upgrade head
    expect_rc 0
    local M
    temp_dir M
    cp -a "$P" "$M/mate2"
    cd "$M/mate2"
    run "$D" upgrade head --strict
    expect_rc 0
    expect_no_out "sources changed"
    run "$D" verify --strict
    expect_rc 0
    expect_no_out "stale"
    # moved, the old folder gone
    mv "$M/mate2" "$M/moved"
    cd "$M/moved"
    run "$D" upgrade head --strict
    expect_rc 0
    expect_no_out "sources changed"
    # and an edit in the copy is still seen
    sed -i "s/VALUES ('T001')/VALUES ('T001 edited')/" migrations/T001_first.c
    run "$D" upgrade head --strict
    expect_rc 2
    expect_out "sources changed since the last build: migrations/T001_first.c; run 'delembic build' (--strict)"
}

test_verify_reports_stale_sources_as_upgrade_does() {
    ident_project
    build_ok
    run "$D" verify
    expect_rc 0
    expect_no_out "stale"
    sed -i "s/VALUES ('T001')/VALUES ('T001 edited')/" migrations/T001_first.c
    printf '#define LOCAL_TAG "v9"\n' >migrations/local.h
    run "$D" verify
    expect_rc 0
    expect_out "stale: migrations/T001_first.c changed since the last build; run 'delembic build'"
    expect_out "stale: migrations/local.h changed since the last build; run 'delembic build'"
    expect_out "0 problem(s), 2 warning(s)"
    run "$D" verify --strict
    expect_rc 2
    expect_out "stale (strict): migrations/T001_first.c"
    run "$D" upgrade head --strict
    expect_rc 2
    # a shipped bundle has no sources to compare
    run "$D" verify --strict --bundle build/bundle
    expect_rc 0
    expect_no_out "stale"
    build_ok
    run "$D" verify --strict
    expect_rc 0
}

test_build_from_a_symlinked_folder_gives_the_same_bytes() {
    ident_project
    build_ok
    local L
    temp_dir L
    ln -s "$P" "$L/via-link"
    cd "$L/via-link"
    run env PWD="$L/via-link" "$D" build -o "$L/via-link/build/other"
    expect_rc 0
    cd "$P"
    for f in T001_first.so T002_second.so; do
        cmp "build/bundle/$f" "build/other/$f" || fail "$f differs when built through a symbolic link"
    done
    grep -l -- "$L" build/other/*.so && fail "the symbolic link's path is in the .so"
    return 0
}

test_undefined_symbol_fails_the_build_naming_source_and_line() {
    ident_project
    build_ok
    cp -a build/bundle "$P/before"
    cat >migrations/T003_undefined.c <<'C'
#include <delembic/plugin.h>
extern int nowhere_defined(void);
static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    (void)conn;
    (void)ctx;
    return nowhere_defined();
}
DM_MIGRATION(.revision = "T003", .depends_on = DM_NO_DEPS, .description = "undefined", .upgrade = upgrade);
C
    run "$D" build
    expect_rc 2
    expect_out "migrations/T003_undefined.c:7: undefined reference to \`nowhere_defined'"
    expect_out "did not compile: T003_undefined.c"
    expect_no_out "migration.c:"
    expect_no_out ".bundle.new-"
    diff -r "$P/before" build/bundle || fail "the failed build changed the bundle"
}

# migrations/T003.c whose depends_on is the C string literal $1
dep_mig() {
    printf '#include <delembic/plugin.h>\nstatic int up(PGconn *c, dm_ctx *x) { return dm_exec(x, c, "SELECT 1"); }\nDM_MIGRATION(.revision = "T003", .depends_on = DM_DEPS("T002", %s), .description = "deps", .upgrade = up);\n' \
        "$1" >migrations/T003.c
}

test_build_refuses_a_depends_on_entry_no_manifest_can_hold() {
    ident_project
    build_ok
    cp -a build/bundle "$P/before"
    dep_mig '"T\001X"'
    run "$D" build
    expect_rc 2
    expect_out "migrations/T003.c: depends_on entry 'T\\x01X' contains spaces, control characters, commas or brackets"
    diff -r "$P/before" build/bundle || fail "the refused build changed the bundle"
    dep_mig '"D 1"'
    run "$D" build
    expect_rc 2
    expect_out "migrations/T003.c: depends_on entry 'D 1' contains spaces, control characters, commas or brackets"
    dep_mig '"a,b"'
    run "$D" build
    expect_rc 2
    expect_out "depends_on entry 'a,b' contains"
    diff -r "$P/before" build/bundle || fail "the refused build changed the bundle"
    run "$D" upgrade head
    expect_rc 0
}

test_build_warning_about_an_unknown_dependency_is_escaped() {
    ident_project
    dep_mig '"x\xe2\x80\xaey"' # U+202E, right-to-left override
    run "$D" build
    expect_rc 0
    expect_out "warning: T003 depends on 'x\\u202ey', taken as an Alembic revision"
    grep -q $'\xe2\x80\xae' <<<"$OUT" && fail "the override reached the terminal raw"
    return 0
}

test_build_refuses_a_target_that_is_not_a_bundle_before_any_work() {
    ident_project
    mkdir -p "$P/a/proj"
    cp -a "$P/migrations" "$P/a/proj/"
    printf 'delembic:\n  script_location: migrations\n  build_dir: ..\n' >"$P/a/proj/delembic.yaml"
    cd "$P/a/proj"
    run "$D" build
    expect_rc 2
    expect_out "$P/a: not a bundle folder (it holds 'proj')"
    expect_no_out "compiled"
    [ ! -e "$P/.a.build-state" ] || fail "build state left beside a folder it refused: $(ls -A "$P")"
    # the root folder
    local had_root_state=0
    [ -e "/..build-state" ] && had_root_state=1
    run "$D" build -o /
    expect_rc 2
    expect_out "/: the root folder cannot be a bundle folder"
    if [ "$had_root_state" = 0 ] && [ -e "/..build-state" ]; then
        rm -rf "/..build-state"
        fail "build state left in /"
    fi
    # a file
    touch "$P/a/file"
    run "$D" build -o "$P/a/file"
    expect_rc 2
    expect_out "$P/a/file: exists and is not a folder"
    [ ! -e "$P/a/.file.build-state" ] || fail "build state left beside a file it refused"
    return 0
}

test_history_json_names_the_applied_identity() {
    ident_project
    build_ok
    run "$D" upgrade head
    expect_rc 0
    run "$D" --json history
    expect_rc 0
    printf '%s' "$OUT" >"$P/history.json"
    python3 - "$(ident_of T001)" "$P/history.json" <<'PY' || fail "history --json: $OUT"
import json, sys
doc = json.load(open(sys.argv[2]))
t1 = [m for m in doc["migrations"] if m["revision"] == "T001"][0]
assert t1["applied_identity"] == sys.argv[1], t1
assert t1["applied_sha256"] == t1["applied_identity"], t1   # the old key, kept
assert t1["identity"] == sys.argv[1], t1
PY
}

# a bundle's data/ is flat and holds plain files: build says so of anything
# else instead of leaving it out, and keeps the bundle it had
test_build_refuses_what_data_cannot_hold_and_copies_linked_files() {
    ident_project
    build_ok
    cp -a build/bundle "$P/before"
    mkdir migrations/data/sub
    printf 'x\n' >migrations/data/sub/inner.csv
    run "$D" build
    expect_rc 2
    expect_out "migrations/data/sub: a folder; a bundle's data/ is flat"
    diff -r "$P/before" build/bundle >/dev/null || fail "the failed build changed the bundle"
    rm -r migrations/data/sub
    mkfifo migrations/data/pipe.csv
    run_bounded "$D" build
    expect_rc 2
    expect_out "migrations/data/pipe.csv: a FIFO, not a regular file"
    rm migrations/data/pipe.csv
    # a symbolic link is copied as the file it leads to, and listed
    printf 'far,away\n' >"$P/far.csv"
    ln -s "$P/far.csv" migrations/data/linked.csv
    build_ok
    [ -f build/bundle/data/linked.csv ] && [ ! -L build/bundle/data/linked.csv ] || fail "the linked file is not in the bundle as a file"
    grep -q "file: data/linked.csv" build/bundle/manifest.yaml || fail "data/linked.csv is not listed: $(cat build/bundle/manifest.yaml)"
    ln -s "$P/nowhere.csv" migrations/data/dangling.csv
    run "$D" build
    expect_rc 2
    expect_out "migrations/data/dangling.csv: cannot read"
}

run_tests
