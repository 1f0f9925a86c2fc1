#include "manifest_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sha256.h"
#include "util.h"

#define CACHE_MAGIC "delembic-manifest-cache-7"
/* an entry is smaller than the manifest it stands for */
#define CACHE_MAX_BYTES MANIFEST_MAX_BYTES
/* the entries kept: storing one removes all but the newest of these (by mtime) */
#define CACHE_MAX_ENTRIES 64
/* a temporary file this old was left by a writer that died before its rename */
#define CACHE_TMP_STALE_S 3600

int manifest_cache_dir(const char *cache_dir, const char *xdg_cache_home, const char *home, char *out,
                       size_t outsz)
{
    int n = -1;
    if (cache_dir && !strcmp(cache_dir, "off"))
        n = -1;
    else if (cache_dir && *cache_dir)
        n = snprintf(out, outsz, "%s", cache_dir);
    else if (xdg_cache_home && *xdg_cache_home == '/')
        n = snprintf(out, outsz, "%s/delembic", xdg_cache_home);
    else if (home && *home == '/')
        n = snprintf(out, outsz, "%s/.cache/delembic", home);
    if (n < 0 || (size_t)n >= outsz) {
        if (outsz)
            out[0] = '\0';
        return -1;
    }
    return 0;
}

/* The folder to use, or NULL: no cache. */
static char *cache_dir(const char *dir)
{
    return dir && *dir ? xstrdup(dir) : NULL;
}

/* An entry is named by the SHA-256 of the manifest text it stands for. */
#define ENTRY_NAME_MAX (SHA256_HEX_LEN + sizeof ".bin")
static void entry_name(const char text_sha[SHA256_HEX_LEN + 1], char name[ENTRY_NAME_MAX])
{
    snprintf(name, ENTRY_NAME_MAX, "%s.bin", text_sha);
}

static int text_digest(const char *text, size_t len, char sha[SHA256_HEX_LEN + 1])
{
    const void *part = text;
    del_err err;
    return sha256_parts(&part, &len, 1, sha, &err);
}

/* Written by the invoking user or root, and by nobody else. */
static int trusted(const struct stat *st)
{
    return (st->st_uid == geteuid() || st->st_uid == 0) && !(st->st_mode & (S_IWGRP | S_IWOTH));
}

/* The cache folder itself (not a symbolic link), when trusted; -1 otherwise. */
static int open_cache_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode) || !trusted(&st))) {
        close(fd);
        fd = -1;
    }
    return fd;
}

/* ---- the fields, in order: one writer and one reader per record ---- */

typedef struct reader {
    const char *p, *end;
    int bad;
} reader;

static void put_u32(sbuf *b, uint32_t v)
{
    sbuf_add(b, (const char *)&v, sizeof v);
}

static void put_str(sbuf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s ? s : "");
    put_u32(b, n);
    sbuf_add(b, s ? s : "", n);
}

static void put_list(sbuf *b, const strvec *sv)
{
    put_u32(b, (uint32_t)sv->n);
    for (size_t i = 0; i < sv->n; i++)
        put_str(b, sv->v[i]);
}

static uint32_t get_u32(reader *r)
{
    uint32_t v = 0;
    if (r->bad || (size_t)(r->end - r->p) < sizeof v) {
        r->bad = 1;
        return 0;
    }
    memcpy(&v, r->p, sizeof v);
    r->p += sizeof v;
    return v;
}

/* Never NULL: "" after a bad read (the entry is then dropped). */
static char *get_str(reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n || memchr(r->p, '\0', n)) {
        r->bad = 1;
        return xstrdup("");
    }
    char *s = xstrndup(r->p, n);
    r->p += n;
    return s;
}

static void get_list(reader *r, strvec *sv)
{
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++)
        strvec_push_owned(sv, get_str(r));
}

static void put_entry(sbuf *b, const mentry *e)
{
    put_str(b, e->revision);
    put_str(b, e->file);
    put_str(b, e->sha256);
    put_str(b, e->identity); /* "" for none: an identity is never empty */
    put_str(b, e->description);
    put_list(b, &e->depends_on);
    put_list(b, &e->alembic);
}

