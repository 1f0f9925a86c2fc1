/* The plugin SDK helpers. Linked statically into every migration (PIC), they
 * use libc, libpq and the host's function table in ctx, nothing else.
 *
 * Every use of the host goes through HOST_FN (a function of the table) or
 * CTX_FIELD (a field of ctx), which read only what the host's sizes cover, so
 * a plugin built with this SDK never reads past an older host's structs, and
 * a NULL ctx (a helper called outside a migration) is no host at all. A helper
 * for a host function added after ABI 1 begins with one line:
 *     if (DM_HOST_REQUIRE(ctx, fn) != 0) return -1;  */

#include "delembic/plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The host's function fn, or NULL when there is no host or its table lacks fn. */
#define HOST_FN(ctx, fn) (DM_HOST_HAS(ctx, fn) ? (ctx)->api->fn : NULL)

/* Field f of ctx, or NULL when there is no ctx or the host's ctx lacks it. */
#define CTX_FIELD(ctx, f) (DM_HAS_FIELD(ctx, (ctx)->size, struct dm_ctx, f) ? (ctx)->f : NULL)

/* Without the host: the line on stderr, prefixed with the revision if known. */
static void to_stderr(const dm_ctx *ctx, const char *msg)
{
    const char *rev = CTX_FIELD(ctx, revision);
    if (rev)
        fprintf(stderr, "%s: %s\n", rev, msg);
    else
        fprintf(stderr, "%s\n", msg);
}

static void host_fail(dm_ctx *ctx, const char *msg)
{
    void (*fail)(dm_ctx *, const char *) = HOST_FN(ctx, fail);
    if (fail)
        fail(ctx, msg);
    else
        to_stderr(ctx, msg);
}

int dm_host_require(dm_ctx *ctx, const char *fn, size_t end, int present)
{
    if (present)
        return 0;
    char msg[DM_MSG_MAX];
    const dm_host_api *api = CTX_FIELD(ctx, api);
    if (!api)
        snprintf(msg, sizeof msg, "%s() needs the delembic host, which this call does not reach (outside a migration)",
                 fn ? fn : "?");
    else if (api->abi_version != DM_ABI_VERSION)
        snprintf(msg, sizeof msg, "the host's function table is of ABI %u, this plugin's SDK of ABI %u: rebuild the plugin against this delembic's SDK",
                 api->abi_version, DM_ABI_VERSION);
    else if (api->size < end)
        snprintf(msg, sizeof msg, "this delembic's host API has no %s() (its table is %u bytes, %s() needs %zu): upgrade delembic to run this migration",
                 fn ? fn : "?", api->size, fn ? fn : "?", end);
    else
        snprintf(msg, sizeof msg, "this delembic's host API has no %s() (it is NULL in its table): upgrade delembic to run this migration",
                 fn ? fn : "?");
    host_fail(ctx, msg);
    return -1;
}

#define FORMAT_INTO(buf, fmt)                                                \
    do {                                                                     \
        va_list ap;                                                          \
        va_start(ap, fmt);                                                   \
        vsnprintf(buf, sizeof buf, fmt, ap);                                 \
        va_end(ap);                                                          \
    } while (0)

int dm_fail(dm_ctx *ctx, const char *fmt, ...)
{
    char buf[DM_MSG_MAX];
    FORMAT_INTO(buf, fmt);
    host_fail(ctx, buf);
    return -1;
}

void dm_log(dm_ctx *ctx, const char *fmt, ...)
{
    char buf[DM_MSG_MAX];
    FORMAT_INTO(buf, fmt);
    void (*log)(dm_ctx *, const char *) = HOST_FN(ctx, log);
    if (log)
        log(ctx, buf);
    else
        to_stderr(ctx, buf);
}

void dm_progress(dm_ctx *ctx, long long done, long long total, const char *unit)
{
    void (*progress)(dm_ctx *, long long, long long, const char *) = HOST_FN(ctx, progress);
    if (progress)
        progress(ctx, done, total, unit ? unit : "");
}

