#include "manifest.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "sha256.h"
#include "term.h"
#include "yamltree.h"

void manifest_free(manifest *mf)
{
    for (size_t i = 0; i < mf->n; i++) {
        mentry *e = &mf->m[i];
        free(e->revision);
        free(e->file);
        free(e->sha256);
        free(e->identity);
        free(e->description);
        strvec_clear(&e->depends_on);
        strvec_clear(&e->alembic);
    }
    free(mf->m);
    for (size_t i = 0; i < mf->nlibs; i++) {
        free(mf->libs[i].file);
        free(mf->libs[i].sha256);
    }
    free(mf->libs);
    for (size_t i = 0; i < mf->ndata; i++) {
        free(mf->data[i].file);
        free(mf->data[i].sha256);
    }
    free(mf->data);
    strmap_free(&mf->by_revision);
    strmap_free(&mf->by_file);
    free(mf->path);
    free(mf->version_table);
    algraph_free(&mf->graph);
    memset(mf, 0, sizeof *mf);
}

mentry *manifest_add(manifest *mf)
{
    if (mf->n == mf->cap) {
        mf->cap = mf->cap ? mf->cap * 2 : 16;
        mf->m = xrealloc(mf->m, mf->cap * sizeof *mf->m);
    }
    mentry *e = &mf->m[mf->n++];
    memset(e, 0, sizeof *e);
    return e;
}

mlib *manifest_add_library(manifest *mf)
{
    mf->libs = xrealloc(mf->libs, (mf->nlibs + 1) * sizeof *mf->libs);
    mlib *l = &mf->libs[mf->nlibs++];
    memset(l, 0, sizeof *l);
    return l;
}

mdata *manifest_add_data(manifest *mf)
{
    mf->data = xrealloc(mf->data, (mf->ndata + 1) * sizeof *mf->data);
    mdata *d = &mf->data[mf->ndata++];
    memset(d, 0, sizeof *d);
    return d;
}

long manifest_find_data(const manifest *mf, const char *file)
{
    for (size_t i = 0; i < mf->ndata; i++)
        if (!strcmp(mf->data[i].file, file))
            return (long)i;
    return -1;
}

