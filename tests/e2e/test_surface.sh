#!/bin/bash
# Guarantees that hold in the field: the pipeline's Alembic steps migrate the
# database the Delembic steps use, every --json run prints one strict JSON
# document, no password reaches any output or `ps`, and bundle-provided text
# cannot drive the terminal.
source "$(dirname "$0")/lib.sh"

PW=s3cr3tpw
JSON_STRICT=$ROOT/tests/e2e/json_strict.py

# ---- helpers -------------------------------------------------------------

# stock_alembic DIR: `alembic init` in $P/DIR (stock env.py and alembic.ini,
# relative script_location), then r1 <- r2 written as version scripts. r1
# records, in $SURFACE_SEEN, the config file Alembic read (name, modes),
# what %(here)s meant and the working folder; then, with $SURFACE_HOLD, waits
# for that file to exist. The ini's sqlalchemy.url is left
# as `alembic init` wrote it.
stock_alembic() {
    local dir=$P/$1
    mkdir -p "$dir"
    (cd "$dir" && alembic init alembic >/dev/null 2>&1) || fail "alembic init failed"
    grep -q '^sqlalchemy.url = driver://user:pass@localhost/dbname' "$dir/alembic.ini" || fail "not the stock ini"
    # an option that uses %(here)s, read back by r1
    sed -i 's|^\[alembic\]$|[alembic]\nhere_check = %(here)s/marker|' "$dir/alembic.ini"
    cat >"$dir/alembic/versions/r1_first.py" <<'PY'
"""first

Revision ID: r1
Revises:
"""
import os
import stat

from alembic import context, op

revision = "r1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    seen = os.environ.get("SURFACE_SEEN")
    if seen:
        path = context.config.config_file_name
        with open(seen, "w") as f:
            f.write("file=%s\n" % os.path.abspath(path))
            f.write("file_mode=%o\n" % stat.S_IMODE(os.stat(path).st_mode))
            f.write("dir_mode=%o\n" % stat.S_IMODE(os.stat(os.path.dirname(os.path.abspath(path))).st_mode))
            f.write("here_check=%s\n" % context.config.get_main_option("here_check"))
            f.write("cwd=%s\n" % os.getcwd())
    hold = os.environ.get("SURFACE_HOLD")
    if hold:  # wait (at most 60 s) for the test to look, or to interrupt
        import time
        for _ in range(1200):
            if os.path.exists(hold):
                break
            time.sleep(0.05)
    op.execute("CREATE TABLE schema_r1 (x int)")


def downgrade():
    op.execute("DROP TABLE schema_r1")
PY
    cat >"$dir/alembic/versions/r2_second.py" <<'PY'
"""second

Revision ID: r2
Revises: r1
"""
from alembic import op

revision = "r2"
down_revision = "r1"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE schema_r2 (x int)")


def downgrade():
    op.execute("DROP TABLE schema_r2")
PY
}

# set_ini_url INI URL: the ini's sqlalchemy.url
set_ini_url() {
    U="$2" awk '/^sqlalchemy.url =/ { print "sqlalchemy.url = " ENVIRON["U"]; next } { print }' "$1" >"$1.new" &&
        mv "$1.new" "$1"
}

# a data migration that needs r1 and records the Alembic revision it saw
pipeline_bundle() {
    mig D001 '"r1"' "INSERT INTO t_seen SELECT 'D001', (SELECT string_agg(version_num, '+') FROM alembic_version)"
    sql "CREATE TABLE t_seen (rev text, at text)"
    build_ok
}

# seen KEY: a value r1 recorded
seen() {
    sed -n "s|^$1=||p" "$SURFACE_SEEN"
}

# jrun ARGS...: run delembic; stdout in $P/j.out, stderr in $P/j.err, $RC
jrun() {
    "$D" "$@" >"$P/j.out" 2>"$P/j.err" && RC=0 || RC=$?
}

# json_ok LABEL: the last jrun printed exactly one strict JSON document on
# stdout whose exit_code is the process's
json_ok() {
    local why
    why=$("$JSON_STRICT" "$P/j.out" "$RC") || fail "$1 (exit $RC): $why; stderr: $(head -c 400 "$P/j.err")"
}

# no_secret FILE...: none of them holds a password (or a piece of one)
no_secret() {
    local f
    for f in "$@"; do
        ! grep -aqE "$PW|zz3tpw|3cr\?3t|pw with space" "$f" || fail "a password in $f: $(cat "$f")"
    done
}

# terminal_safe FILE: no control character but newline, no C1 control, valid UTF-8
terminal_safe() {
    /usr/bin/python3 - "$1" <<'PY' || fail "control characters reach the terminal: $(cat -v "$1")"
import sys
data = open(sys.argv[1], "rb").read()
text = data.decode("utf-8")          # raises on invalid UTF-8 (a raw 0x9b)
bad = [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7f <= ord(c) <= 0x9f]
if bad:
    print("bad characters: %r" % bad)
    sys.exit(1)
PY
}

# ---- item 2: the pipeline's Alembic steps -------------------------------

