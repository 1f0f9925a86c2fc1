#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "db.h"
#include "proctitle.h"
#include "term.h"
#include "util.h"

START_TEST(natural_ordering)
{
    ck_assert_int_lt(natural_cmp("D2", "D10"), 0);
    ck_assert_int_gt(natural_cmp("D10", "D2"), 0);
    ck_assert_int_eq(natural_cmp("D010", "D010"), 0);
    ck_assert_int_lt(natural_cmp("D9", "D009a"), 0);
    ck_assert_int_lt(natural_cmp("D1", "D1a"), 0);
    ck_assert_int_lt(natural_cmp("a", "b"), 0);
    ck_assert_int_lt(natural_cmp("D99999999999999999999", "D100000000000000000000"), 0);
    strvec v = {0};
    const char *in[] = {"D10", "D2", "D1", "D100", "C5", "D02"};
    for (int i = 0; i < 6; i++)
        strvec_push(&v, in[i]);
    strvec_sort_natural(&v);
    char buf[128];
    strvec_join(&v, ",", buf, sizeof buf);
    ck_assert_str_eq(buf, "C5,D1,D2,D02,D10,D100");
    strvec_clear(&v);
}
END_TEST

START_TEST(url_normalising_and_redaction)
{
    char *u = db_normalize_url("postgresql+psycopg://u:p@h/db");
    ck_assert_str_eq(u, "postgresql://u:p@h/db");
    free(u);
    u = db_normalize_url("postgres+asyncpg://h/db");
    ck_assert_str_eq(u, "postgres://h/db");
    free(u);
    u = db_redact("postgresql://bob:s3cret@db.example:5432/x?sslmode=require");
    ck_assert_str_eq(u, "postgresql://bob:***@db.example:5432/x?sslmode=require");
    free(u);
    u = db_redact("postgresql://h/x?user=a&password=zz&sslmode=disable");
    ck_assert_ptr_null(strstr(u, "zz"));
    free(u);
    u = db_redact("host=h password='a b\\'c' dbname=x");
    ck_assert_ptr_null(strstr(u, "a b"));
    ck_assert_ptr_nonnull(strstr(u, "dbname=x"));
    free(u);
    u = db_redact("host=h password=secret");
    ck_assert_str_eq(u, "host=h password=***");
    free(u);
    del_err e;
    ck_assert_int_eq(db_check_url("postgresql://h/x?nosuchoption=1", &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "bad database URL"));
    ck_assert_int_eq(db_check_url("postgresql://u:pw@h/x", &e), 0);
}
END_TEST

/* red has no trace of the password and says what it masked */
static void assert_masked(char *red, const char *secret)
{
    ck_assert_msg(strstr(red, secret) == NULL, "'%s' still shows '%s'", red, secret);
    ck_assert_msg(strstr(red, "***") != NULL, "'%s' masks nothing", red);
    free(red);
}

START_TEST(passwords_masked_in_any_text)
{
    /* libpq quotes the whole URI, or only the bad piece of the password */
    assert_masked(db_redact_text("end of string reached when looking for matching \"]\" in IPv6 host address in URI: \"postgresql://u:hunter22@[::1\"",
                                 NULL), "hunter22");
    assert_masked(db_redact_text("invalid percent-encoded token: \"hun%zzter\"", "postgresql://u:hun%zzter@/db"),
                  "zzter");
    /* userinfo up to the last '@' before '/', as libpq reads it: '?' and '@' in it */
    assert_masked(db_redact("postgresql://u:hun?ter@/db"), "ter");
    assert_masked(db_redact("postgresql://u:hun@ter@h/db"), "ter");
    /* query keys, percent-encoded or not; sslpassword too */
    assert_masked(db_redact("postgresql:///db?pass%77ord=hunter22&host=/tmp"), "hunter22");
    assert_masked(db_redact("postgresql:///db?sslpassword=hunter22"), "hunter22");
    /* key=value: quoted with escapes, spaces around '=' */
    assert_masked(db_redact("host=/tmp password = 'hun ter\\' 22' dbname=x"), "ter");
    assert_masked(db_redact("host=/tmp password='hunter22"), "hunter22");
    /* a password repeated anywhere (a server or libpq message) */
    assert_masked(db_redact_text("FATAL: something about hunter22 here", "host=h password=hunter22"), "hunter22");
    /* nothing else changes, and masking twice changes nothing */
    char *once = db_redact("postgresql://bob:pw@h:5432/x?sslmode=require&password=zz");
    ck_assert_str_eq(once, "postgresql://bob:***@h:5432/x?sslmode=require&password=***");
    char *msg = xasprintf("bad URL '%s': oops", once);
    char *twice = db_redact_text(msg, NULL);
    ck_assert_str_eq(twice, msg);
    free(twice);
    free(msg);
    free(once);
    once = db_redact("host=/tmp password='a b'");
    ck_assert_str_eq(once, "host=/tmp password=***");
    msg = xasprintf("'%s': x", once);
    twice = db_redact_text(msg, NULL);
    ck_assert_str_eq(twice, "'host=/tmp password=***': x");
    free(twice);
    free(msg);
    free(once);
    char *plain = db_redact_text("missing \"=\" after \"password\" in connection info string", NULL);
    ck_assert_str_eq(plain, "missing \"=\" after \"password\" in connection info string");
    free(plain);
    /* what ps shows of --database: a fixed *** whatever the length */
    char *shown = db_redact_text("postgresql://u:hunter22@h/db?password=x2", NULL);
    ck_assert_str_eq(shown, "postgresql://u:***@h/db?password=***");
    free(shown);
}
END_TEST