/* "data/NAME": one file name under data/, not hidden, no control characters. */
static int valid_data_path(const char *f)
{
    size_t pre = strlen(MANIFEST_DATA_DIR "/");
    if (strncmp(f, MANIFEST_DATA_DIR "/", pre) || !f[pre] || f[pre] == '.' || strchr(f + pre, '/') ||
        strlen(f) > MANIFEST_MAX_PATH)
        return 0;
    for (const char *p = f; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

/* Why data entry i cannot be listed (NULL: it can), given those before it. */
static const char *data_problem(const manifest *mf, size_t i)
{
    const mdata *d = &mf->data[i];
    if (!valid_data_path(d->file))
        return "must be a file directly in the bundle's data/ folder (data/NAME, not hidden)";
    if (!sha256_is_hex(d->sha256))
        return "needs a sha256 of 64 lowercase hex digits";
    if (d->size < 0 || d->size > MANIFEST_MAX_DATA_SIZE)
        return "needs a size in bytes";
    for (size_t k = 0; k < i; k++)
        if (!strcmp(mf->data[k].file, d->file))
            return "is listed twice";
    return NULL;
}

long manifest_find_library(const manifest *mf, const char *soname)
{
    for (size_t i = 0; i < mf->nlibs; i++)
        if (!strcmp(path_basename(mf->libs[i].file), soname))
            return (long)i;
    return -1;
}

long manifest_find(const manifest *mf, const char *revision)
{
    if (mf->by_revision.n == mf->n && mf->n)
        return strmap_get(&mf->by_revision, revision);
    for (size_t i = 0; i < mf->n; i++)
        if (mf->m[i].revision && strcmp(mf->m[i].revision, revision) == 0)
            return (long)i;
    return -1;
}

static int valid_file_name(const char *f)
{
    if (!*f || f[0] == '.' || strchr(f, '/') || !has_suffix(f, ".so"))
        return 0;
    for (const char *p = f; *p; p++)
        if ((unsigned char)*p < 0x20)
            return 0;
    return 1;
}

/* lib/libfoo.so.1: a relative path inside the bundle to a .so file. */
static int valid_library_path(const char *f)
{
    if (!*f || f[0] == '/' || strlen(f) > MANIFEST_MAX_PATH || !strstr(path_basename(f), ".so"))
        return 0;
    for (const char *p = f; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    for (const char *c = f;; c++) { /* each folder or file name */
        size_t n = strcspn(c, "/");
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && !strncmp(c, "..", 2)))
            return 0;
        c += n;
        if (!*c)
            return 1;
    }
}

/* Why library i cannot be listed (NULL: it can), given those before it. */
static const char *library_problem(const manifest *mf, size_t i)
{
    const mlib *l = &mf->libs[i];
    if (!valid_library_path(l->file))
        return "must be a path to a .so file inside the bundle (no leading '/', no '..')";
    if (!sha256_is_hex(l->sha256))
        return "needs a sha256 of 64 lowercase hex digits";
    const char *soname = path_basename(l->file);
    if (strmap_get(&mf->by_file, soname) >= 0)
        return "has the name of a migration's file";
    for (size_t k = 0; k < i; k++)
        if (!strcmp(path_basename(mf->libs[k].file), soname))
            return "has the same soname (file name) as another listed library";
    return NULL;
}

static int valid_revision(const char *r)
{
    if (!*r || strlen(r) > 200)
        return 0;
    for (const unsigned char *p = (const unsigned char *)r; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == ',' || *p == '[' || *p == ']')
            return 0;
    return 1;
}

/* A value that YAML reads as null when it is written plain. */
static int null_like(const char *s)
{
    return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int all_of(const char *s, const char *set)
{
    return *s && strspn(s, set) == strlen(s);
}

int manifest_needs_quotes(const char *s)
{
    /* null, and the booleans of YAML 1.2 and 1.1 (yes/no/on/off/y/n), and
     * 1.1's merge and value keys */
    static const char *const words[] = {
        "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES", "no", "No", "NO",
        "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "=", "<<", NULL};
    if (null_like(s))
        return 1;
    for (const char *const *w = words; *w; w++)
        if (!strcmp(s, *w))
            return 1;
    const char *p = s + (*s == '+' || *s == '-');
    /* infinities and not-a-number */
    if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") || !strcmp(s, ".nan") ||
        !strcmp(s, ".NaN") || !strcmp(s, ".NAN"))
        return 1;
    /* binary, hexadecimal and octal integers (1.1 and 1.2 spellings) */
    if (p[0] == '0' && ((p[1] == 'b' && all_of(p + 2, "01_")) ||
                        (p[1] == 'x' && all_of(p + 2, "0123456789abcdefABCDEF_")) ||
                        (p[1] == 'o' && all_of(p + 2, "01234567_"))))
        return 1;
    /* decimal integers and floats, with exponents, underscores or 1.1's
     * base 60 (1:30): anything made of these characters that starts like a
     * number is quoted (a few that no reader takes for one, too) */
    if ((isdigit((unsigned char)p[0]) || (p[0] == '.' && isdigit((unsigned char)p[1]))) &&
        all_of(p, "0123456789_.:eE+-"))
        return 1;
    /* YAML 1.1 timestamps: 2001-12-14 and what follows it */
    if (isdigit((unsigned char)s[0]) && strspn(s, "0123456789") == 4 && s[4] == '-' &&
        isdigit((unsigned char)s[5]))
        return 1;
    return 0;
}

static int list_ok(const strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!sv->v[i])
            return 0;
    return 1;
}

int manifest_check_values(const manifest *mf)
{
    if (mf->format != MANIFEST_FORMAT || mf->abi < 1 || mf->abi > MANIFEST_MAX_ABI ||
        !mf->version_table ||
        (!mf->has_alembic && (mf->graph.n || strcmp(mf->version_table, "alembic_version"))))
        return -1;
    strmap revs = {0}, files = {0};
    int ok = 1;
    for (size_t i = 0; i < mf->n && ok; i++) {
        const mentry *e = &mf->m[i];
        ok = e->revision && e->file && e->sha256 && e->description && valid_revision(e->revision) &&
             strmap_get(&revs, e->revision) < 0 && valid_file_name(e->file) &&
             strmap_get(&files, e->file) < 0 && sha256_is_hex(e->sha256) &&
             (!e->identity || sha256_is_hex(e->identity)) &&
             list_ok(&e->depends_on) && list_ok(&e->alembic);
        for (size_t k = 0; k < e->depends_on.n && ok; k++)
            ok = valid_revision(e->depends_on.v[k]);
        for (size_t k = 0; k < e->alembic.n && ok; k++)
            ok = strvec_contains(&e->depends_on, e->alembic.v[k]) &&
                 (!mf->graph.n || algraph_find(&mf->graph, e->alembic.v[k]) >= 0);
        if (ok) {
            strmap_put(&revs, e->revision, (long)i);
            strmap_put(&files, e->file, (long)i);
        }
    }
    strmap_free(&revs);
    strmap_free(&files);
    for (size_t i = 0; i < mf->graph.n && ok; i++) {
        const alnode *nd = &mf->graph.nodes[i];
        ok = valid_revision(nd->rev) && algraph_find(&mf->graph, nd->rev) == (long)i &&
             list_ok(&nd->down);
    }
    for (size_t i = 0; i < mf->nlibs && ok; i++)
        ok = mf->libs[i].file && mf->libs[i].sha256 && !library_problem(mf, i);
    for (size_t i = 0; i < mf->ndata && ok; i++)
        ok = mf->data[i].file && mf->data[i].sha256 && !data_problem(mf, i);
    del_err err;
    if (ok && mf->graph.n && algraph_validate(&mf->graph, "manifest", &err) != 0)
        ok = 0;
    return ok ? 0 : -1;
}

static void push_list(strvec *dst, const ynode *seq)
{
    for (size_t i = 0; seq && i < seq->n; i++)
        strvec_push(dst, seq->items[i]->value);
}

static const char *const top_keys[] = {"format", "abi", "migrations", "alembic", "libraries", "data", NULL};
static const char *const data_keys[] = {"file", "sha256", "size", NULL};
static const char *const library_keys[] = {"file", "sha256", NULL};
static const char *const entry_keys[] = {"revision", "file", "sha256", "identity", "description",
                                         "depends_on", "alembic", NULL};
static const char *const alembic_keys[] = {"version_table", "graph", NULL};

static int parse_entry(const char *name, const ynode *it, manifest *mf, del_err *err)
{
    if (yexpect(name, it, YNODE_MAP, "a migration entry", err) != 0 ||
        ymap_check_keys(name, it, entry_keys, "a migration entry", err) != 0)
        return -1;
    const char *rev = NULL, *file = NULL, *sha = NULL, *ident = NULL, *desc = NULL;
    const ynode *deps = NULL, *al = NULL;
    if (yget_string(name, it, "revision", 1, &rev, err) != 0 ||
        yget_string(name, it, "file", 1, &file, err) != 0 ||
        yget_string(name, it, "sha256", 1, &sha, err) != 0 ||
        yget_string(name, it, "identity", 0, &ident, err) != 0 ||
        yget_string(name, it, "description", 0, &desc, err) != 0 ||
        yget_string_list(name, it, "depends_on", &deps, err) != 0 ||
        yget_string_list(name, it, "alembic", &al, err) != 0)
        return -1;
    const ynode *rn = ymap_get(it, "revision");
    if (!valid_revision(rev))
        return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: revision '%.60s' is not a valid revision id (no spaces, commas or brackets)",
                        name, rn->line, rn->col, rev);
    if (strmap_get(&mf->by_revision, rev) >= 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: revision %s is listed twice", name,
                        rn->line, rn->col, rev);
    const ynode *fn = ymap_get(it, "file");
    if (!valid_file_name(file))
        return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: file '%.80s' of %s must be a .so name inside the bundle folder (no '/')",
                        name, fn->line, fn->col, file, rev);
    long other = strmap_get(&mf->by_file, file);
    if (other >= 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: file %s is listed for both %s and %s",
                        name, fn->line, fn->col, file, mf->m[other].revision, rev);
    const ynode *sn = ymap_get(it, "sha256");
    if (!sha256_is_hex(sha))
        return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: sha256 of %s must be 64 lowercase hex digits; rebuild with 'delembic build'",
                        name, sn->line, sn->col, rev);
    if (ident && !sha256_is_hex(ident)) {
        const ynode *in = ymap_get(it, "identity");
        return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: identity of %s must be 64 lowercase hex digits; rebuild with 'delembic build'",
                        name, in->line, in->col, rev);
    }
    for (size_t i = 0; deps && i < deps->n; i++)
        if (!valid_revision(deps->items[i]->value))
            return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: depends_on of %s has an invalid revision id",
                            name, deps->items[i]->line, deps->items[i]->col, rev);
    for (size_t i = 0; al && i < al->n; i++) {
        int found = 0;
        for (size_t j = 0; deps && j < deps->n; j++)
            if (strcmp(deps->items[j]->value, al->items[i]->value) == 0)
                found = 1;
        if (!found)
            return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: alembic entry %s of %s is not in its depends_on",
                            name, al->items[i]->line, al->items[i]->col, al->items[i]->value, rev);
    }
    mentry *e = manifest_add(mf);
    e->revision = xstrdup(rev);
    e->file = xstrdup(file);
    e->sha256 = xstrdup(sha);
    e->identity = ident ? xstrdup(ident) : NULL;
    e->description = xstrdup(desc ? desc : "");
    e->line = it->line;
    strmap_put(&mf->by_revision, e->revision, (long)(mf->n - 1));
    strmap_put(&mf->by_file, e->file, (long)(mf->n - 1));
    push_list(&e->depends_on, deps);
    push_list(&e->alembic, al);
    return 0;
}

