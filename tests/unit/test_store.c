#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "store.h"

START_TEST(tables_are_qualified_with_a_quoted_schema)
{
    char *t = store_table("public", "delembic_version");
    ck_assert_str_eq(t, "\"public\".delembic_version");
    free(t);
    t = store_table("Ops \"x\"", "delembic_run_history");
    ck_assert_str_eq(t, "\"Ops \"\"x\"\"\".delembic_run_history");
    free(t);
    t = store_table(NULL, "delembic_version");
    ck_assert_str_eq(t, "\"" STORE_DEFAULT_SCHEMA "\".delembic_version");
    free(t);
}
END_TEST

START_TEST(one_name_per_status)
{
    ck_assert_str_eq(store_status_name(STORE_SUCCESS), "success");
    ck_assert_str_eq(store_status_name(STORE_FAILED), "failed");
    ck_assert_str_eq(store_status_name(STORE_INTERRUPTED), "interrupted");
    ck_assert_str_eq(store_status_name(STORE_RUNNING), "running");
    ck_assert_str_eq(store_status_name((store_status)99), "failed");
}
END_TEST

START_TEST(record_statement_is_fenced_and_qualified)
{
    store_token tok = {.pid = 4242, .key = 77};
    char *sql = store_prepare_record_sql("my schema", &tok);
    ck_assert_ptr_nonnull(strstr(sql, "INSERT INTO \"my schema\".delembic_version"));
    ck_assert_ptr_nonnull(strstr(sql, "INSERT INTO \"my schema\".delembic_run_history"));
    ck_assert_ptr_nonnull(strstr(sql, "pg_try_advisory_xact_lock_shared(4242, 77)"));
    ck_assert_ptr_nonnull(strstr(sql, "delembic-lost-lock"));
    ck_assert_ptr_null(strstr(sql, " to_timestamp("));  /* always pg_catalog.to_timestamp */
    free(sql);
}
END_TEST

START_TEST(record_text_reads_the_same_in_any_client_encoding)
{
    char *sql = store_record_sql("D001_\xe3\x83\xad", 1.5, 2.25, "ab'c\\d", 42);
    /* non-ASCII as hex decoded as UTF-8; printable ASCII as an E'' literal */
    ck_assert_ptr_nonnull(strstr(sql, "EXECUTE " STORE_RECORD_STATEMENT "(pg_catalog.convert_from("
                                      "pg_catalog.decode('443030315fe383ad', 'hex'), 'UTF8'), 1.500000, 2.250000,"
                                      " E'ab''c\\\\d', "));
    ck_assert_ptr_nonnull(strstr(sql, ", 42)"));
    for (const unsigned char *p = (const unsigned char *)sql; *p; p++)
        ck_assert(*p >= 0x20 && *p < 0x7f);
    free(sql);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("store");
    ADD(tc, tables_are_qualified_with_a_quoted_schema);
    ADD(tc, one_name_per_status);
    ADD(tc, record_statement_is_fenced_and_qualified);
    ADD(tc, record_text_reads_the_same_in_any_client_encoding);
    suite_add_tcase(s, tc);
    return s;
}
