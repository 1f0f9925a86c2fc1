/* D002: land the source extracts (person, drug exposures) in staging. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const dm_copy_options tsv = {.format = DM_COPY_CSV, .header = 1, .delimiter = '\t'};
    if (dm_exec(ctx, conn, "TRUNCATE staging.person, staging.drug_exposure") != 0)
        return -1;
    if (dm_copy_file(ctx, conn, "staging.person", "data/person.tsv", &tsv, NULL) != 0)
        return -1;
    return dm_copy_file(ctx, conn, "staging.drug_exposure", "data/drug_exposure.tsv", &tsv, NULL);
}

DM_MIGRATION(.revision = "D002",
             .depends_on = DM_DEPS("9a0b1c2d3e4f"),
             .description = "Load staging extracts",
             .upgrade = upgrade);
