/* Closes connections. MODE: host (PQfinish on the host's connection, then
 * returns 0), host_validate (the same in validate, after upgrade inserted),
 * own (opens its own connection, uses it and closes it: allowed). */
#include <string.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')") != 0)
        return -1;
    if (!strcmp(mode, "host")) {
        PQfinish(conn);
        return 0;
    }
    if (!strcmp(mode, "own")) {
        PGconn *mine = PQconnectdb("dbname=@DB@");
        if (PQstatus(mine) != CONNECTION_OK) {
            dm_fail(ctx, "own connection: %s", PQerrorMessage(mine));
            PQfinish(mine);
            return -1;
        }
        PGresult *r = PQexec(mine, "INSERT INTO t_log VALUES ('@REV@-own')");
        int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        PQfinish(mine);
        DM_CHECK(ctx, ok, "own connection: insert failed");
    }
    return 0;
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    (void)ctx;
    if (!strcmp("@MODE@", "host_validate"))
        PQfinish(conn);
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "closes connections (@MODE@)",
             .upgrade = upgrade, .validate = validate);