test_pipeline_alembic_migrates_the_section_database_not_the_ini_one() {
    new_project
    stock_alembic .
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
    local other="${DB}_x"
    local other_url
    other_url=$(pg_newdb "$other")
    trap 'psql -qAtX -d postgres -c "DROP DATABASE IF EXISTS \"'"$other"'\" WITH (FORCE)" >/dev/null 2>&1; cleanup_project' EXIT
    set_ini_url alembic.ini "$other_url"
    # the section's database, with a password and a +driver (trust ignores the password)
    set_database "postgresql+psycopg2://postgres:$PW@/$DB?host=$PGTMP"
    pipeline_bundle
    export SURFACE_SEEN=$P/seen.txt TMPDIR=$P/tmp
    mkdir -p "$TMPDIR"
    "$D" pipeline run --auto >"$P/out" 2>&1 && RC=0 || RC=$?
    OUT=$(cat "$P/out")
    expect_rc 0
    expect_out "Pipeline complete"
    expect_sql "SELECT version_num FROM alembic_version" r2
    expect_sql "SELECT string_agg(rev || '@' || at, ',') FROM t_seen" "D001@r1"
    [ "$(psql -qAtX -d "$other" -c "SELECT to_regclass('alembic_version') IS NULL")" = t ] ||
        fail "Alembic migrated the ini's database $other"
    no_secret "$P/out"
    # the config Alembic read: a private copy, gone afterwards
    local copy
    copy=$(seen file)
    [ -n "$copy" ] && [ "$copy" != "$P/alembic.ini" ] || fail "Alembic read $copy"
    [ "$(seen file_mode)" = 600 ] || fail "copy mode $(seen file_mode)"
    [ "$(seen dir_mode)" = 700 ] || fail "copy folder mode $(seen dir_mode)"
    [ ! -e "$copy" ] || fail "the copy $copy is left behind"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
    [ "$(seen here_check)" = "$P/marker" ] || fail "%(here)s meant $(seen here_check)"
}

test_pipeline_stock_ini_in_a_subfolder_with_key_value_database() {
    new_project
    # alembic.ini in schema/, its script_location relative ("alembic"), the
    # sqlalchemy.url as alembic init wrote it (unreachable)
    stock_alembic schema
    printf '  alembic_config: schema/alembic.ini\n' >>delembic.yaml
    set_database "host=$PGTMP dbname=$DB user=postgres password='$PW'"
    pipeline_bundle
    export SURFACE_SEEN=$P/seen.txt
    "$D" pipeline run --auto >"$P/out" 2>&1 && RC=0 || RC=$?
    OUT=$(cat "$P/out")
    expect_rc 0
    expect_sql "SELECT version_num FROM alembic_version" r2
    expect_sql "SELECT at FROM t_seen" r1
    [ "$(seen here_check)" = "$P/schema/marker" ] || fail "%(here)s meant $(seen here_check)"
    [ "$(seen cwd)" = "$P/schema" ] || fail "Alembic ran in $(seen cwd)"
    no_secret "$P/out"
}

test_pipeline_with_libpq_defaults() {
    new_project
    stock_alembic .
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
    grep -v '^  database:' delembic.yaml >d.new && mv d.new delembic.yaml
    pipeline_bundle
    PGDATABASE=$DB run "$D" pipeline run --auto
    expect_rc 0
    expect_sql "SELECT version_num FROM alembic_version" r2
    expect_sql "SELECT at FROM t_seen" r1
}

pipeline_interrupt_case() {
    local sig=$1 code=$2 name=$3
    new_project
    stock_alembic .
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
    set_database "postgresql://postgres:$PW@/$DB?host=$PGTMP"
    pipeline_bundle
    export SURFACE_SEEN=$P/seen.txt SURFACE_HOLD=$P/never TMPDIR=$P/tmp
    mkdir -p "$TMPDIR"
    # the real binary, so that the signal reaches delembic itself
    "${DELEMBIC_REAL:-$D}" pipeline run --auto >"$P/out" 2>&1 &
    local pid=$! i
    for i in $(seq 1 600); do
        grep -q '^cwd=' "$SURFACE_SEEN" 2>/dev/null && break
        sleep 0.05
    done
    grep -q '^cwd=' "$SURFACE_SEEN" || fail "Alembic never ran: $(cat "$P/out")"
    [ -e "$(seen file)" ] || fail "no copy while Alembic runs"
    kill -"$sig" "$pid"
    wait "$pid" && RC=0 || RC=$?
    OUT=$(cat "$P/out")
    expect_rc "$code"
    expect_out "interrupted by $name while 'alembic upgrade r1' ran"
    [ ! -e "$(seen file)" ] || fail "the copy $(seen file) is left behind"
    [ -z "$(ls -A "$TMPDIR")" ] || fail "left in TMPDIR: $(ls -A "$TMPDIR")"
    expect_sql "SELECT to_regclass('schema_r1') IS NULL" t
}

# a background job starts with SIGINT ignored: Alembic must still stop on it
test_pipeline_interrupted_during_alembic_removes_the_config_copy() { pipeline_interrupt_case TERM 143 SIGTERM; }
test_pipeline_sigint_stops_alembic_even_from_a_background_job() { pipeline_interrupt_case INT 130 SIGINT; }

