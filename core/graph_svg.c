#include "graph_svg.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cgraph.h>
#include <gvc.h>

#include "term.h"

#define FONT "Helvetica"
/* Graphviz measures text with Helvetica's (Arial's) widths, but a browser
 * without Helvetica or Arial draws a wider sans-serif (DejaVu Sans: about 12%
 * wider), which would overflow the nodes: nodes are laid out for text at
 * FONT_SIZE_LAYOUT (14% larger) and the SVG draws it at FONT_SIZE_DRAWN_SVG. */
#define FONT_SIZE_LAYOUT "12.5"
#define FONT_SIZE_LAYOUT_SVG " font-size=\"12.50\"" /* as Graphviz writes it */
#define FONT_SIZE_DRAWN_SVG " font-size=\"11.00\""
#define CLUSTER_FONT_SIZE "13"

/* Network simplex (placing nodes across) and crossing minimisation grow
 * faster than the graph: past LARGE_GRAPH drawn nodes they are cut short (a
 * slightly less tidy picture in a fraction of the time), past HUGE_GRAPH
 * shorter still, and the two clusters are dropped (the node shapes and
 * classes still tell Alembic from Delembic). Ranking stays complete: cutting
 * it short makes longer edges and costs more than it saves. */
#define LARGE_GRAPH 400
#define LARGE_NSLIMIT "0.2"
#define LARGE_MCLIMIT "0.1"
#define HUGE_GRAPH 2000
#define HUGE_NSLIMIT "0.02"
#define HUGE_MCLIMIT "0.05"

#define PIPE_CHUNK (64 * 1024) /* read from the child this much at a time */

/* The dot layout and the core renderers (svg, dot), linked in: no plugin
 * configuration is read and no font library is loaded. */
extern gvplugin_library_t gvplugin_dot_layout_LTX_library;
extern gvplugin_library_t gvplugin_core_LTX_library;
static const lt_symlist_t builtin_plugins[] = {
    {"gvplugin_dot_layout_LTX_library", &gvplugin_dot_layout_LTX_library},
    {"gvplugin_core_LTX_library", &gvplugin_core_LTX_library},
    {NULL, NULL},
};

/* How each status looks: colours of the Okabe-Ito palette, and a border
 * that differs too, so no status is told by colour alone. */
typedef struct look {
    const char *fill, *border, *style, *penwidth, *peripheries;
} look;

static const look looks[DG_NSTATUS] = {
    [DG_UNKNOWN] = {"#ffffff", "#000000", "filled", "1", "1"},
    [DG_APPLIED] = {"#d5f0e5", "#009e73", "filled", "1.5", "1"},
    [DG_FAILED] = {"#f8d3bf", "#d55e00", "filled,bold", "3", "1"},
    [DG_PENDING] = {"#ffffff", "#595959", "filled,dashed", "1.5", "1"},
    [DG_CHANGED] = {"#fbe6b8", "#b57d00", "filled", "1.5", "2"},
    [DG_MISSING] = {"#ebebeb", "#737373", "filled,dotted", "1.5", "1"},
    [DG_ORPHANED] = {"#f5dcea", "#cc79a7", "filled,diagonals", "1.5", "1"},
    [DG_HELD] = {"#f7f1b0", "#000000", "filled,dashed", "3", "1"},
    [DG_RUNNING] = {"#cde4f3", "#0072b2", "filled,bold,rounded", "3", "1"},
    [DG_PAUSED] = {"#e0f1fb", "#56b4e9", "filled,dotted", "3", "1"},
};

/* cgraph's own id discipline gives a named object the address of its
 * interned name as its id, and keeps subgraphs (the clusters) in id order, so
 * the order of the clusters in the SVG would follow malloc. (Leaving names to
 * cgraph's internal map instead leaks its entries when a cluster is closed,
 * in Graphviz 2.42.) This one numbers names in the order they come: the same
 * graph always gives the same SVG. */
