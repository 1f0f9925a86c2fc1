#include "algraph.h"

#include <stdio.h>

#include "dag.h"

#include <stdlib.h>
#include <string.h>

void algraph_free(algraph *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->nodes[i].rev);
        free(g->nodes[i].file);
        strvec_clear(&g->nodes[i].down);
    }
    free(g->nodes);
    strmap_free(&g->index);
    memset(g, 0, sizeof *g);
}

alnode *algraph_add(algraph *g, const char *rev)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 16;
        g->nodes = xrealloc(g->nodes, g->cap * sizeof *g->nodes);
    }
    alnode *n = &g->nodes[g->n++];
    memset(n, 0, sizeof *n);
    n->rev = xstrdup(rev);
    if (strmap_get(&g->index, n->rev) < 0)
        strmap_put(&g->index, n->rev, (long)(g->n - 1));
    return n;
}

long algraph_find(const algraph *g, const char *rev)
{
    return strmap_get(&g->index, rev);
}

int algraph_validate(const algraph *g, const char *where, del_err *err)
{
    for (size_t j = 0; j < g->n; j++) {
        size_t i = (size_t)algraph_find(g, g->nodes[j].rev);
        if (i != j)
            return del_fail(err, DEL_KIND_BUNDLE, "%s: Alembic revision %s appears twice%s%s%s%s%s",
                            where, g->nodes[i].rev, g->nodes[i].file ? " (" : "",
                            g->nodes[i].file ? g->nodes[i].file : "",
                            g->nodes[j].file ? " and " : "",
                            g->nodes[j].file ? g->nodes[j].file : "", g->nodes[i].file ? ")" : "");
    }
    for (size_t i = 0; i < g->n; i++) {
        for (size_t d = 0; d < g->nodes[i].down.n; d++)
            if (algraph_find(g, g->nodes[i].down.v[d]) < 0)
                return del_fail(err, DEL_KIND_BUNDLE,
                                "%s: Alembic revision %s%s%s has down_revision %s, which no script defines",
                                where, g->nodes[i].rev, g->nodes[i].file ? " in " : "",
                                g->nodes[i].file ? g->nodes[i].file : "", g->nodes[i].down.v[d]);
    }
    strvec order = {0};
    int rc = algraph_order(g, &order, err);
    if (rc != 0)
        del_err_wrap(err, "%s", where);
    strvec_clear(&order);
    return rc;
}

void algraph_heads(const algraph *g, strvec *heads)
{
    char *pointed = xcalloc(g->n, 1);
    for (size_t j = 0; j < g->n; j++)
        for (size_t d = 0; d < g->nodes[j].down.n; d++) {
            long k = algraph_find(g, g->nodes[j].down.v[d]);
            if (k >= 0)
                pointed[k] = 1;
        }
    for (size_t i = 0; i < g->n; i++)
        if (!pointed[i])
            strvec_push(heads, g->nodes[i].rev);
    free(pointed);
    strvec_sort_natural(heads);
}

int algraph_order(const algraph *g, strvec *order, del_err *err)
{
    /* the same stable topological order as the migrations' DAG */
    const char **revs = xcalloc(g->n, sizeof *revs);
    const char *const **deps = xcalloc(g->n, sizeof *deps);
    for (size_t i = 0; i < g->n; i++) {
        revs[i] = g->nodes[i].rev;
        deps[i] = (const char *const *)g->nodes[i].down.v;
    }
    dag d;
    int rc = dag_build(&d, g->n, revs, deps, err);
    if (rc == 0) {
        for (size_t k = 0; k < d.n; k++)
            strvec_push(order, g->nodes[d.order[k]].rev);
        dag_free(&d);
    } else if (rc == DAG_CYCLE) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        del_fail(err, DEL_KIND_BUNDLE, "Alembic revisions: %s", msg);
    }
    free(revs);
    free(deps);
    return rc == 0 ? 0 : -1;
}

void algraph_applied(const algraph *g, const strvec *db_heads, strvec *applied, strvec *unknown)
{
    char *seen = xcalloc(g->n, 1);
    long *stack = xmalloc((g->n + 1) * sizeof *stack);
    for (size_t h = 0; h < db_heads->n; h++) {
        long k = algraph_find(g, db_heads->v[h]);
        if (k < 0) {
            if (!strvec_contains(applied, db_heads->v[h]))
                strvec_push(applied, db_heads->v[h]);
            if (unknown)
                strvec_push(unknown, db_heads->v[h]);
            continue;
        }
        size_t sp = 0;
        if (!seen[k]) {
            seen[k] = 1;
            stack[sp++] = k;
        }
        while (sp) {
            const alnode *nd = &g->nodes[stack[--sp]];
            strvec_push(applied, nd->rev);
            for (size_t d = 0; d < nd->down.n; d++) {
                long j = algraph_find(g, nd->down.v[d]);
                if (j >= 0 && !seen[j]) {
                    seen[j] = 1;
                    stack[sp++] = j;
                }
            }
        }
    }
    free(stack);
    free(seen);
}
