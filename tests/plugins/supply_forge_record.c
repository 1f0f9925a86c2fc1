/* A migration whose constructor writes a forged, truncated descriptor record
 * (index 0, "read", no bytes) to every pipe it may have inherited
 * (tests/e2e/test_supply.sh): the process that reads the descriptors must
 * refuse it, never read past it. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <delembic/plugin.h>

__attribute__((constructor)) static void forge(void)
{
    const uint32_t rec[3] = {0, 1, 0};
    struct stat st;
    for (int fd = 3; fd < 64; fd++) /* pipes only: never the test's own files */
        if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && write(fd, rec, sizeof rec) < 0) {
            /* not writable: not a pipe of ours */
        }
}

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    return dm_exec(ctx, conn, "INSERT INTO s_log VALUES ('@REV@', 1)");
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "forges", .upgrade = upgrade);
