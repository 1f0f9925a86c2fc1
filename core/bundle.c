#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "algraph.h"
#include "loader.h"
#include "manifest_cache.h"

int bundle_build_dag(const manifest *mf, dag *g, del_err *err)
{
    const char **revs = xcalloc(mf->n, sizeof *revs);
    const char *const **deps = xcalloc(mf->n, sizeof *deps);
    for (size_t i = 0; i < mf->n; i++) {
        revs[i] = mf->m[i].revision;
        deps[i] = (const char *const *)mf->m[i].depends_on.v;
    }
    int rc = dag_build(g, mf->n, revs, deps, err);
    free(revs);
    free(deps);
    return rc == 0 ? 0 : -1;
}

void bundle_close(bundle *b)
{
    if (b->kept)
        close(b->dirfd); /* (and its flock, once the workers that shared it are gone) */
    free(b->dir);
    manifest_free(&b->mf);
    dag_free(&b->g);
    memset(b, 0, sizeof *b);
}

int bundle_stop_at_first(void *err, const char *check, const del_err *problem)
{
    (void)check;
    if (err && err != (const void *)problem)
        *(del_err *)err = *problem;
    return 1;
}

/* Report one problem; nonzero: stop. */
static int report(const bundle_checker *c, const char *check, del_err *e)
{
    return c->report(c->payload, check, e);
}

int bundle_check_listing(const char *dir, const manifest *mf, const bundle_checker *c)
{
    del_err e;
    DIR *d = opendir(dir);
    if (!d) {
        del_fail(&e, DEL_KIND_BUNDLE, "%s: cannot read the bundle folder: %s", dir, strerror(errno));
        report(c, "listing", &e);
        return -1;
    }
    strmap files = {0};
    for (size_t i = 0; i < mf->n; i++)
        strmap_put(&files, mf->m[i].file, (long)i);
    char *seen = xcalloc(mf->n, 1);
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (!has_suffix(de->d_name, ".so"))
            continue;
        int library = 0; /* a listed library at the top of the bundle */
        for (size_t k = 0; k < mf->nlibs && !library; k++)
            library = !strcmp(mf->libs[k].file, de->d_name);
        if (library)
            continue;
        long i = strmap_get(&files, de->d_name);
        if (i >= 0) {
            seen[i] = 1;
            continue;
        }
        del_fail(&e, DEL_KIND_BUNDLE, "%s/%s: a plugin that manifest.yaml does not list; remove it or rebuild the bundle",
                 dir, de->d_name);
        if (report(c, "unlisted", &e))
            rc = -1;
    }
    closedir(d);
    for (size_t i = 0; rc == 0 && c->listed_missing && i < mf->n; i++)
        if (!seen[i]) {
            del_fail(&e, DEL_KIND_BUNDLE, "%s/%s: listed in manifest.yaml for %s but missing; rebuild the bundle or restore the file",
                     dir, mf->m[i].file, mf->m[i].revision);
            if (report(c, "missing", &e))
                rc = -1;
        }
    free(seen);
    strmap_free(&files);
    return rc;
}

int bundle_check_dependencies(const char *dir, const manifest *mf, const dag *g, const bundle_checker *c)
{
    del_err e;
    for (size_t i = 0; i < mf->n; i++)
        for (size_t k = 0; k < g->nodes[i].external.n; k++) {
            const char *x = g->nodes[i].external.v[k];
            if (!strvec_contains(&mf->m[i].alembic, x))
                del_fail(&e, DEL_KIND_BUNDLE, "%s/manifest.yaml: %s depends on %s, which is neither a migration in this bundle nor one of its Alembic revisions; rebuild the bundle",
                         dir, mf->m[i].revision, x);
            else if (mf->has_alembic && mf->graph.n && algraph_find(&mf->graph, x) < 0)
                del_fail(&e, DEL_KIND_BUNDLE, "%s/manifest.yaml: %s depends on Alembic revision %s, which the manifest's graph lacks; rebuild the bundle",
                         dir, mf->m[i].revision, x);
            else
                continue;
            if (report(c, "dependency", &e))
                return -1;
        }
    return 0;
}

int bundle_check_manifest_file(const char *dir, del_err *err)
{
    char *path = path_join(dir, MANIFEST_FILE);
    struct stat st;
    int rc = 0;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) /* missing: manifest_load says what to do */
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s, not a regular file; a bundle's manifest.yaml is a file in its folder: rebuild the bundle",
                      path, file_kind(st.st_mode));
    } else {
        rc = loader_check_mode(path, &st, 0, err);
    }
    free(path);
    return rc;
}

