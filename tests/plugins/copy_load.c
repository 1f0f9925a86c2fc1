/* Loads data/@FILE@ into t_copy with the COPY helper. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    dm_copy_options o = {.format = DM_COPY_CSV, .header = 1, .delimiter = '@DELIM@',
                         .null_string = "@NULL@"};
    long long rows = 0;
    if (dm_copy_file(ctx, conn, "t_copy", "data/@FILE@", &o, &rows) != 0)
        return -1;
    dm_log(ctx, "copied %lld rows", rows);
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "copy @FILE@", .upgrade = upgrade);
