#!/bin/bash
# The demo, from a fresh Debian 12 machine: install, build delembic, build the
# demo bundle, start a throwaway PostgreSQL, apply the schema with Alembic and
# the data with Delembic, show the history, stop the server.
# Usage: migrations/run-demo.sh   (KEEP=1 leaves the server running and prints
# the command that stops it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tests/install-deps.sh
[ -d build ] || meson setup build >/dev/null
meson compile -C build >/dev/null
D=$root/build/core/delembic
source tests/pgcluster.sh
pg_start on
if [ -n "${KEEP:-}" ]; then
    # also when the demo stops half-way: the server runs on
    trap 'echo "Stop the server and remove its folder with:"; echo "  $(pg_stop_command)"' EXIT
else
    trap pg_stop EXIT
fi
export DELEMBIC_DATABASE_URL=$(pg_newdb demo)
cd migrations
echo "== delembic build"
$D build
echo "== delembic upgrade head (before the schema exists: BLOCKED, nothing applied)"
$D upgrade head || echo "(exit $?)"
echo "== alembic upgrade head"
alembic -c alembic.ini upgrade head 2>&1 | grep -v '^INFO  \[alembic.runtime.migration\] Will assume'
echo "== delembic upgrade head"
$D upgrade head
echo "== delembic history"
$D history
echo "== delembic current"
$D current
psql -qAt -d demo -c "SELECT 'drug_exposure rows: ' || count(*) FROM drug_exposure"
if [ -n "${KEEP:-}" ]; then
    echo "Server left running: export DELEMBIC_DATABASE_URL='$DELEMBIC_DATABASE_URL'"
fi