static int parse_alembic(const char *name, const ynode *a, manifest *mf, del_err *err)
{
    if (yscalar_is_null(a) && a->kind == YNODE_SCALAR)
        return 0;
    if (yexpect(name, a, YNODE_MAP, "'alembic'", err) != 0 ||
        ymap_check_keys(name, a, alembic_keys, "'alembic'", err) != 0)
        return -1;
    const char *vt = NULL;
    if (yget_string(name, a, "version_table", 0, &vt, err) != 0)
        return -1;
    mf->has_alembic = 1;
    free(mf->version_table);
    mf->version_table = xstrdup(vt ? vt : "alembic_version");
    const ynode *g = ymap_get(a, "graph");
    if (!g || (yscalar_is_null(g) && g->kind == YNODE_SCALAR))
        return 0;
    if (yexpect(name, g, YNODE_MAP, "'alembic.graph'", err) != 0)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        const ynode *k = g->keys[i], *v = g->items[i];
        if (!valid_revision(k->value))
            return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: '%.60s' is not a valid Alembic revision id",
                            name, k->line, k->col, k->value);
        alnode *nd = algraph_add(&mf->graph, k->value);
        nd->line = k->line;
        if (yscalar_is_null(v) && v->kind == YNODE_SCALAR)
            continue;
        if (v->kind == YNODE_SCALAR) {
            strvec_push(&nd->down, v->value);
            continue;
        }
        if (v->kind != YNODE_SEQ)
            return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: down revisions of %s must be a list",
                            name, v->line, v->col, k->value);
        for (size_t j = 0; j < v->n; j++) {
            if (v->items[j]->kind != YNODE_SCALAR || yscalar_is_null(v->items[j]))
                return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: down revisions of %s must be revision ids",
                                name, v->items[j]->line, v->items[j]->col, k->value);
            strvec_push(&nd->down, v->items[j]->value);
        }
    }
    return algraph_validate(&mf->graph, name, err);
}

