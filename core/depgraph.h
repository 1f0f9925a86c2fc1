/* One dependency picture of schema and data together: the Alembic revisions
 * and the Delembic migrations of a bundle as one graph, each node with its
 * status. A small pure model (no I/O, no database): the caller computes the
 * statuses (from the database, drift, a running upgrade) and hands them in;
 * the renderers (graph_svg.h: Graphviz SVG for the report and serve pages,
 * graph_text.h: lines for a terminal) draw it.
 *
 * Edges point from a node to what it needs:
 *   migration -> migration          (a Delembic depends_on)
 *   migration -> Alembic revision   (an Alembic depends_on)
 *   Alembic revision -> down revision (a merge has two)
 *
 * Nodes come in a stable order: the Alembic revisions base first, then the
 * migrations in the DAG's stable topological order (dag.h: dependencies
 * first, ties in natural order, D2 before D10). Nodes added afterwards (a
 * revision recorded in the database but not in the bundle) follow. */
#ifndef DEL_DEPGRAPH_H
#define DEL_DEPGRAPH_H

#include <stddef.h>

#include "err.h"
#include "manifest.h"
#include "util.h"

typedef enum dg_kind {
    DG_ALEMBIC = 0,   /* a schema revision (Alembic) */
    DG_MIGRATION = 1, /* a data migration (Delembic) */
} dg_kind;
#define DG_NKINDS 2

/* A migration can be any of these; an Alembic revision is DG_APPLIED or
 * DG_PENDING (not applied), or DG_UNKNOWN (no database to ask). */
typedef enum dg_status {
    DG_UNKNOWN = 0, /* nobody said */
    DG_APPLIED,     /* ran and committed */
    DG_FAILED,      /* the last run failed; pending again */
    DG_PENDING,     /* never ran (Alembic: not applied) */
    DG_CHANGED,     /* applied, but its code changed since (drift) */
    DG_MISSING,     /* recorded in the database, not in this bundle */
    DG_ORPHANED,    /* orphaned, as the status code defines it (the model only carries it) */
    DG_HELD,        /* failed after part of its work committed: held until an operator decides */
    DG_RUNNING,     /* running now */
    DG_PAUSED,      /* a batched migration stopped between batches */
} dg_status;
#define DG_NSTATUS 10

typedef struct dg_node {
    dg_kind kind;
    char *id;          /* the revision */
    char *label;       /* the description ("" for none; Alembic revisions have none) */
    dg_status status;
    long src;          /* index in manifest.m (migration) or manifest.graph.nodes
                        * (Alembic revision); -1 for a node not in the manifest */
    size_t *deps;      /* indices of the nodes this one needs, in the order given */
    size_t ndeps, capdeps;
} dg_node;

typedef struct depgraph {
    dg_node *nodes;
    size_t n, cap;
    size_t nedges;
    strmap index[DG_NKINDS]; /* per kind: revision -> node index */
} depgraph;
#define DEPGRAPH_INIT {0}

/* The status of one revision, asked once per node by the builder. */
typedef dg_status (*dg_status_fn)(void *ud, dg_kind kind, const char *revision);

/* The picture of a manifest: every Alembic revision of its graph, every
 * migration, and the edges between them. An Alembic dependency that is not in
 * the manifest's graph becomes an Alembic node too. status may be NULL (every
 * node DG_UNKNOWN). A cycle or a duplicate revision is an error (g is then
 * empty). */
int depgraph_from_manifest(depgraph *g, const manifest *mf, dg_status_fn status, void *ud, del_err *err);

/* Add a node (id and label copied; label may be NULL). Returns its index, or
 * -1 when a node of that kind and id exists already. */
long depgraph_add(depgraph *g, dg_kind kind, const char *id, const char *label, dg_status status);
/* Node from needs node to (an edge given twice is kept once). -1 when either
 * index is out of range or from == to. */
int depgraph_add_edge(depgraph *g, size_t from, size_t to);
long depgraph_find(const depgraph *g, dg_kind kind, const char *id);
void depgraph_free(depgraph *g);

/* For each node, how many nodes need it (malloc'd array of g->n). */
size_t *depgraph_dependents(const depgraph *g);

/* A run of nodes without branches: each member but the first needs exactly
 * the one before it, and nothing else needs that one. Members share a kind and
 * a status, so a collapsed run hides no failure. */
typedef struct dg_chain {
    size_t *members;   /* node indices, dependencies first */
    size_t n;
} dg_chain;

/* The maximal runs of more than min_len nodes (none when min_len is 0), in
 * node order of their first member. */
void depgraph_chains(const depgraph *g, size_t min_len, dg_chain **chains, size_t *nchains);
void dg_chains_free(dg_chain *chains, size_t nchains);

/* "applied", "failed", ... "unknown" (also the CSS class suffix of graph_svg). */
const char *dg_status_name(dg_status s);
/* The status named s; -1 for a name it does not know. */
int dg_status_parse(const char *s, dg_status *out);
/* "alembic" or "migration". */
const char *dg_kind_name(dg_kind k);

#endif
