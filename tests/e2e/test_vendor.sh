#!/bin/bash
# Issue 13: the vendor trust chain. Data files pinned in the manifest (and
# checked while they stream), minisign signatures both ways with Debian's
# minisign, trusted keys, rollback protection, `manifest` for plugins built
# elsewhere, and installing Delembic into a fresh prefix.
source "$(dirname "$0")/lib.sh"

# data_project: a migration that loads data/people.csv into t_copy
data_project() {
    new_project
    sql "CREATE TABLE t_copy (id int, name text)"
    mkdir -p migrations/data
    printf 'id,name\n1,ada\n2,grace\n' >migrations/data/people.csv
    use_plugin copy_load V001 FILE=people.csv DELIM=, NULL=
}

# signed_project: two plain migrations, a key pair k.pub/k.key (no password)
signed_project() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mig V001 '' "INSERT INTO t_log VALUES ('V001')"
    mig V002 '"V001"' "INSERT INTO t_log VALUES ('V002')"
    run "$D" keygen -o k --no-password
    expect_rc 0
    KEYID=$(key_id k.pub)
}

# key_id FILE.pub: the key id as messages print it, all 16 digits (the .pub
# comment, as minisign writes it, drops leading zeros)
key_id() {
    printf '%16s' "$(sed -n 's/^untrusted comment: minisign public key //p' "$1")" | tr ' ' 0
}

# one_line: the error is one line
one_line() {
    [ "$(grep -c . <<<"$OUT")" -le 1 ] || fail "more than one line: $OUT"
}

test_vendor_build_lists_data_files_with_sha256_and_size() {
    data_project
    build_ok
    local sha
    sha=$(sha256sum migrations/data/people.csv | cut -d' ' -f1)
    grep -q "file: data/people.csv" build/bundle/manifest.yaml || fail "no data entry: $(cat build/bundle/manifest.yaml)"
    grep -q "sha256: $sha" build/bundle/manifest.yaml || fail "no sha256 $sha"
    grep -q "size: 22" build/bundle/manifest.yaml || fail "no size"
    run "$D" verify --offline
    expect_rc 0
    run "$D" upgrade
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_copy" 2
}

test_vendor_changed_data_file_refused_before_anything_runs() {
    data_project
    build_ok
    chmod u+w build/bundle/data/people.csv
    printf 'id,name\n1,ada\n2,grave\n' >build/bundle/data/people.csv
    run "$D" upgrade
    expect_rc 2
    expect_out "data/people.csv: sha256 is"
    one_line
    expect_sql "SELECT count(*) FROM t_copy" 0
    expect_sql "SELECT count(*) FROM delembic_run_history" 0
    run "$D" verify --offline
    expect_rc 2
    expect_out "data: "
    expect_out "data/people.csv"
}

test_vendor_noop_upgrade_does_not_hash_data_but_verify_does() {
    data_project
    build_ok
    run "$D" upgrade
    expect_rc 0
    chmod u+w build/bundle/data/people.csv
    printf 'id,name\n1,ada\n2,grave\n' >build/bundle/data/people.csv
    run "$D" upgrade
    expect_rc 0
    expect_out "Nothing to do"
    run "$D" verify --offline
    expect_rc 2
    expect_out "data/people.csv: sha256 is"
}

test_vendor_missing_and_extra_data_files_refused() {
    data_project
    build_ok
    chmod u+w build/bundle/data
    echo 'x' >build/bundle/data/extra.csv
    run "$D" upgrade
    expect_rc 2
    expect_out "data/extra.csv: a data file that manifest.yaml does not list"
    rm build/bundle/data/extra.csv build/bundle/data/people.csv
    run "$D" upgrade
    expect_rc 2
    expect_out "data/people.csv: listed in manifest.yaml but missing"
    expect_sql "SELECT count(*) FROM t_copy" 0
}

