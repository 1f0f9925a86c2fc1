#include "worker.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libpq-events.h>

#include "datafiles.h"
#include "db.h"
#include "loader.h"
#include "pqguard.h"
#include "store.h"
#include "store_session.h"
#include "term.h"
#include "txwatch.h"

int worker_send(int fd, const wmsg *m)
{
    for (;;) {
        ssize_t w = send(fd, m, sizeof *m, MSG_NOSIGNAL);
        if (w == (ssize_t)sizeof *m)
            return 0;
        if (w < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

int worker_recv(int fd, wmsg *m)
{
    for (;;) {
        ssize_t r = recv(fd, m, sizeof *m, 0);
        if (r == (ssize_t)sizeof *m)
            return 1;
        if (r == 0)
            return 0;
        if (r < 0 && errno == EINTR)
            continue;
        return -1;
    }
}

/* ---- inside the worker ------------------------------------------------- */

static PGcancel *volatile g_cancel;
static volatile sig_atomic_t g_interrupted;
/* The worker process itself: the only one that may continue in host code. */
static pid_t g_worker_pid;

/* A process forked by plugin code that comes back into the host (returns
 * from a callback, calls the host's API) ends here at once: no atexit
 * handlers, no PQfinish, nothing on the worker's socket or connection. Its
 * exit status follows the callback's verdict, for a plugin that waits for it. */
#define STRAY_EXIT_FAILED 1
static void stray_check(int rc)
{
    if (getpid() == g_worker_pid)
        return;
    static const char msg[] = "delembic: a process forked by a migration came back into the host and was"
                              " ended; only the worker continues (end a forked child with _exit)\n";
    ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(rc == 0 ? 0 : STRAY_EXIT_FAILED);
}

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
    PGcancel *c = g_cancel;
    if (c) {
        char buf[256];
        PQcancel(c, buf, sizeof buf);
    }
}

_Static_assert(DM_MSG_MAX == DEL_MSG_MAX, "the SDK's message size is the host's");

/* A batched migration's state as its batch callback sees it (plugin.h's
 * dm_batch: the head first, so the SDK reaches the host's functions from b
 * alone). One call: cursor and size in; what advance and finish say out. */
struct dm_batch {
    dm_batch_head head;
    const char *cursor;      /* where the call starts; NULL at the start */
    long long size;          /* rows to take */
    char *next_cursor;       /* dm_batch_advance's copy (NULL: unchanged) */
    long long rows;          /* rows the call did */
    long long total;         /* dm_batch_total's, -1: none */
    int advanced, finished;
};

typedef struct wctx {
    int fd;
    int index;
    dm_batch *batch;    /* the batch of the running batch call, or NULL */
    const char *url;    /* the run's database: its password is masked in messages */
    char fail[DEL_MSG_MAX];
    double last_progress;
    const manifest *mf; /* the bundle's: its data files */
} wctx;

/* text with every password masked (db_redact_text: URLs, password=, and the
 * run's own password wherever it appears), its trailing newlines dropped
 * (libpq ends its messages with one), into buf */
static void redact_into(char *buf, size_t n, const char *text, const char *url)
{
    char *red = db_redact_text(text, url);
    size_t len = strlen(red);
    while (len && (red[len - 1] == '\n' || red[len - 1] == '\r'))
        red[--len] = '\0';
    snprintf(buf, n, "%s", red);
    free(red);
}

/* Every message of a worker reaches the parent through here: what plugins,
 * libpq and the server say is masked before it is printed, put in JSON or
 * recorded. */
static int send_text(int fd, wmsg *m, const char *url)
{
    if (m->text[0]) {
        char *red = db_redact_text(m->text, url);
        snprintf(m->text, sizeof m->text, "%s", red);
        free(red);
    }
    return worker_send(fd, m);
}

static void api_fail(dm_ctx *ctx, const char *message)
{
    stray_check(STRAY_EXIT_FAILED);
    wctx *w = ctx->host;
    redact_into(w->fail, sizeof w->fail, message ? message : "failed", w->url);
}

static void api_log(dm_ctx *ctx, const char *message)
{
    stray_check(STRAY_EXIT_FAILED);
    wctx *w = ctx->host;
    wmsg m = {.type = WMSG_LOG, .index = w->index};
    redact_into(m.text, sizeof m.text, message ? message : "", w->url);
    worker_send(w->fd, &m);
}

static void api_progress(dm_ctx *ctx, long long done, long long total, const char *unit)
{
    stray_check(STRAY_EXIT_FAILED);
    wctx *w = ctx->host;
    double now = monotonic_seconds();
    if (now - w->last_progress < 0.2 && !(total >= 0 && done >= total))
        return;
    w->last_progress = now;
    wmsg m = {.type = WMSG_PROGRESS, .index = w->index, .done = done, .total = total};
    snprintf(m.text, sizeof m.text, "%s", unit ? unit : "");
    send_text(w->fd, &m, w->url);
}

/* The data files of the trust chain (datafiles.h): the SDK streams a file
 * of the bundle's data/ through these. */
static int api_data_begin(dm_ctx *ctx, const char *path, void **check, char *msg, size_t msgsize)
{
    stray_check(STRAY_EXIT_FAILED);
    wctx *w = ctx->host;
    del_err e;
    datafiles_stream *s = NULL;
    *check = NULL;
    if (!path || datafiles_stream_begin(ctx->bundle_dir, w->mf, path, &s, &e) != 0) {
        snprintf(msg, msgsize, "%s", path ? e.msg : "data_begin: no path");
        return -1;
    }
    *check = s;
    return 0;
}

static void api_data_update(dm_ctx *ctx, void *check, const void *buf, size_t n)
{
    (void)ctx;
    datafiles_stream_update(check, buf, n);
}

static int api_data_end(dm_ctx *ctx, void *check, char *msg, size_t msgsize)
{
    (void)ctx;
    del_err e;
    if (datafiles_stream_end(check, &e) != 0) {
        snprintf(msg, msgsize, "%s", e.msg);
        return -1;
    }
    return 0;
}

/* ---- the batch functions of the host API (plugin.h) ---------------------- */

static const char *api_batch_cursor(const dm_batch *b)
{
    stray_check(STRAY_EXIT_FAILED);
    return b ? b->cursor : NULL;
}

static long long api_batch_size(const dm_batch *b)
{
    stray_check(STRAY_EXIT_FAILED);
    return b ? b->size : 0;
}

/* the batch of the running call, or -1 after failing the migration */
static int batch_of(dm_ctx *ctx, dm_batch *b, const char *fn)
{
    wctx *w = ctx->host;
    if (!w->batch || b != w->batch) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s: called with a batch that is not the running call's (only a batch callback may call it, with its own b)", fn);
        api_fail(ctx, msg);
        return -1;
    }
    return 0;
}

static int api_batch_advance(dm_ctx *ctx, dm_batch *b, const char *new_cursor, long long rows)
{
    stray_check(STRAY_EXIT_FAILED);
    if (batch_of(ctx, b, "dm_batch_advance") != 0)
        return -1;
    char msg[200];
    if (b->finished)
        snprintf(msg, sizeof msg, "dm_batch_advance after dm_batch_finish in the same call");
    else if (b->advanced)
        snprintf(msg, sizeof msg, "dm_batch_advance called twice in one call; call it once, with the cursor and all the rows of the call");
    else if (rows < 0)
        snprintf(msg, sizeof msg, "dm_batch_advance: rows is %lld; give the rows this call did (0 or more)", rows);
    else if (new_cursor && strnlen(new_cursor, DM_BATCH_CURSOR_MAX + 1) > DM_BATCH_CURSOR_MAX)
        snprintf(msg, sizeof msg, "dm_batch_advance: the cursor is longer than %d bytes (DM_BATCH_CURSOR_MAX)",
                 DM_BATCH_CURSOR_MAX);
    else
        msg[0] = '\0';
    if (!msg[0] && new_cursor) {
        char *valid = utf8_valid(new_cursor);
        if (strcmp(valid, new_cursor) != 0)
            snprintf(msg, sizeof msg, "dm_batch_advance: the cursor is not UTF-8 text; give a key as text");
        free(valid);
    }
    if (msg[0]) {
        api_fail(ctx, msg);
        return -1;
    }
    if (new_cursor) {
        free(b->next_cursor);
        b->next_cursor = xstrdup(new_cursor);
    }
    b->rows += rows;
    b->advanced = 1;
    return 0;
}

static int api_batch_finish(dm_ctx *ctx, dm_batch *b)
{
    stray_check(STRAY_EXIT_FAILED);
    if (batch_of(ctx, b, "dm_batch_finish") != 0)
        return -1;
    b->finished = 1;
    return 0;
}

static int api_batch_total(dm_ctx *ctx, dm_batch *b, long long total)
{
    stray_check(STRAY_EXIT_FAILED);
    if (batch_of(ctx, b, "dm_batch_total") != 0)
        return -1;
    b->total = total < 0 ? -1 : total;
    return 0;
}

static const dm_host_api host_api = {
    .abi_version = DM_ABI_VERSION,
    .size = sizeof(dm_host_api),
    .fail = api_fail,
    .log = api_log,
    .progress = api_progress,
    .data_begin = api_data_begin,
    .data_update = api_data_update,
    .data_end = api_data_end,
    .batch_cursor = api_batch_cursor,
    .batch_size = api_batch_size,
    .batch_advance = api_batch_advance,
    .batch_finish = api_batch_finish,
    .batch_total = api_batch_total,
};

/* The session's SQL (the guard, the open and commit statements, the reset):
 * store_session.h. Prepared statements, LISTEN, held cursors and temporary
 * objects are looked for only when the migration's commands could have left
 * them (below); then the session is reset in full (DISCARD ALL), as after
 * any failure. */

/* Every result a plugin's commands produce on the worker's connection passes
 * through the worker's libpq event procedure (whatever libpq call the plugin
 * used), and so does a PQreset of it:
 *  - what the plugin did to the host's transaction, and whether anything may
 *    have committed outside it (txwatch.h);
 *  - a command that can leave session state the commit does not undo makes
 *    the next transaction open with the checked form: PREPARE, LISTEN,
 *    DECLARE (a cursor WITH HOLD), protocol-level Parse (an untagged result),
 *    and DO or CALL (their code could PREPARE or LISTEN); what a function
 *    called from a plain SELECT does there is not seen;
 *  - DEALLOCATE or DISCARD: the host's prepared statements (or its guard) may
 *    be gone, so they are made again before the record needs them;
 *  - a PQreset gives the worker another server session: its new backend is
 *    told to the parent at once (the parent only ever terminates the worker's
 *    current session), and the worker ends after reporting the migration. */
typedef struct session_watch {
    txwatch tx;
    int active;          /* a plugin callback runs */
    int fd;              /* the parent's socket */
    int backend_pid;     /* the worker's server session, as the parent knows it */
    long long backend_key;
    char sqlstate[6];    /* of the last server error a plugin's command met ("": none) */
} session_watch;

/* The worker's mutable state, one per worker process, passed explicitly to
 * what reads or changes it (the signal flag and the PGcancel pointer that
 * the signal handler uses stay file-scope, above). */
typedef struct prefetch {
    int index;
    loaded_plugin lp;
    char sha[65];
} prefetch;

typedef struct wstate {
    session_watch watch;     /* what plugin callbacks did to the session */
    /* session_authorization as the server reported it at connection (it
     * reports every change) */
    char session_auth[128];
    /* What the parent said about what follows the running migration: the
     * likely next one (to prefetch) and the one this worker may start by
     * itself after a success (-1: wait for the parent). NEXT messages update
     * them mid-run. */
    int hint, then, current;
    /* A transaction opened (BEGIN + guard row) for the next migration, its
     * id and the catalog dependencies counted then; whether the session may
     * hold what a plugin left (after anything but a committed migration, or
     * when the plugin left prepared statements: then it is reset in full
     * before the next one); whether the last migration created objects (then
     * temporary ones are looked for before the next). */
    int open, open_index; /* open_index: the migration it was opened (claimed) for, or -1 */
    long long open_xid, open_deps;
    int dirty, check_temp;
    /* The migration the parent expects this worker to run next, verified and
     * loaded while the server flushes the current commit (the client would
     * otherwise sit idle). If the parent sends another one, it is unloaded. */
    prefetch pre;
} wstate;



/* The worker's session, told to the parent (HELLO, or BACKEND after a
 * reset): its server pid and a key from its start time, so that the parent
 * never terminates a pid that another session took since. */
static long long backend_key(PGconn *conn, const char *before)
{
    char *sql = store_backend_key_sql(before);
    PGresult *r = PQexec(conn, sql);
    free(sql);
    long long key = 0;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        key = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return key;
}

static void refresh_cancel(PGconn *conn)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &old);
    PGcancel *prev = g_cancel;
    g_cancel = PQgetCancel(conn);
    sigprocmask(SIG_SETMASK, &old, NULL);
    PQfreeCancel(prev);
}

