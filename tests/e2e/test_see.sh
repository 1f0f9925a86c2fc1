#!/bin/bash
# Issue 14: see it. The history page (`report`, `serve`) opened in a real
# browser (Debian's headless Chromium), the live server's guarantees
# (read-only session, loopback, token, escaping, CSP, signals, no leak under
# valgrind), and `graph` with statuses, on a fixture project with an applied,
# a changed, a failed and a pending migration and Alembic dependencies.
source "$(dirname "$0")/lib.sh"

# Where the screenshots go (a CI artefact); SEE_UPDATE_DOCS=1 also copies the
# report's to docs/report.png.
SEE_ARTEFACTS=${SEE_ARTEFACTS:-$ROOT/build/see-artefacts}
XSS='<img src=x onerror=alert(1)>'

# ---- helpers -------------------------------------------------------------

# see_mig REV DEPS DESC SQL [CHECK MSG]: tests/plugins/see_step.c as REV.c;
# DEPS is a DM_DEPS(...) body ('"S001", "r1"') or '' for none
see_mig() {
    local rev=$1 deps=$2 desc=$3 sqltext=$4 check=${5:-} msg=${6:-}
    local depexpr=DM_NO_DEPS
    [ -n "$deps" ] && depexpr="DM_DEPS($deps)"
    use_plugin see_step "$rev" "DEPS=$depexpr" "DESC=$desc" "SQL=$sqltext" "CHECK=$check" "MSG=$msg"
}

# An Alembic project r1 <- r2, both applied.
see_alembic() {
    alembic init -t generic "$P/alembic" >/dev/null 2>&1 || fail "alembic init failed"
    U="$URL" awk '/^sqlalchemy.url =/ { print "sqlalchemy.url = " ENVIRON["U"]; next } { print }' \
        "$P/alembic.ini" >"$P/alembic.ini.new" && mv "$P/alembic.ini.new" "$P/alembic.ini"
    (cd "$P" && alembic revision -m "create person" --rev-id r1 >/dev/null 2>&1) || fail "alembic revision r1"
    (cd "$P" && alembic revision -m "add visits" --rev-id r2 >/dev/null 2>&1) || fail "alembic revision r2"
    printf '  alembic_config: alembic.ini\n' >>"$P/delembic.yaml"
    (cd "$P" && alembic upgrade head >/dev/null 2>&1) || fail "alembic upgrade head"
}

# The fixture: S001 applied, S002 changed (edited after it ran), S003 failed
# (with a multi-line error), S004 pending (after S003), S005 pending and
# needing Alembic r2; DESC4 is S004's description.
see_fixture() {
    local desc4=${1:-Build the eras}
    new_project
    see_alembic
    sql "CREATE TABLE person (id int)"
    see_mig S001 '"r1"' "Load the vocabulary" "INSERT INTO person VALUES (1)"
    see_mig S002 '"S001"' "Load person demographics" "SELECT 2"
    see_mig S003 '"S002", "r2"' "Check the visits" "SELECT 3" \
        "SELECT count(*) > 5 FROM person" "visits need more people: found too few rows in person"
    see_mig S004 '"S003"' "$desc4" "SELECT 4"
    see_mig S005 '"r2"' "Load the care sites" "SELECT 5"
    build_ok
    run "$D" upgrade head
    expect_rc 1
    expect_out "visits need more people"
    # S002's code changes after it ran
    sed -i 's/SELECT 2/SELECT 22/' migrations/S002.c
    build_ok
}

# chromium_dom URL OUT [VIRTUAL_MS]: the DOM after load (scripts ran, timers
# fired for VIRTUAL_MS of virtual time, default 3000) in OUT
chromium_dom() {
    timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --user-data-dir="$P/.chromium" --virtual-time-budget="${3:-3000}" --dump-dom "$1" >"$2" 2>"$P/chromium.err" ||
        fail "chromium could not open $1: $(tail -5 "$P/chromium.err")"
    [ -s "$2" ] || fail "chromium gave no DOM for $1"
}

# chromium_shot URL PNG [WIDTH,HEIGHT]
chromium_shot() {
    mkdir -p "$(dirname "$2")"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --user-data-dir="$P/.chromium" --hide-scrollbars --window-size="${3:-1280,1600}" \
        --screenshot="$2" "$1" >/dev/null 2>"$P/chromium.err" || fail "chromium screenshot of $1 failed"
    [ -s "$2" ] || fail "no screenshot in $2"
}