static void get_entry(reader *r, mentry *e)
{
    e->revision = get_str(r);
    e->file = get_str(r);
    e->sha256 = get_str(r);
    e->identity = get_str(r);
    if (e->identity && !*e->identity) {
        free(e->identity);
        e->identity = NULL;
    }
    e->description = get_str(r);
    get_list(r, &e->depends_on);
    get_list(r, &e->alembic);
}

static void put_library(sbuf *b, const mlib *l)
{
    put_str(b, l->file);
    put_str(b, l->sha256);
}

static void get_library(reader *r, mlib *l)
{
    l->file = get_str(r);
    l->sha256 = get_str(r);
}

/* The payload: every field of mf (the header goes before it). */
static void put_manifest(sbuf *b, const manifest *mf)
{
    put_u32(b, (uint32_t)mf->abi);
    put_u32(b, (uint32_t)mf->has_alembic);
    put_str(b, mf->version_table);
    put_u32(b, (uint32_t)mf->n);
    for (size_t i = 0; i < mf->n; i++)
        put_entry(b, &mf->m[i]);
    put_u32(b, (uint32_t)mf->graph.n);
    for (size_t i = 0; i < mf->graph.n; i++) {
        put_str(b, mf->graph.nodes[i].rev);
        put_list(b, &mf->graph.nodes[i].down);
    }
    put_u32(b, (uint32_t)mf->nlibs);
    for (size_t i = 0; i < mf->nlibs; i++)
        put_library(b, &mf->libs[i]);
    put_u32(b, (uint32_t)mf->ndata);
    for (size_t i = 0; i < mf->ndata; i++) {
        put_str(b, mf->data[i].file);
        put_str(b, mf->data[i].sha256);
        sbuf_add(b, (const char *)&mf->data[i].size, sizeof mf->data[i].size);
    }
}

/* 0 when the whole entry was read; mf is filled either way (free it). */
static int get_manifest(reader *r, manifest *mf)
{
    mf->format = MANIFEST_FORMAT; /* the emitter writes no other */
    mf->abi = (int)get_u32(r);
    mf->has_alembic = get_u32(r) != 0;
    mf->version_table = get_str(r);
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        mentry *e = manifest_add(mf);
        get_entry(r, e);
        strmap_put(&mf->by_revision, e->revision, (long)(mf->n - 1));
        strmap_put(&mf->by_file, e->file, (long)(mf->n - 1));
    }
    uint32_t g = get_u32(r);
    for (uint32_t i = 0; i < g && !r->bad; i++) {
        char *rev = get_str(r);
        alnode *nd = algraph_add(&mf->graph, rev);
        free(rev);
        get_list(r, &nd->down);
    }
    uint32_t nl = get_u32(r);
    for (uint32_t i = 0; i < nl && !r->bad; i++)
        get_library(r, manifest_add_library(mf));
    uint32_t nd = get_u32(r);
    for (uint32_t i = 0; i < nd && !r->bad; i++) {
        mdata *d = manifest_add_data(mf);
        d->file = get_str(r);
        d->sha256 = get_str(r);
        if ((size_t)(r->end - r->p) < sizeof d->size) {
            r->bad = 1;
            break;
        }
        memcpy(&d->size, r->p, sizeof d->size);
        r->p += sizeof d->size;
    }
    return r->bad || r->p != r->end ? -1 : 0;
}

/* ---- pruning ---- */

