/* A migration a vendor compiles with its own build system (the README's
 * pkg-config line), for `delembic manifest`. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = @DEPS@, .description = "vendor-built @REV@",
             .upgrade = upgrade);