typedef struct seq_ids {
    Agraph_t *g;
    char **names;  /* name of id 2 * (i + 1), interned (agwrite reads the
                    * header cgraph keeps before its own strings) */
    size_t n, cap;
    strmap index;  /* name -> i */
    IDTYPE anon;   /* the last anonymous id given (odd) */
} seq_ids;

static void *seq_open(Agraph_t *g, Agdisc_t *disc)
{
    seq_ids *st = xcalloc(1, sizeof *st);
    st->g = g;
    st->anon = 1;
    return st;
}

static long seq_map(void *state, int objtype, char *str, IDTYPE *id, int createflag)
{
    seq_ids *st = state;
    if (!str) { /* anonymous: odd ids, as cgraph's own */
        st->anon += 2;
        *id = st->anon;
        return 1;
    }
    long i = strmap_get(&st->index, str);
    if (i < 0) {
        if (!createflag)
            return 0;
        if (st->n == st->cap) {
            st->cap = st->cap ? st->cap * 2 : 64;
            st->names = xrealloc(st->names, st->cap * sizeof *st->names);
        }
        i = (long)st->n;
        st->names[st->n++] = agstrdup(st->g, str);
        strmap_put(&st->index, st->names[i], i);
    }
    *id = 2 * ((IDTYPE)i + 1);
    return 1;
}

static long seq_alloc(void *state, int objtype, IDTYPE request)
{
    return request % 2 == 1; /* a name's id is only ever given by seq_map */
}

static void seq_free(void *state, int objtype, IDTYPE id)
{
    /* names stay until the graph is closed */
}

static char *seq_print(void *state, int objtype, IDTYPE id)
{
    seq_ids *st = state;
    if (id % 2 == 1 || id == 0 || id / 2 > st->n)
        return NULL;
    return st->names[id / 2 - 1];
}

static void seq_close(void *state)
{
    seq_ids *st = state;
    for (size_t i = 0; i < st->n; i++)
        agstrfree(st->g, st->names[i]);
    free(st->names);
    strmap_free(&st->index);
    free(st);
}

static void seq_idregister(void *state, int objtype, void *obj)
{
}

static Agiddisc_t seq_id_disc = {seq_open, seq_map, seq_alloc, seq_free, seq_print, seq_close, seq_idregister};
static Agdisc_t seq_disc = {&AgMemDisc, &seq_id_disc, &AgIoDisc};

/* ---- text ---------------------------------------------------------------- */

/* s as text any reader can hold: control characters and invalid UTF-8 shown
 * escaped (term.h), and the two code points XML forbids (U+FFFE, U+FFFF) too. */
static char *clean(const char *s)
{
    char *t = term_text(s ? s : "");
    sbuf b = {0};
    for (const char *p = t; *p; p++) {
        if ((unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBF &&
            ((unsigned char)p[2] == 0xBE || (unsigned char)p[2] == 0xBF)) {
            sbuf_puts(&b, (unsigned char)p[2] == 0xBE ? "\\ufffe" : "\\uffff");
            p += 2;
        } else {
            sbuf_add(&b, p, 1);
        }
    }
    free(t);
    return b.s ? b.s : xstrdup("");
}

/* Append clean text s for a Graphviz label: at most max characters (then
 * "…"); '\' doubled (no \N, \G, \n escapes from a bundle), '&' as &amp; (no
 * entities either). */
static void label_text(sbuf *b, const char *s, size_t max)
{
    size_t chars = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80 && chars++ == max) {
            sbuf_puts(b, "\xe2\x80\xa6"); /* … */
            return;
        }
        if (*p == '\\')
            sbuf_puts(b, "\\\\");
        else if (*p == '&')
            sbuf_puts(b, "&amp;");
        else
            sbuf_add(b, (const char *)p, 1);
    }
}

