/* crashes while being loaded */
#include <delembic/plugin.h>
#include <signal.h>
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return 0; }
__attribute__((constructor)) static void boom(void) { raise(SIGSEGV); }
DM_MIGRATION(.revision = "B004", .upgrade = up);
