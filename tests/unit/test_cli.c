/* The CLI's pieces that need no database: the kind -> exit code mapping, the
 * command table (every command has its help), the nearest-command suggestion. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "bundle.h"
#include "check_main.h"
#include "commands.h"
#include "err.h"
#include "render.h"
#include "results.h"

START_TEST(kinds_map_to_the_documented_exit_codes)
{
    del_err e;
    del_err_clear(&e);
    ck_assert_int_eq(del_exit_code(&e), 0);
    static const struct { del_kind kind; int code; } want[] = {
        {DEL_KIND_USAGE, 2}, {DEL_KIND_CONFIG, 2}, {DEL_KIND_BUNDLE, 2}, {DEL_KIND_DATABASE, 2},
        {DEL_KIND_MIGRATION, 1}, {DEL_KIND_ALEMBIC, 1}, {DEL_KIND_LOCK, 3},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        ck_assert_int_eq(del_fail(&e, want[i].kind, "x"), -1);
        ck_assert_int_eq(del_exit_code(&e), want[i].code);
        ck_assert_ptr_nonnull(del_kind_name(want[i].kind));
    }
    del_fail(&e, DEL_KIND_INTERRUPTED, "interrupted");
    e.signal = SIGINT;
    ck_assert_int_eq(del_exit_code(&e), 130);
    e.signal = SIGTERM;
    ck_assert_int_eq(del_exit_code(&e), 143);
}
END_TEST

START_TEST(hint_and_detail_are_separate_and_reset_by_the_next_failure)
{
    del_err e;
    del_err_clear(&e);
    del_fail(&e, DEL_KIND_BUNDLE, "no manifest.yaml in %s", "b");
    del_hint(&e, "run 'delembic build'");
    del_detail(&e, "looked in %s", "b");
    ck_assert_int_eq(e.kind, DEL_KIND_BUNDLE);
    ck_assert_str_eq(e.msg, "no manifest.yaml in b");
    ck_assert_str_eq(e.hint, "run 'delembic build'");
    ck_assert_str_eq(e.detail, "looked in b");
    del_err_wrap(&e, "%s", "upgrade");
    ck_assert_str_eq(e.msg, "upgrade: no manifest.yaml in b");
    del_fail(&e, DEL_KIND_DATABASE, "y");
    ck_assert_str_eq(e.hint, "");
    ck_assert_str_eq(e.detail, "");
}
END_TEST

START_TEST(every_command_has_summary_usage_help_and_example)
{
    ck_assert_uint_gt(cli_ncommands, 0);
    for (size_t i = 0; i < cli_ncommands; i++) {
        const cli_command *c = &cli_commands[i];
        ck_assert_ptr_nonnull(c->run);
        ck_assert_msg(c->summary && *c->summary, "%s: no summary", c->name);
        ck_assert_msg(c->usage && !strncmp(c->usage, c->name, strlen(c->name)), "%s: usage", c->name);
        ck_assert_msg(c->help && *c->help, "%s: no help", c->name);
        ck_assert_msg(c->example && strstr(c->example, "delembic"), "%s: no example", c->name);
        ck_assert_ptr_eq(cli_find(c->name), c);
        for (size_t k = i + 1; k < cli_ncommands; k++)
            ck_assert_str_ne(c->name, cli_commands[k].name);
    }
}
END_TEST

START_TEST(an_unknown_command_gets_the_nearest_one)
{
    ck_assert_str_eq(cli_nearest("upgarde")->name, "upgrade");
    ck_assert_str_eq(cli_nearest("histroy")->name, "history");
    ck_assert_str_eq(cli_nearest("verfy")->name, "verify");
    ck_assert_str_eq(cli_nearest("upg")->name, "upgrade");
    ck_assert_ptr_null(cli_nearest("zzzzzzzzzz"));
    ck_assert_ptr_null(cli_find("upgarde"));
    ck_assert_uint_eq(cli_edit_distance("kitten", "sitting"), 3);
    ck_assert_uint_eq(cli_edit_distance("", "abc"), 3);
}
END_TEST

/* what r wrote to its out and err files */
static void take(render_text *r, char *out, char *errs, size_t n)
{
    FILE *f[2] = {r->out, r->err};
    char *dst[2] = {out, errs};
    for (int k = 0; k < 2; k++) {
        fflush(f[k]);
        rewind(f[k]);
        size_t got = fread(dst[k], 1, n - 1, f[k]);
        dst[k][got] = '\0';
        fclose(f[k]);
    }
}

