#include "loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfcheck.h"
#include "linkcheck.h"
#include "sha256.h"
#include "util.h"

#define MAX_DEPS 10000
#define MAX_REVISION 200
#define MAX_DESCRIPTION 65536
#define MAX_DESCRIPTOR_SIZE 4096 /* more is not a size DM_MIGRATION wrote */

int loader_check_mode(const char *path, const struct stat *st, int is_dir, del_err *err)
{
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return del_fail(err, DEL_KIND_BUNDLE, "%s: %s is writable by %s; a bundle must be writable only by its owner. Fix: chmod go-w '%s'",
                        path, is_dir ? "folder" : "file",
                        (st->st_mode & S_IWOTH) ? "everyone" : "its group", path);
    uid_t me = geteuid();
    if (st->st_uid != 0 && st->st_uid != me)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: belongs to another user (uid %u); a bundle must belong to root or to the user running delembic (uid %u). Fix: chown %u '%s'",
                        path, (unsigned)st->st_uid, (unsigned)me, (unsigned)me, path);
    return 0;
}

static int not_regular(const char *path, unsigned mode, del_err *err)
{
    return del_fail(err, DEL_KIND_BUNDLE, "%s: %s, not a regular file; a bundle holds only files: rebuild the bundle or restore the file",
                    path, file_kind(mode));
}

/* Open bundle_dir/rel after the checks: inside the bundle (directly for a
 * plugin; in a folder of it, each folder checked too, when sub), a regular
 * file, owner and mode, ELF for this host, and the sha256 when expected. */
static int open_checked(const char *bundle_dir, const char *rel, int sub, const char *expected_sha,
                        int *fd_out, char sha_out[65], del_err *err)
{
    char *path = path_join(bundle_dir, rel);
    char real_dir[PATH_MAX], real_file[PATH_MAX];
    struct stat st;
    int fd = -1;
    if (lstat(path, &st) != 0) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: listed in the manifest but missing: %s; rebuild the bundle or restore the file",
                 path, strerror(errno));
        goto fail;
    }
    /* a FIFO or a device is refused before it is opened: opening one can
     * block, or do what the device does */
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
        not_regular(path, st.st_mode, err);
        goto fail;
    }
    if (!realpath(bundle_dir, real_dir) || !realpath(path, real_file)) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: cannot resolve: %s", path, strerror(errno));
        goto fail;
    }
    size_t dl = strlen(real_dir);
    if (strncmp(real_file, real_dir, dl) != 0 || real_file[dl] != '/' || (!sub && strchr(real_file + dl + 1, '/'))) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: a symbolic link that leaves the bundle folder (to %s); copy the file into the bundle instead",
                 path, real_file);
        goto fail;
    }
    /* the folders between the bundle folder and the file */
    for (char *slash = strchr(real_file + dl + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
        *slash = '\0';
        int bad = lstat(real_file, &st) != 0 || !S_ISDIR(st.st_mode) ||
                  loader_check_mode(real_file, &st, 1, err) != 0;
        if (bad && !S_ISDIR(st.st_mode))
            del_fail(err, DEL_KIND_BUNDLE, "%s: not a folder", real_file);
        *slash = '/';
        if (bad)
            goto fail;
    }
    /* what a symbolic link leads to, too; then the descriptor itself (without
     * blocking, should the file have been replaced since) */
    if (lstat(real_file, &st) != 0) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        not_regular(path, st.st_mode, err);
        goto fail;
    }
    fd = open(real_file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        not_regular(path, st.st_mode, err);
        goto fail;
    }
    if (loader_check_mode(path, &st, 0, err) != 0 || elf_check_fd(fd, path, err) != 0)
        goto fail;
    char hex[65];
    /* neither checked nor asked for: not read (build, on its own files) */
    if ((expected_sha || sha_out) && sha256_fd(fd, path, hex, err) != 0)
        goto fail;
    if (expected_sha && strcmp(hex, expected_sha) != 0) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: sha256 is %.12s... but manifest.yaml says %.12s...; the file changed after the build. Rebuild the bundle or restore the file",
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

