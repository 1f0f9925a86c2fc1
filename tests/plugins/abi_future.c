/* A migration as a newer SDK builds it: its descriptor is larger than this
 * host's struct dm_descriptor, with fields appended at the end (ABI growth).
 * The first bytes after the fields this host knows are zeros (the defaults of
 * the fields the next issues plan, so a host that learns them still runs it);
 * after them come bytes no delembic reads. The host must accept the size, read
 * only what it knows, and run it like any other. */
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    dm_log(ctx, "built by a newer SDK");
    dm_progress(ctx, 1, 1, "steps");
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

struct newer_descriptor {
    struct dm_descriptor known;   /* what this host knows */
    unsigned char planned[128];   /* zeros: defaults of fields a later host may learn */
    char unknown[64];             /* fields no delembic knows yet */
};

DM_EXPORT const struct newer_descriptor dm_descriptor = {
    .known = {.abi_version = DM_ABI_VERSION,
              .size = (uint32_t)sizeof(struct newer_descriptor),
              .revision = "@REV@",
              .depends_on = DM_NO_DEPS,
              .description = "descriptor from a newer SDK",
              .upgrade = upgrade},
    .unknown = "fields appended by a newer SDK: this host must not read them",
};
