#include "orphan.h"

#include <stdlib.h>
#include <string.h>

#include "alembic.h"

void alstate_from_heads(const bundle *b, const strvec *heads, alstate *a)
{
    memset(a, 0, sizeof *a);
    strvec unknown = {0};
    algraph_applied(&b->mf.graph, heads, &a->applied, &unknown);
    /* without a graph only the exact heads are known; with heads the graph
     * lacks, their ancestors are not known: both cannot tell (unless nothing
     * at all is applied, which any graph can tell) */
    a->known = !heads->n || (b->mf.graph.n && !unknown.n);
    for (size_t i = 0; i < a->applied.n; i++)
        strmap_put(&a->index, a->applied.v[i], (long)i);
    strvec_clear(&unknown);
}

int alstate_read(PGconn *conn, const bundle *b, alstate *a, del_err *err)
{
    memset(a, 0, sizeof *a);
    strvec heads = {0};
    int exists = 0;
    if (alembic_db_heads(conn, b->mf.version_table, &heads, &exists, err) != 0) {
        strvec_clear(&heads);
        return -1;
    }
    alstate_from_heads(b, &heads, a);
    strvec_clear(&heads);
    return 0;
}

void alstate_free(alstate *a)
{
    strmap_free(&a->index);
    strvec_clear(&a->applied);
    memset(a, 0, sizeof *a);
}

int alstate_applied(const alstate *a, const char *rev)
{
    if (strmap_get(&a->index, rev) >= 0)
        return 1;
    return a->known ? 0 : -1;
}

void alstate_missing(const alstate *a, const mentry *e, strvec *missing)
{
    for (size_t d = 0; d < e->alembic.n; d++)
        if (alstate_applied(a, e->alembic.v[d]) == 0)
            strvec_push(missing, e->alembic.v[d]);
}

char *orphan_message(const strvec *missing)
{
    char list[1024];
    strvec_join(missing, ", ", list, sizeof list);
    return xasprintf("orphaned: needs Alembic %s which %s not applied", list, missing->n > 1 ? "are" : "is");
}

size_t orphan_list(const bundle *b, const vstate *st, const alstate *a, strvec *out)
{
    size_t n = 0;
    for (size_t k = 0; k < b->mf.n; k++) {
        const mentry *e = &b->mf.m[b->g.order[k]];
        const vrow *v = store_find(st, e->revision);
        if (!v || strcmp(v->status, store_status_name(STORE_SUCCESS)) != 0)
            continue;
        strvec missing = {0};
        alstate_missing(a, e, &missing);
        if (missing.n) {
            char *msg = orphan_message(&missing);
            strvec_push_owned(out, xasprintf("%s: %s", e->revision, msg));
            free(msg);
            n++;
        }
        strvec_clear(&missing);
    }
    return n;
}