START_TEST(text_renderer_draws_the_run_from_events)
{
    render_text r;
    render_text_init(&r, 0, 0, 0);
    r.out = tmpfile();
    r.err = tmpfile();
    r.tty = 0;
    del_notify n = {DEL_NOTIFY_VERSION, render_text_event, render_text_progress, &r};
    del_event ev = {.type = DEL_EV_MIGRATION_STARTED, .revision = "D001", .description = "load\x1b[2J"};
    del_emit(&n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_LOG, .revision = "D001", .message = "3 rows"};
    del_emit(&n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_SUCCEEDED, .revision = "D001", .seconds = 0.03};
    del_emit(&n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_FAILED, .revision = "D002", .message = "boom", .marked = 1};
    del_emit(&n, &ev);
    del_emit_text(&n, DEL_EV_WARNING, "WARNING: %s", "careful");
    del_emit_text(&n, DEL_EV_DEBUG, "not shown without -v");
    char out[1024], errs[1024];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out, "Running D001: load\\x1b[2J\n  D001: 3 rows\n  OK (0.03s)\n  D002 FAILED: boom\n");
    ck_assert_str_eq(errs, "WARNING: careful\n");
}
END_TEST

START_TEST(quiet_text_keeps_results_and_drops_notes)
{
    render_text r;
    render_text_init(&r, 1, 1, 0);
    r.out = tmpfile();
    r.err = tmpfile();
    del_notify n = {DEL_NOTIFY_VERSION, render_text_event, NULL, &r};
    del_emit_text(&n, DEL_EV_NOTE, "Nothing to do");
    del_emit_text(&n, DEL_EV_OUTPUT, "STATUS REVISION");
    del_emit_text(&n, DEL_EV_DEBUG, "sql (1.0 ms): SELECT 1");
    char out[1024], errs[1024];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out, "STATUS REVISION\n");
    ck_assert_str_eq(errs, "debug: sql (1.0 ms): SELECT 1\n");
}
END_TEST

START_TEST(history_result_is_drawn_in_columns_as_wide_as_its_longest_revision)
{
    render_text r;
    render_text_init(&r, 1, 0, 0); /* -q keeps results */
    r.out = tmpfile();
    r.err = tmpfile();
    del_notify n = {DEL_NOTIFY_VERSION, render_text_event, NULL, &r};
    del_history_row rows[] = {
        {.revision = "D001", .status = "failed", .description = "load", .error = "boom", .in_bundle = 1},
        {.revision = "D002_a_rather_long_revision", .status = "applied", .description = "fix",
         .applied_at = "2026-11-28 01:02:03+00", .seconds = 1.5, .has_seconds = 1, .in_bundle = 1},
        {.revision = "OLD", .status = "missing", .applied_at = "2026-11-27 01:02:03+00", .has_seconds = 1,
         .db_status = "success"},
    };
    del_history h = {.rows = rows, .n = 3};
    del_emit_result(&n, DEL_RESULT_HISTORY, &h);
    char out[2048], errs[256];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out,
        "STATUS   REVISION                    APPLIED AT                  TIME  DESCRIPTION\n"
        "failed   D001                                                          load\n"
        "                                       error: boom\n"
        "applied  D002_a_rather_long_revision 2026-11-28 01:02:03+00     1.50s  fix\n"
        "missing  OLD                         2026-11-27 01:02:03+00     0.00s  (in the database, not in this bundle; was success)\n");
    ck_assert_str_eq(errs, "");
}
END_TEST

