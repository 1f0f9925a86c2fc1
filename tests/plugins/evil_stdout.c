/* Prints to stdout, as a careless plugin does. */
#include <stdio.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    printf("plugin says hello on stdout\n");
    fflush(stdout);
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "prints",
             .upgrade = upgrade);
