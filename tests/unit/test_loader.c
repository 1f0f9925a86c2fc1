#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "elfcheck.h"
#include "inspect.h"
#include "loader.h"

static const char *plugdir(void)
{
    const char *d = getenv("BROKEN_PLUGIN_DIR");
    return d ? d : ".";
}

/* load NAME.so; return the error message or NULL */
static char msgbuf[4096];
static const char *load(const char *name, loaded_plugin *lp)
{
    char file[256];
    snprintf(file, sizeof file, "%s.so", name);
    int fd;
    del_err e;
    char sha[65];
    if (loader_open_verified(plugdir(), file, NULL, &fd, sha, &e) != 0) {
        snprintf(msgbuf, sizeof msgbuf, "%s", e.msg);
        return msgbuf;
    }
    int rc = loader_load_fd(fd, file, lp, &e);
    close(fd);
    if (rc != 0) {
        snprintf(msgbuf, sizeof msgbuf, "%s", e.msg);
        return msgbuf;
    }
    return NULL;
}

static void refused(const char *name, const char *needle)
{
    loaded_plugin lp;
    const char *m = load(name, &lp);
    ck_assert_msg(m != NULL, "%s was accepted", name);
    ck_assert_msg(strstr(m, needle) != NULL, "%s: '%s' lacks '%s'", name, m, needle);
    ck_assert_msg(strstr(m, name) != NULL, "%s: message does not name the file: %s", name, m);
}

START_TEST(good_plugin_loads)
{
    loaded_plugin lp;
    const char *m = load("good", &lp);
    ck_assert_msg(m == NULL, "%s", m ? m : "");
    ck_assert_str_eq(lp.desc->revision, "G001");
    ck_assert_str_eq(lp.desc->depends_on[1], "abc123");
    mentry e = {0};
    e.revision = "G001";
    strvec_push(&e.depends_on, "abc123");
    strvec_push(&e.depends_on, "G000");
    del_err err;
    ck_assert_int_eq(loader_match_manifest(lp.desc, &e, "good.so", &err), 0);
    e.revision = "G002";
    ck_assert_int_eq(loader_match_manifest(lp.desc, &e, "good.so", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "manifest.yaml says G002"));
    e.revision = "G001";
    strvec_push(&e.depends_on, "extra");
    ck_assert_int_eq(loader_match_manifest(lp.desc, &e, "good.so", &err), -1);
    ck_assert_ptr_nonnull(strstr(err.msg, "extra"));
    strvec_clear(&e.depends_on);
    loader_unload(&lp);
}
END_TEST

/* ABI growth (plugin.h): a descriptor may be larger than the host's, never
 * smaller than the fields of ABI 1; the host reads only its copy. */
START_TEST(descriptor_size_covers_abi_1_fields)
{
    char need[128];
    snprintf(need, sizeof need, "descriptor size %zu, but delembic needs at least %zu bytes",
             DM_DESCRIPTOR_SIZE_V1 - 1, DM_DESCRIPTOR_SIZE_V1);
    refused("abi_one_short", need);
    refused("abi_too_large", "descriptor size 4097, but delembic takes at most 4096 bytes");
    loaded_plugin lp;
    const char *m = load("abi_larger", &lp);
    ck_assert_msg(m == NULL, "%s", m ? m : "");
    const struct dm_descriptor *own = dlsym(lp.handle, "dm_descriptor");
    ck_assert_ptr_nonnull(own);
    ck_assert_ptr_ne(lp.desc, own); /* the host's copy, not the plugin's struct */
    ck_assert_uint_eq(lp.desc->size, sizeof(struct dm_descriptor) + 40);
    ck_assert_str_eq(lp.desc->revision, "B012");
    ck_assert_ptr_eq(lp.desc->upgrade, own->upgrade);
    ck_assert_ptr_null(lp.desc->validate);
    ck_assert_ptr_null(lp.desc->downgrade);
    loader_unload(&lp);
}
END_TEST

