#include <delembic/plugin.h>
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return 0; }
DM_MIGRATION(.revision = "D 001, oops", .upgrade = up);
