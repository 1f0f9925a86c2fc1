/* Crashes as CRASH_MODE says: segv, abort, exit, hang (a long statement). */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')") != 0)
        return -1;
    if (!strcmp(mode, "segv")) {
        volatile int *p = NULL;
        *p = 1;
    } else if (!strcmp(mode, "abort")) {
        abort();
    } else if (!strcmp(mode, "exit")) {
        exit(3);
    } else if (!strcmp(mode, "hang")) {
        return dm_exec(ctx, conn, "SELECT pg_sleep(600)");
    } else if (!strcmp(mode, "spin")) {
        for (;;)
            ;
    }
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "crashes (@MODE@)", .upgrade = upgrade);
