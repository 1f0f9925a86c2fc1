#include "bundle.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "loader.h"

int bundle_build_dag(const manifest *mf, dag *g, del_err *err)
{
    const char **revs = xcalloc(mf->n ? mf->n : 1, sizeof *revs);
    const char *const **deps = xcalloc(mf->n ? mf->n : 1, sizeof *deps);
    for (size_t i = 0; i < mf->n; i++) {
        revs[i] = mf->m[i].revision;
        deps[i] = (const char *const *)mf->m[i].depends_on.v;
    }
    int rc = dag_build(g, mf->n, revs, deps, err);
    free(revs);
    free(deps);
    return rc;
}

void bundle_close(bundle *b)
{
    free(b->dir);
    manifest_free(&b->mf);
    dag_free(&b->g);
    memset(b, 0, sizeof *b);
}

static int check_listing(bundle *b, del_err *err)
{
    DIR *d = opendir(b->dir);
    if (!d)
        return del_fail(err, DEL_EUSAGE, "%s: cannot read the bundle folder: %s", b->dir, strerror(errno));
    strmap files = {0};
    for (size_t i = 0; i < b->mf.n; i++)
        strmap_put(&files, b->mf.m[i].file, (long)i);
    char *seen = xcalloc(b->mf.n ? b->mf.n : 1, 1);
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_suffix(de->d_name, ".so"))
            continue;
        int library = 0; /* a listed library at the top of the bundle */
        for (size_t k = 0; k < b->mf.nlibs && !library; k++)
            library = !strcmp(b->mf.libs[k].file, de->d_name);
        if (library)
            continue;
        long i = strmap_get(&files, de->d_name);
        if (i < 0) {
            rc = del_fail(err, DEL_EUSAGE, "%s/%s: a plugin that manifest.yaml does not list; remove it or rebuild the bundle",
                          b->dir, de->d_name);
            break;
        }
        seen[i] = 1;
    }
    closedir(d);
    for (size_t i = 0; rc == 0 && i < b->mf.n; i++)
        if (!seen[i])
            rc = del_fail(err, DEL_EUSAGE, "%s/%s: listed in manifest.yaml for %s but missing; rebuild the bundle or restore the file",
                          b->dir, b->mf.m[i].file, b->mf.m[i].revision);
    free(seen);
    strmap_free(&files);
    return rc;
}

int bundle_check_manifest_file(const char *dir, del_err *err)
{
    char *path = path_join(dir, MANIFEST_FILE);
    struct stat st;
    int rc = 0;
    if (lstat(path, &st) != 0) {
        if (errno != ENOENT) /* missing: manifest_load says what to do */
            rc = del_fail(err, DEL_EUSAGE, "%s: cannot read: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = del_fail(err, DEL_EUSAGE, "%s: not a regular file (a symbolic link, a FIFO, a device or a folder); a bundle's manifest.yaml is a file in its folder: rebuild the bundle",
                      path);
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
        del_fail(err, DEL_EUSAGE, "%s: bundle folder not found; build it with 'delembic build' or name it with --bundle DIR",
                 b->dir);
        goto fail;
    }
    if (loader_check_mode(b->dir, &st, 1, err) != 0 || bundle_check_manifest_file(b->dir, err) != 0)
        goto fail;
    if (manifest_load(b->dir, &b->mf, err) != 0)
        goto fail;
    if (b->mf.abi != (int)DM_ABI_VERSION) {
        del_fail(err, DEL_EUSAGE, "%s/manifest.yaml: bundle ABI %d, but this delembic speaks ABI %u; rebuild the bundle with this delembic",
                 b->dir, b->mf.abi, DM_ABI_VERSION);
        goto fail;
    }
    if (check_listing(b, err) != 0)
        goto fail;
    return 0;
fail:
    bundle_close(b);
    return -1;
}

int bundle_check(bundle *b, del_err *err)
{
    if (bundle_build_dag(&b->mf, &b->g, err) != 0) {
        del_err_wrap(err, "%s/manifest.yaml", b->dir);
        goto fail;
    }
    /* external dependencies are exactly the entries' Alembic lists */
    for (size_t i = 0; i < b->mf.n; i++) {
        const strvec *ext = &b->g.nodes[i].external;
        for (size_t k = 0; k < ext->n; k++)
            if (!strvec_contains(&b->mf.m[i].alembic, ext->v[k])) {
                del_fail(err, DEL_EUSAGE, "%s/manifest.yaml: %s depends on %s, which is neither a migration in this bundle nor one of its Alembic revisions; rebuild the bundle",
                         b->dir, b->mf.m[i].revision, ext->v[k]);
                goto fail;
            }
    }
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
