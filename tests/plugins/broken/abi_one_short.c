/* A descriptor one byte short of the fields of ABI 1: refused. */
#include <delembic/plugin.h>
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return 0; }
DM_MIGRATION(.revision = "B010", .upgrade = up, .size = (uint32_t)DM_DESCRIPTOR_SIZE_V1 - 1);
