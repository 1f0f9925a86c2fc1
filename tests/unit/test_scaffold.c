#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_main.h"
#include "scaffold.h"
#include "util.h"

START_TEST(slugs)
{
    char *s = scaffold_slug("load person demographics");
    ck_assert_str_eq(s, "load_person_demographics");
    free(s);
    s = scaffold_slug("  Fix: drug_exposure (NDC -> RxNorm)!! ");
    ck_assert_str_eq(s, "fix_drug_exposure_ndc_rxnorm");
    free(s);
    s = scaffold_slug("Données café Straße Ørsted 東京 load");
    ck_assert_str_eq(s, "donnees_cafe_strasse_orsted_load");
    free(s);
    s = scaffold_slug("!!!");
    ck_assert_str_eq(s, "");
    free(s);
}
END_TEST

static void write_src(const char *dir, const char *name, const char *rev)
{
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "w");
    fprintf(f, "DM_MIGRATION(.revision = \"%s\", .upgrade = up);\n", rev);
    fclose(f);
    free(p);
}

START_TEST(numbering)
{
    char tmpl[] = "/tmp/delembic-rev-XXXXXX";
    char *d = mkdtemp(tmpl);
    del_err e;
    char *r = scaffold_next_revision(d, &e);
    ck_assert_str_eq(r, "D001");
    free(r);
    write_src(d, "D001_a.c", "D001");
    write_src(d, "renamed.c", "D009");
    r = scaffold_next_revision(d, &e);
    ck_assert_str_eq(r, "D010");
    free(r);
    write_src(d, "x.c", "D099");
    write_src(d, "y.c", "R7"); /* not a D number: ignored */
    r = scaffold_next_revision(d, &e);
    ck_assert_str_eq(r, "D100");
    free(r);
    write_src(d, "z.c", "D1234");
    r = scaffold_next_revision(d, &e);
    ck_assert_str_eq(r, "D1235");
    free(r);
    ck_assert_ptr_null(scaffold_next_revision("/nonexistent/dir", &e));
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(render)
{
    const char *kv[] = {"a", "1", "bb", "two", NULL};
    char *s = scaffold_render("x {{a}} {{bb}} {{unknown}} {{", kv);
    ck_assert_str_eq(s, "x 1 two {{unknown}} {{");
    free(s);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("scaffold");
    TCase *tc = tcase_create("scaffold");
    ADD(tc, slugs);
    ADD(tc, numbering);
    ADD(tc, render);
    suite_add_tcase(s, tc);
    return s;
}