static int plugin_result(PGEventId id, void *info, void *pass)
{
    session_watch *sw = pass;
    if (id == PGEVT_CONNRESET) {
        /* a new session, outside the host's transaction: read-only like the
         * worker's own (so the plugin's retry cannot commit), and told to the
         * parent at once, so that it never terminates the old pid */
        PGconn *conn = ((PGEventConnReset *)info)->conn;
        int active = sw->active;
        sw->active = 0;
        sw->backend_key = backend_key(conn, STORE_SESSION_READ_ONLY);
        sw->active = active;
        const char *ro = PQparameterStatus(conn, "default_transaction_read_only");
        txwatch_reset(&sw->tx, sw->backend_key && ro && !strcmp(ro, "on"));
        sw->backend_pid = PQbackendPID(conn);
        refresh_cancel(conn);
        wmsg m = {.type = WMSG_BACKEND, .status = sw->backend_pid, .backend_key = sw->backend_key};
        worker_send(sw->fd, &m);
        return 1;
    }
    if (id != PGEVT_RESULTCREATE || !sw->active)
        return 1;
    const PGEventResultCreate *e = info;
    const char *ro = PQparameterStatus(e->conn, "default_transaction_read_only");
    if (ro && strcmp(ro, "on") != 0)
        txwatch_read_write(&sw->tx);
    const PGresult *r = e->result;
    switch (PQresultStatus(r)) {
    case PGRES_COMMAND_OK:
    case PGRES_TUPLES_OK:
        txwatch_ok(&sw->tx, PQcmdStatus((PGresult *)r));
        break;
    case PGRES_FATAL_ERROR:
        /* the server's refusals only (libpq's own errors leave no SQLSTATE) */
        if (PQresultErrorField(r, PG_DIAG_SQLSTATE)) {
            txwatch_error(&sw->tx, PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY));
            snprintf(sw->sqlstate, sizeof sw->sqlstate, "%s", PQresultErrorField(r, PG_DIAG_SQLSTATE));
        }
        break;
    default: /* a COPY in progress, single rows, pipeline markers */
        break;
    }
    return 1;
}

