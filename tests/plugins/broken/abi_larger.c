/* A descriptor from a newer SDK: fields appended after validate that this
 * host does not know (nonzero, so a host reading them would notice). The
 * loader accepts it and its copy holds only the fields it knows. */
#include <delembic/plugin.h>
static int up(PGconn *c, dm_ctx *x) { (void)c; (void)x; return 0; }
struct newer_descriptor {
    struct dm_descriptor known;
    unsigned char later[40];
};
DM_EXPORT const struct newer_descriptor dm_descriptor = {
    .known = {.abi_version = DM_ABI_VERSION, .size = (uint32_t)sizeof(struct newer_descriptor),
              .revision = "B012", .depends_on = DM_NO_DEPS, .description = "newer", .upgrade = up},
    .later = "0123456789012345678901234567890123456789",
};
