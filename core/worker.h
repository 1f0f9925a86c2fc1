/* Worker processes: the only place plugin code runs. The parent forks a
 * worker; it opens its own connection (kept for every migration it runs),
 * then for each RUN message verifies the plugin file, loads it through the
 * open descriptor, and runs it inside a transaction that the worker opens and
 * commits together with the success record. Each migration starts from a
 * clean session (what a plugin set, prepared, listened to or created for its
 * session is undone), only the worker process itself ever continues after a
 * plugin callback (a forked child ends there), and a plugin cannot free the
 * worker's connection (PQfinish is refused, see pqguard.h). Messages travel
 * over a SOCK_SEQPACKET socket pair, one datagram each. A worker dies with
 * its parent. */
#ifndef DEL_WORKER_H
#define DEL_WORKER_H

#include <sys/types.h>
#include <libpq-fe.h>

#include "batchsize.h"
#include "bundle.h"
#include "store.h"

enum wmsg_type {
    WMSG_HELLO = 1, /* worker -> parent: ready; status = backend pid */
    WMSG_RUN,       /* parent -> worker: run index; status = likely next (prefetch); then = may continue with it */
    WMSG_NEXT,      /* parent -> worker: for the continued index, the next hint and continuation */
    WMSG_PROGRESS,
    WMSG_LOG,
    WMSG_RESULT,    /* worker -> parent; then = the index it continued with, or -1 */
    WMSG_FATAL,
    WMSG_XID,       /* worker -> parent: the transaction id of the migration it starts (when
                       no RESULT announced it as next_xid); for crash recovery */
    WMSG_BACKEND,   /* worker -> parent: its connection was reset (PQreset by a plugin): its
                       new server session (status = pid, backend_key), or none (pid 0) */
    WMSG_WAITING,   /* worker -> parent: a batched migration waits (text says why) */
};

enum wresult {
    WRES_OK = 0,
    WRES_FAILED,       /* rolled back; the parent records the failure */
    WRES_SKIPPED,      /* already applied by another run */
    WRES_BUNDLE,       /* the plugin file failed its checks; nothing ran */
    WRES_INTERRUPTED,  /* SIGINT/SIGTERM cancelled it; rolled back */
    WRES_LOST_LOCK,    /* the fence refused the commit: the run lost its lock; rolled back */
    WRES_PAUSED,       /* a batched migration stopped between batches (SIGINT/SIGTERM): its
                          committed batches and checkpoint stay; the next upgrade resumes */
};

/* the server session's key (store.h's STORE_BACKEND_KEY) */
#define WORKER_BACKEND_KEY STORE_BACKEND_KEY

typedef struct wmsg {
    int type;
    int index;         /* manifest entry */
    int status;        /* enum wresult, or the backend pid in HELLO and BACKEND, or a hint */
    int then;          /* a continuation (see above), -1 for none */
    double started, ended;
    long long done, total;
    long long xid;      /* RESULT, XID: the migration's transaction id */
    long long next_xid; /* RESULT: the transaction opened for the next one, or 0 */
    long long backend_key; /* HELLO, BACKEND: the server session's start, in microseconds */
    int hold;          /* RESULT, failed: work may have committed outside its transaction */
    /* PROGRESS of a batched migration (batched = 1), after each committed
     * batch: done = rows done in all runs, total = its estimate (-1: none) */
    int batched;
    long long batches, batch_size, run_done;
    double last_seconds;
    char sha256[65];
    char text[DEL_MSG_MAX]; /* one message size end to end: the SDK's DM_MSG_MAX, errors */
} wmsg;

typedef struct worker_cfg {
    const bundle *b;
    const char *url;
    const char *statement_timeout;
    const char *lock_timeout;
    const char *schema;    /* version_table_schema */
    store_token token;     /* the run's fence */
    PGconn *parent_conn;   /* closed (not finished) in the child */
    int downgrade;         /* run each migration's downgrade callback, and remove its record */
    batch_policy batch;    /* batched migrations' pacing */
} worker_cfg;

typedef struct worker {
    pid_t pid;
    int fd;
    int backend_pid;       /* its server session: pid and start key (HELLO, BACKEND) */
    long long backend_key;
    long running;          /* manifest index, or -1 */
    long then;             /* reserved continuation of running, or -1 */
    double started;        /* monotonic, when running started */
    long long xid;         /* the running migration's transaction id, or 0 */
    long long open_xid;    /* the transaction its last commit opened for the next, or 0 */
    double cancel_at;      /* monotonic, when it was told to stop (SIGTERM), or 0 */
    int timed_out;         /* stopped for passing the timeout */
    int hello;
} worker;

/* Fork a worker; close_fds are the parent's other worker sockets. */
int worker_spawn(worker *w, const worker_cfg *cfg, const int *close_fds, size_t nclose,
                 del_err *err);
int worker_send(int fd, const wmsg *m);
/* 1 message read, 0 end of file, -1 error. */
int worker_recv(int fd, wmsg *m);

#endif
