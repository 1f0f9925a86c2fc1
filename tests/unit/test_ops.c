/* Issue 11's pure parts: reading a source for chaining, the orphan line,
 * and config sections that extend another. */
#include <string.h>

#include "chain.h"
#include "check_main.h"
#include "config.h"
#include "orphan.h"
#include "util.h"

START_TEST(chain_reads_revision_and_depends_on)
{
    strvec deps = {0};
    char *rev = chain_parse_source("DM_MIGRATION(.revision = \"D002\",\n"
                                   "             .depends_on = DM_DEPS(\"D001\", \"3d1e\"),\n"
                                   "             .description = \"x (revision = \\\"no\\\")\");\n",
                                   &deps);
    ck_assert_str_eq(rev, "D002");
    ck_assert_uint_eq(deps.n, 2);
    ck_assert_str_eq(deps.v[0], "D001");
    ck_assert_str_eq(deps.v[1], "3d1e");
    free(rev);
    strvec_clear(&deps);
    rev = chain_parse_source(".revision=\"D001\", .depends_on = DM_NO_DEPS", &deps);
    ck_assert_str_eq(rev, "D001");
    ck_assert_uint_eq(deps.n, 0);
    free(rev);
    ck_assert_ptr_null(chain_parse_source("int main(void) { return 0; }", &deps));
    ck_assert_ptr_null(chain_parse_source(".revision = D001", &deps));
    ck_assert_uint_eq(deps.n, 0);
}
END_TEST

START_TEST(orphan_line_names_the_revisions)
{
    strvec m = {0};
    strvec_push(&m, "r2");
    char *s = orphan_message(&m);
    ck_assert_str_eq(s, "orphaned: needs Alembic r2 which is not applied");
    free(s);
    strvec_push(&m, "r3");
    s = orphan_message(&m);
    ck_assert_str_eq(s, "orphaned: needs Alembic r2, r3 which are not applied");
    free(s);
    strvec_clear(&m);
}
END_TEST

static int parse(const char *text, const char *section, del_config *c, del_err *e)
{
    return config_parse("delembic.yaml", text, strlen(text), section, "/proj", c, e);
}

START_TEST(section_extends_another_and_overrides)
{
    del_config c;
    del_err e;
    const char *text = "delembic:\n  script_location: src\n  database: postgresql://h/db\n  jobs: 4\n"
                       "  statement_timeout: 30s\n"
                       "staging:\n  extends: delembic\n  database: postgresql://s/db\n"
                       "deeper:\n  extends: staging\n  jobs: 2\n";
    ck_assert_int_eq(parse(text, "staging", &c, &e), 0);
    ck_assert_str_eq(c.script_location, "/proj/src");
    ck_assert_str_eq(c.database, "postgresql://s/db");
    ck_assert_int_eq(c.jobs, 4);
    ck_assert_str_eq(c.statement_timeout, "30s");
    config_free(&c);
    ck_assert_int_eq(parse(text, "deeper", &c, &e), 0);
    ck_assert_str_eq(c.database, "postgresql://s/db");
    ck_assert_int_eq(c.jobs, 2);
    config_free(&c);
}
END_TEST

START_TEST(extends_refuses_cycles_and_unknown_sections)
{
    del_config c;
    del_err e;
    ck_assert_int_eq(parse("a:\n  extends: b\nb:\n  extends: a\n", "a", &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "more than 8 sections"));
    config_free(&c);
    ck_assert_int_eq(parse("a:\n  extends: nowhere\n", "a", &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "section 'a' extends 'nowhere', which is not a section"));
    config_free(&c);
    ck_assert_int_eq(parse("a:\n  extends: b\nb:\n  timeout: soon\n", "a", &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "delembic.yaml:4:12: field 'timeout'"));
    config_free(&c);
    ck_assert_int_eq(parse("a:\n  extends: b\nb:\n  bogus: 1\n", "a", &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "bogus"));
    config_free(&c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("ops");
    TCase *tc = tcase_create("ops");
    ADD(tc, chain_reads_revision_and_depends_on);
    ADD(tc, orphan_line_names_the_revisions);
    ADD(tc, section_extends_another_and_overrides);
    ADD(tc, extends_refuses_cycles_and_unknown_sections);
    suite_add_tcase(s, tc);
    return s;
}
