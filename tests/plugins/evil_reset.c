/* Retries on a lost connection the plain-libpq way: after its session is
 * terminated it calls PQreset on the host's connection and runs its INSERT
 * again, which autocommits in the new session. MODE: terminated (as said),
 * terminated_rw (also turns read-write on before the retry), healthy (resets
 * a healthy connection, retries nothing). Returns 0. */
#include <string.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    (void)ctx;
    PQclear(PQexec(conn, "INSERT INTO t_log VALUES ('@REV@-first')"));
    if (strncmp(mode, "terminated", 10) == 0)
        PQclear(PQexec(conn, "SELECT pg_terminate_backend(pg_backend_pid())"));
    if (!strcmp(mode, "healthy") || PQstatus(conn) == CONNECTION_BAD) {
        PQreset(conn);
        if (!strcmp(mode, "terminated_rw"))
            PQclear(PQexec(conn, "SET default_transaction_read_only = off"));
        if (strncmp(mode, "terminated", 10) == 0 && PQstatus(conn) == CONNECTION_OK)
            PQclear(PQexec(conn, "INSERT INTO t_log VALUES ('@REV@-retry')"));
    }
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "resets the connection (@MODE@)", .upgrade = upgrade);
