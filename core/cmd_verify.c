#include "cmd_verify.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "datafiles.h"
#include "buildstate.h"
#include "db.h"
#include "drift.h"
#include "inspect.h"
#include "loader.h"
#include "manifest_cache.h"
#include "results.h"
#include "store.h"
#include "term.h"
#include "trust_run.h"

typedef struct report {
    const del_notify *notify;
    size_t problems, warnings;
} report;

static void problem(report *r, const char *kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(report *r, const char *kind, const char *fmt, ...)
{
    char msg[DEL_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int warning = !strcmp(kind, "changed") || !strcmp(kind, "missing") || !strcmp(kind, "warning") ||
                  !strcmp(kind, "stale");
    if (warning)
        r->warnings++;
    else
        r->problems++;
    del_event ev = {.type = DEL_EV_CHECK_PROBLEM, .field = kind, .message = msg,
                    .severity = warning ? DEL_SEV_WARNING : DEL_SEV_ERROR};
    del_emit(r->notify, &ev);
}

/* verify's checker: every problem, collected */
static int collect(void *payload, const char *check, const del_err *e)
{
    problem(payload, check, "%s", e->msg);
    return 0;
}

static void data_problem(void *ud, const char *msg)
{
    problem(ud, "data", "%s", msg);
}

/* The signature against the trusted keys; -1 when it fails them. */
static int verify_trust(app *a, report *r, const char *dir, const manifest *mf, trust_result *trust)
{
    trust_keys tk;
    del_err e;
    memset(trust, 0, sizeof *trust);
    if (trust_run_keys(a, &tk, &e) != 0) {
        problem(r, "signature", "%s", e.msg);
        return -1;
    }
    int rc = trust_check_bundle(&tk, dir, mf, trust, &e);
    if (rc != 0)
        problem(r, "signature", "%s", e.msg);
    trust_keys_free(&tk);
    return rc;
}

static void check_drift(app *a, report *r, const manifest *mf, char (*actual)[65], verify_args const *v)
{
    del_err e;
    PGconn *conn = app_connect(a, "verify", &e);
    if (!conn) {
        problem(r, "database", "%s", e.msg);
        return;
    }
    vstate st;
    if (store_read_state(conn, a->cfg.version_table_schema, &st, &e) != 0) {
        problem(r, "database", "%s", e.msg);
        PQfinish(conn);
        return;
    }
    for (size_t i = 0; i < mf->n; i++) {
        const mentry *m = &mf->m[i];
        const vrow *row = store_find(&st, m->revision);
        if (!row || !row->succeeded)
            continue;
        /* the manifest's entry, and the file as it is now */
        const char *now = actual[i][0] ? actual[i] : m->sha256;
        if (drift_changed(row->checksum, m->identity, m->sha256) || drift_changed(row->checksum, m->identity, now))
            problem(r, v->strict ? "changed (strict)" : "changed",
                    "%s was applied with identity %.12s..., the bundle now has %s %.12s...; its code changed after it ran",
                    m->revision, row->checksum, m->identity ? "identity" : ".so sha256",
                    m->identity ? m->identity : now);
    }
    for (size_t k = 0; k < st.n; k++)
        if (manifest_find(mf, st.rows[k].revision) < 0)
            problem(r, "missing", "%s is in the database (%s) but not in this bundle", st.rows[k].revision,
                    st.rows[k].status);
    store_free_state(&st);
    PQfinish(conn);
}

int cmd_verify(app *a, const verify_args *v, del_err *err)
{
    report r = {.notify = a->o->notify};
    const char *dir = a->bundle_dir;
    manifest mf = {0};
    int have_mf = 0;
    char (*actual)[65] = NULL;
    trust_result trust;
    memset(&trust, 0, sizeof trust);
    int checked_trust = 0;
    struct stat st;
    del_err e;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        problem(&r, "bundle", "%s: bundle folder not found; build it with 'delembic build' or name it with --bundle DIR", dir);
        goto summary;
    }
    /* a folder or manifest that others could have changed: its plugins are
     * checked, but none is loaded (that would run its constructors) */
    int trusted = 1;
    if (loader_check_mode(dir, &st, 1, &e) != 0) {
        problem(&r, "permissions", "%s", e.msg);
        trusted = 0;
    }
    char *mpath = path_join(dir, MANIFEST_FILE);
    struct stat mst;
    int manifest_file = lstat(mpath, &mst) != 0 || S_ISREG(mst.st_mode); /* missing: manifest_load says so */
    free(mpath);
    if (bundle_check_manifest_file(dir, &e) != 0) {
        problem(&r, manifest_file ? "permissions" : "manifest", "%s", e.msg);
        trusted = 0;
        if (!manifest_file)
            goto summary;
    }
    /* the signature first: a manifest changed after signing is refused as
     * that, naming the key id, whatever it was changed into; a bundle that
     * fails it has none of its plugins loaded */
    if (verify_trust(a, &r, dir, NULL, &trust) != 0)
        trusted = 0;
    checked_trust = 1;
    if (manifest_load(dir, app_cache_dir(a), &mf, &e) != 0) {
        problem(&r, "manifest", "%s", e.msg);
        goto summary;
    }
    have_mf = 1;
    if (mf.abi != (int)DM_ABI_VERSION)
        problem(&r, "abi", "%s/manifest.yaml: bundle ABI %d, but this delembic speaks ABI %u; rebuild the bundle",
                dir, mf.abi, DM_ABI_VERSION);
    bundle_checker all = {collect, &r, 0}; /* a missing file: the file checks below say it */
    bundle_check_listing(dir, &mf, &all);
    /* the manifest parsed is the one verified; then the data files */
    if (trust_same_manifest(&trust, &mf, &e) != 0) {
        problem(&r, "signature", "%s", e.msg);
        trusted = 0;
    }
    datafiles_check(dir, &mf, 1, data_problem, &r, &e);
    /* each file: present, inside, permissions, ELF, sha256 */
    actual = xcalloc(mf.n, 65);
    inspect_item *ok_items = xcalloc(mf.n, sizeof *ok_items);
    size_t *ok_idx = xcalloc(mf.n, sizeof *ok_idx);
    size_t nok = 0;
    /* the libraries it lists: each verified as a plugin is */
    char *lib_failed = xcalloc(mf.nlibs, 1);
    for (size_t i = 0; i < mf.nlibs; i++)
        if ((lib_failed[i] = loader_check_library(dir, &mf, i, &e) != 0))
            problem(&r, "library", "%s", e.msg);
    for (size_t i = 0; i < mf.n; i++) {
        int fd;
        if (loader_open_verified(dir, mf.m[i].file, NULL, &fd, actual[i], &e) != 0) {
            problem(&r, "file", "%s", e.msg);
            continue;
        }
        int linked = strcmp(actual[i], mf.m[i].sha256) == 0 &&
                     loader_check_links(dir, &mf, fd, mf.m[i].file, NULL, lib_failed, &e) == 0;
        close(fd);
        if (strcmp(actual[i], mf.m[i].sha256) != 0) {
            problem(&r, "checksum", "%s/%s: sha256 is %.12s... but manifest.yaml says %.12s...; the file changed after the build. Rebuild the bundle or restore the file",
                    dir, mf.m[i].file, actual[i], mf.m[i].sha256);
            continue;
        }
        if (!linked) {
            problem(&r, "library", "%s", e.msg);
            continue;
        }
        ok_items[nok] = (inspect_item){mf.m[i].file, mf.m[i].sha256, NULL};
        ok_idx[nok++] = i;
    }
    free(lib_failed);
    /* descriptors, in a child process that loads each as a run does: only
     * files that passed every check above, from a bundle that did */
    if (nok && trusted) {
        plugin_info *info = xcalloc(nok, sizeof *info);
        if (inspect_plugins(dir, &mf, ok_items, nok, app_env_of(a->o)->load_timeout, info, &e) != 0) {
            problem(&r, "inspect", "%s", e.msg);
        } else {
            for (size_t k = 0; k < nok; k++) {
                const mentry *m = &mf.m[ok_idx[k]];
                char *path = path_join(dir, m->file);
                if (info[k].error) {
                    problem(&r, "descriptor", "%s", info[k].error);
                } else {
                    struct dm_descriptor d = {.abi_version = DM_ABI_VERSION, .size = sizeof d,
                                              .revision = info[k].revision,
                                              .depends_on = (const char *const *)info[k].depends_on.v};
                    if (loader_match_manifest(&d, m, path, &e) != 0)
                        problem(&r, "descriptor", "%s", e.msg);
                }
                free(path);
                plugin_info_free(&info[k]);
            }
        }
        free(info);
    }
    free(ok_items);
    free(ok_idx);
    /* the DAG and dependencies */
    dag g;
    if (bundle_build_dag(&mf, &g, &e) != 0) {
        problem(&r, "dag", "%s/manifest.yaml: %s", dir, e.msg);
    } else {
        bundle_check_dependencies(dir, &mf, &g, &all);
        dag_free(&g);
    }
    /* from a project: sources edited since the build, as upgrade says */
    if (!a->o->bundle) {
        strvec stale = {0};
        buildstate_stale(a->bundle_dir, a->cfg.dir, a->cfg.script_location, &stale);
        for (size_t i = 0; i < stale.n; i++)
            problem(&r, v->strict ? "stale (strict)" : "stale", "%s changed since the last build; run 'delembic build'",
                    stale.v[i]);
        strvec_clear(&stale);
    }
    /* drift, when a database is configured */
    if (!v->offline && a->url)
        check_drift(a, &r, &mf, actual, v);
summary:;
    del_signature sig = {.signed_bundle = trust.signed_bundle, .verified = trust.verified,
                         .trusted_keys = trust.nkeys,
                         .key_id = trust.key_id[0] ? trust.key_id : NULL,
                         .trusted_key = trust.key_name[0] ? trust.key_name : NULL,
                         .bundle_version = trust.version[0] ? trust.version : NULL,
                         .signed_at = trust.signed_at[0] ? trust.signed_at : NULL};
    del_verify res = {.bundle = dir, .signature = checked_trust ? &sig : NULL,
                      .migrations = have_mf ? mf.n : 0, .problems = r.problems, .warnings = r.warnings};
    del_emit_result(a->o->notify, DEL_RESULT_VERIFY, &res);
    free(actual);
    if (have_mf)
        manifest_free(&mf);
    if (r.problems) {
        del_fail(err, DEL_KIND_BUNDLE, "%zu problem(s)", r.problems);
        err->reported = 1; /* each problem had its line */
        return -1;
    }
    return 0;
}
