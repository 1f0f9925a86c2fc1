#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "manifest.h"

static int same_list(const strvec *a, const strvec *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->v[i], b->v[i]))
            return 0;
    return 1;
}

/* Every field the emitter writes. */
static int same_manifest(const manifest *a, const manifest *b)
{
    if (a->n != b->n || a->abi != b->abi || a->has_alembic != b->has_alembic ||
        strcmp(a->version_table, b->version_table) || a->graph.n != b->graph.n)
        return 0;
    for (size_t i = 0; i < a->n; i++) {
        const mentry *x = &a->m[i], *y = &b->m[i];
        if (strcmp(x->revision, y->revision) || strcmp(x->file, y->file) || strcmp(x->sha256, y->sha256) ||
            !x->identity != !y->identity || (x->identity && strcmp(x->identity, y->identity)) ||
            strcmp(x->description, y->description) || !same_list(&x->depends_on, &y->depends_on) ||
            !same_list(&x->alembic, &y->alembic))
            return 0;
    }
    if (a->nlibs != b->nlibs)
        return 0;
    for (size_t i = 0; i < a->nlibs; i++)
        if (strcmp(a->libs[i].file, b->libs[i].file) || strcmp(a->libs[i].sha256, b->libs[i].sha256))
            return 0;
    for (size_t i = 0; i < a->graph.n; i++)
        if (strcmp(a->graph.nodes[i].rev, b->graph.nodes[i].rev) ||
            !same_list(&a->graph.nodes[i].down, &b->graph.nodes[i].down))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest mf;
    del_err e;
    if (manifest_parse("manifest.yaml", (const char *)data, size, &mf, &e) != 0)
        return 0;
    /* round trip: the emitter's output parses back to the same manifest */
    char *text;
    size_t len;
    if (manifest_emit(&mf, &text, &len, &e) != 0)
        abort();
    manifest again;
    if (manifest_parse("again", text, len, &again, &e) != 0 || !same_manifest(&mf, &again))
        abort();
    /* what the cache relies on: what parses passes the value check, and
     * emits_as agrees with emit */
    if (manifest_check_values(&mf) != 0 || !manifest_emits_as(&mf, text, len) ||
        manifest_emits_as(&mf, (const char *)data, size) != (size == len && !memcmp(data, text, len)))
        abort();
    dag g;
    if (bundle_build_dag(&mf, &g, &e) == 0)
        dag_free(&g);
    manifest_free(&again);
    free(text);
    manifest_free(&mf);
    return 0;
}
