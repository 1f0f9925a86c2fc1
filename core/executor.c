#include "executor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "term.h"
#include "worker.h"

enum mstate { M_WAIT = 0, M_RESERVED, M_RUNNING, M_DONE, M_FAILED };

/* A worker told to stop (SIGTERM: it cancels its statement and rolls back)
 * is killed when it is still running after this many seconds (a plugin
 * stuck in C code). */
#define CANCEL_GRACE_SECONDS 3.0
#define POLL_MS 200

#define SELF_COMMIT_MESSAGE "the migration committed by itself; its work up to that point is committed"
#define LOST_LOCK_MESSAGE "the run lost its lock (its lock session was terminated); rolled back"

static int sig_pipe[2] = {-1, -1};
static volatile sig_atomic_t got_signal;

static void on_parent_signal(int sig)
{
    int saved = errno;
    if (!got_signal)
        got_signal = sig;
    if (sig_pipe[1] >= 0) {
        char c = (char)sig;
        ssize_t w = write(sig_pipe[1], &c, 1);
        (void)w;
    }
    errno = saved;
}

typedef struct run {
    const bundle *b;
    const plan *p;
    PGconn *conn;
    const exec_opts *o;
    exec_result *res;
    del_err *err;
    char *state;             /* per manifest index */
    char *planned;
    worker *w;
    size_t nw;
    int stop;                /* start nothing new */
    int fatal;               /* exit 2 */
    int lost_lock;           /* the state connection, and the run lock with it, is gone */
    char lost_why[256];      /* the server's last word on it (a FATAL), or libpq's */
    PGconn *fresh;           /* for the records after that, or NULL */
    double interrupt_at;
    char (*sha)[65];
} run;

