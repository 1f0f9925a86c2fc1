/* A plugin from a newer SDK on an older host: it needs a host function that
 * the host's table does not have. The older host is simulated with a copy of
 * the host's table whose size ends after fail(), laid at the very end of a
 * page whose next page is unmapped (a read past its size crashes).
 * DM_HOST_REQUIRE(progress) must fail the migration through the host's
 * fail(), naming the function and saying to upgrade delembic. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + page, page, PROT_NONE) != 0)
        return dm_fail(ctx, "mmap failed");
    size_t n = offsetof(dm_host_api, log);
    dm_host_api *api = (dm_host_api *)(m + page - n);
    memcpy(api, ctx->api, n);
    api->size = (uint32_t)n;
    dm_ctx old = *ctx;
    old.api = api;
    int rc = DM_HOST_REQUIRE(&old, progress);
    munmap(m, 2 * page);
    if (rc != 0)
        return -1;
    return dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('@REV@')");
}

DM_MIGRATION(.revision = "@REV@", .description = "needs a newer host", .upgrade = upgrade);