# dom_has FILE TEXT: the DOM in FILE has TEXT (the failure names only TEXT)
dom_has() {
    grep -qF -- "$2" "$1" || fail "the DOM lacks '$2'"
}

# what every page of the fixture shows, in the DOM DOM (NOSCRIPT: the page
# was opened with JavaScript off)
expect_fixture_dom() {
    local dom=$1 r
    for r in S001 S002 S003 S004 S005; do
        dom_has "$dom" ">$r</a>" || return 1
        dom_has "$dom" "id=\"mig-$r\"" || return 1
    done
    # statuses: in the table rows and the picture's nodes
    dom_has "$dom" '<tr data-status="applied"><td class="num">1</td><td><a class="rev" href="#mig-S001">S001</a>'
    dom_has "$dom" '<tr data-status="changed"><td class="num">2</td>'
    dom_has "$dom" '<tr data-status="failed"><td class="num">3</td>'
    dom_has "$dom" '<tr data-status="pending"><td class="num">4</td>'
    dom_has "$dom" 'id="m-S001" class="node migration status-applied"'
    dom_has "$dom" 'id="m-S002" class="node migration status-changed"'
    dom_has "$dom" 'id="m-S003" class="node migration status-failed"'
    dom_has "$dom" 'id="m-S004" class="node migration status-pending"'
    # the Alembic chain, with what needs it
    dom_has "$dom" 'id="a-r1" class="node alembic status-applied"'
    dom_has "$dom" 'id="a-r2" class="node alembic status-applied"'
    dom_has "$dom" '<title>S003 needs Alembic r2</title>'
    dom_has "$dom" 'Alembic (schema)'
    # the failure, whole, in the failures section and the details
    [ "$(grep -o 'visits need more people: found too few rows in person' "$dom" | wc -l)" -ge 2 ] ||
        fail "the error text is not shown twice (failures, details)"
    dom_has "$dom" 'Load person demographics'
    dom_has "$dom" 'changed: the code that ran is not the bundle'
    # the script ran (its hash is in the policy): the tools are shown, filtered
    [ -n "${2:-}" ] && return 0   # without JavaScript: no tools, all the rest
    dom_has "$dom" '<div id="mig-tools" class="tools">'
    dom_has "$dom" '5 shown'
}

# the page's inline style and script are the ones its policy allows by hash,
# and it loads nothing from anywhere
expect_csp_hashes() {
    python3 - "$1" <<'PY' || fail "the page's policy does not allow its own style and script"
import base64, hashlib, re, sys
page = open(sys.argv[1], encoding="utf-8").read()
csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', page).group(1).replace("&#39;", "'")
assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
assert "default-src 'none'" in csp, csp
for tag in ("style", "script"):
    blocks = re.findall(r"<%s>(.*?)</%s>" % (tag, tag), page, re.S)
    assert len(blocks) == 1, (tag, len(blocks))
    digest = base64.b64encode(hashlib.sha256(blocks[0].encode()).digest()).decode()
    assert "'sha256-%s'" % digest in csp, (tag, digest, csp)
# nothing external: no src, no link, no url(), no http(s) but the SVG namespaces
assert not re.search(r'<(img|link|iframe|object|embed)\b', page), "an external element"
assert not re.search(r'\bsrc=', page), "a src attribute"
assert "url(" not in page, "a CSS url()"
for u in re.findall(r'https?://[^"\s<]*', page):
    assert u.startswith("http://www.w3.org/"), u
PY
}

# serve_start [ARGS...]: delembic serve on a free port, in the background;
# SERVE_PID, SERVE_URL, SERVE_LOG
serve_start() {
    # a log of its own: the shell truncates it only once the child runs
    SERVE_LOG=$(mktemp "$P/serve.XXXXXX.log")
    "$D" serve --port 0 "$@" >"$SERVE_LOG" 2>&1 &
    SERVE_PID=$!
    wait_for 'grep -q "^Serving" "$SERVE_LOG" 2>/dev/null || ! kill -0 $SERVE_PID 2>/dev/null' ||
        { kill "$SERVE_PID"; return 1; }
    grep -q "^Serving" "$SERVE_LOG" || fail "serve did not start: $(cat "$SERVE_LOG"; wait $SERVE_PID; echo "exit $?")" || return 1
    SERVE_URL=$(grep -o 'http://[^ ]*/' "$SERVE_LOG" | head -1)
}