/* Append a, b and c to buf (of size n), cutting what does not fit. */
static void append_text(char *buf, size_t n, const char *a, const char *b, const char *c)
{
    size_t len = strnlen(buf, n);
    const char *parts[] = {a, b, c};
    for (size_t k = 0; k < 3; k++)
        for (const char *p = parts[k]; *p && len + 1 < n; p++)
            buf[len++] = *p;
    if (len < n)
        buf[len] = '\0';
}

static void set_msg(wmsg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_msg(wmsg *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->text, sizeof m->text, fmt, ap);
    va_end(ap);
}

static void rollback(PGconn *conn)
{
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, STORE_ROLLBACK));
}

static void last_error(PGconn *conn, char *buf, size_t n)
{
    db_result_message(conn, NULL, buf, n);
}

/* The plugin left the host's transaction (txwatch says how): what to say,
 * and whether its migration is held (m->hold). */
static void left_message(const txwatch *tx, const char *what, wmsg *m)
{
    m->hold = tx->may_commit;
    if (tx->reset && tx->may_commit)
        set_msg(m, "the migration reset the host's connection (PQreset), then ran commands that may have committed on their own in the new session; the work before the reset was rolled back. Check its data before running it again");
    else if (tx->reset)
        set_msg(m, "the migration reset the host's connection (PQreset); its work was rolled back");
    else if (tx->may_commit)
        set_msg(m, "%s left the host's transaction (%s) and ran commands that may have committed on their own (autocommitted, or in a transaction of its own); the rest was rolled back. COMMIT or ROLLBACK inside a migration is not allowed; check its data before running it again",
                what, tx->ended_by);
    else
        set_msg(m, "%s ended the host's transaction (%s): COMMIT or ROLLBACK inside a migration is not allowed; its work was rolled back",
                what, tx->ended_by);
}

/* After a callback that returned rc: did the plugin leave the transaction
 * as it found it? */
static int check_txn(wstate *ws, PGconn *conn, const char *what, int rc, wctx *w, wmsg *m)
{
    PGTransactionStatusType ts = PQtransactionStatus(conn);
    if (ts == PQTRANS_IDLE)
        txwatch_idle(&ws->watch.tx);
    if (ws->watch.tx.outside) {
        left_message(&ws->watch.tx, what, m);
        if (w->fail[0]) /* what the plugin said, too (cut to fit) */
            append_text(m->text, sizeof m->text, " (the migration said: ", w->fail, ")");
        return -1;
    }
    if (rc != 0) {
        if (w->fail[0])
            set_msg(m, "%s", w->fail);
        else
            set_msg(m, "%s returned %d", what, rc);
        return -1;
    }
    if (ts == PQTRANS_INTRANS)
        return 0;
    char e[1024];
    last_error(conn, e, sizeof e);
    if (ts == PQTRANS_INERROR)
        set_msg(m, "%s: a statement failed and the migration went on (%s); check the result of every dm_exec",
                what, w->fail[0] ? w->fail : e);
    else
        set_msg(m, "%s: the connection is broken: %s", what, e);
    return -1;
}

/* cb, or the batch callback bcb with b */
static int run_callback(wstate *ws, dm_callback cb, dm_batch_callback bcb, dm_batch *b, const char *what,
                        PGconn *conn, dm_ctx *ctx, wctx *w, wmsg *m)
{
    w->fail[0] = '\0';
    ws->watch.sqlstate[0] = '\0';
    pqguard_refused();
    ws->watch.active = 1;
    int rc = bcb ? bcb(conn, ctx, b) : cb(conn, ctx);
    stray_check(rc);
    ws->watch.active = 0;
    if (pqguard_refused() > 0) {
        set_msg(m, "the migration closed the host's connection (PQfinish); its work was rolled back");
        return -1;
    }
    if (g_interrupted) {
        set_msg(m, "interrupted");
        return -1;
    }
    return check_txn(ws, conn, what, rc, w, m);
}

/* One round trip opens the transaction: BEGIN, the per-migration timeouts,
 * and the guard row whose deferred trigger refuses a COMMIT the host did not
 * allow (with the session check: store_session.h). */
static char *begin_sql(const worker_cfg *cfg, int checked, const char *revision, const char *lock_timeout)
{
    return store_begin_sql(cfg->statement_timeout, lock_timeout, checked, revision);
}

/* One round trip closes it: the session reset, the success record (which
 * refuses when the transaction is not the one opened, when the run lost its
 * lock, or when another run recorded a success; else it allows the commit),
 * and COMMIT, which never runs when the record raised. */
static char *commit_sql(wstate *ws, PGconn *conn, const worker_cfg *cfg, const char *rev, double started,
                        double ended, const char *checksum, long long xid, const char *open_next, int mode)
{
    char *rec = cfg->downgrade ? store_unrecord_sql(rev, started, ended, checksum, xid)
                               : store_record_sql(rev, started, ended, checksum, xid);
    /* when another migration is expected, its transaction opens in the same
     * round trip (after COMMIT, so nothing of it can reach this one) */
    char *next = open_next ? begin_sql(cfg, ws->watch.tx.suspect, open_next, cfg->lock_timeout) : NULL;
    const char *auth = PQparameterStatus(conn, "session_authorization");
    int auth_changed = auth && strcmp(auth, ws->session_auth) != 0;
    /* a batched or non-transactional migration's checkpoint goes with its record */
    char *cp = mode != DM_TRANSACTIONAL && !cfg->downgrade ? store_checkpoint_delete_sql(cfg->schema, rev) : NULL;
    if (cp) {
        char *both = xasprintf("%s;%s", cp, rec);
        free(rec);
        rec = both;
    }
    char *sql = store_commit_sql(auth_changed, rec, next);
    free(cp);
    free(rec);
    free(next);
    return sql;
}

static void read_next_messages(wstate *ws, int fd)
{
    wmsg in;
    while (recv(fd, &in, sizeof in, MSG_DONTWAIT) == (ssize_t)sizeof in)
        if (in.type == WMSG_NEXT && in.index == ws->current) {
            ws->hint = in.status;
            ws->then = in.then;
        }
}


/* The session objects of the host: the guard and the prepared statements. */
static int session_setup(PGconn *conn, const worker_cfg *cfg, char *msg, size_t msgsz)
{
    char *sql = store_session_setup_sql(cfg->schema, &cfg->token, cfg->downgrade);
    int rc = 0;
    PGresult *r = PQexec(conn, sql);
    free(sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        db_result_message(conn, r, msg, msgsz);
        rc = -1;
    }
    PQclear(r);
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, STORE_ROLLBACK));
    return rc;
}

/* What a plugin left in the session, all of it: DISCARD ALL (which runs alone,
 * outside any transaction), then the host's own objects again. */
static int session_reset(wstate *ws, PGconn *conn, const worker_cfg *cfg, char *msg, size_t msgsz)
{
    if (PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, STORE_ROLLBACK));
    PGresult *r = PQexec(conn, STORE_DISCARD_ALL);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!ok)
        db_result_message(conn, r, msg, msgsz);
    PQclear(r);
    if (!ok || session_setup(conn, cfg, msg, msgsz) != 0)
        return -1;
    ws->dirty = ws->check_temp = ws->watch.tx.suspect = 0;
    return 0;
}

/* In the open transaction: did the last migration leave temporary objects? */
static int temp_objects_left(wstate *ws, PGconn *conn)
{
    PGresult *r = PQexec(conn, STORE_TEMP_CHECK_SQL);
    int left = !r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
               strcmp(PQgetvalue(r, 0, 0), "f") != 0;
    PQclear(r);
    ws->check_temp = 0;
    return left;
}

/* Open the migration's transaction in its own round trip, from a clean
 * session; 0 and its id, or -1 and why. */