test_vendor_data_file_swapped_during_the_run_fails_and_rolls_back() {
    data_project
    use_plugin vendor_swap_copy V001 FILE=people.csv
    build_ok
    chmod u+w build/bundle/data build/bundle/data/people.csv
    run "$D" upgrade
    expect_rc 1
    expect_out "the file changed during the run"
    expect_sql "SELECT count(*) FROM t_copy" 0
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'V001'" failed
}

test_vendor_build_sign_is_verified_by_debian_minisign() {
    signed_project
    run "$D" build --sign k.key --bundle-version 2.0.1
    expect_rc 0
    expect_out "Signed manifest.yaml with key id $KEYID, bundle version 2.0.1"
    run minisign -V -p k.pub -m build/bundle/manifest.yaml
    expect_rc 0
    expect_out "bundle_version:2.0.1"
    run "$D" --trusted-key k.pub verify --offline
    expect_rc 0
    expect_out "signature: good, key id $KEYID (k.pub (--trusted-key)), bundle version 2.0.1, signed 20"
    run "$D" --trusted-key k.pub --json verify --offline
    expect_out '"trusted_key":"k.pub (--trusted-key)"'
    run "$D" --trusted-key k.pub upgrade
    expect_rc 0
    expect_sql "SELECT bundle_version || ' ' || key_id FROM delembic_bundle_history" "2.0.1 $KEYID"
}

test_vendor_sign_command_and_encrypted_key_from_stdin() {
    signed_project
    build_ok
    echo 'right-one' | DELEMBIC_KDF_LIMITS=32768,16777216 "$D" keygen -o enc >/dev/null 2>&1 || fail "keygen"
    grep -q 'encrypted secret key' enc.key || fail "not encrypted: $(head -1 enc.key)"
    OUT=$(echo 'wrong-pass' | "$D" sign --bundle build/bundle enc.key 2>&1) && RC=0 || RC=$?
    expect_rc 2
    expect_out "wrong passphrase"
    OUT=$(echo 'right-one' | "$D" sign --bundle build/bundle enc.key 2>&1) && RC=0 || RC=$?
    expect_rc 0
    expect_out "Signed"
    run minisign -V -p enc.pub -m build/bundle/manifest.yaml
    expect_rc 0
}

test_vendor_bundle_signed_by_minisign_is_accepted() {
    signed_project
    build_ok
    minisign -G -W -p m.pub -s m.key >/dev/null 2>&1 || fail "minisign -G"
    minisign -S -s m.key -m build/bundle/manifest.yaml >/dev/null 2>&1 || fail "minisign -S"
    run "$D" --trusted-key m.pub upgrade
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 2
    run "$D" --trusted-key m.pub verify --offline
    expect_rc 0
    expect_out "signature: good"
    # minisign's legacy signature (-l: the whole message, not its hash) too
    minisign -S -l -s m.key -m build/bundle/manifest.yaml >/dev/null 2>&1 || fail "minisign -S -l"
    run "$D" --trusted-key m.pub verify --offline
    expect_rc 0
    expect_out "signature: good"
}

test_vendor_manifest_changed_after_signing_refused_naming_key_id() {
    signed_project
    run "$D" build --sign k.key
    expect_rc 0
    sed -i 's/test migration V002/test migration V002 (edited)/' build/bundle/manifest.yaml
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "manifest.yaml.minisig"
    expect_out "$KEYID"
    one_line
    expect_sql "SELECT count(*) FROM t_log" 0
    run "$D" --trusted-key k.pub verify --offline
    expect_rc 2
    expect_out "signature: "
    expect_out "signature: not accepted"
    # changed into what is not even YAML: still refused as changed, naming the key
    echo '[broken' >>build/bundle/manifest.yaml
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "build/bundle/manifest.yaml: does not match its signature by key id $KEYID"
    one_line
}

