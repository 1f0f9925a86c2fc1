#include "buildstate.h"

#include <dirent.h>
#include <errno.h>
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

static int parse_ll(const char **p, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(*p, &end, 10);
    if (end == *p || *end != ' ' || errno || v < 0)
        return -1;
    *out = v;
    *p = end + 1;
    return 0;
}

void srcset_parse(const char *text, srcset *s)
{
    const char *p = text;
    while (*p) {
        const char *eol = strchr(p, '\n');
        if (!eol)
            break;
        if (strncmp(p, "input ", 6) == 0) {
            srcfile f = {0};
            const char *q = p + 6;
            if ((size_t)(eol - q) < SHA256_HEX_LEN + 1 || q[SHA256_HEX_LEN] != ' ')
                break;
            memcpy(f.sha256, q, SHA256_HEX_LEN);
            q += SHA256_HEX_LEN + 1;
            if (!sha256_is_hex(f.sha256) || parse_ll(&q, &f.size) != 0 || parse_ll(&q, &f.sec) != 0 ||
                parse_ll(&q, &f.nsec) != 0 || q >= eol || *q != '/')
                break;
            f.path = xstrndup(q, (size_t)(eol - q));
            srcset_add(s, &f);
            free(f.path);
        }
        p = eol + 1;
    }
}

void srcset_format(const srcset *s, sbuf *out)
{
    for (size_t i = 0; i < s->n; i++)
        sbuf_printf(out, "input %s %lld %lld %lld %s\n", s->f[i].sha256, s->f[i].size, s->f[i].sec,
                    s->f[i].nsec, s->f[i].path);
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
        return del_fail(err, DEL_EUSAGE, "%s: cannot read: %s", path, strerror(errno));
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

static void push_shown(strvec *out, const char *project_dir, const char *path)
{
    size_t l = strlen(project_dir);
    if (l > 1 && strncmp(path, project_dir, l) == 0 && path[l] == '/')
        strvec_push(out, path + l + 1);
    else
        strvec_push(out, path);
}

void buildstate_stale(const char *bundle_dir, const char *project_dir, const char *script_dir, strvec *stale)
{
    char *dir = buildstate_dir(bundle_dir);
    char *file = path_join(dir, BUILDSTATE_INPUTS);
    free(dir);
    char *text = NULL;
    if (read_file(file, BUILDSTATE_MAX_BYTES, &text, NULL, NULL) != 0 ||
        strncmp(text, BUILDSTATE_INPUTS_HEADER, strlen(BUILDSTATE_INPUTS_HEADER)) != 0) {
        free(text);
        free(file);
        return;
    }
    free(file);
    srcset rec = {0};
    srcset_parse(text, &rec);
    free(text);
    for (size_t i = 0; i < rec.n; i++) {
        const srcfile *f = &rec.f[i];
        if (!srcfile_moved(f))
            continue;
        char now[SHA256_HEX_LEN + 1];
        /* gone, unreadable or another content: stale; only the bytes decide */
        if (!path_exists(f->path) || sha256_file(f->path, now, NULL) != 0 || strcmp(now, f->sha256) != 0)
            push_shown(stale, project_dir, f->path);
    }
    DIR *d = opendir(script_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !has_suffix(de->d_name, ".c"))
            continue;
        char *src = path_join(script_dir, de->d_name);
        if (!srcset_find(&rec, src))
            push_shown(stale, project_dir, src);
        free(src);
    }
    if (d)
        closedir(d);
    srcset_free(&rec);
    strvec_sort_natural(stale);
}
