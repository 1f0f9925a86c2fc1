#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_main.h"
#include "manifest.h"

#define SHA "5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c"

static const char *good =
    "format: 1\nabi: 1\nmigrations:\n"
    "  - revision: D001\n    file: D001_load.so\n    sha256: " SHA "\n"
    "    description: 'Load: vocabulary \"tables\"'\n    depends_on: [3d1e3e6abc12]\n    alembic: [3d1e3e6abc12]\n"
    "  - revision: D002\n    file: D002.so\n    sha256: " SHA "\n    depends_on: [D001]\n"
    "alembic:\n  version_table: alembic_version\n  graph:\n    3d1e3e6abc12: [9a0b1c2d3e4f]\n    9a0b1c2d3e4f: []\n";

START_TEST(parse_and_round_trip)
{
    manifest mf, again;
    del_err e;
    ck_assert_int_eq(manifest_parse("m.yaml", good, strlen(good), &mf, &e), 0);
    ck_assert_int_eq(mf.n, 2);
    ck_assert_str_eq(mf.m[0].description, "Load: vocabulary \"tables\"");
    ck_assert_int_eq(mf.graph.n, 2);
    char *text;
    size_t len;
    ck_assert_int_eq(manifest_emit(&mf, &text, &len, &e), 0);
    ck_assert_int_eq(manifest_parse("again", text, len, &again, &e), 0);
    ck_assert_int_eq(again.n, 2);
    ck_assert_str_eq(again.m[0].description, mf.m[0].description);
    ck_assert_str_eq(again.m[1].depends_on.v[0], "D001");
    ck_assert_str_eq(again.graph.nodes[0].down.v[0], "9a0b1c2d3e4f");
    free(text);
    manifest_free(&again);
    manifest_free(&mf);
}
END_TEST

static void refused(const char *text, const char *needle)
{
    manifest mf;
    del_err e;
    ck_assert_msg(manifest_parse("m.yaml", text, strlen(text), &mf, &e) == -1, "accepted: %s", text);
    ck_assert_msg(strstr(e.msg, needle) != NULL, "message '%s' lacks '%s'", e.msg, needle);
}

START_TEST(refusals)
{
    refused("", "empty");
    refused("format: 2\nabi: 1\nmigrations: []\n", "format 2");
    refused("abi: 1\nmigrations: []\n", "'format'");
    refused("format: 1\nabi: 1\nmigrations: []\nextra: 1\n", "unknown field 'extra'");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: ../x.so\n    sha256: " SHA "\n", "must be a .so name");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: x.so\n    sha256: abc\n", "64 lowercase hex");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: x.so\n", "'sha256'");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: x.so\n    sha256: " SHA "\n"
            "  - revision: D1\n    file: y.so\n    sha256: " SHA "\n", "listed twice");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: x.so\n    sha256: " SHA "\n"
            "  - revision: D2\n    file: x.so\n    sha256: " SHA "\n", "listed for both");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D 1\n    file: x.so\n    sha256: " SHA "\n", "not a valid revision");
    refused("format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: x.so\n    sha256: " SHA "\n    alembic: [zz]\n", "not in its depends_on");
    refused("format: 1\nabi: 1\nmigrations: []\nalembic:\n  graph:\n    a: [b]\n", "no script defines");
    refused("format: 1\nabi: 1\nmigrations: []\nalembic:\n  graph:\n    a: [b]\n    b: [a]\n", "cycle");
    refused("format: 1\nabi: 1\nmigrations: {}\n", "must be a list");
    refused("format: one\nabi: 1\nmigrations: []\n", "whole number");
}
END_TEST

START_TEST(cache_round_trip_and_corruption)
{
    char tmpl[] = "/tmp/delembic-mcache-XXXXXX";
    char *dir = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(dir);
    char *cache = path_join(dir, "cache");
    setenv("DELEMBIC_CACHE_DIR", cache, 1);
    char *mpath = path_join(dir, "manifest.yaml");
    FILE *f = fopen(mpath, "w");
    fputs(good, f);
    fclose(f);
    manifest a, b;
    del_err e;
    ck_assert_int_eq(manifest_load(dir, &a, &e), 0); /* parsed, cached */
    ck_assert_int_eq(manifest_load(dir, &b, &e), 0); /* from the cache */
    ck_assert_int_eq(a.n, b.n);
    ck_assert_str_eq(b.m[0].description, a.m[0].description);
    ck_assert_str_eq(b.m[1].depends_on.v[0], "D001");
    ck_assert_int_eq(b.graph.n, 2);
    ck_assert_int_eq(manifest_find(&b, "D002"), 1);
    manifest_free(&b);
    /* a damaged cache file is ignored */
    char cmd[512];
    snprintf(cmd, sizeof cmd, "for f in '%s'/*.bin; do head -c 60 \"$f\" > \"$f.x\" && mv \"$f.x\" \"$f\"; done", cache);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert_int_eq(manifest_load(dir, &b, &e), 0);
    ck_assert_int_eq(b.n, 2);
    manifest_free(&b);
    manifest_free(&a);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
    unsetenv("DELEMBIC_CACHE_DIR");
    free(cache);
    free(mpath);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    ADD(tc, parse_and_round_trip);
    ADD(tc, refusals);
    ADD(tc, cache_round_trip_and_corruption);
    suite_add_tcase(s, tc);
    return s;
}
