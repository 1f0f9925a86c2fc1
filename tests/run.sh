#!/bin/bash
# The whole test suite: installs what it needs (Debian 12), builds with meson,
# runs the check unit tests, starts a throwaway PostgreSQL 15 and runs the
# end-to-end tests against it with the real delembic binary, real plugins and
# the real Alembic. Prints "N passed, M failed" last; exits nonzero on failure.
#   tests/run.sh                  everything
#   BUILD=build-asan tests/run.sh -Dsanitize_all=true    under ASan/UBSan
#   TEST_FILTER=concurrent tests/run.sh                   matching e2e tests only
# Whether it passes, fails or is stopped with Ctrl-C, it leaves nothing in
# /tmp but a sanitizer/valgrind report folder that holds reports (it says where).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
source tests/pgcluster.sh

RESULTS_FILE=
OWN_LOG_DIRS=()   # report folders this run made: removed at the end unless they hold reports

# reports DIR: the sanitizer/valgrind reports in DIR. A process killed by a
# signal on purpose (the crash tests' plugins) is neither error-free nor
# leak-free by construction: its report is expected, so not listed.
reports() {
    find "$1" -type f -size +0 2>/dev/null | xargs -r grep -L "Process terminating with default action of signal"
}

# finish: stop the server and remove what this run made in /tmp; safe to run
# twice (at the end, then at exit)
finish() {
    pg_stop
    [ -z "$RESULTS_FILE" ] || rm -f "$RESULTS_FILE"
    RESULTS_FILE=
    local dir
    for dir in "${OWN_LOG_DIRS[@]}"; do
        if [ -n "$(reports "$dir")" ]; then
            echo "== sanitizer/valgrind reports kept in $dir"
        else
            rm -rf "$dir"
        fi
    done
    OWN_LOG_DIRS=()
}
trap finish EXIT
trap 'echo; echo "== interrupted"; exit 130' INT
trap 'exit 143' TERM

[ -n "${SKIP_DEPS:-}" ] || tests/install-deps.sh
BUILD=${BUILD:-build}
if [ ! -d "$BUILD" ]; then
    meson setup "$BUILD" "$@" >/dev/null || exit 2
fi
meson compile -C "$BUILD" >/dev/null || { meson compile -C "$BUILD"; exit 2; }
export DELEMBIC=$ROOT/$BUILD/core/delembic ROOT
# sanitizer builds: a plugin's own SIGSEGV must stay a signal (the host records
# it); every report fails the run (reports also land in $SAN_LOG_DIR)
if [ -z "${SAN_LOG_DIR:-}" ]; then
    SAN_LOG_DIR=$(mktemp -d /tmp/delembic-san.XXXXXX) || exit 2
    OWN_LOG_DIRS+=("$SAN_LOG_DIR")
fi
export SAN_LOG_DIR
export ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_abort=0:detect_leaks=1:log_path=$SAN_LOG_DIR/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$SAN_LOG_DIR/ubsan}
if [ -n "${VALGRIND:-}" ]; then
    # the end-to-end suite with every delembic run under valgrind memcheck
    export DELEMBIC_REAL=$DELEMBIC DELEMBIC=$ROOT/tests/valgrind-delembic.sh
    VALGRIND_LOG_DIR=$(mktemp -d /tmp/delembic-vg.XXXXXX) || exit 2
    OWN_LOG_DIRS+=("$VALGRIND_LOG_DIR")
    export VALGRIND_LOG_DIR
fi

echo "== unit tests (check)"
meson test -C "$BUILD" --print-errorlogs >"$ROOT/$BUILD/unit.log" 2>&1
unit_rc=$?
# check prints "NN%: Checks: N, Failures: F, Errors: E" per program
read -r checks failures < <(grep -ohE 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
    "$ROOT/$BUILD/meson-logs/testlog.txt" | awk -F'[:,] *' '{c += $2; f += $4 + $6} END {print c + 0, f + 0}')
programs=$(grep -cE '^ *[0-9]+/[0-9]+ .* OK' "$ROOT/$BUILD/unit.log")
if [ "$unit_rc" = 0 ]; then
    echo "  ok    $checks checks in $programs programs"
else
    grep -E 'FAIL|:F:|:E:' "$ROOT/$BUILD/unit.log"
    [ "$failures" -gt 0 ] || failures=1   # a program that died before its summary
    echo "  FAIL  $failures of $checks checks ($programs programs passed; log: $BUILD/unit.log)"
fi
unit_pass=$((checks - failures))
unit_fail=$failures

pg_start off || exit 2
RESULTS_FILE=$(mktemp /tmp/delembic-results.XXXXXX) || exit 2
export RESULTS_FILE
echo "== end-to-end tests (PostgreSQL 15 at $PGHOST)"
for t in tests/e2e/test_*.sh; do
    bash "$t"
done
e2e_pass=0
e2e_fail=0
while read -r p f; do
    e2e_pass=$((e2e_pass + p))
    e2e_fail=$((e2e_fail + f))
done <"$RESULTS_FILE"
report_fail=0
for dir in "$SAN_LOG_DIR" "${VALGRIND_LOG_DIR:-}"; do
    [ -n "$dir" ] || continue
    found=$(reports "$dir")
    if [ -n "$found" ]; then
        echo "== sanitizer/valgrind reports:"
        for r in $found; do echo "--- $r"; head -40 "$r"; done
        report_fail=$((report_fail + 1))
    fi
done
finish
echo
summary="unit: $unit_pass passed, $unit_fail failed; end-to-end${TEST_FILTER:+ (TEST_FILTER=$TEST_FILTER)}:"
summary+=" $e2e_pass passed, $e2e_fail failed"
[ "$report_fail" = 0 ] || summary+="; sanitizer/valgrind reports: $report_fail failed"
echo "$summary"
pass=$((unit_pass + e2e_pass))
fail=$((unit_fail + e2e_fail + report_fail))
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
