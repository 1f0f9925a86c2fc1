/* Says passwords: the run's own (@PW@) in dm_log, another database's in a
 * URL it logs, and libpq's error text for a bad URL with a password (which
 * repeats the URL) in dm_fail. MODE server: a server error that echoes the
 * run's password instead. */
#include <string.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    if (!strcmp("@MODE@", "server"))
        return dm_exec(ctx, conn, "SELECT '@PW@'::int");
    dm_log(ctx, "connecting with @PW@");
    dm_log(ctx, "source: postgresql://etl:SrcPassw0rd@db.example/source");
    PGconn *src = PQconnectdb("postgresql://etl:SrcPassw0rd@[::1/source");
    dm_fail(ctx, "source database: %s", PQerrorMessage(src));
    PQfinish(src);
    return -1;
}

DM_MIGRATION(.revision = "@REV@", .description = "says passwords (@MODE@)", .upgrade = upgrade);