serve_stop() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID"
    SERVE_RC=$?
}

http() { # http URL [CURL ARGS...]: body in $BODY, status in $CODE
    local url=$1
    shift
    BODY=$(curl -sS -o - -w '\n%{http_code}' "$@" "$url") || BODY=$'\n000'
    CODE=${BODY##*$'\n'}
    BODY=${BODY%$'\n'*}
}

# ---- report --------------------------------------------------------------

test_see_report_in_chromium_shows_every_revision_status_and_error() {
    see_fixture
    run "$D" report -o "$P/report.html"
    expect_rc 0
    expect_out "Wrote $P/report.html: 5 migration(s), 1 failed, 2 pending"
    expect_csp_hashes "$P/report.html"
    chromium_dom "file://$P/report.html" "$P/report.dom"
    expect_fixture_dom "$P/report.dom"
    # the summary, the timeline's lanes
    dom_has "$P/report.dom" '<span class="n">1</span>applied'
    dom_has "$P/report.dom" '<span class="n">2</span>pending'
    dom_has "$P/report.dom" 'Alembic head(s) in the database: <code>r2</code>'
    dom_has "$P/report.dom" 'class="bar failed"'
    dom_has "$P/report.dom" 'lane 1'
    # with JavaScript off, everything but filtering and sorting is there: in
    # the file as written (Chromium's --dump-dom and --screenshot need
    # JavaScript themselves; Graphviz writes '-' in ids as &#45;)
    sed 's/&#45;/-/g' "$P/report.html" >"$P/nojs.dom"
    expect_fixture_dom "$P/nojs.dom" noscript
    dom_has "$P/nojs.dom" '<div id="mig-tools" class="tools" hidden>'
    chromium_shot "file://$P/report.html" "$SEE_ARTEFACTS/report-1280.png" 1280,2200
    chromium_shot "file://$P/report.html" "$SEE_ARTEFACTS/report-phone.png" 390,2400
    if [ -n "${SEE_UPDATE_DOCS:-}" ]; then
        cp "$SEE_ARTEFACTS/report-1280.png" "$ROOT/docs/report.png"
    fi
}

test_see_report_timeline_has_a_lane_per_concurrent_worker() {
    new_project
    see_mig S001 '' "Slow one" "SELECT pg_sleep(0.6)"
    see_mig S002 '' "Slow two" "SELECT pg_sleep(0.6)"
    see_mig S003 '"S001", "S002"' "After both" "SELECT 3"
    build_ok
    run "$D" upgrade head -j 2
    expect_rc 0
    run "$D" report -o "$P/r.html"
    expect_rc 0
    dom_has "$P/r.html" '3 attempt(s), 2 lane(s)'
    dom_has "$P/r.html" '>lane 2</text>'
}

test_see_report_masks_the_password() {
    new_project
    see_mig S001 '' "One" "SELECT 1"
    build_ok
    psql -qAtX -d "$DB" -c "CREATE ROLE see_pw_user LOGIN PASSWORD 'hunter2pw' SUPERUSER" >/dev/null 2>&1 || true
    local url="postgresql://see_pw_user:hunter2pw@/$DB?host=$PGHOST"
    [ -n "${PGPORT:-}" ] && url="$url&port=$PGPORT"
    run "$D" --database "$url" report -o "$P/r.html"
    expect_rc 0
    grep -q hunter2pw "$P/r.html" && fail "the password is in the page"
    grep -q 'see_pw_user:\*\*\*@' "$P/r.html" || fail "the masked URL is not in the page: $(grep -o 'Database <code>[^<]*' "$P/r.html")"
}

test_see_report_shows_hostile_text_as_text() {
    see_fixture "$XSS"
    # a failure whose message is markup, recorded as a plugin would
    sql "UPDATE delembic_run_history SET exception = exception || ' <script>alert(2)</script>' WHERE revision = 'S003'"
    run "$D" report -o "$P/x.html"
    expect_rc 0
    chromium_dom "file://$P/x.html" "$P/x.dom"
    dom_has "$P/x.dom" '&lt;img src=x onerror=alert(1)&gt;'
    dom_has "$P/x.dom" '&lt;script&gt;alert(2)&lt;/script&gt;'
    ! grep -q '<img' "$P/x.dom" || fail "an img element made it into the DOM"
    [ "$(grep -c '<script>' "$P/x.dom")" = 1 ] || fail "a script element other than the page's own"
}

test_see_report_writes_1000_migrations_quickly() {
    new_project
    local n=1000 a=300
    see_synthetic_bundle "$n" "$a"
    local start=$EPOCHREALTIME
    run "$D" report -o "$P/big.html"
    expect_rc 0
    local took
    took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
    echo "    report of $n migrations and $a Alembic revisions: ${took}s" >&2
    # the issue's bound is 5 s; the margin is for a shared machine and valgrind
    awk -v t="$took" -v lim="${SEE_REPORT_LIMIT_S:-5}" -v vg="${VALGRIND:-}" 'BEGIN { exit !(vg != "" || t < lim) }' ||
        fail "report took ${took}s"
    dom_has "$P/big.html" 'class="node migration collapsed status&#45;applied"'   # the long chain, collapsed
    dom_has "$P/big.html" ">D01000</a>"
    # the page opens, and a collapsed run expands into the table (as a click
    # or Enter on it does): D00002 to D00949 of the 950 applied
    chromium_dom "file://$P/big.html#expand=chain-m-D00002" "$P/big.dom"
    dom_has "$P/big.dom" '948 shown'
    dom_has "$P/big.dom" '<button id="all" type="button">Show every migration</button>'
}

# see_synthetic_bundle N A: a bundle of N migrations in one chain over A
# Alembic revisions (empty .so files: report never opens them), 95% applied
# with recorded runs, one failed.
see_synthetic_bundle() {
    python3 "$ROOT/tests/bench/see_bundle.py" "$1" "$2" "$P/build/bundle" "$P/fill.sql" || fail "see_bundle.py"
    psql -qAtX -v ON_ERROR_STOP=1 -d "$DB" -f "$P/fill.sql" >/dev/null || fail "filling the tables"
}

# ---- serve ---------------------------------------------------------------

test_see_serve_page_in_chromium_and_status_document() {
    see_fixture
    serve_start || return 1
    chromium_dom "$SERVE_URL" "$P/served.dom"
    expect_fixture_dom "$P/served.dom"
    dom_has "$P/served.dom" 'data-live="1"'
    chromium_shot "$SERVE_URL" "$SEE_ARTEFACTS/serve-1280.png" 1280,1600
    http "${SERVE_URL}api/status.json"
    [ "$CODE" = 200 ] || fail "status.json: $CODE $BODY"
    python3 - "$BODY" <<'PY' || fail "status document: $BODY"
import json, sys
d = json.loads(sys.argv[1])
st = {m["revision"]: m["status"] for m in d["migrations"]}
assert st == {"S001": "applied", "S002": "changed", "S003": "failed", "S004": "pending", "S005": "pending"}, st
s3 = [m for m in d["migrations"] if m["revision"] == "S003"][0]
assert "visits need more people" in s3["error"], s3
assert d["summary"]["failed"] == 1 and d["exit_code"] == 0 and d["fingerprint"], d
PY
    # every response carries the policy
    local hdr
    hdr=$(curl -sS -D - -o /dev/null "${SERVE_URL}")
    grep -qi "^content-security-policy: default-src 'none'" <<<"$hdr" || fail "no CSP header: $hdr"
    grep -qi "unsafe-inline" <<<"$hdr" && fail "unsafe-inline in: $hdr"
    http "${SERVE_URL}nope"
    [ "$CODE" = 404 ] || fail "unknown path gave $CODE"
    http "${SERVE_URL}api/status.json" -X POST
    [ "$CODE" = 405 ] || fail "POST gave $CODE"
    serve_stop
    [ "$SERVE_RC" = 0 ] || fail "serve exited $SERVE_RC: $(cat "$SERVE_LOG")"
}

test_see_serve_shows_a_running_migration_live() {
    new_project
    sql "CREATE TABLE t_go (rev text)"
    see_mig S001 '' "Quick" "SELECT 1"
    use_plugin surface_wait S002
    sed -i 's/DM_NO_DEPS/DM_DEPS("S001")/' migrations/S002.c
    build_ok
    serve_start || return 1
    http "${SERVE_URL}api/status.json"
    local fp0
    fp0=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["fingerprint"])' "$BODY")
    "$D" upgrade head >"$P/up.log" 2>&1 &
    local up=$!
    wait_for 'http "${SERVE_URL}api/status.json"; grep -q "\"revision\":\"S002\",\"status\":\"running\"" <<<"$BODY"' ||
        { sql "INSERT INTO t_go VALUES ('S002')"; wait $up; return 1; }
    grep -q '"active":true' <<<"$BODY" || fail "the run is not shown active: $BODY"
    grep -q "\"fingerprint\":\"$fp0\"" <<<"$BODY" && fail "the fingerprint did not change"
    http "${SERVE_URL}?part=content"
    grep -q 'A run is in progress' <<<"$BODY" || fail "the page does not show the run"
    grep -q 'Running: <a class="rev" href="#mig-S002">S002</a>' <<<"$BODY" || fail "the page does not name S002 running"
    sql "INSERT INTO t_go VALUES ('S002')"
    wait $up || fail "upgrade failed: $(cat "$P/up.log")"
    wait_for 'http "${SERVE_URL}api/status.json"; grep -q "\"revision\":\"S002\",\"status\":\"applied\"" <<<"$BODY"'
    grep -q '"active":false' <<<"$BODY" || fail "the run still shows active: $BODY"
    serve_stop
}

