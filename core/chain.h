/* Chaining new revisions: the Delembic heads of a project, read from its
 * sources (the migrations no other source depends on), so that `revision`
 * makes a new migration depend on them, as Alembic's down_revision does.
 * Reads `.revision = "..."` and the string literals of `.depends_on =
 * DM_DEPS(...)` in each *.c at the top of the script folder; a source it
 * cannot read that way is left out. */
#ifndef DEL_CHAIN_H
#define DEL_CHAIN_H

#include "util.h"

/* The heads, in natural order, into heads; -1 when the folder can't be read. */
int chain_source_heads(const char *script_dir, strvec *heads);
/* The parts of one source: its revision (malloc'd, or NULL) and its
 * depends_on strings (pure; for the unit tests too). */
char *chain_parse_source(const char *text, strvec *depends_on);

#endif