static void xml_text(sbuf *b, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': sbuf_puts(b, "&amp;"); break;
        case '<': sbuf_puts(b, "&lt;"); break;
        case '>': sbuf_puts(b, "&gt;"); break;
        case '"': sbuf_puts(b, "&quot;"); break;
        case '\'': sbuf_puts(b, "&#39;"); break;
        default: sbuf_add(b, s, 1);
        }
    }
}

static void id_encode(sbuf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '-')
            sbuf_add(b, (const char *)p, 1);
        else
            sbuf_printf(b, ".%02x", *p);
    }
}

void graph_svg_node_id(const depgraph *g, size_t i, sbuf *b)
{
    sbuf_puts(b, g->nodes[i].kind == DG_ALEMBIC ? "a-" : "m-");
    id_encode(b, g->nodes[i].id);
}

/* ---- the Graphviz graph -------------------------------------------------- */

/* Graphviz takes char * for strings it copies. */
#define S(x) ((char *)(x))

typedef struct pic {
    const depgraph *dg;
    graph_svg_opts o;
    Agraph_t *g;
    Agraph_t *cluster[DG_NKINDS];
    int no_clusters;
    Agsym_t *n_id, *n_class, *n_label, *n_shape, *n_style, *n_fill, *n_color, *n_pen, *n_peri;
    Agsym_t *e_id, *e_class, *e_color, *e_style;
    Agsym_t *n_tooltip, *e_tooltip; /* dot text only: the SVG gets <title>s instead */
    Agnode_t **drawn;       /* depgraph node -> the node that draws it */
    dg_chain *chains;
    size_t nchains;
    long *hidden;           /* depgraph node -> chain whose collapsed node holds it, or -1 */
    Agnode_t **chain_node;
    strvec ids, titles;     /* what the SVG's <title> of each id becomes */
    strmap title_of;        /* id -> index in titles (built after all are known) */
} pic;

static void add_title(pic *p, void *obj, Agsym_t *tooltip, const char *id, const char *title)
{
    strvec_push(&p->ids, id);
    strvec_push(&p->titles, title);
    if (tooltip) {
        sbuf t = {0};
        label_text(&t, title, (size_t)-1);
        agxset(obj, tooltip, t.s ? t.s : S(""));
        sbuf_free(&t);
    }
}

static void set_look(pic *p, Agnode_t *n, dg_status st)
{
    const look *lk = &looks[(unsigned)st < DG_NSTATUS ? st : DG_UNKNOWN];
    agxset(n, p->n_fill, S(lk->fill));
    agxset(n, p->n_color, S(lk->border));
    agxset(n, p->n_style, S(lk->style));
    agxset(n, p->n_pen, S(lk->penwidth));
    agxset(n, p->n_peri, S(lk->peripheries));
}

static Agraph_t *cluster_for(pic *p, dg_kind kind)
{
    if (p->no_clusters)
        return p->g;
    if (p->cluster[kind])
        return p->cluster[kind];
    int al = kind == DG_ALEMBIC;
    Agraph_t *c = agsubg(p->g, S(al ? "cluster_alembic" : "cluster_migrations"), 1);
    const char *id = al ? "cluster-alembic" : "cluster-migrations";
    const char *title = al ? "Alembic revisions (schema)" : "Delembic migrations (data)";
    agsafeset(c, S("id"), S(id), S(""));
    agsafeset(c, S("class"), S(al ? "alembic" : "migrations"), S(""));
    agsafeset(c, S("label"), S(al ? "Alembic (schema)" : "Delembic (data)"), S(""));
    agsafeset(c, S("style"), S("rounded"), S(""));
    agsafeset(c, S("color"), S("#b3b3b3"), S(""));
    agsafeset(c, S("fontname"), S(FONT), S(""));
    agsafeset(c, S("fontsize"), S(CLUSTER_FONT_SIZE), S(""));
    add_title(p, c, NULL, id, title);
    if (p->n_tooltip)
        agsafeset(c, S("tooltip"), S(title), S(""));
    p->cluster[kind] = c;
    return c;
}

