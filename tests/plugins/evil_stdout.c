/* Prints to stdout, as a careless plugin does: when loaded (a constructor,
 * through stdio and write(2)) and when it runs. */
#include <stdio.h>
#include <unistd.h>
#include <delembic/plugin.h>

__attribute__((constructor)) static void loaded(void)
{
    printf("plugin says hello from its constructor\n");
    fflush(stdout);
    (void)!write(1, "plugin writes to fd 1\n", 22);
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    printf("plugin says hello on stdout\n");
    fflush(stdout);
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "prints",
             .upgrade = upgrade);
