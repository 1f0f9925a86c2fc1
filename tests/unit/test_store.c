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
    ck_assert_ptr_nonnull(strstr(sql, STORE_LOST_LOCK));
    ck_assert_ptr_null(strstr(sql, " to_timestamp("));  /* always pg_catalog.to_timestamp */
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
    suite_add_tcase(s, tc);
    return s;
}