static void add_node(pic *p, size_t i)
{
    const dg_node *nd = &p->dg->nodes[i];
    sbuf id = {0}, label = {0}, title = {0}, cls = {0};
    graph_svg_node_id(p->dg, i, &id);
    char *rev = clean(nd->id), *desc = clean(nd->label);
    const char *st = dg_status_name(nd->status);

    label_text(&label, rev, p->o.label_max);
    sbuf_printf(&label, " \xc2\xb7 %s", st); /* · */
    if (nd->kind == DG_MIGRATION && desc[0]) {
        sbuf_puts(&label, "\\n");
        label_text(&label, desc, p->o.label_max);
    }
    sbuf_printf(&title, "%s%s (%s)%s%s", nd->kind == DG_ALEMBIC ? "Alembic " : "", rev, st,
                desc[0] ? ": " : "", desc);
    sbuf_printf(&cls, "%s status-%s", dg_kind_name(nd->kind), st);

    Agnode_t *n = agnode(cluster_for(p, nd->kind), id.s, 1);
    agxset(n, p->n_id, id.s);
    agxset(n, p->n_class, cls.s);
    agxset(n, p->n_label, label.s);
    agxset(n, p->n_shape, S(nd->kind == DG_ALEMBIC ? "ellipse" : "box"));
    set_look(p, n, nd->status);
    add_title(p, n, p->n_tooltip, id.s, title.s);
    p->drawn[i] = n;
    free(rev);
    free(desc);
    sbuf_free(&id);
    sbuf_free(&label);
    sbuf_free(&title);
    sbuf_free(&cls);
}

/* The node that stands for the hidden members of chain c. */
static void add_chain_node(pic *p, size_t c)
{
    const dg_chain *ch = &p->chains[c];
    const depgraph *dg = p->dg;
    size_t first = ch->members[1], last = ch->members[ch->n - 2], hidden = ch->n - 2;
    const dg_node *nf = &dg->nodes[first];
    int al = nf->kind == DG_ALEMBIC;
    const char *what = al ? (hidden == 1 ? "Alembic revision" : "Alembic revisions")
                          : (hidden == 1 ? "migration" : "migrations");
    const char *st = dg_status_name(nf->status);
    sbuf id = {0}, label = {0}, title = {0}, cls = {0};
    sbuf_puts(&id, "chain-");
    graph_svg_node_id(dg, first, &id);
    char *rf = clean(nf->id), *rl = clean(dg->nodes[last].id);
    sbuf_printf(&label, "%zu %s \xc2\xb7 %s\\n", hidden, what, st);
    label_text(&label, rf, p->o.label_max);
    sbuf_puts(&label, " \xe2\x80\xa6 "); /* … */
    label_text(&label, rl, p->o.label_max);
    sbuf_printf(&title, "%zu %s (%s): ", hidden, what, st);
    for (size_t k = 1; k + 1 < ch->n; k++) {
        char *r = clean(dg->nodes[ch->members[k]].id);
        sbuf_printf(&title, "%s%s", k > 1 ? ", " : "", r);
        free(r);
    }
    sbuf_printf(&cls, "%s collapsed status-%s", dg_kind_name(nf->kind), st);

    Agnode_t *n = agnode(cluster_for(p, nf->kind), id.s, 1);
    agxset(n, p->n_id, id.s);
    agxset(n, p->n_class, cls.s);
    agxset(n, p->n_label, label.s);
    agxset(n, p->n_shape, S("box3d"));
    set_look(p, n, nf->status);
    add_title(p, n, p->n_tooltip, id.s, title.s);
    p->chain_node[c] = n;
    free(rf);
    free(rl);
    sbuf_free(&id);
    sbuf_free(&label);
    sbuf_free(&title);
    sbuf_free(&cls);
}

static Agnode_t *drawn_as(const pic *p, size_t i)
{
    return p->hidden[i] >= 0 ? p->chain_node[p->hidden[i]] : p->drawn[i];
}

