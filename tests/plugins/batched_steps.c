/* A batched migration written by hand (issue 12): the cursor is the last id
 * done in @TABLE@ (integer ids); each call takes dm_batch_size ids after it,
 * adds one to their n, logs its size in batch_log (in the batch's own
 * transaction), sleeps as long as batch_sleep says (in SQL: cancellable),
 * and advances; it finishes when no id is left. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <delembic/plugin.h>

static int batch(PGconn *conn, dm_ctx *ctx, dm_batch *b)
{
    const char *cur = dm_batch_cursor(b);
    char from[32], size[32];
    snprintf(from, sizeof from, "%s", cur ? cur : "0");
    snprintf(size, sizeof size, "%lld", dm_batch_size(b));
    if (dm_exec_params(ctx, conn, "INSERT INTO batch_log (size, cursor) VALUES ($1::bigint, $2)", 2,
                       DM_PARAMS(size, from), NULL) != 0)
        return -1;
    if (dm_exec(ctx, conn, "SELECT pg_sleep(coalesce((SELECT max(s) FROM batch_sleep), 0))") != 0)
        return -1;
    char *last = NULL;
    if (dm_scalar_text_params(ctx, conn,
                              "WITH u AS (UPDATE @TABLE@ SET n = n + 1 WHERE id IN (SELECT id FROM @TABLE@"
                              " WHERE id > $1::bigint ORDER BY id LIMIT $2::bigint) RETURNING id)"
                              " SELECT coalesce(max(id)::text, '') || ':' || count(*) FROM u",
                              2, DM_PARAMS(from, size), &last) != 0)
        return -1;
    long long rows = 0;
    char *colon = strchr(last, ':');
    *colon = '\0';
    rows = atoll(colon + 1);
    int rc = rows == 0 ? dm_batch_finish(ctx, b) : dm_batch_advance(ctx, b, last, rows);
    free(last);
    return rc;
}

DM_MIGRATION(.revision = "@REV@", .depends_on = DM_NO_DEPS, .description = "batched steps over @TABLE@",
             .mode = DM_BATCHED, .batch = batch);