START_TEST(show_result_is_drawn_field_by_field)
{
    render_text r;
    render_text_init(&r, 0, 0, 0);
    r.out = tmpfile();
    r.err = tmpfile();
    del_notify n = {DEL_NOTIFY_VERSION, render_text_event, NULL, &r};
    const char *deps[] = {"D001 (applied)"};
    del_attempt_row at[] = {{.id = 7, .status = "failed", .started_at = "2026-11-28 01:00:00+00", .seconds = 2,
                             .error = "boom", .username = "ann", .hostname = "db1"}};
    del_show sh = {.revision = "D002", .status = "failed", .in_bundle = 1, .description = "fix", .file = "D002.so",
                   .sha256 = "ab", .depends_on = deps, .ndepends_on = 1, .attempts = at, .nattempts = 1};
    del_emit_result(&n, DEL_RESULT_SHOW, &sh);
    char out[2048], errs[256];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out, "Revision:     D002\n"
                          "Description:  fix\n"
                          "File:         D002.so (sha256 ab)\n"
                          "Identity:     (none in this manifest)\n"
                          "Depends on:   D001 (applied)\n"
                          "Alembic:      (no Alembic revision)\n"
                          "Dependents:   (none)\n"
                          "Status:       failed\n"
                          "Attempts:     1\n"
                          "  #7 2026-11-28 01:00:00+00  failed        2.00s  ann@db1\n"
                          "      boom\n");
}
END_TEST

/* A text renderer writing into temporary files. */
static del_notify text_to_files(render_text *r, int quiet)
{
    render_text_init(r, quiet, 0, 0);
    r->out = tmpfile();
    r->err = tmpfile();
    r->tty = 0;
    return (del_notify){DEL_NOTIFY_VERSION, render_text_event, NULL, r};
}

START_TEST(upgrade_dry_run_is_drawn_by_wave_with_its_marks_then_its_blocked_and_held_lines)
{
    render_text r;
    del_notify n = text_to_files(&r, 1); /* -q keeps the plan */
    del_plan_row plan[] = {
        {.revision = "D001", .description = "first", .wave = 1, .held = 1},
        {.revision = "D002", .description = "second", .wave = 2, .after_held = "D001"},
        {.revision = "D003", .description = "third", .wave = 1, .blocked = 1},
    };
    const char *missing[] = {"a1b2"};
    const char *deps[] = {"D002"};
    del_blocked_row blocked[] = {{.revision = "D003", .missing_alembic = missing, .nmissing = 1,
                                  .message = "BLOCKED: D003 needs Alembic a1b2"}};
    del_held_row held[] = {{.revision = "D001", .hold = "self_commit", .dependents = deps, .ndependents = 1,
                            .message = "HELD: D001 self_commit"}};
    del_upgrade u = {.target = "head", .dry_run = 1, .planned = 1, .jobs = 2, .total = 5, .plan = plan,
                     .nplan = 3, .blocked = blocked, .nblocked = 1, .held = held, .nheld = 1};
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u);
    u.jobs = 1; /* one at a time: plan order, no waves */
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u);
    char out[2048], errs[256];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out,
        "Would run 3 migration(s) (by wave):\n"
        "  wave 1  D001: first  [HELD]\n"
        "  wave 1  D003: third  [BLOCKED]\n"
        "  wave 2  D002: second  [after HELD D001]\n"
        "BLOCKED: D003 needs Alembic a1b2\n"
        "HELD: D001 self_commit\n"
        "Would run 3 migration(s):\n"
        "  D001: first  [HELD]\n"
        "  D002: second  [after HELD D001]\n"
        "  D003: third  [BLOCKED]\n"
        "BLOCKED: D003 needs Alembic a1b2\n"
        "HELD: D001 self_commit\n");
    ck_assert_str_eq(errs, "");
}
END_TEST

