#include <delembic/plugin.h>
DM_MIGRATION(.revision = "B003", .description = "forgot upgrade");
