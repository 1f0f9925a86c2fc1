/* A DM_NO_TRANSACTION migration as the README shows it: CREATE INDEX
 * CONCURRENTLY, idempotent. A build killed half way leaves an invalid index
 * behind, which IF NOT EXISTS would keep: drop it first, then build. */
#include <delembic/plugin.h>

#define INVALID_INDEX "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_n_idx') AND NOT indisvalid"

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    long long invalid;
    if (dm_scalar_int(ctx, conn, INVALID_INDEX, &invalid) != 0)
        return -1;
    if (invalid) {
        dm_log(ctx, "dropping the invalid index t_n_idx a killed build left");
        if (dm_exec(ctx, conn, "DROP INDEX CONCURRENTLY IF EXISTS t_n_idx") != 0)
            return -1;
    }
    return dm_exec(ctx, conn, "CREATE INDEX CONCURRENTLY IF NOT EXISTS t_n_idx ON t (n)");
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    long long valid;
    if (dm_scalar_int(ctx, conn, "SELECT count(*) FROM pg_index WHERE indexrelid = to_regclass('t_n_idx') AND indisvalid",
                      &valid) != 0)
        return -1;
    DM_CHECK(ctx, valid == 1, "t_n_idx is missing or invalid");
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "index t (n), concurrently", .mode = DM_NO_TRANSACTION,
             .upgrade = upgrade, .validate = validate);
