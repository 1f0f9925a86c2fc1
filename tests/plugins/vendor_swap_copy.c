/* Swaps data/@FILE@ for other bytes after the run's checks (as an attacker
 * with the bundle owner's rights could), then loads it with the COPY helper:
 * the host must catch the change while it streams. */
#include <stdio.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    char path[4096];
    if (dm_path(ctx, "data/@FILE@", path, sizeof path) != 0)
        return -1;
    FILE *f = fopen(path, "w");
    if (!f)
        return dm_fail(ctx, "cannot rewrite %s", path);
    fputs("id,name\n1,evil\n", f);
    fclose(f);
    dm_copy_options o = {.format = DM_COPY_CSV, .header = 1};
    long long rows = 0;
    if (dm_copy_file(ctx, conn, "t_copy", "data/@FILE@", &o, &rows) != 0)
        return -1;
    return 0;
}

DM_MIGRATION(.revision = "@REV@", .description = "swap then copy @FILE@", .upgrade = upgrade);