static int parse_libraries(const char *name, const ynode *ls, manifest *mf, del_err *err)
{
    if (yscalar_is_null(ls) && ls->kind == YNODE_SCALAR)
        return 0;
    if (yexpect(name, ls, YNODE_SEQ, "'libraries'", err) != 0)
        return -1;
    for (size_t i = 0; i < ls->n; i++) {
        const ynode *it = ls->items[i];
        const char *file = NULL, *sha = NULL;
        if (yexpect(name, it, YNODE_MAP, "a library entry", err) != 0 ||
            ymap_check_keys(name, it, library_keys, "a library entry", err) != 0 ||
            yget_string(name, it, "file", 1, &file, err) != 0 ||
            yget_string(name, it, "sha256", 1, &sha, err) != 0)
            return -1;
        mlib *l = manifest_add_library(mf);
        l->file = xstrdup(file);
        l->sha256 = xstrdup(sha);
        const char *problem = library_problem(mf, mf->nlibs - 1);
        if (problem)
            return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: library %.200s %s", name, it->line, it->col,
                            file, problem);
    }
    return 0;
}

static int parse_data(const char *name, const ynode *ls, manifest *mf, del_err *err)
{
    if (yscalar_is_null(ls) && ls->kind == YNODE_SCALAR)
        return 0;
    if (yexpect(name, ls, YNODE_SEQ, "'data'", err) != 0)
        return -1;
    for (size_t i = 0; i < ls->n; i++) {
        const ynode *it = ls->items[i];
        const char *file = NULL, *sha = NULL;
        long long size = 0;
        if (yexpect(name, it, YNODE_MAP, "a data entry", err) != 0 ||
            ymap_check_keys(name, it, data_keys, "a data entry", err) != 0 ||
            yget_string(name, it, "file", 1, &file, err) != 0 ||
            yget_string(name, it, "sha256", 1, &sha, err) != 0 ||
            yget_int(name, it, "size", 1, 0, MANIFEST_MAX_DATA_SIZE, &size, err) != 0)
            return -1;
        mdata *d = manifest_add_data(mf);
        d->file = xstrdup(file);
        d->sha256 = xstrdup(sha);
        d->size = size;
        const char *problem = data_problem(mf, mf->ndata - 1);
        if (problem)
            return del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: data file %.200s %s", name, it->line, it->col,
                            file, problem);
    }
    return 0;
}

