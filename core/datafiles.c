#include "datafiles.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "util.h"

static int by_natural(const void *a, const void *b)
{
    return natural_cmp(((const mdata *)a)->file, ((const mdata *)b)->file);
}

/* bundle_dir/data/name opened without following a link: a regular file (fd
 * and st), or -1 with err saying what it is. */
static int open_data(const char *bundle_dir, const char *file, int *fd, struct stat *st, del_err *err)
{
    char *path = path_join(bundle_dir, file);
    int rc = 0;
    *fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (*fd < 0) {
        struct stat lst;
        if (errno == ENOENT)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: listed in manifest.yaml but missing; restore the file or rebuild the bundle",
                          path);
        else if (lstat(path, &lst) == 0 && !S_ISREG(lst.st_mode))
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s, not a regular file; a bundle's data files are plain files in its data/ folder",
                          path, file_kind(lst.st_mode));
        else
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot open: %s", path, strerror(errno));
    } else if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s, not a regular file; a bundle's data files are plain files in its data/ folder",
                      path, file_kind(st->st_mode));
        close(*fd);
        *fd = -1;
    }
    free(path);
    return rc;
}

/* The names in bundle_dir/data (sorted), or none when there is no folder. */
static int list_names(const char *bundle_dir, strvec *names, del_err *err)
{
    char *dir = path_join(bundle_dir, MANIFEST_DATA_DIR);
    struct stat st;
    int rc = 0;
    if (lstat(dir, &st) != 0) {
        if (errno != ENOENT)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", dir, strerror(errno));
        free(dir);
        return rc;
    }
    if (!S_ISDIR(st.st_mode)) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s, not a folder; a bundle's data/ is a folder of plain files",
                      dir, file_kind(st.st_mode));
        free(dir);
        return rc;
    }
    DIR *d = opendir(dir);
    if (!d) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", dir, strerror(errno));
        free(dir);
        return rc;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (names->n >= DATAFILES_MAX) {
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: more than %d files; a bundle's data/ holds at most that many",
                          dir, DATAFILES_MAX);
            break;
        }
        strvec_push_owned(names, xasprintf("%s/%s", MANIFEST_DATA_DIR, de->d_name));
    }
    closedir(d);
    free(dir);
    strvec_sort_natural(names);
    return rc;
}

int datafiles_scan(const char *bundle_dir, manifest *mf, del_err *err)
{
    for (size_t i = 0; i < mf->ndata; i++) {
        free(mf->data[i].file);
        free(mf->data[i].sha256);
    }
    free(mf->data);
    mf->data = NULL;
    mf->ndata = 0;
    strvec names = {0};
    int rc = list_names(bundle_dir, &names, err);
    for (size_t i = 0; rc == 0 && i < names.n; i++) {
        const char *base = names.v[i] + strlen(MANIFEST_DATA_DIR "/");
        if (base[0] == '.') {
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s/%s: a hidden file in data/; remove it (build copies no hidden files)",
                          bundle_dir, names.v[i]);
            break;
        }
        int fd;
        struct stat st;
        char hex[SHA256_HEX_LEN + 1];
        if (open_data(bundle_dir, names.v[i], &fd, &st, err) != 0) {
            rc = -1;
            break;
        }
        rc = sha256_fd(fd, names.v[i], hex, err);
        close(fd);
        if (rc == 0) {
            mdata *d = manifest_add_data(mf);
            d->file = xstrdup(names.v[i]);
            d->sha256 = xstrdup(hex);
            d->size = (long long)st.st_size;
        }
    }
    strvec_clear(&names);
    if (rc == 0 && mf->ndata > 1)
        qsort(mf->data, mf->ndata, sizeof *mf->data, by_natural);
    return rc;
}

/* One problem: to the report (and go on), or into err (and stop). */
static int note(datafiles_report_fn report, void *ud, del_err *err, const char *msg)
{
    if (report) {
        report(ud, msg);
        return 0;
    }
    del_fail(err, DEL_KIND_BUNDLE, "%s", msg);
    return -1;
}

