/* A batched backfill (issue 12) with dm_batch_update: UPDATE @TABLE@ SET
 * @SET@ in batches over @KEY@ (WHERE @WHERE@: a C expression, NULL or a
 * string); validate: @VALIDATE@ must be true. */
#include <stdlib.h>
#include <delembic/plugin.h>

static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    return dm_batch_update(ctx, conn, b, "@TABLE@", "@KEY@", "@SET@", @WHERE@);
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    char *v = NULL;
    if (dm_scalar_text(ctx, conn, "SELECT (@VALIDATE@)::text", &v) != 0)
        return -1;
    int ok = v[0] == 't';
    free(v);
    DM_CHECK(ctx, ok, "validation failed: @VALIDATE@");
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "batched backfill of @TABLE@",
             .mode = DM_BATCHED, .batch = batch, .validate = validate);
