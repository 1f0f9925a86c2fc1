/* Running a plan (or, with exec_opts.downgrade, a downgrade plan): the parent keeps the lock and the state connection and
 * never runs plugin code; up to `jobs` workers run migrations whose
 * dependencies have committed; after a failure nothing new starts; crashes
 * are recorded with their signal; SIGINT/SIGTERM cancel, roll back, record
 * "interrupted" and exit 130/143; a migration past the timeout is cancelled,
 * then killed, and recorded as timed out; a run whose lock session is gone
 * starts nothing new, cancels what runs (the fence refuses its commits
 * anyway), records on a fresh connection and exits 3; a migration that
 * committed by itself, or whose worker reports that work may have committed
 * outside its transaction, is recorded as failed with a hold (one whose
 * transaction committed with its own success record succeeded). A dead
 * worker's server session is terminated only when its pid and start key are
 * the ones the worker last reported. */
#ifndef DEL_EXECUTOR_H
#define DEL_EXECUTOR_H

#include <stdio.h>

#include "batchsize.h"
#include "bundle.h"
#include "notify.h"
#include "plan.h"
#include "store.h"

typedef struct exec_opts {
    int jobs;
    int quiet;
    int verbose;
    const char *url;
    const char *statement_timeout;
    const char *lock_timeout;
    double timeout;          /* wall-clock seconds per migration; 0: none */
    const char *schema;      /* version_table_schema */
    store_token token;       /* the run's fence (its lock session) */
    const del_notify *notify;/* what happens goes there */
    batch_policy batch;      /* batched migrations' pacing (the section's batch_* settings) */
    int downgrade;           /* run the plan's downgrade callbacks: a migration starts after
                              * every planned migration that depends on it is downgraded */
} exec_opts;

typedef struct exec_result {
    size_t applied, skipped, failed;
    size_t paused;           /* batched migrations stopped between batches (resumable) */
    int interrupted_by;      /* signal number, or 0 */
    int bundle_error;
} exec_result;

/* Returns 0, or -1 with err holding the first error (its kind: migration,
 * lock, interrupted with the signal, bundle, database). */
int executor_run(const bundle *b, const plan *p, PGconn *state_conn, const exec_opts *o,
                 exec_result *res, del_err *err);

#endif
