/* Issue 11: a migration without a downgrade (as every plugin built before
 * the field existed): downgrade must stop its plan before anything runs. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO t_ops (rev) VALUES ('@REV@')");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = @DEPS@, .description = "ops @REV@ (no downgrade)",
             .upgrade = upgrade);
