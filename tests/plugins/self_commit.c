/* Commits the host's transaction itself, which the host must refuse. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')") != 0)
        return -1;
    PQclear(PQexec(conn, "COMMIT"));
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "commits by itself", .upgrade = upgrade);