/* A line about the run itself ("Interrupted ...", a warning of the parent). */
static void out_line(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(run *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    del_emit_vtext(r->o->notify, DEL_EV_RUN_NOTICE, fmt, ap);
    va_end(ap);
}

/* A migration's event: revision i, with the revision named in the line when
 * several run at once. */
static void emit(run *r, del_event_type type, size_t i, double secs, const char *status,
                 const char *msg)
{
    del_event ev = {.type = type, .revision = r->b->mf.m[i].revision,
                    .description = r->b->mf.m[i].description, .seconds = secs, .status = status,
                    .message = msg, .marked = r->o->jobs > 1};
    del_emit(r->o->notify, &ev);
}

static void json_outcome(run *r, size_t i, const char *status, double secs, const char *msg)
{
    if (!r->o->js)
        return;
    json *j = r->o->js;
    json_obj_open(j, NULL);
    json_str(j, "revision", r->b->mf.m[i].revision);
    json_str(j, "status", status);
    json_num(j, "seconds", secs);
    json_str(j, "message", msg);
    json_obj_close(j);
}

/* Where the parent reads and writes state: its lock session, or once that is
 * gone a fresh connection (which holds no lock: it only records failures,
 * which never overwrite a success). */
static PGconn *state_db(run *r)
{
    if (!r->lost_lock)
        return r->conn;
    if (!r->fresh) {
        del_err e;
        char app[64];
        snprintf(app, sizeof app, "delembic upgrade records pid=%ld", (long)getpid());
        r->fresh = db_connect(r->o->url, app, &e);
        if (!r->fresh)
            out_line(r, "  WARNING: %s", e.msg);
    }
    return r->fresh;
}

static void cancel_worker(worker *w)
{
    if (w->pid <= 0)
        return;
    kill(w->pid, SIGTERM);
    if (!w->cancel_at)
        w->cancel_at = monotonic_seconds();
}

/* The lock session is gone (terminated, a pooler, a failover): start nothing
 * new, cancel what runs (its commit would be refused by the fence anyway). */
static void lose_lock(run *r)
{
    if (r->lost_lock)
        return;
    r->lost_lock = 1;
    r->stop = 1;
    if (!r->lost_why[0])
        db_result_message(r->conn, NULL, r->lost_why, sizeof r->lost_why);
    int running = 0;
    for (size_t k = 0; k < r->nw; k++)
        if (r->w[k].pid > 0 && r->w[k].running >= 0) {
            cancel_worker(&r->w[k]);
            running++;
        }
    out_line(r, "Lost the run lock (%s): %s", r->lost_why,
             running ? "cancelling the running migration(s) ..." : "starting nothing more");
}

/* A server that ends the lock session says why first (FATAL: terminating
 * connection due to administrator command); libpq hands it over as a notice
 * because no query was running. */
static void lock_session_notice(void *arg, const PGresult *res)
{
    run *r = arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    if (sev && msg && (!strcmp(sev, "FATAL") || !strcmp(sev, "PANIC")))
        snprintf(r->lost_why, sizeof r->lost_why, "%s", msg);
}

/* After a query on the lock session failed: was it the session? */
static void check_lock_session(run *r)
{
    if (!r->lost_lock && PQstatus(r->conn) == CONNECTION_BAD)
        lose_lock(r);
}

/* Did the failed migration commit by itself (its transaction id committed)? */
static int committed_by_itself(run *r, long long xid)
{
    return xid > 0 && store_xid_committed(state_db(r), xid) == 1;
}

/* A downgrade: every planned migration that depends on i is downgraded. */
static int ready_down(run *r, size_t i)
{
    for (size_t k = 0; k < r->p->nrun; k++) {
        size_t j = r->p->run[k];
        const dag_node *nd = &r->b->g.nodes[j];
        for (size_t d = 0; d < nd->ndeps; d++)
            if (nd->deps[d] == i && r->state[j] != M_DONE)
                return 0;
    }
    return 1;
}

static int ready(run *r, size_t i)
{
    if (r->o->downgrade)
        return ready_down(r, i);
    const dag_node *nd = &r->b->g.nodes[i];
    for (size_t d = 0; d < nd->ndeps; d++) {
        size_t j = nd->deps[d];
        if (r->planned[j] && r->state[j] != M_DONE)
            return 0;
    }
    return 1;
}

static long next_ready(run *r)
{
    for (size_t k = 0; k < r->p->nrun; k++) {
        size_t i = r->p->run[k];
        if (r->state[i] == M_WAIT && ready(r, i))
            return (long)i;
    }
    return -1;
}

/* The migration this worker will likely run after i (its file is hashed
 * while i commits): the first waiting one whose dependencies are done or i. */
static int next_hint(run *r, size_t i)
{
    if (r->o->downgrade)
        return -1; /* the parent starts each step of a downgrade itself */
    for (size_t k = 0; k < r->p->nrun; k++) {
        size_t j = r->p->run[k];
        if (j == i || r->state[j] != M_WAIT)
            continue;
        const dag_node *nd = &r->b->g.nodes[j];
        int ok = 1;
        for (size_t d = 0; d < nd->ndeps && ok; d++) {
            size_t x = nd->deps[d];
            ok = !r->planned[x] || r->state[x] == M_DONE || x == i;
        }
        if (ok)
            return (int)j;
    }
    return -1;
}

static int pending_left(run *r)
{
    for (size_t k = 0; k < r->p->nrun; k++)
        if (r->state[r->p->run[k]] == M_WAIT)
            return 1;
    return 0;
}

static int running_count(run *r)
{
    int n = 0;
    for (size_t k = 0; k < r->nw; k++)
        if (r->w[k].pid > 0 && r->w[k].running >= 0)
            n++;
    return n;
}

static void record_failure(run *r, size_t i, double started, const char *msg, const char *sha,
                           const char *hold)
{
    del_err e;
    const mentry *me = &r->b->mf.m[i];
    const char *checksum = me->identity ? me->identity : sha && *sha ? sha : me->sha256;
    const char *rev = r->b->mf.m[i].revision;
    /* a failed downgrade leaves its migration applied (a failure record
     * never replaces a success): its history row says what failed */
    char *text = r->o->downgrade ? xasprintf("downgrade: %s", msg) : xstrdup(msg);
    if (store_record_failure(state_db(r), r->o->schema, rev, started, now_seconds(), text, checksum,
                             hold, &e) == 0) {
        free(text);
        return;
    }
    check_lock_session(r);
    if (r->lost_lock && store_record_failure(state_db(r), r->o->schema, rev, started,
                                             now_seconds(), text, checksum, hold, &e) == 0) {
        free(text);
        return;
    }
    free(text);
    out_line(r, "  WARNING: %s", e.msg);
}

/* Why a worker's migration stopped, when the parent stopped it. */
static const char *stopped_why(run *r, const worker *w, char *buf, size_t n)
{
    if (w->timed_out)
        snprintf(buf, n, "timed out after %g s", r->o->timeout);
    else if (got_signal)
        snprintf(buf, n, "interrupted");
    else if (r->lost_lock)
        snprintf(buf, n, "%s", LOST_LOCK_MESSAGE);
    else
        return NULL;
    return buf;
}

static void on_result(run *r, worker *w, const wmsg *m)
{
    size_t i = (size_t)m->index;
    double secs = m->ended - m->started;
    w->running = -1;
    w->xid = 0;
    w->open_xid = m->status == WRES_OK ? m->next_xid : 0;
    int stopped = w->cancel_at != 0;
    char why_buf[300];
    const char *why = stopped ? stopped_why(r, w, why_buf, sizeof why_buf) : NULL;
    const char *text = m->text, *hold = NULL;
    w->cancel_at = 0;
    w->timed_out = 0;
    if (m->status == WRES_LOST_LOCK)
        lose_lock(r); /* the fence saw it first */
    switch (m->status) {
    case WRES_OK:
        r->state[i] = M_DONE;
        r->res->applied++;
        emit(r, DEL_EV_MIGRATION_SUCCEEDED, i, secs, NULL, NULL);
        json_outcome(r, i, r->o->downgrade ? "downgraded" : "applied", secs, NULL);
        break;
    case WRES_SKIPPED:
        r->state[i] = M_DONE;
        r->res->skipped++;
        emit(r, DEL_EV_MIGRATION_SKIPPED, i, secs, r->o->downgrade ? DEL_STATUS_DOWNGRADING : NULL, m->text);
        json_outcome(r, i, "skipped", secs, m->text);
        break;
    case WRES_PAUSED: {
        /* a batched migration stopped between batches: its batches and
         * checkpoint stay committed; the next upgrade resumes */
        r->state[i] = M_FAILED;
        r->res->paused++;
        r->stop = 1;
        /* stopped by the parent for another reason than a signal (the
         * timeout, the lost lock): say which */
        char *ptext = why && !got_signal ? xasprintf("%s; %s", why, m->text) : xstrdup(m->text);
        del_err e;
        if (store_record_paused(state_db(r), r->o->schema, r->b->mf.m[i].revision, m->started, now_seconds(),
                                ptext, &e) != 0) {
            check_lock_session(r);
            out_line(r, "  WARNING: %s", e.msg);
        }
        emit(r, DEL_EV_MIGRATION_FAILED, i, secs, "paused", ptext);
        json_outcome(r, i, "paused", secs, ptext);
        if (!r->err->msg[0] && !got_signal)
            del_fail(r->err, DEL_KIND_MIGRATION, "%s paused: %s", r->b->mf.m[i].revision, ptext);
        free(ptext);
        break;
    }
    case WRES_BUNDLE:
        r->state[i] = M_FAILED;
        r->res->bundle_error = 1;
        r->fatal = 1;
        r->stop = 1;
        emit(r, DEL_EV_MIGRATION_REFUSED, i, 0, NULL, m->text);
        json_outcome(r, i, "refused", 0, m->text);
        if (!r->err->msg[0])
            del_fail(r->err, DEL_KIND_BUNDLE, "%s", m->text);
        break;
    case WRES_INTERRUPTED:
    case WRES_LOST_LOCK:
    case WRES_FAILED:
    default:
        if (r->o->downgrade && committed_by_itself(r, m->xid)) {
            /* its transaction committed: with its record (the worker lost
             * the answer) when the version row is gone */
            char st[32] = "x";
            del_err e;
            if (store_status_of(state_db(r), r->o->schema, r->b->mf.m[i].revision, st, sizeof st, &e) == 0 &&
                !st[0]) {
                r->state[i] = M_DONE;
                r->res->applied++;
                emit(r, DEL_EV_MIGRATION_SUCCEEDED, i, secs, "committed_with_record", m->text);
                json_outcome(r, i, "downgraded", secs, NULL);
                break;
            }
            text = SELF_COMMIT_MESSAGE;
        } else if (r->o->downgrade) {
            if (why && m->status != WRES_FAILED)
                text = why;
        } else if (committed_by_itself(r, m->xid)) {
            /* its transaction committed: with its own success record (the
             * worker lost the answer), or by itself */
            if (store_recorded_by(state_db(r), r->o->schema, r->b->mf.m[i].revision, m->xid) == 1) {
                r->state[i] = M_DONE;
                r->res->applied++;
                emit(r, DEL_EV_MIGRATION_SUCCEEDED, i, secs, "committed_with_record", m->text);
                json_outcome(r, i, "applied", secs, NULL);
                break;
            }
            text = SELF_COMMIT_MESSAGE;
            hold = STORE_HOLD_SELF_COMMIT;
        } else if (m->hold) {
            hold = STORE_HOLD_MAY_COMMIT;
        } else if (why && m->status != WRES_FAILED) {
            text = why; /* cancelled by the parent: say why */
        }
        r->state[i] = M_FAILED;
        r->res->failed++;
        r->stop = 1;
        emit(r, DEL_EV_MIGRATION_FAILED, i, secs,
             m->status == WRES_INTERRUPTED && got_signal ? "interrupted" : "failed", text);
        record_failure(r, i, m->started, text, m->sha256, hold);
        json_outcome(r, i, m->status == WRES_INTERRUPTED && got_signal ? "interrupted" : "failed",
                     secs, text);
        if (!r->err->msg[0])
            del_fail(r->err, DEL_KIND_MIGRATION, "%s failed: %s", r->b->mf.m[i].revision, text);
        break;
    }
}

static void show_progress(run *r, const worker *w, const wmsg *m)
{
    del_progress p = {.revision = r->b->mf.m[m->index].revision, .done = m->done, .total = m->total,
                      .unit = m->text, .batched = m->batched, .batches = m->batches,
                      .batch_size = m->batch_size, .run_done = m->run_done,
                      .elapsed = monotonic_seconds() - w->started, .last_batch_seconds = m->last_seconds};
    if (m->batched && p.total < 0)
        p.total = 0; /* del_progress: 0 is unknown */
    del_emit_progress(r->o->notify, &p);
}

/* waiting for a terminated worker session to be gone: this often, this many times */
#define BACKEND_GONE_POLL_MS 50
#define BACKEND_GONE_TRIES 100

/* End a worker's server session (after the worker died or was killed), and
 * wait until it is gone. Only the session the worker last reported: never a
 * pid it did not get from the worker's current session. */
static void terminate_backend(run *r, int pid, long long key)
{
    if (pid <= 0 || key == 0)
        return;
    PGconn *conn = state_db(r);
    if (store_terminate_backend(conn, pid, key) != 0 && !r->lost_lock) {
        check_lock_session(r); /* the lock session itself may be gone: go on with a fresh one */
        conn = state_db(r);
        store_terminate_backend(conn, pid, key);
    }
    if (!conn)
        return;
    for (int tries = 0; tries < BACKEND_GONE_TRIES; tries++) {
        if (store_backend_alive(conn, pid, key) != 1)
            return;
        struct timespec ts = {0, BACKEND_GONE_POLL_MS * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

static void describe_status(int status, char *buf, size_t n)
{
    if (WIFSIGNALED(status)) {
        const char *abbr = sigabbrev_np(WTERMSIG(status));
        snprintf(buf, n, "crashed: SIG%s", abbr ? abbr : "?");
    } else if (WIFEXITED(status)) {
        snprintf(buf, n, "crashed: the worker exited with status %d (a migration must return, not exit)",
                 WEXITSTATUS(status));
    } else {
        snprintf(buf, n, "crashed");
    }
}

static void release_continuation(run *r, worker *w);

static void on_worker_gone(run *r, worker *w)
{
    int status = 0;
    release_continuation(r, w);
    close(w->fd);
    w->fd = -1;
    while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
        ;
    w->pid = -1;
    if (!w->hello && !r->fatal) {
        /* died before it could work: starting another would die the same way */
        char why[256];
        describe_status(status, why, sizeof why);
        r->fatal = 1;
        r->stop = 1;
        if (!r->err->msg[0])
            del_fail(r->err, DEL_KIND_BUNDLE, "a worker process ended during start-up (%s)", why);
        return;
    }
    if (w->running < 0)
        return;
    size_t i = (size_t)w->running;
    w->running = -1;
    char why[300];
    if (!stopped_why(r, w, why, sizeof why))
        describe_status(status, why, sizeof why);
    else if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        snprintf(why + strlen(why), sizeof why - strlen(why),
                 "; its worker did not stop within %g s and was killed", CANCEL_GRACE_SECONDS);
    long long xid = w->xid;
    w->xid = w->open_xid = 0;
    w->cancel_at = 0;
    w->timed_out = 0;
    /* make sure its transaction is gone before reading or writing state */
    terminate_backend(r, w->backend_pid, w->backend_key);
    char st[32] = "";
    del_err e;
    int read_ok = store_status_of(state_db(r), r->o->schema, r->b->mf.m[i].revision, st, sizeof st, &e) == 0;
    if (!read_ok)
        check_lock_session(r);
    /* done: an upgrade's success row is there, a downgrade's row is gone */
    if (r->o->downgrade ? read_ok && !st[0] : strcmp(st, store_status_name(STORE_SUCCESS)) == 0) {
        r->state[i] = M_DONE;
        r->res->applied++;
        emit(r, DEL_EV_MIGRATION_SUCCEEDED, i, monotonic_seconds() - w->started, "committed_before_exit", why);
        json_outcome(r, i, r->o->downgrade ? "downgraded" : "applied", monotonic_seconds() - w->started, NULL);
        return;
    }
    r->state[i] = M_FAILED;
    r->res->failed++;
    r->stop = 1;
    char msg[600];
    const char *hold = NULL;
    if (!r->o->downgrade && committed_by_itself(r, xid)) {
        snprintf(msg, sizeof msg, "%s %s; " SELF_COMMIT_MESSAGE, r->b->mf.m[i].revision, why);
        hold = STORE_HOLD_SELF_COMMIT;
    } else {
        snprintf(msg, sizeof msg, "%s %s", r->b->mf.m[i].revision, why);
    }
    emit(r, DEL_EV_MIGRATION_FAILED, i, monotonic_seconds() - w->started, got_signal ? "interrupted" : "failed", msg);
    record_failure(r, i, now_seconds() - (monotonic_seconds() - w->started), msg, NULL, hold);
    json_outcome(r, i, got_signal ? "interrupted" : "failed", monotonic_seconds() - w->started, msg);
    if (!r->err->msg[0])
        del_fail(r->err, DEL_KIND_MIGRATION, "%s", msg);
}

static int spawn(run *r, size_t k)
{
    int *fds = xmalloc((r->nw + 1) * sizeof *fds);
    for (size_t j = 0; j < r->nw; j++)
        fds[j] = r->w[j].fd;
    fds[r->nw] = sig_pipe[0];
    worker_cfg cfg = {.b = r->b, .url = r->o->url, .statement_timeout = r->o->statement_timeout,
                      .lock_timeout = r->o->lock_timeout, .schema = r->o->schema,
                      .token = r->o->token, .parent_conn = r->conn, .downgrade = r->o->downgrade,
                      .batch = r->o->batch};
    int rc = worker_spawn(&r->w[k], &cfg, fds, r->nw + 1, r->err);
    free(fds);
    return rc;
}

/* With one worker, let it start the next migration by itself after a success
 * (it saves a message round trip per migration); the parent mirrors it when
 * the result says so. With several workers the parent decides each start, so
 * that nothing new starts after another worker's failure. */
static void reserve_continuation(run *r, worker *w, wmsg *m)
{
    w->then = -1;
    if (r->o->jobs > 1 || m->status < 0)
        return;
    w->then = m->status;
    m->then = m->status;
    r->state[m->status] = M_RESERVED;
}

static void release_continuation(run *r, worker *w)
{
    if (w->then >= 0 && r->state[w->then] == M_RESERVED)
        r->state[w->then] = M_WAIT;
    w->then = -1;
}

/* The worker went on with m->then by itself: record it, and tell it what
 * follows (the parent keeps deciding the order). */
static void follow_continuation(run *r, worker *w, const wmsg *m)
{
    size_t j = (size_t)m->then;
    w->then = -1;
    r->state[j] = M_RUNNING;
    w->running = (long)j;
    w->started = monotonic_seconds();
    w->xid = w->open_xid; /* it runs in the transaction its commit opened */
    w->open_xid = 0;
    emit(r, DEL_EV_MIGRATION_STARTED, j, 0, r->o->downgrade ? DEL_STATUS_DOWNGRADING : NULL, NULL);
    wmsg next = {.type = WMSG_NEXT, .index = (int)j, .status = next_hint(r, j), .then = -1};
    reserve_continuation(r, w, &next);
    if (worker_send(w->fd, &next) != 0)
        release_continuation(r, w); /* the worker is gone: its exit is handled next */
}

static void dispatch(run *r)
{
    if (r->stop || got_signal)
        return;
    /* give ready migrations to idle workers, in plan order */
    for (size_t k = 0; k < r->nw; k++) {
        worker *w = &r->w[k];
        if (w->pid <= 0 || !w->hello || w->running >= 0)
            continue;
        long i = next_ready(r);
        if (i < 0)
            break;
        r->state[i] = M_RUNNING;
        wmsg m = {.type = WMSG_RUN, .index = (int)i, .status = next_hint(r, (size_t)i), .then = -1};
        w->running = i;
        w->started = monotonic_seconds();
        w->xid = w->open_xid;
        w->open_xid = 0;
        reserve_continuation(r, w, &m);
        emit(r, DEL_EV_MIGRATION_STARTED, (size_t)i, 0, r->o->downgrade ? DEL_STATUS_DOWNGRADING : NULL, NULL);
        if (worker_send(w->fd, &m) != 0)
            on_worker_gone(r, w);
        if (r->stop)
            return;
    }
    /* start workers for what is still ready, beyond those already starting */
    size_t ready_left = 0, starting = 0;
    for (size_t k = 0; k < r->p->nrun; k++) {
        size_t i = r->p->run[k];
        if (r->state[i] == M_WAIT && ready(r, i))
            ready_left++;
    }
    for (size_t k = 0; k < r->nw; k++)
        if (r->w[k].pid > 0 && !r->w[k].hello)
            starting++;
    for (size_t k = 0; k < r->nw && starting < ready_left; k++) {
        if (r->w[k].pid > 0)
            continue;
        if (spawn(r, k) != 0) {
            r->fatal = 1;
            r->stop = 1;
            return;
        }
        starting++;
    }
}

int executor_run(const bundle *b, const plan *p, PGconn *state_conn, const exec_opts *o,
                 exec_result *res, del_err *err)
{
    memset(res, 0, sizeof *res);
    del_err_clear(err);
    run r = {.b = b, .p = p, .conn = state_conn, .o = o, .res = res, .err = err};
    r.state = xcalloc(b->mf.n, 1);
    r.planned = xcalloc(b->mf.n, 1);
    for (size_t k = 0; k < p->nrun; k++)
        r.planned[p->run[k]] = 1;
    r.nw = (size_t)(o->jobs < 1 ? 1 : o->jobs);
    if (r.nw > p->nrun)
        r.nw = p->nrun ? p->nrun : 1;
    r.w = xcalloc(r.nw, sizeof *r.w);
    for (size_t k = 0; k < r.nw; k++) {
        r.w[k].pid = -1;
        r.w[k].fd = -1;
        r.w[k].running = -1;
        r.w[k].then = -1;
    }

    got_signal = 0;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(r.state);
        free(r.planned);
        free(r.w);
        return del_fail(err, DEL_KIND_BUNDLE, "cannot create a pipe: %s", strerror(errno));
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    signal(SIGPIPE, SIG_IGN);

    /* the signal pipe, the lock session (its socket wakes us when the server
     * ends it), the workers */
    enum { PFD_SIG, PFD_LOCK, PFD_WORKERS };
    struct pollfd *pfd = xcalloc(r.nw + PFD_WORKERS, sizeof *pfd);
    /* (the receiver it replaces is libpq's default, which ignores its arg) */
    PQnoticeReceiver old_receiver = PQsetNoticeReceiver(state_conn, lock_session_notice, &r);
    for (;;) {
        dispatch(&r);
        int running = running_count(&r);
        int starting = 0;
        for (size_t k = 0; k < r.nw; k++)
            if (r.w[k].pid > 0 && !r.w[k].hello)
                starting = 1;
        if (!running && !starting && (r.stop || got_signal || !pending_left(&r)))
            break;
        size_t np = 0;
        pfd[np].fd = sig_pipe[0];
        pfd[np++].events = POLLIN;
        pfd[np].fd = r.lost_lock ? -1 : PQsocket(state_conn);
        pfd[np++].events = POLLIN;
        for (size_t k = 0; k < r.nw; k++) {
            pfd[np].fd = r.w[k].fd;
            pfd[np++].events = POLLIN;
        }
        int pr = poll(pfd, np, POLL_MS);
        if (pr < 0 && errno != EINTR)
            break;
        if (pr > 0 && !r.lost_lock && (pfd[PFD_LOCK].revents & (POLLIN | POLLHUP | POLLERR))) {
            int read_ok = PQconsumeInput(state_conn);
            PQisBusy(state_conn); /* parses what came: the server's last word, if any */
            if (!read_ok || PQstatus(state_conn) == CONNECTION_BAD)
                lose_lock(&r);
        }
        if (got_signal) {
            char drain[16];
            while (read(sig_pipe[0], drain, sizeof drain) > 0)
                ;
            if (!r.interrupt_at) {
                r.interrupt_at = monotonic_seconds();
                r.stop = 1;
                res->interrupted_by = got_signal;
                out_line(&r, "Interrupted (%s): cancelling the running migration(s) ...",
                         got_signal == SIGINT ? "SIGINT" : "SIGTERM");
                for (size_t k = 0; k < r.nw; k++)
                    cancel_worker(&r.w[k]);
            }
        }
        double now = monotonic_seconds();
        for (size_t k = 0; k < r.nw; k++) {
            worker *w = &r.w[k];
            if (w->pid <= 0 || w->running < 0)
                continue;
            /* past the wall-clock limit: cancel, and kill after the grace */
            if (o->timeout > 0 && !w->timed_out && now - w->started > o->timeout) {
                w->timed_out = 1;
                r.stop = 1;
                cancel_worker(w);
            }
            /* still running CANCEL_GRACE_SECONDS after being told to stop */
            if (w->cancel_at && now - w->cancel_at > CANCEL_GRACE_SECONDS)
                kill(w->pid, SIGKILL);
        }
        for (size_t k = 0; k < r.nw; k++) {
            worker *w = &r.w[k];
            if (w->fd < 0 || !(pfd[k + PFD_WORKERS].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            wmsg m;
            int got = worker_recv(w->fd, &m);
            if (got <= 0) {
                on_worker_gone(&r, w);
                continue;
            }
            switch (m.type) {
            case WMSG_HELLO:
                w->hello = 1;
                w->backend_pid = m.status;
                w->backend_key = m.backend_key;
                break;
            case WMSG_BACKEND: /* a plugin reset its connection: another session */
                w->backend_pid = m.status;
                w->backend_key = m.backend_key;
                break;
            case WMSG_XID:
                if (m.index == w->running)
                    w->xid = m.xid;
                break;
            case WMSG_FATAL:
                if (!err->msg[0])
                    del_fail(err, DEL_KIND_BUNDLE, "%s", m.text);
                r.fatal = 1;
                r.stop = 1;
                break;
            case WMSG_PROGRESS:
                if (m.index >= 0 && (size_t)m.index < b->mf.n)
                    show_progress(&r, w, &m);
                break;
            case WMSG_LOG:
                if (m.index >= 0 && (size_t)m.index < b->mf.n)
                    emit(&r, DEL_EV_MIGRATION_LOG, (size_t)m.index, 0, NULL, m.text);
                break;
            case WMSG_WAITING:
                if (m.index >= 0 && (size_t)m.index < b->mf.n)
                    emit(&r, DEL_EV_MIGRATION_WAITING, (size_t)m.index, 0, NULL, m.text);
                break;
            case WMSG_RESULT:
                if (m.index != w->running)
                    break;
                on_result(&r, w, &m);
                if (m.then >= 0 && m.then == w->then)
                    follow_continuation(&r, w, &m);
                else
                    release_continuation(&r, w);
                break;
            default:
                break;
            }
        }
    }
    /* let workers go: closing their socket ends them */
    for (size_t k = 0; k < r.nw; k++) {
        if (r.w[k].fd >= 0)
            close(r.w[k].fd);
        if (r.w[k].pid > 0) {
            int status;
            while (waitpid(r.w[k].pid, &status, 0) < 0 && errno == EINTR)
                ;
        }
    }
    del_event fin = {.type = DEL_EV_RUN_FINISHED};
    del_emit(o->notify, &fin);
    PQsetNoticeReceiver(state_conn, old_receiver, NULL);
    free(pfd);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    free(r.state);
    free(r.planned);
    free(r.w);
    if (r.fresh)
        PQfinish(r.fresh);
    if (res->interrupted_by) {
        /* keep the FAILED line's message of an interrupted migration */
        if (!err->msg[0] || err->kind != DEL_KIND_MIGRATION)
            del_fail(err, DEL_KIND_INTERRUPTED, "interrupted by %s",
                     res->interrupted_by == SIGINT ? "SIGINT" : "SIGTERM");
        err->kind = DEL_KIND_INTERRUPTED;
        err->signal = res->interrupted_by;
        return -1;
    }
    if (r.lost_lock) {
        del_fail(err, DEL_KIND_LOCK, "lost the run lock: its session (server pid %d) ended: %s; the running migration(s) were rolled back and nothing was committed after that",
                 o->token.pid, r.lost_why);
        del_hint(err, "run 'delembic upgrade' again to finish");
        return -1;
    }
    if (r.fatal) {
        if (!del_failed(err))
            err->kind = DEL_KIND_BUNDLE;
        return -1;
    }
    if (res->failed || res->paused) {
        if (!del_failed(err))
            del_fail(err, DEL_KIND_MIGRATION, "%zu migration(s) failed", res->failed);
        return -1;
    }
    return 0;
}
