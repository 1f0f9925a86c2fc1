#include "check_main.h"
#include "drift.h"

#define ID "1111111111111111111111111111111111111111111111111111111111111111"
#define SHA "2222222222222222222222222222222222222222222222222222222222222222"
#define OTHER "3333333333333333333333333333333333333333333333333333333333333333"

START_TEST(no_checksum_is_never_changed)
{
    ck_assert_int_eq(drift_changed(NULL, ID, SHA), 0);
    ck_assert_int_eq(drift_changed(NULL, NULL, SHA), 0);
}
END_TEST

START_TEST(identity_match_is_unchanged_whatever_the_file)
{
    ck_assert_int_eq(drift_changed(ID, ID, SHA), 0);
    ck_assert_int_eq(drift_changed(ID, ID, OTHER), 0);
}
END_TEST

START_TEST(old_rows_with_the_so_sha256_stay_unchanged)
{
    ck_assert_int_eq(drift_changed(SHA, ID, SHA), 0);
    ck_assert_int_eq(drift_changed(SHA, NULL, SHA), 0);
}
END_TEST

START_TEST(neither_identity_nor_sha256_is_changed)
{
    ck_assert_int_eq(drift_changed(OTHER, ID, SHA), 1);
    ck_assert_int_eq(drift_changed(OTHER, NULL, SHA), 1);
    ck_assert_int_eq(drift_changed(ID, NULL, SHA), 1);
    ck_assert_int_eq(drift_changed("", ID, SHA), 1);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("drift");
    TCase *tc = tcase_create("rule");
    ADD(tc, no_checksum_is_never_changed);
    ADD(tc, identity_match_is_unchanged_whatever_the_file);
    ADD(tc, old_rows_with_the_so_sha256_stay_unchanged);
    ADD(tc, neither_identity_nor_sha256_is_changed);
    suite_add_tcase(s, tc);
    return s;
}
