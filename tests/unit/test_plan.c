#include <string.h>

#include "check_main.h"
#include "plan.h"

#define SHA "5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c"

static const char *text =
    "format: 1\nabi: 1\nmigrations:\n"
    "  - {revision: D1, file: a.so, sha256: " SHA ", depends_on: [r1], alembic: [r1]}\n"
    "  - {revision: D2, file: b.so, sha256: " SHA ", depends_on: [D1, r3], alembic: [r3]}\n"
    "  - {revision: D3, file: c.so, sha256: " SHA ", depends_on: [D1]}\n"
    "  - {revision: D4, file: d.so, sha256: " SHA ", depends_on: [D2, D3]}\n"
    "alembic:\n  graph:\n    r1: []\n    r2: [r1]\n    r3: [r2]\n";

static void setup(bundle *b)
{
    del_err e;
    memset(b, 0, sizeof *b);
    ck_assert_int_eq(manifest_parse("m", text, strlen(text), &b->mf, &e), 0);
    ck_assert_int_eq(bundle_build_dag(&b->mf, &b->g, &e), 0);
}

START_TEST(targets_waves_and_blocking)
{
    bundle b;
    setup(&b);
    vstate st = {0};
    plan p;
    del_err e;
    ck_assert_int_eq(plan_make(&b, &st, "head", &p, &e), 0);
    ck_assert_int_eq(p.nrun, 4);
    ck_assert_int_eq(p.wave[0], 1);
    ck_assert_int_eq(p.wave[1], 2);
    ck_assert_int_eq(p.wave[2], 2);
    ck_assert_int_eq(p.wave[3], 3);
    strvec heads = {0};
    strvec_push(&heads, "r2");
    plan_check_alembic(&b, &p, &heads, 1);
    ck_assert_int_eq(p.nblocked, 1);
    char *m = plan_blocked_message(&b, &p, 0);
    ck_assert_str_eq(m, "BLOCKED: Migration D2 requires Alembic revision(s) r3 to be applied first. Run 'alembic upgrade head' before retrying.");
    free(m);
    plan_free(&p);
    ck_assert_int_eq(plan_make(&b, &st, "D3", &p, &e), 0);
    ck_assert_int_eq(p.nrun, 2);
    plan_check_alembic(&b, &p, &heads, 1);
    ck_assert_int_eq(p.nblocked, 0); /* r1 is an ancestor of the head r2 */
    plan_free(&p);
    ck_assert_int_eq(plan_make(&b, &st, "nope", &p, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "unknown target revision 'nope'"));
    ck_assert_int_eq(plan_make(&b, &st, "r2", &p, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "Alembic revision"));
    strvec_clear(&heads);
    strvec_push(&heads, "unknown_head");
    ck_assert_int_eq(plan_make(&b, &st, "head", &p, &e), 0);
    plan_check_alembic(&b, &p, &heads, 1);
    m = plan_blocked_message(&b, &p, 0);
    ck_assert_ptr_nonnull(strstr(m, "rebuild the bundle against the current Alembic scripts"));
    free(m);
    plan_free(&p);
    strvec_clear(&heads);
    manifest_free(&b.mf);
    dag_free(&b.g);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("plan");
    TCase *tc = tcase_create("plan");
    ADD(tc, targets_waves_and_blocking);
    suite_add_tcase(s, tc);
    return s;
}