START_TEST(broken_plugins_refused)
{
    refused("no_symbol", "no dm_descriptor symbol");
    refused("bad_abi", "plugin ABI 99");
    refused("small_size", "descriptor size 8, but delembic needs at least");
    refused("null_revision", "revision is NULL or empty");
    refused("empty_revision", "revision is NULL or empty");
    refused("no_upgrade", "no upgrade function");
    refused("bad_revision_chars", "revision contains spaces");
    refused("undefined_symbol", "delembic_host_internal_function");
}
END_TEST

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/delembic-load-XXXXXX";
    char *d = mkdtemp(tmpl);
    ck_assert_ptr_nonnull(d);
    chmod(d, 0755);
    return strdup(d);
}

static void write_bytes(const char *path, const void *data, size_t n, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    close(fd);
    chmod(path, (mode_t)mode);
}

START_TEST(files_refused_before_loading)
{
    char *d = tmpdir();
    char path[512];
    int fd;
    del_err e;
    char sha[65];
    snprintf(path, sizeof path, "%s/text.so", d);
    write_bytes(path, "hello, not an ELF file\n", 23, 0644);
    ck_assert_int_eq(loader_open_verified(d, "text.so", NULL, &fd, sha, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "not a shared object"));
    snprintf(path, sizeof path, "%s/short.so", d);
    write_bytes(path, "\177ELF", 4, 0644);
    ck_assert_int_eq(loader_open_verified(d, "short.so", NULL, &fd, sha, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "truncated"));
    /* an aarch64 shared object header */
    unsigned char h[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
    h[16] = 3;  /* ET_DYN */
    h[18] = 183; /* EM_AARCH64 */
    snprintf(path, sizeof path, "%s/arm.so", d);
    write_bytes(path, h, sizeof h, 0644);
    ck_assert_int_eq(loader_open_verified(d, "arm.so", NULL, &fd, sha, &e), -1);
    ck_assert_msg(strstr(e.msg, "built for aarch64") != NULL, "%s", e.msg);
    /* group-writable */
    snprintf(path, sizeof path, "%s/gw.so", d);
    write_bytes(path, h, sizeof h, 0664);
    ck_assert_int_eq(loader_open_verified(d, "gw.so", NULL, &fd, sha, &e), -1);
    ck_assert_msg(strstr(e.msg, "chmod go-w") != NULL, "%s", e.msg);
    /* a symlink out of the bundle */
    snprintf(path, sizeof path, "%s/out.so", d);
    ck_assert_int_eq(symlink("/bin/true", path), 0);
    ck_assert_int_eq(loader_open_verified(d, "out.so", NULL, &fd, sha, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "leaves the bundle"));
    /* checksum mismatch */
    char good[512];
    snprintf(good, sizeof good, "%s/good.so", plugdir());
    ck_assert_int_eq(loader_open_verified(plugdir(), "good.so",
                                          "0000000000000000000000000000000000000000000000000000000000000000",
                                          &fd, sha, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "sha256"));
    ck_assert_int_eq(loader_open_verified(d, "missing.so", NULL, &fd, sha, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "missing"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    ck_assert_int_eq(system(cmd), 0);
    free(d);
}
END_TEST

START_TEST(crash_while_loading_is_contained)
{
    inspect_item items[] = {{"good.so", NULL, NULL}, {"ctor_crash.so", NULL, NULL}, {"no_symbol.so", NULL, NULL}};
    plugin_info info[3];
    del_err e;
    ck_assert_int_eq(inspect_plugins(plugdir(), NULL, items, 3, NULL, info, &e), 0);
    ck_assert_ptr_null(info[0].error);
    ck_assert_str_eq(info[0].revision, "G001");
    ck_assert_ptr_nonnull(info[1].error);
    ck_assert_msg(strstr(info[1].error, "crashed while loading (") != NULL, "%s", info[1].error);
    ck_assert_ptr_nonnull(info[2].error);
    ck_assert_ptr_nonnull(strstr(info[2].error, "no dm_descriptor"));
    for (int i = 0; i < 3; i++)
        plugin_info_free(&info[i]);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");
    tcase_set_timeout(tc, 60);
    ADD(tc, good_plugin_loads);
    ADD(tc, broken_plugins_refused);
    ADD(tc, descriptor_size_covers_abi_1_fields);
    ADD(tc, files_refused_before_loading);
    ADD(tc, crash_while_loading_is_contained);
    suite_add_tcase(s, tc);
    return s;
}
