/* The Alembic revision graph: revision -> down_revisions (a merge has two).
 * Built from the Alembic scripts at build time, carried in manifest.yaml. */
#ifndef DEL_ALGRAPH_H
#define DEL_ALGRAPH_H

#include "err.h"
#include "util.h"

typedef struct alnode {
    char *rev;
    strvec down;
    char *file;   /* the script it came from (build time only) */
    size_t line;  /* where revision = was found, or the manifest line */
} alnode;

typedef struct algraph {
    alnode *nodes;
    size_t n, cap;
    strmap index;   /* rev -> node (the first one added, for duplicates) */
} algraph;

void algraph_free(algraph *g);
alnode *algraph_add(algraph *g, const char *rev);
long algraph_find(const algraph *g, const char *rev);
/* Every down revision exists and there is no cycle. */
int algraph_validate(const algraph *g, const char *where, del_err *err);
/* Revisions nobody points down to. */
void algraph_heads(const algraph *g, strvec *heads);
/* Base first, each revision after its down revisions; ties natural order. */
int algraph_order(const algraph *g, strvec *order, del_err *err);
/* applied = heads and all their ancestors; heads not in the graph are kept
 * in applied and listed in unknown. */
void algraph_applied(const algraph *g, const strvec *db_heads, strvec *applied, strvec *unknown);

#endif