/* First line of a statement, shortened, to say which one failed. */
static void sql_excerpt(const char *sql, char *out, size_t outsz)
{
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r')
        sql++;
    size_t n = 0;
    while (sql[n] && sql[n] != '\n' && n < 80 && n + 4 < outsz)
        n++;
    memcpy(out, sql, n);
    if (sql[n] && n + 4 < outsz) {
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
}

/* Turn a failed result into one message: primary, detail, hint, context. */
static int fail_result(dm_ctx *ctx, PGconn *conn, const PGresult *res, const char *what)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *context = res ? PQresultErrorField(res, PG_DIAG_CONTEXT) : NULL;
    char msg[DM_MSG_MAX];
    if (!primary) {
        const char *e = PQerrorMessage(conn);
        snprintf(msg, sizeof msg, "%s: %s", what, e && *e ? e : "no result from server");
        size_t l = strlen(msg);
        while (l && msg[l - 1] == '\n')
            msg[--l] = '\0';
    } else {
        int n = snprintf(msg, sizeof msg, "%s: %s", what, primary);
        if (detail && n > 0 && (size_t)n < sizeof msg)
            n += snprintf(msg + n, sizeof msg - (size_t)n, " (%s)", detail);
        if (context && n > 0 && (size_t)n < sizeof msg)
            snprintf(msg + n, sizeof msg - (size_t)n, " [%s]", context);
        for (char *p = msg; *p; p++)
            if (*p == '\n')
                *p = ' ';
    }
    host_fail(ctx, msg);
    return -1;
}

static PGresult *run(PGconn *conn, const char *sql, int nparams, const char *const *params)
{
    if (nparams > 0)
        return PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    return PQexec(conn, sql);
}

static int ok_status(ExecStatusType st)
{
    return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY;
}

int dm_exec_params(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                   const char *const *params, long long *rows_affected)
{
    if (!conn || !sql)
        return dm_fail(ctx, "dm_exec: NULL connection or statement");
    PGresult *res = run(conn, sql, nparams, params);
    if (!res || !ok_status(PQresultStatus(res))) {
        char ex[128];
        sql_excerpt(sql, ex, sizeof ex);
        char what[160];
        snprintf(what, sizeof what, "statement failed: %s", ex);
        fail_result(ctx, conn, res, what);
        PQclear(res);
        return -1;
    }
    if (rows_affected) {
        const char *t = PQcmdTuples(res);
        *rows_affected = (t && *t) ? strtoll(t, NULL, 10) : (long long)PQntuples(res);
    }
    PQclear(res);
    return 0;
}

int dm_exec(dm_ctx *ctx, PGconn *conn, const char *sql)
{
    return dm_exec_params(ctx, conn, sql, 0, NULL, NULL);
}

static PGresult *scalar(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                        const char *const *params)
{
    if (!conn || !sql) {
        dm_fail(ctx, "dm_scalar: NULL connection or statement");
        return NULL;
    }
    PGresult *res = run(conn, sql, nparams, params);
    char ex[128];
    sql_excerpt(sql, ex, sizeof ex);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        char what[160];
        snprintf(what, sizeof what, "query failed: %s", ex);
        fail_result(ctx, conn, res, what);
        PQclear(res);
        return NULL;
    }
    if (PQntuples(res) != 1 || PQnfields(res) != 1) {
        dm_fail(ctx, "query %s returned %d rows of %d columns; a scalar needs 1 of 1", ex,
                PQntuples(res), PQnfields(res));
        PQclear(res);
        return NULL;
    }
    if (PQgetisnull(res, 0, 0)) {
        dm_fail(ctx, "query %s returned NULL", ex);
        PQclear(res);
        return NULL;
    }
    return res;
}

int dm_scalar_int_params(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                         const char *const *params, long long *out)
{
    PGresult *res = scalar(ctx, conn, sql, nparams, params);
    if (!res)
        return -1;
    const char *v = PQgetvalue(res, 0, 0);
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || end == v || *end) {
        dm_fail(ctx, "query returned '%.40s', not an integer", v);
        PQclear(res);
        return -1;
    }
    if (out)
        *out = n;
    PQclear(res);
    return 0;
}