int manifest_parse(const char *name, const char *text, size_t len, manifest *mf, del_err *err)
{
    memset(mf, 0, sizeof *mf);
    mf->path = xstrdup(name);
    ynode *root = NULL;
    if (yaml_parse(name, text, len, &root, err) != 0)
        goto fail;
    if (!root) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: the manifest is empty; rebuild the bundle with 'delembic build'", name);
        goto fail;
    }
    if (yexpect(name, root, YNODE_MAP, "the manifest", err) != 0 ||
        ymap_check_keys(name, root, top_keys, "the manifest", err) != 0)
        goto fail;
    long long format = 0, abi = 0;
    if (yget_int(name, root, "format", 1, 1, 1000000, &format, err) != 0 ||
        yget_int(name, root, "abi", 1, 1, MANIFEST_MAX_ABI, &abi, err) != 0)
        goto fail;
    if (format != MANIFEST_FORMAT) {
        const ynode *f = ymap_get(root, "format");
        del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: manifest format %lld is not one this delembic reads (it reads %d); use a matching delembic or rebuild the bundle",
                 name, f->line, f->col, format, MANIFEST_FORMAT);
        goto fail;
    }
    mf->format = (int)format;
    mf->abi = (int)abi;
    const ynode *ms = ymap_get(root, "migrations");
    if (ms && !(yscalar_is_null(ms) && ms->kind == YNODE_SCALAR)) {
        if (yexpect(name, ms, YNODE_SEQ, "'migrations'", err) != 0)
            goto fail;
        for (size_t i = 0; i < ms->n; i++)
            if (parse_entry(name, ms->items[i], mf, err) != 0)
                goto fail;
    } else if (!ms) {
        del_fail(err, DEL_KIND_BUNDLE, "%s:%zu:%zu: required field 'migrations' is missing", name,
                 root->line, root->col);
        goto fail;
    }
    const ynode *a = ymap_get(root, "alembic");
    if (a && parse_alembic(name, a, mf, err) != 0)
        goto fail;
    const ynode *ls = ymap_get(root, "libraries");
    if (ls && parse_libraries(name, ls, mf, err) != 0)
        goto fail;
    const ynode *ds = ymap_get(root, "data");
    if (ds && parse_data(name, ds, mf, err) != 0)
        goto fail;
    if (!mf->version_table)
        mf->version_table = xstrdup("alembic_version");
    /* an alembic entry must name a revision of the graph when there is one */
    for (size_t i = 0; i < mf->n && mf->has_alembic && mf->graph.n; i++)
        for (size_t j = 0; j < mf->m[i].alembic.n; j++)
            if (algraph_find(&mf->graph, mf->m[i].alembic.v[j]) < 0) {
                del_fail(err, DEL_KIND_BUNDLE, "%s:%zu: migration %s needs Alembic revision %s, which the manifest's graph lacks; rebuild the bundle",
                         name, mf->m[i].line, mf->m[i].revision, mf->m[i].alembic.v[j]);
                goto fail;
            }
    ynode_free(root);
    return 0;
