/* Runs a failing statement, ignores the result, and returns 0. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
    PQclear(PQexec(conn, "SELECT * FROM no_such_table"));
    (void)ctx;
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "ignores a failed statement", .upgrade = upgrade);
