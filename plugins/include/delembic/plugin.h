/*
 * <delembic/plugin.h> - the Delembic data-migration plugin SDK, ABI 1.
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
 * Build a migration outside the Delembic tree with
 *     cc -shared -fPIC -o D001.so D001.c $(pkg-config --cflags --libs delembic-plugin)
 *
 * THE RULES
 *  - The host opens the transaction and commits or rolls it back. Never COMMIT,
 *    ROLLBACK or END inside a callback: the host checks the transaction status
 *    after each callback and fails the migration if it was ended or left in error.
 *  - Return 0 for success. Any other value, a failed DM_CHECK, a failed statement
 *    (even one the callback ignored) or a crash fails the migration and rolls its
 *    work back; the last message given to dm_fail is recorded.
 *  - upgrade() runs first; validate() (optional) runs after it on the same
 *    connection, inside the same transaction, before the commit.
 *  - downgrade() (optional, .downgrade = ...) undoes upgrade's work when an
 *    operator runs `delembic downgrade`: same rules, one transaction that
 *    also removes the migration's record; validate() does not run then.
 *  - Reach the host only through ctx (ctx->api is a function table the host
 *    fills in, as SQLite hands sqlite3_api_routines to its extensions). The
 *    helpers below do that for you. A plugin links libc, libpq and this SDK's
 *    archive, never symbols of the delembic executable.
 *  - Return; never exit(): a worker that exits is recorded as a crash.
 *  - Tell the operator with dm_log(). A worker's stdout is its stderr, so a
 *    stray printf() never mixes into delembic's own output (JSON with --json).
 *
 * LARGE DATA: THE MODES (.mode = ...)
 *  - DM_TRANSACTIONAL (0, the default): upgrade and validate in one
 *    transaction that the host opens and commits with the record, as above.
 *  - DM_BATCHED: set .batch instead of .upgrade. The host calls batch(conn,
 *    ctx, b) again and again, EACH CALL IN ITS OWN TRANSACTION, committed
 *    together with the migration's checkpoint (cursor, rows done, batches)
 *    in delembic_checkpoint: the call's rows and its checkpoint commit
 *    together or not at all, so a kill at any instant loses at most the
 *    batch in flight, and the next `delembic upgrade` resumes after the
 *    last committed one. A call reads dm_batch_cursor(b) (NULL at the start)
 *    and dm_batch_size(b) (rows to take), does that much work, and ends with
 *    dm_batch_advance(ctx, b, new_cursor, rows), or dm_batch_finish(ctx, b)
 *    when nothing is left. Then validate (optional) runs once, in its own
 *    transaction with the success record. Usually one line does it all:
 *        return dm_batch_update(ctx, conn, b, "t", "id", "n = n + 1", NULL);
 *    A call returning 0 without advance or finish fails the migration (it
 *    would run for ever). The rules of transactions hold for every call:
 *    never COMMIT or ROLLBACK yourself (the host commits each batch; a
 *    COMMIT inside a batch is refused and fails the migration, and work that
 *    got committed outside the host's transaction is held, as for any
 *    migration). The batches before a failed one stay committed, so a batch
 *    must only touch its own rows.
 *  - DM_NO_TRANSACTION: upgrade runs in autocommit, outside any transaction
 *    (CREATE INDEX CONCURRENTLY, VACUUM, ALTER TYPE ... ADD VALUE before PG
 *    12); here COMMIT is allowed. The host commits a `running` checkpoint
 *    first and the success record after, with validate in its own
 *    transaction. A crash in between is recorded `interrupted` by the next
 *    upgrade, WHICH RUNS IT AGAIN FROM THE START: upgrade must be
 *    idempotent (CREATE INDEX CONCURRENTLY IF NOT EXISTS, after dropping the
 *    index if a killed build left it invalid).
 *
 * THE PROCESS A PLUGIN LIVES IN
 *  - Plugin code never runs in the delembic process that reads the bundle and
 *    holds the lock. It runs in a worker process that delembic forks: one
 *    worker runs several migrations in sequence, on ONE database connection
 *    that it opened once. With -j N there are N workers, each with its own
 *    connection, running migrations at the same time.
 *  - Each migration runs in its own transaction, which the host opens (BEGIN,
 *    the section's statement_timeout and lock_timeout as SET LOCAL, a guard
 *    row in pg_temp.delembic_guard) and commits together with the record of
 *    the run.
 *  - Each migration starts from a clean session: between migrations the host
 *    undoes what the previous one left (SET without LOCAL, SET ROLE, session
 *    authorization, LISTEN, prepared statements, cursors, temporary objects,
 *    session advisory locks), so SET LOCAL, ON COMMIT DROP and
 *    pg_advisory_xact_lock are good manners, not a requirement. What it
 *    cannot undo are libpq settings of conn (a notice processor, the error
 *    verbosity): restore what you change on conn before returning, and leave
 *    pg_temp.delembic_guard alone. conn belongs to the host: a PQfinish() of
 *    it is refused and fails the migration.
 *  - The worker process itself is shared with the host and the migrations
 *    after yours: its current folder (wherever delembic was started: use
 *    dm_path for files), environment, locale, umask, signal dispositions, and
 *    the state of the libraries the host uses too (libc, libpq). Change none
 *    of it, or restore it before returning.
 *  - The worker verifies the plugin file (sha256 against the manifest) and
 *    dlopen()s that same open file with RTLD_NOW | RTLD_LOCAL, runs its
 *    callbacks, and dlclose()s it after its migration, succeeded or failed.
 *    Every migration therefore starts with its static data at its initial
 *    values, and nothing of it survives into another migration. Whatever a
 *    plugin leaves behind pointing into its code is its own bug once it is
 *    unloaded: a thread still running, an atexit() handler, a signal handler,
 *    a callback registered with a library or with conn.
 *  - `delembic build` and `delembic verify` load every plugin too, in a child
 *    process, only to read its descriptor: no ctx, no connection, no callback.
 *
 * LIFETIMES
 *  - ctx, ctx->api and every string in ctx (revision, bundle_dir) live until
 *    the callback returns; copy what you need to keep (there is little to keep:
 *    the plugin is unloaded after its migration).
 *  - The helpers copy or finish with the strings you pass before they return.
 *  - The descriptor and the strings it points to are read by the host while
 *    the plugin is loaded: make them static (string literals, DM_DEPS).
 *
 * CONSTRUCTORS AND DESTRUCTORS
 * A function marked __attribute__((constructor)) (a C++ static initialiser
 * too) runs when the plugin is loaded: in the worker, possibly before the
 * previous migration's commit has returned, and in build and verify, which
 * only read the descriptor. There is no ctx and no connection then. Safe:
 * initialising the plugin's own static data, pure computation. Not safe:
 * anything that touches the database or the host, output, files, sockets,
 * threads, fork(), exit(), signal handlers, setenv(). Destructors run at
 * dlclose() under the same rules. Do the work in upgrade().
 *
 * THREADS
 * Only the thread the host called may use conn and ctx (a libpq connection is
 * not thread-safe, and neither is the host's side of ctx). Join every thread a
 * callback starts before it returns: the plugin's code is unmapped after it.
 *
 * CHILD PROCESSES
 * A child that a callback forks must not use conn or ctx, and must end with
 * _exit(), never by returning from the callback or calling exit(). A child
 * that comes back into the host (returns from a callback, calls a ctx helper)
 * is ended there at once, without touching the connection, so only the worker
 * itself records the migration; but what the child did on conn before that
 * belongs to the migration's transaction. exit() would run the host's atexit
 * handlers and flush its buffers a second time. Wait for your children before
 * returning; prefer posix_spawn() or fork() + exec().
 *
 * SIGNALS
 * The host cancels a run by sending SIGTERM to the workers (the terminal's
 * SIGINT reaches them too). The worker's handler cancels the statement running
 * on conn (the helper running it fails), and the migration is rolled back and
 * recorded as interrupted; one still running a few seconds later (3 s) is
 * killed with SIGKILL. The handlers are installed without SA_RESTART, so a
 * system call in plugin code may fail with EINTR: retry it. SIGPIPE is
 * ignored. Never change or block SIGINT, SIGTERM or SIGPIPE.
 *
 * VERSIONS AND SIZES, BOTH WAYS (as LV2's lv2.h does)
 * Three structs cross between host and plugin: struct dm_descriptor (plugin to
 * host), dm_ctx and dm_host_api (host to plugin). Each carries its size as its
 * writer compiled it; the descriptor and the table carry DM_ABI_VERSION too.
 *  - Structs grow only at the end: a field or host function is appended, never
 *    inserted, removed, moved or retyped; that keeps DM_ABI_VERSION at 1. A
 *    change that cannot be made so bumps it, and the host refuses a plugin of
 *    another ABI, naming both versions: rebuild it against the new SDK.
 *  - The host reads a descriptor field only when the plugin's size covers it:
 *    it refuses a size below DM_DESCRIPTOR_SIZE_V1 (the fields of ABI 1, up to
 *    .validate), gives a field added later its default (zero) when a plugin
 *    built before the field existed lacks it, and never reads past the struct
 *    it knows, so a plugin from a newer SDK runs on an older host of the same
 *    ABI (fields the host does not know are ignored).
 *  - The SDK reads a field of ctx only when ctx->size covers it, and calls a
 *    host function only when the table's size covers it (and the table is of
 *    this ABI). On an ABI 1 host every field and function of ABI 1 is there. A
 *    helper that needs a function an older host lacks returns -1 after failing
 *    the migration with a message naming the function and saying to upgrade
 *    delembic. DM_HOST_HAS tests for a function; DM_HOST_REQUIRE requires one.
 *  - Outside a migration (a plugin author's own tests), ctx may be NULL: the
 *    helpers still run statements, and say on stderr what they would have told
 *    the host; dm_progress is silent; dm_path leaves relative paths as they are.
 *  - Both sides test coverage with DM_HAS_FIELD(ptr, size, type, field).
 */
