#include "plan.h"

#include <stdlib.h>
#include <string.h>

void plan_free(plan *p)
{
    free(p->run);
    free(p->wave);
    for (size_t i = 0; i < p->nblocked; i++)
        strvec_clear(&p->blocked[i].missing);
    free(p->blocked);
    strvec_clear(&p->unknown_heads);
    free(p->blocked_hint);
    memset(p, 0, sizeof *p);
}

static int applied(const vstate *st, const char *rev)
{
    const vrow *v = store_find(st, rev);
    return v && v->succeeded;
}

int plan_make(const bundle *b, const vstate *st, const char *target, plan *p, del_err *err)
{
    memset(p, 0, sizeof *p);
    size_t n = b->mf.n;
    char *want = xcalloc(n, 1);
    if (!target || strcmp(target, "head") == 0 || strcmp(target, "heads") == 0) {
        memset(want, 1, n);
    } else {
        long t = dag_find(&b->g, target);
        if (t < 0) {
            free(want);
            if (algraph_find(&b->mf.graph, target) >= 0)
                return del_fail(err, DEL_KIND_USAGE, "%s is an Alembic revision; run 'alembic upgrade %s' for it, or name a data migration",
                                target, target);
            return del_fail(err, DEL_KIND_USAGE, "unknown target revision '%s'; see 'delembic history' for the revisions in this bundle",
                            target);
        }
        dag_mark_ancestors(&b->g, (size_t)t, want);
    }
    p->run = xmalloc(n * sizeof *p->run);
    p->wave = xcalloc(n, sizeof *p->wave);
    for (size_t k = 0; k < n; k++) {
        size_t i = b->g.order[k];
        if (!want[i] || applied(st, b->mf.m[i].revision))
            continue;
        size_t w = 1;
        const dag_node *nd = &b->g.nodes[i];
        for (size_t d = 0; d < nd->ndeps; d++)
            if (p->wave[nd->deps[d]] + 1 > w)
                w = p->wave[nd->deps[d]] + 1;
        p->wave[i] = w;
        p->run[p->nrun++] = i;
    }
    free(want);
    return 0;
}

int plan_needs_alembic(const bundle *b, const plan *p)
{
    for (size_t k = 0; k < p->nrun; k++)
        if (b->mf.m[p->run[k]].alembic.n)
            return 1;
    return 0;
}

void plan_check_alembic(const bundle *b, plan *p, const strvec *db_heads, int table_exists)
{
    strvec appl = {0};
    (void)table_exists; /* an absent table reads as no heads */
    algraph_applied(&b->mf.graph, db_heads, &appl, &p->unknown_heads);
    strmap am = {0};
    for (size_t i = 0; i < appl.n; i++)
        strmap_put(&am, appl.v[i], (long)i);
    for (size_t k = 0; k < p->nrun; k++) {
        const mentry *e = &b->mf.m[p->run[k]];
        strvec missing = {0};
        for (size_t d = 0; d < e->alembic.n; d++)
            if (strmap_get(&am, e->alembic.v[d]) < 0)
                strvec_push(&missing, e->alembic.v[d]);
        if (!missing.n)
            continue;
        p->blocked = xrealloc(p->blocked, (p->nblocked + 1) * sizeof *p->blocked);
        p->blocked[p->nblocked].index = p->run[k];
        p->blocked[p->nblocked].missing = missing;
        p->nblocked++;
    }
    if (p->nblocked) {
        if (p->unknown_heads.n) {
            char heads[512];
            strvec_join(&p->unknown_heads, ", ", heads, sizeof heads);
            p->blocked_hint = xasprintf(" The database's Alembic head(s) %s are not in this bundle's graph: rebuild the bundle against the current Alembic scripts.",
                                        heads);
        } else if (!b->mf.graph.n) {
            p->blocked_hint = xstrdup(" (This bundle carries no Alembic graph, so only the exact heads count: set alembic_config in delembic.yaml and rebuild.)");
        }
    }
    strmap_free(&am);
    strvec_clear(&appl);
}

char *plan_blocked_message(const bundle *b, const plan *p, size_t k)
{
    char missing[1024];
    strvec_join(&p->blocked[k].missing, ", ", missing, sizeof missing);
    return xasprintf("BLOCKED: Migration %s requires Alembic revision(s) %s to be applied first. Run 'alembic upgrade head' before retrying.%s",
                     b->mf.m[p->blocked[k].index].revision, missing,
                     p->blocked_hint ? p->blocked_hint : "");
}