int datafiles_check(const char *bundle_dir, const manifest *mf, int hash, datafiles_report_fn report,
                    void *ud, del_err *err)
{
    strvec names = {0};
    del_err e;
    int problems = 0;
    if (list_names(bundle_dir, &names, &e) != 0) {
        strvec_clear(&names);
        note(report, ud, err, e.msg);
        return -1;
    }
    for (size_t i = 0; i < names.n; i++)
        if (manifest_find_data(mf, names.v[i]) < 0) {
            char *msg = xasprintf("%s/%s: a data file that manifest.yaml does not list; remove it or rebuild the bundle",
                                  bundle_dir, names.v[i]);
            problems++;
            int stop = note(report, ud, err, msg);
            free(msg);
            if (stop) {
                strvec_clear(&names);
                return -1;
            }
        }
    strvec_clear(&names);
    for (size_t i = 0; i < mf->ndata; i++) {
        const mdata *d = &mf->data[i];
        int fd;
        struct stat st;
        char hex[SHA256_HEX_LEN + 1];
        char *msg = NULL;
        if (open_data(bundle_dir, d->file, &fd, &st, &e) != 0) {
            msg = xstrdup(e.msg);
        } else {
            if ((long long)st.st_size != d->size)
                msg = xasprintf("%s/%s: %lld bytes but manifest.yaml says %lld; the file changed after the build. Restore it or rebuild the bundle",
                                bundle_dir, d->file, (long long)st.st_size, d->size);
            else if (hash && sha256_fd(fd, d->file, hex, &e) != 0)
                msg = xstrdup(e.msg);
            else if (hash && strcmp(hex, d->sha256))
                msg = xasprintf("%s/%s: sha256 is %.12s... but manifest.yaml says %.12s...; the file changed after the build. Restore it or rebuild the bundle",
                                bundle_dir, d->file, hex, d->sha256);
            close(fd);
        }
        if (msg) {
            problems++;
            int stop = note(report, ud, err, msg);
            free(msg);
            if (stop)
                return -1;
        }
    }
    if (problems && report)
        del_fail(err, DEL_KIND_BUNDLE, "%d data file problem(s)", problems);
    return problems ? -1 : 0;
}

struct datafiles_stream {
    EVP_MD_CTX *md;
    char *file;          /* bundle_dir/data/NAME, for messages */
    char sha256[SHA256_HEX_LEN + 1];
    long long size, seen;
};

/* The real folder of path with its own last name kept (a link there is not
 * followed: a link swapped in for a data file is still that data file). */
static char *resolve_parent(const char *path)
{
    char *parent = path_dirname(path);
    char real[PATH_MAX];
    char *out = realpath(parent, real) ? path_join(real, path_basename(path)) : NULL;
    free(parent);
    return out;
}

int datafiles_stream_begin(const char *bundle_dir, const manifest *mf, const char *path,
                           datafiles_stream **out, del_err *err)
{
    *out = NULL;
    char real_bundle[PATH_MAX];
    if (!bundle_dir || !realpath(bundle_dir, real_bundle))
        return 0;
    char *full = path[0] == '/' ? xstrdup(path) : path_join(bundle_dir, path);
    char *resolved = resolve_parent(full);
    char *data_dir = path_join(real_bundle, MANIFEST_DATA_DIR);
    size_t dl = strlen(data_dir);
    int rc = 0;
    if (resolved && !strncmp(resolved, data_dir, dl) && resolved[dl] == '/') {
        const char *rest = resolved + dl + 1;
        char *file = xasprintf("%s/%s", MANIFEST_DATA_DIR, rest);
        long k = strchr(rest, '/') ? -1 : manifest_find_data(mf, file);
        if (k < 0) {
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s/%s: in the bundle's data/ folder but not listed in manifest.yaml; rebuild the bundle",
                          bundle_dir, file);
        } else {
            datafiles_stream *s = xcalloc(1, sizeof *s);
            s->md = EVP_MD_CTX_new();
            if (!s->md || EVP_DigestInit_ex(s->md, EVP_sha256(), NULL) != 1) {
                EVP_MD_CTX_free(s->md);
                free(s);
                rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot start SHA-256", file);
            } else {
                s->file = xasprintf("%s/%s", bundle_dir, file);
                memcpy(s->sha256, mf->data[k].sha256, sizeof s->sha256);
                s->size = mf->data[k].size;
                *out = s;
            }
        }
        free(file);
    }
    free(full);
    free(resolved);
    free(data_dir);
    return rc;
}

void datafiles_stream_update(datafiles_stream *s, const void *buf, size_t n)
{
    if (!s)
        return;
    s->seen += (long long)n;
    if (s->md && EVP_DigestUpdate(s->md, buf, n) != 1) {
        EVP_MD_CTX_free(s->md);
        s->md = NULL;
    }
}

int datafiles_stream_end(datafiles_stream *s, del_err *err)
{
    if (!s)
        return 0;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned dl = 0;
    int rc = 0;
    if (!s->md || EVP_DigestFinal_ex(s->md, d, &dl) != 1 || dl * 2 != SHA256_HEX_LEN) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: SHA-256 failed while it was read", s->file);
    } else {
        char hex[SHA256_HEX_LEN + 1];
        for (unsigned i = 0; i < dl; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        if (s->seen != s->size || strcmp(hex, s->sha256))
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: what was read (%lld bytes, sha256 %.12s...) is not what manifest.yaml lists (%lld bytes, %.12s...); the file changed during the run. Restore it and run again",
                          s->file, s->seen, hex, s->size, s->sha256);
    }
    EVP_MD_CTX_free(s->md);
    free(s->file);
    free(s);
    return rc;
}
