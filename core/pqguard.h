/* The host's own PQfinish. The delembic executable defines and exports
 * PQfinish (core/cli/exports.list), so a plugin's call binds here before
 * libpq (the executable comes first in the global lookup scope, and plugins
 * are loaded RTLD_LOCAL without DEEPBIND). While a plugin callback runs, the
 * worker's own connection is protected: PQfinish on it is counted and
 * refused, so the worker never touches freed memory and can say whose fault
 * it was. Every other call goes to libpq's PQfinish. */
#ifndef DEL_PQGUARD_H
#define DEL_PQGUARD_H

#include <libpq-fe.h>

/* Protect conn until pqguard_release; clears the count. */
void pqguard_protect(PGconn *conn);
/* End the protection; how many times the plugin tried to PQfinish it. */
int pqguard_release(void);

#endif
