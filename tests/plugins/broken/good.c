#include <delembic/plugin.h>
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return 0; }
DM_MIGRATION(.revision = "G001", .depends_on = DM_DEPS("G000", "abc123"), .description = "good", .upgrade = up);
