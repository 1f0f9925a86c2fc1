/* A descriptor that claims SIZE bytes, written by hand (DM_MIGRATION always
 * says the real size): a plugin from a broken or pre-release SDK. */
#include <stddef.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

DM_EXPORT const struct dm_descriptor dm_descriptor = {
    .abi_version = DM_ABI_VERSION,
    .size = (uint32_t)(@SIZE@),
    .revision = "@REV@",
    .depends_on = DM_NO_DEPS,
    .description = "descriptor of @SIZE@ bytes",
    .upgrade = upgrade,
};