static int open_transaction(wstate *ws, PGconn *conn, const worker_cfg *cfg, const char *revision,
                            const char *lock_timeout, long long *xid, char *msg, size_t msgsz)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (ws->dirty && session_reset(ws, conn, cfg, msg, msgsz) != 0)
            return -1;
        char *sql = begin_sql(cfg, ws->watch.tx.suspect, revision, lock_timeout);
        PGresult *r = PQexec(conn, sql);
        free(sql);
        int dirty = 0;
        if (store_open_result(r, xid, &ws->open_deps, &dirty) != 0) {
            db_result_message(conn, r, msg, msgsz);
            PQclear(r);
            return -1;
        }
        PQclear(r);
        ws->watch.tx.suspect = 0; /* the checked form answered */
        if (!dirty && !(ws->check_temp && temp_objects_left(ws, conn)))
            return 0;
        ws->dirty = 1; /* left over by the previous migration: reset, open again */
    }
    snprintf(msg, msgsz, "the worker's session could not be made clean");
    return -1;
}


/* A PQfinish of the host's connection that pqguard refused while the plugin
 * of migration index was loaded or unloaded (a constructor or destructor,
 * outside any callback): the operator hears of it, naming the revision. */
static void warn_refused(wstate *ws, int index)
{
    if (pqguard_refused() == 0 || index < 0)
        return;
    wmsg m = {.type = WMSG_LOG, .index = index};
    set_msg(&m, "WARNING: its plugin called PQfinish on the host's connection while it was being loaded or unloaded (a constructor or destructor); refused: the connection belongs to the host");
    worker_send(ws->watch.fd, &m);
}

static void unload(wstate *ws, loaded_plugin *lp, int index)
{
    int had = lp->handle != NULL;
    loader_unload(lp);
    if (had)
        warn_refused(ws, index);
}

static void prefetch_drop(wstate *ws)
{
    unload(ws, &ws->pre.lp, ws->pre.index);
    ws->pre.index = -1;
}

/* Verify (through one open descriptor), load with the libraries it needs,
 * and check migration index, from the bundle the run started with, wherever
 * a build moved it since (bundle_path). */
static int load_verified(wstate *ws, const worker_cfg *cfg, int index, loaded_plugin *lp, char sha[65],
                         del_err *err)
{
    const mentry *e = &cfg->b->mf.m[index];
    int rc = -1;
    /* a build may swap the bundle folder while we read it: then once more,
     * from where the kept folder went */
    for (int attempt = 0; attempt < 2 && rc != 0; attempt++) {
        char buf[PATH_MAX], after[PATH_MAX];
        const char *dir = bundle_path(cfg->b, buf);
        char *path = path_join(dir, e->file);
        rc = loader_load_verified(dir, &cfg->b->mf, e->file, e->sha256, lp, sha, err);
        stray_check(rc); /* a constructor that forked */
        warn_refused(ws, index);
        if (rc == 0 && (rc = loader_match_manifest(lp->desc, e, path, err)) != 0)
            loader_unload(lp);
        free(path);
        if (rc == 0 || strcmp(bundle_path(cfg->b, after), dir) == 0)
            break;
    }
    if (rc != 0 && bundle_replaced(cfg->b)) /* the kept folder is gone (by hand, an older build) */
        del_fail(err, DEL_KIND_DATABASE, "%s: the bundle was replaced or removed while this run used it, and its %s is not the one the run started with; nothing of the new bundle ran. Run upgrade again",
                 cfg->b->dir, e->file);
    return rc;
}

static void prefetch_load(wstate *ws, const worker_cfg *cfg, int index)
{
    prefetch_drop(ws);
    del_err err;
    if (index >= 0 && (size_t)index < cfg->b->mf.n &&
        load_verified(ws, cfg, index, &ws->pre.lp, ws->pre.sha, &err) == 0)
        ws->pre.index = index; /* on failure, run_one checks again and reports it */
}

/* Send the commit; while the server flushes it, unload the finished plugin
 * and prefetch the next one; then read the result. deps: the catalog
 * dependencies counted when the transaction opened. */
static int commit(wstate *ws, PGconn *conn, const char *sql, const worker_cfg *cfg, loaded_plugin *done,
                  int index, long long deps, char *msg, size_t msgsz, store_record_error *why)
{
    msg[0] = '\0';
    *why = STORE_RECORD_OTHER;
    if (!PQsendQuery(conn, sql)) {
        db_result_message(conn, NULL, msg, msgsz);
        return -1;
    }
    unload(ws, done, index);
    prefetch_load(ws, cfg, ws->hint);
    int ok = 0, dirty = 0, created = 0;
    PGresult *r;
    ws->open_xid = -1;
    while ((r = PQgetResult(conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (ok && st == PGRES_TUPLES_OK && store_open_result(r, &ws->open_xid, &ws->open_deps, &dirty) != 0)
            ws->open_xid = -1; /* the next transaction's guard row */
        if (!ok && st == PGRES_TUPLES_OK && PQnfields(r) == 2) /* the record */
            created = strtoll(PQgetvalue(r, 0, 1), NULL, 10) > deps;
        if (!ok && st == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT"))
            ok = 1;
        else if (!ok && st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !msg[0]) {
            db_result_message(conn, r, msg, msgsz);
            *why = store_record_error_of(r, cfg->downgrade);
        }
        PQclear(r);
    }
    if (!ok && !msg[0])
        snprintf(msg, msgsz, "the commit did not happen (the transaction was aborted)");
    ws->dirty = !ok || dirty;
    ws->check_temp = ok && created;
    if (ok && ws->open_xid > 0)
        ws->watch.tx.suspect = 0; /* the next transaction opened with the checked form if needed */
    /* the next transaction, if one was opened after the COMMIT from a clean session */
    ws->open = ok && !dirty && PQtransactionStatus(conn) == PQTRANS_INTRANS && ws->open_xid > 0;
    if (ws->open && ws->check_temp && temp_objects_left(ws, conn)) {
        ws->open = 0;
        ws->dirty = 1;
    }
    if (ok && !ws->open && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, STORE_ROLLBACK)); /* the next one failed to open or needs a reset */
    return ok ? 0 : -1;
}

/* In the migration's transaction, after it ran DEALLOCATE or DISCARD: the
 * record statement is prepared again if it is gone (prepared statements
 * are not transactional). */
static int ensure_record(PGconn *conn, const worker_cfg *cfg, char *msg, size_t msgsz)
{
    PGresult *r = PQexec(conn, store_record_prepared_sql(cfg->downgrade));
    int rc = 0;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_result_message(conn, r, msg, msgsz);
        rc = -1;
    } else if (PQntuples(r) == 0) {
        char *rec = cfg->downgrade ? store_prepare_unrecord_sql(cfg->schema, &cfg->token)
                                   : store_prepare_record_sql(cfg->schema, &cfg->token);
        PQclear(r);
        r = PQexec(conn, rec);
        free(rec);
        if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
            db_result_message(conn, r, msg, msgsz);
            rc = -1;
        }
    }
    PQclear(r);
    return rc;
}

/* The transaction the previous commit opened was claimed for another
 * migration than the one that runs in it: claim this one instead. */
static int retarget_claim(PGconn *conn, const worker_cfg *cfg, const char *revision)
{
    char *sql = store_claim_retarget_sql(cfg->schema, revision);
    PGresult *r = PQexec(conn, sql);
    free(sql);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(PQcmdTuples(r), "1");
    PQclear(r);
    return ok ? 0 : -1;
}

/* ---- batched and non-transactional migrations (plugin.h, LARGE DATA) ---- */

