/* Planning an upgrade: which migrations are pending for a target (head, or
 * one revision and its pending ancestors), in DAG order, in which wave a -j
 * run could start them, which are BLOCKED on Alembic revisions, and which
 * applied ones have drifted from the bundle. Pure: reads, never writes. */
#ifndef DEL_PLAN_H
#define DEL_PLAN_H

#include "bundle.h"
#include "store.h"

typedef struct blocked_item {
    size_t index;
    strvec missing;         /* Alembic revisions not applied */
} blocked_item;

typedef struct plan {
    size_t *run;            /* manifest indices, DAG order */
    size_t nrun;
    size_t *wave;           /* wave[manifest index], 1-based, for planned items */
    blocked_item *blocked;
    size_t nblocked;
    strvec unknown_heads;   /* Alembic heads in the database the graph lacks */
    char *blocked_hint;     /* extra sentence for BLOCKED lines, or NULL */
} plan;

/* target NULL or "head" = everything. An unknown target is a usage error. */
int plan_make(const bundle *b, const vstate *st, const char *target, plan *p, del_err *err);
/* Check Alembic dependencies of the planned migrations against the heads. */
void plan_check_alembic(const bundle *b, plan *p, const strvec *db_heads, int table_exists);
int plan_needs_alembic(const bundle *b, const plan *p);
void plan_free(plan *p);
/* The BLOCKED line for item k. */
char *plan_blocked_message(const bundle *b, const plan *p, size_t k);

#endif