int dm_scalar_int(dm_ctx *ctx, PGconn *conn, const char *sql, long long *out)
{
    return dm_scalar_int_params(ctx, conn, sql, 0, NULL, out);
}

int dm_scalar_text_params(dm_ctx *ctx, PGconn *conn, const char *sql, int nparams,
                          const char *const *params, char **out)
{
    PGresult *res = scalar(ctx, conn, sql, nparams, params);
    if (!res)
        return -1;
    char *s = strdup(PQgetvalue(res, 0, 0));
    PQclear(res);
    if (!s)
        return dm_fail(ctx, "out of memory");
    if (out)
        *out = s;
    else
        free(s);
    return 0;
}

int dm_scalar_text(dm_ctx *ctx, PGconn *conn, const char *sql, char **out)
{
    return dm_scalar_text_params(ctx, conn, sql, 0, NULL, out);
}

int dm_path(dm_ctx *ctx, const char *relative, char *buf, size_t bufsize)
{
    if (!relative || !buf || bufsize == 0)
        return dm_fail(ctx, "dm_path: NULL argument");
    const char *dir = CTX_FIELD(ctx, bundle_dir);
    int n;
    if (relative[0] == '/' || !dir || !*dir)
        n = snprintf(buf, bufsize, "%s", relative);
    else
        n = snprintf(buf, bufsize, "%s/%s", dir, relative);
    if (n < 0 || (size_t)n >= bufsize)
        return dm_fail(ctx, "path too long: %s", relative);
    return 0;
}

/* Append the SQL literal of s ('...' with quotes doubled, E'' for escapes). */
static int append_literal(char *buf, size_t bufsz, size_t *len, const char *s)
{
    int needs_e = strchr(s, '\\') != NULL || strchr(s, '\t') != NULL;
    char tmp[64];
    size_t t = 0;
    if (needs_e)
        tmp[t++] = 'E';
    tmp[t++] = '\'';
    for (const char *p = s; *p && t + 4 < sizeof tmp; p++) {
        if (*p == '\'') {
            tmp[t++] = '\'';
            tmp[t++] = '\'';
        } else if (*p == '\\') {
            tmp[t++] = '\\';
            tmp[t++] = '\\';
        } else if (*p == '\t') {
            tmp[t++] = '\\';
            tmp[t++] = 't';
        } else {
            tmp[t++] = *p;
        }
    }
    tmp[t++] = '\'';
    tmp[t] = '\0';
    int n = snprintf(buf + *len, bufsz - *len, "%s", tmp);
    if (n < 0 || (size_t)n >= bufsz - *len)
        return -1;
    *len += (size_t)n;
    return 0;
}

static int build_copy_sql(char *sql, size_t sz, PGconn *conn, const char *table,
                          const dm_copy_options *o)
{
    size_t len = 0;
    int n = snprintf(sql, sz, "COPY %s%s%s%s FROM STDIN WITH (FORMAT %s", table,
                     o->columns ? " (" : "", o->columns ? o->columns : "", o->columns ? ")" : "",
                     o->format == DM_COPY_TEXT ? "text" : "csv");
    (void)conn;
    if (n < 0 || (size_t)n >= sz)
        return -1;
    len = (size_t)n;
    char d[2] = {o->delimiter ? o->delimiter : (o->format == DM_COPY_TEXT ? '\t' : ','), 0};
    len += (size_t)snprintf(sql + len, sz - len, ", DELIMITER ");
    if (append_literal(sql, sz, &len, d) != 0)
        return -1;
    if (o->null_string) {
        len += (size_t)snprintf(sql + len, sz - len, ", NULL ");
        if (append_literal(sql, sz, &len, o->null_string) != 0)
            return -1;
    }
    if (o->format == DM_COPY_CSV) {
        char q[2] = {o->quote ? o->quote : '"', 0};
        len += (size_t)snprintf(sql + len, sz - len, ", HEADER %s, QUOTE ",
                                o->header ? "true" : "false");
        if (append_literal(sql, sz, &len, q) != 0)
            return -1;
    }
    n = snprintf(sql + len, sz - len, ")");
    return (n < 0 || (size_t)n >= sz - len) ? -1 : 0;
}

