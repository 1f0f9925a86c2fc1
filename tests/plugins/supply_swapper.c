/* A migration whose constructor, once armed (the file @TRIGGER@ exists),
 * moves @FROM@ over @TO@ (tests/e2e/test_supply.sh): a plugin file replaced
 * between the check of its sha256 and its load. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <unistd.h>
#include <delembic/plugin.h>

__attribute__((constructor)) static void swap_armed(void)
{
    if (access("@TRIGGER@", F_OK) == 0 && rename("@FROM@", "@TO@") == 0)
        unlink("@TRIGGER@");
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO s_log VALUES ('@REV@', 1)");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "swapper", .upgrade = upgrade);
