#include <stdlib.h>
#include <string.h>

#include "alembic.h"
#include "check_main.h"
#include "db.h"

static void parse_ok(const char *text, const char *rev, const char *down)
{
    char *r;
    strvec d = {0};
    int found;
    del_err e;
    ck_assert_msg(alembic_parse_script("v.py", text, &r, &d, &found, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(r, rev);
    char buf[256];
    strvec_join(&d, ",", buf, sizeof buf);
    ck_assert_str_eq(buf, down);
    free(r);
    strvec_clear(&d);
}

START_TEST(classic_and_typed_styles)
{
    parse_ok("\"\"\"add x\n\nRevision ID: aaa\nRevises: bbb\nrevision = 'fake'\n\"\"\"\n"
             "from alembic import op\n\nrevision = 'aaa'\ndown_revision = 'bbb'\nbranch_labels = None\n"
             "depends_on = None\n\ndef upgrade():\n    revision = 'inner'\n",
             "aaa", "bbb");
    parse_ok("revision: str = \"ccc\"\ndown_revision: Union[str, None] = None\n"
             "branch_labels: Union[str, Sequence[str], None] = None\n", "ccc", "");
    parse_ok("revision = 'm1'\ndown_revision = ('p1', 'p2')\n", "m1", "p1,p2");
    parse_ok("revision = \"m2\"\ndown_revision = (\n    \"p1\",\n    \"p2\",  # comment\n)\n", "m2", "p1,p2");
    parse_ok("revision = 'm3'\ndown_revision: Union[str, Sequence[str], None] = ['a', 'b']\n", "m3", "a,b");
    parse_ok("revision='x1'\ndown_revision=u'x0'\n", "x1", "x0");
}
END_TEST

START_TEST(unreadable_scripts)
{
    char *r;
    strvec d = {0};
    int found;
    del_err e;
    ck_assert_int_eq(alembic_parse_script("v.py", "down_revision = None\n", &r, &d, &found, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no module-level revision"));
    ck_assert_int_eq(alembic_parse_script("v.py", "revision = 'a'\n", &r, &d, &found, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "down_revision"));
    ck_assert_int_eq(alembic_parse_script("v.py", "x = 1\nrevision = make_id()\ndown_revision = None\n", &r, &d, &found, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "v.py:2:"));
    ck_assert_int_eq(alembic_parse_script("v.py", "revision = 'a'\ndown_revision = ('b', c)\n", &r, &d, &found, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "v.py:2:"));
    strvec_clear(&d);
}
END_TEST

START_TEST(graph_applied_sets)
{
    /* r1 <- r2 <- r3, r2 <- b1, merge m1(r3, b1) */
    algraph g = {0};
    alnode *n;
    algraph_add(&g, "r1");
    n = algraph_add(&g, "r2");
    strvec_push(&n->down, "r1");
    n = algraph_add(&g, "r3");
    strvec_push(&n->down, "r2");
    n = algraph_add(&g, "b1");
    strvec_push(&n->down, "r2");
    n = algraph_add(&g, "m1");
    strvec_push(&n->down, "r3");
    strvec_push(&n->down, "b1");
    del_err e;
    ck_assert_int_eq(algraph_validate(&g, "g", &e), 0);
    strvec heads = {0}, applied = {0}, unknown = {0};
    algraph_heads(&g, &heads);
    ck_assert_int_eq(heads.n, 1);
    ck_assert_str_eq(heads.v[0], "m1");
    strvec db = {0};
    strvec_push(&db, "r3");
    algraph_applied(&g, &db, &applied, &unknown);
    ck_assert(strvec_contains(&applied, "r1") && strvec_contains(&applied, "r2"));
    ck_assert(!strvec_contains(&applied, "b1") && !strvec_contains(&applied, "m1"));
    strvec_clear(&applied);
    strvec_clear(&db);
    strvec_push(&db, "m1");
    strvec_push(&db, "zzz");
    algraph_applied(&g, &db, &applied, &unknown);
    ck_assert(strvec_contains(&applied, "b1") && strvec_contains(&applied, "r3"));
    ck_assert(strvec_contains(&applied, "zzz"));
    ck_assert_int_eq(unknown.n, 1);
    strvec order = {0};
    ck_assert_int_eq(algraph_order(&g, &order, &e), 0);
    ck_assert_str_eq(order.v[0], "r1");
    ck_assert_str_eq(order.v[4], "m1");
    strvec_clear(&order);
    strvec_clear(&heads);
    strvec_clear(&applied);
    strvec_clear(&unknown);
    strvec_clear(&db);
    algraph_free(&g);
}
END_TEST

START_TEST(ini_copy_for_another_database)
{
    const char *ini =
        "# top\n"
        "[alembic]\n"
        "script_location = %(here)s/alembic\n"
        "file_template = %%(rev)s_%%(slug)s\n"
        "sqlalchemy.url = driver://user:pass@localhost/dbname\n"
        "    continued\n"
        "\n"
        "    still the old value\n"
        "prepend_sys_path = .\n"
        "\n"
        "[loggers]\n"
        "keys = root\n"
        "sqlalchemy.url = not in [alembic]: kept\n";
    char *out = alembic_ini_with_url(ini, "/srv/100%", "postgresql://u:p%40ss@h/db");
    ck_assert_str_eq(out,
                     "# top\n"
                     "[alembic]\n"
                     "sqlalchemy.url = postgresql://u:p%%40ss@h/db\n"
                     "script_location = /srv/100%%/alembic\n"
                     "file_template = %%(rev)s_%%(slug)s\n"
                     "prepend_sys_path = .\n"
                     "\n"
                     "[loggers]\n"
                     "keys = root\n"
                     "sqlalchemy.url = not in [alembic]: kept\n");
    free(out);
    /* no url in the section; no section at all; no final newline */
    out = alembic_ini_with_url("[alembic]\nscript_location = a", "/x", "postgresql://");
    ck_assert_str_eq(out, "[alembic]\nsqlalchemy.url = postgresql://\nscript_location = a");
    free(out);
    out = alembic_ini_with_url("[other]\nk = v", "/x", "postgresql://");
    ck_assert_str_eq(out, "[other]\nk = v\n\n[alembic]\nsqlalchemy.url = postgresql://\n");
    free(out);
    /* key spelled with ':' and capitals */
    out = alembic_ini_with_url("[alembic]\nSQLAlchemy.URL: old\nx = 1\n", "/x", "postgresql://h/d");
    ck_assert_str_eq(out, "[alembic]\nsqlalchemy.url = postgresql://h/d\nx = 1\n");
    free(out);
}
END_TEST

START_TEST(sqlalchemy_url_of_any_libpq_form)
{
    del_err e;
    struct { const char *in, *driver, *out; } cases[] = {
        {NULL, NULL, "postgresql://"},
        {NULL, "psycopg2", "postgresql+psycopg2://"},
        {"postgresql://bob:p%40ss%2Fw0rd@db.example:5433/prod?sslmode=require", "psycopg",
         "postgresql+psycopg://bob:p%40ss%2Fw0rd@db.example:5433/prod?sslmode=require"},
        {"postgres://h/x", NULL, "postgresql://h/x"},
        {"postgresql:///t1?host=/tmp/pg.X&user=postgres", NULL, "postgresql://postgres@/t1?host=%2Ftmp%2Fpg.X"},
        {"host=/tmp/s dbname='my db' user=u password='a b'", NULL, "postgresql://u:a%20b@?host=%2Ftmp%2Fs&dbname=my%20db"},
        {"host=a,b port=1,2 dbname=d", NULL, "postgresql:///d?host=a%2Cb&port=1%2C2"},
        {"postgresql://[::1]:5432/d", NULL, "postgresql://[::1]:5432/d"},
        {"password=x dbname=d", NULL, "postgresql:///d?password=x"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *u = db_sqlalchemy_url(cases[i].in, cases[i].driver, &e);
        ck_assert_msg(u != NULL, "%s: %s", cases[i].in, e.msg);
        ck_assert_str_eq(u, cases[i].out);
        free(u);
    }
    ck_assert_ptr_null(db_sqlalchemy_url("postgresql://u:s3cret@h/d?bad=1", NULL, &e));
    ck_assert_ptr_null(strstr(e.msg, "s3cret"));
    ck_assert_ptr_null(db_sqlalchemy_url("postgresql://h/d", "x-y", &e));
    ck_assert_ptr_nonnull(strstr(e.msg, "driver"));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("alembic");
    TCase *tc = tcase_create("alembic");
    ADD(tc, classic_and_typed_styles);
    ADD(tc, unreadable_scripts);
    ADD(tc, graph_applied_sets);
    ADD(tc, ini_copy_for_another_database);
    ADD(tc, sqlalchemy_url_of_any_libpq_form);
    suite_add_tcase(s, tc);
    return s;
}
