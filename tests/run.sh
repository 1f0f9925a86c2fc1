#!/bin/bash
# The whole test suite: installs what it needs (Debian 12), builds with meson,
# runs the check unit tests, starts a throwaway PostgreSQL 15 and runs the
# end-to-end tests against it with the real delembic binary, real plugins and
# the real Alembic. Prints "N passed, M failed" last; exits nonzero on failure.
#   tests/run.sh                  everything
#   BUILD=build-asan tests/run.sh -Dsanitize_all=true    under ASan/UBSan
#   TEST_FILTER=concurrent tests/run.sh                   matching e2e tests only
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -n "${SKIP_DEPS:-}" ] || tests/install-deps.sh
BUILD=${BUILD:-build}
if [ ! -d "$BUILD" ]; then
    meson setup "$BUILD" "$@" >/dev/null || exit 2
fi
meson compile -C "$BUILD" >/dev/null || { meson compile -C "$BUILD"; exit 2; }
export DELEMBIC=$ROOT/$BUILD/core/delembic ROOT
# sanitizer builds: a plugin's own SIGSEGV must stay a signal (the host records
# it); every report fails the run (reports also land in $SAN_LOG_DIR)
export SAN_LOG_DIR=${SAN_LOG_DIR:-$(mktemp -d /tmp/delembic-san.XXXXXX)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-handle_segv=0:handle_abort=0:detect_leaks=1:log_path=$SAN_LOG_DIR/asan}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:log_path=$SAN_LOG_DIR/ubsan}
if [ -n "${VALGRIND:-}" ]; then
    # the end-to-end suite with every delembic run under valgrind memcheck
    export DELEMBIC_REAL=$DELEMBIC DELEMBIC=$ROOT/tests/valgrind-delembic.sh
    export VALGRIND_LOG_DIR=$(mktemp -d /tmp/delembic-vg.XXXXXX)
fi

pass=0
fail=0
echo "== unit tests (check)"
meson test -C "$BUILD" --print-errorlogs >"$ROOT/$BUILD/unit.log" 2>&1
unit_rc=$?
# check prints "NN%: Checks: N, Failures: F, Errors: E" per program
read -r checks failures < <(grep -ohE 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' \
    "$ROOT/$BUILD/meson-logs/testlog.txt" | awk -F'[:,] *' '{c += $2; f += $4 + $6} END {print c + 0, f + 0}')
if [ "$unit_rc" = 0 ]; then
    echo "  ok    $checks checks in $(grep -cE '^ *[0-9]+/[0-9]+ .* OK' "$ROOT/$BUILD/unit.log") programs"
else
    grep -E 'FAIL|:F:|:E:' "$ROOT/$BUILD/unit.log"
    [ "$failures" -gt 0 ] || failures=1
fi
pass=$((pass + checks - failures))
fail=$((fail + failures))

source tests/pgcluster.sh
pg_start off || exit 2
trap pg_stop EXIT
export RESULTS_FILE=$(mktemp)
echo "== end-to-end tests (PostgreSQL 15 at $PGHOST)"
for t in tests/e2e/test_*.sh; do
    bash "$t"
done
while read -r p f; do
    pass=$((pass + p))
    fail=$((fail + f))
done <"$RESULTS_FILE"
rm -f "$RESULTS_FILE"
for dir in "$SAN_LOG_DIR" "${VALGRIND_LOG_DIR:-}"; do
    [ -n "$dir" ] || continue
    # a process killed by a signal on purpose (the crash tests' plugins) is
    # neither error-free nor leak-free by construction: its report is expected
    reports=$(find "$dir" -type f -size +0 2>/dev/null | xargs -r grep -L "Process terminating with default action of signal")
    if [ -n "$reports" ]; then
        echo "== sanitizer/valgrind reports:"
        for r in $reports; do echo "--- $r"; head -40 "$r"; done
        fail=$((fail + 1))
    fi
done
echo
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