test_see_serve_page_refreshes_itself_in_chromium() {
    see_fixture
    serve_start -v || return 1
    # the page polls every 2 s of virtual time; a poll takes real time, so
    # 120 s of virtual time is some 60 polls, a few seconds (on a loaded
    # machine 30 could all pass before the DELETE below lands)
    chromium_dom "$SERVE_URL" "$P/live.dom" 120000 &
    local chrome=$!
    wait_for 'grep -q "^GET /api/status.json 200" "$SERVE_LOG"' || { wait $chrome; return 1; }
    # meanwhile S001's record goes: it is pending again
    sql "DELETE FROM delembic_version WHERE revision = 'S001'"
    wait $chrome || return 1
    dom_has "$P/live.dom" '<tr data-status="pending"><td class="num">1</td><td><a class="rev" href="#mig-S001">S001</a>'
    dom_has "$P/live.dom" 'id="m-S001" class="node migration status-pending"'
    dom_has "$P/live.dom" 'live: updated'
    [ "$(grep -c '^GET / 200' "$SERVE_LOG")" -ge 2 ] || fail "the page did not reload its content: $(cat "$SERVE_LOG")"
    serve_stop
}

test_see_serve_session_is_read_only() {
    see_fixture
    # a hostile database: reading the history calls a function that writes
    sql "CREATE TABLE pwned (x int);
         ALTER TABLE delembic_run_history RENAME TO see_h;
         CREATE FUNCTION see_evil() RETURNS SETOF see_h LANGUAGE sql VOLATILE AS
           \$\$ INSERT INTO pwned VALUES (1); SELECT * FROM see_h \$\$;
         CREATE VIEW delembic_run_history AS SELECT * FROM see_evil();"
    serve_start || return 1
    http "${SERVE_URL}api/status.json"
    [ "$CODE" = 200 ] || fail "status.json: $CODE"
    grep -q 'read-only transaction' <<<"$BODY" || fail "the write was not refused: $BODY"
    http "${SERVE_URL}"
    grep -q 'read-only transaction' <<<"$BODY" || fail "the page does not say what failed"
    expect_sql "SELECT count(*) FROM pwned" 0
    # the session itself says so
    expect_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic serve pid=%'" 1
    serve_stop
    run "$D" report -o "$P/r.html"
    expect_rc 0
    expect_sql "SELECT count(*) FROM pwned" 0
}

