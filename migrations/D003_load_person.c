/* D003: person from the staging table. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn,
                   "INSERT INTO person (person_id, birth_year, gender_source_value)"
                   " SELECT source_id, year_of_birth, gender_source_value FROM staging.person"
                   " ON CONFLICT (person_id) DO NOTHING");
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    long long count;
    if (dm_scalar_int(ctx, conn, "SELECT COUNT(*) FROM person", &count) != 0)
        return -1;
    DM_CHECK(ctx, count > 0, "person table is empty after migration");
    return 0;
}

DM_MIGRATION(.revision = "D003",
             .depends_on = DM_DEPS("D002", "3d1e3e6abc12"),
             .description = "Load person from staging",
             .upgrade = upgrade,
             .validate = validate);
