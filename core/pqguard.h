/* The host's own PQfinish. The delembic executable defines and exports
 * PQfinish (core/cli/exports.list), so a plugin's call binds here before
 * libpq (the executable comes first in the global lookup scope, and plugins
 * are loaded RTLD_LOCAL without DEEPBIND). A worker protects its connection
 * from the moment it is open until its own shutdown: PQfinish on it is
 * counted and refused, whether a callback, a constructor or a destructor (at
 * dlclose, during a commit) calls it, so the worker never touches freed
 * memory and can say whose fault it was. Every other call goes to libpq's
 * PQfinish. */
#ifndef DEL_PQGUARD_H
#define DEL_PQGUARD_H

#include <libpq-fe.h>

/* Protect conn from now on (until pqguard_release). */
void pqguard_protect(PGconn *conn);
/* How many times PQfinish was refused since the last call; clears it. */
int pqguard_refused(void);
/* End the protection: the owner's own PQfinish follows. */
void pqguard_release(void);

#endif