fail:
    ynode_free(root);
    manifest_free(mf);
    return -1;
}

/* ---- writing ---------------------------------------------------------- */

typedef struct emit {
    yaml_emitter_t em;
    sbuf out;
    int failed;
    /* comparing instead of writing (manifest_emits_as) */
    const char *expect;
    size_t expect_len, pos;
} emit;

static int write_handler(void *data, unsigned char *buffer, size_t size)
{
    emit *e = data;
    if (!e->expect) {
        sbuf_add(&e->out, (const char *)buffer, size);
        return 1;
    }
    if (size > e->expect_len - e->pos || memcmp(e->expect + e->pos, buffer, size) != 0)
        return 0; /* differs: the emitter stops with an error */
    e->pos += size;
    return 1;
}

static void ev_emit(emit *e, yaml_event_t *ev)
{
    if (e->failed) {
        yaml_event_delete(ev);
        return;
    }
    if (!yaml_emitter_emit(&e->em, ev))
        e->failed = 1;
}

static void scalar_styled(emit *e, const char *s, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)strlen(s), 1, 1, style);
    ev_emit(e, &ev);
}

/* A value: quoted when YAML would read it plain as null, so it reads back as
 * the same text. */
static void scalar(emit *e, const char *s)
{
    scalar_styled(e, s, manifest_needs_quotes(s) ? YAML_SINGLE_QUOTED_SCALAR_STYLE : YAML_ANY_SCALAR_STYLE);
}

/* A mapping key (an Alembic revision): quoted as values are, so that other
 * YAML readers see the same string. */
static void key(emit *e, const char *s)
{
    scalar(e, s);
}

/* A number the manifest means as one: plain. */
static void number(emit *e, long long v)
{
    char num[32];
    snprintf(num, sizeof num, "%lld", v);
    scalar_styled(e, num, YAML_ANY_SCALAR_STYLE);
}

static void map_start(emit *e, int flow)
{
    yaml_event_t ev;
    yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                        flow ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE);
    ev_emit(e, &ev);
}

static void map_end(emit *e)
{
    yaml_event_t ev;
    yaml_mapping_end_event_initialize(&ev);
    ev_emit(e, &ev);
}

static void seq_start(emit *e, int flow)
{
    yaml_event_t ev;
    yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                         flow ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE);
    ev_emit(e, &ev);
}

static void seq_end(emit *e)
{
    yaml_event_t ev;
    yaml_sequence_end_event_initialize(&ev);
    ev_emit(e, &ev);
}

static void string_list(emit *e, const strvec *sv)
{
    seq_start(e, 1);
    for (size_t i = 0; i < sv->n; i++)
        scalar(e, sv->v[i]);
    seq_end(e);
}

static int is_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    unsigned cp;
    size_t n;
    for (; *p; p += n)
        if ((n = utf8_seq_len(p, &cp)) == 0)
            return 0;
    return 1;
}

static int list_utf8(const strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        if (!is_utf8(sv->v[i]))
            return 0;
    return 1;
}

/* libyaml's emitter must never see invalid UTF-8: it can loop forever or
 * corrupt its heap on it. Every string of the manifest, checked first. */
static int manifest_utf8(const manifest *mf)
{
    int ok = is_utf8(mf->version_table);
    for (size_t i = 0; i < mf->n && ok; i++) {
        const mentry *m = &mf->m[i];
        ok = is_utf8(m->revision) && is_utf8(m->file) && is_utf8(m->sha256) && is_utf8(m->identity) &&
             is_utf8(m->description) && list_utf8(&m->depends_on) && list_utf8(&m->alembic);
    }
    for (size_t i = 0; i < mf->graph.n && ok; i++)
        ok = is_utf8(mf->graph.nodes[i].rev) && list_utf8(&mf->graph.nodes[i].down);
    for (size_t i = 0; i < mf->nlibs && ok; i++)
        ok = is_utf8(mf->libs[i].file) && is_utf8(mf->libs[i].sha256);
    for (size_t i = 0; i < mf->ndata && ok; i++)
        ok = is_utf8(mf->data[i].file) && is_utf8(mf->data[i].sha256);
    return ok;
}

/* The whole manifest through e's emitter; 0, or -1 when the emitter failed
 * (or was not started: a string that is not UTF-8). */
