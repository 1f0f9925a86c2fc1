#!/bin/bash
# Issue "Nothing unverified runs", items 13 and 14: a manifest cache entry
# never stands in for manifest.yaml, and a plugin loads no library that no
# check saw (run paths that leave the bundle, libraries the manifest does not
# pin). Each attack is real: the code that must not run leaves a marker file.
source "$(dirname "$0")/lib.sh"

supply_project() {
    new_project
    export DELEMBIC_CACHE_DIR=$P/cache
    sql "CREATE TABLE s_log (rev text, v int)"
    mig T001 '' "INSERT INTO s_log VALUES ('T001', 1)"
    mig T002 '"T001"' "INSERT INTO s_log VALUES ('T002', 2)"
    build_ok
}

# make_lib DIR VALUE MARKER: DIR/libsupply_lib.so (soname libsupply_lib.so)
# returning VALUE and appending it to MARKER when loaded
make_lib() {
    mkdir -p "$1"
    sed -e "s|@VALUE@|$2|g" -e "s|@MARKER@|$3|g" "$PLUGINS/supply_lib.c" >"$1/supply_lib.c"
    cc -shared -fPIC -Wl,-soname,libsupply_lib.so -o "$1/libsupply_lib.so" "$1/supply_lib.c" \
        || fail "cc libsupply_lib.so"
}

# build_with FLAGS...: T002.so built with these compiler/linker flags added
# (by the compiler, as a vendor's own build would: delembic build refuses
# what verify and upgrade refuse), put in the bundle and its sha256 in the
# manifest
build_with() {
    local sdk_lib
    sdk_lib=$(dirname "$(dirname "${DELEMBIC_REAL:-$D}")")/plugins/libdelembic-plugin.a
    mkdir -p "$P/flagged"
    run cc -std=c11 -fPIC -shared -O2 -I"$ROOT/plugins/include" $(pkg-config --cflags libpq) "$@" \
        -o "$P/flagged/T002.so" migrations/T002.c "$sdk_lib" -lpq
    [ "$RC" = 0 ] || fail "cc failed: $OUT"
    cp "$P/flagged/T002.so" build/bundle/T002.so
    local sha
    sha=$(sha256sum build/bundle/T002.so | cut -d' ' -f1)
    awk -v s="$sha" '/file: T002.so$/ { print; getline; sub(/sha256: .*/, "sha256: " s) } { print }' \
        build/bundle/manifest.yaml >m.new && mv m.new build/bundle/manifest.yaml
}

not_applied() {
    expect_sql "SELECT count(*) FROM delembic_version WHERE revision = '$1'" 0
}

# ---- 13: the manifest cache ----------------------------------------------

