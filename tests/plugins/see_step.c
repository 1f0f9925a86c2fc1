/* A migration for the history page's tests: runs @SQL@, then (when @CHECK@
 * is a query) fails unless it returns true, with the message @MSG@. The
 * description is @DESC@, the dependencies @DEPS@ (a DM_DEPS(...) or
 * DM_NO_DEPS). */
#include <stdlib.h>
#include <string.h>

#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "@SQL@");
}

static int validate(PGconn *conn, dm_ctx *ctx)
{
    const char *check = "@CHECK@";
    if (!*check)
        return 0;
    char *v = NULL;
    if (dm_scalar_text(ctx, conn, check, &v) != 0)
        return -1;
    int ok = v[0] == 't';
    free(v);
    DM_CHECK(ctx, ok, "@MSG@");
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .depends_on = @DEPS@, .description = "@DESC@",
             .upgrade = upgrade, .validate = validate);