test_pipeline_stops_when_alembic_migrated_another_database() {
    new_project
    stock_alembic .
    local other="${DB}_x"
    local other_url
    other_url=$(pg_newdb "$other")
    trap 'psql -qAtX -d postgres -c "DROP DATABASE IF EXISTS \"'"$other"'\" WITH (FORCE)" >/dev/null 2>&1; cleanup_project' EXIT
    set_ini_url alembic.ini "$other_url"
    # the user's own command: the stock env.py ignores DELEMBIC_DATABASE_URL
    printf '  alembic_config: alembic.ini\n  alembic_command: alembic -c alembic.ini\n' >>delembic.yaml
    set_database "postgresql://postgres:$PW@/$DB?host=$PGTMP"
    pipeline_bundle
    run "$D" pipeline run --auto
    expect_rc 2
    expect_out "alembic upgrade r1 reported success but postgresql://postgres:***@/$DB?host=$PGTMP shows alembic_version (none); Alembic migrated another database: check sqlalchemy.url or env.py"
    expect_out "step 1 failed"
    expect_no_out "[2/"
    expect_no_out "$PW"
    expect_sql "SELECT count(*) FROM t_seen" 0
    # a version table that shows another revision is named too
    sql "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('r0')"
    run "$D" pipeline run --auto
    expect_rc 2
    expect_out "shows alembic_version r0;"
    # head: the graph's head
    printf 'steps:\n  - {name: all, type: alembic, target: head}\n' >head.yaml
    run "$D" pipeline run --file head.yaml
    expect_rc 2
    expect_out "alembic upgrade head reported success but"
}

test_pipeline_generate_never_overwrites_without_force() {
    new_project
    mig D001 '' "SELECT 1"
    build_ok
    echo "steps: []  # mine" >pipeline.yaml
    run "$D" pipeline generate
    expect_rc 2
    expect_out "pipeline.yaml already exists"
    expect_out "--force"
    grep -q "# mine" pipeline.yaml || fail "overwritten: $(cat pipeline.yaml)"
    echo "mine" >other.yaml
    run "$D" pipeline generate -o other.yaml
    expect_rc 2
    grep -qx "mine" other.yaml || fail "overwritten: $(cat other.yaml)"
    run "$D" pipeline generate --print
    expect_rc 0
    expect_out "type: delembic"
    grep -q "# mine" pipeline.yaml || fail "--print wrote the file"
    run "$D" pipeline generate --force
    expect_rc 0
    grep -q "type: delembic" pipeline.yaml || fail "--force did not write: $(cat pipeline.yaml)"
    run "$D" upgrade --force
    expect_rc 2
}

# ---- item 5: one strict JSON document ------------------------------------

test_json_every_command_prints_one_strict_document() {
    new_project
    mig T001 '' "CREATE TABLE t1 (x int)"
    mig T002 '"T001"' "SELECT 1/0"
    build_ok
    jrun --json verify --offline; json_ok "verify clean"
    jrun --json verify; json_ok "verify clean, with drift"
    jrun --json upgrade --dry-run; json_ok "upgrade --dry-run"
    jrun --json upgrade T001; json_ok "upgrade T001"
    jrun --json upgrade T001; json_ok "upgrade nothing to do"
    jrun --json upgrade head; json_ok "upgrade failing"
    [ "$RC" = 1 ] || fail "failing upgrade exited $RC"
    jrun --json history; json_ok "history"
    jrun --json current; json_ok "current"
    jrun --json upgrade NOPE; json_ok "upgrade unknown revision"
    for cmd in upgrade current history verify; do
        jrun --json --database 'postgresql://u@h:5432/db?nosuchoption=1' $cmd; json_ok "$cmd malformed URL"
        [ "$RC" = 2 ] || fail "$cmd malformed URL exited $RC"
        jrun --json --database "postgresql:///nosuchdb_surface?host=$PGTMP" $cmd; json_ok "$cmd unreachable database"
        jrun --json --bundle "$P/nowhere" $cmd; json_ok "$cmd missing bundle"
        jrun --json -c "$P/nope.yaml" $cmd; json_ok "$cmd missing config"
        jrun --json $cmd --nosuchoption; json_ok "$cmd unknown option"
        jrun --json $cmd --lock-timeout; json_ok "$cmd option without its value"
        jrun --json $cmd extra arguments here; json_ok "$cmd extra argument"
        jrun $cmd --json --help; json_ok "$cmd --help"
    done
    jrun --json upgrade -j 0; json_ok "-j 0"
    jrun --json upgrade --dot; json_ok "an option upgrade does not take"
    jrun --json nosuchcommand; json_ok "unknown command"
    jrun --json; json_ok "no command"
    jrun --json --version; json_ok "--version"
    jrun --json --help; json_ok "--help"
    jrun -j 0 --json upgrade; json_ok "--json after a bad option"
    # commands without a JSON form refuse --json in JSON
    for cmd in init revision build graph "pipeline generate"; do
        jrun --json $cmd; json_ok "$cmd --json"
        [ "$RC" = 2 ] || fail "$cmd --json exited $RC"
    done
    # verify with problems
    chmod g+w build/bundle
    jrun --json verify --offline; json_ok "verify with problems"
    [ "$RC" = 2 ] || fail "verify with problems exited $RC"
    /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d["problems"], list) and d["problem_count"] >= 1 and not d["ok"], d' "$P/j.out" ||
        fail "verify document: $(cat "$P/j.out")"
}

