#include <string.h>

#include "check_main.h"
#include "txwatch.h"

/* Feed a sequence of results: "tag" for a command that completed, "!msg"
 * for a server error, "~" for a reset (read-only), "~rw" for a reset that
 * stayed read-write, "^rw" for default_transaction_read_only reported off. */
static txwatch run(const char *const *steps)
{
    txwatch w;
    memset(&w, 0, sizeof w);
    txwatch_begin(&w);
    for (; *steps; steps++) {
        const char *s = *steps;
        if (s[0] == '!')
            txwatch_error(&w, s + 1);
        else if (!strcmp(s, "~"))
            txwatch_reset(&w, 1);
        else if (!strcmp(s, "~rw"))
            txwatch_reset(&w, 0);
        else if (!strcmp(s, "^rw"))
            txwatch_read_write(&w);
        else
            txwatch_ok(&w, s);
    }
    return w;
}

#define STEPS(...) ((const char *const[]){__VA_ARGS__, NULL})

START_TEST(plain_work_stays_inside)
{
    txwatch w = run(STEPS("SET", "INSERT 0 1", "SELECT 1", "UPDATE 3", "COPY 10", "BEGIN", "CREATE TABLE"));
    ck_assert(!w.outside);
    ck_assert(!w.may_commit);
}
END_TEST

START_TEST(savepoints_keep_the_transaction)
{
    txwatch w = run(STEPS("SAVEPOINT", "!division by zero", "ROLLBACK", "INSERT 0 1", "RELEASE"));
    ck_assert(!w.outside);
    ck_assert(!w.errored);
}
END_TEST

START_TEST(refused_commit_then_batches_in_a_read_only_session)
{
    /* BEGIN; INSERT; COMMIT (refused) x 3, the later ones failing read-only */
    txwatch w = run(STEPS("BEGIN", "INSERT 0 1", "!a migration may not COMMIT: the host commits", "BEGIN",
                          "!cannot execute INSERT in a read-only transaction",
                          "!current transaction is aborted"));
    ck_assert(w.outside);
    ck_assert(!w.may_commit);
    ck_assert_str_eq(w.ended_by, "its COMMIT failed: a migration may not COMMIT: the host commits");
}
END_TEST

START_TEST(batches_in_read_write_transactions_may_commit)
{
    txwatch w = run(STEPS("BEGIN", "INSERT 0 1", "!refused", "BEGIN", "INSERT 0 1", "COMMIT"));
    ck_assert(w.outside);
    ck_assert(w.may_commit);
}
END_TEST

START_TEST(empty_own_transaction_commits_nothing)
{
    txwatch w = run(STEPS("ROLLBACK", "BEGIN", "COMMIT", "SHOW", "SET"));
    ck_assert(w.outside);
    ck_assert(!w.may_commit);
}
END_TEST

START_TEST(autocommit_needs_a_read_write_session)
{
    txwatch w = run(STEPS("ROLLBACK", "BEGIN", "ROLLBACK", "SELECT 1"));
    ck_assert(!w.may_commit);
    w = run(STEPS("ROLLBACK", "ROLLBACK", "SET", "INSERT 0 1"));
    ck_assert(w.may_commit);
    w = run(STEPS("ROLLBACK", "SELECT 1", "^rw", "INSERT 0 1"));
    ck_assert(w.may_commit);
}
END_TEST

START_TEST(chained_transaction_commits_only_with_commit)
{
    txwatch w = run(STEPS("ROLLBACK", "INSERT 0 1"));
    ck_assert(w.outside);
    ck_assert(!w.may_commit);
    w = run(STEPS("ROLLBACK", "INSERT 0 1", "BEGIN", "COMMIT"));
    ck_assert(w.may_commit);
}
END_TEST

START_TEST(commit_past_the_guard_has_committed)
{
    txwatch w = run(STEPS("INSERT 0 1", "SET", "COMMIT"));
    ck_assert(w.outside);
    ck_assert(w.may_commit);
    ck_assert_str_eq(w.ended_by, "it ran COMMIT");
    w = run(STEPS("PREPARE TRANSACTION"));
    ck_assert(w.may_commit);
}
END_TEST

START_TEST(failed_statement_then_rollback)
{
    txwatch w = run(STEPS("!syntax error", "ROLLBACK"));
    ck_assert(w.outside);
    ck_assert(!w.may_commit);
    ck_assert_str_eq(w.ended_by, "a statement failed (syntax error), then it ran ROLLBACK");
}
END_TEST

START_TEST(refused_commit_alone_ends_at_idle)
{
    txwatch w = run(STEPS("INSERT 0 1", "!a migration may not COMMIT"));
    ck_assert(!w.outside);
    txwatch_idle(&w);
    ck_assert(w.outside);
    ck_assert(!w.may_commit);
    ck_assert_str_eq(w.ended_by, "its COMMIT failed: a migration may not COMMIT");
}
END_TEST

START_TEST(reset_connection)
{
    txwatch w = run(STEPS("INSERT 0 1", "~", "INSERT 0 1"));
    ck_assert(w.reset && w.outside);
    ck_assert(!w.may_commit);
    w = run(STEPS("~rw", "INSERT 0 1"));
    ck_assert(w.may_commit);
    w = run(STEPS("~", "SET", "INSERT 0 1"));
    ck_assert(w.may_commit);
}
END_TEST

START_TEST(session_state_is_kept_across_migrations)
{
    txwatch w;
    memset(&w, 0, sizeof w);
    txwatch_begin(&w);
    txwatch_ok(&w, "LISTEN");
    txwatch_ok(&w, "DEALLOCATE ALL");
    txwatch_ok(&w, "ROLLBACK");
    txwatch_begin(&w);
    ck_assert(w.suspect && w.host_objects);
    ck_assert(!w.outside);
    txwatch_ok(&w, "");
    ck_assert(!w.outside);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("txwatch");
    TCase *tc = tcase_create("txwatch");
    ADD(tc, plain_work_stays_inside);
    ADD(tc, savepoints_keep_the_transaction);
    ADD(tc, refused_commit_then_batches_in_a_read_only_session);
    ADD(tc, batches_in_read_write_transactions_may_commit);
    ADD(tc, empty_own_transaction_commits_nothing);
    ADD(tc, autocommit_needs_a_read_write_session);
    ADD(tc, chained_transaction_commits_only_with_commit);
    ADD(tc, commit_past_the_guard_has_committed);
    ADD(tc, failed_statement_then_rollback);
    ADD(tc, refused_commit_alone_ends_at_idle);
    ADD(tc, reset_connection);
    ADD(tc, session_state_is_kept_across_migrations);
    suite_add_tcase(s, tc);
    return s;
}
