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
    double interrupt_at;
    int tty;
    int progress_shown;
    double last_plain_progress;
    double plain_interval;   /* seconds between plain progress lines */
    char (*sha)[65];
} run;

static void out_line(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_line(run *r, const char *fmt, ...)
{
    if (!r->o->out || r->o->quiet)
        return;
    if (r->progress_shown) {
        fputs("\r\033[K", r->o->out);
        r->progress_shown = 0;
    }
    va_list ap;
    va_start(ap, fmt);
    term_vline(r->o->out, fmt, ap); /* bundle and plugin text, escaped */
    va_end(ap);
    fflush(r->o->out);
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

static const char *mark(run *r, size_t i, char *buf, size_t n)
{
    if (r->o->jobs > 1)
        snprintf(buf, n, "%s ", r->b->mf.m[i].revision);
    else
        buf[0] = '\0';
    return buf;
}

static int ready(run *r, size_t i)
{
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

static void record_failure(run *r, size_t i, double started, const char *msg, const char *sha)
{
    del_err e;
    if (store_record_failure(r->conn, r->b->mf.m[i].revision, started, now_seconds(), msg,
                             r->b->mf.m[i].identity ? r->b->mf.m[i].identity : sha && *sha ? sha : r->b->mf.m[i].sha256, &e) != 0)
        out_line(r, "  WARNING: %s", e.msg);
}

static void on_result(run *r, worker *w, const wmsg *m)
{
    size_t i = (size_t)m->index;
    char mk[256];
    double secs = m->ended - m->started;
    char dur[32];
    format_duration(secs, dur, sizeof dur);
    w->running = -1;
    switch (m->status) {
    case WRES_OK:
        r->state[i] = M_DONE;
        r->res->applied++;
        out_line(r, "  %sOK (%s)", mark(r, i, mk, sizeof mk), dur);
        json_outcome(r, i, "applied", secs, NULL);
        break;
    case WRES_SKIPPED:
        r->state[i] = M_DONE;
        r->res->skipped++;
        out_line(r, "  %salready applied by another run", mark(r, i, mk, sizeof mk));
        json_outcome(r, i, "skipped", secs, m->text);
        break;
    case WRES_BUNDLE:
        r->state[i] = M_FAILED;
        r->res->bundle_error = 1;
        r->fatal = 1;
        r->stop = 1;
        out_line(r, "  %sREFUSED: %s", mark(r, i, mk, sizeof mk), m->text);
        json_outcome(r, i, "refused", 0, m->text);
        if (!r->err->msg[0])
            del_fail(r->err, DEL_EUSAGE, "%s", m->text);
        break;
    case WRES_INTERRUPTED:
    case WRES_FAILED:
    default:
        r->state[i] = M_FAILED;
        r->res->failed++;
        r->stop = 1;
        out_line(r, "  %sFAILED: %s", mark(r, i, mk, sizeof mk), m->text);
        record_failure(r, i, m->started, m->text, m->sha256);
        json_outcome(r, i, m->status == WRES_INTERRUPTED ? "interrupted" : "failed", secs, m->text);
        if (!r->err->msg[0])
            del_fail(r->err, DEL_EFAILED, "%s failed: %s", r->b->mf.m[i].revision, m->text);
        break;
    }
}

static void show_progress(run *r, const wmsg *m)
{
    if (!r->o->out || r->o->quiet)
        return;
    const char *rev = r->b->mf.m[m->index].revision;
    char done[64];
    snprintf(done, sizeof done, "%lld", m->done);
    if (r->tty) {
        fputs("\r\033[K", r->o->out);
        if (m->total > 0)
            term_put(r->o->out, "  %s: %s of %lld %s (%.0f%%)", rev, done, m->total, m->text,
                     100.0 * (double)m->done / (double)m->total);
        else
            term_put(r->o->out, "  %s: %s %s", rev, done, m->text);
        fflush(r->o->out);
        r->progress_shown = 1;
    } else {
        double now = monotonic_seconds();
        if (now - r->last_plain_progress < r->plain_interval)
            return;
        r->last_plain_progress = now;
        if (m->total > 0)
            out_line(r, "  %s: %s of %lld %s", rev, done, m->total, m->text);
        else
            out_line(r, "  %s: %s %s", rev, done, m->text);
    }
}

static void terminate_backend(run *r, int pid)
{
    if (pid <= 0)
        return;
    char p[32];
    snprintf(p, sizeof p, "%d", pid);
    const char *params[1] = {p};
    PGresult *q = PQexecParams(r->conn, "SELECT pg_terminate_backend($1::int)", 1, NULL, params,
                               NULL, NULL, 0);
    PQclear(q);
    for (int tries = 0; tries < 100; tries++) {
        q = PQexecParams(r->conn, "SELECT 1 FROM pg_stat_activity WHERE pid = $1::int", 1, NULL,
                         params, NULL, NULL, 0);
        int gone = !q || PQresultStatus(q) != PGRES_TUPLES_OK || PQntuples(q) == 0;
        PQclear(q);
        if (gone)
            return;
        struct timespec ts = {0, 50 * 1000 * 1000};
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
            del_fail(r->err, DEL_EUSAGE, "a worker process ended during start-up (%s)", why);
        return;
    }
    if (w->running < 0)
        return;
    size_t i = (size_t)w->running;
    w->running = -1;
    char why[256];
    if (got_signal)
        snprintf(why, sizeof why, "interrupted");
    else
        describe_status(status, why, sizeof why);
    /* make sure its transaction is gone before reading or writing state */
    terminate_backend(r, w->backend_pid);
    char st[32] = "";
    del_err e;
    char mk[256];
    if (store_status_of(r->conn, r->b->mf.m[i].revision, st, sizeof st, &e) == 0 &&
        strcmp(st, "success") == 0) {
        r->state[i] = M_DONE;
        r->res->applied++;
        out_line(r, "  %sOK (committed before its worker %s)", mark(r, i, mk, sizeof mk), why);
        json_outcome(r, i, "applied", monotonic_seconds() - w->started, NULL);
        return;
    }
    r->state[i] = M_FAILED;
    r->res->failed++;
    r->stop = 1;
    char msg[300];
    snprintf(msg, sizeof msg, "%s %s", r->b->mf.m[i].revision, why);
    out_line(r, "  %sFAILED: %s", mark(r, i, mk, sizeof mk), msg);
    record_failure(r, i, now_seconds() - (monotonic_seconds() - w->started), msg, NULL);
    json_outcome(r, i, got_signal ? "interrupted" : "failed", monotonic_seconds() - w->started, msg);
    if (!r->err->msg[0])
        del_fail(r->err, DEL_EFAILED, "%s", msg);
}

static int spawn(run *r, size_t k)
{
    int *fds = xmalloc((r->nw + 1) * sizeof *fds);
    for (size_t j = 0; j < r->nw; j++)
        fds[j] = r->w[j].fd;
    fds[r->nw] = sig_pipe[0];
    worker_cfg cfg = {.b = r->b, .url = r->o->url, .statement_timeout = r->o->statement_timeout,
                      .lock_timeout = r->o->lock_timeout, .parent_conn = r->conn};
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
    const mentry *e = &r->b->mf.m[j];
    out_line(r, "Running %s: %s", e->revision, e->description);
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
        reserve_continuation(r, w, &m);
        const mentry *e = &r->b->mf.m[i];
        out_line(r, "Running %s: %s", e->revision, e->description);
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
    r.state = xcalloc(b->mf.n ? b->mf.n : 1, 1);
    r.planned = xcalloc(b->mf.n ? b->mf.n : 1, 1);
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
    r.tty = o->out && isatty(fileno(o->out));
    /* plain progress lines every 5 s (DELEMBIC_PROGRESS_SECONDS overrides) */
    const char *pi = getenv("DELEMBIC_PROGRESS_SECONDS");
    r.plain_interval = pi && *pi ? atof(pi) : 5.0;
    r.last_plain_progress = monotonic_seconds();

    got_signal = 0;
    if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        free(r.state);
        free(r.planned);
        free(r.w);
        return del_fail(err, DEL_EUSAGE, "cannot create a pipe: %s", strerror(errno));
    }
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_parent_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    signal(SIGPIPE, SIG_IGN);

    struct pollfd *pfd = xcalloc(r.nw + 1, sizeof *pfd);
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
        for (size_t k = 0; k < r.nw; k++) {
            pfd[np].fd = r.w[k].fd;
            pfd[np++].events = POLLIN;
        }
        int pr = poll(pfd, np, 200);
        if (pr < 0 && errno != EINTR)
            break;
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
                    if (r.w[k].pid > 0)
                        kill(r.w[k].pid, SIGTERM);
            }
        }
        /* a migration still running 3 s after the interruption is killed */
        if (r.interrupt_at && monotonic_seconds() - r.interrupt_at > 3.0)
            for (size_t k = 0; k < r.nw; k++)
                if (r.w[k].pid > 0 && r.w[k].running >= 0)
                    kill(r.w[k].pid, SIGKILL);
        for (size_t k = 0; k < r.nw; k++) {
            worker *w = &r.w[k];
            if (w->fd < 0 || !(pfd[k + 1].revents & (POLLIN | POLLHUP | POLLERR)))
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
                break;
            case WMSG_FATAL:
                if (!err->msg[0])
                    del_fail(err, DEL_EUSAGE, "%s", m.text);
                r.fatal = 1;
                r.stop = 1;
                break;
            case WMSG_PROGRESS:
                if (m.index >= 0 && (size_t)m.index < b->mf.n)
                    show_progress(&r, &m);
                break;
            case WMSG_LOG:
                if (m.index >= 0 && (size_t)m.index < b->mf.n)
                    out_line(&r, "  %s: %s", b->mf.m[m.index].revision, m.text);
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
    if (r.progress_shown && o->out)
        fputs("\r\033[K", o->out);
    free(pfd);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    close(sig_pipe[0]);
    close(sig_pipe[1]);
    sig_pipe[0] = sig_pipe[1] = -1;
    free(r.state);
    free(r.planned);
    free(r.w);
    if (res->interrupted_by) {
        if (!err->msg[0] || err->code != DEL_EFAILED)
            del_fail(err, 128 + res->interrupted_by, "interrupted by %s",
                     res->interrupted_by == SIGINT ? "SIGINT" : "SIGTERM");
        err->code = 128 + res->interrupted_by;
        return 128 + res->interrupted_by;
    }
    if (r.fatal)
        return err->code = DEL_EUSAGE;
    if (res->failed)
        return DEL_EFAILED;
    return 0;
}