# The bundle's T002.so is replaced by an evil twin and the one cache entry is
# patched to say the evil twin's sha256, while it still holds (or answers for)
# the exact text of manifest.yaml.
poison_cache() {
    use_plugin supply_marker T002 MARKER="$P/evil-ran"
    run "$D" build -o "$P/evil"
    [ "$RC" = 0 ] || fail "build of the evil twin failed: $OUT"
    rm -f "$P/evil-ran" # build read its descriptor
    run "$D" verify --offline # parses manifest.yaml and fills the cache
    expect_rc 0
    local entries=("$DELEMBIC_CACHE_DIR"/*.bin)
    [ "${#entries[@]}" = 1 ] && [ -f "${entries[0]}" ] || fail "expected one cache entry: ${entries[*]}"
    ENTRY=${entries[0]}
    local good evil
    good=$(sha256sum build/bundle/T002.so | cut -d' ' -f1)
    evil=$(sha256sum "$P/evil/T002.so" | cut -d' ' -f1)
    python3 - "$ENTRY" "$good" "$evil" <<'PY' || fail "cannot patch the cache entry"
import sys
path, good, evil = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
data = open(path, 'rb').read()
at = data.rfind(good)  # the parsed sha256 (the text, when kept, comes first)
assert at >= 0, "the entry does not hold the sha256"
with open(path, 'r+b') as f:
    f.write(data[:at] + evil + data[at + len(good):])
PY
    cp "$P/evil/T002.so" build/bundle/T002.so
}

expect_evil_refused() {
    run "$D" verify --offline
    expect_rc 2
    expect_out "checksum: $P/build/bundle/T002.so: sha256 is"
    run "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: sha256 is"
    [ ! -e "$P/evil-ran" ] || fail "the evil T002.so was loaded"
    not_applied T002
    expect_sql "SELECT count(*) FROM s_log WHERE v = 666" 0
}

test_poisoned_cache_entry_does_not_stand_in_for_the_manifest() {
    supply_project
    poison_cache
    # the folder and the entry are the user's own, 0700 and 0600: only the
    # binding of the entry to the manifest text can catch this
    [ "$(stat -c %a "$DELEMBIC_CACHE_DIR")" = 700 ] || fail "cache folder is not 0700"
    [ "$(stat -c '%a %u' "$ENTRY")" = "600 $(id -u)" ] || fail "entry is not ours and 0600"
    expect_evil_refused
}

test_cache_in_world_writable_folder_is_not_read() {
    supply_project
    export DELEMBIC_CACHE_DIR=$P/shared/a/b
    poison_cache
    for d in "$P/shared" "$P/shared/a" "$P/shared/a/b"; do
        [ "$(stat -c %a "$d")" = 700 ] || fail "$d: the folders delembic creates must be 0700"
    done
    chmod 777 "$DELEMBIC_CACHE_DIR"
    expect_evil_refused
    # and nothing new is written there
    rm -f "$DELEMBIC_CACHE_DIR"/*.bin
    run "$D" verify --offline
    [ -z "$(ls "$DELEMBIC_CACHE_DIR")" ] || fail "wrote into a world-writable cache folder"
}

test_cache_entry_of_another_user_is_not_read() {
    [ "$(id -u)" = 0 ] || { echo "    (skipped: needs root to chown)" >&2; return 0; }
    supply_project
    poison_cache
    chown nobody "$ENTRY"
    expect_evil_refused
}

test_symlinked_cache_entry_is_not_read() {
    supply_project
    poison_cache
    mkdir -m 700 "$P/elsewhere"
    mv "$ENTRY" "$P/elsewhere/entry.bin"
    ln -s "$P/elsewhere/entry.bin" "$ENTRY"
    expect_evil_refused
}

# ---- 14: libraries and run paths -------------------------------------------

test_run_path_to_a_writable_folder_is_refused() {
    supply_project
    local w=$P/writable
    make_lib "$w" 7 "$P/lib-ran"
    chmod 777 "$w"
    use_plugin supply_libuser T002
    build_with -L"$w" -Wl,--no-as-needed -lsupply_lib -Wl,--disable-new-dtags -Wl,-rpath,"$w"
    readelf -d build/bundle/T002.so | grep -q "(RPATH).*$w" || fail "no DT_RPATH in T002.so"
    rm -f "$P/lib-ran" # build read its descriptor
    run "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/T002.so"
    expect_out "$w"
    run "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/T002.so"
    expect_out "$w"
    [ "$(grep -c "T002.so: its run path (DT_RPATH) has '$w', which leads outside the bundle" <<<"$OUT")" = 2 ] \
        || fail "expected the one-line refusal (the run's line and the exit line): $OUT"
    [ ! -e "$P/lib-ran" ] || fail "a library from the writable folder was loaded"
    not_applied T002
}

test_run_path_leaving_the_bundle_is_refused() {
    supply_project
    build_with '-Wl,-rpath,$ORIGIN/../..'
    readelf -d build/bundle/T002.so | grep -q 'RUNPATH.*\$ORIGIN/\.\./\.\.' || fail "no DT_RUNPATH in T002.so"
    run "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/T002.so"
    expect_out '$ORIGIN/../..'
    run "$D" upgrade head
    expect_rc 2
    expect_out '$ORIGIN/../..'
    not_applied T002
}

test_run_path_inside_the_bundle_is_accepted() {
    supply_project
    build_with '-Wl,-rpath,$ORIGIN/lib'
    readelf -d build/bundle/T002.so | grep -q 'RUNPATH.*\$ORIGIN/lib' || fail "no DT_RUNPATH in T002.so"
    run "$D" verify --offline
    expect_rc 0
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM s_log" "T001,T002"
}

test_library_the_manifest_does_not_list_is_refused() {
    supply_project
    local w=$P/writable
    make_lib "$w" 7 "$P/lib-ran"
    chmod 777 "$w"
    use_plugin supply_libuser T002
    LD_LIBRARY_PATH=$w build_with -L"$w" -Wl,--no-as-needed -lsupply_lib
    rm -f "$P/lib-ran"
    LD_LIBRARY_PATH=$w run "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: needs libsupply_lib.so"
    LD_LIBRARY_PATH=$w run "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: needs libsupply_lib.so"
    [ ! -e "$P/lib-ran" ] || fail "the unlisted library was loaded"
    not_applied T002
}

# the vendor ships lib/libsupply_lib.so in the bundle and lists it
list_library() {
    mkdir -p build/bundle/lib
    cp "$P/vendor/libsupply_lib.so" build/bundle/lib/
    printf 'libraries:\n- file: lib/libsupply_lib.so\n  sha256: %s\n' "$1" >>build/bundle/manifest.yaml
}

vendor_project() {
    supply_project
    make_lib "$P/vendor" 42 "$P/lib-ran"
    make_lib "$P/impostor" 7 "$P/impostor-ran"
    use_plugin supply_libuser T002
    LD_LIBRARY_PATH=$P/vendor build_with -L"$P/vendor" -Wl,--no-as-needed -lsupply_lib
    rm -f "$P/lib-ran"
}

test_listed_library_runs_and_is_the_verified_copy() {
    vendor_project
    list_library "$(sha256sum "$P/vendor/libsupply_lib.so" | cut -d' ' -f1)"
    # another libsupply_lib.so waits on the library path: it must not be used
    LD_LIBRARY_PATH=$P/impostor run "$D" verify --offline
    expect_rc 0
    LD_LIBRARY_PATH=$P/impostor run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT v FROM s_log WHERE rev = 'T002'" 42
    [ -e "$P/lib-ran" ] || fail "the bundle's library was not loaded"
    [ ! -e "$P/impostor-ran" ] || fail "the library on LD_LIBRARY_PATH was loaded"
}

test_listed_library_with_a_wrong_sha256_is_refused() {
    vendor_project
    list_library "$(sha256sum "$P/impostor/libsupply_lib.so" | cut -d' ' -f1)"
    run "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/lib/libsupply_lib.so: sha256 is"
    run "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/lib/libsupply_lib.so: sha256 is"
    [ ! -e "$P/lib-ran" ] || fail "the library was loaded"
    not_applied T002
}

test_plugin_needing_libc_libm_and_libpq_dependencies_is_accepted() {
    supply_project
    build_with -Wl,--no-as-needed -lm -lssl
    local needed
    needed=$(readelf -d build/bundle/T002.so | grep NEEDED)
    for lib in libc.so.6 libm.so.6 libpq.so.5 libssl.so.3; do
        grep -qF "[$lib]" <<<"$needed" || fail "T002.so does not need $lib: $needed"
    done
    run "$D" verify --offline
    expect_rc 0
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev, ',' ORDER BY rev) FROM s_log" "T001,T002"
}

# ---- findings against issue 9 (the build engineer's B items) ---------------

test_cache_entry_with_invalid_utf8_is_not_handed_to_libyaml() {
    supply_project
    run "$D" verify --offline # fills the cache
    expect_rc 0
    local entries=("$DELEMBIC_CACHE_DIR"/*.bin)
    [ -f "${entries[0]}" ] || fail "no cache entry"
    # the entry's description of T002 becomes Latin-1 (same length)
    python3 - "${entries[0]}" <<'PY' || fail "cannot patch the cache entry"
import sys
path = sys.argv[1]
data = open(path, 'rb').read()
at = data.rfind(b'test migration T002')
assert at >= 0, "the entry does not hold the description"
with open(path, 'r+b') as f:
    f.write(data[:at] + b'test migr\xe9tion T002' + data[at + 19:])
PY
    run_bounded "$D" verify --offline
    expect_rc 0
    expect_out "2 migration(s), 0 problem(s)"
    run_bounded "$D" upgrade head
    expect_rc 0
    run_bounded "$D" history
    expect_rc 0
    expect_out "test migration T002"
}

# T002 of the bundle is the evil twin (its constructor leaves $P/evil-ran)
evil_bundle() {
    supply_project
    use_plugin supply_marker T002 MARKER="$P/evil-ran"
    build_ok
    rm -f "$P/evil-ran" # build read its descriptor
}

expect_no_plugin_loaded() {
    [ ! -e "$P/evil-ran" ] || fail "a plugin of a refused bundle was loaded"
    expect_sql "SELECT count(*) FROM s_log" 0
}

test_verify_loads_no_plugin_from_a_world_writable_bundle_folder() {
    evil_bundle
    chmod 777 build/bundle
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "permissions: $P/build/bundle: folder is writable by everyone"
    expect_no_plugin_loaded
    chmod 755 build/bundle
    run "$D" verify --offline
    expect_rc 0
    [ -e "$P/evil-ran" ] || fail "verify of a good bundle did not read T002's descriptor"
}

test_verify_loads_no_plugin_from_a_bundle_folder_of_another_user() {
    [ "$(id -u)" = 0 ] || { echo "    (skipped: needs root to chown)" >&2; return 0; }
    evil_bundle
    chown nobody build/bundle
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "permissions: $P/build/bundle: belongs to another user"
    expect_no_plugin_loaded
}

test_manifest_writable_by_others_is_refused_before_any_plugin_loads() {
    evil_bundle
    chmod 666 build/bundle/manifest.yaml
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: file is writable by everyone"
    expect_no_plugin_loaded
    run_bounded "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: file is writable by everyone"
    expect_no_plugin_loaded
    chmod 620 build/bundle/manifest.yaml
    run_bounded "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: file is writable by its group"
    expect_no_plugin_loaded
}

test_manifest_of_another_user_is_refused_before_any_plugin_loads() {
    [ "$(id -u)" = 0 ] || { echo "    (skipped: needs root to chown)" >&2; return 0; }
    evil_bundle
    chown nobody build/bundle/manifest.yaml
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: belongs to another user"
    expect_no_plugin_loaded
    run_bounded "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: belongs to another user"
    expect_no_plugin_loaded
}

test_manifest_that_is_not_a_regular_file_is_refused() {
    supply_project
    mv build/bundle/manifest.yaml "$P/manifest.yaml"
    ln -s "$P/manifest.yaml" build/bundle/manifest.yaml
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: a symbolic link, not a regular file"
    run_bounded "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: a symbolic link, not a regular file"
    rm build/bundle/manifest.yaml
    mkfifo build/bundle/manifest.yaml
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: a FIFO, not a regular file"
    run_bounded "$D" upgrade head
    expect_rc 2
    expect_out "$P/build/bundle/manifest.yaml: a FIFO, not a regular file"
    expect_sql "SELECT count(*) FROM s_log" 0
}

test_verify_loads_the_file_it_verified_not_one_swapped_in_after() {
    supply_project
    # T001's constructor, once armed, puts the evil twin in T002.so's place:
    # after verify checked T002.so's sha256, before its child loads it
    use_plugin supply_swapper T001 TRIGGER="$P/armed" FROM="$P/evil/T002.so" TO="$P/build/bundle/T002.so"
    build_ok
    use_plugin supply_marker T002 MARKER="$P/evil-ran"
    run "$D" build -o "$P/evil"
    [ "$RC" = 0 ] || fail "build of the evil twin failed: $OUT"
    rm -f "$P/evil-ran"
    touch "$P/armed"
    run_bounded "$D" verify --offline
    [ ! -e "$P/armed" ] || fail "the swap did not happen"
    [ ! -e "$P/evil-ran" ] || fail "verify loaded a file other than the one it verified"
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: sha256 is"
}

test_fifo_in_place_of_a_plugin_is_refused_without_hanging() {
    supply_project
    rm build/bundle/T002.so
    mkfifo build/bundle/T002.so
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: a FIFO, not a regular file"
    run_bounded "$D" upgrade head
    expect_out "$P/build/bundle/T002.so: a FIFO, not a regular file"
    not_applied T002
}

test_device_node_in_place_of_a_plugin_is_never_opened() {
    [ "$(id -u)" = 0 ] || { echo "    (skipped: needs root for mknod)" >&2; return 0; }
    supply_project
    rm build/bundle/T002.so
    mknod build/bundle/T002.so c 1 5 # /dev/zero: reading it never ends
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: a character device, not a regular file"
    run_bounded "$D" upgrade head
    expect_out "$P/build/bundle/T002.so: a character device, not a regular file"
    not_applied T002
    # and through a symbolic link inside the bundle
    rm build/bundle/T002.so
    mknod build/bundle/zero c 1 5
    ln -s zero build/bundle/T002.so
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "T002.so: a character device, not a regular file"
}

test_build_refuses_a_run_path_leaving_the_bundle_and_keeps_the_good_one() {
    supply_project
    cp -a build/bundle "$P/before"
    sed -i 's/VALUES (.T002., 2)/VALUES ('"'"'T002'"'"', 22)/' migrations/T002.c
    CFLAGS="-O2 -g -Wl,-rpath,/tmp/anywhere" run "$D" build
    expect_rc 2
    expect_out "migrations/T001.c: its run path (DT_RUNPATH) has '/tmp/anywhere', which leads outside the bundle"
    expect_no_out ".bundle.new-"
    diff -r "$P/before" build/bundle || fail "the refused build replaced the bundle"
    run "$D" upgrade head
    expect_rc 0
    expect_sql "SELECT string_agg(rev || v, ',' ORDER BY rev) FROM s_log" "T0011,T0022"
}

test_build_refuses_a_library_no_manifest_lists_without_loading_it() {
    supply_project
    cp -a build/bundle "$P/before"
    local w=$P/writable
    make_lib "$w" 7 "$P/lib-ran"
    use_plugin supply_libuser T002
    CFLAGS="-O2 -L$w -Wl,--no-as-needed -lsupply_lib" LD_LIBRARY_PATH=$w run "$D" build
    expect_rc 2
    expect_out "migrations/T001.c: needs libsupply_lib.so, which is not part of the C library, libpq or a library libpq needs"
    expect_no_out ".bundle.new-"
    [ ! -e "$P/lib-ran" ] || fail "build loaded a library no check saw"
    diff -r "$P/before" build/bundle || fail "the refused build replaced the bundle"
}

test_verify_and_build_give_up_on_a_constructor_that_spins() {
    supply_project
    use_plugin supply_ctor_spin T002 TRIGGER="$P/armed"
    build_ok
    cp -a build/bundle "$P/before"
    touch "$P/armed"
    export DELEMBIC_LOAD_TIMEOUT=2
    run_bounded "$D" verify --offline
    expect_rc 2
    expect_out "$P/build/bundle/T002.so: timed out while loading"
    expect_out "more than 2 s"
    # T001, before it, was read; a plugin after it would be too
    mig T003 '"T001"' "INSERT INTO s_log VALUES ('T003', 3)"
    sed -i 's/VALUES (.T002., 1)/VALUES ('"'"'T002'"'"', 12)/' migrations/T002.c
    run_bounded "$D" build
    expect_rc 2
    expect_out "migrations/T002.c: timed out while loading"
    diff -r "$P/before" build/bundle || fail "the refused build replaced the bundle"
    DELEMBIC_LOAD_TIMEOUT=soon run "$D" verify --offline
    expect_rc 2
    expect_out "DELEMBIC_LOAD_TIMEOUT"
}

test_forged_descriptor_record_is_refused() {
    supply_project
    use_plugin supply_forge_record T001
    run_bounded "$D" build
    expect_rc 2
    expect_out "migrations/T001.c: wrote into delembic's own pipe while loading"
    [ ! -e build/bundle/T001.so ] || grep -q "description: forges" build/bundle/manifest.yaml \
        && fail "a forged record was taken: $(cat build/bundle/manifest.yaml)"
    return 0
}

run_tests