int dm_copy_file(dm_ctx *ctx, PGconn *conn, const char *table, const char *path,
                 const dm_copy_options *options, long long *rows)
{
    dm_copy_options defaults = {0};
    const dm_copy_options *o = options ? options : &defaults;
    if (!conn || !table || !path)
        return dm_fail(ctx, "dm_copy_file: NULL connection, table or path");
    char full[PATH_MAX];
    if (dm_path(ctx, path, full, sizeof full) != 0)
        return -1;
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dm_fail(ctx, "cannot open %s: %s", full, strerror(errno));
    /* a file of the bundle's data/: the host hashes what is streamed and
     * checks it against the manifest at the end (hosts before the trust
     * chain lack data_begin: no check here, verify and upgrade did one) */
    void *check = NULL;
    char checkmsg[DM_MSG_MAX];
    int (*data_begin)(dm_ctx *, const char *, void **, char *, size_t) = HOST_FN(ctx, data_begin);
    void (*data_update)(dm_ctx *, void *, const void *, size_t) = HOST_FN(ctx, data_update);
    int (*data_end)(dm_ctx *, void *, char *, size_t) = HOST_FN(ctx, data_end);
    if (data_begin && data_update && data_end && data_begin(ctx, full, &check, checkmsg, sizeof checkmsg) != 0) {
        close(fd);
        return dm_fail(ctx, "%s", checkmsg);
    }

    char sql[1024];
    if (build_copy_sql(sql, sizeof sql, conn, table, o) != 0) {
        close(fd);
        return dm_fail(ctx, "COPY into %s: table, columns or options too long", table);
    }
    PGresult *res = PQexec(conn, sql);
    if (!res || PQresultStatus(res) != PGRES_COPY_IN) {
        char what[256];
        snprintf(what, sizeof what, "COPY %s from %s failed", table, path);
        fail_result(ctx, conn, res, what);
        PQclear(res);
        close(fd);
        return -1;
    }
    PQclear(res);

    enum { CHUNK = 256 * 1024 };
    char *buf = malloc(CHUNK);
    if (!buf) {
        PQputCopyEnd(conn, "out of memory");
        close(fd);
        while ((res = PQgetResult(conn)))
            PQclear(res);
        return dm_fail(ctx, "out of memory");
    }
    /* progress while streaming: bytes of the file's size (so a percent and a
     * time left), or rows when its size is unknown (a pipe); rows at the end */
    struct stat st;
    long long size = (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) ? (long long)st.st_size : 0;
    long long lines = 0, sent = 0;
    const char *abort_msg = NULL;
    char errbuf[PATH_MAX + 128]; /* the path and strerror */
    for (;;) {
        ssize_t got = read(fd, buf, CHUNK);
        if (got < 0) {
            if (errno == EINTR)
                continue;
            snprintf(errbuf, sizeof errbuf, "read error on %s: %s", full, strerror(errno));
            abort_msg = errbuf;
            break;
        }
        if (got == 0)
            break;
        for (const char *p = buf, *end = buf + got; (p = memchr(p, '\n', (size_t)(end - p))); p++)
            lines++;
        if (check)
            data_update(ctx, check, buf, (size_t)got);
        if (PQputCopyData(conn, buf, (int)got) != 1) {
            abort_msg = NULL;
            break;
        }
        sent += got;
        if (size > 0 && sent <= size)
            dm_progress(ctx, sent, size, "bytes");
        else
            dm_progress(ctx, lines, -1, "rows");
    }
    free(buf);
    close(fd);
    /* not what the manifest lists: the COPY is aborted, the migration fails */
    if (check && data_end(ctx, check, checkmsg, sizeof checkmsg) != 0 && !abort_msg)
        abort_msg = checkmsg;
    PQputCopyEnd(conn, abort_msg);
    int rc = 0;
    int reported = 0;
    while ((res = PQgetResult(conn))) {
        if (PQresultStatus(res) != PGRES_COMMAND_OK && !reported) {
            char what[256];
            snprintf(what, sizeof what, "COPY %s from %s failed", table, path);
            if (abort_msg)
                dm_fail(ctx, "%s: %s", what, abort_msg);
            else
                fail_result(ctx, conn, res, what);
            rc = -1;
            reported = 1;
        } else if (rc == 0 && rows) {
            const char *t = PQcmdTuples(res);
            *rows = (t && *t) ? strtoll(t, NULL, 10) : 0;
        }
        PQclear(res);
    }
    if (rc == 0) {
        long long done = rows ? *rows : lines;
        dm_progress(ctx, done, done, "rows");
    }
    return rc;
}