test_vendor_unsigned_bundle_refused_when_keys_are_configured() {
    signed_project
    build_ok
    printf '  trusted_keys: [k.pub]\n' >>delembic.yaml
    run "$D" upgrade
    expect_rc 2
    expect_out "the bundle is not signed"
    expect_out "$KEYID"
    one_line
    expect_sql "SELECT count(*) FROM t_log" 0
}

test_vendor_bundle_signed_by_an_untrusted_key_refused() {
    signed_project
    run "$D" keygen -o other --no-password
    run "$D" build --sign other.key
    expect_rc 0
    local other
    other=$(key_id other.pub)
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "$other"
    one_line
    expect_sql "SELECT count(*) FROM t_log" 0
}

test_vendor_two_trusted_keys_for_a_rotation() {
    signed_project
    run "$D" keygen -o new --no-password
    run "$D" build --sign new.key
    expect_rc 0
    printf '  trusted_keys:\n    - k.pub\n    - %s\n' "$(tail -1 new.pub)" >>delembic.yaml
    run "$D" upgrade V001
    expect_rc 0
    run "$D" build --sign k.key
    expect_rc 0
    sed -i '/trusted_keys/,$d' delembic.yaml
    DELEMBIC_TRUSTED_KEYS="$P/new.pub:$P/k.pub" run "$D" upgrade
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 2
}

test_vendor_rollback_refused_unless_allowed() {
    signed_project
    run "$D" build --sign k.key --bundle-version 1.10
    expect_rc 0
    run "$D" --trusted-key k.pub upgrade V001
    expect_rc 0
    run "$D" build --sign k.key --bundle-version 1.9
    expect_rc 0
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "bundle version 1.9"
    expect_out "older than 1.10"
    expect_out "--allow-older-bundle"
    one_line
    expect_sql "SELECT count(*) FROM t_log" 1
    run "$D" --trusted-key k.pub upgrade --allow-older-bundle
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 2
}

test_vendor_bad_signature_inputs_each_refused_with_one_line() {
    signed_project
    run "$D" build --sign k.key
    expect_rc 0
    local sig=build/bundle/manifest.yaml.minisig
    cp "$sig" good.minisig
    chmod u+w build/bundle
    # truncated
    head -n 2 good.minisig >"$sig"
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "manifest.yaml.minisig"
    one_line
    # wrong algorithm
    python3 - good.minisig "$sig" <<'PY'
import base64, sys
lines = open(sys.argv[1]).read().split("\n")
raw = bytearray(base64.b64decode(lines[1]))
raw[0:2] = b"Zz"
lines[1] = base64.b64encode(bytes(raw)).decode()
open(sys.argv[2], "w").write("\n".join(lines))
PY
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "signature algorithm"
    one_line
    # huge
    head -c 100000 /dev/zero | tr '\0' 'A' >"$sig"
    run "$D" --trusted-key k.pub upgrade
    expect_rc 2
    expect_out "manifest.yaml.minisig"
    expect_out "larger than"
    one_line
    cp good.minisig "$sig"
    # a public key of the wrong length
    run "$D" --trusted-key "$(tail -1 k.pub | cut -c1-50)" upgrade
    expect_rc 2
    expect_out "trusted key"
    one_line
    expect_sql "SELECT count(*) FROM t_log" 0
    run "$D" --trusted-key k.pub upgrade
    expect_rc 0
}

test_vendor_manifest_quotes_values_yaml_reads_as_numbers_or_booleans() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mig 0012 '' "INSERT INTO t_log VALUES ('0012')"
    mig yes '"0012"' "INSERT INTO t_log VALUES ('yes')" '' yes.c
    mig 1e3 '"yes"' "INSERT INTO t_log VALUES ('1e3')" '' n1e3.c
    build_ok
    python3 - build/bundle/manifest.yaml <<'PY' || fail "a revision did not read back as a string: $(cat build/bundle/manifest.yaml)"
