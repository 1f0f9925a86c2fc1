#include <string.h>

#include "check_main.h"
#include "dag.h"

static char order_buf[512];
static const char *order_of(dag *g)
{
    order_buf[0] = '\0';
    for (size_t k = 0; k < g->n; k++) {
        if (k)
            strcat(order_buf, ",");
        strcat(order_buf, g->nodes[g->order[k]].revision);
    }
    return order_buf;
}

#define DEPS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NODEPS ((const char *const[]){NULL})

START_TEST(chain)
{
    const char *revs[] = {"D3", "D1", "D2"};
    const char *const *deps[] = {DEPS("D2"), NODEPS, DEPS("D1")};
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, 3, revs, deps, &e), 0);
    ck_assert_str_eq(order_of(&g), "D1,D2,D3");
    dag_free(&g);
}
END_TEST

START_TEST(diamond_and_natural_ties)
{
    const char *revs[] = {"D10", "D2", "D1", "D20"};
    const char *const *deps[] = {DEPS("D1"), DEPS("D1"), NODEPS, DEPS("D10", "D2")};
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, 4, revs, deps, &e), 0);
    ck_assert_str_eq(order_of(&g), "D1,D2,D10,D20");
    char mark[4] = {0};
    dag_mark_ancestors(&g, 1, mark); /* D2 */
    ck_assert(mark[1] && mark[2] && !mark[0] && !mark[3]);
    dag_free(&g);
}
END_TEST

START_TEST(independent)
{
    const char *revs[] = {"b", "D100", "a", "D9"};
    const char *const *deps[] = {NODEPS, NODEPS, NODEPS, NODEPS};
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, 4, revs, deps, &e), 0);
    ck_assert_str_eq(order_of(&g), "D9,D100,a,b");
    dag_free(&g);
}
END_TEST

START_TEST(cycle_names_members)
{
    const char *revs[] = {"D1", "D2", "D3", "D4"};
    const char *const *deps[] = {NODEPS, DEPS("D1", "D4"), DEPS("D2"), DEPS("D3")};
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, 4, revs, deps, &e), DAG_CYCLE);
    ck_assert_int_eq(e.kind, DEL_KIND_BUNDLE);
    ck_assert_ptr_nonnull(strstr(e.msg, "D2"));
    ck_assert_ptr_nonnull(strstr(e.msg, "D3"));
    ck_assert_ptr_nonnull(strstr(e.msg, "D4"));
    ck_assert_ptr_null(strstr(e.msg, "D1 "));
}
END_TEST

START_TEST(self_cycle_and_duplicates)
{
    const char *revs[] = {"D1"};
    const char *const *deps[] = {DEPS("D1")};
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, 1, revs, deps, &e), DAG_CYCLE);
    ck_assert_ptr_nonnull(strstr(e.msg, "D1 -> D1"));
    const char *revs2[] = {"D1", "D1"};
    const char *const *deps2[] = {NODEPS, NODEPS};
    ck_assert_int_eq(dag_build(&g, 2, revs2, deps2, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "defined twice"));
}
END_TEST

START_TEST(external_deps)
{
    const char *revs[] = {"D1", "D2"};
    const char *const *deps[] = {DEPS("3d1e3e6abc12"), DEPS("D1", "ffff", "ffff")};
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, 2, revs, deps, &e), 0);
    ck_assert_int_eq(g.nodes[0].external.n, 1);
    ck_assert_str_eq(g.nodes[0].external.v[0], "3d1e3e6abc12");
    ck_assert_int_eq(g.nodes[1].external.n, 1);
    ck_assert_int_eq(g.nodes[1].ndeps, 1);
    dag_free(&g);
}
END_TEST

START_TEST(large_chain_is_fast)
{
    enum { N = 5000 };
    static char names[N][16];
    static const char *revs[N];
    static const char *const *deps[N];
    static const char *dl[N][2];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof names[i], "D%d", N - i);
        revs[i] = names[i];
    }
    for (int i = 0; i < N; i++) {
        dl[i][0] = i + 1 < N ? names[i + 1] : NULL;
        dl[i][1] = NULL;
        deps[i] = dl[i];
    }
    dag g;
    del_err e;
    ck_assert_int_eq(dag_build(&g, N, revs, deps, &e), 0);
    ck_assert_str_eq(g.nodes[g.order[0]].revision, "D1");
    ck_assert_str_eq(g.nodes[g.order[N - 1]].revision, "D5000");
    dag_free(&g);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("dag");
    TCase *tc = tcase_create("dag");
    ADD(tc, chain);
    ADD(tc, diamond_and_natural_ties);
    ADD(tc, independent);
    ADD(tc, cycle_names_members);
    ADD(tc, self_cycle_and_duplicates);
    ADD(tc, external_deps);
    ADD(tc, large_chain_is_fast);
    suite_add_tcase(s, tc);
    return s;
}
