#include "depgraph.h"

#include <stdlib.h>
#include <string.h>

#include "dag.h"

static const char *const status_names[DG_NSTATUS] = {
    [DG_UNKNOWN] = "unknown", [DG_APPLIED] = "applied", [DG_FAILED] = "failed",
    [DG_PENDING] = "pending", [DG_CHANGED] = "changed", [DG_MISSING] = "missing",
    [DG_ORPHANED] = "orphaned", [DG_HELD] = "held",     [DG_RUNNING] = "running",
    [DG_PAUSED] = "paused",
};

const char *dg_status_name(dg_status s)
{
    return (unsigned)s < DG_NSTATUS ? status_names[s] : "unknown";
}

int dg_status_parse(const char *s, dg_status *out)
{
    for (int i = 0; i < DG_NSTATUS; i++)
        if (s && !strcmp(s, status_names[i])) {
            *out = (dg_status)i;
            return 0;
        }
    return -1;
}

const char *dg_kind_name(dg_kind k)
{
    return k == DG_ALEMBIC ? "alembic" : "migration";
}

void depgraph_free(depgraph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->nodes[i].id);
        free(g->nodes[i].label);
        free(g->nodes[i].deps);
    }
    free(g->nodes);
    for (int k = 0; k < DG_NKINDS; k++)
        strmap_free(&g->index[k]);
    memset(g, 0, sizeof *g);
}

long depgraph_find(const depgraph *g, dg_kind kind, const char *id)
{
    if ((unsigned)kind >= DG_NKINDS || !id)
        return -1;
    return strmap_get(&g->index[kind], id);
}

long depgraph_add(depgraph *g, dg_kind kind, const char *id, const char *label, dg_status status)
{
    if ((unsigned)kind >= DG_NKINDS || !id || depgraph_find(g, kind, id) >= 0)
        return -1;
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->nodes = xrealloc(g->nodes, g->cap * sizeof *g->nodes);
    }
    dg_node *nd = &g->nodes[g->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    nd->id = xstrdup(id);
    nd->label = xstrdup(label ? label : "");
    nd->status = (unsigned)status < DG_NSTATUS ? status : DG_UNKNOWN;
    nd->src = -1;
    strmap_put(&g->index[kind], nd->id, (long)g->n);
    return (long)g->n++;
}

int depgraph_add_edge(depgraph *g, size_t from, size_t to)
{
    if (from >= g->n || to >= g->n || from == to)
        return -1;
    dg_node *nd = &g->nodes[from];
    for (size_t d = 0; d < nd->ndeps; d++)
        if (nd->deps[d] == to)
            return 0;
    if (nd->ndeps == nd->capdeps) {
        nd->capdeps = nd->capdeps ? nd->capdeps * 2 : 2;
        nd->deps = xrealloc(nd->deps, nd->capdeps * sizeof *nd->deps);
    }
    nd->deps[nd->ndeps++] = to;
    g->nedges++;
    return 0;
}

static dg_status status_of(dg_status_fn fn, void *ud, dg_kind kind, const char *rev)
{
    return fn ? fn(ud, kind, rev) : DG_UNKNOWN;
}

/* The Alembic node for rev, added (after the graph's own) when the graph
 * does not have it. */
static size_t alembic_node(depgraph *g, const char *rev, dg_status_fn fn, void *ud)
{
    long k = depgraph_find(g, DG_ALEMBIC, rev);
    if (k < 0)
        k = depgraph_add(g, DG_ALEMBIC, rev, NULL, status_of(fn, ud, DG_ALEMBIC, rev));
    return (size_t)k;
}

