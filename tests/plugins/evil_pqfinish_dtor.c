/* Keeps the connection in a static and closes it from its destructor, which
 * runs when the worker unloads the plugin (dlclose), outside any callback:
 * during the commit of its own migration. */
#include <delembic/plugin.h>

static PGconn *saved;

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    saved = conn;
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

__attribute__((destructor)) static void bye(void)
{
    if (saved)
        PQfinish(saved);
}

DM_MIGRATION(.revision = "@REV@", .description = "closes the connection from its destructor",
             .upgrade = upgrade);
