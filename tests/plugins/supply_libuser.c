/* A migration that needs libsupply_lib.so (tests/e2e/test_supply.sh): it
 * records the value that the library it was linked against returns. */
#include <stdio.h>
#include <delembic/plugin.h>

int supply_value(void);

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO s_log VALUES ('@REV@', %d)", supply_value());
    return dm_exec(ctx, conn, sql);
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_DEPS("T001"),
             .description = "uses a shared library", .upgrade = upgrade);
