/* Issue 11: a migration with a downgrade. upgrade adds its row to t_ops;
 * downgrade removes it and logs itself in t_ops_down (serial: the order),
 * after sleeping @DSLEEP@ seconds (a kill -9 lands inside it). */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO t_ops (rev) VALUES ('@REV@')");
}

static int downgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn,
                   "DELETE FROM t_ops WHERE rev = '@REV@';"
                   " INSERT INTO t_ops_down (rev) VALUES ('@REV@');"
                   " SELECT pg_sleep(@DSLEEP@)");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = @DEPS@, .description = "ops @REV@",
             .upgrade = upgrade, .downgrade = downgrade);