/* An entry's name as entry_name writes it: 64 hex digits, ".bin". */
static int is_entry_name(const char *n)
{
    size_t i = 0;
    for (; i < SHA256_HEX_LEN; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return 0;
    return !strcmp(n + i, ".bin");
}

/* An entry of the cache's earlier format (named by a 64-bit hash and the
 * text's length: 16 hex digits, '-', digits, ".bin"): never used now, so
 * pruning removes it. */
static int is_old_entry_name(const char *n)
{
    size_t i = 0;
    for (; i < 16; i++)
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return 0;
    if (n[i++] != '-' || !(n[i] >= '0' && n[i] <= '9'))
        return 0;
    while (n[i] >= '0' && n[i] <= '9')
        i++;
    return !strcmp(n + i, ".bin");
}

/* A writer's temporary file: an entry's name, ".tmp.", its pid. */
static int is_tmp_name(const char *n)
{
    const char *t = strstr(n, ".tmp.");
    char head[ENTRY_NAME_MAX];
    size_t l = t ? (size_t)(t - n) : 0;
    if (!t || l >= sizeof head || !t[5])
        return 0;
    memcpy(head, n, l);
    head[l] = '\0';
    for (t += 5; *t; t++)
        if (*t < '0' || *t > '9')
            return 0;
    return is_entry_name(head);
}

typedef struct aged {
    char *name;
    long long mtime_ns;
} aged;

static int newest_first(const void *a, const void *b)
{
    const aged *x = a, *y = b;
    if (x->mtime_ns != y->mtime_ns)
        return x->mtime_ns > y->mtime_ns ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Keep the CACHE_MAX_ENTRIES newest entries of the folder dfd; remove older
 * ones, and temporary files of writers that died. Files that are not the
 * cache's are left alone. Best effort. */
static void prune(int dfd)
{
    int fd = dup(dfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    aged *v = NULL;
    size_t n = 0, cap = 0;
    double now = now_seconds();
    struct dirent *de;
    while ((de = readdir(d))) {
        struct stat st;
        int entry = is_entry_name(de->d_name);
        int tmp = !entry && is_tmp_name(de->d_name);
        int old = !entry && !tmp && is_old_entry_name(de->d_name);
        if ((!entry && !tmp && !old) || fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISREG(st.st_mode))
            continue;
        if (old) {
            unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (tmp) {
            if (now - (double)st.st_mtim.tv_sec > CACHE_TMP_STALE_S)
                unlinkat(dfd, de->d_name, 0);
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : CACHE_MAX_ENTRIES * 2;
            v = xrealloc(v, cap * sizeof *v);
        }
        v[n].name = xstrdup(de->d_name);
        v[n].mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
        n++;
    }
    closedir(d);
    if (n > CACHE_MAX_ENTRIES) {
        qsort(v, n, sizeof *v, newest_first);
        for (size_t i = CACHE_MAX_ENTRIES; i < n; i++)
            unlinkat(dfd, v[i].name, 0);
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* ---- storing and loading ---- */

/* An entry: CACHE_MAGIC (with its NUL), the SHA-256 of the manifest text,
 * the SHA-256 of the payload (hex), the payload. */
#define HEADER_BYTES (sizeof CACHE_MAGIC + 2 * SHA256_HEX_LEN)

void manifest_cache_store(const char *cdir, const char *text, size_t len, const manifest *mf)
{
    char *dir = cache_dir(cdir);
    char text_sha[SHA256_HEX_LEN + 1], body_sha[SHA256_HEX_LEN + 1];
    if (!dir || text_digest(text, len, text_sha) != 0) {
        free(dir);
        return;
    }
    int dfd = -1;
    if (mkdir_p(dir, 0700, NULL) == 0)
        dfd = open_cache_dir(dir);
    free(dir);
    if (dfd < 0)
        return;
    char name[ENTRY_NAME_MAX], tmp[ENTRY_NAME_MAX + 32];
    entry_name(text_sha, name);
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", name, (long)getpid());
    sbuf body = {0};
    put_manifest(&body, mf);
    sbuf b = {0};
    if (text_digest(body.s ? body.s : "", body.len, body_sha) != 0) {
        sbuf_free(&body);
        close(dfd);
        return;
    }
    sbuf_add(&b, CACHE_MAGIC, sizeof CACHE_MAGIC);
    sbuf_add(&b, text_sha, SHA256_HEX_LEN);
    sbuf_add(&b, body_sha, SHA256_HEX_LEN);
    sbuf_add(&b, body.s ? body.s : "", body.len);
    sbuf_free(&body);
    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    int ok = fd >= 0;
    for (size_t off = 0; ok && off < b.len;) {
        ssize_t w = write(fd, b.s + off, b.len - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (fd >= 0 && (!ok || renameat(dfd, tmp, dfd, name) != 0))
        unlinkat(dfd, tmp, 0);
    else if (fd >= 0)
        prune(dfd);
    sbuf_free(&b);
    close(dfd);
}

/* The entry's bytes, when the folder and the file are trusted. */
static int read_entry(const char *cdir, const char text_sha[SHA256_HEX_LEN + 1], char **data, size_t *dlen)
{
    char *dir = cache_dir(cdir);
    if (!dir)
        return -1;
    int dfd = open_cache_dir(dir);
    free(dir);
    if (dfd < 0)
        return -1;
    char name[ENTRY_NAME_MAX];
    entry_name(text_sha, name);
    /* O_NONBLOCK: a FIFO planted under the name must not block the open */
    int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    close(dfd);
    struct stat st;
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || !trusted(&st) ||
        st.st_size <= 0 || (uint64_t)st.st_size > CACHE_MAX_BYTES) {
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size, n = 0;
    char *buf = xmalloc(size);
    while (n < size) {
        ssize_t r = read(fd, buf + n, size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    if (n != size) {
        free(buf);
        return -1;
    }
    *data = buf;
    *dlen = size;
    return 0;
}

int manifest_cache_load(const char *cdir, const char *text, size_t len, const char *path, manifest *mf)
{
    memset(mf, 0, sizeof *mf);
    char text_sha[SHA256_HEX_LEN + 1], body_sha[SHA256_HEX_LEN + 1];
    char *data;
    size_t dlen;
    if (text_digest(text, len, text_sha) != 0 || read_entry(cdir, text_sha, &data, &dlen) != 0)
        return -1;
    /* the entry is the one written for this very text, whole */
    int whole = dlen >= HEADER_BYTES;
    const char *body = whole ? data + HEADER_BYTES : data;
    size_t blen = whole ? dlen - HEADER_BYTES : 0;
    int rc = whole && !memcmp(data, CACHE_MAGIC, sizeof CACHE_MAGIC) &&
                     !memcmp(data + sizeof CACHE_MAGIC, text_sha, SHA256_HEX_LEN) &&
                     text_digest(body, blen, body_sha) == 0 &&
                     !memcmp(data + sizeof CACHE_MAGIC + SHA256_HEX_LEN, body_sha, SHA256_HEX_LEN)
                 ? 0
                 : -1;
    if (rc == 0) {
        reader r = {body, body + blen, 0};
        rc = get_manifest(&r, mf);
    }
    free(data);
    if (rc != 0) {
        manifest_free(mf);
        return -1;
    }
    mf->path = xstrdup(path);
    return 0;
}

int manifest_load(const char *bundle_dir, const char *cdir, manifest *mf, del_err *err)
{
    char *path = path_join(bundle_dir, MANIFEST_FILE);
    char *text;
    size_t len;
    if (read_file(path, MANIFEST_MAX_BYTES, &text, &len, err) != 0) {
        if (!path_exists(path))
            del_fail(err, DEL_KIND_BUNDLE, "%s: no manifest in the bundle folder; build one with 'delembic build' or name the bundle with --bundle DIR",
                     path);
        free(path);
        memset(mf, 0, sizeof *mf);
        return -1;
    }
    char text_sha[SHA256_HEX_LEN + 1] = "";
    const void *part = text;
    if (sha256_parts(&part, &len, 1, text_sha, err) != 0) {
        free(text);
        free(path);
        memset(mf, 0, sizeof *mf);
        return -1;
    }
    if (manifest_cache_load(cdir, text, len, path, mf) == 0) {
        memcpy(mf->text_sha256, text_sha, sizeof text_sha);
        free(text);
        free(path);
        return 0;
    }
    int rc = manifest_parse(path, text, len, mf, err);
    if (rc == 0) {
        manifest_cache_store(cdir, text, len, mf);
        memcpy(mf->text_sha256, text_sha, sizeof text_sha);
    }
    free(text);
    free(path);
    return rc;
}