/* ---- batched migrations -------------------------------------------------- */

/* The host's table as b's head gives it, when it has function fn. */
#define BATCH_FN(b, fn)                                                                            \
    (batch_api(b) && batch_api(b)->size >= DM_FIELD_END(dm_host_api, fn) ? batch_api(b)->fn : NULL)

static const dm_host_api *batch_api(const dm_batch *b)
{
    const dm_batch_head *h = (const dm_batch_head *)b;
    if (!h || h->abi_version != DM_ABI_VERSION || h->size < DM_FIELD_END(dm_batch_head, api) || !h->api ||
        h->api->abi_version != DM_ABI_VERSION)
        return NULL;
    return h->api;
}

const char *dm_batch_cursor(const dm_batch *b)
{
    const char *(*fn)(const dm_batch *) = BATCH_FN(b, batch_cursor);
    return fn ? fn(b) : NULL;
}

long long dm_batch_size(const dm_batch *b)
{
    long long (*fn)(const dm_batch *) = BATCH_FN(b, batch_size);
    return fn ? fn(b) : 0;
}

int dm_batch_advance(dm_ctx *ctx, dm_batch *b, const char *new_cursor, long long rows)
{
    if (DM_HOST_REQUIRE(ctx, batch_advance) != 0)
        return -1;
    if (!b)
        return dm_fail(ctx, "dm_batch_advance: NULL batch");
    return ctx->api->batch_advance(ctx, b, new_cursor, rows);
}

int dm_batch_finish(dm_ctx *ctx, dm_batch *b)
{
    if (DM_HOST_REQUIRE(ctx, batch_finish) != 0)
        return -1;
    if (!b)
        return dm_fail(ctx, "dm_batch_finish: NULL batch");
    return ctx->api->batch_finish(ctx, b);
}

int dm_batch_total(dm_ctx *ctx, dm_batch *b, long long total)
{
    if (DM_HOST_REQUIRE(ctx, batch_total) != 0)
        return -1;
    if (!b)
        return dm_fail(ctx, "dm_batch_total: NULL batch");
    return ctx->api->batch_total(ctx, b, total);
}

/* The planner's estimate of the rows of table that where_filter selects
 * (EXPLAIN's first line: "... rows=N ..."), or -1. */
static long long estimate_rows(dm_ctx *ctx, PGconn *conn, const char *table, const char *where_filter)
{
    size_t n = strlen(table) + (where_filter ? strlen(where_filter) : 0) + 64;
    char *sql = malloc(n);
    if (!sql)
        return -1;
    snprintf(sql, n, "EXPLAIN SELECT 1 FROM %s%s%s%s", table, where_filter ? " WHERE (" : "",
             where_filter ? where_filter : "", where_filter ? ")" : "");
    long long rows = -1;
    PGresult *res = PQexec(conn, sql);
    free(sql);
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) > 0) {
        const char *line = PQgetvalue(res, 0, 0);
        const char *at = strstr(line, " rows=");
        if (at)
            rows = strtoll(at + 6, NULL, 10);
    } else {
        char what[128];
        snprintf(what, sizeof what, "dm_batch_update: estimating the rows of %.40s", table);
        fail_result(ctx, conn, res, what);
        rows = -2;
    }
    PQclear(res);
    return rows;
}

