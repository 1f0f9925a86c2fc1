/* The SDK reads the host's ctx and function table only as far as their sizes
 * say (plugin.h, "Versions and sizes"). The structs under test are laid at
 * the very end of a page whose next page is unmapped, so a helper that reads
 * one byte past a size crashes the test; the build also runs this under ASan
 * (-Dsanitize_all=true) and valgrind. sdk.c is compiled into this program. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_main.h"
#include "delembic/plugin.h"

/* ---- a fake host: counts calls, keeps the last message ------------------
 * Its functions never read ctx (a test's ctx may end before ctx->host). */
static struct {
    int fails, logs, progresses;
    long long done, total;
    char last[DM_MSG_MAX + 64];
} host;

static void h_fail(dm_ctx *ctx, const char *m)
{
    (void)ctx;
    host.fails++;
    snprintf(host.last, sizeof host.last, "%s", m);
}

static void h_log(dm_ctx *ctx, const char *m)
{
    (void)ctx;
    host.logs++;
    snprintf(host.last, sizeof host.last, "%s", m);
}

static void h_progress(dm_ctx *ctx, long long done, long long total, const char *unit)
{
    (void)ctx;
    (void)unit;
    host.progresses++;
    host.done = done;
    host.total = total;
}

static const dm_host_api full_api = {.abi_version = DM_ABI_VERSION, .size = sizeof(dm_host_api),
                                     .fail = h_fail, .log = h_log, .progress = h_progress};

/* ---- n bytes at the end of a page; the next page is unmapped ------------ */
#define MAX_MAPS 4
static void *maps[MAX_MAPS];
static size_t nmaps;

static void *at_page_end(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    ck_assert_uint_lt(nmaps, MAX_MAPS);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(m, MAP_FAILED);
    ck_assert_int_eq(mprotect(m + page, page, PROT_NONE), 0);
    maps[nmaps++] = m;
    return m + page - n;
}

/* a copy of table api that says it is n bytes, laid at a page end */
static dm_host_api *short_api(size_t n)
{
    dm_host_api *a = at_page_end(n);
    memcpy(a, &full_api, n);
    a->size = (uint32_t)n;
    return a;
}

/* ---- what went to stderr ------------------------------------------------ */
static FILE *cap;
static int saved_stderr = -1;
static char captured[2 * DM_MSG_MAX];

static void capture(void)
{
    fflush(stderr);
    cap = tmpfile();
    ck_assert_ptr_nonnull(cap);
    saved_stderr = dup(2);
    dup2(fileno(cap), 2);
}

static const char *captured_text(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    rewind(cap);
    size_t n = fread(captured, 1, sizeof captured - 1, cap);
    captured[n] = '\0';
    fclose(cap);
    return captured;
}

static void setup(void)
{
    memset(&host, 0, sizeof host);
    nmaps = 0;
}

static void teardown(void)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    while (nmaps)
        munmap(maps[--nmaps], 2 * page);
}

/* a host's ctx for revision R1 with the given table */
static dm_ctx ctx_with(const dm_host_api *api)
{
    dm_ctx c = {.api = api, .size = sizeof(dm_ctx), .revision = "R1", .bundle_dir = "/bundle"};
    return c;
}

START_TEST(has_field_tests_the_end_of_the_field)
{
    struct dm_descriptor d = {.size = 0};
    struct dm_descriptor *none = NULL;
    size_t end = offsetof(struct dm_descriptor, validate) + sizeof d.validate;
    ck_assert_uint_eq(DM_FIELD_END(struct dm_descriptor, validate), end);
    ck_assert_uint_eq(DM_DESCRIPTOR_SIZE_V1, end);
    ck_assert(DM_HAS_FIELD(&d, end, struct dm_descriptor, validate));
    ck_assert(!DM_HAS_FIELD(&d, end - 1, struct dm_descriptor, validate));
    ck_assert(DM_HAS_FIELD(&d, end - 1, struct dm_descriptor, upgrade));
    /* NULL holds nothing, and its size is not read */
    ck_assert(!DM_HAS_FIELD(none, none->size, struct dm_descriptor, abi_version));
}
END_TEST

