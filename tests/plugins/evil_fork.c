/* Forks inside upgrade and lets both processes return, as a plugin that
 * forgets _exit in its child would. MODE: return (the child returns at once),
 * insert (the child inserts on the shared connection, then returns), log (the
 * child calls the host, then would insert). The parent waits for the child,
 * inserts its own row and returns 0. */
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    pid_t pid = fork();
    if (pid < 0)
        return dm_fail(ctx, "fork failed");
    if (pid == 0) {
        if (!strcmp(mode, "insert") &&
            dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-child')") != 0)
            return -1;
        if (!strcmp(mode, "log")) {
            dm_log(ctx, "the child speaks");
            dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-child-after-log')");
        }
        return 0; /* forgot _exit: the child goes back into the host */
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ;
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-parent')");
}

DM_MIGRATION(.revision = "@REV@", .description = "forks (@MODE@)", .upgrade = upgrade);
