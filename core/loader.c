#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfcheck.h"
#include "sha256.h"
#include "util.h"

#define MAX_DEPS 10000
#define MAX_REVISION 200
#define MAX_DESCRIPTION 65536

int loader_check_mode(const char *path, const struct stat *st, int is_dir, del_err *err)
{
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return del_fail(err, DEL_EUSAGE, "%s: %s is writable by %s; a bundle must be writable only by its owner. Fix: chmod go-w '%s'",
                        path, is_dir ? "folder" : "file",
                        (st->st_mode & S_IWOTH) ? "everyone" : "its group", path);
    uid_t me = geteuid();
    if (st->st_uid != 0 && st->st_uid != me)
        return del_fail(err, DEL_EUSAGE, "%s: belongs to another user (uid %u); a bundle must belong to root or to the user running delembic (uid %u). Fix: chown %u '%s'",
                        path, (unsigned)st->st_uid, (unsigned)me, (unsigned)me, path);
    return 0;
}

int loader_open_verified(const char *bundle_dir, const char *file, const char *expected_sha,
                         int *fd_out, char sha_out[65], del_err *err)
{
    char *path = path_join(bundle_dir, file);
    char real_dir[PATH_MAX], real_file[PATH_MAX];
    struct stat st;
    int fd = -1;
    if (lstat(path, &st) != 0) {
        del_fail(err, DEL_EUSAGE, "%s: listed in the manifest but missing: %s; rebuild the bundle or restore the file",
                 path, strerror(errno));
        goto fail;
    }
    if (!realpath(bundle_dir, real_dir) || !realpath(path, real_file)) {
        del_fail(err, DEL_EUSAGE, "%s: cannot resolve: %s", path, strerror(errno));
        goto fail;
    }
    size_t dl = strlen(real_dir);
    if (strncmp(real_file, real_dir, dl) != 0 || real_file[dl] != '/' || strchr(real_file + dl + 1, '/')) {
        del_fail(err, DEL_EUSAGE, "%s: a symbolic link that leaves the bundle folder (to %s); copy the file into the bundle instead",
                 path, real_file);
        goto fail;
    }
    fd = open(real_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        del_fail(err, DEL_EUSAGE, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        del_fail(err, DEL_EUSAGE, "%s: not a regular file", path);
        goto fail;
    }
    if (loader_check_mode(path, &st, 0, err) != 0 || elf_check_fd(fd, path, err) != 0)
        goto fail;
    char hex[65];
    if (sha256_fd(fd, path, hex, err) != 0)
        goto fail;
    if (expected_sha && strcmp(hex, expected_sha) != 0) {
        del_fail(err, DEL_EUSAGE, "%s: sha256 is %.12s... but manifest.yaml says %.12s...; the file changed after the build. Rebuild the bundle or restore the file",
                 path, hex, expected_sha);
        goto fail;
    }
    if (sha_out)
        memcpy(sha_out, hex, 65);
    free(path);
    *fd_out = fd;
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    free(path);
    return -1;
}

static int bounded_string(const char *s, size_t max)
{
    return s && strnlen(s, max + 1) <= max;
}

int loader_load_fd(int fd, const char *name, loaded_plugin *lp, del_err *err)
{
    memset(lp, 0, sizeof *lp);
    char procpath[64];
    snprintf(procpath, sizeof procpath, "/proc/self/fd/%d", fd);
    dlerror();
    void *h = dlopen(procpath, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *e = dlerror();
        /* dlerror names /proc/self/fd/N; say which file instead */
        const char *colon = e ? strstr(e, ": ") : NULL;
        return del_fail(err, DEL_EUSAGE, "%s: cannot load: %s; rebuild it with 'delembic build'",
                        name, colon ? colon + 2 : (e ? e : "unknown error"));
    }
    const struct dm_descriptor *d = dlsym(h, "dm_descriptor");
    if (!d) {
        dlclose(h);
        return del_fail(err, DEL_EUSAGE, "%s: no dm_descriptor symbol; declare the migration with DM_MIGRATION(...) from <delembic/plugin.h>",
                        name);
    }
    const char *problem = NULL;
    char buf[256];
    if (d->abi_version != DM_ABI_VERSION) {
        snprintf(buf, sizeof buf, "plugin ABI %u, but this delembic speaks ABI %u; rebuild it against this delembic's SDK",
                 d->abi_version, DM_ABI_VERSION);
        problem = buf;
    } else if (d->size < sizeof(struct dm_descriptor) || d->size > 4096) {
        snprintf(buf, sizeof buf, "descriptor size %u, expected %zu for ABI %u; rebuild it against this delembic's SDK",
                 d->size, sizeof(struct dm_descriptor), DM_ABI_VERSION);
        problem = buf;
    } else if (!d->revision || !*d->revision) {
        problem = "revision is NULL or empty; set .revision in DM_MIGRATION";
    } else if (!bounded_string(d->revision, MAX_REVISION)) {
        problem = "revision is longer than 200 characters";
    } else if (!d->upgrade) {
        problem = "no upgrade function; set .upgrade in DM_MIGRATION";
    } else if (d->description && !bounded_string(d->description, MAX_DESCRIPTION)) {
        problem = "description is longer than 64 KiB";
    } else {
        for (const unsigned char *p = (const unsigned char *)d->revision; *p && !problem; p++)
            if (*p <= 0x20 || *p == 0x7f || *p == ',' || *p == '[' || *p == ']')
                problem = "revision contains spaces, control characters, commas or brackets";
        size_t nd = 0;
        for (const char *const *p = d->depends_on; p && *p && !problem; p++, nd++) {
            if (nd >= MAX_DEPS)
                problem = "depends_on has more than 10000 entries (is it NULL-terminated? use DM_DEPS)";
            else if (!**p || !bounded_string(*p, MAX_REVISION))
                problem = "depends_on has an empty or overlong entry";
        }
    }
    if (problem) {
        dlclose(h);
        return del_fail(err, DEL_EUSAGE, "%s: %s", name, problem);
    }
    lp->handle = h;
    lp->desc = d;
    return 0;
}

int loader_match_manifest(const struct dm_descriptor *d, const mentry *e, const char *name,
                          del_err *err)
{
    if (strcmp(d->revision, e->revision) != 0)
        return del_fail(err, DEL_EUSAGE, "%s: its descriptor says revision %s but manifest.yaml says %s; rebuild the bundle",
                        name, d->revision, e->revision);
    for (const char *const *p = d->depends_on; p && *p; p++) {
        if (!strvec_contains(&e->depends_on, *p))
            return del_fail(err, DEL_EUSAGE, "%s: depends_on of %s has %s, which manifest.yaml does not list; rebuild the bundle",
                            name, e->revision, *p);
    }
    for (size_t i = 0; i < e->depends_on.n; i++) {
        int found = 0;
        for (const char *const *p = d->depends_on; p && *p && !found; p++)
            found = strcmp(*p, e->depends_on.v[i]) == 0;
        if (!found)
            return del_fail(err, DEL_EUSAGE, "%s: manifest.yaml lists %s in depends_on of %s but the descriptor does not; rebuild the bundle",
                            name, e->depends_on.v[i], e->revision);
    }
    return 0;
}

void loader_unload(loaded_plugin *lp)
{
    if (lp->handle)
        dlclose(lp->handle);
    memset(lp, 0, sizeof *lp);
}
