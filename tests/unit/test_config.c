#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "batchsize.h"
#include "config.h"
#include "util.h"

static int parse(const char *text, const char *section, del_config *c, del_err *e)
{
    return config_parse("delembic.yaml", text, strlen(text), section, "/proj", c, e);
}

START_TEST(good_config_and_sections)
{
    del_config c;
    del_err e;
    const char *text = "delembic:\n  script_location: src\n  database: postgresql://h/db\n"
                       "  alembic_config: alembic.ini\n  jobs: 4\n  statement_timeout: 30s\n"
                       "silver:\n  script_location: /abs/silver\n";
    ck_assert_int_eq(parse(text, NULL, &c, &e), 0);
    ck_assert_str_eq(c.script_location, "/proj/src");
    ck_assert_str_eq(c.build_dir, "/proj/build/migrations");
    ck_assert_str_eq(c.alembic_config, "/proj/alembic.ini");
    ck_assert_str_eq(c.database, "postgresql://h/db");
    ck_assert_int_eq(c.jobs, 4);
    ck_assert_str_eq(c.statement_timeout, "30s");
    config_free(&c);
    ck_assert_int_eq(parse(text, "silver", &c, &e), 0);
    ck_assert_str_eq(c.script_location, "/abs/silver");
    ck_assert_ptr_null(c.database);
    config_free(&c);
}
END_TEST

