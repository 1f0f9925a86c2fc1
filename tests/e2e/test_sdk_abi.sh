#!/bin/bash
# Issue 10 item 6: the plugin ABI grows at the end of its structs and both
# sides read a size before a field. A plugin from a newer SDK (larger
# descriptor) runs; a descriptor smaller than ABI 1's fields is refused with
# one line; the SDK's helpers read the host's ctx and function table only as
# far as their sizes say, degrade on an older host, fail naming a host
# function it lacks, and work outside a migration (no ctx).
source "$(dirname "$0")/lib.sh"

SDK_INC=$ROOT/plugins/include
SDK_LIB=$ROOT/${BUILD:-build}/plugins/libdelembic-plugin.a

log_project() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
}

# c_value EXPR: the value of a size_t expression of <delembic/plugin.h> here
c_value() {
    printf '#include <stdio.h>\n#include <delembic/plugin.h>\nint main(void) { printf("%%zu\\n", (size_t)(%s)); return 0; }\n' "$1" \
        >"$P/value.c"
    cc -std=c11 -I"$SDK_INC" $(pkg-config --cflags libpq) -o "$P/value" "$P/value.c" || fail "cc $1"
    "$P/value"
}

# vendor_bundle REV: migrations/REV.c compiled by hand into $P/vendor with
# its manifest (a bundle that delembic build did not check)
vendor_bundle() {
    local rev=$1 sha
    mkdir -p "$P/vendor"
    cc -std=c11 -shared -fPIC -I"$SDK_INC" $(pkg-config --cflags libpq) \
        -o "$P/vendor/$rev.so" "migrations/$rev.c" "$SDK_LIB" -lpq || fail "cc $rev"
    sha=$(sha256sum "$P/vendor/$rev.so" | cut -d' ' -f1)
    printf 'format: 1\nabi: 1\nmigrations:\n  - revision: %s\n    file: %s.so\n    sha256: %s\n    description: vendor\n    depends_on: []\n' \
        "$rev" "$rev" "$sha" >"$P/vendor/manifest.yaml"
}

# the error is one line: no more than N lines (default 1) of OUT mention WORD
expect_one_line() {
    [ "$(grep -c -- "$1" <<<"$OUT")" -le "${2:-1}" ] || fail "expected one line with '$1'; output:
$OUT"
}

test_abi_descriptor_from_a_newer_sdk_loads_and_runs() {
    log_project
    use_plugin abi_future T001
    mig T002 '"T001"' "INSERT INTO t_log VALUES ('T002')"
    build_ok
    grep -q "revision: T001" build/bundle/manifest.yaml || fail "T001 not in the manifest"
    run "$D" verify
    expect_rc 0
    run "$D" upgrade head
    expect_rc 0
    expect_out "T001: built by a newer SDK"
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM t_log" "T001,T002"
    expect_sql "SELECT string_agg(revision || '=' || status, ',' ORDER BY revision) FROM delembic_version" \
        "T001=success,T002=success"
}

test_abi_build_refuses_a_descriptor_smaller_than_abi_1_naming_file_size_and_need() {
    log_project
    local need small
    need=$(c_value "DM_DESCRIPTOR_SIZE_V1")
    small=$(c_value "offsetof(struct dm_descriptor, validate)")
    use_plugin abi_size T001 'SIZE=offsetof(struct dm_descriptor, validate)'
    run "$D" build
    expect_rc 2
    expect_one_line "descriptor size"
    expect_out "migrations/T001.c: descriptor size $small, but delembic needs at least $need bytes (the fields of ABI 1, up to .validate)"
    expect_out "rebuild it with DM_MIGRATION from <delembic/plugin.h>"
    [ ! -e build/bundle/manifest.yaml ] || fail "a bundle was written"
}

test_abi_upgrade_refuses_a_vendor_plugin_whose_descriptor_is_too_small() {
    log_project
    use_plugin abi_size T001 SIZE=8
    vendor_bundle T001
    run "$D" upgrade head --bundle "$P/vendor"
    expect_rc 2
    expect_one_line "descriptor size" 2 # the REFUSED line of the run, and the error that ends it
    expect_out "T001.so: descriptor size 8, but delembic needs at least $(c_value DM_DESCRIPTOR_SIZE_V1) bytes"
    expect_sql "SELECT count(*) FROM t_log" 0
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 0
    run "$D" verify --bundle "$P/vendor"
    expect_rc 2
    expect_out "T001.so: descriptor size 8"
}

test_abi_helpers_degrade_on_an_older_host_table_without_reading_past_it() {
    log_project
    use_plugin abi_old_host T001 MODE=degrade
    build_ok
    run "$D" upgrade head
    expect_rc 0
    # the table had no log(): the line goes to stderr instead, still prefixed
    expect_out "T001: logged without the host's log()"
    expect_sql "SELECT rev FROM t_log" T001
}

test_abi_helpers_read_no_ctx_field_past_an_older_ctx_size() {
    log_project
    use_plugin abi_old_host T001 MODE=ctx
    build_ok
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT rev FROM t_log" T001
}

test_abi_new_plugin_on_an_older_host_fails_naming_the_missing_host_function() {
    log_project
    use_plugin abi_needs_host_fn T001
    build_ok
    run "$D" upgrade head
    expect_rc 1
    local want
    want="this delembic's host API has no progress() (its table is $(c_value "offsetof(dm_host_api, log)") bytes, progress() needs $(c_value "DM_FIELD_END(dm_host_api, progress)")): upgrade delembic to run this migration"
    expect_out "FAILED: $want"
    expect_one_line "has no progress()"
    expect_sql "SELECT exception FROM delembic_run_history WHERE revision = 'T001'" "$want"
    expect_sql "SELECT count(*) FROM t_log" 0
}

test_abi_helpers_work_outside_a_migration_with_no_ctx() {
    log_project
    cc -std=c11 -Wall -Wextra -Werror -I"$SDK_INC" $(pkg-config --cflags libpq) -o "$P/outside" \
        "$PLUGINS/abi_outside.c" "$SDK_LIB" -lpq || fail "cc abi_outside.c"
    "$P/outside" "$URL" >"$P/stdout" 2>"$P/stderr"
    local rc=$?
    [ "$rc" = 0 ] || fail "exit $rc: $(cat "$P/stdout" "$P/stderr")"
    [ "$(cat "$P/stdout")" = "all as expected" ] || fail "stdout: $(cat "$P/stdout")"
    local want
    want=$(printf '%s\n' \
        "t_log has 1 row(s)" \
        'statement failed: SELECT * FROM no_such_table: relation "no_such_table" does not exist' \
        "failed with 42" \
        "zeroed ctx log" \
        "progress() needs the delembic host, which this call does not reach (outside a migration)" \
        "path too long: data/x.csv")
    [ "$(cat "$P/stderr")" = "$want" ] || fail "stderr:
$(cat "$P/stderr")
expected:
$want"
    expect_sql "SELECT rev FROM t_log" outside
}

run_tests