int bundle_open_manifest(const char *dir, bundle *b, del_err *err)
{
    memset(b, 0, sizeof *b);
    b->dir = path_absolute(dir);
    struct stat st;
    if (stat(b->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: bundle folder not found; build it with 'delembic build' or name it with --bundle DIR",
                 b->dir);
        goto fail;
    }
    if (loader_check_mode(b->dir, &st, 1, err) != 0 || bundle_check_manifest_file(b->dir, err) != 0)
        goto fail;
    if (manifest_load(b->dir, &b->mf, err) != 0)
        goto fail;
    if (b->mf.abi != (int)DM_ABI_VERSION) {
        del_fail(err, DEL_KIND_BUNDLE, "%s/manifest.yaml: bundle ABI %d, but this delembic speaks ABI %u; rebuild the bundle with this delembic",
                 b->dir, b->mf.abi, DM_ABI_VERSION);
        goto fail;
    }
    bundle_checker stop = {bundle_stop_at_first, err, 1};
    if (bundle_check_listing(b->dir, &b->mf, &stop) != 0)
        goto fail;
    return 0;
fail:
    bundle_close(b);
    return -1;
}

/* A build swaps folders at most once per build and never brings an old one
 * back, so a folder that is still at the bundle's path after the manifest
 * and the listing were read is the one they were read from. Between two
 * builds racing the run, try again this many times. */
#define KEEP_ATTEMPTS 5

static int same_folder(const char *dir, const struct stat *held)
{
    struct stat now;
    return stat(dir, &now) == 0 && now.st_dev == held->st_dev && now.st_ino == held->st_ino;
}

int bundle_open_kept(const char *dir, bundle *b, del_err *err)
{
    for (int attempt = 0; attempt < KEEP_ATTEMPTS; attempt++) {
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
            return bundle_open_manifest(dir, b, err); /* it says what is wrong */
        struct stat held;
        /* shared: a build that swapped this folder out removes it only when
         * it gets an exclusive lock, i.e. once no run holds it */
        while (flock(fd, LOCK_SH) != 0 && errno == EINTR)
            ;
        if (fstat(fd, &held) != 0 || !same_folder(dir, &held)) {
            close(fd); /* swapped (and maybe removed) before we held it */
            continue;
        }
        if (bundle_open_manifest(dir, b, err) != 0) {
            close(fd);
            return -1;
        }
        if (!same_folder(dir, &held)) {
            bundle_close(b);
            close(fd);
            continue;
        }
        b->kept = 1;
        b->dirfd = fd;
        b->dev = held.st_dev;
        b->ino = held.st_ino;
        return 0;
    }
    return del_fail(err, DEL_KIND_BUNDLE, "%s: the bundle was replaced %d times while this run read it; run upgrade again when no build is running",
                    dir, KEEP_ATTEMPTS);
}

int bundle_replaced(const bundle *b)
{
    return b->kept && !same_folder(b->dir, &(struct stat){.st_dev = b->dev, .st_ino = b->ino});
}

const char *bundle_path(const bundle *b, char buf[PATH_MAX])
{
    if (!bundle_replaced(b))
        return b->dir;
    struct stat st;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", b->dirfd);
    ssize_t n = readlink(link, buf, PATH_MAX - 1);
    if (fstat(b->dirfd, &st) != 0 || st.st_nlink == 0 || n <= 0 || n >= PATH_MAX - 1)
        return b->dir; /* gone: what is there now, checked against the manifest */
    buf[n] = '\0';
    return buf;
}

int bundle_check(bundle *b, del_err *err)
{
    if (bundle_build_dag(&b->mf, &b->g, err) != 0) {
        del_err_wrap(err, "%s/manifest.yaml", b->dir);
        goto fail;
    }
    /* external dependencies are exactly the entries' Alembic lists */
    bundle_checker stop = {bundle_stop_at_first, err, 1};
    if (bundle_check_dependencies(b->dir, &b->mf, &b->g, &stop) != 0)
        goto fail;
    return 0;
fail:
    bundle_close(b);
    return -1;
}

int bundle_open(const char *dir, bundle *b, del_err *err)
{
    if (bundle_open_manifest(dir, b, err) != 0)
        return -1;
    return bundle_check(b, err);
}