test_see_serve_binds_loopback_and_checks_the_host() {
    see_fixture
    serve_start || return 1
    [[ "$SERVE_URL" == http://127.0.0.1:* ]] || fail "not on loopback: $SERVE_URL"
    local port=${SERVE_URL##*:}
    port=${port%/}
    # listening on 127.0.0.1 only (/proc/net/tcp: local address in hex)
    local hexport
    hexport=$(printf '%04X' "$port")
    grep -q " 0100007F:$hexport 00000000:0000 0A " /proc/net/tcp || fail "no listener on 127.0.0.1:$port: $(cat /proc/net/tcp)"
    grep -q " 00000000:$hexport " /proc/net/tcp && fail "listening on every address"
    # a page of another site that rebinds its name to 127.0.0.1 is refused
    http "${SERVE_URL}api/status.json" -H "Host: evil.example:$port"
    [ "$CODE" = 403 ] || fail "a foreign Host gave $CODE"
    http "http://localhost:$port/api/status.json"
    [ "$CODE" = 200 ] || fail "localhost gave $CODE"
    serve_stop
}

test_see_serve_refuses_other_addresses_without_token() {
    see_fixture
    run "$D" serve --bind 0.0.0.0 --port 0
    expect_rc 2
    expect_out "--bind 0.0.0.0 is not a loopback address: give --token T"
    run "$D" serve --bind 0.0.0.0 --port 0 --token short
    expect_rc 2
    expect_out "the token is too short: use at least 16 characters"
    run "$D" serve --bind nonsense --port 0
    expect_rc 2
    expect_out "--bind nonsense is not an IPv4 or IPv6 address"
    local tok=see-token-0123456789abcdef
    serve_start --bind 0.0.0.0 --token "$tok" || return 1
    local port=${SERVE_URL##*:}
    port=${port%/}
    http "http://127.0.0.1:$port/api/status.json"
    [ "$CODE" = 401 ] || fail "no token gave $CODE"
    http "http://127.0.0.1:$port/api/status.json" -H "Authorization: Bearer wrong-token-0123456789"
    [ "$CODE" = 401 ] || fail "a wrong token gave $CODE"
    http "http://127.0.0.1:$port/api/status.json" -H "Authorization: Bearer $tok"
    [ "$CODE" = 200 ] || fail "the token in a header gave $CODE"
    http "http://127.0.0.1:$port/?token=$tok"
    [ "$CODE" = 200 ] || fail "the token in the query gave $CODE"
    serve_stop
    # the token is not in ps (delembic itself: under valgrind, ps shows
    # valgrind's own command line)
    local D_SAVED=$D
    D=${DELEMBIC_REAL:-$D}
    serve_start --token "$tok" || { D=$D_SAVED; return 1; }
    D=$D_SAVED
    tr '\0' ' ' </proc/$SERVE_PID/cmdline | grep -q "$tok" && fail "the token shows in ps"
    tr '\0' ' ' </proc/$SERVE_PID/cmdline | grep -q -- "--token \*\*\*" || fail "ps: $(tr '\0' ' ' </proc/$SERVE_PID/cmdline)"
    serve_stop
}

test_see_serve_stops_cleanly_on_sigint_and_sigterm() {
    see_fixture
    local sig
    for sig in INT TERM; do
        serve_start || return 1
        http "${SERVE_URL}api/status.json"
        [ "$CODE" = 200 ] || fail "status.json: $CODE"
        kill -"$sig" "$SERVE_PID"
        wait "$SERVE_PID"
        local rc=$?
        [ "$rc" = 0 ] || fail "SIG$sig: exit $rc"
        grep -q "Stopped (SIG$sig)" "$SERVE_LOG" || fail "SIG$sig: $(cat "$SERVE_LOG")"
        wait_for_sql "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'delembic serve pid=%'" 0
    done
}

test_see_serve_under_valgrind_hundreds_of_requests() {
    see_fixture
    # serve runs in delembic-see (delembic execs it; valgrind follows no exec)
    local real log
    real=$(dirname "${DELEMBIC_REAL:-$D}")/delembic-see
    if ldd "$real" | grep -q libasan; then
        echo "    (skipped: a sanitizer build does not run under valgrind)" >&2
        return 0
    fi
    temp_dir log
    SERVE_LOG=$P/serve.log
    valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
        --suppressions="$ROOT/tests/graphviz.supp" --vgdb=no --log-file="$log/vg.%p.log" \
        "$real" serve --port 0 >"$SERVE_LOG" 2>&1 &
    SERVE_PID=$!
    wait_for 'grep -q "^Serving" "$SERVE_LOG" || ! kill -0 $SERVE_PID 2>/dev/null' 120
    SERVE_URL=$(grep -o 'http://[^ ]*/' "$SERVE_LOG" | head -1)
    [ -n "$SERVE_URL" ] || fail "serve did not start: $(cat "$SERVE_LOG")"
    local i urls=()
    for i in $(seq 1 300); do
        case $((i % 30)) in
        0) urls+=(-o /dev/null "${SERVE_URL}") ;;
        1) urls+=(-o /dev/null "${SERVE_URL}?part=content") ;;
        2) urls+=(-o /dev/null "${SERVE_URL}nope") ;;
        *) urls+=(-o /dev/null "${SERVE_URL}api/status.json") ;;
        esac
    done
    curl -sS -w '%{http_code}\n' "${urls[@]}" >"$P/codes" || fail "curl failed"
    [ "$(grep -c '^200$' "$P/codes")" = 290 ] || fail "codes: $(sort "$P/codes" | uniq -c)"
    # a change of status in between: the picture is drawn again
    sql "DELETE FROM delembic_version WHERE revision = 'S001'"
    http "${SERVE_URL}"
    [ "$CODE" = 200 ] || fail "page after a change: $CODE"
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID"
    local rc=$?
    [ "$rc" = 0 ] || fail "serve under valgrind exited $rc: $(cat "$log"/vg.*.log)"
    ! grep -l . "$log"/vg.*.log >/dev/null 2>&1 || fail "valgrind: $(cat "$log"/vg.*.log)"
}

