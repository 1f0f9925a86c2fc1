#!/bin/bash
# The history page at scale: for each N (default 1,000 and 10,000 migrations
# in one chain over a 300-revision Alembic chain, 95% applied with recorded
# runs, one failed), the time `delembic report` takes to write the page, its
# size, how long headless Chromium takes to load it and run its script
# (--dump-dom), and the time of `serve`'s status document and page. Prints
# figures; asserts nothing. Its own throwaway PostgreSQL 15.
#   tests/bench/see_bench.sh            (SEE_N="1000 10000", SEE_A=300)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
D=$ROOT/$BUILD/core/delembic
SEE_N=${SEE_N:-1000 10000}
SEE_A=${SEE_A:-300}
[ -x "$D" ] || { echo "build delembic first (meson compile -C $BUILD)"; exit 2; }
source "$ROOT/tests/pgcluster.sh"
pg_start off
W=$(mktemp -d /tmp/delembic-seebench.XXXXXX)
chmod 755 "$W"
SERVE_PID=
trap '[ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null; pg_stop; rm -rf "$W"' EXIT

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

for n in $SEE_N; do
    echo "== history page: $n migrations, $SEE_A Alembic revisions"
    url=$(pg_newdb "bench_see_$n")
    mkdir -p "$W/p$n"
    cd "$W/p$n"
    printf 'delembic:\n  build_dir: bundle\n  database: %s\n' "$url" >delembic.yaml
    python3 "$ROOT/tests/bench/see_bundle.py" "$n" "$SEE_A" "$W/p$n/bundle" "$W/p$n/fill.sql" || exit 2
    psql -qAtX -v ON_ERROR_STOP=1 -d "bench_see_$n" -f "$W/p$n/fill.sql" >/dev/null || exit 2
    t0=$(now)
    "$D" -q report -o "$W/p$n/report.html" || exit 2
    echo "report: $(elapsed "$t0")s, $(($(stat -c %s "$W/p$n/report.html") / 1024)) KiB"
    t0=$(now)
    timeout 300 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --user-data-dir="$W/chromium" --dump-dom "file://$W/p$n/report.html" >"$W/p$n/dom" 2>/dev/null
    echo "Chromium load, script and DOM dump: $(elapsed "$t0")s ($(grep -o '[0-9]* shown' "$W/p$n/dom" | head -1) after the script ran)"
    "$D" serve --port 0 >"$W/p$n/serve.log" 2>&1 &
    SERVE_PID=$!
    for _ in $(seq 600); do grep -q '^Serving' "$W/p$n/serve.log" && break; sleep 0.05; done
    s=$(grep -o 'http://[^ ]*/' "$W/p$n/serve.log" | head -1)
    t0=$(now)
    curl -sS -o /dev/null "${s}api/status.json"
    echo "serve: status.json $(elapsed "$t0")s"
    t0=$(now)
    curl -sS -o /dev/null "${s}"
    echo "serve: page (first, with the picture) $(elapsed "$t0")s"
    t0=$(now)
    curl -sS -o /dev/null "${s}"
    echo "serve: page (again, picture cached) $(elapsed "$t0")s"
    kill "$SERVE_PID"
    wait "$SERVE_PID" 2>/dev/null
    SERVE_PID=
done
