/* A depgraph laid out by Graphviz (libcgraph + libgvc, the dot layout) and
 * rendered to SVG in memory, to be inlined in the report and serve pages; or
 * the same picture as dot text (graph --dot).
 *
 * What the SVG holds:
 *   - one group per node, <g id="m-D001" class="node migration status-failed">
 *     (Alembic revisions: id "a-<rev>", class "node alembic status-..."), with
 *     a <title> (the tooltip) holding the revision, its status and its whole
 *     description; the label shows the revision, the status in words and the
 *     description cut at label_max characters;
 *   - colours from a palette that colour-blind readers can tell apart
 *     (Okabe-Ito), and for each status also a border style or width, so no
 *     status is told by colour alone; Alembic revisions are ellipses,
 *     migrations boxes, each kind in its cluster ("Alembic (schema)",
 *     "Delembic (data)", <g id="cluster-alembic" class="cluster alembic">)
 *     when both kinds are there;
 *   - edges from what is needed to what needs it, class "edge needs-migration",
 *     "edge needs-alembic" or "edge down-revision", titled "D002 needs D001";
 *   - a run of more than collapse_over nodes without branches (depgraph_chains,
 *     same kind and status) drawn as its first member, one node standing for
 *     the ones between (a stack: <g id="chain-m-D002" class="node migration
 *     collapsed status-applied">, the id naming its first hidden member, its
 *     title listing every hidden member), and its last member.
 *
 * Safe to inline in an HTML page: no XML declaration or DOCTYPE (unless
 * standalone), no comments, no scripts, links, images or other external
 * references; every revision and description (they come from bundles) is
 * escaped for XML, cleaned of control characters and invalid UTF-8 (as
 * term.h shows them), and never handed to Graphviz as markup, so a
 * description "<img src=x onerror=alert(1)>" is shown as that text. Ids use
 * only letters, digits, '_', '-' and ".xx" (the hex of any other byte), so
 * they are injective, valid XML names and valid HTML ids.
 *
 * Scale: dot's ranking, crossing minimisation and placement grow faster than
 * the graph. Collapsed runs keep a long linear history small; past 400 drawn
 * nodes placement and crossing minimisation are cut short, past 2,000 more so
 * and without the clusters (tests/bench/graph_bench: 1,000 migrations and 305
 * Alembic revisions with few runs to collapse in 0.3-0.4 s, 10,000 in 4-6 s,
 * on this 2-core machine).
 *
 * Graphviz runs with its dot layout and core renderer built in (no plugin
 * configuration is read, no font library is asked: text is measured with
 * Graphviz's own metrics), so the same graph gives the same SVG on every
 * machine and in every process. It runs in a child process (fork, the SVG
 * comes back through a pipe): Graphviz 2.42 leaks part of every cluster it
 * lays out (some 200 KB for a few hundred nodes; tests/graphviz.supp names
 * it for valgrind),
 * and its assertions abort; neither reaches the caller, so a long-running
 * server can draw again and again, and a Graphviz crash is an error value.
 * Graphviz's messages are kept from stderr; a failed layout or render is an
 * error value. */
#ifndef DEL_GRAPH_SVG_H
#define DEL_GRAPH_SVG_H

#include <stddef.h>

#include "depgraph.h"
#include "err.h"
#include "util.h"

#define GRAPH_SVG_COLLAPSE_OVER 12 /* runs of more nodes than this are collapsed */
#define GRAPH_SVG_LABEL_MAX 48     /* characters of a description (or revision) a label shows */
#define GRAPH_SVG_MIN_CHAIN 3      /* a collapsed run keeps its first and last member */

typedef struct graph_svg_opts {
    int left_to_right;     /* rankdir LR: dependencies left (default: top to bottom) */
    size_t collapse_over;  /* collapse runs of more nodes than this; 0: never */
    size_t label_max;      /* 0: GRAPH_SVG_LABEL_MAX */
    int standalone;        /* an .svg file: start with an XML declaration */
    int in_process;        /* lay out in this process, not a child (tests, tools) */
} graph_svg_opts;
#define GRAPH_SVG_OPTS_INIT {0, GRAPH_SVG_COLLAPSE_OVER, GRAPH_SVG_LABEL_MAX, 0, 0}

/* Lay out and render; the SVG is appended to svg (NUL-terminated). */
int graph_svg(const depgraph *g, const graph_svg_opts *opts, sbuf *svg, del_err *err);

/* The same graph (nodes, edges, colours, styles, collapsed runs) as dot text
 * for Graphviz, without layout. */
int graph_dot(const depgraph *g, const graph_svg_opts *opts, sbuf *dot, del_err *err);

/* The SVG id of node i ("m-D001", "a-3d1e3e6abc12") appended to b; the id of
 * a collapsed run is "chain-" and the id of its first hidden member. */
void graph_svg_node_id(const depgraph *g, size_t i, sbuf *b);

#endif