#ifndef DELEMBIC_PLUGIN_H
#define DELEMBIC_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h> /* free() for what dm_scalar_text returns */
#include <libpq-fe.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped only when struct dm_descriptor, struct dm_ctx or dm_host_api change
 * incompatibly. Additions at the end of a struct keep the version and grow
 * its `size`, which the other side reads before a field (see above). */
#define DM_ABI_VERSION 1u

/* The longest message, with its NUL, that a helper formats and hands the host
 * (dm_fail, dm_log, SQL errors); longer ones are cut. */
#define DM_MSG_MAX 4096

/* The bytes a struct needs to hold `field` of `type`. */
#define DM_FIELD_END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))

/* Does the struct at ptr (a `type` that says it is `size` bytes) hold `field`?
 * False when ptr is NULL; size is not evaluated then. Both sides use it before
 * reading a field the other side wrote:
 *     DM_HAS_FIELD(d, d->size, struct dm_descriptor, mode)             the host
 *     DM_HAS_FIELD(ctx, ctx->size, struct dm_ctx, bundle_dir)          the SDK */
#define DM_HAS_FIELD(ptr, size, type, field)                                \
    ((ptr) != NULL && (size_t)(size) >= DM_FIELD_END(type, field))

typedef struct dm_ctx dm_ctx;
typedef int (*dm_callback)(PGconn *conn, dm_ctx *ctx);

