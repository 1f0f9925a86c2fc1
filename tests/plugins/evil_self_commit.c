/* Commits the host's transaction behind the guard's back (it sets the flag
 * the guard trusts). MODE: idle (then returns 0 with no transaction open),
 * begin (then BEGIN and more work, returns 0), fail (then BEGIN and returns
 * -1), crash (then SIGSEGV), hang (then waits to be killed). */
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-before')") != 0)
        return -1;
    if (dm_exec(ctx, conn, "SET LOCAL delembic.commit_ok = on; COMMIT") != 0)
        return -1;
    if (!strcmp(mode, "idle"))
        return 0;
    if (!strcmp(mode, "crash"))
        raise(SIGSEGV);
    if (!strcmp(mode, "hang"))
        for (;;)
            pause();
    if (dm_exec(ctx, conn, "BEGIN; INSERT INTO t_log VALUES ('@REV@-after')") != 0)
        return -1;
    return !strcmp(mode, "fail") ? dm_fail(ctx, "gave up after committing") : 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "commits by itself (@MODE@)", .upgrade = upgrade);