static int emit_manifest(const manifest *mf, emit *e)
{
    if (!manifest_utf8(mf) || !yaml_emitter_initialize(&e->em))
        return -1;
    yaml_emitter_set_output(&e->em, write_handler, e);
    yaml_emitter_set_unicode(&e->em, 1);
    yaml_emitter_set_width(&e->em, -1);
    yaml_event_t ev;
    yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
    ev_emit(e, &ev);
    yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
    ev_emit(e, &ev);
    map_start(e, 0);
    scalar(e, "format");
    number(e, MANIFEST_FORMAT);
    scalar(e, "abi");
    number(e, mf->abi);
    scalar(e, "migrations");
    seq_start(e, 0);
    for (size_t i = 0; i < mf->n; i++) {
        const mentry *m = &mf->m[i];
        map_start(e, 0);
        scalar(e, "revision");
        scalar(e, m->revision);
        scalar(e, "file");
        scalar(e, m->file);
        scalar(e, "sha256");
        scalar(e, m->sha256);
        if (m->identity) {
            scalar(e, "identity");
            scalar(e, m->identity);
        }
        scalar(e, "description");
        scalar(e, m->description ? m->description : "");
        scalar(e, "depends_on");
        string_list(e, &m->depends_on);
        scalar(e, "alembic");
        string_list(e, &m->alembic);
        map_end(e);
    }
    seq_end(e);
    if (mf->has_alembic) {
        scalar(e, "alembic");
        map_start(e, 0);
        scalar(e, "version_table");
        scalar(e, mf->version_table ? mf->version_table : "alembic_version");
        scalar(e, "graph");
        map_start(e, 0);
        for (size_t i = 0; i < mf->graph.n; i++) {
            key(e, mf->graph.nodes[i].rev);
            string_list(e, &mf->graph.nodes[i].down);
        }
        map_end(e);
        map_end(e);
    }
    if (mf->nlibs) {
        scalar(e, "libraries");
        seq_start(e, 0);
        for (size_t i = 0; i < mf->nlibs; i++) {
            map_start(e, 0);
            scalar(e, "file");
            scalar(e, mf->libs[i].file);
            scalar(e, "sha256");
            scalar(e, mf->libs[i].sha256);
            map_end(e);
        }
        seq_end(e);
    }
    if (mf->ndata) {
        scalar(e, "data");
        seq_start(e, 0);
        for (size_t i = 0; i < mf->ndata; i++) {
            map_start(e, 0);
            scalar(e, "file");
            scalar(e, mf->data[i].file);
            scalar(e, "sha256");
            scalar(e, mf->data[i].sha256);
            scalar(e, "size");
            number(e, mf->data[i].size);
            map_end(e);
        }
        seq_end(e);
    }
    map_end(e);
    yaml_document_end_event_initialize(&ev, 1);
    ev_emit(e, &ev);
    yaml_stream_end_event_initialize(&ev);
    ev_emit(e, &ev);
    if (!e->failed && !yaml_emitter_flush(&e->em))
        e->failed = 1;
    yaml_emitter_delete(&e->em);
    return e->failed ? -1 : 0;
}

int manifest_emit(const manifest *mf, char **out, size_t *len, del_err *err)
{
    emit e;
    memset(&e, 0, sizeof e);
    if (emit_manifest(mf, &e) != 0) {
        sbuf_free(&e.out);
        return del_fail(err, DEL_KIND_BUNDLE, "cannot write the manifest as YAML%s",
                        manifest_utf8(mf) ? "" : ": a value is not valid UTF-8");
    }
    *out = e.out.s ? e.out.s : xstrdup("");
    *len = e.out.len;
    return 0;
}

int manifest_emits_as(const manifest *mf, const char *text, size_t len)
{
    emit e;
    memset(&e, 0, sizeof e);
    e.expect = text;
    e.expect_len = len;
    return emit_manifest(mf, &e) == 0 && e.pos == len;
}

int manifest_write(const char *bundle_dir, const manifest *mf, del_err *err)
{
    char *text;
    size_t len;
    if (manifest_emit(mf, &text, &len, err) != 0)
        return -1;
    char *path = path_join(bundle_dir, MANIFEST_FILE);
    int rc = write_file_atomic(path, text, len, 0644, err);
    free(path);
    free(text);
    return rc;
}
