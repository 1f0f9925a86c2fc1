#include "check_main.h"
#include "pace.h"

START_TEST(no_rate_before_the_minimum_time)
{
    pace p = {0};
    ck_assert(pace_rate(&p) < 0);
    pace_sample(&p, 100.0, 0);
    pace_sample(&p, 100.0 + PACE_MIN_SECONDS / 2, 500);
    ck_assert(pace_rate(&p) < 0);
}
END_TEST

START_TEST(rate_counts_from_the_first_sample)
{
    pace p = {0};
    pace_sample(&p, 10.0, 4000); /* a resumed run: 4000 done before it */
    pace_sample(&p, 12.0, 5000);
    ck_assert_double_eq_tol(pace_rate(&p), 500.0, 1e-9);
}
END_TEST

START_TEST(going_backwards_starts_again)
{
    pace p = {0};
    pace_sample(&p, 0.0, 0);
    pace_sample(&p, 5.0, 5000);
    pace_sample(&p, 6.0, 10); /* another migration, or a new COPY */
    ck_assert(pace_rate(&p) < 0);
    pace_sample(&p, 8.0, 210);
    ck_assert_double_eq_tol(pace_rate(&p), 100.0, 1e-9);
}
END_TEST

START_TEST(nothing_done_has_no_rate)
{
    pace p = {0};
    pace_sample(&p, 0.0, 7);
    pace_sample(&p, 60.0, 7);
    ck_assert(pace_rate(&p) < 0);
}
END_TEST

START_TEST(percent_is_clamped_and_unknown_without_total)
{
    ck_assert_double_eq_tol(pace_percent(25, 100), 25.0, 1e-9);
    ck_assert_double_eq_tol(pace_percent(150, 100), 100.0, 1e-9); /* an estimated total passed */
    ck_assert(pace_percent(5, 0) < 0);
    ck_assert(pace_percent(5, -1) < 0);
}
END_TEST

START_TEST(eta_is_what_is_left_over_the_rate)
{
    ck_assert_double_eq_tol(pace_eta(250, 1000, 50.0), 15.0, 1e-9);
    ck_assert_double_eq_tol(pace_eta(1000, 1000, -1), 0.0, 1e-9);
    ck_assert(pace_eta(10, 1000, -1) < 0);
    ck_assert(pace_eta(10, 0, 50.0) < 0);
    ck_assert(pace_eta(10, -1, 50.0) < 0);
}
END_TEST

START_TEST(checkpoint_rate_from_the_latest_batch_then_the_elapsed_time)
{
    /* 1000 rows in 0.4 s plus a 0.1 s pause: 2000 rows/s, whatever the elapsed time */
    ck_assert_double_eq_tol(pace_checkpoint_rate(50000, 0, 86400, 1000, 0.4, 0.1), 2000.0, 1e-9);
    /* no batch time: rows over the time between the first and the latest batch */
    ck_assert_double_eq_tol(pace_checkpoint_rate(3000, 100, 110, 1000, -1, 0), 300.0, 1e-9);
    ck_assert(pace_checkpoint_rate(0, 100, 100, 0, -1, 0) < 0);
}
END_TEST

START_TEST(time_left_in_words)
{
    char b[64];
    pace_format_left(4.2, b, sizeof b);
    ck_assert_str_eq(b, "5 s");
    pace_format_left(0, b, sizeof b);
    ck_assert_str_eq(b, "0 s");
    pace_format_left(59.5, b, sizeof b);
    ck_assert_str_eq(b, "1 min");
    pace_format_left(185, b, sizeof b);
    ck_assert_str_eq(b, "4 min");
    pace_format_left(2 * 3600 + 5 * 60, b, sizeof b);
    ck_assert_str_eq(b, "2 h 05 min");
    pace_format_left(3 * 86400 + 4 * 3600, b, sizeof b);
    ck_assert_str_eq(b, "3 d 04 h");
    pace_format_left(-1, b, sizeof b);
    ck_assert_str_eq(b, "unknown");
    pace_format_left(PACE_LEFT_MAX_SECONDS * 2, b, sizeof b);
    ck_assert_str_eq(b, "unknown");
}
END_TEST

START_TEST(amounts_and_rates_with_their_units)
{
    char b[64];
    pace_format_amount(1234567, "rows", b, sizeof b);
    ck_assert_str_eq(b, "1234567 rows");
    pace_format_amount(12345678, "bytes", b, sizeof b);
    ck_assert_str_eq(b, "12.3 MB");
    pace_format_amount(999, "bytes", b, sizeof b);
    ck_assert_str_eq(b, "999 B");
    pace_format_amount(3, "", b, sizeof b);
    ck_assert_str_eq(b, "3");
    pace_format_rate(2345.4, "rows", b, sizeof b);
    ck_assert_str_eq(b, "2345 rows/s");
    pace_format_rate(8.1e6, "bytes", b, sizeof b);
    ck_assert_str_eq(b, "8.1 MB/s");
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("pace");
    TCase *tc = tcase_create("pace");
    ADD(tc, no_rate_before_the_minimum_time);
    ADD(tc, rate_counts_from_the_first_sample);
    ADD(tc, going_backwards_starts_again);
    ADD(tc, nothing_done_has_no_rate);
    ADD(tc, percent_is_clamped_and_unknown_without_total);
    ADD(tc, eta_is_what_is_left_over_the_rate);
    ADD(tc, checkpoint_rate_from_the_latest_batch_then_the_elapsed_time);
    ADD(tc, time_left_in_words);
    ADD(tc, amounts_and_rates_with_their_units);
    suite_add_tcase(s, tc);
    return s;
}