test_json_holds_hostile_plugin_text() {
    new_project
    use_plugin surface_escapes T001 FAIL=1
    build_ok
    hostile_descriptions
    jrun --json upgrade head; json_ok "upgrade with hostile text"
    jrun --json history; json_ok "history with hostile text"
    grep -q 'u001b\[2J' "$P/j.out" || fail "escape not kept in JSON: $(cat "$P/j.out")"
}

# ---- item 15: passwords ------------------------------------------------------

test_no_password_in_any_output() {
    new_project
    mig T001 '' "SELECT 1"
    build_ok
    local urls=(
        "postgresql://postgres:$PW@/nosuchdb_surface?host=$PGTMP"
        "postgresql://postgres:$PW@[::1"
        "postgresql://postgres:s3cr%zz3tpw@/nosuchdb_surface?host=$PGTMP"
        "postgresql://postgres:s3cr?3tpw@/nosuchdb_surface"
        "postgresql://postgres:$PW@localhost:12x/db"
        "postgresql:///nosuchdb_surface?host=$PGTMP&password=$PW"
        "postgresql:///nosuchdb_surface?host=$PGTMP&pass%77ord=$PW&bad=1"
        "postgresql:///nosuchdb_surface?host=$PGTMP&sslpassword=$PW"
        "host=$PGTMP password=$PW badopt=1"
        "host=$PGTMP password='$PW with space' dbname=nosuchdb_surface"
        "host=$PGTMP password = $PW dbname=nosuchdb_surface"
        "host=$PGTMP password='$PW"
        "postgresql+psycopg2://postgres:$PW@/nosuchdb_surface?host=$PGTMP"
    )
    local n=0 u cmd
    for u in "${urls[@]}"; do
        for cmd in upgrade current verify "revision -m x"; do
            n=$((n + 1))
            "$D" --database "$u" $cmd >"$P/o$n" 2>"$P/e$n" || true
            no_secret "$P/o$n" "$P/e$n"
        done
        for cmd in upgrade history verify; do
            n=$((n + 1))
            "$D" --json --database "$u" $cmd >"$P/o$n" 2>"$P/e$n" || true
            no_secret "$P/o$n" "$P/e$n"
        done
        n=$((n + 1))
        DELEMBIC_DATABASE_URL=$u "$D" upgrade --dry-run >"$P/o$n" 2>&1 || true
        no_secret "$P/o$n"
        set_database "$u"
        "$D" current >"$P/so$n" 2>&1 || true
        no_secret "$P/so$n"
    done
    # something was said, masked
    set_database "postgresql://postgres:$PW@/nosuchdb_surface?host=$PGTMP"
    run "$D" current
    expect_rc 2
    expect_out "postgresql://postgres:***@/nosuchdb_surface"
    run "$D" --database "postgresql://postgres:$PW@[::1" current
    expect_rc 2
    expect_out "postgresql://postgres:***@[::1"
}

