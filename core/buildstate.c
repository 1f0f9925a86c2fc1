#include "buildstate.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *buildstate_dir(const char *bundle_dir)
{
    char *parent = path_dirname(bundle_dir);
    char *dir = xasprintf("%s/.%s.build-state", parent, path_basename(bundle_dir));
    free(parent);
    return dir;
}

void srcset_free(srcset *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->f[i].path);
    free(s->f);
    strmap_free(&s->idx);
    memset(s, 0, sizeof *s);
}

const srcfile *srcset_find(const srcset *s, const char *path)
{
    long i = s->n ? strmap_get(&s->idx, path) : -1;
    return i >= 0 ? &s->f[i] : NULL;
}

void srcset_add(srcset *s, const srcfile *f)
{
    if (srcset_find(s, f->path))
        return;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->f = xrealloc(s->f, s->cap * sizeof *s->f);
    }
    srcfile *d = &s->f[s->n];
    *d = *f;
    d->path = xstrdup(f->path);
    strmap_put(&s->idx, d->path, (long)s->n);
    s->n++;
}

/* a decimal number followed by one space */
static int parse_num(const char **p, long long *out)
{
    const char *q = *p;
    long long v = 0;
    if (*q < '0' || *q > '9')
        return -1;
    for (; *q >= '0' && *q <= '9'; q++) {
        if (v > (LLONG_MAX - 9) / 10)
            return -1;
        v = v * 10 + (*q - '0');
    }
    if (*q != ' ')
        return -1;
    *out = v;
    *p = q + 1;
    return 0;
}

/* One NUL-terminated record line, read in place. */
typedef struct recview {
    const char *sha;      /* 64 hex, not terminated */
    long long size, sec, nsec;
    const char *path;
} recview;

static int view_line(const char *line, recview *r)
{
    if (strncmp(line, "input ", 6) != 0)
        return -1;
    const char *q = line + 6;
    r->sha = q;
    if (strnlen(q, SHA256_HEX_LEN + 1) < SHA256_HEX_LEN + 1 || q[SHA256_HEX_LEN] != ' ')
        return -1;
    for (size_t i = 0; i < SHA256_HEX_LEN; i++)
        if (!((q[i] >= '0' && q[i] <= '9') || (q[i] >= 'a' && q[i] <= 'f')))
            return -1;
    q += SHA256_HEX_LEN + 1;
    if (parse_num(&q, &r->size) != 0 || parse_num(&q, &r->sec) != 0 || parse_num(&q, &r->nsec) != 0 || !*q)
        return -1;
    r->path = q;
    return 0;
}

/* The next line of text, its newline replaced by NUL; NULL at the end. */
static char *next_line(char **p)
{
    char *line = *p, *eol = strchr(line, '\n');
    if (!eol)
        return NULL;
    *eol = '\0';
    *p = eol + 1;
    return line;
}

void srcset_parse(char *text, srcset *s)
{
    char *p = text, *line;
    while ((line = next_line(&p))) {
        recview r;
        if (view_line(line, &r) != 0) {
            if (strncmp(line, "input ", 6) == 0)
                break;
            continue;
        }
        srcfile f = {.path = (char *)r.path, .size = r.size, .sec = r.sec, .nsec = r.nsec};
        memcpy(f.sha256, r.sha, SHA256_HEX_LEN);
        srcset_add(s, &f);
    }
}

/* path from base when inside it, else as it is */
static const char *relative_to(const char *path, const char *base)
{
    size_t l = base ? strlen(base) : 0;
    return l > 1 && strncmp(path, base, l) == 0 && path[l] == '/' ? path + l + 1 : path;
}

void srcset_format(const srcset *s, const char *base, sbuf *out)
{
    for (size_t i = 0; i < s->n; i++)
        sbuf_printf(out, "input %s %lld %lld %lld %s\n", s->f[i].sha256, s->f[i].size, s->f[i].sec,
                    s->f[i].nsec, relative_to(s->f[i].path, base));
}

static void stat_into(const struct stat *st, srcfile *f)
{
    f->size = (long long)st->st_size;
    f->sec = (long long)st->st_mtim.tv_sec;
    f->nsec = (long long)st->st_mtim.tv_nsec;
}

static int same_stat(const srcfile *a, const srcfile *b)
{
    return a->size == b->size && a->sec == b->sec && a->nsec == b->nsec;
}

