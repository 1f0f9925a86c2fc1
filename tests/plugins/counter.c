/* Not idempotent: appends one row each time it runs, after a short sleep, so
 * a double application shows as two rows. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn,
                   "SELECT pg_sleep(@SLEEP@); INSERT INTO t_count (rev) VALUES ('@REV@')");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_DEPS(@DEPS@), .description = "counts @REV@",
             .upgrade = upgrade);