START_TEST(malformed)
{
    del_config c;
    del_err e;
    ck_assert_int_eq(parse("delembic: [1, 2]\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "must be a mapping"));
    ck_assert_int_eq(parse("delembic:\n  scrpt_location: x\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "delembic.yaml:2:3: unknown field 'scrpt_location'"));
    ck_assert_int_eq(parse("delembic:\n  jobs: lots\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "'jobs'"));
    ck_assert_int_eq(parse("delembic:\n  statement_timeout: 1; DROP TABLE x\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "duration"));
    ck_assert_int_eq(parse("other:\n  database: x\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "no section 'delembic'; sections here: other"));
    ck_assert_int_eq(parse("", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "empty"));
    ck_assert_int_eq(parse("delembic:\n  database: [a]\n", NULL, &c, &e), -1);
    ck_assert_int_eq(parse(": :\n", NULL, &c, &e), -1);
    ck_assert_int_eq(parse("delembic:\n  alembic_version_table: \"x; drop\"\n", NULL, &c, &e), -1);
}
END_TEST

START_TEST(version_table_schema_defaults_to_public_and_takes_any_name)
{
    del_config c;
    del_err e;
    ck_assert_int_eq(parse("delembic:\n  database: x\n", NULL, &c, &e), 0);
    ck_assert_str_eq(c.version_table_schema, "public");
    config_free(&c);
    ck_assert_int_eq(parse("delembic:\n  version_table_schema: 'Ops \"x\"'\n", NULL, &c, &e), 0);
    ck_assert_str_eq(c.version_table_schema, "Ops \"x\"");
    config_free(&c);
    ck_assert_int_eq(parse("delembic:\n  version_table_schema: \"a\\tb\"\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "'version_table_schema'"));
    ck_assert_int_eq(parse("delembic:\n  version_table_schema: "
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                           NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "63 bytes"));
}
END_TEST

START_TEST(timeout_is_a_positive_duration)
{
    del_config c;
    del_err e;
    ck_assert_int_eq(parse("delembic:\n  timeout: 30min\n", NULL, &c, &e), 0);
    ck_assert_str_eq(c.timeout, "30min");
    config_free(&c);
    ck_assert_int_eq(parse("delembic:\n  timeout: soon\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "delembic.yaml:2:12: field 'timeout' must be a duration"));
    ck_assert_int_eq(parse("delembic:\n  timeout: 0s\n", NULL, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "more than zero"));
}
END_TEST

START_TEST(batch_settings_default_and_read)
{
    del_config c;
    del_err e;
    ck_assert_int_eq(parse("delembic:\n  jobs: 1\n", NULL, &c, &e), 0);
    ck_assert(c.batch_target == BATCH_DEFAULT_TARGET_S);
    ck_assert(c.batch_lock_timeout == BATCH_DEFAULT_LOCK_TIMEOUT_S);
    ck_assert_int_eq(c.batch_min, BATCH_DEFAULT_MIN);
    ck_assert_int_eq(c.batch_max, BATCH_DEFAULT_MAX);
    ck_assert(c.batch_pause == 0 && c.max_replication_lag == 0);
    config_free(&c);
    ck_assert_int_eq(parse("base:\n  batch_target: 250ms\n  batch_max: 5000\n"
                           "delembic:\n  extends: base\n  batch_min: 10\n  batch_pause: 1s\n"
                           "  batch_lock_timeout: 3s\n  max_replication_lag: 1min\n",
                           NULL, &c, &e), 0);
    ck_assert(c.batch_target == 0.25 && c.batch_pause == 1 && c.batch_lock_timeout == 3 &&
              c.max_replication_lag == 60);
    ck_assert_int_eq(c.batch_min, 10);
    ck_assert_int_eq(c.batch_max, 5000);
    config_free(&c);
}
END_TEST

START_TEST(bad_batch_settings_name_their_field)
{
    del_config c;
    del_err e;
    const char *bad[][2] = {
        {"delembic:\n  batch_target: soon\n", "field 'batch_target' must be a duration"},
        {"delembic:\n  batch_target: 0s\n", "field 'batch_target' must be more than zero"},
        {"delembic:\n  max_replication_lag: 0\n", "field 'max_replication_lag' must be more than zero"},
        {"delembic:\n  batch_min: 0\n", "batch_min"},
        {"delembic:\n  batch_min: 9\n  batch_max: 8\n", "field 'batch_min' (9) is more than batch_max (8)"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(parse(bad[i][0], NULL, &c, &e), -1);
        ck_assert_msg(strstr(e.msg, bad[i][1]) != NULL, "%s: %s", bad[i][0], e.msg);
    }
}
END_TEST

START_TEST(durations_read_as_postgresql_does)
{
    ck_assert_double_eq(config_duration_seconds("90s"), 90);
    ck_assert_double_eq(config_duration_seconds("30min"), 1800);
    ck_assert_double_eq(config_duration_seconds("1.5 h"), 5400);
    ck_assert_double_eq(config_duration_seconds("2d"), 172800);
    ck_assert_double_eq_tol(config_duration_seconds("1500"), 1.5, 1e-9); /* bare: milliseconds */
    ck_assert_double_eq_tol(config_duration_seconds("250ms"), 0.25, 1e-9);
    ck_assert_double_lt(config_duration_seconds("1.2.3s"), 0);
    ck_assert_double_lt(config_duration_seconds("s"), 0);
    ck_assert_double_lt(config_duration_seconds("5 weeks"), 0);
    ck_assert_double_lt(config_duration_seconds(""), 0);
}
END_TEST

START_TEST(walk_up)
{
    char tmpl[] = "/tmp/delembic-cfg-XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char *cfg = path_join(dir, "delembic.yaml");
    FILE *f = fopen(cfg, "w");
    fputs("delembic:\n  script_location: m\n", f);
    fclose(f);
    char *deep = path_join(dir, "a/b/c");
    del_err e;
    ck_assert_int_eq(mkdir_p(deep, 0755, &e), 0);
    char old[4096];
    ck_assert_ptr_nonnull(getcwd(old, sizeof old));
    ck_assert_int_eq(chdir(deep), 0);
    char *found = config_find(".");
    ck_assert_ptr_nonnull(found);
    ck_assert_str_eq(found, cfg);
    del_config c;
    ck_assert_int_eq(config_load(NULL, NULL, 0, &c, &e), 0);
    char *want = path_join(dir, "m");
    ck_assert_str_eq(c.script_location, want);
    config_free(&c);
    ck_assert_int_eq(config_load("/nonexistent/delembic.yaml", NULL, 0, &c, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "not found"));
    ck_assert_int_eq(chdir(old), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    free(want);
    free(found);
    free(deep);
    free(cfg);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("config");
    ADD(tc, good_config_and_sections);
    ADD(tc, malformed);
    ADD(tc, walk_up);
    ADD(tc, version_table_schema_defaults_to_public_and_takes_any_name);
    ADD(tc, timeout_is_a_positive_duration);
    ADD(tc, durations_read_as_postgresql_does);
    ADD(tc, batch_settings_default_and_read);
    ADD(tc, bad_batch_settings_name_their_field);
    suite_add_tcase(s, tc);
    return s;
}
