#include "algraph.h"

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
    return n;
}

long algraph_find(const algraph *g, const char *rev)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->nodes[i].rev, rev) == 0)
            return (long)i;
    return -1;
}

int algraph_validate(const algraph *g, const char *where, del_err *err)
{
    for (size_t i = 0; i < g->n; i++) {
        for (size_t j = i + 1; j < g->n; j++)
            if (strcmp(g->nodes[i].rev, g->nodes[j].rev) == 0)
                return del_fail(err, DEL_EUSAGE, "%s: Alembic revision %s appears twice%s%s%s%s",
                                where, g->nodes[i].rev, g->nodes[i].file ? " (" : "",
                                g->nodes[i].file ? g->nodes[i].file : "",
                                g->nodes[j].file ? " and " : "",
                                g->nodes[j].file ? g->nodes[j].file : "");
        for (size_t d = 0; d < g->nodes[i].down.n; d++)
            if (algraph_find(g, g->nodes[i].down.v[d]) < 0)
                return del_fail(err, DEL_EUSAGE,
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
    for (size_t i = 0; i < g->n; i++) {
        int pointed = 0;
        for (size_t j = 0; j < g->n && !pointed; j++)
            if (strvec_contains(&g->nodes[j].down, g->nodes[i].rev))
                pointed = 1;
        if (!pointed)
            strvec_push(heads, g->nodes[i].rev);
    }
    strvec_sort_natural(heads);
}

int algraph_order(const algraph *g, strvec *order, del_err *err)
{
    size_t n = g->n;
    char *done = xcalloc(n, 1);
    size_t placed = 0;
    while (placed < n) {
        /* pick the ready revision with the smallest natural name */
        long best = -1;
        for (size_t i = 0; i < n; i++) {
            if (done[i])
                continue;
            int ready = 1;
            for (size_t d = 0; d < g->nodes[i].down.n && ready; d++) {
                long k = algraph_find(g, g->nodes[i].down.v[d]);
                if (k >= 0 && !done[k])
                    ready = 0;
            }
            if (ready && (best < 0 || natural_cmp(g->nodes[i].rev, g->nodes[best].rev) < 0))
                best = (long)i;
        }
        if (best < 0) {
            sbuf members = {0};
            for (size_t i = 0; i < n; i++)
                if (!done[i])
                    sbuf_printf(&members, "%s%s", members.len ? ", " : "", g->nodes[i].rev);
            del_fail(err, DEL_EUSAGE, "the Alembic revisions %s form a cycle", members.s);
            sbuf_free(&members);
            free(done);
            return -1;
        }
        done[best] = 1;
        strvec_push(order, g->nodes[best].rev);
        placed++;
    }
    free(done);
    return 0;
}

void algraph_applied(const algraph *g, const strvec *db_heads, strvec *applied, strvec *unknown)
{
    char *seen = xcalloc(g->n ? g->n : 1, 1);
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
