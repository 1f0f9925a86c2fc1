/* A migration that cannot run in a transaction (issue 12): DM_NO_TRANSACTION.
 * It is idempotent, as it must be: an index a killed CREATE INDEX
 * CONCURRENTLY left invalid is dropped first, then the index is made if it
 * is not there. notx_sleep (if it has a row) makes it wait first. */
#include <stdlib.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    long long invalid = 0;
    if (dm_scalar_int(ctx, conn,
                      "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_n_idx') AND NOT indisvalid",
                      &invalid) != 0)
        return -1;
    if (invalid && dm_exec(ctx, conn, "DROP INDEX CONCURRENTLY t_n_idx") != 0)
        return -1;
    if (dm_exec(ctx, conn, "SELECT pg_sleep(coalesce((SELECT max(s) FROM notx_sleep), 0))") != 0)
        return -1;
    return dm_exec(ctx, conn, "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_n_idx ON t (n)");
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    char *v = NULL;
    if (dm_scalar_text(ctx, conn, "SELECT coalesce((SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('t_n_idx')), false)::text", &v) != 0)
        return -1;
    int ok = v[0] == 't';
    free(v);
    DM_CHECK(ctx, ok, "t_n_idx is missing or invalid");
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "index t (n) concurrently",
             .mode = DM_NO_TRANSACTION, .upgrade = upgrade, .validate = validate);
