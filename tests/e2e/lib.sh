# Helpers for the end-to-end tests. Each test file is a bash script that
# sources this, defines test_* functions, and calls run_tests. The cluster is
# started once by tests/run.sh (PGHOST etc. exported); every test gets a fresh
# database ($URL) and a fresh project folder ($P) with delembic.yaml.
set -uo pipefail
ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
D=${DELEMBIC:-$ROOT/build/core/delembic}
PLUGINS=$ROOT/tests/plugins
source "$ROOT/tests/pgcluster.sh"
T_PASS=0
T_FAIL=0
T_FAILED_NAMES=()
T_DIRS=()                               # temp_dir's folders, removed with the project
WAIT_TIMEOUT_S=${WAIT_TIMEOUT_S:-60}    # wait_for's default: generous, for shared cores and valgrind
WAIT_POLL_S=0.05                        # how often wait_for looks again

# psql in the tests: server NOTICEs ("table ... does not exist, skipping") are
# noise in the suite's output; warnings and errors still show. A function, not
# an exported PGOPTIONS, so delembic's own connections are not affected.
psql() {
    PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c client_min_messages=warning" command psql "$@"
}

fail() {
    echo "    FAIL: $*" >&2
    return 1
}

# run CMD...: captures $OUT (stdout+stderr) and $RC
run() {
    OUT=$("$@" 2>&1) && RC=0 || RC=$?
}

expect_rc() {
    [ "$RC" = "$1" ] || fail "expected exit $1, got $RC; output:
$OUT"
}

expect_out() {
    grep -qF -- "$1" <<<"$OUT" || fail "output lacks '$1'; output:
$OUT"
}

expect_no_out() {
    ! grep -qF -- "$1" <<<"$OUT" || fail "output has '$1'; output:
$OUT"
}

# wait_for 'CONDITION' [SECONDS]: evaluate the shell CONDITION every
# WAIT_POLL_S until it holds; after SECONDS (default WAIT_TIMEOUT_S) fail,
# naming it. For what another process does: a worker to exist, a statement to
# be running, a lock to be held, a file to appear. Add context with || fail.
wait_for() {
    local _wf_cond=$1 _wf_limit=${2:-$WAIT_TIMEOUT_S}
    local _wf_end=$((SECONDS + _wf_limit))
    until eval "$_wf_cond"; do
        [ "$SECONDS" -lt "$_wf_end" ] || { fail "gave up after ${_wf_limit}s waiting for: $_wf_cond"; return 1; }
        sleep "$WAIT_POLL_S"
    done
}

# run_bounded CMD...: run a command that used to hang; it must end by itself well within this
HANG_LIMIT_S=120
run_bounded() {
    run timeout -k 5 "$HANG_LIMIT_S" "$@"
    [ "$RC" != 124 ] && [ "$RC" != 137 ] || fail "hung for ${HANG_LIMIT_S}s: $*"
}

# wait_for_sql 'QUERY' VALUE [SECONDS]: wait_for QUERY (in $DB) to give VALUE
wait_for_sql() {
    local _ws_q=$1 _ws_v=$2
    wait_for '[ "$(sql "$_ws_q" 2>&1)" = "$_ws_v" ]' "${3:-}" ||
        fail "'$_ws_q' still gives '$(sql "$_ws_q" 2>&1)', not '$_ws_v'"
}

# touch_later FILE...: touch each file until its mtime has moved (the kernel
# stamps files with a clock that ticks every few milliseconds)
touch_later() {
    local _tl_f _tl_old
    for _tl_f in "$@"; do
        _tl_old=$(stat -c %y -- "$_tl_f")
        wait_for 'touch -- "$_tl_f" && [ "$(stat -c %y -- "$_tl_f")" != "$_tl_old" ]'
    done
}

# temp_dir VAR: a fresh folder (mode 755) outside the project, in VAR; removed
# with the project, whether the test passes, fails or is interrupted
temp_dir() {
    local _td
    _td=$(mktemp -d /tmp/delembic-test.XXXXXX) || return 1
    chmod 755 "$_td"
    T_DIRS+=("$_td")
    printf -v "$1" '%s' "$_td"
}