/* A batched migration's state between calls: owned by the host, read and
 * moved on through dm_batch_cursor, dm_batch_size, dm_batch_advance,
 * dm_batch_finish (see LARGE DATA above). */
typedef struct dm_batch dm_batch;
typedef int (*dm_batch_callback)(PGconn *conn, dm_ctx *ctx, dm_batch *b);

/* struct dm_descriptor's .mode */
enum { DM_TRANSACTIONAL = 0, DM_NO_TRANSACTION = 1, DM_BATCHED = 2 };

/* The one symbol a migration exports. Fill it with DM_MIGRATION. New fields
 * go at the end (after validate), each with a default of zero that the host
 * uses for a plugin whose size does not cover it. */
struct dm_descriptor {
    uint32_t abi_version;          /* DM_ABI_VERSION at compile time */
    uint32_t size;                 /* sizeof(struct dm_descriptor) at compile time */
    const char *revision;          /* required, unique: "D001" */
    const char *const *depends_on; /* NULL-terminated; Delembic and Alembic revisions; NULL = none */
    const char *description;       /* shown by `delembic history` */
    dm_callback upgrade;           /* required */
    dm_callback validate;          /* optional */
    /* ABI 1 ends here: DM_DESCRIPTOR_SIZE_V1. Later fields below this line. */
    /* optional: undo upgrade's work (`delembic downgrade`), in the host's
     * transaction like upgrade; no validate runs after it. A plugin built
     * before this field has none, and cannot be downgraded. */
    dm_callback downgrade;
    /* how the host runs it (added with batched migrations; a plugin built
     * before has DM_TRANSACTIONAL): see LARGE DATA above */
    int mode;
    /* DM_BATCHED: called again and again instead of upgrade (which stays
     * NULL, so a host older than batching refuses the plugin) */
    dm_batch_callback batch;
};

