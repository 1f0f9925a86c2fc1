#include "cmd_manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alembic.h"
#include "bundle.h"
#include "datafiles.h"
#include "inspect.h"
#include "loader.h"
#include "manifest.h"
#include "manifest_cache.h"
#include "trust.h"

/* The .so files at the top of dir (not hidden), in natural order. */
static int list_plugins(const char *dir, strvec *out, del_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read the bundle folder: %s; name it with --bundle DIR", dir,
                        strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && has_suffix(de->d_name, ".so"))
            strvec_push(out, de->d_name);
    closedir(d);
    strvec_sort_natural(out);
    return 0;
}

/* The manifest of what dir holds now. */
static int make_manifest(app *a, const char *dir, manifest *mf, del_err *err)
{
    memset(mf, 0, sizeof *mf);
    mf->format = MANIFEST_FORMAT;
    mf->abi = DM_ABI_VERSION;
    mf->version_table = xstrdup(a->cfg.alembic_version_table ? a->cfg.alembic_version_table : "alembic_version");
    strvec files = {0};
    if (list_plugins(dir, &files, err) != 0) {
        manifest_free(mf);
        return -1;
    }
    size_t n = files.n;
    char (*sha)[65] = xcalloc(n ? n : 1, 65);
    inspect_item *items = xcalloc(n ? n : 1, sizeof *items);
    plugin_info *info = xcalloc(n ? n : 1, sizeof *info);
    manifest none = {0};
    int rc = 0;
    /* the checks build makes before loading what it built */
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int fd;
        if (loader_open_verified(dir, files.v[i], NULL, &fd, sha[i], err) != 0) {
            rc = -1;
            break;
        }
        rc = loader_check_links(dir, &none, fd, files.v[i], NULL, NULL, err);
        close(fd);
        items[i] = (inspect_item){files.v[i], sha[i], NULL};
    }
    if (rc == 0 && n && inspect_plugins(dir, NULL, items, n, app_env_of(a->o)->load_timeout, info, err) != 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char *path = path_join(dir, files.v[i]);
        if (info[i].error)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s", info[i].error);
        else if (plugin_info_check(&info[i], path, err) != 0)
            rc = -1;
        else if (manifest_find(mf, info[i].revision) >= 0)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: revision %s is also the revision of %s; give one of them a new revision",
                          path, info[i].revision, mf->m[manifest_find(mf, info[i].revision)].file);
        if (rc == 0) {
            mentry *e = manifest_add(mf);
            e->revision = xstrdup(info[i].revision);
            e->file = xstrdup(files.v[i]);
            e->sha256 = xstrdup(sha[i]);
            e->description = xstrdup(info[i].description ? info[i].description : "");
            for (size_t d = 0; d < info[i].depends_on.n; d++)
                if (!strvec_contains(&e->depends_on, info[i].depends_on.v[d]))
                    strvec_push(&e->depends_on, info[i].depends_on.v[d]);
            strmap_put(&mf->by_revision, e->revision, (long)(mf->n - 1));
            strmap_put(&mf->by_file, e->file, (long)(mf->n - 1));
        }
        free(path);
    }
    /* what is not a migration here is an Alembic revision */
    algraph graph = {0};
    int have_graph = rc == 0 && a->cfg.alembic_config && path_exists(a->cfg.alembic_config);
    if (have_graph && alembic_read_graph(a->cfg.alembic_config, &graph, err) != 0)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < mf->n; i++)
        for (size_t d = 0; rc == 0 && d < mf->m[i].depends_on.n; d++) {
            const char *dep = mf->m[i].depends_on.v[d];
            if (manifest_find(mf, dep) >= 0)
                continue;
            if (have_graph && algraph_find(&graph, dep) < 0)
                rc = del_fail(err, DEL_KIND_BUNDLE, "%s/%s (%s): depends_on entry '%s' is neither a migration in the folder nor an Alembic revision in %s",
                              dir, mf->m[i].file, mf->m[i].revision, dep, a->cfg.alembic_config);
            strvec_push(&mf->m[i].alembic, dep);
        }
    if (rc == 0 && have_graph) {
        mf->has_alembic = 1;
        strvec order = {0};
        algraph_order(&graph, &order, NULL);
        for (size_t k = 0; k < order.n; k++) {
            const alnode *src = &graph.nodes[algraph_find(&graph, order.v[k])];
            alnode *dst = algraph_add(&mf->graph, src->rev);
            for (size_t d = 0; d < src->down.n; d++)
                strvec_push(&dst->down, src->down.v[d]);
        }
        strvec_clear(&order);
    }
    algraph_free(&graph);
    if (rc == 0) {
        dag g;
        if (bundle_build_dag(mf, &g, err) != 0)
            rc = -1;
        else
            dag_free(&g);
    }
    if (rc == 0)
        rc = datafiles_scan(dir, mf, err);
    for (size_t i = 0; i < n; i++)
        plugin_info_free(&info[i]);
    free(info);
    free(items);
    free(sha);
    strvec_clear(&files);
    if (rc != 0)
        manifest_free(mf);
    return rc;
}

