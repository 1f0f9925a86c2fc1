/* links against a symbol nobody provides: dlopen with RTLD_NOW must refuse it */
#include <delembic/plugin.h>
extern int delembic_host_internal_function(void);
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return delembic_host_internal_function(); }
DM_MIGRATION(.revision = "B005", .upgrade = up);
