#include "dag.h"

#include <stdlib.h>
#include <string.h>

void dag_free(dag *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->nodes[i].deps);
        strvec_clear(&g->nodes[i].external);
    }
    free(g->nodes);
    free(g->order);
    free(g->rank);
    strmap_free(&g->index);
    memset(g, 0, sizeof *g);
}

long dag_find(const dag *g, const char *revision)
{
    return strmap_get(&g->index, revision);
}

/* a binary min-heap of node indices keyed by natural rank */
typedef struct heap {
    size_t *v;
    size_t n;
    const size_t *key;
} heap;

static void heap_push(heap *h, size_t x)
{
    size_t i = h->n++;
    h->v[i] = x;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h->key[h->v[p]] <= h->key[h->v[i]])
            break;
        size_t t = h->v[p];
        h->v[p] = h->v[i];
        h->v[i] = t;
        i = p;
    }
}

static size_t heap_pop(heap *h)
{
    size_t top = h->v[0];
    h->v[0] = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && h->key[h->v[l]] < h->key[h->v[m]])
            m = l;
        if (r < h->n && h->key[h->v[r]] < h->key[h->v[m]])
            m = r;
        if (m == i)
            break;
        size_t t = h->v[m];
        h->v[m] = h->v[i];
        h->v[i] = t;
        i = m;
    }
    return top;
}

/* qsort_r's comparison: arg is the names the indices point into */
static int by_name(const void *a, const void *b, void *arg)
{
    const char *const *names = arg;
    return natural_cmp(names[*(const size_t *)a], names[*(const size_t *)b]);
}

static void name_cycle(const dag *g, const char *placed, del_err *err)
{
    /* walk from an unplaced node along unplaced dependencies until a repeat */
    size_t start = 0;
    while (placed[start])
        start++;
    long *step = xmalloc(g->n * sizeof *step);
    for (size_t i = 0; i < g->n; i++)
        step[i] = -1;
    size_t cur = start;
    long k = 0;
    while (step[cur] < 0) {
        step[cur] = k++;
        size_t next = cur;
        for (size_t d = 0; d < g->nodes[cur].ndeps; d++)
            if (!placed[g->nodes[cur].deps[d]]) {
                next = g->nodes[cur].deps[d];
                break;
            }
        cur = next;
    }
    /* cur is on the cycle: collect it */
    sbuf b = {0};
    size_t c = cur;
    do {
        sbuf_printf(&b, "%s -> ", g->nodes[c].revision);
        for (size_t d = 0; d < g->nodes[c].ndeps; d++)
            if (!placed[g->nodes[c].deps[d]]) {
                c = g->nodes[c].deps[d];
                break;
            }
    } while (c != cur);
    sbuf_printf(&b, "%s", g->nodes[cur].revision);
    del_fail(err, DEL_KIND_BUNDLE, "dependency cycle: %s (each depends on the next); remove one of these depends_on entries",
             b.s);
    sbuf_free(&b);
    free(step);
}

int dag_build(dag *g, size_t n, const char *const *revisions,
              const char *const *const *deps, del_err *err)
{
    memset(g, 0, sizeof *g);
    g->n = n;
    g->nodes = xcalloc(n, sizeof *g->nodes);
    for (size_t i = 0; i < n; i++) {
        g->nodes[i].revision = revisions[i];
        long prev = strmap_get(&g->index, revisions[i]);
        if (prev >= 0) {
            del_fail(err, DEL_KIND_BUNDLE, "revision %s is defined twice (entries %ld and %zu)",
                     revisions[i], prev + 1, i + 1);
            dag_free(g);
            return -1;
        }
        strmap_put(&g->index, revisions[i], (long)i);
    }
    size_t *indeg = xcalloc(n, sizeof *indeg);
    size_t **rdeps = xcalloc(n, sizeof *rdeps);
    size_t *nr = xcalloc(n, sizeof *nr), *capr = xcalloc(n, sizeof *capr);
    for (size_t i = 0; i < n; i++) {
        size_t cnt = 0;
        for (const char *const *d = deps[i]; d && *d; d++)
            cnt++;
        g->nodes[i].deps = xcalloc(cnt, sizeof(size_t));
        for (const char *const *d = deps[i]; d && *d; d++) {
            long j = strmap_get(&g->index, *d);
            if (j < 0) {
                if (!strvec_contains(&g->nodes[i].external, *d))
                    strvec_push(&g->nodes[i].external, *d);
                continue;
            }
            int dup = 0;
            for (size_t k = 0; k < g->nodes[i].ndeps; k++)
                if (g->nodes[i].deps[k] == (size_t)j)
                    dup = 1;
            if (dup)
                continue;
            g->nodes[i].deps[g->nodes[i].ndeps++] = (size_t)j;
            indeg[i]++;
            if (nr[j] == capr[j]) {
                capr[j] = capr[j] ? capr[j] * 2 : 4;
                rdeps[j] = xrealloc(rdeps[j], capr[j] * sizeof **rdeps);
            }
            rdeps[j][nr[j]++] = i;
        }
    }
    /* natural rank of each name */
    size_t *byname = xmalloc(n * sizeof *byname);
    size_t *namerank = xmalloc(n * sizeof *namerank);
    for (size_t i = 0; i < n; i++)
        byname[i] = i;
    qsort_r(byname, n, sizeof *byname, by_name, (void *)revisions);
    for (size_t i = 0; i < n; i++)
        namerank[byname[i]] = i;

    heap h = {xmalloc(n * sizeof(size_t)), 0, namerank};
    for (size_t i = 0; i < n; i++)
        if (indeg[i] == 0)
            heap_push(&h, i);
    g->order = xmalloc(n * sizeof *g->order);
    g->rank = xmalloc(n * sizeof *g->rank);
    char *placed = xcalloc(n, 1);
    size_t k = 0;
    while (h.n) {
        size_t x = heap_pop(&h);
        placed[x] = 1;
        g->rank[x] = k;
        g->order[k++] = x;
        for (size_t r = 0; r < nr[x]; r++)
            if (--indeg[rdeps[x][r]] == 0)
                heap_push(&h, rdeps[x][r]);
    }
    int rc = 0;
    if (k < n) {
        name_cycle(g, placed, err);
        rc = DAG_CYCLE;
    }
    for (size_t i = 0; i < n; i++)
        free(rdeps[i]);
    free(rdeps);
    free(nr);
    free(capr);
    free(indeg);
    free(byname);
    free(namerank);
    free(h.v);
    free(placed);
    if (rc != 0)
        dag_free(g);
    return rc;
}

void dag_mark_ancestors(const dag *g, size_t i, char *mark)
{
    if (mark[i])
        return;
    size_t *stack = xmalloc((g->n + 1) * sizeof *stack);
    size_t sp = 0;
    mark[i] = 1;
    stack[sp++] = i;
    while (sp) {
        size_t x = stack[--sp];
        for (size_t d = 0; d < g->nodes[x].ndeps; d++) {
            size_t y = g->nodes[x].deps[d];
            if (!mark[y]) {
                mark[y] = 1;
                stack[sp++] = y;
            }
        }
    }
    free(stack);
}
