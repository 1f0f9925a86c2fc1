/* Records which code ran (@TAG@) and what data/v.txt of its bundle says, so a
 * test can tell the bundle a run started with from one a build put in its
 * place meanwhile. */
#include <stdio.h>
#include <string.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    char path[4096], text[64] = "";
    if (dm_path(ctx, "data/v.txt", path, sizeof path) != 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return dm_fail(ctx, "cannot open %s", path);
    if (!fgets(text, sizeof text, f))
        text[0] = '\0';
    fclose(f);
    text[strcspn(text, "\n")] = '\0';
    char row[128];
    snprintf(row, sizeof row, "@REV@-@TAG@:%s", text);
    const char *params[1] = {row};
    return dm_exec_params(ctx, conn, "INSERT INTO t_log VALUES ($1)", 1, params, NULL);
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_DEPS(@DEPS@), .description = "reads its bundle (@TAG@)",
             .upgrade = upgrade);
