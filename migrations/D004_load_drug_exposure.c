/* D004: drug_exposure from staging, NDC codes mapped through concept, with
 * the orphan check of the user guide. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    if (dm_exec(ctx, conn, "TRUNCATE drug_exposure") != 0)
        return -1;
    return dm_exec(ctx, conn,
                   "INSERT INTO drug_exposure"
                   " SELECT de.drug_exposure_id, de.person_id, c.concept_id AS drug_concept_id,"
                   "        de.drug_exposure_start_date"
                   " FROM staging.drug_exposure de"
                   " JOIN concept c ON c.vocabulary_id = 'NDC' AND c.concept_code = de.ndc_code");
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    long long orphans;
    if (dm_scalar_int(ctx, conn,
                      "SELECT COUNT(*) FROM drug_exposure de"
                      " LEFT JOIN person p ON p.person_id = de.person_id"
                      " WHERE p.person_id IS NULL",
                      &orphans) != 0)
        return -1;
    DM_CHECK(ctx, orphans == 0, "%lld drug_exposure rows have no matching person", orphans);
    return 0;
}

DM_MIGRATION(.revision = "D004",
             .depends_on = DM_DEPS("D001", "D003"),
             .description = "Load drug_exposure from staging",
             .upgrade = upgrade,
             .validate = validate);