int loader_open_verified(const char *bundle_dir, const char *file, const char *expected_sha,
                         int *fd_out, char sha_out[65], del_err *err)
{
    return open_checked(bundle_dir, file, 0, expected_sha, fd_out, sha_out, err);
}

/* ---- what an object brings in with it (linkcheck.h) -------------------- */

typedef struct walk {
    const char *dir;
    const manifest *mf;
    int open_libs;   /* verify and open the listed libraries it needs (else name them only) */
    const char *lib_failed; /* names only: listed libraries known to fail their check */
    char *state;     /* per listed library: 0 unseen, 1 being walked, 2 done */
    int *fds;        /* listed libraries, verified and open, dependencies first */
    size_t nfds;
    strvec host;     /* names the host provides: loaded before it, so ld.so never searches */
    strvec closure;  /* libpq's libraries, read when first needed */
    int have_closure;
} walk;

static void walk_free(walk *w)
{
    for (size_t i = 0; i < w->nfds; i++)
        close(w->fds[i]);
    free(w->fds);
    free(w->state);
    strvec_clear(&w->host);
    strvec_clear(&w->closure);
}

static int host_provides(walk *w, const char *soname)
{
    if (link_is_libc(soname) || !strcmp(soname, LIBPQ_SONAME))
        return 1;
    if (!w->have_closure) {
        link_libpq_closure(&w->closure);
        w->have_closure = 1;
    }
    return strvec_contains(&w->closure, soname);
}

static int walk_library(walk *w, size_t k, del_err *err);

/* The object open at fd, at rel inside the bundle (path for messages); a
 * listed library must say its soname is the one it is listed under. */
static int walk_object(walk *w, int fd, const char *path, const char *rel, const char *soname,
                       del_err *err)
{
    elf_dynamic d;
    if (elf_read_dynamic(fd, path, &d, err) != 0)
        return -1;
    int rc = 0;
    if (soname && (!d.soname || strcmp(d.soname, soname))) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: its soname is %s, but manifest.yaml lists it as %s; a listed library's file name must be its soname: rename it or relink it with -Wl,-soname,%s",
                      path, d.soname ? d.soname : "missing", soname, soname);
        goto out;
    }
    const char *paths[] = {d.rpath, d.runpath}, *tags[] = {"DT_RPATH", "DT_RUNPATH"};
    for (size_t i = 0; i < 2 && rc == 0; i++) {
        char *bad = paths[i] ? link_runpath_escape(paths[i], rel) : NULL;
        if (bad)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: its run path (%s) has '%s', which leads outside the bundle; relink it without -Wl,-rpath, or with '$ORIGIN' or '$ORIGIN/<folder in the bundle>'",
                          path, tags[i], bad);
        free(bad);
    }
    for (size_t i = 0; i < d.needed.n && rc == 0; i++) {
        const char *need = d.needed.v[i];
        long k = manifest_find_library(w->mf, need);
        if (link_is_libc(need) || !strcmp(need, LIBPQ_SONAME) || (k < 0 && host_provides(w, need))) {
            if (!strvec_contains(&w->host, need))
                strvec_push(&w->host, need);
        } else if (k >= 0 && w->lib_failed && w->lib_failed[k]) {
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: needs %s, whose check failed; fix %s first", path, need,
                          w->mf->libs[k].file);
        } else if (k >= 0) {
            rc = walk_library(w, (size_t)k, err);
        } else {
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: needs %s, which is not part of the C library, libpq or a library libpq needs, and manifest.yaml does not list it; link it statically, or ship it in the bundle and list its file and sha256 under libraries:",
                          path, need);
        }
    }
out:
    elf_dynamic_free(&d);
    return rc;
}

