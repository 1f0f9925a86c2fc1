/* `delembic init` and `delembic revision`: files written from the templates
 * in scaffolding/ (compiled into the binary). */
#ifndef DEL_SCAFFOLD_H
#define DEL_SCAFFOLD_H

#include "app.h"

int cmd_init(const app_opts *o, const char *dir, del_err *err);
/* Writes the new source; *path_out (malloc'd) names it. */
/* no_chain: depend on the Alembic heads only, not on the project's Delembic
 * heads (chain.h). */
int cmd_revision(app *a, const char *message, int no_chain, char **path_out, del_err *err);

/* Helpers, exposed for tests. */
char *scaffold_slug(const char *message);
/* The next free D number after the highest revision in the sources. */
char *scaffold_next_revision(const char *script_dir, del_err *err);
char *scaffold_render(const char *tmpl, const char *const *kv);

#endif
