/* The dependency graph of the migrations in a bundle: a stable topological
 * order (ties broken by natural order of revision ids, D2 before D10), cycles
 * named by their members, and dependencies that are not Delembic revisions
 * kept aside as external (Alembic) ones. */
#ifndef DEL_DAG_H
#define DEL_DAG_H

#include <stddef.h>

#include "err.h"
#include "util.h"

typedef struct dag_node {
    const char *revision;   /* borrowed from the caller */
    size_t *deps;           /* indices of Delembic dependencies */
    size_t ndeps;
    strvec external;        /* dependencies that are not Delembic revisions */
} dag_node;

typedef struct dag {
    dag_node *nodes;
    size_t n;
    size_t *order;          /* indices, dependencies first */
    size_t *rank;           /* rank[i] = position of node i in order */
    strmap index;           /* revision -> node index */
} dag;

/* dag_build's return when the error is a cycle (other errors: -1) */
#define DAG_CYCLE (-2)
/* revisions[i] with deps[i] (NULL-terminated arrays, or strvecs via the
 * manifest helper). Duplicates and cycles are errors: 0, -1 or DAG_CYCLE. */
int dag_build(dag *g, size_t n, const char *const *revisions,
              const char *const *const *deps, del_err *err);
void dag_free(dag *g);
long dag_find(const dag *g, const char *revision);
/* Mark node i and all its Delembic ancestors in mark[] (size n). */
void dag_mark_ancestors(const dag *g, size_t i, char *mark);

#endif
