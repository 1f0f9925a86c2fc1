/* Commits, then opens a new transaction, hoping the host won't notice. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-before')") != 0)
        return -1;
    PQclear(PQexec(conn, "COMMIT"));
    PQclear(PQexec(conn, "BEGIN"));
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-after')");
}

DM_MIGRATION(.revision = "@REV@", .description = "commits and begins again", .upgrade = upgrade);
