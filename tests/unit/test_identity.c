#include <string.h>

#include "check_main.h"
#include "identity.h"

#define SDK "1111111111111111111111111111111111111111111111111111111111111111"
#define SDK2 "2222222222222222222222222222222222222222222222222222222222222222"

static const identity_root roots[] = {{"/home/ann/proj", "$PROJECT"}, {"/home/ann/proj/migrations", "$SOURCES"},
                                      {"/opt/delembic/include", "$SDK"}};

static char *flags_of(char **args, size_t n)
{
    sbuf out = {0};
    identity_flags(args, n, roots, sizeof roots / sizeof roots[0], &out);
    return out.s;
}

START_TEST(include_paths_maps_and_outputs_are_dropped)
{
    char *args[] = {"cc", "-O2", "-g", "-I/opt/delembic/include", "-I", "/usr/include/postgresql", "-isystem",
                    "/x", "-iquote/y", "-include", "/home/ann/proj/pre.h", "-ffile-prefix-map=/home/ann/proj=.",
                    "-fdebug-prefix-map=/a=b", "-fmacro-prefix-map=/c=d", "-MMD", "-MF", "/s/a.d", "-o", "/s/a.so",
                    "-std=c11", "-lpq"};
    char *f = flags_of(args, sizeof args / sizeof args[0]);
    ck_assert_str_eq(f, "cc\n-O2\n-std=c11\n-lpq\n");
    free(f);
}
END_TEST

START_TEST(known_folders_become_names_longest_first)
{
    char *args[] = {"-DDATA=\"/home/ann/proj/migrations/data\"", "-Wl,-rpath,/home/ann/proj/lib",
                    "-DSDK=/opt/delembic/include/x", "-DOTHER=/home/bob"};
    char *f = flags_of(args, sizeof args / sizeof args[0]);
    ck_assert_str_eq(f, "-DDATA=\"$SOURCES/data\"\n-Wl,-rpath,$PROJECT/lib\n-DSDK=$SDK/x\n-DOTHER=/home/bob\n");
    free(f);
}
END_TEST

START_TEST(debug_and_diagnostic_flags_are_dropped_order_kept)
{
    char *args[] = {"cc", "-g", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Werror", "-Werror=format",
                    "-w", "-pedantic", "-pedantic-errors", "-g3", "-ggdb", "-gdwarf-4", "-gsplit-dwarf",
                    "-fdiagnostics-color=always", "-fno-diagnostics-show-caret", "-fmax-errors=3",
                    "-fmessage-length=0", "-fno-show-column", "-fno-inline", "-Wl,-z,now", "-Wa,--noexecstack",
                    "-Wp,-D_FORTIFY_SOURCE=2", "-O1", "-DX=1"};
    char *f = flags_of(args, sizeof args / sizeof args[0]);
    ck_assert_str_eq(f, "cc\n-O2\n-fno-inline\n-Wl,-z,now\n-Wa,--noexecstack\n-Wp,-D_FORTIFY_SOURCE=2\n-O1\n-DX=1\n");
    free(f);
    char *a[] = {"-g", "-O2"}, *b[] = {"-O2", "-g", "-Wshadow"};
    char *fa = flags_of(a, 2), *fb = flags_of(b, 3);
    ck_assert_str_eq(fa, fb);
    free(fa);
    free(fb);
}
END_TEST

START_TEST(no_flags_is_empty_not_null)
{
    char *f = flags_of(NULL, 0);
    ck_assert_ptr_nonnull(f);
    ck_assert_str_eq(f, "");
    free(f);
}
END_TEST

START_TEST(digest_is_stable_and_follows_every_part)
{
    char a[65], b[65];
    del_err e;
    const char *unit = "int x = 1;\n";
    ck_assert_int_eq(identity_digest(SDK, "cc\n-O2\n", unit, strlen(unit), a, &e), 0);
    ck_assert_int_eq(identity_digest(SDK, "cc\n-O2\n", unit, strlen(unit), b, &e), 0);
    ck_assert_str_eq(a, b);
    ck_assert(sha256_is_hex(a));
    ck_assert_int_eq(identity_digest(SDK2, "cc\n-O2\n", unit, strlen(unit), b, &e), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(identity_digest(SDK, "cc\n-O1\n", unit, strlen(unit), b, &e), 0);
    ck_assert_str_ne(a, b);
    ck_assert_int_eq(identity_digest(SDK, "cc\n-O2\n", "int x = 2;\n", 11, b, &e), 0);
    ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(flags_and_unit_cannot_trade_bytes)
{
    char a[65], b[65];
    del_err e;
    ck_assert_int_eq(identity_digest(SDK, "cc\n-O2\n", "x", 1, a, &e), 0);
    ck_assert_int_eq(identity_digest(SDK, "cc\n-O2\nx", "", 0, b, &e), 0);
    ck_assert_str_ne(a, b);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = tcase_create("identity");
    ADD(tc, include_paths_maps_and_outputs_are_dropped);
    ADD(tc, known_folders_become_names_longest_first);
    ADD(tc, debug_and_diagnostic_flags_are_dropped_order_kept);
    ADD(tc, no_flags_is_empty_not_null);
    ADD(tc, digest_is_stable_and_follows_every_part);
    ADD(tc, flags_and_unit_cannot_trade_bytes);
    suite_add_tcase(s, tc);
    return s;
}
