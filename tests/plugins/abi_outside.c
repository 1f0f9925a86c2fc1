/* A plugin author's own test program: it calls the migration's function and
 * the SDK's helpers outside delembic, with no ctx (NULL) or a zeroed one.
 * The helpers must work on the connection and say what they would have told
 * the host on stderr, without crashing. Usage: abi_outside CONNINFO */
#include <stdio.h>
#include <string.h>
#include <delembic/plugin.h>

static int upgrade(PGconn *conn, dm_ctx *ctx)
{
    long long n;
    if (dm_exec(ctx, conn, "INSERT INTO t_log VALUES ('outside')") != 0)
        return -1;
    if (dm_scalar_int(ctx, conn, "SELECT count(*) FROM t_log", &n) != 0)
        return -1;
    dm_log(ctx, "t_log has %lld row(s)", n);
    dm_progress(ctx, n, n, "rows");
    DM_CHECK(ctx, n == 1, "expected 1 row, found %lld", n);
    return 0;
}

int main(int argc, char **argv)
{
    PGconn *conn = PQconnectdb(argc > 1 ? argv[1] : "");
    if (PQstatus(conn) != CONNECTION_OK) {
        fprintf(stderr, "connect: %s", PQerrorMessage(conn));
        return 2;
    }
    int bad = 0;
    dm_ctx zero;
    memset(&zero, 0, sizeof zero);
    bad |= upgrade(conn, NULL) != 0;
    bad |= dm_exec(NULL, conn, "SELECT * FROM no_such_table") != -1;
    bad |= dm_fail(NULL, "failed with %d", 42) != -1;
    dm_log(&zero, "zeroed ctx log");
    bad |= DM_HOST_HAS(&zero, log) || DM_HOST_HAS((dm_ctx *)NULL, fail);
    bad |= DM_HOST_REQUIRE(&zero, progress) != -1;
    char path[64];
    bad |= dm_path(NULL, "data/x.csv", path, sizeof path) != 0 || strcmp(path, "data/x.csv") != 0;
    bad |= dm_path(NULL, "data/x.csv", path, 4) != -1;
    PQfinish(conn);
    printf("%s\n", bad ? "MISMATCH" : "all as expected");
    return bad;
}
