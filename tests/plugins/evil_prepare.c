/* Leaves a protocol-level prepared statement (PQprepare) in the session. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    PGresult *r = PQprepare(conn, "p_proto", "SELECT 1", 0, NULL);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    DM_CHECK(ctx, ok, "PQprepare failed");
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_DEPS(@DEPS@), .description = "prepares p_proto",
             .upgrade = upgrade);
