#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "manifest.h"
#include "manifest_cache.h"

/* the manifest cache's folder the tests use (the CLI passes DELEMBIC_CACHE_DIR's) */
static const char *test_cache;

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

#define LIBS_HEAD "format: 1\nabi: 1\nmigrations:\n  - revision: D1\n    file: D1.so\n    sha256: " SHA "\nlibraries:\n"

START_TEST(libraries_parse_round_trip_and_cache)
{
    const char *text = LIBS_HEAD "  - file: lib/libfoo.so.1\n    sha256: " SHA "\n"
                                 "  - {file: libbar.so, sha256: " SHA "}\n";
    manifest mf, again;
    del_err e;
    ck_assert_msg(manifest_parse("m.yaml", text, strlen(text), &mf, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(mf.nlibs, 2);
    ck_assert_str_eq(mf.libs[0].file, "lib/libfoo.so.1");
    ck_assert_int_eq(manifest_find_library(&mf, "libfoo.so.1"), 0);
    ck_assert_int_eq(manifest_find_library(&mf, "libbar.so"), 1);
    ck_assert_int_eq(manifest_find_library(&mf, "lib/libfoo.so.1"), -1);
    ck_assert_int_eq(manifest_check_values(&mf), 0);
    char *out;
    size_t len;
    ck_assert_int_eq(manifest_emit(&mf, &out, &len, &e), 0);
    ck_assert_ptr_nonnull(strstr(out, "libraries:\n- file: lib/libfoo.so.1\n  sha256: " SHA "\n"));
    ck_assert_int_eq(manifest_parse("again", out, len, &again, &e), 0);
    ck_assert_int_eq(again.nlibs, 2);
    ck_assert_str_eq(again.libs[1].file, "libbar.so");
    manifest_free(&again);
    /* through the cache */
    char tmpl[] = "/tmp/delembic-mlib-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(tmpl));
    test_cache = tmpl;
    manifest_cache_store(test_cache, out, len, &mf);
    ck_assert_int_eq(manifest_cache_load(test_cache, out, len, "m.yaml", &again), 0);
    ck_assert_int_eq(again.nlibs, 2);
    ck_assert_str_eq(again.libs[0].sha256, SHA);
    manifest_free(&again);
    test_cache = NULL;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    ck_assert_int_eq(system(cmd), 0);
    free(out);
    manifest_free(&mf);
}
END_TEST

START_TEST(libraries_refusals)
{
    refused(LIBS_HEAD "  - file: ../libx.so\n    sha256: " SHA "\n", "inside the bundle");
    refused(LIBS_HEAD "  - file: /usr/lib/libx.so\n    sha256: " SHA "\n", "inside the bundle");
    refused(LIBS_HEAD "  - file: lib/./libx.so\n    sha256: " SHA "\n", "inside the bundle");
    refused(LIBS_HEAD "  - file: lib//libx.so\n    sha256: " SHA "\n", "inside the bundle");
    refused(LIBS_HEAD "  - file: lib/\n    sha256: " SHA "\n", "inside the bundle");
    refused(LIBS_HEAD "  - file: lib/libx.txt\n    sha256: " SHA "\n", "inside the bundle");
    refused(LIBS_HEAD "  - file: lib/libx.so\n    sha256: abc\n", "64 lowercase hex");
    refused(LIBS_HEAD "  - file: lib/libx.so\n", "required field 'sha256'");
    refused(LIBS_HEAD "  - file: lib/libx.so\n    sha256: " SHA "\n    soname: x\n", "unknown field 'soname'");
    refused(LIBS_HEAD "  - file: a/libx.so\n    sha256: " SHA "\n  - file: b/libx.so\n    sha256: " SHA "\n",
            "same soname");
    refused(LIBS_HEAD "  - file: lib/D1.so\n    sha256: " SHA "\n", "name of a migration's file");
    refused(LIBS_HEAD "  x: 1\n", "must be a list");
}
END_TEST

/* A bundle folder holding manifest.yaml as delembic writes it (the emitter's
 * text of `good`), and a cache folder for it. */
typedef struct cache_fixture {
    char root[64];
    char *cache, *mpath, *text;
    size_t len;
} cache_fixture;

static void fixture_open(cache_fixture *fx)
{
    snprintf(fx->root, sizeof fx->root, "/tmp/delembic-mcache-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(fx->root));
    fx->cache = path_join(fx->root, "cache");
    test_cache = fx->cache;
    manifest mf;
    del_err e;
    ck_assert_int_eq(manifest_parse("m.yaml", good, strlen(good), &mf, &e), 0);
    ck_assert_int_eq(manifest_emit(&mf, &fx->text, &fx->len, &e), 0);
    manifest_free(&mf);
    fx->mpath = path_join(fx->root, "manifest.yaml");
    ck_assert_int_eq(write_file_atomic(fx->mpath, fx->text, fx->len, 0644, &e), 0);
}

static void fixture_close(cache_fixture *fx)
{
    char cmd[256];
    snprintf(cmd, sizeof cmd, "chmod -R u+rwx '%s'; rm -rf '%s'", fx->root, fx->root);
    ck_assert_int_eq(system(cmd), 0);
    test_cache = NULL;
    free(fx->cache);
    free(fx->mpath);
    free(fx->text);
}

/* Path of the one cache entry (malloc'd), or NULL. */
static char *entry_path(const cache_fixture *fx)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls '%s'/*.bin 2>/dev/null", fx->cache);
    FILE *p = popen(cmd, "r");
    char line[512] = "";
    char *got = fgets(line, sizeof line, p) ? xstrndup(line, strcspn(line, "\n")) : NULL;
    pclose(p);
    return got;
}

/* Whether the cache gives an answer for the fixture's manifest. */
static int cache_hit(const cache_fixture *fx)
{
    manifest mf;
    if (manifest_cache_load(test_cache, fx->text, fx->len, fx->mpath, &mf) != 0)
        return 0;
    manifest_free(&mf);
    return 1;
}

static void sh(const char *fmt, const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

START_TEST(cache_round_trip)
{
    cache_fixture fx;
    fixture_open(&fx);
    manifest a, b;
    del_err e;
    ck_assert_int_eq(cache_hit(&fx), 0);
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &a, &e), 0); /* parsed, cached */
    ck_assert_int_eq(cache_hit(&fx), 1);
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &b, &e), 0); /* from the cache */
    ck_assert_int_eq(a.n, b.n);
    ck_assert_str_eq(b.path, a.path);
    ck_assert_str_eq(b.m[0].description, a.m[0].description);
    ck_assert_str_eq(b.m[0].sha256, SHA);
    ck_assert_str_eq(b.m[1].depends_on.v[0], "D001");
    ck_assert_str_eq(b.m[0].alembic.v[0], "3d1e3e6abc12");
    ck_assert_int_eq(b.graph.n, 2);
    ck_assert_int_eq(manifest_find(&b, "D002"), 1);
    manifest_free(&b);
    manifest_free(&a);
    /* the folders it made are 0700, the entry 0600 */
    struct stat st;
    ck_assert_int_eq(stat(fx.cache, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    char *entry = entry_path(&fx);
    ck_assert_ptr_nonnull(entry);
    ck_assert_int_eq(stat(entry, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    free(entry);
    fixture_close(&fx);
}
END_TEST

START_TEST(cache_damaged_entry_is_ignored)
{
    cache_fixture fx;
    fixture_open(&fx);
    manifest mf;
    del_err e;
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
    manifest_free(&mf);
    char *entry = entry_path(&fx);
    sh("head -c 60 '%s' > '%s.x'", entry, entry);
    sh("mv '%s.x' '%s'", entry, entry);
    ck_assert_int_eq(cache_hit(&fx), 0);
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
    ck_assert_int_eq(mf.n, 2);
    manifest_free(&mf);
    free(entry);
    fixture_close(&fx);
}
END_TEST

/* An entry whose text matches but whose content does not: it says another
 * sha256 than the manifest does. */
START_TEST(cache_entry_that_disagrees_with_the_text_is_ignored)
{
    cache_fixture fx;
    fixture_open(&fx);
    manifest mf;
    del_err e;
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
    manifest_free(&mf);
    char *entry = entry_path(&fx);
    ck_assert_int_eq(cache_hit(&fx), 1);
    /* every copy of the digest in the entry */
    sh("sed -i 's/" SHA "/%s/g' '%s'", "0000000000000000000000000000000000000000000000000000000000000000", entry);
    ck_assert_int_eq(cache_hit(&fx), 0);
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
    ck_assert_str_eq(mf.m[0].sha256, SHA);
    manifest_free(&mf);
    free(entry);
    fixture_close(&fx);
}
END_TEST

/* Values YAML reads as null when plain are written quoted, so they read back
 * as they are, from the text and from the cache alike. */
START_TEST(null_like_values_round_trip)
{
    cache_fixture fx;
    fixture_open(&fx);
    manifest mf, again;
    del_err e;
    ck_assert_int_eq(manifest_parse("m.yaml", fx.text, fx.len, &mf, &e), 0);
    const char *values[] = {"null", "~", "NULL", ""};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        free(mf.m[1].description);
        mf.m[1].description = xstrdup(values[i]);
        free(mf.version_table);
        mf.version_table = xstrdup(values[i]);
        char *text;
        size_t len;
        ck_assert_int_eq(manifest_emit(&mf, &text, &len, &e), 0);
        ck_assert_int_eq(manifest_parse("m.yaml", text, len, &again, &e), 0);
        ck_assert_str_eq(again.m[1].description, values[i]);
        ck_assert_str_eq(again.version_table, values[i]);
        manifest_free(&again);
        manifest_cache_store(test_cache, text, len, &mf);
        ck_assert_int_eq(manifest_cache_load(test_cache, text, len, "m.yaml", &again), 0);
        ck_assert_str_eq(again.m[1].description, values[i]);
        manifest_free(&again);
        free(text);
    }
    manifest_free(&mf);
    fixture_close(&fx);
}
END_TEST

/* A hand-written manifest (a vendor's) is cached too, bound to its text by
 * SHA-256: one changed byte and the entry no longer answers. */
START_TEST(cache_holds_any_manifest_bound_to_its_text)
{
    cache_fixture fx;
    fixture_open(&fx);
    ck_assert_int_eq(write_file_atomic(fx.mpath, good, strlen(good), 0644, NULL), 0);
    manifest mf, again;
    del_err e;
    ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
    ck_assert_int_eq(mf.n, 2);
    char *entry = entry_path(&fx);
    ck_assert_ptr_nonnull(entry);
    ck_assert_int_eq(manifest_cache_load(test_cache, good, strlen(good), "m.yaml", &again), 0);
    ck_assert_int_eq(again.n, 2);
    ck_assert_str_eq(again.m[1].revision, mf.m[1].revision);
    manifest_free(&again);
    char *other = xstrdup(good);
    other[strlen(other) - 2] ^= 1; /* one bit of the last value */
    ck_assert_int_eq(manifest_cache_load(test_cache, other, strlen(other), "m.yaml", &again), -1);
    free(other);
    manifest_free(&mf);
    free(entry);
    fixture_close(&fx);
}
END_TEST

/* Trusted entries only: each of these makes an honest entry unusable. */
START_TEST(cache_entry_is_read_only_when_trusted)
{
    static const char *const attacks[] = {
        "chmod 0770 '%s'",              /* group-writable folder */
        "chmod 0777 '%s'",              /* world-writable folder */
        "chmod 0620 '%s'/*.bin",        /* group-writable entry */
        "chmod 0606 '%s'/*.bin",        /* world-writable entry */
        "cd '%s' && for f in *.bin; do mv \"$f\" ../elsewhere && ln -s ../elsewhere \"$f\"; done", /* symlink */
        "cd '%s' && for f in *.bin; do rm \"$f\" && mkfifo \"$f\"; done", /* a FIFO must not block */
        "mv '%s' '%s.real' && ln -s \"$(basename '%s').real\" '%s'", /* symlinked folder */
        "chown -R nobody '%s'",         /* another user's folder and entry (root only) */
    };
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        if (strstr(attacks[i], "chown") && geteuid() != 0)
            continue;
        cache_fixture fx;
        fixture_open(&fx);
        manifest mf;
        del_err e;
        ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
        manifest_free(&mf);
        ck_assert_int_eq(cache_hit(&fx), 1);
        char cmd[1024];
        snprintf(cmd, sizeof cmd, attacks[i], fx.cache, fx.cache, fx.cache, fx.cache);
        ck_assert_msg(system(cmd) == 0, "%s", cmd);
        ck_assert_msg(cache_hit(&fx) == 0, "entry used after: %s", cmd);
        /* the manifest is still read, by parsing it */
        ck_assert_int_eq(manifest_load(fx.root, test_cache, &mf, &e), 0);
        ck_assert_int_eq(mf.n, 2);
        manifest_free(&mf);
        fixture_close(&fx);
    }
}
END_TEST

START_TEST(cache_check_values_mirrors_the_parser)
{
    manifest mf;
    del_err e;
    ck_assert_int_eq(manifest_parse("m.yaml", good, strlen(good), &mf, &e), 0);
    ck_assert_int_eq(manifest_check_values(&mf), 0);
    char **fields[] = {&mf.m[0].revision, &mf.m[0].file, &mf.m[0].sha256, &mf.m[1].depends_on.v[0],
                       &mf.m[0].alembic.v[0], &mf.graph.nodes[0].down.v[0]};
    const char *bad[] = {"D 1", "../x.so", "abc", "", "zz", "nowhere"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *keep = *fields[i];
        *fields[i] = (char *)bad[i];
        ck_assert_msg(manifest_check_values(&mf) == -1, "accepted %s", bad[i]);
        *fields[i] = keep;
    }
    char *keep = mf.m[1].revision;
    mf.m[1].revision = mf.m[0].revision; /* listed twice */
    ck_assert_int_eq(manifest_check_values(&mf), -1);
    mf.m[1].revision = keep;
    ck_assert_int_eq(manifest_check_values(&mf), 0);
    manifest_free(&mf);
}
END_TEST

/* libyaml's emitter loops or corrupts its heap on invalid UTF-8: it never
 * sees any, whether writing (build) or comparing (the cache's check). */
static const char *with_data =
    "format: 1\nabi: 1\nmigrations: []\n"
    "data:\n  - file: data/people.csv\n    sha256: " SHA "\n    size: 23\n"
    "  - file: data/empty.tsv\n    sha256: " SHA "\n    size: 0\n";

START_TEST(data_files_parse_round_trip_and_cache)
{
    manifest mf, again;
    del_err e;
    ck_assert_int_eq(manifest_parse("m.yaml", with_data, strlen(with_data), &mf, &e), 0);
    ck_assert_int_eq(mf.ndata, 2);
    ck_assert_str_eq(mf.data[0].file, "data/people.csv");
    ck_assert_int_eq(mf.data[0].size, 23);
    ck_assert_int_eq(manifest_find_data(&mf, "data/empty.tsv"), 1);
    ck_assert_int_eq(manifest_find_data(&mf, "data/other.csv"), -1);
    ck_assert_int_eq(manifest_check_values(&mf), 0);
    char *text;
    size_t len;
    ck_assert_int_eq(manifest_emit(&mf, &text, &len, &e), 0);
    ck_assert_ptr_nonnull(strstr(text, "size: 23\n"));  /* a number, plain */
    ck_assert_int_eq(manifest_parse("again", text, len, &again, &e), 0);
    ck_assert_int_eq(again.ndata, 2);
    ck_assert_str_eq(again.data[1].file, "data/empty.tsv");
    ck_assert_int_eq(again.data[1].size, 0);
    ck_assert_int_eq(manifest_emits_as(&again, text, len), 1);
    /* the cache keeps them */
    char root[] = "/tmp/delembic-mdata-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(root));
    char *cache = path_join(root, "cache");
    test_cache = cache;
    char *mpath = path_join(root, "manifest.yaml");
    ck_assert_int_eq(write_file_atomic(mpath, text, len, 0644, &e), 0);
    manifest a, b;
    ck_assert_int_eq(manifest_load(root, test_cache, &a, &e), 0);
    ck_assert_int_eq(manifest_load(root, test_cache, &b, &e), 0);
    ck_assert_int_eq(b.ndata, 2);
    ck_assert_str_eq(b.data[0].sha256, SHA);
    ck_assert_int_eq(b.data[0].size, 23);
    ck_assert_str_eq(b.text_sha256, a.text_sha256);
    ck_assert_int_eq((int)strlen(b.text_sha256), 64);
    manifest_free(&a);
    manifest_free(&b);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    ck_assert_int_eq(system(cmd), 0);
    test_cache = NULL;
    free(cache);
    free(mpath);
    free(text);
    manifest_free(&again);
    manifest_free(&mf);
}
END_TEST

START_TEST(data_file_refusals)
{
    const char *bad[] = {
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: people.csv\n    sha256: " SHA "\n    size: 1\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/../x\n    sha256: " SHA "\n    size: 1\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/.hidden\n    sha256: " SHA "\n    size: 1\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/a\n    sha256: nothex\n    size: 1\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/a\n    sha256: " SHA "\n    size: -1\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/a\n    sha256: " SHA "\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/a\n    sha256: " SHA "\n    size: 1\n"
        "  - file: data/a\n    sha256: " SHA "\n    size: 1\n",
        "format: 1\nabi: 1\nmigrations: []\ndata:\n  - file: data/a\n    sha256: " SHA "\n    size: 1\n    extra: 1\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        manifest mf;
        del_err e;
        e.msg[0] = '\0';
        ck_assert_msg(manifest_parse("m.yaml", bad[i], strlen(bad[i]), &mf, &e) != 0, "accepted case %zu", i);
        ck_assert_msg(strstr(e.msg, "m.yaml:") != NULL, "case %zu: %s", i, e.msg);
    }
}
END_TEST

/* Every scalar some YAML 1.1 or 1.2 reader would take for a number, a
 * boolean or null is quoted; ordinary ids and hex digests are not. */
START_TEST(values_that_yaml_reads_as_numbers_are_quoted)
{
    const char *quoted[] = {"0012", "12", "-3", "+4", "1e3", "1E-3", "1.5", ".5", "1_000", "0x1F", "0o17",
                            "0b101", "1:30", ".inf", "-.Inf", ".nan", "yes", "No", "ON", "off", "y", "N",
                            "true", "False", "null", "~", "", "2026-01-02", "=", "<<"};
    const char *plain[] = {"D001", "3d1e3e6abc12", "ae1027a6acf", "9a0b1c2d3e4f", "yesterday", "n1",
                           "data/people.csv", SHA, "1e3a", "x12", "Load vocabulary"};
    for (size_t i = 0; i < sizeof quoted / sizeof quoted[0]; i++)
        ck_assert_msg(manifest_needs_quotes(quoted[i]), "'%s' is not quoted", quoted[i]);
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
        ck_assert_msg(!manifest_needs_quotes(plain[i]), "'%s' is quoted", plain[i]);
    /* and they read back as the same strings */
    manifest mf = {0};
    mf.format = MANIFEST_FORMAT;
    mf.abi = 1;
    mf.version_table = xstrdup("alembic_version");
    mf.has_alembic = 1;
    mentry *m = manifest_add(&mf);
    m->revision = xstrdup("0012");
    m->file = xstrdup("a.so");
    m->sha256 = xstrdup(SHA);
    m->description = xstrdup("yes");
    strvec_push(&m->depends_on, "1e3");
    strvec_push(&m->alembic, "1e3");
    algraph_add(&mf.graph, "1e3");
    char *text;
    size_t len;
    del_err e;
    ck_assert_int_eq(manifest_emit(&mf, &text, &len, &e), 0);
    ck_assert_ptr_nonnull(strstr(text, "revision: '0012'"));
    ck_assert_ptr_nonnull(strstr(text, "'1e3': []"));
    manifest again;
    ck_assert_int_eq(manifest_parse("again", text, len, &again, &e), 0);
    ck_assert_str_eq(again.m[0].revision, "0012");
    ck_assert_str_eq(again.m[0].description, "yes");
    ck_assert_str_eq(again.m[0].depends_on.v[0], "1e3");
    manifest_free(&again);
    manifest_free(&mf);
    free(text);
}
END_TEST

/* the cache's folder from the variables the CLI read (app_env) */
START_TEST(cache_dir_from_the_environment_values)
{
    char d[64];
    ck_assert_int_eq(manifest_cache_dir("/c", "/x", "/h", d, sizeof d), 0);
    ck_assert_str_eq(d, "/c");
    ck_assert_int_eq(manifest_cache_dir(NULL, "/x", "/h", d, sizeof d), 0);
    ck_assert_str_eq(d, "/x/delembic");
    ck_assert_int_eq(manifest_cache_dir(NULL, "rel", "/h", d, sizeof d), 0);
    ck_assert_str_eq(d, "/h/.cache/delembic");
    ck_assert_int_eq(manifest_cache_dir("off", "/x", "/h", d, sizeof d), -1);
    ck_assert_str_eq(d, "");
    ck_assert_int_eq(manifest_cache_dir(NULL, NULL, "relative", d, sizeof d), -1);
    char tiny[4];
    ck_assert_int_eq(manifest_cache_dir("/too/long", NULL, NULL, tiny, sizeof tiny), -1);
    ck_assert_str_eq(tiny, "");
}
END_TEST

START_TEST(emitter_never_gets_invalid_utf8)
{
    manifest mf;
    del_err e;
    ck_assert_int_eq(manifest_parse("m.yaml", good, strlen(good), &mf, &e), 0);
    char *text;
    size_t len;
    ck_assert_int_eq(manifest_emit(&mf, &text, &len, &e), 0);
    const char *bad[] = {"Chargement des donn\xe9" "es", "\xc3", "over\xc0\xaflong", "surrogate \xed\xa0\x80"};
    char **fields[] = {&mf.m[0].description, &mf.m[0].revision, &mf.m[1].depends_on.v[0], &mf.graph.nodes[0].rev};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            char *keep = *fields[f];
            *fields[f] = (char *)bad[i];
            char *out;
            size_t olen;
            ck_assert_int_eq(manifest_emit(&mf, &out, &olen, &e), -1);
            ck_assert_msg(strstr(e.msg, "not valid UTF-8") != NULL, "message: %s", e.msg);
            ck_assert_int_eq(manifest_emits_as(&mf, text, len), 0);
            *fields[f] = keep;
        }
    ck_assert_int_eq(manifest_emits_as(&mf, text, len), 1);
    free(text);
    manifest_free(&mf);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("manifest");
    TCase *tc = tcase_create("manifest");
    ADD(tc, parse_and_round_trip);
    ADD(tc, refusals);
    ADD(tc, libraries_parse_round_trip_and_cache);
    ADD(tc, libraries_refusals);
    ADD(tc, cache_round_trip);
    ADD(tc, cache_damaged_entry_is_ignored);
    ADD(tc, cache_entry_that_disagrees_with_the_text_is_ignored);
    ADD(tc, null_like_values_round_trip);
    ADD(tc, cache_holds_any_manifest_bound_to_its_text);
    ADD(tc, cache_entry_is_read_only_when_trusted);
    ADD(tc, cache_check_values_mirrors_the_parser);
    ADD(tc, emitter_never_gets_invalid_utf8);
    ADD(tc, cache_dir_from_the_environment_values);
    ADD(tc, data_files_parse_round_trip_and_cache);
    ADD(tc, data_file_refusals);
    ADD(tc, values_that_yaml_reads_as_numbers_are_quoted);
    suite_add_tcase(s, tc);
    return s;
}