int dm_batch_update(dm_ctx *ctx, PGconn *conn, dm_batch *b, const char *table,
                    const char *key_column, const char *set_list, const char *where_filter)
{
    if (!conn || !b || !table || !*table || !key_column || !*key_column || !set_list || !*set_list)
        return dm_fail(ctx, "dm_batch_update: NULL connection, batch, table, key column or SET list");
    if (DM_HOST_REQUIRE(ctx, batch_total) != 0)
        return -1;
    const char *cursor = dm_batch_cursor(b);
    long long size = dm_batch_size(b);
    if (size < 1)
        return dm_fail(ctx, "dm_batch_update: batch size %lld; the host gives at least 1", size);
    if (!cursor) { /* the first call: the planned total, for progress */
        long long total = estimate_rows(ctx, conn, table, where_filter);
        if (total == -2)
            return -1;
        if (total >= 0 && dm_batch_total(ctx, b, total) != 0)
            return -1;
    }
    /* keyset: the last of the next `size` keys after the cursor (in key
     * order, those the filter selects), then one range update up to it, both
     * bounds given as values so that the planner sees the range; the new
     * cursor is the last key taken */
    const char *f = where_filter ? where_filter : "true";
    size_t n = strlen(table) + 5 * strlen(key_column) + strlen(set_list) + strlen(f) + 320;
    char *sql = malloc(n);
    if (!sql)
        return dm_fail(ctx, "out of memory");
    char limit[32];
    snprintf(limit, sizeof limit, "%lld", size);
    const char *params[3] = {limit, cursor, NULL};
    snprintf(sql, n, "SELECT max(k)::text, count(*) FROM (SELECT %s AS k FROM %s WHERE (%s)%s%s%s ORDER BY %s LIMIT $1) s",
             key_column, table, f, cursor ? " AND " : "", cursor ? key_column : "", cursor ? " > $2" : "", key_column);
    PGresult *res = PQexecParams(conn, sql, cursor ? 2 : 1, NULL, params, NULL, NULL, 0);
    char what[128];
    snprintf(what, sizeof what, "dm_batch_update of %.40s", table);
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        fail_result(ctx, conn, res, what);
        PQclear(res);
        free(sql);
        return -1;
    }
    long long taken = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
    char *last = taken > 0 ? strdup(PQgetvalue(res, 0, 0)) : NULL;
    PQclear(res);
    if (taken > 0 && !last) {
        free(sql);
        return dm_fail(ctx, "out of memory");
    }
    long long rows = 0;
    if (taken > 0) {
        /* $1 the last key, $2 the cursor (the first batch has none) */
        params[0] = last;
        /* and how many rows the SET list moved out of the batch's range by
         * changing their key: paging would meet them again, for ever */
        snprintf(sql, n,
                 "WITH u AS (UPDATE %s SET %s WHERE (%s) AND %s <= $1%s%s%s RETURNING %s AS k)"
                 " SELECT count(*), count(*) FILTER (WHERE NOT (k <= $1%s)) FROM u",
                 table, set_list, f, key_column, cursor ? " AND " : "", cursor ? key_column : "",
                 cursor ? " > $2" : "", key_column, cursor ? " AND k > $2" : "");
        res = PQexecParams(conn, sql, cursor ? 2 : 1, NULL, params, NULL, NULL, 0);
        if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
            fail_result(ctx, conn, res, what);
            PQclear(res);
            free(sql);
            free(last);
            return -1;
        }
        rows = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
        long long moved = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        PQclear(res);
        if (moved > 0) {
            free(sql);
            free(last);
            return dm_fail(ctx, "dm_batch_update of %.40s: the SET list changed the key column %.40s of %lld row(s), moving them out of this batch's range; a batched update must leave its key alone (it would page over them again); its work was rolled back",
                           table, key_column, moved);
        }
    }
    free(sql);
    int rc = 0;
    if (taken > 0)
        rc = dm_batch_advance(ctx, b, last, rows);
    free(last);
    if (rc == 0 && taken < size) /* fewer keys than asked: none is left after them */
        rc = dm_batch_finish(ctx, b);
    return rc;
}
