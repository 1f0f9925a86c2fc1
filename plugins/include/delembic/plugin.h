/*
 * <delembic/plugin.h> - the Delembic data-migration plugin SDK.
 *
 * A migration is a shared object that exports one symbol, `dm_descriptor`,
 * written with the DM_MIGRATION macro:
 *
 *     #include <delembic/plugin.h>
 *
 *     static int upgrade(PGconn *conn, dm_ctx *ctx)
 *     {
 *         return dm_exec(ctx, conn, "INSERT INTO concept SELECT * FROM concept_staging");
 *     }
 *
 *     static int validate(PGconn *conn, dm_ctx *ctx)
 *     {
 *         long long n;
 *         if (dm_scalar_int(ctx, conn, "SELECT COUNT(*) FROM concept", &n) != 0)
 *             return -1;
 *         DM_CHECK(ctx, n > 0, "vocabulary load produced no rows");
 *         return 0;
 *     }
 *
 *     DM_MIGRATION(.revision = "D001",
 *                  .depends_on = DM_DEPS("3d1e3e6abc12"),
 *                  .description = "Load OMOP vocabulary tables",
 *                  .upgrade = upgrade,
 *                  .validate = validate);
 *
 * Rules:
 *  - The host opens the transaction and commits or rolls it back. Never COMMIT,
 *    ROLLBACK or END inside a callback: the host checks the transaction status
 *    after each callback and fails the migration if it was ended or left in error.
 *  - Return 0 for success. Any other value, a failed DM_CHECK, a failed statement
 *    or a crash fails the migration and rolls its work back.
 *  - upgrade() runs first; validate() (optional) runs after it on the same
 *    connection, inside the same transaction, before the commit.
 *  - Reach the host only through ctx (ctx->api is a function table the host
 *    fills in, as SQLite hands sqlite3_api_routines to its extensions). The
 *    helpers below do that for you. A plugin links libc and libpq only.
 *
 * Build a migration outside the Delembic tree with
 *     cc -shared -fPIC -o D001.so D001.c $(pkg-config --cflags --libs delembic-plugin)
 */
#ifndef DELEMBIC_PLUGIN_H
#define DELEMBIC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <libpq-fe.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped only when struct dm_descriptor, struct dm_ctx or dm_host_api change
 * incompatibly. Additions at the end of a struct keep the version and grow
 * `size`, which the host checks. */
#define DM_ABI_VERSION 1u

typedef struct dm_ctx dm_ctx;
typedef int (*dm_callback)(PGconn *conn, dm_ctx *ctx);

/* The one symbol a migration exports. Fill it with DM_MIGRATION. */
struct dm_descriptor {
    uint32_t abi_version;          /* DM_ABI_VERSION at compile time */
    uint32_t size;                 /* sizeof(struct dm_descriptor) at compile time */
    const char *revision;          /* required, unique: "D001" */
    const char *const *depends_on; /* NULL-terminated; Delembic and Alembic revisions; NULL = none */
    const char *description;       /* shown by `delembic history` */
    dm_callback upgrade;           /* required */
    dm_callback validate;          /* optional */
};

/* Host services. A plugin calls them through the helpers below. */
typedef struct dm_host_api {
    uint32_t abi_version;
    uint32_t size;
    /* Record why the migration fails (the last message wins). */
    void (*fail)(dm_ctx *ctx, const char *message);
    /* A line for the operator, prefixed with the revision. */
    void (*log)(dm_ctx *ctx, const char *message);
    /* Progress of a long step: done of total (total < 0: unknown) units. */
    void (*progress)(dm_ctx *ctx, long long done, long long total, const char *unit);
} dm_host_api;

struct dm_ctx {
    const dm_host_api *api;
    uint32_t size;              /* sizeof(struct dm_ctx) as the host knows it */
    const char *revision;       /* the migration being run */
    const char *bundle_dir;     /* the bundle folder: relative data paths start here */
    void *host;                 /* private to the host */
};

#if defined(__GNUC__)
#define DM_EXPORT __attribute__((visibility("default"), used))
#define DM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define DM_EXPORT
#define DM_PRINTF(f, a)
#endif

