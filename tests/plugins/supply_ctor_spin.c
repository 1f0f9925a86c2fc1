/* A migration whose constructor, once armed (the file @TRIGGER@ exists),
 * spins forever in C (tests/e2e/test_supply.sh): build and verify must give
 * up on it, not hang. */
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
#include <delembic/plugin.h>

__attribute__((constructor)) static void spin_when_armed(void)
{
    volatile unsigned long n = 0;
    if (access("@TRIGGER@", F_OK) == 0)
        for (;;)
            n++;
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO s_log VALUES ('@REV@', 1)");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_DEPS("T001"), .description = "spins when armed",
             .upgrade = upgrade);