sql() {
    psql -qAtX -v ON_ERROR_STOP=1 -d "$DB" -c "$1"
}

expect_sql() {
    local got
    got=$(sql "$1" 2>&1)
    [ "$got" = "$2" ] || fail "SQL '$1' gave '$got', expected '$2'"
}

# new_project: fresh database and project folder with delembic.yaml
new_project() {
    DB="t_$(date +%s%N | tail -c 10)_$RANDOM"
    URL=$(pg_newdb "$DB")
    temp_dir P
    mkdir -p "$P/migrations"
    cat >"$P/delembic.yaml" <<YAML
delembic:
  script_location: migrations
  build_dir: build/bundle
  database: $URL
YAML
    cd "$P"
}

# mig REV 'DEPS' 'UPGRADE_SQL' ['VALIDATE_SQL_THAT_MUST_RETURN_t'] [FILE]
# DEPS is a C list body: '"T001", "T002"' or '' for none.
mig() {
    local rev=$1 deps=$2 up=$3 val=${4:-} file=${5:-$1.c}
    local depexpr="DM_NO_DEPS"
    [ -n "$deps" ] && depexpr="DM_DEPS($deps)"
    local valfn="" valref=""
    if [ -n "$val" ]; then
        valfn="static int validate(PGconn *conn, dm_ctx *ctx)
{
    char *v = NULL;
    if (dm_scalar_text(ctx, conn, \"$val\", &v) != 0)
        return -1;
    int ok = v[0] == 't';
    free(v);
    DM_CHECK(ctx, ok, \"validation failed: $rev\");
    return 0;
}"
        valref=".validate = validate,"
    fi
    cat >"$P/migrations/$file" <<C
#include <stdlib.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "$up");
}
$valfn
DM_MIGRATION(.revision = "$rev", .depends_on = $depexpr,
             .description = "test migration $rev", $valref .upgrade = upgrade);
C
}

# use_plugin NAME REV [KEY=VALUE...]: copy tests/plugins/NAME.c as REV.c,
# replacing @REV@ and each @KEY@
use_plugin() {
    local name=$1 rev=$2
    shift 2
    local args=(-e "s|@REV@|$rev|g")
    for kv in "$@"; do
        args+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${args[@]}" "$PLUGINS/$name.c" >"$P/migrations/$rev.c"
}

# set_database URL: the 'database:' line of ./delembic.yaml
set_database() {
    U="$1" awk '$1 == "database:" { print "  database: " ENVIRON["U"]; next } { print }' \
        delembic.yaml >delembic.yaml.new && mv delembic.yaml.new delembic.yaml
}

build_ok() {
    run "$D" build
    [ "$RC" = 0 ] || fail "build failed: $OUT"
}

cleanup_project() {
    cd /
    local d
    for d in "${T_DIRS[@]}"; do
        # a test may have taken its own write permission away
        chmod -R u+rwx "$d" 2>/dev/null || true
        rm -rf "$d" || true
    done
    [ -n "${DB:-}" ] && psql -qAtX -d postgres -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1
    T_DIRS=()
    P=
    DB=
}

run_tests() {
    local file
    file=$(basename "${BASH_SOURCE[1]}" .sh)
    local only=${TEST_FILTER:-}
    for t in $(declare -F | awk '{print $3}' | grep '^test_'); do
        [ -n "$only" ] && [[ "$t" != *$only* ]] && continue
        local start=$EPOCHREALTIME rc
        ( set -e; trap cleanup_project EXIT; "$t" )
        rc=$?
        local took
        took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
        if [ "$rc" = 0 ]; then
            T_PASS=$((T_PASS + 1))
            printf '  ok    %s/%s (%ss)\n' "$file" "$t" "$took"
        else
            T_FAIL=$((T_FAIL + 1))
            T_FAILED_NAMES+=("$file/$t")
            printf '  FAIL  %s/%s\n' "$file" "$t"
        fi
    done
    echo "$T_PASS $T_FAIL" >>"${RESULTS_FILE:-/dev/null}"
    [ "$T_FAIL" = 0 ]
}