/* Dependency lists: DM_DEPS("D001", "3d1e3e6abc12") or DM_NO_DEPS. */
#define DM_DEPS(...) ((const char *const[]){__VA_ARGS__, NULL})
#define DM_NO_DEPS ((const char *const[]){NULL})

#define DM_MIGRATION(...)                                                   \
    DM_EXPORT const struct dm_descriptor dm_descriptor = {                  \
        .abi_version = DM_ABI_VERSION,                                      \
        .size = (uint32_t)sizeof(struct dm_descriptor),                     \
        __VA_ARGS__}

/* ---- helpers (libdelembic-plugin.a, linked into each migration) ----------
 * Every helper returns 0 on success and -1 on failure; on failure it has
 * already told the host why (the SQL error, with detail and context), so the
 * usual pattern is `if (dm_exec(...) != 0) return -1;`. */

/* Fail with a formatted message; always returns -1. */
int dm_fail(dm_ctx *ctx, const char *fmt, ...) DM_PRINTF(2, 3);

/* Fail unless cond holds: DM_CHECK(ctx, n > 0, "%lld orphans", n). */
#define DM_CHECK(ctx, cond, ...)                                            \
    do {                                                                    \
        if (!(cond))                                                        \
            return dm_fail((ctx), __VA_ARGS__);                             \
    } while (0)

/* A line for the operator. */
void dm_log(dm_ctx *ctx, const char *fmt, ...) DM_PRINTF(2, 3);

/* Report progress (total < 0 when unknown). The host rate-limits display. */
void dm_progress(dm_ctx *ctx, long long done, long long total, const char *unit);

/* Run one statement (no parameters; several ;-separated statements allowed). */
int dm_exec(dm_ctx *ctx, PGconn *conn, const char *sql);

/* Run one statement with text parameters $1..$n; rows_affected may be NULL. */
int dm_exec_params(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                   const char *const *params, long long *rows_affected);

/* Read the single value of a one-row, one-column query. NULL is an error. */
int dm_scalar_int(dm_ctx *ctx, PGconn *conn, const char *sql, long long *out);
int dm_scalar_int_params(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                         const char *const *params, long long *out);
/* *out is malloc'd; free() it. */
int dm_scalar_text(dm_ctx *ctx, PGconn *conn, const char *sql, char **out);
int dm_scalar_text_params(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                          const char *const *params, char **out);

/* Parameter lists: DM_PARAMS("a", "b") with its count DM_NPARAMS("a", "b"). */
#define DM_PARAMS(...) ((const char *const[]){__VA_ARGS__})
#define DM_NPARAMS(...) ((int)(sizeof(DM_PARAMS(__VA_ARGS__)) / sizeof(const char *)))

/* Streaming a CSV or TSV file into a table with COPY FROM STDIN. */
typedef enum { DM_COPY_CSV = 0, DM_COPY_TEXT = 1 } dm_copy_format;

typedef struct dm_copy_options {
    dm_copy_format format; /* DM_COPY_CSV (default) or PostgreSQL's text format */
    int header;            /* CSV only: first line is a header */
    char delimiter;        /* 0: ',' for CSV, tab for text */
    char quote;            /* CSV only; 0: '"' */
    const char *null_string; /* NULL: "" for CSV, "\\N" for text */
    const char *columns;   /* "col_a, col_b" or NULL for all, in table order */
} dm_copy_options;

/* Tab-separated with a header line and quotes: the OMOP vocabulary files. */
#define DM_COPY_TSV_HEADER ((dm_copy_options){.format = DM_COPY_CSV, .header = 1, .delimiter = '\t'})

/* Stream path (relative paths start at the bundle folder) into table in
 * bounded memory; *rows (may be NULL) gets the rows loaded. A bad row fails
 * with the server's message, which names the line. */
int dm_copy_file(dm_ctx *ctx, PGconn *conn, const char *table, const char *path,
                 const dm_copy_options *options, long long *rows);

/* Resolve a path relative to the bundle folder into buf. */
int dm_path(dm_ctx *ctx, const char *relative, char *buf, size_t bufsize);

#ifdef __cplusplus
}
#endif
#endif /* DELEMBIC_PLUGIN_H */
