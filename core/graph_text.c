#include "graph_text.h"

#include <stdlib.h>
#include <string.h>

#include "dag.h"
#include "term.h"

#define STATUS_WIDTH 8 /* the longest status name, "orphaned" */

/* what a cell of the drawing holds */
enum cell { C_SPACE, C_VERT, C_LEFT, C_RIGHT, C_CROSS, C_NODE };

static const char *const glyph_ascii[] = {" ", "|", "/", "\\", "X", "*"};
static const char *const glyph_utf8[] = {" ", "\xe2\x94\x82" /* │ */, "\xe2\x95\xb1" /* ╱ */,
                                         "\xe2\x95\xb2" /* ╲ */, "\xe2\x95\xb3" /* ╳ */,
                                         "\xe2\x97\x8f" /* ● */};

/* A lane: the nodes (drawing positions) it still leads to. */
typedef struct lane {
    size_t *t;
    size_t n, cap;
} lane;

static void lane_set(lane *l, const size_t *t, size_t n)
{
    if (n > l->cap) {
        l->cap = n;
        l->t = xrealloc(l->t, n * sizeof *l->t);
    }
    if (n)
        memcpy(l->t, t, n * sizeof *t);
    l->n = n;
}

static int lane_has(const lane *l, size_t y)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->t[i] == y)
            return 1;
    return 0;
}

static void lane_remove(lane *l, size_t y)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->t[i] == y) {
            memmove(&l->t[i], &l->t[i + 1], (l->n - i - 1) * sizeof *l->t);
            l->n--;
            return;
        }
}

/* a line of the drawing from lane a (before) to lane b (after) */
typedef struct seg {
    size_t a, b;
} seg;

typedef struct drawing {
    const char *const *glyph;
    strvec *lines;
    unsigned char *cells;   /* one row, 2 cells a lane */
    size_t ncells;
} drawing;

static void row_reset(drawing *d, size_t lanes)
{
    d->ncells = 2 * lanes;
    d->cells = xrealloc(d->cells, d->ncells);
    memset(d->cells, C_SPACE, d->ncells);
}

static void put(drawing *d, size_t i, unsigned char c)
{
    unsigned char *p = &d->cells[i];
    if ((*p == C_LEFT && c == C_RIGHT) || (*p == C_RIGHT && c == C_LEFT))
        *p = C_CROSS;
    else if (*p != C_CROSS)
        *p = c;
}

/* the row as text (trailing spaces dropped unless keep) */
static void row_text(const drawing *d, sbuf *b, int keep)
{
    size_t end = d->ncells;
    if (!keep)
        while (end > 0 && d->cells[end - 1] == C_SPACE)
            end--;
    for (size_t i = 0; i < end; i++)
        sbuf_puts(b, d->glyph[d->cells[i]]);
}

static void push_row(drawing *d)
{
    sbuf b = {0};
    row_text(d, &b, 0);
    strvec_push(d->lines, b.s ? b.s : "");
    sbuf_free(&b);
}

/* Rows that move each line from its lane before to its lane after, one lane
 * a row, every line as early as it can. */
static void draw_moves(drawing *d, const seg *s, size_t ns, size_t lanes)
{
    size_t rows = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t dist = s[i].a > s[i].b ? s[i].a - s[i].b : s[i].b - s[i].a;
        if (dist > rows)
            rows = dist;
    }
    for (size_t r = 1; r <= rows; r++) {
        row_reset(d, lanes);
        for (size_t i = 0; i < ns; i++) {
            size_t a = s[i].a, b = s[i].b, dist = a > b ? a - b : b - a;
            size_t done = r - 1 < dist ? r - 1 : dist;
            size_t p = a > b ? a - done : a + done;
            if (r > dist)
                put(d, 2 * p, C_VERT);
            else if (a > b)
                put(d, 2 * p - 1, C_LEFT);
            else
                put(d, 2 * p + 1, C_RIGHT);
        }
        push_row(d);
    }
}

