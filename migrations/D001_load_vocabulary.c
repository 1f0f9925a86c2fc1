/* D001: load the OMOP vocabulary (CONCEPT, tab-separated with a header, as
 * Athena ships it) with COPY, streamed from the bundle's data folder. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    long long rows = 0;
    /* idempotent: a retry after a failure starts from an empty table */
    if (dm_exec(ctx, conn, "TRUNCATE concept CASCADE") != 0)
        return -1;
    if (dm_copy_file(ctx, conn, "concept", "data/CONCEPT.csv", &DM_COPY_TSV_HEADER, &rows) != 0)
        return -1;
    dm_log(ctx, "loaded %lld concepts", rows);
    return 0;
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    long long n;
    if (dm_scalar_int(ctx, conn, "SELECT COUNT(*) FROM concept", &n) != 0)
        return -1;
    DM_CHECK(ctx, n > 0, "vocabulary load produced no rows");
    return 0;
}

DM_MIGRATION(.revision = "D001",
             .depends_on = DM_DEPS("3d1e3e6abc12"),
             .description = "Load OMOP vocabulary tables",
             .upgrade = upgrade,
             .validate = validate);
