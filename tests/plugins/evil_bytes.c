/* A failure message that is not UTF-8 (a stray 0xff byte and a truncated
 * sequence): the failure must still be recorded. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')") != 0)
        return -1;
    return dm_fail(ctx, "bad bytes \xff here \xe2\x82 end");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "bad bytes",
             .upgrade = upgrade);