START_TEST(upgrade_run_draws_what_stopped_it_and_nothing_once_it_ran)
{
    render_text r;
    del_notify n = text_to_files(&r, 0);
    del_blocked_row blocked[] = {{.revision = "D003", .message = "BLOCKED: D003"}};
    del_held_row held[] = {{.revision = "D001", .message = "HELD: D001"}};
    del_upgrade u = {.target = "head", .planned = 1, .total = 3, .blocked = blocked, .nblocked = 1,
                     .held = held, .nheld = 1, .outcome = {.exit_code = 1}};
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u); /* HELD stops it first */
    u.nheld = 0;
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u); /* then BLOCKED */
    u.nblocked = 0;
    u.ran = 1;
    u.outcome.exit_code = 0;
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u); /* its events said it all */
    u.planned = 0;
    u.dry_run = 1;
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u); /* stopped before planning */
    u.planned = 1; /* a dry run with nothing to do */
    del_emit_result(&n, DEL_RESULT_UPGRADE, &u);
    char out[1024], errs[256];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out, "HELD: D001\nBLOCKED: D003\nNothing to do: all 3 migrations are applied.\n");
    ck_assert_str_eq(errs, "");
}
END_TEST

START_TEST(downgrade_plan_is_drawn_when_dry_or_refused_with_its_missing_callbacks_marked)
{
    render_text r;
    del_notify n = text_to_files(&r, 0);
    del_downgrade_row plan[] = {{"D002", "second", 1}, {"D001", "first", 0}};
    del_downgrade d = {.target = "base", .dry_run = 1, .planned = 1, .plan = plan, .nplan = 2, .lacking = 1};
    del_emit_result(&n, DEL_RESULT_DOWNGRADE, &d);
    d.dry_run = 0;
    d.lacking = 0;
    d.ran = 1;
    del_emit_result(&n, DEL_RESULT_DOWNGRADE, &d); /* a run: its events said it */
    d.nplan = 0;
    d.ran = 0;
    del_emit_result(&n, DEL_RESULT_DOWNGRADE, &d);
    char out[1024], errs[256];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out,
        "Would downgrade 2 migration(s), in this order:\n"
        "  D002: second\n"
        "  D001: first  [NO DOWNGRADE]\n"
        "Nothing to downgrade: no migration is applied.\n");
    ck_assert_str_eq(errs, "");
    n = text_to_files(&r, 1); /* -q: a run says nothing */
    del_emit_result(&n, DEL_RESULT_DOWNGRADE, &d);
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(ops_result_lists_what_was_skipped_then_the_records_changed)
{
    render_text r;
    del_notify n = text_to_files(&r, 0);
    del_op_change changes[] = {{"D001", "stamped", "marked applied without running it (stamp)"},
                               {"D002", "stamped", "marked applied without running it (stamp); was failed"}};
    const char *skipped[] = {"D000: already applied"};
    del_ops o = {.command = "stamp", .changes = changes, .n = 2, .skipped = skipped, .nskipped = 1};
    del_emit_result(&n, DEL_RESULT_OPS, &o);
    o.dry_run = 1;
    o.nskipped = 0;
    o.n = 1;
    del_emit_result(&n, DEL_RESULT_OPS, &o);
    o.n = 0;
    o.command = "repair";
    del_emit_result(&n, DEL_RESULT_OPS, &o);
    o.outcome.exit_code = 2; /* failed with nothing changed: the error says it */
    del_emit_result(&n, DEL_RESULT_OPS, &o);
    char out[1024], errs[256];
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out,
        "Skipped D000: already applied\n"
        "Changed 2 record(s):\n"
        "  stamped D001: marked applied without running it (stamp)\n"
        "  stamped D002: marked applied without running it (stamp); was failed\n"
        "Would change 1 record(s):\n"
        "  stamped D001: marked applied without running it (stamp)\n"
        "Nothing to repair.\n");
    ck_assert_str_eq(errs, "");
    n = text_to_files(&r, 1); /* -q: only what a dry run would do */
    o.outcome.exit_code = 0;
    o.n = 1;
    del_emit_result(&n, DEL_RESULT_OPS, &o);
    o.dry_run = 0;
    del_emit_result(&n, DEL_RESULT_OPS, &o);
    take(&r, out, errs, sizeof out);
    ck_assert_str_eq(out, "Would change 1 record(s):\n  stamped D001: marked applied without running it (stamp)\n");
}
END_TEST

