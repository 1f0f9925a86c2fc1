#include <string.h>

#include "batchview.h"
#include "check_main.h"

/* a batched migration 12300 rows into 30000, 100 rows a batch in 0.04 s */
static store_checkpoint batched(const char *state)
{
    return (store_checkpoint){.revision = "K001", .mode = STORE_MODE_BATCHED, .cursor = "12300",
                              .rows_done = 12300, .total = 30000, .batches = 123, .batch_size = 100,
                              .state = (char *)state, .started_at = "2026-11-28 01:00:00+00",
                              .updated_at = "2026-11-28 01:00:05+00", .started_epoch = 1000,
                              .updated_epoch = 1005, .last_batch_seconds = 0.04, .username = "ann",
                              .hostname = "db1"};
}

START_TEST(paused_is_paused_whatever_else)
{
    store_checkpoint cp = batched(STORE_CP_PAUSED);
    batch_view v;
    batchview_make(&v, &cp, 1, 1, 0);
    ck_assert_str_eq(v.status, "paused");
}
END_TEST

START_TEST(running_is_running_only_while_a_run_holds_the_lock)
{
    store_checkpoint cp = batched(STORE_CP_RUNNING);
    batch_view v;
    batchview_make(&v, &cp, 1, 0, 0);
    ck_assert_str_eq(v.status, "running");
    batchview_make(&v, &cp, 0, 0, 0);
    ck_assert_str_eq(v.status, "interrupted");
    batchview_make(&v, &cp, 0, 1, 0);
    ck_assert_str_eq(v.status, "failed");
}
END_TEST

START_TEST(progress_line_has_percent_batches_size_rate_and_time_left)
{
    store_checkpoint cp = batched(STORE_CP_PAUSED);
    batch_view v;
    batchview_make(&v, &cp, 0, 0, 0);
    ck_assert_double_eq_tol(v.rate, 2500.0, 1e-6);
    ck_assert_double_eq_tol(v.seconds_left, 17700.0 / 2500.0, 1e-6);
    char *s = batchview_progress(&v);
    ck_assert_str_eq(s, "12300 of 30000 rows (41%) in 123 batches, batch size 100, 2500 rows/s, about 8 s left");
    free(s);
    s = batchview_when(&v);
    ck_assert_str_eq(s, "paused at 2026-11-28 01:00:05+00 by ann@db1");
    free(s);
}
END_TEST

START_TEST(the_pause_between_batches_slows_the_pace)
{
    store_checkpoint cp = batched(STORE_CP_RUNNING);
    batch_view v;
    batchview_make(&v, &cp, 1, 0, 0.06);
    ck_assert_double_eq_tol(v.rate, 1000.0, 1e-6);
}
END_TEST

START_TEST(without_a_total_no_percent_and_no_time_left)
{
    store_checkpoint cp = batched(STORE_CP_RUNNING);
    cp.total = -1;
    cp.batches = 1;
    batch_view v;
    batchview_make(&v, &cp, 1, 0, 0);
    ck_assert(v.percent < 0 && v.seconds_left < 0);
    char *s = batchview_progress(&v);
    ck_assert_str_eq(s, "12300 rows in 1 batch, batch size 100, 2500 rows/s");
    free(s);
}
END_TEST

START_TEST(json_is_strict_with_nulls_for_what_is_unknown)
{
    store_checkpoint cp = batched(STORE_CP_RUNNING);
    cp.total = -1;
    cp.last_batch_seconds = -1;
    cp.started_epoch = cp.updated_epoch = 1000;
    batch_view v;
    batchview_make(&v, &cp, 1, 0, 0);
    json js = {0};
    json_obj_open(&js, NULL);
    batchview_json(&js, "progress", &v, 1);
    batchview_json(&js, "none", NULL, 0);
    json_obj_close(&js);
    ck_assert_ptr_nonnull(strstr(js.b.s, "\"total\":null"));
    ck_assert_ptr_nonnull(strstr(js.b.s, "\"percent\":null"));
    ck_assert_ptr_nonnull(strstr(js.b.s, "\"rows_per_second\":null"));
    ck_assert_ptr_nonnull(strstr(js.b.s, "\"seconds_left\":null"));
    ck_assert_ptr_nonnull(strstr(js.b.s, "\"cursor\":\"12300\""));
    ck_assert_ptr_nonnull(strstr(js.b.s, "\"none\":null"));
    ck_assert_ptr_null(strstr(js.b.s, "nan"));
    sbuf_free(&js.b);
}
END_TEST

START_TEST(no_transaction_says_it_runs_again)
{
    store_checkpoint cp = {.revision = "N001", .mode = STORE_MODE_NO_TRANSACTION, .state = STORE_CP_RUNNING,
                           .started_at = "2026-11-28 01:00:00+00", .updated_at = "2026-11-28 01:00:00+00",
                           .total = -1, .last_batch_seconds = -1};
    batch_view v;
    batchview_make(&v, &cp, 0, 0, 0);
    ck_assert_str_eq(v.status, "interrupted");
    char *s = batchview_progress(&v);
    ck_assert_str_eq(s, "no transaction, started 2026-11-28 01:00:00+00 (runs again from the start when interrupted)");
    free(s);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("batchview");
    TCase *tc = tcase_create("batchview");
    ADD(tc, paused_is_paused_whatever_else);
    ADD(tc, running_is_running_only_while_a_run_holds_the_lock);
    ADD(tc, progress_line_has_percent_batches_size_rate_and_time_left);
    ADD(tc, the_pause_between_batches_slows_the_pace);
    ADD(tc, without_a_total_no_percent_and_no_time_left);
    ADD(tc, json_is_strict_with_nulls_for_what_is_unknown);
    ADD(tc, no_transaction_says_it_runs_again);
    suite_add_tcase(s, tc);
    return s;
}