static void add_edges(pic *p)
{
    const depgraph *dg = p->dg;
    size_t k = 0;
    for (size_t i = 0; i < dg->n; i++) {
        const dg_node *from = &dg->nodes[i];
        for (size_t d = 0; d < from->ndeps; d++) {
            size_t j = from->deps[d];
            Agnode_t *head = drawn_as(p, i), *tail = drawn_as(p, j);
            if (head == tail)
                continue; /* inside a collapsed run */
            const dg_node *to = &dg->nodes[j];
            const char *cls = from->kind == DG_ALEMBIC ? "down-revision"
                              : to->kind == DG_ALEMBIC ? "needs-alembic" : "needs-migration";
            sbuf id = {0}, title = {0};
            sbuf_printf(&id, "edge-%zu", k++);
            char *rf = clean(from->id), *rt = clean(to->id);
            sbuf_printf(&title, "%s%s needs %s%s%s", from->kind == DG_ALEMBIC ? "Alembic " : "", rf,
                        to->kind == DG_ALEMBIC ? "Alembic " : "", rt,
                        p->hidden[i] >= 0 || p->hidden[j] >= 0 ? " (in a collapsed run)" : "");
            /* drawn from what is needed to what needs it */
            Agedge_t *e = agedge(p->g, tail, head, NULL, 1);
            agxset(e, p->e_id, id.s);
            agxset(e, p->e_class, S(cls));
            if (!strcmp(cls, "needs-alembic")) {
                agxset(e, p->e_color, S("#0072b2"));
                agxset(e, p->e_style, S("dashed"));
            } else if (!strcmp(cls, "down-revision")) {
                agxset(e, p->e_color, S("#737373"));
            }
            add_title(p, e, p->e_tooltip, id.s, title.s);
            free(rf);
            free(rt);
            sbuf_free(&id);
            sbuf_free(&title);
        }
    }
}

static void pic_free(pic *p)
{
    if (p->g)
        agclose(p->g);
    free(p->drawn);
    free(p->hidden);
    free(p->chain_node);
    dg_chains_free(p->chains, p->nchains);
    strvec_clear(&p->ids);
    strvec_clear(&p->titles);
    strmap_free(&p->title_of);
    memset(p, 0, sizeof *p);
}

