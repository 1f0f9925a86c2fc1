/* The non-idempotent batched migration of the exactly-once tests: n + 1 on
 * every row of t, in keyset batches (dm_batch_update). Run twice over a
 * row, it would leave n = 2 there. */
#include <delembic/plugin.h>

static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    return dm_batch_update(ctx, conn, b, "t", "id", "n = n + 1", NULL);
}

DM_MIGRATION(.revision = "@REV@", .description = "n + 1 on every row, in batches", .mode = DM_BATCHED,
             .batch = batch);
