#include "manifest_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define CACHE_MAGIC "delembic-manifest-cache-4"

/* $DELEMBIC_CACHE_DIR, else $XDG_CACHE_HOME/delembic, else ~/.cache/delembic;
 * "off" disables the cache. */
static char *cache_dir(void)
{
    const char *d = getenv("DELEMBIC_CACHE_DIR");
    if (d && !strcmp(d, "off"))
        return NULL;
    if (d && *d)
        return xstrdup(d);
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && *xdg == '/')
        return path_join(xdg, "delembic");
    const char *home = getenv("HOME");
    if (home && *home == '/')
        return xasprintf("%s/.cache/delembic", home);
    return NULL;
}

/* FNV-1a, 64 bits: names the entry; the stored text decides. */
static char *cache_path(const char *text, size_t len)
{
    char *dir = cache_dir();
    if (!dir)
        return NULL;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)text[i]) * 1099511628211ull;
    char *p = xasprintf("%s/%016llx-%zu.bin", dir, (unsigned long long)h, len);
    free(dir);
    return p;
}

/* ---- writing ---- */

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

void manifest_cache_store(const char *text, size_t len, const manifest *mf)
{
    char *path = cache_path(text, len);
    if (!path)
        return;
    char *dir = path_dirname(path);
    if (mkdir_p(dir, 0700, NULL) != 0) {
        free(dir);
        free(path);
        return;
    }
    struct stat st;
    /* only a folder of our own that nobody else can write */
    if (stat(dir, &st) != 0 || st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        free(dir);
        free(path);
        return;
    }
    sbuf b = {0};
    sbuf_add(&b, CACHE_MAGIC, sizeof CACHE_MAGIC);
    put_u32(&b, (uint32_t)len);
    sbuf_add(&b, text, len);
    put_u32(&b, (uint32_t)mf->format);
    put_u32(&b, (uint32_t)mf->abi);
    put_u32(&b, (uint32_t)mf->has_alembic);
    put_str(&b, mf->version_table);
    put_u32(&b, (uint32_t)mf->n);
    for (size_t i = 0; i < mf->n; i++) {
        const mentry *e = &mf->m[i];
        put_str(&b, e->revision);
        put_str(&b, e->file);
        put_str(&b, e->sha256);
        put_str(&b, e->identity); /* "" for none: an identity is never empty */
        put_str(&b, e->description);
        put_list(&b, &e->depends_on);
        put_list(&b, &e->alembic);
        put_u32(&b, (uint32_t)e->line);
    }
    put_u32(&b, (uint32_t)mf->graph.n);
    for (size_t i = 0; i < mf->graph.n; i++) {
        put_str(&b, mf->graph.nodes[i].rev);
        put_list(&b, &mf->graph.nodes[i].down);
    }
    write_file_atomic(path, b.s, b.len, 0600, NULL);
    sbuf_free(&b);
    free(dir);
    free(path);
}

/* ---- reading, every length checked ---- */

typedef struct reader {
    const char *p, *end;
    int bad;
} reader;

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

static char *get_str(reader *r)
{
    uint32_t n = get_u32(r);
    if (r->bad || (size_t)(r->end - r->p) < n || memchr(r->p, '\0', n)) {
        r->bad = 1;
        return NULL;
    }
    char *s = xstrndup(r->p, n);
    r->p += n;
    return s;
}

static void get_list(reader *r, strvec *sv)
{
    uint32_t n = get_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        char *s = get_str(r);
        if (s)
            strvec_push_owned(sv, s);
    }
}

int manifest_cache_load(const char *text, size_t len, const char *path, manifest *mf)
{
    memset(mf, 0, sizeof *mf);
    if (len > UINT32_MAX)
        return -1;
    char *cp = cache_path(text, len);
    if (!cp)
        return -1;
    char *data;
    size_t dlen;
    int rc = read_file(cp, MANIFEST_MAX_BYTES * 5, &data, &dlen, NULL);
    free(cp);
    if (rc != 0)
        return -1;
    reader r = {data, data + dlen, 0};
    if (dlen < sizeof CACHE_MAGIC || memcmp(data, CACHE_MAGIC, sizeof CACHE_MAGIC) != 0) {
        free(data);
        return -1;
    }
    r.p += sizeof CACHE_MAGIC;
    /* the entry holds the manifest text it was parsed from: it must match */
    uint32_t tlen = get_u32(&r);
    if (r.bad || tlen != len || (size_t)(r.end - r.p) < len || memcmp(r.p, text, len) != 0) {
        free(data);
        return -1;
    }
    r.p += len;
    mf->path = xstrdup(path);
    mf->format = (int)get_u32(&r);
    mf->abi = (int)get_u32(&r);
    mf->has_alembic = (int)get_u32(&r);
    mf->version_table = get_str(&r);
    uint32_t n = get_u32(&r);
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        mentry *e = manifest_add(mf);
        e->revision = get_str(&r);
        e->file = get_str(&r);
        e->sha256 = get_str(&r);
        e->identity = get_str(&r);
        if (e->identity && !*e->identity) {
            free(e->identity);
            e->identity = NULL;
        }
        e->description = get_str(&r);
        get_list(&r, &e->depends_on);
        get_list(&r, &e->alembic);
        e->line = get_u32(&r);
        if (r.bad)
            break;
        strmap_put(&mf->by_revision, e->revision, (long)(mf->n - 1));
        strmap_put(&mf->by_file, e->file, (long)(mf->n - 1));
    }
    uint32_t g = get_u32(&r);
    for (uint32_t i = 0; i < g && !r.bad; i++) {
        char *rev = get_str(&r);
        if (!rev)
            break;
        alnode *nd = algraph_add(&mf->graph, rev);
        free(rev);
        get_list(&r, &nd->down);
    }
    if (r.p != r.end)
        r.bad = 1;
    free(data);
    if (r.bad || !mf->version_table || mf->by_revision.n != mf->n) {
        /* entries with NULL fields are possible after a bad read */
        for (size_t i = 0; i < mf->n; i++)
            if (!mf->m[i].revision || !mf->m[i].file || !mf->m[i].sha256 || !mf->m[i].description)
                r.bad = 1;
        manifest_free(mf);
        return -1;
    }
    return 0;
}