static void pic_build(pic *p, const depgraph *dg, const graph_svg_opts *opts, int tooltips)
{
    memset(p, 0, sizeof *p);
    graph_svg_opts def = GRAPH_SVG_OPTS_INIT;
    p->o = opts ? *opts : def;
    if (p->o.label_max == 0)
        p->o.label_max = GRAPH_SVG_LABEL_MAX;
    p->dg = dg;
    p->g = agopen(S("delembic"), Agdirected, &seq_disc);
    Agraph_t *g = p->g;
    agattr(g, AGRAPH, S("id"), S("delembic-graph"));
    agattr(g, AGRAPH, S("rankdir"), S(p->o.left_to_right ? "LR" : "TB"));
    agattr(g, AGRAPH, S("fontname"), S(FONT));
    agattr(g, AGRAPH, S("nodesep"), S("0.2"));
    agattr(g, AGRAPH, S("ranksep"), S("0.3"));
    agattr(g, AGRAPH, S("bgcolor"), S("white"));
    agattr(g, AGRAPH, S("newrank"), S("true")); /* ranks clusters in one pass: far faster */
    p->n_id = agattr(g, AGNODE, S("id"), S(""));
    p->n_class = agattr(g, AGNODE, S("class"), S(""));
    p->n_label = agattr(g, AGNODE, S("label"), S(""));
    p->n_shape = agattr(g, AGNODE, S("shape"), S("box"));
    p->n_style = agattr(g, AGNODE, S("style"), S("filled"));
    p->n_fill = agattr(g, AGNODE, S("fillcolor"), S("white"));
    p->n_color = agattr(g, AGNODE, S("color"), S("black"));
    p->n_pen = agattr(g, AGNODE, S("penwidth"), S("1"));
    p->n_peri = agattr(g, AGNODE, S("peripheries"), S("1"));
    agattr(g, AGNODE, S("fontname"), S(FONT));
    agattr(g, AGNODE, S("fontsize"), S(FONT_SIZE_LAYOUT));
    agattr(g, AGNODE, S("margin"), S("0.08,0.04"));
    agattr(g, AGNODE, S("height"), S("0.3"));
    p->e_id = agattr(g, AGEDGE, S("id"), S(""));
    p->e_class = agattr(g, AGEDGE, S("class"), S(""));
    p->e_color = agattr(g, AGEDGE, S("color"), S("#000000"));
    p->e_style = agattr(g, AGEDGE, S("style"), S("solid"));
    agattr(g, AGEDGE, S("arrowsize"), S("0.6"));
    if (tooltips) {
        p->n_tooltip = agattr(g, AGNODE, S("tooltip"), S(""));
        p->e_tooltip = agattr(g, AGEDGE, S("tooltip"), S(""));
    }

    size_t n = dg->n ? dg->n : 1;
    p->drawn = xcalloc(n, sizeof *p->drawn);
    p->hidden = xmalloc(n * sizeof *p->hidden);
    for (size_t i = 0; i < dg->n; i++)
        p->hidden[i] = -1;
    if (p->o.collapse_over) {
        size_t over = p->o.collapse_over < GRAPH_SVG_MIN_CHAIN - 1 ? GRAPH_SVG_MIN_CHAIN - 1 : p->o.collapse_over;
        depgraph_chains(dg, over, &p->chains, &p->nchains);
    }
    p->chain_node = xcalloc(p->nchains, sizeof *p->chain_node);
    size_t drawn = dg->n;
    for (size_t c = 0; c < p->nchains; c++) {
        for (size_t k = 1; k + 1 < p->chains[c].n; k++)
            p->hidden[p->chains[c].members[k]] = (long)c;
        drawn -= p->chains[c].n - 3;
    }
    /* clusters part the two kinds: one kind alone needs none */
    int kinds[DG_NKINDS] = {0};
    for (size_t i = 0; i < dg->n; i++)
        kinds[dg->nodes[i].kind] = 1;
    p->no_clusters = drawn > HUGE_GRAPH || !kinds[DG_ALEMBIC] || !kinds[DG_MIGRATION];
    if (drawn > LARGE_GRAPH) {
        agattr(g, AGRAPH, S("nslimit"), S(p->no_clusters ? HUGE_NSLIMIT : LARGE_NSLIMIT));
        agattr(g, AGRAPH, S("mclimit"), S(p->no_clusters ? HUGE_MCLIMIT : LARGE_MCLIMIT));
    }

    /* nodes in the model's order; a collapsed run where its first hidden member was */
    for (size_t i = 0; i < dg->n; i++) {
        if (p->hidden[i] < 0)
            add_node(p, i);
        else if (p->chains[p->hidden[i]].members[1] == i)
            add_chain_node(p, (size_t)p->hidden[i]);
    }
    add_edges(p);
    for (size_t t = 0; t < p->ids.n; t++)
        strmap_put(&p->title_of, p->ids.v[t], (long)t);
}

/* ---- the SVG, made safe to inline ---------------------------------------- */

/* Graphviz writes an id as XML text: our ids only need '-' (&#45;) back. */
static void attr_value(const char *p, const char *end, sbuf *out)
{
    while (p < end) {
        if (*p == '&' && p[1] == '#') {
            char *q;
            long c = strtol(p + 2, &q, 10);
            if (*q == ';' && c > 0 && c < 0x80) {
                char ch = (char)c;
                sbuf_add(out, &ch, 1);
                p = q + 1;
                continue;
            }
        }
        sbuf_add(out, p, 1);
        p++;
    }
}