/* The fields every descriptor of ABI 1 has; the host refuses a smaller size. */
#define DM_DESCRIPTOR_SIZE_V1 DM_FIELD_END(struct dm_descriptor, validate)

/* Host services. A plugin calls them through the helpers below, which check
 * `size` first. New functions go at the end; an older host's table ends
 * before them. */
typedef struct dm_host_api {
    uint32_t abi_version;       /* DM_ABI_VERSION of the host */
    uint32_t size;              /* sizeof(dm_host_api) as the host knows it */
    /* Record why the migration fails (the last message wins). */
    void (*fail)(dm_ctx *ctx, const char *message);
    /* A line for the operator, prefixed with the revision. */
    void (*log)(dm_ctx *ctx, const char *message);
    /* Progress of a long step: done of total (total < 0: unknown) units. */
    void (*progress)(dm_ctx *ctx, long long done, long long total, const char *unit);
    /* ABI 1 ends here. Later functions below this line. */
    /* The bundle's data files (added with the trust chain): dm_copy_file
     * streams a file through these, so the host hashes exactly the bytes sent
     * and compares them with manifest.yaml's sha256 and size at the end.
     * data_begin: 0 with *check set (NULL: path is not a file of the bundle's
     * data/ folder, nothing to check), or -1 with msg (a file in data/ that
     * the manifest does not list). data_end frees check: 0 when the bytes
     * seen are the listed ones, else -1 with msg. A plugin on an older host
     * (no data_begin) streams unchecked: verify and upgrade still check every
     * data file before the run. */
    int (*data_begin)(dm_ctx *ctx, const char *path, void **check, char *msg, size_t msgsize);
    void (*data_update)(dm_ctx *ctx, void *check, const void *buf, size_t n);
    int (*data_end)(dm_ctx *ctx, void *check, char *msg, size_t msgsize);
    /* Batched migrations (DM_BATCHED): what dm_batch_cursor, dm_batch_size,
     * dm_batch_advance, dm_batch_finish and dm_batch_total call. The cursor
     * lives until the callback returns; advance and finish copy theirs. */
    const char *(*batch_cursor)(const dm_batch *b);
    long long (*batch_size)(const dm_batch *b);
    int (*batch_advance)(dm_ctx *ctx, dm_batch *b, const char *new_cursor, long long rows);
    int (*batch_finish)(dm_ctx *ctx, dm_batch *b);
    int (*batch_total)(dm_ctx *ctx, dm_batch *b, long long total);
} dm_host_api;

/* The first bytes of every dm_batch the host hands a batch callback, so that
 * dm_batch_cursor(b) and dm_batch_size(b) need no ctx: the host's table
 * (which has the batch functions above). The rest of dm_batch is the host's. */
typedef struct dm_batch_head {
    uint32_t abi_version;       /* DM_ABI_VERSION of the host */
    uint32_t size;              /* sizeof(dm_batch_head) as the host knows it */
    const dm_host_api *api;
} dm_batch_head;

/* What the host hands each callback; it and its strings live until the
 * callback returns. New fields go at the end. */
struct dm_ctx {
    const dm_host_api *api;
    uint32_t size;              /* sizeof(struct dm_ctx) as the host knows it */
    const char *revision;       /* the migration being run */
    const char *bundle_dir;     /* the bundle folder: relative data paths start here */
    void *host;                 /* private to the host */
    /* ABI 1 ends here. Later fields below this line. */
};

/* Does ctx (may be NULL) reach a host table of this ABI that is at least end
 * bytes long? The test behind DM_HOST_HAS. */
static inline int dm_host_covers(const dm_ctx *ctx, size_t end)
{
    return DM_HAS_FIELD(ctx, ctx->size, struct dm_ctx, api) && ctx->api &&
           ctx->api->abi_version == DM_ABI_VERSION && ctx->api->size >= end;
}