/* What the JSON renderer prints on stdout while f runs. */
static void json_of(void (*f)(del_notify *n), char *out, size_t size)
{
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    FILE *tmp = tmpfile();
    ck_assert_ptr_nonnull(tmp);
    dup2(fileno(tmp), STDOUT_FILENO);
    render_json rj;
    render_json_init(&rj, 0);
    del_notify n = {DEL_NOTIFY_VERSION, render_json_event, NULL, &rj};
    f(&n);
    fflush(stdout);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    render_json_free(&rj);
    rewind(tmp);
    size_t got = fread(out, 1, size - 1, tmp);
    out[got] = '\0';
    fclose(tmp);
}

static void run_of_four(del_notify *n)
{
    del_event ev = {.type = DEL_EV_MIGRATION_STARTED, .revision = "D001", .description = "one"};
    del_emit(n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_SUCCEEDED, .revision = "D001", .seconds = 1.5,
                     .status = "committed_with_record", .message = "lost the answer"};
    del_emit(n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_SKIPPED, .revision = "D002", .seconds = 0.25, .message = "done"};
    del_emit(n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_REFUSED, .revision = "D003", .message = "bad .so"};
    del_emit(n, &ev);
    ev = (del_event){.type = DEL_EV_MIGRATION_FAILED, .revision = "D004", .seconds = 2, .status = "interrupted",
                     .message = "interrupted (SIGINT)"};
    del_emit(n, &ev);
}

static void upgrade_of_four(del_notify *n)
{
    run_of_four(n);
    del_plan_row plan[] = {{.revision = "D001", .description = "one", .wave = 1},
                           {.revision = "D002", .description = "two", .wave = 2, .after_held = "D000"}};
    const char *orphaned[] = {"D009: orphaned: needs Alembic r2 which is not applied"};
    del_upgrade u = {.target = "head", .planned = 1, .plan = plan, .nplan = 2, .orphaned = orphaned,
                     .norphaned = 1, .ran = 1,
                     .outcome = {.exit_code = 1, .error = "D004 failed", .error_kind = "migration",
                                 .hint = "look"}};
    del_emit_result(n, DEL_RESULT_UPGRADE, &u);
    /* a second run in the same process holds only its own results */
    del_event ev = {.type = DEL_EV_MIGRATION_SUCCEEDED, .revision = "D005", .seconds = 0.5};
    del_emit(n, &ev);
    del_downgrade d = {.target = "-1", .planned = 1, .ran = 1};
    del_emit_result(n, DEL_RESULT_DOWNGRADE, &d);
    del_upgrade early = {.target = "head", .outcome = {.exit_code = 2, .error = "no bundle", .error_kind = "bundle"}};
    del_emit_result(n, DEL_RESULT_UPGRADE, &early);
}

START_TEST(json_renderer_builds_run_results_from_the_migration_events)
{
    char out[4096];
    json_of(upgrade_of_four, out, sizeof out);
    ck_assert_str_eq(out,
        "{\"command\":\"upgrade\",\"target\":\"head\",\"dry_run\":false,"
        "\"plan\":[{\"revision\":\"D001\",\"description\":\"one\",\"wave\":1},"
        "{\"revision\":\"D002\",\"description\":\"two\",\"wave\":2,\"after_held\":\"D000\"}],"
        "\"blocked\":[],\"held\":[],"
        "\"orphaned\":[\"D009: orphaned: needs Alembic r2 which is not applied\"],"
        "\"results\":[{\"revision\":\"D001\",\"status\":\"applied\",\"seconds\":1.5,\"message\":null},"
        "{\"revision\":\"D002\",\"status\":\"skipped\",\"seconds\":0.25,\"message\":\"done\"},"
        "{\"revision\":\"D003\",\"status\":\"refused\",\"seconds\":0,\"message\":\"bad .so\"},"
        "{\"revision\":\"D004\",\"status\":\"interrupted\",\"seconds\":2,\"message\":\"interrupted (SIGINT)\"}],"
        "\"exit_code\":1,\"error\":\"D004 failed\",\"error_kind\":\"migration\",\"hint\":\"look\"}\n"
        "{\"command\":\"downgrade\",\"target\":\"-1\",\"dry_run\":false,\"plan\":[],"
        "\"results\":[{\"revision\":\"D005\",\"status\":\"downgraded\",\"seconds\":0.5,\"message\":null}],"
        "\"exit_code\":0,\"error_kind\":null,\"error\":null}\n"
        "{\"command\":\"upgrade\",\"exit_code\":2,\"error\":\"no bundle\",\"error_kind\":\"bundle\"}\n");
}
END_TEST