/* From Graphviz's SVG: no prolog or comments; each <title> that follows a
 * group with one of our ids becomes the title we wrote for it. */
static int finish_svg(const pic *p, const char *in, size_t len, sbuf *out, del_err *err)
{
    const char *end = in + len;
    const char *s = strstr(in, "<svg");
    if (!s || s >= end)
        return del_fail(err, DEL_KIND_BUNDLE, "graph: Graphviz wrote no <svg> element");
    if (p->o.standalone)
        sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    long pending = -1;
    while (s < end) {
        if (!strncmp(s, "<!--", 4)) {
            const char *c = strstr(s + 4, "-->");
            if (!c || c >= end)
                return del_fail(err, DEL_KIND_BUNDLE, "graph: Graphviz wrote an unterminated comment");
            s = c + 3;
            if (*s == '\n')
                s++;
            continue;
        }
        if (!strncmp(s, "<g id=\"", 7)) {
            const char *v = s + 7, *q = strchr(v, '"');
            if (!q || q >= end)
                return del_fail(err, DEL_KIND_BUNDLE, "graph: Graphviz wrote an unterminated id");
            sbuf id = {0};
            attr_value(v, q, &id);
            pending = id.s ? strmap_get(&p->title_of, id.s) : -1;
            sbuf_free(&id);
        }
        if (!strncmp(s, "<text ", 6)) {
            const char *gt = memchr(s, '>', (size_t)(end - s));
            const char *fs = gt ? memmem(s, (size_t)(gt - s), FONT_SIZE_LAYOUT_SVG, strlen(FONT_SIZE_LAYOUT_SVG)) : NULL;
            if (fs) {
                sbuf_add(out, s, (size_t)(fs - s));
                sbuf_puts(out, FONT_SIZE_DRAWN_SVG);
                s = fs + strlen(FONT_SIZE_LAYOUT_SVG);
                continue;
            }
        }
        if (pending >= 0 && !strncmp(s, "<title>", 7)) {
            const char *c = strstr(s, "</title>");
            if (!c || c >= end)
                return del_fail(err, DEL_KIND_BUNDLE, "graph: Graphviz wrote an unterminated title");
            sbuf_puts(out, "<title>");
            xml_text(out, p->titles.v[pending]);
            sbuf_puts(out, "</title>");
            s = c + 8;
            pending = -1;
            continue;
        }
        const char *lt = memchr(s + 1, '<', (size_t)(end - s - 1));
        if (!lt)
            lt = end;
        sbuf_add(out, s, (size_t)(lt - s));
        s = lt;
    }
    return 0;
}

static void graphviz_error(del_err *err, const char *what)
{
    char *last = aglasterr();
    if (last) {
        size_t l = strlen(last);
        while (l && (last[l - 1] == '\n' || last[l - 1] == '\r'))
            last[--l] = '\0';
    }
    char *safe = clean(last ? last : "no message");
    del_fail(err, DEL_KIND_BUNDLE, "graph: Graphviz could not %s the graph: %s", what, safe);
    free(safe);
    free(last);
}

/* Lay out and render in this process. */
static int render_svg(const depgraph *g, const graph_svg_opts *opts, sbuf *svg, del_err *err)
{
    agerrlevel_t old = agseterr(AGMAX); /* messages are kept, not printed */
    agreseterrors();
    pic p;
    pic_build(&p, g, opts, 0);
    GVC_t *gvc = gvContextPlugins(builtin_plugins, 0);
    int rc = -1;
    if (gvLayout(gvc, p.g, S("dot")) != 0) {
        graphviz_error(err, "lay out");
    } else {
        char *data = NULL;
        unsigned int len = 0;
        if (gvRenderData(gvc, p.g, S("svg"), &data, &len) != 0 || !data)
            graphviz_error(err, "render");
        else
            rc = finish_svg(&p, data, len, svg, err);
        if (data)
            gvFreeRenderData(data);
    }
    gvFreeLayout(gvc, p.g);
    pic_free(&p);
    gvFreeContext(gvc);
    agseterr(old);
    return rc;
}

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* What the child sends: a kind ('O' the SVG, 'E' an error message), the
 * length of what follows, then that many bytes. */