# ---- graph ---------------------------------------------------------------

test_see_graph_text_and_dot_show_statuses_and_alembic() {
    see_fixture
    run "$D" graph
    expect_rc 0
    expect_out "applied  S001 Load the vocabulary  needs alembic r1"
    expect_out "changed  S002 Load person demographics"
    expect_out "failed   S003 Check the visits  needs alembic r2"
    expect_out "pending  S004 Build the eras"
    run "$D" graph --dot
    expect_rc 0
    expect_out '"a-r1"'
    expect_out '"a-r2"'
    expect_out 'Load person demographics'
    expect_out 'status-failed'
    expect_out '#d55e00'        # the failed colour
    expect_out 'cluster_alembic'
    ! command -v dot >/dev/null || dot -Tsvg <<<"$OUT" >/dev/null || fail "dot cannot read graph --dot"
    # without a database: the graph still, statuses unknown, a warning
    run "$D" --database "postgresql:///nosuchdb_see?host=$PGHOST" graph
    expect_rc 0
    expect_out "WARNING: cannot connect"
    expect_out "unknown  S001"
}

# ---- the command table (issue 10's renovation) -----------------------------

test_see_commands_are_rows_of_the_table_with_help_and_example() {
    run "$D" --help
    expect_rc 0
    for cmd in graph report serve; do
        grep -qE "^  $cmd +[a-z]" <<<"$OUT" || fail "--help lacks a summary line for $cmd: $OUT"
    done
    run "$D" help report
    expect_rc 0
    expect_out "usage: delembic report -o FILE"
    expect_out "delembic report -o report.html"
    run "$D" serve --help
    expect_rc 0
    expect_out "--token T"
    expect_out "DELEMBIC_SERVE_TOKEN"
    expect_out "Examples:"
    run "$D" report --port 1
    expect_rc 2
    expect_out "not one that 'report' takes"
    expect_out "hint: see 'delembic report --help'"
}

test_see_delembic_itself_links_neither_graphviz_nor_microhttpd() {
    # graph, report and serve run in delembic-see, which delembic execs
    local real needed
    real=${DELEMBIC_REAL:-$D}
    needed=$(readelf -d "$real") || fail "readelf $real"
    ! grep -qE 'libgvc|libcgraph|libmicrohttpd' <<<"$needed" || fail "delembic links: $(grep NEEDED <<<"$needed")"
    readelf -d "$(dirname "$real")/delembic-see" | grep -q libgvc || fail "delembic-see does not link Graphviz"
}

test_see_quiet_report_prints_nothing() {
    see_fixture
    run "$D" -q report -o "$P/q.html"
    expect_rc 0
    [ -z "$OUT" ] || fail "report -q printed: $OUT"
    [ -s "$P/q.html" ] || fail "report -q wrote nothing"
}

run_tests

