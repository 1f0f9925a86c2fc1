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
    ADD(tc, core_works_with_no_listener);
    ADD(tc, one_checker_stops_at_the_first_problem_or_collects_them_all);
    suite_add_tcase(s, tc);
    return s;
}