static int walk_library(walk *w, size_t k, del_err *err)
{
    const mlib *l = &w->mf->libs[k];
    if (!w->open_libs || w->state[k] == 2)
        return 0;
    char *path = path_join(w->dir, l->file);
    int fd = -1, rc;
    if (w->state[k] == 1) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: listed libraries that need each other in a cycle cannot be loaded one after the other; link them into one",
                      path);
    } else {
        w->state[k] = 1;
        rc = open_checked(w->dir, l->file, 1, l->sha256, &fd, NULL, err);
        if (rc == 0)
            rc = walk_object(w, fd, path, l->file, path_basename(l->file), err);
    }
    if (rc == 0) {
        w->fds = xrealloc(w->fds, (w->nfds + 1) * sizeof *w->fds);
        w->fds[w->nfds++] = fd;
        w->state[k] = 2;
    } else if (fd >= 0) {
        close(fd);
    }
    free(path);
    return rc;
}

static void walk_init(walk *w, const char *dir, const manifest *mf, int open_libs)
{
    memset(w, 0, sizeof *w);
    w->dir = dir;
    w->mf = mf;
    w->open_libs = open_libs;
    w->state = xcalloc(mf->nlibs, 1);
}

int loader_check_links(const char *bundle_dir, const manifest *mf, int fd, const char *rel,
                       const char *name, const char *lib_failed, del_err *err)
{
    walk w;
    walk_init(&w, bundle_dir, mf, 0);
    w.lib_failed = lib_failed;
    char *path = path_join(bundle_dir, rel);
    int rc = walk_object(&w, fd, name ? name : path, rel, NULL, err);
    free(path);
    walk_free(&w);
    return rc;
}

int loader_check_library(const char *bundle_dir, const manifest *mf, size_t i, del_err *err)
{
    walk w;
    walk_init(&w, bundle_dir, mf, 1);
    const char *soname = path_basename(mf->libs[i].file);
    int rc = 0;
    if (link_is_libc(soname) || !strcmp(soname, LIBPQ_SONAME) || host_provides(&w, soname)) {
        char *path = path_join(bundle_dir, mf->libs[i].file);
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s is the host's own (the C library, libpq or a library libpq needs), and the host's copy is the one plugins get; remove it from libraries:",
                      path, soname);
        free(path);
    } else {
        rc = walk_library(&w, i, err);
    }
    walk_free(&w);
    return rc;
}

static void keep_handle(loaded_plugin *lp, void *h)
{
    lp->libs = xrealloc(lp->libs, (lp->nlibs + 1) * sizeof *lp->libs);
    lp->libs[lp->nlibs++] = h;
}

int loader_load_verified(const char *bundle_dir, const manifest *mf, const char *file,
                         const char *expected_sha, loaded_plugin *lp, char sha_out[65], del_err *err)
{
    memset(lp, 0, sizeof *lp);
    int fd = -1;
    if (open_checked(bundle_dir, file, 0, expected_sha, &fd, sha_out, err) != 0)
        return -1;
    char *path = path_join(bundle_dir, file);
    loaded_plugin before = {0};
    walk w;
    walk_init(&w, bundle_dir, mf, 1);
    int rc = walk_object(&w, fd, path, file, NULL, err);
    /* everything it needs is loaded first: the host's own by name, the
     * bundle's verified copies through their descriptors; ld.so then finds
     * each by soname among the loaded objects and opens nothing else */
    for (size_t i = 0; rc == 0 && i < w.host.n; i++) {
        void *h = dlopen(w.host.v[i], RTLD_NOW | RTLD_LOCAL);
        if (!h)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot load %s, which it needs: %s", path, w.host.v[i], dlerror());
        else
            keep_handle(&before, h);
    }
    for (size_t i = 0; rc == 0 && i < w.nfds; i++) {
        char procpath[64];
        snprintf(procpath, sizeof procpath, "/proc/self/fd/%d", w.fds[i]);
        void *h = dlopen(procpath, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            const char *e = dlerror();
            const char *colon = e ? strstr(e, ": ") : NULL;
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot load a library it needs: %s", path,
                          colon ? colon + 2 : (e ? e : "unknown error"));
        } else {
            keep_handle(&before, h);
        }
    }
    walk_free(&w);
    if (rc == 0)
        rc = loader_load_fd(fd, path, lp, err);
    lp->libs = before.libs;
    lp->nlibs = before.nlibs;
    if (rc != 0)
        loader_unload(lp);
    close(fd);
    free(path);
    return rc;
}