test_ps_shows_no_password_for_host_or_worker() {
    new_project
    sql "CREATE TABLE t_go (rev text)"
    use_plugin surface_wait W001
    use_plugin surface_wait W002
    build_ok
    # the real binary: under valgrind /proc shows valgrind's own copy of argv
    local bin=${DELEMBIC_REAL:-$D} url="postgresql://postgres:$PW@/$DB?host=$PGTMP"
    local rev form pid worker i
    for rev in W001 W002; do
        if [ "$rev" = W001 ]; then form=(--database "$url"); else form=("--database=$url"); fi
        "$bin" "${form[@]}" upgrade "$rev" >"$P/out.$rev" 2>&1 &
        pid=$!
        worker=
        for i in $(seq 1 600); do
            worker=$(pgrep -P "$pid" | head -1) || true
            [ -n "$worker" ] && [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%t_go WHERE rev = ''$rev''%' AND pid <> pg_backend_pid()")" = 1 ] && break
            sleep 0.05
        done
        [ -n "$worker" ] || fail "no worker for $rev"
        tr '\0' ' ' </proc/$pid/cmdline >"$P/host.$rev"
        tr '\0' ' ' </proc/$worker/cmdline >"$P/worker.$rev"
        sql "INSERT INTO t_go VALUES ('$rev')"
        wait $pid || fail "upgrade $rev failed: $(cat "$P/out.$rev")"
        grep -q -- "--database" "$P/host.$rev" || fail "host cmdline: $(cat "$P/host.$rev")"
        no_secret "$P/host.$rev" "$P/worker.$rev" "$P/out.$rev"
        grep -q "postgres:\*\*\*" "$P/host.$rev" || fail "host cmdline: $(cat "$P/host.$rev")"
    done
    expect_sql "SELECT count(*) FROM delembic_version WHERE status = 'success'" 2
}

# ---- item 16: terminal escapes --------------------------------------------

# the descriptions of build/bundle/manifest.yaml become hostile text, as a
# vendor's manifest may carry (build refuses control characters in a source)
hostile_descriptions() {
    python3 - build/bundle/manifest.yaml <<'PY' || fail "cannot edit the manifest"
import re, sys
path = sys.argv[1]
text = open(path).read()
hostile = r'"desc \e[2J\r  OK (9.99s)\nRunning FAKE: forged\x7f\u009b31m"'
text, n = re.subn(r'(?m)^(\s*description:) desc$', lambda m: m.group(1) + ' ' + hostile, text)
assert n, text
open(path, 'w').write(text)
PY
}

test_plugin_text_cannot_drive_the_terminal() {
    new_project
    use_plugin surface_escapes T001 FAIL=0
    use_plugin surface_escapes T002 FAIL=1
    sed -i 's/DM_NO_DEPS/DM_DEPS("T001")/' migrations/T002.c
    build_ok
    hostile_descriptions
    local f=$P/all.txt
    : >"$f"
    for cmd in "upgrade --dry-run" "upgrade -j 2 --dry-run" graph "upgrade head" history current verify; do
        echo "== $cmd" >>"$f"
        "$D" $cmd >>"$f" 2>&1 || true
    done
    "$D" upgrade $'NOPE\033[2J\r' >>"$f" 2>&1 || true
    # a file name the bundle carries
    cp build/bundle/T001.so build/bundle/$'evil\033[2J\r.so'
    "$D" verify --offline >>"$f" 2>&1 || true
    terminal_safe "$f"
    OUT=$(cat "$f")
    expect_out 'Running T001: desc \x1b[2J\r  OK (9.99s)\nRunning FAKE: forged\x7f\u009b31m'
    expect_out 'T001: log \x1b[2J\r'
    expect_out 'FAILED: fail \x1b[2J\r'
    expect_out '\x9b1m'
    expect_out 'evil\x1b[2J\r.so'
    expect_out "unknown target revision 'NOPE\\x1b[2J\\r'"
    # nothing forged at the start of a line
    ! grep -qE '^(Running FAKE|  OK \(9\.99s\))' "$f" || fail "a forged line: $(grep -nE '^(Running FAKE|  OK \(9\.99s\))' "$f")"
    expect_sql "SELECT status FROM delembic_version WHERE revision = 'T001'" success
}

# ---- issue 9 findings: the surface (S1-S7) ------------------------------

# as_user USER DIR CMD...: run CMD as USER (with USER's group, no supplementary
# root groups) in DIR, with the manifest cache off (root's HOME is not USER's);
# the real binary, since valgrind's log folder is root's
as_user() {
    local u=$1 dir=$2
    shift 2
    (cd "$dir" && exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups \
        env DELEMBIC_CACHE_DIR=off HOME=/nonexistent "$@")
}

# limited CMD...: run CMD like `run`, stopped after WAIT_TIMEOUT_S (exit 124)
limited() {
    run timeout -k 5 "$WAIT_TIMEOUT_S" "$@"
    [ "$RC" != 124 ] && [ "$RC" != 137 ] || fail "still waiting after ${WAIT_TIMEOUT_S}s: $*"
}

# needs_root: other users (setpriv, chown) and device nodes need root, as CI
# runs the suite; as another user the test says it is skipped
needs_root() {
    [ "$(id -u)" = 0 ] && return 0
    echo "    skipped: needs root (other users, device nodes)"
    return 1
}

# shared_folder VAR: a fresh sticky world-writable folder (as /tmp is), in VAR
shared_folder() {
    temp_dir "$1"
    chmod 1777 "${!1}"
}

# S1: a victim (nobody) runs a bundle from a folder under a sticky shared
# folder; another user (daemon) planted delembic.yaml above it
test_config_planted_above_by_another_user_is_refused() {
    needs_root || return 0
    new_project
    mig T001 '' "CREATE TABLE IF NOT EXISTS t_data (x int); INSERT INTO t_data VALUES (1)"
    build_ok
    local shared bin=${DELEMBIC_REAL:-$D}
    shared_folder shared
    mkdir "$shared/victim"
    cp -a build/bundle "$shared/victim/bundle"
    chown -R nobody: "$shared/victim"
    run as_user nobody "$shared/victim" "$bin" upgrade --bundle ./bundle --database "$URL"
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_data" 1
    # the attacker's file, owned by daemon, above the victim's folder
    as_user daemon "$shared" sh -c 'printf "delembic:\n  version_table_schema: mallory\n" >delembic.yaml'
    [ "$(stat -c %U "$shared/delembic.yaml")" = daemon ] || fail "not planted as daemon"
    run as_user nobody "$shared/victim" "$bin" upgrade --bundle ./bundle --database "$URL"
    expect_rc 2
    expect_out "$shared/delembic.yaml"
    expect_out "-c FILE"
    expect_sql "SELECT count(*) FROM t_data" 1
    expect_sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'mallory'" 0
    # a build would run the planted config's compiler: refused the same way
    mkdir "$shared/victim/src"
    chown nobody: "$shared/victim/src"
    run as_user nobody "$shared/victim/src" "$bin" build
    expect_rc 2
    expect_out "$shared/delembic.yaml"
    # a FIFO planted there does not hang the victim's run
    rm -f "$shared/delembic.yaml"
    as_user daemon "$shared" mkfifo delembic.yaml
    run as_user nobody "$shared/victim" timeout -k 5 "$WAIT_TIMEOUT_S" "$bin" upgrade --bundle ./bundle --database "$URL"
    expect_rc 2
    expect_out "$shared/delembic.yaml"
    # -c FILE is the user's own choice: used as given
    rm -f "$shared/delembic.yaml"
    printf 'delembic:\n  version_table_schema: public\n' >"$shared/victim/mine.yaml"
    chown nobody: "$shared/victim/mine.yaml"
    run as_user nobody "$shared/victim" "$bin" -c mine.yaml upgrade --bundle ./bundle --database "$URL"
    expect_rc 0
    expect_out "Nothing to do"
    expect_sql "SELECT count(*) FROM t_data" 1
}

# S1, as root (CI): a config found by walking up must be owned by root and
# changeable by nobody else, and so must the folder it is in
test_config_found_by_walking_up_is_refused_for_root_too() {
    needs_root || return 0
    new_project
    mig T001 '' "CREATE TABLE IF NOT EXISTS t_data (x int); INSERT INTO t_data VALUES (1)"
    build_ok
    local shared
    shared_folder shared
    mkdir "$shared/work"
    cp -a build/bundle "$shared/work/bundle"
    printf 'delembic:\n  version_table_schema: mallory\n' >"$shared/delembic.yaml"
    chown daemon: "$shared/delembic.yaml"
    cd "$shared/work"
    run "$D" upgrade --bundle ./bundle --database "$URL"
    expect_rc 2
    expect_out "$shared/delembic.yaml"
    expect_out "owned by daemon"
    expect_sql "SELECT count(*) FROM pg_namespace WHERE nspname = 'mallory'" 0
    expect_sql "SELECT to_regclass('t_data') IS NULL" t
    # root's own file, but in a folder anyone can write to
    chown root: "$shared/delembic.yaml"
    run "$D" upgrade --bundle ./bundle --database "$URL"
    expect_rc 2
    expect_out "$shared/delembic.yaml"
    expect_out "writable by others"
    expect_sql "SELECT to_regclass('t_data') IS NULL" t
    # the project's own file, writable by a group another user is in
    cd "$P"
    chgrp daemon delembic.yaml
    chmod g+w delembic.yaml
    run "$D" upgrade
    expect_rc 2
    expect_out "$P/delembic.yaml"
    expect_out "writable by its group"
    run "$D" -c delembic.yaml upgrade --dry-run
    expect_rc 0
    # writable by a group only its owner is in (umask 002 with user private
    # groups): nobody else can write it
    chgrp root delembic.yaml
    chmod g+w delembic.yaml "$P"
    run "$D" upgrade --dry-run
    expect_rc 0
    chmod g-w delembic.yaml "$P"
    # a project folder others can write to
    chmod o+w "$P"
    run "$D" upgrade
    expect_rc 2
    expect_out "its folder $P is writable by others"
    chmod o-w "$P"
    run "$D" upgrade
    expect_rc 0
    expect_sql "SELECT count(*) FROM t_data" 1
}

# S2: a FIFO or device node where delembic reads a file by name is refused
# at once, never opened (an open of a FIFO waits for a writer forever)
test_fifo_or_device_in_place_of_a_file_is_refused_at_once() {
    new_project
    stock_alembic .
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
    mig T001 '"r1"' "SELECT 1"
    build_ok
    cp delembic.yaml real.yaml
    # delembic.yaml found by walking up, and given with -c
    rm delembic.yaml && mkfifo delembic.yaml
    limited "$D" upgrade --dry-run
    expect_rc 2
    expect_out "$P/delembic.yaml: a FIFO, not a regular file"
    limited "$D" -c delembic.yaml upgrade --dry-run
    expect_rc 2
    expect_out "delembic.yaml: a FIFO, not a regular file"
    if [ "$(id -u)" = 0 ]; then
        mknod dev.yaml c 1 3
        limited "$D" -c dev.yaml upgrade --dry-run
        expect_rc 2
        expect_out "dev.yaml: a character device, not a regular file"
    fi
    rm delembic.yaml && cp real.yaml delembic.yaml
    # pipeline.yaml
    mkfifo pipe.yaml
    limited "$D" pipeline run --file pipe.yaml
    expect_rc 2
    expect_out "pipe.yaml: a FIFO, not a regular file"
    # alembic.ini, then an Alembic version script
    mv alembic.ini alembic.ini.real && mkfifo alembic.ini
    limited "$D" build
    expect_rc 2
    expect_out "alembic.ini: a FIFO, not a regular file"
    limited "$D" pipeline run --auto
    [ "$RC" != 0 ] || fail "pipeline ran with a FIFO alembic.ini: $OUT"
    rm alembic.ini && mv alembic.ini.real alembic.ini
    mkfifo alembic/versions/r3_fifo.py
    limited "$D" build
    expect_rc 2
    expect_out "r3_fifo.py: a FIFO, not a regular file"
    rm alembic/versions/r3_fifo.py
    # a source replaced by a FIFO after the build: upgrade's stale check
    rm migrations/T001.c && mkfifo migrations/T001.c
    limited "$D" upgrade --dry-run
    expect_out "migrations/T001.c"
    rm migrations/T001.c
    mig T001 '"r1"' "SELECT 1"
    build_ok
    # manifest.yaml
    mv build/bundle/manifest.yaml real-manifest.yaml && mkfifo build/bundle/manifest.yaml
    limited "$D" upgrade --dry-run --bundle build/bundle
    expect_rc 2
    expect_out "manifest.yaml: a FIFO, not a regular file"
    limited "$D" verify --offline
    expect_rc 2
    rm build/bundle/manifest.yaml && mv real-manifest.yaml build/bundle/manifest.yaml
    # a cache entry (the cache reads it non-blocking, then ignores it)
    local cache
    temp_dir cache
    chmod 700 "$cache"
    DELEMBIC_CACHE_DIR=$cache run "$D" verify --offline
    expect_rc 0
    local entry
    entry=$(ls "$cache"/*.bin | head -1)
    [ -n "$entry" ] || fail "no cache entry in $cache"
    rm "$entry" && mkfifo "$entry"
    DELEMBIC_CACHE_DIR=$cache limited "$D" verify --offline
    expect_rc 0
}

# S3: two sections on one database, each numbering from D001
test_two_sections_on_one_database_keep_their_records_apart() {
    new_project
    run "$D" -n silver init silver
    expect_rc 0
    expect_out "Next: delembic -n silver revision -m"
    grep -A20 '^silver:' delembic.yaml | grep -q '^  version_table_schema: silver' ||
        fail "no version_table_schema for silver: $(cat delembic.yaml)"
    ! sed -n '/^delembic:/,/^silver:/p' delembic.yaml | grep -q '^  version_table_schema' ||
        fail "the first section got a schema: $(cat delembic.yaml)"
    U="$URL" awk '/^silver:/ { s = 1 } s && $1 == "database:" { print "  database: " ENVIRON["U"]; next } { print }' \
        delembic.yaml >d.new && mv d.new delembic.yaml
    mig D001 '' "CREATE TABLE t_main (x int)"
    mig D001 '' "CREATE TABLE t_silver (x int)" '' ../silver/D001.c
    build_ok
    run "$D" -n silver build
    expect_rc 0
    run "$D" upgrade
    expect_rc 0
    run "$D" -n silver upgrade
    expect_rc 0
    expect_out "Running D001"
    expect_sql "SELECT to_regclass('t_main') IS NOT NULL AND to_regclass('t_silver') IS NOT NULL" t
    expect_sql "SELECT count(*) FROM silver.delembic_version" 1
    expect_sql "SELECT count(*) FROM public.delembic_version" 1
    run "$D" -n silver history
    expect_out "applied"
    expect_no_out "changed"
    # a section that shares the first one's sources shares its records too
    run "$D" -n staging init
    expect_rc 0
    expect_out "Next: delembic -n staging revision -m"
    ! sed -n '/^staging:/,$p' delembic.yaml | grep -q '^  version_table_schema' ||
        fail "a section with the same sources got its own schema: $(cat delembic.yaml)"
    # a section name that appears in the header comment is appended whole
    run "$D" -n data init data_src
    expect_rc 0
    grep -A20 '^data:' delembic.yaml | grep -q '^  version_table_schema: data' ||
        fail "the data section is not whole: $(cat delembic.yaml)"
    run "$D" -n data build
    expect_rc 0
    run "$D" -n silver current
    expect_rc 0
}

# S4: an env.py that hard-codes another database; the target already shows
# the revision a step asks for: Alembic must not run at all
test_pipeline_skips_alembic_steps_the_database_already_shows() {
    new_project
    stock_alembic .
    printf '  alembic_config: alembic.ini\n' >>delembic.yaml
    local other="${DB}_x" other_url
    other_url=$(pg_newdb "$other")
    trap 'psql -qAtX -d postgres -c "DROP DATABASE IF EXISTS \"'"$other"'\" WITH (FORCE)" >/dev/null 2>&1; cleanup_project' EXIT
    U="$other_url" awk '{ print } /^config = context.config$/ { print "config.set_main_option(\"sqlalchemy.url\", \"" ENVIRON["U"] "\")" }' \
        alembic/env.py >env.new && mv env.new alembic/env.py
    grep -q "set_main_option" alembic/env.py || fail "env.py not changed"
    pipeline_bundle
    sql "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('r2')"
    run "$D" pipeline run --auto
    expect_rc 0
    expect_out "schema already at r1: skipped"
    expect_out "schema already at head: skipped"
    expect_out "Pipeline complete"
    [ "$(psql -qAtX -d "$other" -c "SELECT to_regclass('alembic_version') IS NULL")" = t ] ||
        fail "Alembic ran against $other"
    expect_sql "SELECT count(*) FROM t_seen" 1
    # the target behind: Alembic runs, migrates the other database, and the
    # check after the step stops the pipeline
    sql "UPDATE alembic_version SET version_num = 'r1'"
    run "$D" pipeline run --auto
    expect_rc 2
    expect_out "schema already at r1: skipped"
    expect_out "alembic upgrade head reported success but"
    expect_out "Alembic migrated another database"
}

# S5: any directory entry (a dangling symbolic link too) is an existing file
test_pipeline_generate_keeps_a_dangling_symlink() {
    new_project
    mig D001 '' "SELECT 1"
    build_ok
    ln -s "$P/nowhere.yaml" out.yaml
    run "$D" pipeline generate -o out.yaml
    expect_rc 2
    expect_out "out.yaml already exists"
    [ -L out.yaml ] || fail "the link was replaced"
    [ ! -e nowhere.yaml ] || fail "written through the link"
    ln -s "$P/nowhere.yaml" pipeline.yaml
    run "$D" pipeline generate
    expect_rc 2
    [ -L pipeline.yaml ] || fail "the link was replaced"
    run "$D" pipeline generate -o out.yaml --force
    expect_rc 0
    grep -q "type: delembic" out.yaml || fail "--force did not write"
}

# S6: the manifest cache keeps its newest entries only
test_manifest_cache_is_pruned_to_its_newest_entries() {
    new_project
    mig D001 '' "SELECT 1"
    build_ok
    local cache i
    temp_dir cache
    chmod 700 "$cache"
    for i in $(seq 1 100); do
        printf 'old' >"$cache/$(printf '%064x' "$i").bin"
    done
    touch -d '2 days ago' "$cache"/*.bin
    echo mine >"$cache/notes.txt"
    DELEMBIC_CACHE_DIR=$cache run "$D" verify --offline
    expect_rc 0
    local n
    n=$(find "$cache" -name '*.bin' | wc -l)
    [ "$n" -le 64 ] || fail "$n entries kept"
    [ "$n" -ge 32 ] || fail "only $n entries kept"
    [ -n "$(find "$cache" -name '*.bin' -newermt '1 day ago')" ] || fail "the new entry is gone"
    [ -f "$cache/notes.txt" ] || fail "a file that is not an entry was removed"
}

# S7: ps shows a fixed *** whatever the password's length: two runs whose
# passwords differ in length show the same command line, byte for byte
test_ps_masks_a_password_with_a_fixed_width() {
    new_project
    sql "CREATE TABLE t_go (rev text)"
    use_plugin surface_wait W001
    use_plugin surface_wait W002
    use_plugin surface_wait W003
    build_ok
    local bin=${DELEMBIC_REAL:-$D} rev pw pid worker i f
    for rev in W001 W002 W003; do
        case $rev in
        W001) pw=ab ;;
        W002) pw=$PW ;;
        W003) pw=abc ;;
        esac
        "$bin" --database "postgresql://postgres:$pw@/$DB?host=$PGTMP" upgrade $rev >"$P/out.$rev" 2>&1 &
        pid=$!
        worker=
        for i in $(seq 1 600); do
            worker=$(pgrep -P "$pid" | head -1) || true
            [ -n "$worker" ] && [ "$(sql "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%t_go WHERE rev = ''$rev''%' AND pid <> pg_backend_pid()")" = 1 ] && break
            sleep 0.05
        done
        [ -n "$worker" ] || fail "no worker for $rev"
        sed "s/$rev/W00X/g" /proc/$pid/cmdline >"$P/host.$rev"
        sed "s/$rev/W00X/g" /proc/$worker/cmdline >"$P/worker.$rev"
        ps -o args= -p "$pid" | sed "s/$rev/W00X/g" >"$P/ps.$rev"
        sql "INSERT INTO t_go VALUES ('$rev')"
        wait $pid || fail "upgrade $rev failed: $(cat "$P/out.$rev")"
        grep -q "postgres:\*\*\*@" "$P/ps.$rev" || fail "ps shows: $(cat "$P/ps.$rev")"
    done
    for f in host worker ps; do
        cmp -s "$P/$f.W001" "$P/$f.W002" && cmp -s "$P/$f.W001" "$P/$f.W003" ||
            fail "$f differs with the password's length: $(od -c "$P/$f.W001" | tail -4) / $(od -c "$P/$f.W002" | tail -4)"
    done
    ! grep -q "\*\*\*\*" "$P/ps.W002" || fail "the password's length shows: $(cat "$P/ps.W002")"
    # the title that runs on into the environment block, in $D (under
    # valgrind with VALGRIND=1): the run and the environment it passes on
    # (to the compiler, to Alembic) are intact
    run env SURFACE_ENV_CHECK=kept "$D" --database "postgresql://postgres:Q@/$DB?host=$PGTMP" history
    expect_rc 0
    expect_out "W003"
    printf '#!/bin/sh\necho "SURFACE_ENV_CHECK=$SURFACE_ENV_CHECK"\nexit 1\n' >"$P/envcheck.sh"
    chmod +x "$P/envcheck.sh"
    printf 'delembic:\n  alembic_command: %s\n' "$P/envcheck.sh" >"$P/envcheck.yaml"
    run env SURFACE_ENV_CHECK=kept "$D" -c "$P/envcheck.yaml" --bundle "$P/build/bundle" \
        --database "postgresql://postgres:Q@/$DB?host=$PGTMP" pipeline run --auto
    expect_out "SURFACE_ENV_CHECK=kept"
}

run_tests
