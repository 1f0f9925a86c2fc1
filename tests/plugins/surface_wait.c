/* Waits (at most 60 s) until the test inserts its revision into t_go, so a
 * test can look at the running host and worker processes meanwhile. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn,
                   "DO $$ BEGIN"
                   " WHILE NOT EXISTS (SELECT 1 FROM t_go WHERE rev = '@REV@')"
                   "   AND clock_timestamp() < statement_timestamp() + interval '60 s' LOOP"
                   "  PERFORM pg_sleep(0.05);"
                   " END LOOP; END $$");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "waits for @REV@",
             .upgrade = upgrade);