/* what manifest.yaml accepts in a revision or a depends_on entry */
static int revision_chars_ok(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == ',' || *p == '[' || *p == ']')
            return 0;
    return 1;
}

static int bounded_string(const char *s, size_t max)
{
    return s && strnlen(s, max + 1) <= max;
}

/* The host's copy of an accepted descriptor: the fields of ABI 1 (its size
 * covers them), then each field added after validate only when the plugin's
 * size covers it, one line per field:
 *     if (DM_HAS_FIELD(d, d->size, struct dm_descriptor, mode)) c->mode = d->mode;
 * A plugin built before a field existed keeps its default (zero); fields past
 * this host's struct (a newer SDK's) are never read. */
static const struct dm_descriptor *descriptor_copy(const struct dm_descriptor *d)
{
    struct dm_descriptor *c = xcalloc(1, sizeof *c);
    memcpy(c, d, DM_DESCRIPTOR_SIZE_V1);
    if (DM_HAS_FIELD(d, d->size, struct dm_descriptor, downgrade))
        c->downgrade = d->downgrade;
    if (DM_HAS_FIELD(d, d->size, struct dm_descriptor, mode))
        c->mode = d->mode;
    if (DM_HAS_FIELD(d, d->size, struct dm_descriptor, batch))
        c->batch = d->batch;
    return c;
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
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot load: %s; rebuild it with 'delembic build'",
                        name, colon ? colon + 2 : (e ? e : "unknown error"));
    }
    const struct dm_descriptor *d = dlsym(h, "dm_descriptor");
    if (!d) {
        dlclose(h);
        return del_fail(err, DEL_KIND_BUNDLE, "%s: no dm_descriptor symbol; declare the migration with DM_MIGRATION(...) from <delembic/plugin.h>",
                        name);
    }
    const char *problem = NULL;
    char buf[512]; /* a message with a bounded entry (MAX_REVISION) */
    /* the fields after ABI 1's, where the plugin's size covers them (read
     * only once the size is known to be sane, below) */
    int sane = d->abi_version == DM_ABI_VERSION && d->size >= DM_DESCRIPTOR_SIZE_V1 &&
               d->size <= MAX_DESCRIPTOR_SIZE;
    int mode = sane && DM_HAS_FIELD(d, d->size, struct dm_descriptor, mode) ? d->mode : DM_TRANSACTIONAL;
    dm_batch_callback batch = sane && DM_HAS_FIELD(d, d->size, struct dm_descriptor, batch) ? d->batch : NULL;
    if (d->abi_version != DM_ABI_VERSION) {
        snprintf(buf, sizeof buf, "plugin ABI %u, but this delembic speaks ABI %u; rebuild it against this delembic's SDK",
                 d->abi_version, DM_ABI_VERSION);
        problem = buf;
    } else if (d->size < DM_DESCRIPTOR_SIZE_V1) {
        snprintf(buf, sizeof buf, "descriptor size %u, but delembic needs at least %zu bytes (the fields of ABI %u, up to .validate); rebuild it with DM_MIGRATION from <delembic/plugin.h>",
                 d->size, DM_DESCRIPTOR_SIZE_V1, DM_ABI_VERSION);
        problem = buf;
    } else if (d->size > MAX_DESCRIPTOR_SIZE) {
        snprintf(buf, sizeof buf, "descriptor size %u, but delembic takes at most %d bytes; rebuild it with DM_MIGRATION from <delembic/plugin.h>",
                 d->size, MAX_DESCRIPTOR_SIZE);
        problem = buf;
    } else if (!d->revision || !*d->revision) {
        problem = "revision is NULL or empty; set .revision in DM_MIGRATION";
    } else if (!bounded_string(d->revision, MAX_REVISION)) {
        problem = "revision is longer than 200 characters";
    } else if (mode < DM_TRANSACTIONAL || mode > DM_BATCHED) {
        snprintf(buf, sizeof buf, "mode %d is not one this delembic knows (DM_TRANSACTIONAL %d, DM_NO_TRANSACTION %d, DM_BATCHED %d); upgrade delembic or fix .mode",
                 mode, DM_TRANSACTIONAL, DM_NO_TRANSACTION, DM_BATCHED);
        problem = buf;
    } else if (mode == DM_BATCHED && !batch) {
        problem = "mode DM_BATCHED but no batch function; set .batch in DM_MIGRATION";
    } else if (mode == DM_BATCHED && d->upgrade) {
        problem = "mode DM_BATCHED has a batch function instead of upgrade; leave .upgrade unset";
    } else if (mode != DM_BATCHED && batch) {
        problem = "a batch function needs .mode = DM_BATCHED";
    } else if (mode != DM_BATCHED && !d->upgrade) {
        problem = "no upgrade function; set .upgrade in DM_MIGRATION";
    } else if (d->description && !bounded_string(d->description, MAX_DESCRIPTION)) {
        problem = "description is longer than 64 KiB";
    } else {
        if (!revision_chars_ok(d->revision))
            problem = "revision contains spaces, control characters, commas or brackets";
        size_t nd = 0;
        for (const char *const *p = d->depends_on; p && *p && !problem; p++, nd++) {
            if (nd >= MAX_DEPS)
                problem = "depends_on has more than 10000 entries (is it NULL-terminated? use DM_DEPS)";
            else if (!**p || !bounded_string(*p, MAX_REVISION))
                problem = "depends_on has an empty or overlong entry";
            else if (!revision_chars_ok(*p)) {
                /* the entry is bounded and has no control character to print */
                snprintf(buf, sizeof buf, "depends_on entry '%.*s' contains spaces, control characters, commas or brackets",
                         MAX_REVISION, *p);
                problem = buf;
            }
        }
    }
    if (problem) {
        dlclose(h);
        return del_fail(err, DEL_KIND_BUNDLE, "%s: %s", name, problem);
    }
    lp->handle = h;
    lp->desc = descriptor_copy(d);
    return 0;
}

