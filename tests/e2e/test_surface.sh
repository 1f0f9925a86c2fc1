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

run_tests