START_TEST(terminal_text_escaped)
{
    char *t = term_text("a\033[2J\r\n\t\x7f\x01ok");
    ck_assert_str_eq(t, "a\\x1b[2J\\r\\n\\t\\x7f\\x01ok");
    free(t);
    /* C1 as UTF-8, a stray byte, an overlong '/', a surrogate, bidi override */
    t = term_text("\xc2\x9b|\x9b|\xc0\xaf|\xed\xa0\x80|\xe2\x80\xae|");
    ck_assert_str_eq(t, "\\u009b|\\x9b|\\xc0\\xaf|\\xed\\xa0\\x80|\\u202e|");
    free(t);
    /* printable UTF-8 stays */
    t = term_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    ck_assert_str_eq(t, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    free(t);
    t = term_text("\xe2\x82");   /* truncated at the end */
    ck_assert_str_eq(t, "\\xe2\\x82");
    free(t);
}
END_TEST

START_TEST(url_precedence)
{
    const char *src;
    const char *env = "postgresql://env/x";
    char *u = db_choose_url("postgresql://cli/x", env, "postgresql://sec/x", &src);
    ck_assert_str_eq(u, "postgresql://cli/x");
    free(u);
    u = db_choose_url(NULL, env, "postgresql://sec/x", &src);
    ck_assert_str_eq(u, "postgresql://env/x");
    free(u);
    u = db_choose_url(NULL, NULL, "postgresql+psycopg2://sec/x", &src);
    ck_assert_str_eq(u, "postgresql://sec/x");
    free(u);
    u = db_choose_url(NULL, NULL, NULL, &src);
    ck_assert_ptr_null(u);
    ck_assert_ptr_nonnull(strstr(src, "libpq"));
}
END_TEST

START_TEST(paths_and_maps)
{
    char *p = path_absolute("/a/b/../c/./d/");
    ck_assert_str_eq(p, "/a/c/d");
    free(p);
    p = path_join("/x/", "y");
    ck_assert_str_eq(p, "/x/y");
    free(p);
    strmap m = {0};
    char keys[200][8];
    for (int i = 0; i < 200; i++) {
        snprintf(keys[i], sizeof keys[i], "k%d", i);
        strmap_put(&m, keys[i], i);
    }
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(strmap_get(&m, keys[i]), i);
    ck_assert_int_eq(strmap_get(&m, "nope"), -1);
    strmap_free(&m);
}
END_TEST

/* A FIFO is refused before it is opened (an open would wait for a writer
 * forever); a folder too; a regular file reads whole. */
START_TEST(read_file_refuses_what_is_not_a_regular_file)
{
    char dir[] = "/tmp/delembic-unit.XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char *fifo = path_join(dir, "pipe.yaml"), *reg = path_join(dir, "ok.yaml");
    ck_assert_int_eq(mkfifo(fifo, 0600), 0);
    del_err e;
    char *text = NULL;
    size_t len = 0;
    ck_assert_int_eq(read_file(fifo, 100, &text, &len, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "pipe.yaml: a FIFO, not a regular file"));
    ck_assert_int_eq(read_file(dir, 100, &text, &len, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "a folder, not a regular file"));
    FILE *f = fopen(reg, "w");
    ck_assert_ptr_nonnull(f);
    fputs("abc", f);
    fclose(f);
    ck_assert_int_eq(read_file(reg, 100, &text, &len, &e), 0);
    ck_assert_str_eq(text, "abc");
    ck_assert_uint_eq(len, 3);
    free(text);
    ck_assert_int_eq(read_file(reg, 2, &text, &len, &e), -1);
    ck_assert_int_eq(entry_exists(fifo), 1);
    unlink(fifo);
    unlink(reg);
    ck_assert_int_eq(symlink("nowhere", fifo), 0);
    ck_assert_int_eq(entry_exists(fifo), 1);
    ck_assert_int_eq(path_exists(fifo), 0);
    unlink(fifo);
    rmdir(dir);
    free(fifo);
    free(reg);
}
END_TEST

/* The title written over argv's block: what Linux shows is exactly the
 * title, whatever the block's length; it runs on into the environment block
 * when needed, and is refused when it cannot fit. */
START_TEST(proctitle_layout_shows_exactly_the_title)
{
    char block[32];
    /* shorter than the block: title, NUL, NULs, then a non-NUL last byte */
    memset(block, 'x', sizeof block);
    ck_assert_int_eq(proctitle_layout(block, 20, 0, "prog --db ***"), 0);
    ck_assert_str_eq(block, "prog --db ***");
    for (int i = 14; i < 19; i++)
        ck_assert_int_eq(block[i], 0);
    ck_assert_int_ne(block[19], 0);
    ck_assert_int_eq(block[20], 'x'); /* nothing past the block */
    /* exactly the block */
    memset(block, 'x', sizeof block);
    ck_assert_int_eq(proctitle_layout(block, 14, 0, "prog --db ***"), 0);
    ck_assert_str_eq(block, "prog --db ***");
    ck_assert_int_eq(block[14], 'x');
    /* longer: into the environment block, only when there is one */
    memset(block, 'x', sizeof block);
    ck_assert_int_eq(proctitle_layout(block, 10, 0, "prog --db ***"), -1);
    ck_assert_int_eq(block[0], 'x');
    ck_assert_int_eq(proctitle_layout(block, 10, 4, "prog --db ***"), 0);
    ck_assert_str_eq(block, "prog --db ***");
    ck_assert_int_eq(block[14], 'x');
}
END_TEST

/* proctitle_hide on a block laid out as the kernel does: the copies keep
 * the real value, the block shows the masked one, NUL-padded title */
START_TEST(proctitle_hides_a_value_in_the_block)
{
    char block[] = "prog\0--database=postgresql://u:hunter22@h/db\0upgrade";
    char *argv[] = {block, block + 5, NULL, NULL};
    argv[2] = argv[1] + strlen(argv[1]) + 1;
    ck_assert_str_eq(argv[1], "--database=postgresql://u:hunter22@h/db");
    ck_assert_str_eq(argv[2], "upgrade");
    proctitle t;
    proctitle_init(&t, 3, argv);
    ck_assert_ptr_eq(t.block, block);
    ck_assert_uint_eq(t.block_len, sizeof block);
    const char *value = t.args[1] + strlen("--database=");
    proctitle_hide(&t, value, "postgresql://u:***@h/db");
    ck_assert_str_eq(block, "prog --database=postgresql://u:***@h/db upgrade");
    ck_assert_int_ne(block[sizeof block - 1], 0);
    ck_assert_str_eq(t.args[1], "--database=postgresql://u:hunter22@h/db");
    proctitle_free(&t);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("util");
    TCase *tc = tcase_create("core");
    ADD(tc, natural_ordering);
    ADD(tc, url_normalising_and_redaction);
    ADD(tc, passwords_masked_in_any_text);
    ADD(tc, terminal_text_escaped);
    ADD(tc, url_precedence);
    ADD(tc, paths_and_maps);
    ADD(tc, read_file_refuses_what_is_not_a_regular_file);
    ADD(tc, proctitle_layout_shows_exactly_the_title);
    ADD(tc, proctitle_hides_a_value_in_the_block);
    suite_add_tcase(s, tc);
    return s;
}