START_TEST(an_abi_1_host_gets_every_call)
{
    dm_ctx c = ctx_with(&full_api);
    capture();
    ck_assert_int_eq(dm_fail(&c, "bad %d", 7), -1);
    dm_log(&c, "hello %s", "there");
    dm_progress(&c, 5, 10, "rows");
    ck_assert(DM_HOST_HAS(&c, fail) && DM_HOST_HAS(&c, log) && DM_HOST_HAS(&c, progress));
    ck_assert_int_eq(DM_HOST_REQUIRE(&c, progress), 0);
    ck_assert_str_eq(captured_text(), "");
    ck_assert_int_eq(host.fails, 1);
    ck_assert_int_eq(host.logs, 1);
    ck_assert_str_eq(host.last, "hello there");
    ck_assert_int_eq(host.progresses, 1);
    ck_assert_int_eq(host.done, 5);
    char path[64];
    ck_assert_int_eq(dm_path(&c, "data/a.csv", path, sizeof path), 0);
    ck_assert_str_eq(path, "/bundle/data/a.csv");
}
END_TEST

START_TEST(no_ctx_means_stderr)
{
    capture();
    ck_assert_int_eq(dm_fail(NULL, "failed %d", 1), -1);
    dm_log(NULL, "a line");
    dm_progress(NULL, 1, 2, "rows");
    ck_assert(!DM_HOST_HAS((dm_ctx *)NULL, fail));
    ck_assert_int_eq(DM_HOST_REQUIRE((dm_ctx *)NULL, log), -1);
    ck_assert_int_eq(dm_exec(NULL, NULL, "SELECT 1"), -1);
    ck_assert_str_eq(captured_text(),
                     "failed 1\n"
                     "a line\n"
                     "log() needs the delembic host, which this call does not reach (outside a migration)\n"
                     "dm_exec: NULL connection or statement\n");
    char path[64];
    ck_assert_int_eq(dm_path(NULL, "data/a.csv", path, sizeof path), 0);
    ck_assert_str_eq(path, "data/a.csv");
}
END_TEST

START_TEST(a_zeroed_ctx_means_stderr)
{
    dm_ctx z;
    memset(&z, 0, sizeof z);
    capture();
    dm_log(&z, "zeroed");
    ck_assert_int_eq(dm_fail(&z, "zeroed fail"), -1);
    ck_assert(!DM_HOST_HAS(&z, log));
    ck_assert_str_eq(captured_text(), "zeroed\nzeroed fail\n");
}
END_TEST

START_TEST(a_ctx_that_ends_before_bundle_dir_is_read_no_further)
{
    size_t n = offsetof(dm_ctx, bundle_dir);
    dm_ctx *c = at_page_end(n);
    dm_ctx full = ctx_with(&full_api);
    memcpy(c, &full, n);
    c->size = (uint32_t)n;
    char path[64];
    ck_assert_int_eq(dm_path(c, "data/a.csv", path, sizeof path), 0);
    ck_assert_str_eq(path, "data/a.csv");
    ck_assert_int_eq(dm_fail(c, "reached"), -1);
    ck_assert_int_eq(host.fails, 1);
    ck_assert_str_eq(host.last, "reached");
}
END_TEST

START_TEST(a_ctx_that_ends_before_revision_is_read_no_further)
{
    /* with a table that has no log, so the line goes to stderr, where it
     * would be prefixed with the revision if the ctx had one */
    const dm_host_api *api = short_api(offsetof(dm_host_api, log));
    size_t n = offsetof(dm_ctx, revision);
    dm_ctx *c = at_page_end(n);
    dm_ctx full = ctx_with(api);
    memcpy(c, &full, n);
    c->size = (uint32_t)n;
    capture();
    dm_log(c, "no prefix");
    ck_assert_str_eq(captured_text(), "no prefix\n");
}
END_TEST

START_TEST(a_table_that_ends_after_fail_degrades)
{
    dm_ctx c = ctx_with(short_api(offsetof(dm_host_api, log)));
    capture();
    ck_assert_int_eq(dm_fail(&c, "still %s", "reached"), -1);
    dm_log(&c, "to stderr");
    dm_progress(&c, 1, 2, "rows");
    ck_assert(DM_HOST_HAS(&c, fail));
    ck_assert(!DM_HOST_HAS(&c, log));
    ck_assert(!DM_HOST_HAS(&c, progress));
    ck_assert_str_eq(captured_text(), "R1: to stderr\n");
    ck_assert_int_eq(host.fails, 1);
    ck_assert_str_eq(host.last, "still reached");
    ck_assert_int_eq(host.logs, 0);
    ck_assert_int_eq(host.progresses, 0);
}
END_TEST

