/* The migrations of a depgraph drawn as text for a terminal, in the manner
 * of `git log --graph`: one line per migration with its status, revision and
 * description, lanes drawn with | / \ (or │ ╱ ╲ on a UTF-8 terminal), and
 * the Alembic revisions a migration needs at the end of its line:
 *
 *   * applied  D001 Load vocabulary  needs alembic 3d1e3e6abc12
 *   |\
 *   | * failed   D002 Load person
 *   * | pending  D003 Load visits
 *   |/
 *   * pending  D004 Build eras
 *
 * Lines come in the DAG's stable topological order (dag.h: dependencies first,
 * ties in natural order), or the reverse (newest first, as git log). A node
 * sits on the lane of a node it needs when that lane leads to it alone;
 * otherwise it branches off to the right. Two unrelated runs are parted by a
 * line of lanes without a node (an empty line when there are no others).
 *
 * Pure: it returns lines, it prints nothing. Revisions and descriptions come
 * from bundles: they are escaped as term.h escapes text for a terminal (control
 * characters, invalid UTF-8, bidirectional overrides), so a line can be written
 * as it is (term_text leaves it unchanged). */
#ifndef DEL_GRAPH_TEXT_H
#define DEL_GRAPH_TEXT_H

#include "depgraph.h"
#include "err.h"
#include "util.h"

typedef struct graph_text_opts {
    int utf8;          /* box-drawing characters instead of ASCII */
    int newest_first;  /* dependents before what they need, as git log */
} graph_text_opts;
#define GRAPH_TEXT_OPTS_INIT {0, 0}

/* Append one line per migration (plus the lines between them, without '\n')
 * to lines. -1 with err on a cycle among the migrations (a depgraph made by
 * depgraph_from_manifest has none). */
int graph_text(const depgraph *g, const graph_text_opts *opts, strvec *lines, del_err *err);

#endif