/* lock_not_available: a statement waited longer than lock_timeout */
#define SQLSTATE_LOCK_TIMEOUT "55P03"
/* how often a batched migration tells its progress, at most (and after its last batch) */
#define BATCH_PROGRESS_EVERY_S 0.2

/* Sleep seconds, less when SIGINT/SIGTERM arrives (the handlers do not
 * restart system calls): 0, or -1 when interrupted. */
static int nap(double seconds)
{
    double end = monotonic_seconds() + seconds;
    while (!g_interrupted) {
        double left = end - monotonic_seconds();
        if (left <= 0)
            return 0;
        struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return -1;
}

static void send_line(int fd, int type, int index, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void send_line(int fd, int type, int index, const char *fmt, ...)
{
    wmsg m = {.type = type, .index = index};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.text, sizeof m.text, fmt, ap);
    va_end(ap);
    worker_send(fd, &m);
}

/* Send a round trip that ends with COMMIT and read every result: 0 when
 * the COMMIT happened, else -1 and the first error in msg. */
static int commit_round(PGconn *conn, const char *sql, char *msg, size_t msgsz, store_record_error *why)
{
    msg[0] = '\0';
    *why = STORE_RECORD_OTHER;
    if (!PQsendQuery(conn, sql)) {
        db_result_message(conn, NULL, msg, msgsz);
        return -1;
    }
    int ok = 0;
    PGresult *r;
    while ((r = PQgetResult(conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_COMMAND_OK && !strcmp(PQcmdStatus(r), "COMMIT"))
            ok = 1;
        else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !msg[0]) {
            db_result_message(conn, r, msg, msgsz);
            *why = store_record_error_of(r, 0);
        }
        PQclear(r);
    }
    if (!ok && !msg[0])
        snprintf(msg, msgsz, "the commit did not happen (the transaction was aborted)");
    return ok ? 0 : -1;
}

/* A refused commit of a batch or claim, in m. */
static void commit_refused(wmsg *m, const char *msg, store_record_error why)
{
    if (why == STORE_RECORD_LOST_LOCK) {
        m->status = WRES_LOST_LOCK;
        set_msg(m, "the run lost its lock (its lock session was terminated); rolled back");
    } else if (why == STORE_RECORD_GUARD_MISSING) {
        m->status = WRES_FAILED;
        set_msg(m, "the migration ended the host's transaction and began another (COMMIT or ROLLBACK inside a migration is not allowed); its work was rolled back");
    } else {
        m->status = g_interrupted ? WRES_PAUSED : WRES_FAILED;
        set_msg(m, "%s", g_interrupted ? "interrupted" : msg);
    }
}

/* Where a batched migration is, in this run and in all. */
typedef struct batch_run {
    char *cursor;                  /* the last committed batch's; NULL: the start */
    long long rows_done, batches;  /* all runs */
    long long total;               /* -1: unknown */
    long long size;                /* the next batch's */
    long long run_rows, run_batches;
    double last_seconds, run_started, last_told;
} batch_run;

static void batch_progress(int fd, int index, batch_run *br, int last)
{
    double now = monotonic_seconds();
    if (!last && now - br->last_told < BATCH_PROGRESS_EVERY_S)
        return;
    br->last_told = now;
    wmsg m = {.type = WMSG_PROGRESS, .index = index, .batched = 1, .done = br->rows_done,
              .total = br->total, .batches = br->batches, .batch_size = br->size, .run_done = br->run_rows,
              .last_seconds = br->last_seconds};
    snprintf(m.text, sizeof m.text, "rows");
    worker_send(fd, &m);
}

/* max_replication_lag: wait while a replica's replay lags more. 0 to go on,
 * 1 when interrupted, -1 when the lag cannot be read (msg). */
static int wait_for_replicas(PGconn *conn, const worker_cfg *cfg, int fd, int index, char *msg, size_t msgsz)
{
    double max = cfg->batch.max_lag, since = monotonic_seconds();
    int told = 0;
    if (max <= 0)
        return 0;
    for (;;) {
        double lag = 0;
        int replicas = 0;
        if (store_replica_lag(conn, &lag, &replicas, msg, msgsz) != 0)
            return -1;
        if (lag <= max) {
            if (told)
                send_line(fd, WMSG_WAITING, index, "replica lag %.1f s <= %g s after waiting %.1f s: going on", lag, max,
                          monotonic_seconds() - since);
            return 0;
        }
        if (!told)
            send_line(fd, WMSG_WAITING, index, "waiting: replica lag %.1f s > %g s (max_replication_lag)", lag, max);
        told = 1;
        if (nap(BATCH_LAG_POLL_S) != 0)
            return 1;
    }
}

/* The code a checkpoint of this migration records: its manifest entry's
 * identity, else the sha256 of its object. */
static const char *code_identity(const mentry *e, const wmsg *m)
{
    return e->identity ? e->identity : m->sha256;
}

/* A checkpoint is resumed only by the code and the mode that wrote it (no
 * identity: written before identities were recorded, resumed as it is). 0
 * when it may be, else -1 with m's message set: the migration fails before
 * any of its work runs, and the checkpoint stays as it is. */
static int checkpoint_is_ours(const mentry *e, const char *mode, const char *identity, const char *cp_mode,
                              const char *cp_identity, long long rows, long long batches, wmsg *m)
{
    int same_mode = !strcmp(cp_mode, mode);
    if (same_mode && (!cp_identity || !strcmp(cp_identity, identity)))
        return 0;
    char mode_of[64] = "", mode_now[64] = "";
    if (!same_mode) {
        snprintf(mode_of, sizeof mode_of, " in %s mode", cp_mode);
        snprintf(mode_now, sizeof mode_now, " %s code", mode);
    }
    set_msg(m, "%s: its checkpoint (%lld rows in %lld batches) was written by other code%s (identity %.12s), not by this bundle's%s (identity %.12s); restore the code that wrote it, or 'delembic forget %s' to start again from the beginning",
            e->revision, rows, batches, mode_of, cp_identity ? cp_identity : "unknown", mode_now, identity,
            e->revision);
    return -1;
}

/* A batched migration's batches, each in its own transaction with its
 * checkpoint, from where its checkpoint says: 0 when the last one is done
 * (validate and the record follow, as for any migration), else -1 with m
 * set (WRES_PAUSED when SIGINT/SIGTERM stopped it). */
static int run_batches(wstate *ws, PGconn *conn, const worker_cfg *cfg, const mentry *e, const loaded_plugin *lp,
                       int index, int fd, dm_ctx *ctx, wctx *w, wmsg *m)
{
    char msg[1024];
    batch_run br = {.total = -1, .run_started = monotonic_seconds(), .size = batch_first_size(&cfg->batch, 0)};
    int read_once = 0;
    char lock_timeout[32];
    snprintf(lock_timeout, sizeof lock_timeout, "%.0fms", cfg->batch.lock_timeout * 1000);
    int lock_failures = 0, rc = -1;
    for (;;) {
        if (g_interrupted || (br.run_batches > 0 && cfg->batch.pause > 0 && nap(cfg->batch.pause) != 0)) {
            m->status = WRES_PAUSED;
            break;
        }
        int lag = wait_for_replicas(conn, cfg, fd, index, msg, sizeof msg);
        if (lag != 0) {
            m->status = lag > 0 ? WRES_PAUSED : WRES_FAILED;
            if (lag < 0)
                set_msg(m, "cannot read the replicas' lag (pg_stat_replication) for max_replication_lag: %s", msg);
            break;
        }
        double t0 = monotonic_seconds();
        long long xid;
        if (open_transaction(ws, conn, cfg, e->revision, lock_timeout, &xid, msg, sizeof msg) != 0) {
            rollback(conn);
            ws->dirty = 1;
            m->status = g_interrupted ? WRES_PAUSED : WRES_FAILED;
            set_msg(m, "%s", msg);
            break;
        }
        /* where to start: the checkpoint as committed, once a batch of an
         * earlier run that may still be committing is done (its lock) */
        int failed = 0, lock = 0;
        char *lk = store_checkpoint_lock_sql(cfg->schema, e->revision);
        PGresult *cr = PQexec(conn, lk);
        free(lk);
        if (!cr || PQresultStatus(cr) != PGRES_TUPLES_OK || PQntuples(cr) != 1) {
            const char *state = cr ? PQresultErrorField(cr, PG_DIAG_SQLSTATE) : NULL;
            lock = state && !strcmp(state, SQLSTATE_LOCK_TIMEOUT);
            db_result_message(conn, cr, msg, sizeof msg);
            set_msg(m, "cannot read the checkpoint of %s: %s", e->revision, msg);
            failed = 1;
        } else if (!PQgetisnull(cr, 0, 5) &&
                   checkpoint_is_ours(e, STORE_MODE_BATCHED, code_identity(e, m), PQgetvalue(cr, 0, 5),
                                      PQgetisnull(cr, 0, 6) ? NULL : PQgetvalue(cr, 0, 6),
                                      strtoll(PQgetvalue(cr, 0, 1), NULL, 10),
                                      strtoll(PQgetvalue(cr, 0, 3), NULL, 10), m) != 0) {
            failed = 1;
        } else if (!PQgetisnull(cr, 0, 5)) {
            free(br.cursor);
            br.cursor = PQgetisnull(cr, 0, 0) ? NULL : xstrdup(PQgetvalue(cr, 0, 0));
            br.rows_done = strtoll(PQgetvalue(cr, 0, 1), NULL, 10);
            br.total = strtoll(PQgetvalue(cr, 0, 2), NULL, 10);
            br.batches = strtoll(PQgetvalue(cr, 0, 3), NULL, 10);
            if (!read_once) {
                br.size = batch_first_size(&cfg->batch, strtoll(PQgetvalue(cr, 0, 4), NULL, 10));
                if (br.batches > 0)
                    send_line(fd, WMSG_LOG, index, "resuming from its checkpoint: %lld rows in %lld batches done",
                              br.rows_done, br.batches);
            }
        }
        if (!failed)
            read_once = 1;
        PQclear(cr);
        txwatch_begin(&ws->watch.tx);
        dm_batch b = {.head = {.abi_version = DM_ABI_VERSION, .size = sizeof(dm_batch_head), .api = &host_api},
                      .cursor = br.cursor, .size = br.size, .total = br.total};
        if (!failed) {
            w->batch = &b;
            failed = run_callback(ws, NULL, lp->desc->batch, &b, "batch", conn, ctx, w, m) != 0;
            w->batch = NULL;
            lock = failed && !strcmp(ws->watch.sqlstate, SQLSTATE_LOCK_TIMEOUT) && !ws->watch.tx.outside;
            if (!failed && !b.advanced && !b.finished) {
                set_msg(m, "batch returned 0 without calling dm_batch_advance or dm_batch_finish (it would run again from the same cursor for ever); its work was rolled back");
                failed = 1;
            }
        }
        if (failed) {
            rollback(conn);
            ws->dirty = 1;
            free(b.next_cursor);
            if (g_interrupted) {
                m->status = WRES_PAUSED;
                break;
            }
            if (lock && lock_failures < BATCH_LOCK_RETRIES) {
                double wait = batch_backoff_seconds(++lock_failures);
                send_line(fd, WMSG_LOG, index, "batch %lld timed out on a lock (batch_lock_timeout %g s); rolled back, retry %d of %d in %.1f s",
                          br.batches + 1, cfg->batch.lock_timeout, lock_failures, BATCH_LOCK_RETRIES, wait);
                if (nap(wait) != 0) {
                    m->status = WRES_PAUSED;
                    break;
                }
                continue;
            }
            if (lock) {
                char said[DEL_MSG_MAX / 2];
                size_t said_len = strnlen(m->text, sizeof said - 1);
                memcpy(said, m->text, said_len);
                said[said_len] = '\0';
                set_msg(m, "batch %lld timed out on a lock (batch_lock_timeout %g s) %d times in a row (BATCH_LOCK_RETRIES %d); its work was rolled back and the %lld batches before it stay committed: run upgrade again to resume (%s)",
                        br.batches + 1, cfg->batch.lock_timeout, lock_failures + 1, BATCH_LOCK_RETRIES, br.batches, said);
            }
            m->status = WRES_FAILED;
            break;
        }
        lock_failures = 0;
        double secs = monotonic_seconds() - t0;
        long long next_size = batch_next_size(&cfg->batch, br.size, secs);
        long long rows_done = br.rows_done + b.rows;
        /* an estimated total that the work has passed says nothing any more:
         * unknown, rather than a percent stuck at 100 */
        long long total = b.finished ? rows_done : b.total;
        if (!b.finished && total >= 0 && rows_done >= total)
            total = -1;
        store_progress p = {.mode = STORE_MODE_BATCHED, .cursor = b.next_cursor ? b.next_cursor : br.cursor,
                            .rows_done = rows_done, .total = total,
                            .batches = br.batches + 1, .batch_size = next_size, .last_batch_seconds = secs,
                            .identity = code_identity(e, m)};
        char *cp = store_checkpoint_commit_sql(cfg->schema, &cfg->token, e->revision, &p, xid);
        const char *auth = PQparameterStatus(conn, "session_authorization");
        int auth_changed = auth && strcmp(auth, ws->session_auth) != 0;
        char *sql = store_commit_sql(auth_changed, cp, NULL);
        free(cp);
        store_record_error why;
        int crc = commit_round(conn, sql, msg, sizeof msg, &why);
        free(sql);
        if (crc != 0) {
            rollback(conn);
            ws->dirty = 1;
            free(b.next_cursor);
            commit_refused(m, msg, why);
            break;
        }
        if (ws->watch.tx.host_objects || ws->watch.tx.suspect) {
            ws->dirty = 1; /* DISCARD, DEALLOCATE, PREPARE, ...: the next batch starts from a reset session */
            ws->watch.tx.host_objects = 0;
        }
        br.rows_done = rows_done;
        br.batches++;
        br.run_batches++;
        br.run_rows += b.rows;
        br.total = p.total;
        br.size = next_size;
        br.last_seconds = secs;
        if (b.next_cursor) {
            free(br.cursor);
            br.cursor = b.next_cursor;
        }
        batch_progress(fd, index, &br, b.finished);
        if (b.finished) {
            rc = 0;
            break;
        }
    }
    if (m->status == WRES_PAUSED) {
        if (br.batches > 0)
            set_msg(m, "paused after %lld rows in %lld batches (%lld rows in %lld batches in this run); run upgrade again to resume",
                    br.rows_done, br.batches, br.run_rows, br.run_batches);
        else
            set_msg(m, "paused before a batch of this run committed; run upgrade again to resume");
    }
    free(br.cursor);
    return rc;
}

/* A non-transactional migration's upgrade: its claim committed first (a
 * checkpoint row, state running, fenced), then upgrade in autocommit. 0 when
 * it returned 0 (validate and the record follow), else -1 with m set (the
 * claim is taken back: the failure record says what happened). */
static int run_no_transaction(wstate *ws, PGconn *conn, const worker_cfg *cfg, const mentry *e,
                              const loaded_plugin *lp, dm_ctx *ctx, wctx *w, wmsg *m)
{
    char msg[1024];
    /* a checkpoint left by a batched run of this revision is not ours to
     * take over (its claim would replace it): it fails, nothing runs */
    char *lk = store_checkpoint_lock_sql(cfg->schema, e->revision);
    PGresult *cr = PQexec(conn, lk);
    free(lk);
    int refused = 0;
    if (!cr || PQresultStatus(cr) != PGRES_TUPLES_OK || PQntuples(cr) != 1) {
        db_result_message(conn, cr, msg, sizeof msg);
        set_msg(m, "cannot read the checkpoint of %s: %s", e->revision, msg);
        refused = 1;
    } else if (!PQgetisnull(cr, 0, 5)) {
        refused = checkpoint_is_ours(e, STORE_MODE_NO_TRANSACTION, code_identity(e, m), PQgetvalue(cr, 0, 5),
                                     PQgetisnull(cr, 0, 6) ? NULL : PQgetvalue(cr, 0, 6),
                                     strtoll(PQgetvalue(cr, 0, 1), NULL, 10),
                                     strtoll(PQgetvalue(cr, 0, 3), NULL, 10), m) != 0;
    }
    PQclear(cr);
    if (refused) {
        rollback(conn);
        ws->dirty = 1;
        m->status = g_interrupted ? WRES_INTERRUPTED : WRES_FAILED;
        return -1;
    }
    store_progress p = {.mode = STORE_MODE_NO_TRANSACTION, .total = -1, .last_batch_seconds = -1,
                        .identity = code_identity(e, m)};
    char *cp = store_checkpoint_commit_sql(cfg->schema, &cfg->token, e->revision, &p, 0);
    char *sql = store_in_transaction_sql(cp);
    free(cp);
    store_record_error why;
    int rc = commit_round(conn, sql, msg, sizeof msg, &why);
    free(sql);
    if (rc != 0) {
        rollback(conn);
        ws->dirty = 1;
        commit_refused(m, msg, why);
        if (m->status == WRES_PAUSED)
            m->status = WRES_INTERRUPTED;
        return -1;
    }
    /* autocommit, read-write, with the section's timeouts for the session;
     * the session is reset in full after it */
    ws->dirty = 1;
    char *setup = store_autocommit_session_sql(cfg->statement_timeout, cfg->lock_timeout);
    PGresult *r = PQexec(conn, setup);
    free(setup);
    int set_ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    if (!set_ok)
        db_result_message(conn, r, msg, sizeof msg);
    PQclear(r);
    int failed = !set_ok;
    if (!set_ok)
        set_msg(m, "cannot prepare the session for a non-transactional upgrade: %s", msg);
    if (set_ok) {
        w->fail[0] = '\0';
        pqguard_refused();
        txwatch_begin(&ws->watch.tx);
        ws->watch.active = 1;
        int urc = lp->desc->upgrade(conn, ctx);
        stray_check(urc);
        ws->watch.active = 0;
        PGTransactionStatusType ts = PQtransactionStatus(conn);
        failed = 1;
        if (pqguard_refused() > 0)
            set_msg(m, "the migration closed the host's connection (PQfinish); what it committed stays");
        else if (g_interrupted)
            set_msg(m, "interrupted");
        else if (urc != 0 && w->fail[0])
            set_msg(m, "%s", w->fail);
        else if (urc != 0)
            set_msg(m, "upgrade returned %d", urc);
        else if (ts != PQTRANS_IDLE)
            set_msg(m, "upgrade (DM_NO_TRANSACTION) returned inside a transaction it opened (%s); it was rolled back: end what you begin",
                    ts == PQTRANS_INERROR ? "in error" : "open");
        else
            failed = 0;
    }
    if (!failed)
        return 0;
    rollback(conn);
    /* the claim goes: this is a failure, recorded as one, not an interruption */
    char *del = store_checkpoint_delete_sql(cfg->schema, e->revision);
    sql = store_in_transaction_sql(del);
    free(del);
    if (commit_round(conn, sql, msg, sizeof msg, &why) != 0)
        rollback(conn);
    free(sql);
    m->status = g_interrupted ? WRES_INTERRUPTED : WRES_FAILED;
    return -1;
}

static void run_one(wstate *ws, PGconn *conn, const worker_cfg *cfg, int index, int fd, wmsg *m)
{
    const mentry *e = &cfg->b->mf.m[index];
    memset(m, 0, sizeof *m);
    m->type = WMSG_RESULT;
    m->index = index;
    m->started = now_seconds();
    del_err err;
    loaded_plugin lp = {0};
    if (ws->pre.index == index) {
        lp = ws->pre.lp; /* verified and loaded during the previous commit */
        memcpy(m->sha256, ws->pre.sha, sizeof m->sha256);
        memset(&ws->pre.lp, 0, sizeof ws->pre.lp);
        ws->pre.index = -1;
    } else {
        prefetch_drop(ws);
        if (load_verified(ws, cfg, index, &lp, m->sha256, &err) != 0) {
            m->status = WRES_BUNDLE;
            set_msg(m, "%s", err.msg);
            goto out;
        }
    }
    if (g_interrupted) {
        m->status = WRES_INTERRUPTED;
        set_msg(m, "interrupted");
        goto out;
    }
    wctx w = {.fd = fd, .index = index, .url = cfg->url, .mf = &cfg->b->mf};
    char dirbuf[PATH_MAX];
    dm_ctx ctx = {.api = &host_api, .size = sizeof(dm_ctx), .revision = e->revision,
                  .bundle_dir = bundle_path(cfg->b, dirbuf), .host = &w};
    int mode = cfg->downgrade ? DM_TRANSACTIONAL : lp.desc->mode;
    if (mode != DM_TRANSACTIONAL) {
        if (ws->open) { /* the previous commit opened a transaction for it: not a batch's */
            rollback(conn);
            ws->open = 0;
        }
        if ((mode == DM_BATCHED ? run_batches(ws, conn, cfg, e, &lp, index, fd, &ctx, &w, m)
                                : run_no_transaction(ws, conn, cfg, e, &lp, &ctx, &w, m)) != 0)
            goto out;
        read_next_messages(ws, fd);
    }
    long long xid, deps;
    if (ws->open && ws->open_index != index && retarget_claim(conn, cfg, e->revision) != 0) {
        rollback(conn); /* opened for another migration and not retargeted: anew */
        ws->open = 0;
        ws->dirty = 1;
    }
    if (ws->open) {
        ws->open = 0; /* opened by the previous commit's round trip */
        xid = ws->open_xid;
        deps = ws->open_deps;
    } else {
        char msg[1024];
        if (open_transaction(ws, conn, cfg, e->revision, cfg->lock_timeout, &xid, msg, sizeof msg) != 0) {
            rollback(conn);
            ws->dirty = 1;
            m->status = g_interrupted ? WRES_INTERRUPTED : WRES_FAILED;
            set_msg(m, "%s", g_interrupted ? "interrupted" : msg);
            goto out;
        }
        /* the parent learns it here (else from the previous RESULT), to
         * check after a crash whether the plugin committed by itself */
        wmsg x = {.type = WMSG_XID, .index = index, .xid = xid};
        worker_send(fd, &x);
        deps = ws->open_deps;
    }
    m->xid = xid;
    txwatch_begin(&ws->watch.tx);
    int cb_failed = 1;
    /* a batched or non-transactional migration did its work above: here
     * only validate runs, in the transaction of the record */
    if (!cfg->downgrade)
        cb_failed = (mode == DM_TRANSACTIONAL &&
                     run_callback(ws, lp.desc->upgrade, NULL, NULL, "upgrade", conn, &ctx, &w, m) != 0) ||
                    (lp.desc->validate &&
                     run_callback(ws, lp.desc->validate, NULL, NULL, "validate", conn, &ctx, &w, m) != 0);
    else if (lp.desc->downgrade) /* the parent plans only migrations that have one */
        cb_failed = run_callback(ws, lp.desc->downgrade, NULL, NULL, "downgrade", conn, &ctx, &w, m) != 0;
    else
        set_msg(m, "%s has no downgrade callback", e->revision);
    if (cb_failed) {
        rollback(conn);
        ws->dirty = 1;
        m->status = g_interrupted ? WRES_INTERRUPTED : WRES_FAILED;
        goto out;
    }
    m->ended = now_seconds();
    read_next_messages(ws, fd);
    char msg[1024];
    /* after DEALLOCATE or DISCARD: the record statement again if it is gone;
     * the next migration starts from a full session reset */
    int renew = ws->watch.tx.host_objects;
    if (renew && ensure_record(conn, cfg, msg, sizeof msg) != 0) {
        rollback(conn);
        ws->dirty = 1;
        m->status = g_interrupted ? WRES_INTERRUPTED : WRES_FAILED;
        set_msg(m, "%s", g_interrupted ? "interrupted" : msg);
        goto out;
    }
    ws->open_index = ws->hint >= 0 && (size_t)ws->hint < cfg->b->mf.n && !renew ? ws->hint : -1;
    char *fin = commit_sql(ws, conn, cfg, e->revision, m->started, m->ended, e->identity ? e->identity : m->sha256, xid,
                           ws->open_index >= 0 ? cfg->b->mf.m[ws->open_index].revision : NULL, mode);
    store_record_error why;
    int rc = commit(ws, conn, fin, cfg, &lp, index, deps, msg, sizeof msg, &why);
    free(fin);
    if (renew) {
        ws->dirty = 1;
        ws->watch.tx.host_objects = 0;
    }
    if (rc != 0) {
        int already = why == STORE_RECORD_ALREADY_APPLIED;
        int gone = why == STORE_RECORD_NOT_APPLIED;
        int lost = why == STORE_RECORD_LOST_LOCK;
        if (why == STORE_RECORD_GUARD_MISSING)
            snprintf(msg, sizeof msg, "the migration ended the host's transaction and began another (COMMIT or ROLLBACK inside a migration is not allowed); its work was rolled back");
        rollback(conn);
        if (gone) {
            m->status = WRES_SKIPPED;
            set_msg(m, "no longer applied (another run downgraded or forgot it); this run's work was rolled back");
            goto out;
        }
        if (already) {
            m->status = WRES_SKIPPED;
            set_msg(m, "already applied by another run; this run's work was rolled back");
            goto out;
        }
        if (lost) {
            m->status = WRES_LOST_LOCK;
            set_msg(m, "the run lost its lock (its lock session was terminated); rolled back");
            goto out;
        }
        m->status = g_interrupted ? WRES_INTERRUPTED : WRES_FAILED;
        set_msg(m, "%s", g_interrupted ? "interrupted" : msg);
        goto out;
    }
    m->status = WRES_OK;
    m->next_xid = ws->open ? ws->open_xid : 0;
out:
    if (!m->ended)
        m->ended = now_seconds();
    unload(ws, &lp, index);
}

/* Tell the parent why this worker cannot work, and end it. */
static void worker_fatal(int fd, PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
static void worker_fatal(int fd, PGconn *conn, const char *fmt, ...)
{
    wmsg m;
    memset(&m, 0, sizeof m);
    m.type = WMSG_FATAL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m.text, sizeof m.text, fmt, ap);
    va_end(ap);
    worker_send(fd, &m);
    pqguard_release();
    if (conn)
        PQfinish(conn);
    _exit(0);
}

static void worker_main(const worker_cfg *cfg, int fd)
{
    wstate state = {.watch = {.fd = -1}, .hint = -1, .then = -1, .current = -1, .open_index = -1, .pre = {.index = -1}};
    wstate *ws = &state;
    g_worker_pid = getpid();
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char app[128];
    snprintf(app, sizeof app, STORE_WORKER_APP_PREFIX "%ld", (long)getpid());
    del_err err;
    PGconn *conn = db_connect(cfg->url, app, &err);
    wmsg m;
    if (!conn)
        worker_fatal(fd, NULL, "%s", err.msg);
    /* only this worker's own shutdown may free its connection */
    pqguard_protect(conn);
    ws->watch.fd = fd;
    char msg[1024];
    if (session_setup(conn, cfg, msg, sizeof msg) != 0)
        worker_fatal(fd, conn, "cannot prepare the worker connection: %s", msg);
    const char *auth = PQparameterStatus(conn, "session_authorization");
    snprintf(ws->session_auth, sizeof ws->session_auth, "%s", auth ? auth : "");
    ws->watch.backend_pid = PQbackendPID(conn);
    ws->watch.backend_key = backend_key(conn, "");
    if (!PQregisterEventProc(conn, plugin_result, "delembic worker", &ws->watch))
        worker_fatal(fd, conn, "cannot prepare the worker connection: libpq refused its event procedure");
    g_cancel = PQgetCancel(conn);
    memset(&m, 0, sizeof m);
    m.type = WMSG_HELLO;
    m.status = ws->watch.backend_pid;
    m.backend_key = ws->watch.backend_key;
    worker_send(fd, &m);
    for (;;) {
        wmsg in;
        int got = worker_recv(fd, &in);
        if (got <= 0)
            break;
        if (in.type != WMSG_RUN || in.index < 0 || (size_t)in.index >= cfg->b->mf.n)
            continue; /* a late NEXT, or nonsense */
        ws->current = in.index;
        ws->hint = in.status;
        ws->then = in.then;
        for (;;) {
            run_one(ws, conn, cfg, ws->current, fd, &m);
            /* continue with the allowed next one after a success, unless interrupted */
            int then = ws->then;
            int go = m.status == WRES_OK && then >= 0 && (size_t)then < cfg->b->mf.n && !g_interrupted;
            m.then = go ? then : -1;
            if (send_text(fd, &m, cfg->url) != 0)
                goto done;
            /* a plugin reset the connection (or it broke): this session is
             * not the one the worker set up, nor the one the parent knew */
            if (ws->watch.tx.reset || PQstatus(conn) != CONNECTION_OK)
                goto done;
            if (!go)
                break;
            ws->current = then;
            ws->hint = -1;
            ws->then = -1;
        }
    }
done:
    prefetch_drop(ws);
    PGcancel *c = g_cancel;
    g_cancel = NULL;
    PQfreeCancel(c);
    pqguard_release();
    PQfinish(conn);
    _exit(0);
}

int worker_spawn(worker *w, const worker_cfg *cfg, const int *close_fds, size_t nclose,
                 del_err *err)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return del_fail(err, DEL_KIND_DATABASE, "cannot create a worker channel: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        return del_fail(err, DEL_KIND_DATABASE, "cannot start a worker: %s", strerror(errno));
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(0);
        close(sv[0]);
        for (size_t i = 0; i < nclose; i++)
            if (close_fds[i] >= 0)
                close(close_fds[i]);
        db_forget(cfg->parent_conn);
        /* stdout carries the host's own output (one JSON document with
         * --json): what plugin code prints goes to stderr instead */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        worker_main(cfg, sv[1]);
        _exit(0);
    }
    close(sv[1]);
    memset(w, 0, sizeof *w);
    w->pid = pid;
    w->fd = sv[0];
    w->running = -1;
    w->then = -1;
    return 0;
}
