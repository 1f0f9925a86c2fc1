/* The SDK's helpers as an older host hands them their tables: a copy of the
 * host's function table, or of ctx, whose size ends early (as if the later
 * members did not exist yet), laid at the very end of a page whose next page
 * is unmapped, so a helper that reads past the size it was given crashes.
 * Only ABI-1 helpers: any SDK builds it. MODE:
 *   degrade  the table ends after fail(): dm_log falls back to stderr,
 *            dm_progress does nothing, dm_exec works; succeeds
 *   ctx      ctx ends before bundle_dir: dm_path leaves a relative path as
 *            it is; succeeds */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <delembic/plugin.h>

/* n bytes that end where an unmapped page begins; *base for munmap */
static void *at_page_end(size_t n, void **base, size_t *len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + page, page, PROT_NONE) != 0)
        return NULL;
    *base = m;
    *len = 2 * page;
    return m + page - n;
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    const char *mode = "@MODE@";
    void *base;
    size_t len;
    if (!strcmp(mode, "ctx")) {
        /* api, size and revision; no bundle_dir, no host */
        size_t n = offsetof(struct dm_ctx, bundle_dir);
        dm_ctx *old = at_page_end(n, &base, &len);
        if (!old)
            return dm_fail(ctx, "mmap failed");
        memcpy(old, ctx, n);
        old->size = (uint32_t)n;
        char path[256];
        int got = dm_path(old, "data/x.csv", path, sizeof path);
        munmap(base, len);
        DM_CHECK(ctx, got == 0, "dm_path failed on an older ctx");
        DM_CHECK(ctx, !strcmp(path, "data/x.csv"), "dm_path gave %s for an older ctx", path);
        return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
    }
    /* a table that ends after fail */
    size_t n = offsetof(dm_host_api, log);
    dm_host_api *api = at_page_end(n, &base, &len);
    if (!api)
        return dm_fail(ctx, "mmap failed");
    memcpy(api, ctx->api, n);
    api->size = (uint32_t)n;
    dm_ctx old = *ctx;
    old.api = api;
    dm_log(&old, "logged without the host's log()");
    dm_progress(&old, 1, 2, "rows");
    int rc = dm_exec(&old, conn, "INSERT INTO t_log VALUES ('@REV@')");
    munmap(base, len);
    return rc;
}

DM_MIGRATION(.revision = "@REV@", .description = "older host (@MODE@)", .upgrade = upgrade);
