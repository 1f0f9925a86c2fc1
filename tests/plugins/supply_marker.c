/* The evil twin of a migration (tests/e2e/test_supply.sh): same revision and
 * dependencies, but its constructor leaves @MARKER@ behind as soon as it is
 * loaded, so a test can tell that its code ran. */
#include <stdio.h>
#include <delembic/plugin.h>

__attribute__((constructor)) static void leave_marker(void)
{
    FILE *f = fopen("@MARKER@", "w");
    if (f)
        fclose(f);
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO s_log VALUES ('@REV@', 666)");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_DEPS("T001"),
             .description = "evil twin", .upgrade = upgrade);
