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

pass=0
fail=0
echo "== unit tests (check)"
if meson test -C "$BUILD" --print-errorlogs >"$ROOT/$BUILD/unit.log" 2>&1; then
    u=$(grep -E '^Ok:' "$ROOT/$BUILD/unit.log" | awk '{print $2}')
    pass=$((pass + ${u:-0}))
    echo "  ok    $u unit test programs"
else
    cat "$ROOT/$BUILD/unit.log"
    f=$(grep -E '^Fail:' "$ROOT/$BUILD/unit.log" | awk '{print $2}')
    fail=$((fail + ${f:-1}))
fi

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
echo
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
