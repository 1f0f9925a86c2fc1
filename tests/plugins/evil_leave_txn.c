/* Leaves the host's transaction the way plain-libpq code does, ignoring every
 * failure, then returns 0 (or fails, for MODE savepoint_fail). MODE:
 *   batches        3 x "BEGIN; INSERT; COMMIT"; the first COMMIT is refused
 *   batches_rw     the same with BEGIN READ WRITE (so the later ones could commit)
 *   autocommit     ROLLBACK; INSERT (autocommit); BEGIN
 *   autocommit_rw  ROLLBACK; SET default_transaction_read_only = off; INSERT; BEGIN
 *   setconfig_rw   ROLLBACK; SELECT set_config(... 'off' ...); INSERT; BEGIN
 *   chain          ROLLBACK AND CHAIN; INSERT (in the chained transaction)
 *   chain_commit   ROLLBACK AND CHAIN; INSERT; COMMIT
 *   refused        COMMIT (refused), then nothing
 *   savepoint      SAVEPOINT; a failing statement; ROLLBACK TO SAVEPOINT; INSERT (correct code)
 *   savepoint_fail the same, then dm_fail */
#include <stdio.h>
#include <string.h>
#include <delembic/plugin.h>

static void run(PGconn *conn, const char *sql)
{
    PQclear(PQexec(conn, sql)); /* plain libpq, result ignored */
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    run(conn, "INSERT INTO t_log VALUES ('@REV@-host')");
    if (!strncmp(mode, "batches", 7)) {
        for (int b = 0; b < 3; b++) {
            char sql[256];
            snprintf(sql, sizeof sql, "%s; INSERT INTO t_log VALUES ('@REV@-b%d'); COMMIT",
                     !strcmp(mode, "batches_rw") ? "BEGIN READ WRITE" : "BEGIN", b);
            dm_exec(ctx, conn, sql);
        }
    } else if (!strncmp(mode, "autocommit", 10) || !strcmp(mode, "setconfig_rw")) {
        run(conn, "ROLLBACK");
        if (!strcmp(mode, "autocommit_rw"))
            run(conn, "SET default_transaction_read_only = off");
        if (!strcmp(mode, "setconfig_rw"))
            run(conn, "SELECT set_config('default_transaction_read_only', 'off', false)");
        dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-auto')");
        run(conn, "BEGIN");
    } else if (!strncmp(mode, "chain", 5)) {
        run(conn, "ROLLBACK AND CHAIN");
        run(conn, "INSERT INTO t_log VALUES ('@REV@-chain')");
        if (!strcmp(mode, "chain_commit"))
            run(conn, "COMMIT");
    } else if (!strcmp(mode, "refused")) {
        dm_exec(ctx, conn, "COMMIT");
    } else if (!strncmp(mode, "savepoint", 9)) {
        run(conn, "SAVEPOINT s");
        run(conn, "SELECT 1 / 0");
        run(conn, "ROLLBACK TO SAVEPOINT s");
        if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@-after')") != 0)
            return -1;
        if (!strcmp(mode, "savepoint_fail"))
            return dm_fail(ctx, "gave up");
    }
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "leaves the host's transaction (@MODE@)",
             .upgrade = upgrade);