typedef struct reply_head {
    char kind;
    size_t len;
} reply_head;

/* In a child process: Graphviz's own leaks stay there (2.42 leaks part of
 * every laid-out cluster), and so does an assertion or a crash in it. */
static int render_in_child(const depgraph *g, const graph_svg_opts *opts, sbuf *svg, del_err *err)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        return del_fail(err, DEL_KIND_BUNDLE, "graph: cannot make a pipe: %s", strerror(errno));
    fflush(stdout); /* what the caller buffered is written once, not twice */
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return del_fail(err, DEL_KIND_BUNDLE, "graph: cannot start a process to lay out the graph: %s", strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* it ends with its caller */
        signal(SIGPIPE, SIG_DFL);
        sbuf out = {0};
        del_err e = {0};
        int rc = render_svg(g, opts, &out, &e);
        reply_head h;
        memset(&h, 0, sizeof h); /* its padding too: it is written as it is */
        h.kind = rc == 0 ? 'O' : 'E';
        h.len = rc == 0 ? out.len : strlen(e.msg);
        int wrc = write_all(fds[1], &h, sizeof h);
        if (wrc == 0)
            wrc = write_all(fds[1], rc == 0 ? out.s : e.msg, h.len);
        sbuf_free(&out);
        _exit(wrc == 0 ? 0 : 1);
    }
    close(fds[1]);
    sbuf in = {0};
    char buf[PIPE_CHUNK];
    for (;;) {
        ssize_t r = read(fds[0], buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        sbuf_add(&in, buf, (size_t)r);
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    reply_head h = {0, 0};
    if (in.len >= sizeof h)
        memcpy(&h, in.s, sizeof h);
    int rc = -1;
    if (in.len < sizeof h || in.len - sizeof h != h.len || (h.kind != 'O' && h.kind != 'E')) {
        if (WIFSIGNALED(status))
            del_fail(err, DEL_KIND_BUNDLE, "graph: Graphviz crashed laying out the graph (signal %d)", WTERMSIG(status));
        else
            del_fail(err, DEL_KIND_BUNDLE, "graph: the process laying out the graph ended without a result");
    } else if (h.kind == 'E') {
        del_fail(err, DEL_KIND_BUNDLE, "%.*s", (int)h.len, in.s + sizeof h);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* all it had to say arrived, yet it did not end well (a memory
         * checker's verdict): the caller hears of it */
        del_fail(err, DEL_KIND_BUNDLE, "graph: the process laying out the graph ended with status %d",
                 WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    } else {
        sbuf_add(svg, in.s + sizeof h, h.len);
        rc = 0;
    }
    sbuf_free(&in);
    return rc;
}

int graph_svg(const depgraph *g, const graph_svg_opts *opts, sbuf *svg, del_err *err)
{
    if (opts && opts->in_process)
        return render_svg(g, opts, svg, err);
    return render_in_child(g, opts, svg, err);
}

int graph_dot(const depgraph *g, const graph_svg_opts *opts, sbuf *dot, del_err *err)
{
    agerrlevel_t old = agseterr(AGMAX);
    agreseterrors();
    pic p;
    pic_build(&p, g, opts, 1);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = -1;
    if (!f) {
        del_fail(err, DEL_KIND_BUNDLE, "graph: out of memory writing dot text");
    } else {
        int wrc = agwrite(p.g, f);
        if (fclose(f) != 0 || wrc != 0)
            graphviz_error(err, "write");
        else {
            sbuf_add(dot, buf, len);
            rc = 0;
        }
    }
    free(buf);
    pic_free(&p);
    agseterr(old);
    return rc;
}