/* Does the host have function fn of dm_host_api? DM_HOST_HAS(ctx, log).
 * False with no ctx, or a host whose table ends before fn (an older host).
 * ctx is evaluated more than once. */
#define DM_HOST_HAS(ctx, fn)                                                \
    (dm_host_covers((ctx), DM_FIELD_END(dm_host_api, fn)) && (ctx)->api->fn != NULL)

/* 0 when the host has function fn; otherwise -1 after failing the migration
 * (through the host's fail, or on stderr without one) with a message naming
 * fn and saying to upgrade delembic:
 *     if (DM_HOST_REQUIRE(ctx, progress) != 0) return -1;
 * Every SDK helper that needs a host function added after ABI 1 starts so. */
#define DM_HOST_REQUIRE(ctx, fn)                                            \
    dm_host_require((ctx), #fn, DM_FIELD_END(dm_host_api, fn), DM_HOST_HAS(ctx, fn))
int dm_host_require(dm_ctx *ctx, const char *fn, size_t end, int present);

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

/* Fail with a formatted message (cut at DM_MSG_MAX); always returns -1.
 * Without a host (ctx NULL), the message goes to stderr. */
int dm_fail(dm_ctx *ctx, const char *fmt, ...) DM_PRINTF(2, 3);

/* Fail unless cond holds: DM_CHECK(ctx, n > 0, "%lld orphans", n). */
#define DM_CHECK(ctx, cond, ...)                                            \
    do {                                                                    \
        if (!(cond))                                                        \
            return dm_fail((ctx), __VA_ARGS__);                             \
    } while (0)

/* A line for the operator (cut at DM_MSG_MAX); on stderr without a host. */
void dm_log(dm_ctx *ctx, const char *fmt, ...) DM_PRINTF(2, 3);

/* Report progress (total < 0 when unknown). The host rate-limits display.
 * Nothing happens without a host. */
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

/* Resolve a path relative to the bundle folder into buf (without a host, or
 * for an absolute path, the path as it is). */
int dm_path(dm_ctx *ctx, const char *relative, char *buf, size_t bufsize);

/* ---- batched migrations (DM_BATCHED; see LARGE DATA above) --------------
 * Where the last committed batch stopped: NULL at the start. It lives until
 * the callback returns; copy it to keep it. NULL for a NULL b. */
const char *dm_batch_cursor(const dm_batch *b);
/* How many rows to take in this call (the host adapts it toward the
 * section's batch_target seconds per batch, within batch_min..batch_max). */
long long dm_batch_size(const dm_batch *b);
/* This call did `rows` rows and the next one starts after new_cursor (copied,
 * at most DM_BATCH_CURSOR_MAX bytes; NULL keeps the cursor). Committed with
 * the call's work. Once per call: a second advance fails the migration. */
int dm_batch_advance(dm_ctx *ctx, dm_batch *b, const char *new_cursor, long long rows);
/* Nothing is left: this call's work (if any) is the last batch; validate
 * runs next. */
int dm_batch_finish(dm_ctx *ctx, dm_batch *b);
/* The planned total (rows) for progress and the time left; an estimate is
 * fine, and it may change from call to call. */
int dm_batch_total(dm_ctx *ctx, dm_batch *b, long long total);
/* The common case in one call: UPDATE table SET set_list over the next
 * dm_batch_size(b) rows in order of key_column (keyset pagination; the
 * cursor is the last key of the batch taken; integer and text keys), only
 * the rows matching where_filter (may be NULL) among them; then advance, or
 * finish when no row is left. The first call estimates the total from the
 * planner's statistics and gives it to dm_batch_total. table and key_column
 * are identifiers as SQL reads them ("measurement", "public.t", "\"Id\"");
 * the key column must be unique and NOT NULL (a primary key), and set_list
 * must leave it alone (a batch whose update moves keys out of its range
 * fails: paging would meet those rows again). */
int dm_batch_update(dm_ctx *ctx, PGconn *conn, dm_batch *b, const char *table,
                    const char *key_column, const char *set_list, const char *where_filter);
#define DM_BATCH_CURSOR_MAX 4096

#ifdef __cplusplus
}
#endif
#endif /* DELEMBIC_PLUGIN_H */
