/* Alembic, without Python: read alembic.ini for the script location, read
 * each version script for revision and down_revision (classic and typed
 * template styles; strings, None, tuples and lists), and read the heads in
 * the database's alembic_version table. */
#ifndef DEL_ALEMBIC_H
#define DEL_ALEMBIC_H

#include <libpq-fe.h>

#include "algraph.h"
#include "err.h"

/* The version script folders named by an alembic.ini ([alembic]
 * script_location + /versions, or version_locations). */
int alembic_read_ini(const char *ini_path, strvec *version_dirs, del_err *err);
/* An alembic.ini's text made to run against another database: its [alembic]
 * section's sqlalchemy.url replaced by url (added when missing), and
 * %(here)s replaced by here, the original file's folder, so the copy can live
 * elsewhere; '%' escaped for configparser. malloc'd; it holds the password. */
char *alembic_ini_with_url(const char *text, const char *here, const char *url);
/* One script's revision and down revisions (name for messages). */
int alembic_parse_script(const char *name, const char *text, char **revision, strvec *down,
                         int *found_down, del_err *err);
/* Every *.py in the folders into g (validated: no dangling down revisions). */
int alembic_read_graph(const char *ini_path, algraph *g, del_err *err);
/* The heads stored in the version table; *exists = 0 when there is no table. */
int alembic_db_heads(PGconn *conn, const char *table, strvec *heads, int *exists, del_err *err);

#endif
