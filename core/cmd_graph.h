/* `delembic graph` and `delembic report`: the dependency picture and the
 * history page, from the report data (report_data.h). */
#ifndef DEL_CMD_GRAPH_H
#define DEL_CMD_GRAPH_H

#include "app.h"

/* The migrations as text with their statuses (in the manner of git log
 * --graph; box-drawing characters on a UTF-8 terminal), or with dot the whole
 * picture (Alembic chain, descriptions, status colours) as Graphviz dot text.
 * Statuses come from the database when it can be reached; otherwise they are
 * "unknown" and a warning says why. */
int cmd_graph(app *a, int dot, del_err *err);

/* Write the history page to out_path (one self-contained HTML file). */
int cmd_report(app *a, const char *out_path, del_err *err);

#endif