START_TEST(a_missing_host_function_fails_naming_it)
{
    size_t n = offsetof(dm_host_api, log);
    dm_ctx c = ctx_with(short_api(n));
    capture();
    ck_assert_int_eq(DM_HOST_REQUIRE(&c, progress), -1);
    ck_assert_str_eq(captured_text(), ""); /* the host's fail() carries it */
    char want[256];
    snprintf(want, sizeof want,
             "this delembic's host API has no progress() (its table is %zu bytes, progress() needs %zu): upgrade delembic to run this migration",
             n, DM_FIELD_END(dm_host_api, progress));
    ck_assert_int_eq(host.fails, 1);
    ck_assert_str_eq(host.last, want);
}
END_TEST

START_TEST(a_table_without_functions_is_no_host)
{
    size_t n = offsetof(dm_host_api, fail);
    dm_ctx c = ctx_with(short_api(n));
    capture();
    ck_assert_int_eq(dm_fail(&c, "nobody home"), -1);
    ck_assert_int_eq(DM_HOST_REQUIRE(&c, log), -1);
    char want[512];
    snprintf(want, sizeof want,
             "R1: nobody home\n"
             "R1: this delembic's host API has no log() (its table is %zu bytes, log() needs %zu): upgrade delembic to run this migration\n",
             n, DM_FIELD_END(dm_host_api, log));
    ck_assert_str_eq(captured_text(), want);
    ck_assert_int_eq(host.fails, 0);
}
END_TEST

START_TEST(a_table_of_another_abi_is_not_used)
{
    dm_host_api other = full_api;
    other.abi_version = DM_ABI_VERSION + 1;
    dm_ctx c = ctx_with(&other);
    capture();
    dm_log(&c, "not through the table");
    ck_assert_int_eq(DM_HOST_REQUIRE(&c, log), -1);
    char want[512];
    snprintf(want, sizeof want,
             "R1: not through the table\n"
             "R1: the host's function table is of ABI %u, this plugin's SDK of ABI %u: rebuild the plugin against this delembic's SDK\n",
             DM_ABI_VERSION + 1, DM_ABI_VERSION);
    ck_assert_str_eq(captured_text(), want);
    ck_assert_int_eq(host.logs + host.fails, 0);
}
END_TEST

START_TEST(a_null_function_in_the_table_is_missing)
{
    dm_host_api holes = full_api;
    holes.log = NULL;
    dm_ctx c = ctx_with(&holes);
    capture();
    dm_log(&c, "hole");
    ck_assert_str_eq(captured_text(), "R1: hole\n");
    ck_assert_int_eq(DM_HOST_REQUIRE(&c, log), -1);
    ck_assert_str_eq(host.last,
                     "this delembic's host API has no log() (it is NULL in its table): upgrade delembic to run this migration");
}
END_TEST

START_TEST(messages_are_cut_at_dm_msg_max)
{
    dm_ctx c = ctx_with(&full_api);
    char *big = malloc(2 * DM_MSG_MAX);
    memset(big, 'x', 2 * DM_MSG_MAX - 1);
    big[2 * DM_MSG_MAX - 1] = '\0';
    dm_fail(&c, "%s", big);
    ck_assert_uint_eq(strlen(host.last), DM_MSG_MAX - 1);
    dm_log(&c, "%s", big);
    ck_assert_uint_eq(strlen(host.last), DM_MSG_MAX - 1);
    free(big);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("sdk");
    TCase *tc = tcase_create("sizes");
    tcase_add_checked_fixture(tc, setup, teardown);
    ADD(tc, has_field_tests_the_end_of_the_field);
    ADD(tc, an_abi_1_host_gets_every_call);
    ADD(tc, no_ctx_means_stderr);
    ADD(tc, a_zeroed_ctx_means_stderr);
    ADD(tc, a_ctx_that_ends_before_bundle_dir_is_read_no_further);
    ADD(tc, a_ctx_that_ends_before_revision_is_read_no_further);
    ADD(tc, a_table_that_ends_after_fail_degrades);
    ADD(tc, a_missing_host_function_fails_naming_it);
    ADD(tc, a_table_without_functions_is_no_host);
    ADD(tc, a_table_of_another_abi_is_not_used);
    ADD(tc, a_null_function_in_the_table_is_missing);
    ADD(tc, messages_are_cut_at_dm_msg_max);
    suite_add_tcase(s, tc);
    return s;
}