int loader_match_manifest(const struct dm_descriptor *d, const mentry *e, const char *name,
                          del_err *err)
{
    if (strcmp(d->revision, e->revision) != 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: its descriptor says revision %s but manifest.yaml says %s; rebuild the bundle",
                        name, d->revision, e->revision);
    for (const char *const *p = d->depends_on; p && *p; p++) {
        if (!strvec_contains(&e->depends_on, *p))
            return del_fail(err, DEL_KIND_BUNDLE, "%s: depends_on of %s has %s, which manifest.yaml does not list; rebuild the bundle",
                            name, e->revision, *p);
    }
    for (size_t i = 0; i < e->depends_on.n; i++) {
        int found = 0;
        for (const char *const *p = d->depends_on; p && *p && !found; p++)
            found = strcmp(*p, e->depends_on.v[i]) == 0;
        if (!found)
            return del_fail(err, DEL_KIND_BUNDLE, "%s: manifest.yaml lists %s in depends_on of %s but the descriptor does not; rebuild the bundle",
                            name, e->depends_on.v[i], e->revision);
    }
    return 0;
}

void loader_unload(loaded_plugin *lp)
{
    free((void *)lp->desc);
    if (lp->handle)
        dlclose(lp->handle);
    for (size_t i = lp->nlibs; i-- > 0;)
        dlclose(lp->libs[i]);
    free(lp->libs);
    memset(lp, 0, sizeof *lp);
}