/* The first way old does not list what now says is there; NULL when it does. */
static char *first_difference(const char *dir, const manifest *old, const manifest *now)
{
    for (size_t i = 0; i < now->n; i++) {
        const mentry *e = &now->m[i];
        long k = strmap_get(&old->by_file, e->file);
        if (k < 0)
            return xasprintf("%s/%s: a plugin that manifest.yaml does not list", dir, e->file);
        const mentry *o = &old->m[k];
        if (strcmp(o->sha256, e->sha256))
            return xasprintf("%s/%s: sha256 is %.12s... but manifest.yaml says %.12s...", dir, e->file, e->sha256,
                             o->sha256);
        if (strcmp(o->revision, e->revision))
            return xasprintf("%s/%s: its descriptor says revision %s, manifest.yaml %s", dir, e->file, e->revision,
                             o->revision);
        int same = o->depends_on.n == e->depends_on.n;
        for (size_t d = 0; same && d < e->depends_on.n; d++)
            same = strvec_contains(&o->depends_on, e->depends_on.v[d]);
        if (!same)
            return xasprintf("%s/%s: its depends_on differs from manifest.yaml's", dir, e->file);
    }
    for (size_t i = 0; i < old->n; i++)
        if (strmap_get(&now->by_file, old->m[i].file) < 0)
            return xasprintf("%s/%s: listed in manifest.yaml but missing", dir, old->m[i].file);
    for (size_t i = 0; i < now->ndata; i++) {
        long k = manifest_find_data(old, now->data[i].file);
        if (k < 0)
            return xasprintf("%s/%s: a data file that manifest.yaml does not list", dir, now->data[i].file);
        if (strcmp(old->data[k].sha256, now->data[i].sha256) || old->data[k].size != now->data[i].size)
            return xasprintf("%s/%s: not the size or sha256 that manifest.yaml lists", dir, now->data[i].file);
    }
    for (size_t i = 0; i < old->ndata; i++)
        if (manifest_find_data(now, old->data[i].file) < 0)
            return xasprintf("%s/%s: listed in manifest.yaml but missing", dir, old->data[i].file);
    return NULL;
}

int cmd_manifest(app *a, int check, manifest_result *res, del_err *err)
{
    memset(res, 0, sizeof *res);
    /* never the project's own bundle by default: build's manifest has more
     * (identities) than this one can give */
    if (!a->o->bundle)
        return del_fail(err, DEL_KIND_USAGE, "manifest needs --bundle DIR, the folder of .so files built outside 'delembic build' (build writes its own bundle's manifest)");
    const char *dir = a->bundle_dir;
    res->dir = dir;
    res->check = check;
    manifest now;
    if (make_manifest(a, dir, &now, err) != 0)
        return -1;
    res->plugins = now.n;
    res->data_files = now.ndata;
    int rc = 0;
    if (check) {
        manifest old;
        if (manifest_load(dir, app_cache_dir(a), &old, err) != 0) {
            manifest_free(&now);
            return -1;
        }
        char *diff = first_difference(dir, &old, &now);
        if (diff)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s; write it again with 'delembic manifest --bundle %s' (and sign it)", diff,
                          dir);
        free(diff);
        manifest_free(&old);
    } else {
        char *text = NULL;
        size_t len = 0;
        rc = manifest_emit(&now, &text, &len, err);
        /* unchanged text keeps its signature; a changed one voids it */
        char *mpath = path_join(dir, MANIFEST_FILE), *old = NULL;
        size_t olen = 0;
        int same = rc == 0 && read_file(mpath, MANIFEST_MAX_BYTES, &old, &olen, NULL) == 0 && olen == len &&
                   !memcmp(old, text, len);
        if (rc == 0 && !same) {
            rc = write_file_atomic(mpath, text, len, 0644, err);
            char *sig = path_join(dir, TRUST_SIG_FILE);
            if (rc == 0 && entry_exists(sig) && unlink(sig) == 0)
                res->removed_signature = 1;
            free(sig);
        }
        free(old);
        free(mpath);
        free(text);
    }
    manifest_free(&now);
    return rc;
}

void manifest_print(const del_notify *n, const manifest_result *res)
{
    if (res->check)
        del_emit_text(n, DEL_EV_NOTE, "%s/manifest.yaml lists exactly the %zu plugin(s) and %zu data file(s) there", res->dir,
               res->plugins, res->data_files);
    else
        del_emit_text(n, DEL_EV_NOTE, "Wrote %s/manifest.yaml: %zu plugin(s), %zu data file(s)%s", res->dir, res->plugins,
               res->data_files,
               res->removed_signature ? "; its old signature no longer matched and was removed: sign it again" : "");
}
