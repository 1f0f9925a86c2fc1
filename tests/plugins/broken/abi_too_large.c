/* A descriptor claiming more than any SDK writes: refused. */
#include <delembic/plugin.h>
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return 0; }
DM_MIGRATION(.revision = "B011", .upgrade = up, .size = 4097);
