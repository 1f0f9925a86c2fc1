/* Alembic downgrade awareness: which Alembic revisions the database has
 * applied now (the heads in its version table and their ancestors in the
 * bundle's graph), and which of a migration's Alembic dependencies are not
 * among them. An applied migration with such a dependency is orphaned
 * (someone ran `alembic downgrade` under it): history, show and upgrade say
 * so, and upgrade --strict refuses to run. Read once per command; the
 * answer is "unknown" (never a false orphan) when the bundle carries no
 * Alembic graph or the database has heads the graph lacks. */
#ifndef DEL_ORPHAN_H
#define DEL_ORPHAN_H

#include <libpq-fe.h>

#include "bundle.h"
#include "err.h"
#include "store.h"
#include "util.h"

typedef struct alstate {
    strvec applied;     /* Alembic revisions applied now */
    strmap index;       /* revision -> position in applied */
    int known;          /* 0: this bundle cannot tell (no graph, or heads it lacks) */
} alstate;

/* Read the database's Alembic heads (the bundle's version table) into a. */
int alstate_read(PGconn *conn, const bundle *b, alstate *a, del_err *err);
/* The same from heads already read (alembic_db_heads). */
void alstate_from_heads(const bundle *b, const strvec *heads, alstate *a);
void alstate_free(alstate *a);
/* Is Alembic revision rev applied now? 1 yes, 0 no, -1 unknown. */
int alstate_applied(const alstate *a, const char *rev);
/* The Alembic dependencies of e that are not applied now (none when unknown). */
void alstate_missing(const alstate *a, const mentry *e, strvec *missing);
/* "orphaned: needs Alembic R which is not applied" (malloc'd). */
char *orphan_message(const strvec *missing);
/* The applied migrations (success rows) of b that are orphaned, as
 * "REV: orphaned: ..." lines in out; their count. */
size_t orphan_list(const bundle *b, const vstate *st, const alstate *a, strvec *out);

#endif