/* status, revision, description, Alembic needs */
static void node_text(sbuf *b, const depgraph *g, const dg_node *nd)
{
    const char *st = dg_status_name(nd->status);
    sbuf_puts(b, st);
    for (size_t k = strlen(st); k < STATUS_WIDTH; k++)
        sbuf_puts(b, " ");
    sbuf_puts(b, " ");
    sbuf_term(b, nd->id);
    if (nd->label && nd->label[0]) {
        sbuf_puts(b, " ");
        sbuf_term(b, nd->label);
    }
    int first = 1;
    for (size_t d = 0; d < nd->ndeps; d++) {
        const dg_node *dep = &g->nodes[nd->deps[d]];
        if (dep->kind != DG_ALEMBIC)
            continue;
        sbuf_puts(b, first ? "  needs alembic " : ", ");
        sbuf_term(b, dep->id);
        first = 0;
        if (dep->status == DG_PENDING)
            sbuf_puts(b, " (not applied)");
    }
}

static int by_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

int graph_text(const depgraph *g, const graph_text_opts *opts, strvec *lines, del_err *err)
{
    graph_text_opts o = GRAPH_TEXT_OPTS_INIT;
    if (opts)
        o = *opts;

    /* the migrations and their stable order */
    size_t n = 0;
    size_t *node_of = xmalloc(g->n * sizeof *node_of); /* local -> node */
    long *local = xmalloc(g->n * sizeof *local);        /* node -> local */
    for (size_t i = 0; i < g->n; i++) {
        local[i] = -1;
        if (g->nodes[i].kind == DG_MIGRATION) {
            local[i] = (long)n;
            node_of[n++] = i;
        }
    }
    const char **revs = xcalloc(n, sizeof *revs);
    const char ***deps = xcalloc(n, sizeof *deps);
    for (size_t x = 0; x < n; x++) {
        const dg_node *nd = &g->nodes[node_of[x]];
        revs[x] = nd->id;
        deps[x] = xcalloc(nd->ndeps + 1, sizeof **deps);
        size_t k = 0;
        for (size_t d = 0; d < nd->ndeps; d++)
            if (local[nd->deps[d]] >= 0)
                deps[x][k++] = g->nodes[nd->deps[d]].id;
    }
    dag dg;
    int rc = dag_build(&dg, n, revs, (const char *const *const *)deps, err);
    for (size_t x = 0; x < n; x++)
        free(deps[x]);
    free(deps);
    free(revs);
    if (rc != 0) {
        free(node_of);
        free(local);
        return -1;
    }

    /* draw[k] = the local node drawn k-th; pos[x] = where x is drawn */
    size_t *draw = xmalloc(n * sizeof *draw);
    size_t *pos = xmalloc(n * sizeof *pos);
    for (size_t k = 0; k < n; k++) {
        draw[k] = dg.order[o.newest_first ? n - 1 - k : k];
        pos[draw[k]] = k;
    }
    /* next[x]: the nodes drawn after x that a lane from x leads to */
    size_t **next = xcalloc(n, sizeof *next);
    size_t *nnext = xcalloc(n, sizeof *nnext);
    size_t *capnext = xcalloc(n, sizeof *capnext);
    for (size_t x = 0; x < n; x++)
        for (size_t d = 0; d < dg.nodes[x].ndeps; d++) {
            size_t y = dg.nodes[x].deps[d];
            size_t from = o.newest_first ? x : y, to = o.newest_first ? y : x;
            if (nnext[from] == capnext[from]) {
                capnext[from] = capnext[from] ? capnext[from] * 2 : 4;
                next[from] = xrealloc(next[from], capnext[from] * sizeof **next);
            }
            next[from][nnext[from]++] = pos[to];
        }
    for (size_t x = 0; x < n; x++)
        if (nnext[x] > 1)
            qsort(next[x], nnext[x], sizeof *next[x], by_size);

    drawing d = {o.utf8 ? glyph_utf8 : glyph_ascii, lines, NULL, 0};
    lane *cur = NULL, *nxt = NULL;
    size_t ncur = 0, capl = 0;
    seg *segs = NULL;
    size_t capseg = 0;
    long prev_col = -1;
    int prev_ended = 0;
    for (size_t k = 0; k < n; k++) {
        /* room for the lanes after this step (at most one more) and the lines */
        if (ncur + 1 > capl) {
            size_t old = capl;
            capl = (ncur + 1) * 2;
            cur = xrealloc(cur, capl * sizeof *cur);
            nxt = xrealloc(nxt, capl * sizeof *nxt);
            memset(cur + old, 0, (capl - old) * sizeof *cur);
            memset(nxt + old, 0, (capl - old) * sizeof *nxt);
        }
        if (2 * ncur > capseg) {
            capseg = 2 * ncur;
            segs = xrealloc(segs, capseg * sizeof *segs);
        }
        /* the lanes that lead to k: the first that leads to k alone is its home */
        long home = -1, first_has = -1;
        for (size_t j = 0; j < ncur; j++) {
            if (!lane_has(&cur[j], k))
                continue;
            if (first_has < 0)
                first_has = (long)j;
            if (home < 0 && cur[j].n == 1)
                home = (long)j;
        }
        /* the lanes after: ended ones and ones that merge into k go */
        size_t nn = 0, ns = 0;
        size_t *where = xmalloc(ncur * sizeof *where); /* j -> lane after, or SIZE_MAX */
        long col = -1;
        for (size_t j = 0; j < ncur; j++) {
            where[j] = (size_t)-1;
            int has = lane_has(&cur[j], k);
            if (cur[j].n == 0 || (has && cur[j].n == 1 && (long)j != home))
                continue;
            where[j] = nn;
            lane_set(&nxt[nn], cur[j].t, cur[j].n);
            if (has)
                lane_remove(&nxt[nn], k);
            if ((long)j == home)
                col = (long)nn;
            nn++;
            if (home < 0 && (long)j == first_has) {
                col = (long)nn; /* a branch, just right of the first lane to k */
                nxt[nn++].n = 0;
            }
        }
        if (col < 0) { /* a node nothing leads to: a lane of its own at the end */
            col = (long)nn;
            nxt[nn++].n = 0;
        }
        for (size_t j = 0; j < ncur; j++) {
            int has = lane_has(&cur[j], k);
            if (where[j] != (size_t)-1)
                segs[ns++] = (seg){j, where[j]};
            if (has && (long)where[j] != col)
                segs[ns++] = (seg){j, (size_t)col};
        }
        free(where);
        size_t lanes = nn > ncur ? nn : ncur;
        if (first_has < 0 && prev_ended && col == prev_col) {
            /* unrelated to the line above: part them */
            row_reset(&d, nn);
            for (size_t j = 0; j < nn; j++)
                if ((long)j != col)
                    d.cells[2 * j] = C_VERT;
            push_row(&d);
        }
        draw_moves(&d, segs, ns, lanes);

        /* the node's line */
        row_reset(&d, nn);
        for (size_t j = 0; j < nn; j++)
            d.cells[2 * j] = (long)j == col ? C_NODE : C_VERT;
        sbuf b = {0};
        row_text(&d, &b, 1);
        node_text(&b, g, &g->nodes[node_of[draw[k]]]);
        strvec_push(lines, b.s);
        sbuf_free(&b);

        /* the node's lane now leads where it does */
        size_t x = draw[k];
        lane_set(&nxt[col], next[x], nnext[x]);
        prev_col = col;
        prev_ended = nnext[x] == 0;
        lane *t = cur;
        cur = nxt;
        nxt = t;
        ncur = nn;
    }
    for (size_t j = 0; j < capl; j++) {
        free(cur[j].t);
        free(nxt[j].t);
    }
    free(cur);
    free(nxt);
    free(segs);
    free(d.cells);
    for (size_t x = 0; x < n; x++)
        free(next[x]);
    free(next);
    free(nnext);
    free(capnext);
    free(draw);
    free(pos);
    free(node_of);
    free(local);
    dag_free(&dg);
    return 0;
}
