/* The CLI's pieces that need no database: the kind -> exit code mapping, the
 * command table (every command has its help), the nearest-command suggestion. */
#include <signal.h>
#include <string.h>

#include "check_main.h"
#include "commands.h"
#include "err.h"

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

Suite *make_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    ADD(tc, kinds_map_to_the_documented_exit_codes);
    ADD(tc, hint_and_detail_are_separate_and_reset_by_the_next_failure);
    ADD(tc, every_command_has_summary_usage_help_and_example);
    ADD(tc, an_unknown_command_gets_the_nearest_one);
    suite_add_tcase(s, tc);
    return s;
}