import sys, yaml
m = yaml.safe_load(open(sys.argv[1]))
revs = [e["revision"] for e in m["migrations"]]
deps = [d for e in m["migrations"] for d in e["depends_on"]]
assert sorted(revs) == sorted(["0012", "yes", "1e3"]), revs
assert all(isinstance(r, str) for r in revs + deps), (revs, deps)
PY
    run "$D" upgrade
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 3
}

# install_prefix VAR: Delembic installed (as the README says) into a fresh prefix
install_prefix() {
    local tmp
    temp_dir tmp
    meson setup --prefix="$tmp/prefix" -Dtests=false "$tmp/build" "$ROOT" >"$tmp/setup.log" 2>&1 ||
        fail "meson setup: $(tail -5 "$tmp/setup.log")"
    meson install -C "$tmp/build" >"$tmp/install.log" 2>&1 || fail "meson install: $(tail -5 "$tmp/install.log")"
    printf -v "$1" '%s' "$tmp/prefix"
}

test_vendor_install_into_a_fresh_prefix_and_build_a_plugin_with_pkg_config() {
    new_project
    local prefix pcdir
    install_prefix prefix
    [ -x "$prefix/bin/delembic" ] || fail "no $prefix/bin/delembic"
    [ -f "$prefix/include/delembic/plugin.h" ] || fail "no plugin.h"
    pcdir=$(dirname "$(find "$prefix" -name delembic-plugin.pc)")
    [ -f "$(dirname "$pcdir")/libdelembic-plugin.a" ] || fail "no libdelembic-plugin.a beside $pcdir"
    sql "CREATE TABLE t_log (rev text)"
    mkdir -p vendor
    sed -e 's/@REV@/V001/g' -e 's/@DEPS@/DM_NO_DEPS/' "$PLUGINS/vendor_ext.c" >vendor/V001.c
    # the README's line
    PKG_CONFIG_PATH=$pcdir cc -shared -fPIC -o vendor/V001.so vendor/V001.c \
        $(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs delembic-plugin) || fail "cc with pkg-config"
    run "$prefix/bin/delembic" manifest --bundle vendor
    expect_rc 0
    run "$prefix/bin/delembic" --bundle vendor upgrade
    expect_rc 0
    expect_sql "SELECT rev FROM t_log" V001
    # and the README's uninstall
    ninja -C "$(dirname "$prefix")/build" uninstall >/dev/null 2>&1 || fail "ninja uninstall"
    [ ! -e "$prefix/bin/delembic" ] || fail "delembic still installed"
    [ ! -e "$pcdir/delembic-plugin.pc" ] || fail "delembic-plugin.pc still installed"
}

test_vendor_manifest_for_plugins_compiled_with_pkg_config() {
    new_project
    sql "CREATE TABLE t_log (rev text)"
    mkdir -p vendor/data
    echo 'a,b' >vendor/data/x.csv
    local pc="$ROOT/build/meson-uninstalled"
    sed -e 's/@REV@/V001/g' -e 's/@DEPS@/DM_NO_DEPS/' "$PLUGINS/vendor_ext.c" >src1.c
    sed -e 's/@REV@/V002/g' -e 's/@DEPS@/DM_DEPS("V001")/' "$PLUGINS/vendor_ext.c" >src2.c
    for i in 1 2; do
        cc -shared -fPIC -o vendor/V00$i.so src$i.c \
            $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs delembic-plugin-uninstalled) || fail "cc"
    done
    run "$D" manifest --bundle vendor
    expect_rc 0
    expect_out "2 plugin(s), 1 data file(s)"
    grep -q 'file: data/x.csv' vendor/manifest.yaml || fail "no data file listed"
    run "$D" manifest --bundle vendor --check
    expect_rc 0
    run "$D" manifest
    expect_rc 2
    expect_out "manifest needs --bundle DIR"
    run "$D" keygen -o k --no-password
    run "$D" sign --bundle vendor k.key
    expect_rc 0
    run "$D" --trusted-key k.pub --bundle vendor upgrade
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 2
    # a plugin rebuilt after the manifest: --check names it
    cp src2.c src3.c && sed -i 's/vendor-built/rebuilt/' src3.c
    cc -shared -fPIC -o vendor/V002.so src3.c \
        $(PKG_CONFIG_PATH=$pc pkg-config --cflags --libs delembic-plugin-uninstalled) || fail "cc"
    run "$D" manifest --bundle vendor --check
    expect_rc 2
    expect_out "vendor/V002.so: sha256 is"
    one_line
}

