#include <string.h>

#include "check_main.h"
#include "yamltree.h"

static int parse(const char *text, ynode **root, del_err *e)
{
    return yaml_parse("t.yaml", text, strlen(text), root, e);
}

START_TEST(tree_with_positions)
{
    ynode *r;
    del_err e;
    ck_assert_int_eq(parse("a: 1\nb:\n  - x\n  - 'y'\nc: {d: e}\n", &r, &e), 0);
    ck_assert_int_eq(r->kind, YNODE_MAP);
    const ynode *b = ymap_get(r, "b");
    ck_assert_int_eq(b->kind, YNODE_SEQ);
    ck_assert_int_eq(b->n, 2);
    ck_assert_int_eq(b->items[1]->quoted, 1);
    ck_assert_int_eq(b->items[1]->line, 4);
    ck_assert_str_eq(ymap_get(ymap_get(r, "c"), "d")->value, "e");
    ynode_free(r);
}
END_TEST

START_TEST(refusals)
{
    ynode *r;
    del_err e;
    ck_assert_int_eq(parse("a: 1\na: 2\n", &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "t.yaml:2:1: duplicate key 'a'"));
    ck_assert_int_eq(parse("a: &x [1]\nb: *x\n", &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "aliases"));
    ck_assert_int_eq(parse("a: [1, 2\n", &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "t.yaml:"));
    ck_assert_int_eq(parse("a: 1\n---\nb: 2\n", &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "more than one"));
    ck_assert_int_eq(parse("? [a]\n: 1\n", &r, &e), -1);
    ck_assert_int_eq(yaml_parse("t.yaml", "a: \0b", 5, &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "NUL"));
    char deep[400];
    memset(deep, '[', 200);
    deep[200] = '\0';
    ck_assert_int_eq(parse(deep, &r, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "deeper"));
    ck_assert_int_eq(parse("", &r, &e), 0);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(typed_getters)
{
    ynode *r;
    del_err e;
    ck_assert_int_eq(parse("n: 12\ns: [a]\nx: abc\nl: [a, b]\nbad: [a, [b]]\n", &r, &e), 0);
    long long n = 0;
    ck_assert_int_eq(yget_int("t.yaml", r, "n", 1, 0, 100, &n, &e), 0);
    ck_assert_int_eq(n, 12);
    ck_assert_int_eq(yget_int("t.yaml", r, "x", 1, 0, 100, &n, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "t.yaml:3:4: field 'x' must be a whole number"));
    const char *s = NULL;
    ck_assert_int_eq(yget_string("t.yaml", r, "s", 1, &s, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "must be a text value"));
    ck_assert_int_eq(yget_string("t.yaml", r, "missing", 1, &s, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "required field 'missing'"));
    const ynode *l;
    ck_assert_int_eq(yget_string_list("t.yaml", r, "l", &l, &e), 0);
    ck_assert_int_eq(l->n, 2);
    ck_assert_int_eq(yget_string_list("t.yaml", r, "bad", &l, &e), -1);
    const char *allowed[] = {"n", "s", NULL};
    ck_assert_int_eq(ymap_check_keys("t.yaml", r, allowed, "the file", &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "unknown field 'x'"));
    ynode_free(r);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("yaml");
    TCase *tc = tcase_create("yaml");
    ADD(tc, tree_with_positions);
    ADD(tc, refusals);
    ADD(tc, typed_getters);
    suite_add_tcase(s, tc);
    return s;
}