START_TEST(core_works_with_no_listener)
{
    del_notify n = DEL_NOTIFY_INIT;
    del_emit_text(&n, DEL_EV_NOTE, "%s", "nobody hears this");
    del_emit_text(NULL, DEL_EV_NOTE, "%s", "nor this");
    del_progress p = {.revision = "D001", .done = 1, .total = 2, .unit = "rows"};
    del_emit_progress(&n, &p);
    ck_assert_int_eq(del_listening(&n), 0);
}
END_TEST

static int count_problems(void *payload, const char *check, const del_err *e)
{
    (void)check;
    ck_assert_int_eq(e->kind, DEL_KIND_BUNDLE);
    (*(int *)payload)++;
    return 0;
}

/* a folder with a.so (listed), x.so and y.so (not listed); b.so is listed but missing */
START_TEST(one_checker_stops_at_the_first_problem_or_collects_them_all)
{
    char dir[] = "/tmp/delembic-checker.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    const char *names[] = {"a.so", "x.so", "y.so"};
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fclose(f);
    }
    mentry m[2] = {{.revision = "A", .file = "a.so"}, {.revision = "B", .file = "b.so"}};
    manifest mf = {.m = m, .n = 2};
    int n = 0;
    bundle_checker all = {count_problems, &n, 1};
    ck_assert_int_eq(bundle_check_listing(dir, &mf, &all), 0);
    ck_assert_int_eq(n, 3); /* x.so, y.so unlisted; b.so missing */
    del_err err;
    del_err_clear(&err);
    bundle_checker first = {bundle_stop_at_first, &err, 1};
    ck_assert_int_eq(bundle_check_listing(dir, &mf, &first), -1);
    ck_assert_int_eq(err.kind, DEL_KIND_BUNDLE);
    for (size_t i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    ADD(tc, kinds_map_to_the_documented_exit_codes);
    ADD(tc, hint_and_detail_are_separate_and_reset_by_the_next_failure);
    ADD(tc, every_command_has_summary_usage_help_and_example);
    ADD(tc, an_unknown_command_gets_the_nearest_one);
    ADD(tc, text_renderer_draws_the_run_from_events);
    ADD(tc, quiet_text_keeps_results_and_drops_notes);
    ADD(tc, history_result_is_drawn_in_columns_as_wide_as_its_longest_revision);
    ADD(tc, show_result_is_drawn_field_by_field);
    ADD(tc, upgrade_dry_run_is_drawn_by_wave_with_its_marks_then_its_blocked_and_held_lines);
    ADD(tc, upgrade_run_draws_what_stopped_it_and_nothing_once_it_ran);
    ADD(tc, downgrade_plan_is_drawn_when_dry_or_refused_with_its_missing_callbacks_marked);
    ADD(tc, ops_result_lists_what_was_skipped_then_the_records_changed);
    ADD(tc, json_renderer_builds_run_results_from_the_migration_events);
    ADD(tc, core_works_with_no_listener);
    ADD(tc, one_checker_stops_at_the_first_problem_or_collects_them_all);
    suite_add_tcase(s, tc);
    return s;
}