# every command that loads the bundle's plugins or records from its manifest
# checks the signature first (attack finding: downgrade, stamp and repair
# did not)
test_vendor_downgrade_stamp_repair_show_check_the_signature() {
    signed_project
    run "$D" build --sign k.key
    expect_rc 0
    run "$D" --trusted-key k.pub upgrade
    expect_rc 0
    build_ok # the same code, now unsigned
    local cmd
    for cmd in "downgrade -1 --dry-run" "downgrade base" "stamp V002" "repair --yes" "show V001"; do
        run "$D" --trusted-key k.pub $cmd
        expect_rc 2
        expect_out "the bundle is not signed"
    done
    expect_sql "SELECT string_agg(status, ',' ORDER BY id) FROM delembic_run_history" "success,success"
}

# a signed bundle whose trusted comment carries no version cannot be told
# from a rollback once a version was applied (attack finding)
test_vendor_bundle_version_without_sign_is_refused() {
    signed_project
    run "$D" build --bundle-version 3
    expect_rc 2
    expect_out "--bundle-version goes into the signature: give --sign KEY too"
    [ ! -e build/bundle ] || fail "build ran"
}

test_vendor_unversioned_signed_bundle_refused_after_a_versioned_one() {
    signed_project
    run "$D" build --sign k.key --bundle-version 2.0
    expect_rc 0
    run "$D" --trusted-key k.pub upgrade V001
    expect_rc 0
    minisign -G -W -p m.pub -s m.key >/dev/null 2>&1 || fail "minisign -G"
    minisign -S -s m.key -t "hello world" -m build/bundle/manifest.yaml >/dev/null 2>&1 || fail "minisign -S"
    run "$D" --trusted-key m.pub upgrade
    expect_rc 2
    expect_out "carries no version"
    expect_out "version 2.0 was already applied"
    one_line
    expect_sql "SELECT count(*) FROM t_log" 1
    run "$D" --trusted-key m.pub upgrade --allow-older-bundle
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_log" 2
}

test_vendor_ctrl_c_at_the_passphrase_prompt_gives_the_terminal_its_echo_back() {
    # keygen turns echo off for the passphrase; Ctrl-C there must not leave
    # the terminal silent
    temp_dir W
    cd "$W"
    python3 - "$D" <<'PY' || fail "the terminal was left without echo, or keygen did not stop"
import os, pty, signal, subprocess, sys, termios, time, fcntl
master, slave = pty.openpty()
def ctty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
p = subprocess.Popen([sys.argv[1], "keygen", "-o", "k"], stdin=slave, stdout=slave, stderr=slave,
                     preexec_fn=ctty, close_fds=True)
seen = b""
deadline = time.time() + 10
while b"assphrase" not in seen and time.time() < deadline:
    seen += os.read(master, 1024)
# echo is off while it waits
for _ in range(100):
    if not termios.tcgetattr(slave)[3] & termios.ECHO:
        break
    time.sleep(0.05)
assert not termios.tcgetattr(slave)[3] & termios.ECHO, "echo was never turned off"
os.write(master, b"\x03")
rc = p.wait(timeout=10)
assert rc == -signal.SIGINT, rc
assert termios.tcgetattr(slave)[3] & termios.ECHO, "echo still off"
assert not os.path.exists("k.key")
PY
}

run_tests
