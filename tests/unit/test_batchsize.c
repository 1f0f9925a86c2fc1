#include "batchsize.h"
#include "check_main.h"

static batch_policy policy(long long min, long long max)
{
    batch_policy p;
    batch_policy_default(&p);
    p.min = min;
    p.max = max;
    return p;
}

START_TEST(first_batch_starts_at_the_start_size_within_bounds)
{
    batch_policy p = policy(10, 100000);
    ck_assert_int_eq(batch_first_size(&p, 0), BATCH_START_SIZE);
    p = policy(5000, 100000);
    ck_assert_int_eq(batch_first_size(&p, 0), 5000);
    p = policy(10, 50);
    ck_assert_int_eq(batch_first_size(&p, 0), 50);
}
END_TEST

START_TEST(first_batch_resumes_at_the_saved_size)
{
    batch_policy p = policy(10, 100000);
    ck_assert_int_eq(batch_first_size(&p, 4321), 4321);
    ck_assert_int_eq(batch_first_size(&p, 999999), 100000);
}
END_TEST

START_TEST(fast_batches_grow_at_most_twice)
{
    batch_policy p = policy(10, 100000);
    ck_assert_int_eq(batch_next_size(&p, 1000, 0.01), 2000);
    ck_assert_int_eq(batch_next_size(&p, 1000, 0), 2000);
    ck_assert_int_eq(batch_next_size(&p, 1000, 0.4), 1250);
}
END_TEST

START_TEST(slow_batches_shrink_at_most_by_half)
{
    batch_policy p = policy(10, 100000);
    ck_assert_int_eq(batch_next_size(&p, 1000, 10.0), 500);
    ck_assert_int_eq(batch_next_size(&p, 1000, 0.625), 800);
}
END_TEST

START_TEST(sizes_stay_within_min_and_max)
{
    batch_policy p = policy(300, 1500);
    ck_assert_int_eq(batch_next_size(&p, 1000, 0.01), 1500);
    ck_assert_int_eq(batch_next_size(&p, 400, 10.0), 300);
}
END_TEST

START_TEST(backoff_doubles_up_to_its_limit)
{
    ck_assert(batch_backoff_seconds(1) == BATCH_BACKOFF_FIRST_S);
    ck_assert(batch_backoff_seconds(2) == 2 * BATCH_BACKOFF_FIRST_S);
    ck_assert(batch_backoff_seconds(100) == BATCH_BACKOFF_MAX_S);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("batchsize");
    TCase *tc = tcase_create("batchsize");
    ADD(tc, first_batch_starts_at_the_start_size_within_bounds);
    ADD(tc, first_batch_resumes_at_the_saved_size);
    ADD(tc, fast_batches_grow_at_most_twice);
    ADD(tc, slow_batches_shrink_at_most_by_half);
    ADD(tc, sizes_stay_within_min_and_max);
    ADD(tc, backoff_doubles_up_to_its_limit);
    suite_add_tcase(s, tc);
    return s;
}