int srcset_snap(srcset *s, const char *path, const srcset *known, del_err *err)
{
    if (srcset_find(s, path))
        return 0;
    struct stat st;
    if (stat(path, &st) != 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", path, strerror(errno));
    srcfile f = {.path = (char *)path};
    stat_into(&st, &f);
    const srcfile *k = known ? srcset_find(known, path) : NULL;
    if (k && same_stat(k, &f))
        memcpy(f.sha256, k->sha256, sizeof f.sha256);
    else if (sha256_file(path, f.sha256, err) != 0)
        return -1;
    srcset_add(s, &f);
    return 0;
}

int srcfile_moved(const srcfile *f)
{
    struct stat st;
    if (stat(f->path, &st) != 0)
        return 1;
    srcfile now = {0};
    stat_into(&st, &now);
    return !same_stat(f, &now);
}

static int is_source_of(const char *path, const char *script_dir)
{
    size_t l = strlen(script_dir);
    return strncmp(path, script_dir, l) == 0 && path[l] == '/' && !strchr(path + l + 1, '/') &&
           path[l + 1] != '.' && has_suffix(path, ".c");
}

/* Called by every upgrade from a project: no allocation per record, a stat
 * per file, a hash only for a file whose size or mtime moved. */
void buildstate_stale(const char *bundle_dir, const char *project_dir, const char *script_dir, strvec *stale)
{
    char *dir = buildstate_dir(bundle_dir);
    char *file = path_join(dir, BUILDSTATE_INPUTS);
    free(dir);
    char *text = NULL;
    size_t hlen = 0;
    if (read_file(file, BUILDSTATE_MAX_BYTES, &text, NULL, NULL) == 0) {
        if (strncmp(text, BUILDSTATE_INPUTS_HEADER, strlen(BUILDSTATE_INPUTS_HEADER)) == 0)
            hlen = strlen(BUILDSTATE_INPUTS_HEADER);
        else if (strncmp(text, BUILDSTATE_INPUTS_HEADER_V1, strlen(BUILDSTATE_INPUTS_HEADER_V1)) == 0)
            hlen = strlen(BUILDSTATE_INPUTS_HEADER_V1); /* absolute paths: read the same way */
    }
    free(file);
    if (!hlen) {
        free(text);
        return;
    }
    /* the sources recorded, by base name (they are directly in script_dir) */
    strmap sources = {0};
    size_t nsources = 0;
    int source_gone = 0;
    /* sources recorded but gone: their recorded sha256 and path, so that a
     * source renamed without a rebuild (the same bytes under a new name) is
     * not stale: the bundle runs that very code */
    strvec gone_sha = {0}, gone_path = {0};
    char *p = text + hlen, *line;
    char full[PATH_MAX];
    size_t plen = strlen(project_dir);
    while ((line = next_line(&p))) {
        recview r;
        if (view_line(line, &r) != 0)
            break;
        /* a path inside the project is recorded from it, so a project moved
         * or copied with its build folder keeps its record */
        const char *path = r.path;
        if (path[0] != '/') {
            if (plen + 1 + strlen(path) >= sizeof full)
                continue;
            snprintf(full, sizeof full, "%s/%s", project_dir, path);
            path = full;
        }
        struct stat st;
        int gone = stat(path, &st) != 0;
        if (is_source_of(path, script_dir)) {
            strmap_put(&sources, path_basename(r.path), (long)nsources++);
            source_gone |= gone;
        }
        if (!gone && (long long)st.st_size == r.size && (long long)st.st_mtim.tv_sec == r.sec &&
            (long long)st.st_mtim.tv_nsec == r.nsec)
            continue;
        char now[SHA256_HEX_LEN + 1];
        if (gone && is_source_of(path, script_dir)) {
            char sha[SHA256_HEX_LEN + 1];
            memcpy(sha, r.sha, SHA256_HEX_LEN);
            sha[SHA256_HEX_LEN] = '\0';
            strvec_push(&gone_sha, sha);
            strvec_push(&gone_path, relative_to(path, project_dir));
            continue;
        }
        /* gone, unreadable or another content: stale; only the bytes decide */
        if (gone || sha256_file(path, now, NULL) != 0 || memcmp(now, r.sha, SHA256_HEX_LEN) != 0)
            strvec_push(stale, relative_to(path, project_dir));
    }
    /* sources never built: the folder has other names than the record */
    size_t ndir = 0;
    DIR *d = opendir(script_dir);
    struct dirent *de;
    while (d && (de = readdir(d)))
        ndir += de->d_name[0] != '.' && has_suffix(de->d_name, ".c");
    if (d && (ndir != nsources || source_gone)) {
        rewinddir(d);
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".c"))
                continue;
            if (!nsources || strmap_get(&sources, de->d_name) < 0) {
                char *src = path_join(script_dir, de->d_name);
                char now[SHA256_HEX_LEN + 1];
                size_t k = gone_sha.n;
                if (gone_sha.n && sha256_file(src, now, NULL) == 0)
                    for (k = 0; k < gone_sha.n && strcmp(gone_sha.v[k], now); k++)
                        ;
                if (k < gone_sha.n)
                    gone_sha.v[k][0] = '\0'; /* a rename: that gone source is this one */
                else
                    strvec_push(stale, relative_to(src, project_dir));
                free(src);
            }
        }
    }
    if (d)
        closedir(d);
    for (size_t k = 0; k < gone_sha.n; k++)
        if (gone_sha.v[k][0])
            strvec_push(stale, gone_path.v[k]);
    strvec_clear(&gone_sha);
    strvec_clear(&gone_path);
    strmap_free(&sources);
    free(text);
    strvec_sort_natural(stale);
}