int depgraph_from_manifest(depgraph *g, const manifest *mf, dg_status_fn status, void *ud, del_err *err)
{
    memset(g, 0, sizeof *g);
    const algraph *ag = &mf->graph;

    /* the Alembic revisions, base first */
    const char **arevs = xcalloc(ag->n, sizeof *arevs);
    const char *const **adeps = xcalloc(ag->n, sizeof *adeps);
    for (size_t i = 0; i < ag->n; i++) {
        arevs[i] = ag->nodes[i].rev;
        adeps[i] = (const char *const *)ag->nodes[i].down.v;
    }
    dag ad;
    int rc = dag_build(&ad, ag->n, arevs, adeps, err);
    free(arevs);
    free(adeps);
    if (rc != 0)
        return del_err_wrap(err, "%s: Alembic graph", mf->path ? mf->path : MANIFEST_FILE);
    for (size_t k = 0; k < ad.n; k++) {
        const alnode *an = &ag->nodes[ad.order[k]];
        long i = depgraph_add(g, DG_ALEMBIC, an->rev, NULL, status_of(status, ud, DG_ALEMBIC, an->rev));
        g->nodes[i].src = (long)ad.order[k];
    }
    dag_free(&ad);

    /* the migrations, in the DAG's stable order */
    const char **revs = xcalloc(mf->n, sizeof *revs);
    const char *const **deps = xcalloc(mf->n, sizeof *deps);
    for (size_t i = 0; i < mf->n; i++) {
        revs[i] = mf->m[i].revision;
        deps[i] = (const char *const *)mf->m[i].depends_on.v;
    }
    dag md;
    rc = dag_build(&md, mf->n, revs, deps, err);
    free(revs);
    free(deps);
    if (rc != 0) {
        depgraph_free(g);
        return del_err_wrap(err, "%s", mf->path ? mf->path : MANIFEST_FILE);
    }
    size_t first = g->n;
    for (size_t k = 0; k < md.n; k++) {
        const mentry *e = &mf->m[md.order[k]];
        long i = depgraph_add(g, DG_MIGRATION, e->revision, e->description,
                              status_of(status, ud, DG_MIGRATION, e->revision));
        g->nodes[i].src = (long)md.order[k];
    }

    /* migration -> migration and -> Alembic, in depends_on order */
    for (size_t k = 0; k < md.n; k++) {
        size_t from = first + k;
        const mentry *e = &mf->m[md.order[k]];
        for (size_t d = 0; d < e->depends_on.n; d++) {
            const char *dep = e->depends_on.v[d];
            long j = dag_find(&md, dep);
            if (j >= 0)
                depgraph_add_edge(g, from, first + md.rank[j]);
            else
                depgraph_add_edge(g, from, alembic_node(g, dep, status, ud));
        }
        for (size_t d = 0; d < e->alembic.n; d++)
            depgraph_add_edge(g, from, alembic_node(g, e->alembic.v[d], status, ud));
    }
    dag_free(&md);

    /* Alembic revision -> its down revisions */
    for (size_t i = 0; i < ag->n; i++) {
        size_t from = (size_t)depgraph_find(g, DG_ALEMBIC, ag->nodes[i].rev);
        for (size_t d = 0; d < ag->nodes[i].down.n; d++)
            depgraph_add_edge(g, from, alembic_node(g, ag->nodes[i].down.v[d], status, ud));
    }
    return 0;
}

size_t *depgraph_dependents(const depgraph *g)
{
    size_t *nr = xcalloc(g->n, sizeof *nr);
    for (size_t i = 0; i < g->n; i++)
        for (size_t d = 0; d < g->nodes[i].ndeps; d++)
            nr[g->nodes[i].deps[d]]++;
    return nr;
}

void depgraph_chains(const depgraph *g, size_t min_len, dg_chain **chains, size_t *nchains)
{
    *chains = NULL;
    *nchains = 0;
    if (min_len == 0 || g->n == 0)
        return;
    size_t *nr = depgraph_dependents(g);
    /* next[u] = w when w needs only u, only w needs u, and they match */
    long *next = xmalloc(g->n * sizeof *next);
    char *has_prev = xcalloc(g->n, 1);
    for (size_t i = 0; i < g->n; i++)
        next[i] = -1;
    for (size_t w = 0; w < g->n; w++) {
        const dg_node *nw = &g->nodes[w];
        if (nw->ndeps != 1)
            continue;
        size_t u = nw->deps[0];
        const dg_node *nu = &g->nodes[u];
        if (nr[u] == 1 && nu->kind == nw->kind && nu->status == nw->status) {
            next[u] = (long)w;
            has_prev[w] = 1;
        }
    }
    size_t cap = 0;
    for (size_t s = 0; s < g->n; s++) {
        if (has_prev[s] || next[s] < 0)
            continue;
        size_t len = 1;
        for (long x = next[s]; x >= 0; x = next[x])
            len++;
        if (len <= min_len)
            continue;
        if (*nchains == cap) {
            cap = cap ? cap * 2 : 8;
            *chains = xrealloc(*chains, cap * sizeof **chains);
        }
        dg_chain *c = &(*chains)[(*nchains)++];
        c->members = xmalloc(len * sizeof *c->members);
        c->n = 0;
        for (long x = (long)s; x >= 0; x = next[x])
            c->members[c->n++] = (size_t)x;
    }
    free(nr);
    free(next);
    free(has_prev);
}

void dg_chains_free(dg_chain *chains, size_t nchains)
{
    for (size_t i = 0; i < nchains; i++)
        free(chains[i].members);
    free(chains);
}
