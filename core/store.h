/* The database state, in the same tables as the Python Delembic, in the
 * section's version_table_schema (default public; every name is qualified,
 * so a session's search_path never decides where a record goes):
 *   delembic_version(revision, applied_at, status, execution_time_seconds, checksum, hold)
 *   delembic_run_history(id, revision, started_at, ended_at, duration_seconds,
 *                        status, exception, username, hostname, checksum)
 * plus the advisory lock that serialises concurrent runs, and the fence that
 * lets a migration's transaction check that its run still holds it. */
#ifndef DEL_STORE_H
#define DEL_STORE_H

#include <libpq-fe.h>

#include "err.h"
#include "notify.h"
#include "util.h"

/* The session-level advisory lock key ("delembic" in ASCII, folded). */
#define STORE_LOCK_KEY 0x64656c656d626963LL
#define STORE_DEFAULT_SCHEMA "public"

/* Every status the host writes. delembic_version.status stays success or
 * failed (the Python tool reads it); the history carries the rest. */
typedef enum store_status {
    STORE_SUCCESS,
    STORE_FAILED,
    STORE_STAMPED,
    STORE_DOWNGRADED,
    STORE_INTERRUPTED,
    STORE_PAUSED,
    STORE_RUNNING,
    STORE_FORGOTTEN,   /* an operator made it pending again (forget) */
    STORE_REPAIRED,    /* an operator accepted the bundle's code for it (repair) */
} store_status;

const char *store_status_name(store_status s);

/* How times are shown: with their zone ("2026-11-27 18:20:54+00"). */
#define STORE_TIME_FORMAT "YYYY-MM-DD HH24:MI:SSOF"

/* The hold on a failed row whose work is partly committed (the migration
 * committed by itself): upgrade will not run it again until an operator
 * clears the hold. */
#define STORE_HOLD_SELF_COMMIT "committed by itself"
/* The hold on a failed row whose migration left its transaction and then ran
 * commands that may have committed on their own. */
#define STORE_HOLD_MAY_COMMIT "may have committed outside its transaction"

typedef struct vrow {
    char *revision;
    char *status;       /* success | failed */
    char *applied_at;   /* text as the server prints it */
    double seconds;
    char *checksum;     /* NULL for rows from the Python tool */
    char *hold;         /* NULL, or why upgrade must not run it again by itself */
    int succeeded;      /* status is success */
} vrow;

typedef struct vstate {
    vrow *rows;
    size_t n;
    strmap index;       /* revision -> row */
    int tables_exist;
    int claims;         /* revisions held by a committed claim not yet settled */
} vstate;

/* The run's fence token: its lock session's server pid and a key from that
 * session's start time. The lock session holds a second advisory lock on
 * (pid, key) for its whole life, so a transaction can check cheaply, and
 * safely against pid reuse, that this very session still exists. */
typedef struct store_token {
    int pid;
    int key;
} store_token;

/* "schema".table, quoted as an identifier (malloc'd). */
char *store_table(const char *schema, const char *table);

/* Create the schema if missing, missing tables and columns (lock held). */
int store_ensure_schema(PGconn *conn, const char *schema, del_err *err);
/* Wait for the run lock; timeout < 0 waits for ever. Exit class DEL_KIND_LOCK. */
int store_lock(PGconn *conn, double timeout, const del_notify *notify, del_err *err);
int store_read_state(PGconn *conn, const char *schema, vstate *st, del_err *err);
/* For a run: the lock (waiting up to lock_timeout), the fence token, the
 * tables, the state; one round trip when the lock is free and the tables are
 * there. In two halves: send the query, do other work, read the answer (sent
 * is what store_begin_run_send returned). */
int store_begin_run_send(PGconn *conn, const char *schema);
int store_begin_run_finish(PGconn *conn, const char *schema, int sent, double lock_timeout,
                           const del_notify *notify, vstate *st, store_token *tok, del_err *err);
void store_free_state(vstate *st);
const vrow *store_find(const vstate *st, const char *revision);

/* The status of one revision now ("" when no row); for crash recovery. */
int store_status_of(PGconn *conn, const char *schema, const char *revision, char *buf,
                    size_t bufsz, del_err *err);
/* Did transaction xid (txid_current() form) commit? 1 yes, 0 no, -1 unknown. */
int store_xid_committed(PGconn *conn, long long xid);
/* Is revision's version row a success that transaction xid (txid_current()
 * form) wrote? 1 yes, 0 no, -1 unknown. */
int store_recorded_by(PGconn *conn, const char *schema, const char *revision, long long xid);

/* Failure record, on its own connection/transaction after the work rolled back:
 * replaces a failed row, never a success; hold is NULL or STORE_HOLD_*. */
int store_record_failure(PGconn *conn, const char *schema, const char *revision, double started,
                         double ended, const char *message, const char *checksum,
                         const char *hold, del_err *err);
/* The success record, run inside the migration's own transaction: a
 * statement prepared once per worker connection (every name qualified) that
 * upserts the version row (never over a success) and adds the history row,
 * then allows the commit (the worker's guard trigger refuses any COMMIT it did
 * not allow). It fails with an error that store_record_error_of classifies
 * (by SQLSTATE, never by message text):
 *   STORE_RECORD_GUARD_MISSING   the transaction is not the one the worker
 *                                opened (xid: the plugin ended it and began another),
 *   STORE_RECORD_LOST_LOCK       the run's lock session is gone or no longer
 *                                holds the run lock (the fence),
 *   STORE_RECORD_ALREADY_APPLIED another run recorded a success meanwhile.
 * It also releases session-level advisory locks a plugin left behind, and
 * answers, second, with the catalog dependencies this session has created
 * (pg_depend rows inserted, not yet counted in the statistics): compared
 * with the count when the transaction opened, it tells the worker that a
 * plugin created objects. */
typedef enum store_record_error {
    STORE_RECORD_OTHER = 0,       /* any other error: the statement's own message says it */
    STORE_RECORD_GUARD_MISSING,
    STORE_RECORD_LOST_LOCK,
    STORE_RECORD_ALREADY_APPLIED, /* the record */
    STORE_RECORD_NOT_APPLIED,     /* the unrecord */
} store_record_error;
/* What a failed record (unrecord: 0) or unrecord (1) statement's result r
 * says; STORE_RECORD_OTHER for NULL or an error raised in a function or
 * trigger (one with a context), which the statement itself never raises. */
store_record_error store_record_error_of(const PGresult *r, int unrecord);
#define STORE_RECORD_STATEMENT "delembic_record"
char *store_prepare_record_sql(const char *schema, const store_token *tok);
/* The EXECUTE of the record: its text values read the same whatever
 * client_encoding and standard_conforming_strings the plugin left. */
char *store_record_sql(const char *revision, double started, double ended, const char *checksum,
                       long long xid);

/* Claims: every migration's transaction inserts, before its plugin runs, a
 * row (transaction id, revision, user, host) into STORE_CLAIM_TABLE, and the
 * success record deletes it in the same transaction. A claim that is ever
 * visible was committed by something other than the record: the plugin
 * committed by itself. So even when the host and its workers are killed
 * before anyone could record it, the next run sees the claim and holds the
 * revision (STORE_HOLD_SELF_COMMIT) instead of running its work again; under
 * the run lock it turns the claim into a held row with a history row
 * (STORE_CLAIM_MESSAGE). Read-only commands show such a revision as held.
 * store_claim_cte: the WITH clause the worker's prepared open statement
 * starts with ($1: the revision); store_claim_arg: "(<revision literal>)" for
 * its EXECUTE; store_claim_retarget_sql: when the transaction opened for one
 * migration runs another. */
#define STORE_CLAIM_TABLE "delembic_claim"
#define STORE_CLAIM_MESSAGE                                                                        \
    "the migration committed by itself; its work up to that point is committed (the run that ran it ended before it could record this)"
char *store_claim_cte(const char *schema);
char *store_claim_arg(const char *revision);
char *store_claim_retarget_sql(const char *schema, const char *revision);

/* The downgrade's record, run inside the migration's own transaction after
 * its downgrade callback: a statement prepared once per worker connection
 * (only by workers of a downgrade) that removes the success version row and
 * adds a `downgraded` history row, then allows the commit; it fails with
 * STORE_RECORD_GUARD_MISSING and STORE_RECORD_LOST_LOCK as the record does,
 * and STORE_RECORD_NOT_APPLIED when the row is no longer a success (another
 * run downgraded or forgot it meanwhile). Its EXECUTE: store_unrecord_sql, with
 * the arguments of store_record_sql. */
#define STORE_UNRECORD_STATEMENT "delembic_unrecord"
char *store_prepare_unrecord_sql(const char *schema, const store_token *tok);
char *store_unrecord_sql(const char *revision, double started, double ended, const char *checksum,
                         long long xid);

/* Batched (DM_BATCHED) and non-transactional (DM_NO_TRANSACTION) migrations
 * keep one row in STORE_CHECKPOINT_TABLE while they are under way:
 *   delembic_checkpoint(revision PK, mode 'batched'|'no_transaction', cursor,
 *     rows_done, total, batches, batch_size, state 'running'|'paused',
 *     started_at, updated_at, last_batch_seconds, username, hostname, identity)
 * A batched migration's row exists from its first committed batch (each
 * batch upserts it in the batch's own transaction, fenced like the success
 * record) until its success record deletes it in validate's transaction; a
 * run stopped between batches leaves it `paused`, and the next upgrade
 * resumes from its cursor, only with the code that wrote it (identity: the
 * manifest entry's identity, else its sha256; NULL, from before it was
 * recorded, resumes with any). A non-transactional migration commits its row
 * (`running`) before upgrade runs in autocommit, and the success record
 * deletes it: a row still there at the next run means the run died in
 * between (recorded `interrupted`; the migration runs again). */
#define STORE_CHECKPOINT_TABLE "delembic_checkpoint"
#define STORE_MODE_BATCHED "batched"
#define STORE_MODE_NO_TRANSACTION "no_transaction"
#define STORE_CP_RUNNING "running"
#define STORE_CP_PAUSED "paused"

typedef struct store_checkpoint {
    char *revision;
    char *mode;            /* STORE_MODE_* */
    char *cursor;          /* NULL: from the start */
    long long rows_done;
    long long total;       /* -1: unknown */
    long long batches;
    long long batch_size;  /* 0: unknown */
    char *state;           /* STORE_CP_* */
    char *started_at, *updated_at; /* STORE_TIME_FORMAT */
    double started_epoch, updated_epoch; /* seconds since 1970, for rates */
    double last_batch_seconds; /* -1: unknown */
    char *username, *hostname; /* NULL: unknown */
    char *identity;        /* the code that wrote it (the manifest's identity, else
                            * its sha256); NULL: written before it was recorded */
} store_checkpoint;

/* Every checkpoint row, by revision (none when the table is not there);
 * revision NULL for all, else that one only (0 or 1 row). */
int store_checkpoints(PGconn *conn, const char *schema, const char *revision, store_checkpoint **out,
                      size_t *n, del_err *err);
void store_free_checkpoints(store_checkpoint *cps, size_t n);

/* The statement that ends each batch of a batched migration (and the
 * committed claim of a non-transactional one), run in its transaction right
 * before COMMIT: it upserts revision's checkpoint (state running), deletes
 * the transaction's claim, and, fenced as the success record is (it raises
 * STORE_GUARD_MISSING when xid > 0 is not the transaction, STORE_LOST_LOCK
 * when the run lost its lock), allows the commit. cursor NULL: from the
 * start; total < 0 and batch_size 0 and seconds < 0: unknown. */
typedef struct store_progress {
    const char *mode;      /* STORE_MODE_* */
    const char *cursor;
    long long rows_done, total, batches, batch_size;
    double last_batch_seconds;
    const char *identity;  /* the migration's (manifest identity, else sha256) */
} store_progress;
char *store_checkpoint_commit_sql(const char *schema, const store_token *tok, const char *revision,
                                  const store_progress *p, long long xid);
/* In each batch's transaction, before its callback: a transaction-level
 * advisory lock on the revision's checkpoint (a batch of an earlier run
 * whose client died may still be committing: this waits for it), then the
 * checkpoint as it is now, one row: cursor, rows_done, total (-1: none),
 * batches, batch_size (0: none), mode (NULL when there is no row), identity
 * (NULL when none was recorded). */
char *store_checkpoint_lock_sql(const char *schema, const char *revision);
/* Deletes revision's checkpoint row: in the transaction of its success record. */
char *store_checkpoint_delete_sql(const char *schema, const char *revision);
/* A batched migration stopped between batches (SIGINT/SIGTERM): a `paused`
 * history row (message says where it stopped) and its checkpoint's state
 * paused; its version row is left as it is (pending, or failed before). */
int store_record_paused(PGconn *conn, const char *schema, const char *revision, double started,
                        double ended, const char *message, del_err *err);
/* The replicas' replay lag: the largest, in seconds (0 with none, or none
 * behind), and how many replicas there are; -1 when it cannot be read. */
int store_replica_lag(PGconn *conn, double *lag, int *replicas, char *msg, size_t msgsz);
/* The history's message for a non-transactional migration whose run ended
 * between its committed claim and its record (STORE_CP_RUNNING row found by
 * the next run, under the lock): recorded `interrupted`, and run again. */
#define STORE_NOTX_INTERRUPTED_MESSAGE                                                             \
    "the run ended while this non-transactional migration ran (a crash or a kill); it runs again, from the start"

/* The session holding the run lock in this database: 1 and h filled, 0
 * when none holds it, -1 when it cannot be asked. */
typedef struct store_holder {
    int pid;
    char application[128], host[128], user[128];
    char since[32]; /* its session's start, YYYY-MM-DD HH:MM:SS */
} store_holder;
int store_lock_holder(PGconn *conn, store_holder *h);

/* Who runs this: OS user and host name, for history rows. */
const char *store_username(void);
const char *store_hostname(void);

/* A server session's start time in microseconds, from pg_stat_get_activity
 * row s: with its pid, it names the session (a pid alone may have been taken
 * by another session since). The worker reports it, the parent matches it. */
#define STORE_BACKEND_KEY                                                                          \
    "(pg_catalog.date_part('epoch', s.backend_start) OPERATOR(pg_catalog.*)"                       \
    " 1000000::double precision)::bigint"

/* End the server session with this pid and start key (a worker's, as it told
 * the parent; STORE_BACKEND_KEY): 0, or -1 when the query failed. */
int store_terminate_backend(PGconn *conn, int pid, long long key);
/* 1 while that session is still there, else 0. */
int store_backend_alive(PGconn *conn, int pid, long long key);

/* Rollback protection (trust_run.h): the versions of signed bundles run
 * here, in STORE_BUNDLE_HISTORY_TABLE(id, bundle_version, key_id, signed_at,
 * recorded_at, username, hostname), created by the first record. */
#define STORE_BUNDLE_HISTORY_TABLE "delembic_bundle_history"
/* Every version recorded, pushed to out (none when there is no table yet). */
int store_bundle_versions(PGconn *conn, const char *schema, strvec *out, del_err *err);
/* signed_at: "" or NULL for none. */
int store_record_bundle_version(PGconn *conn, const char *schema, const char *version, const char *key_id,
                                const char *signed_at, del_err *err);

/* A worker's application_name: this, then its process id. */
#define STORE_WORKER_APP_PREFIX "delembic worker pid="

/* A worker's server session now (pg_stat_activity), with the COPY it runs. */
typedef struct store_worker {
    int pid;
    char *state;              /* pg_stat_activity.state */
    char *since;              /* xact_start (text), or NULL */
    char *copy_table;         /* NULL when no COPY is running */
    long long copy_rows, copy_bytes, copy_bytes_total; /* -1: unknown */
} store_worker;
/* The sessions of this database's workers (by application_name), by pid. */
int store_read_workers(PGconn *conn, store_worker **out, size_t *n, del_err *err);
void store_free_workers(store_worker *w, size_t n);

/* One row of delembic_run_history: one attempt. */
typedef struct store_attempt {
    long long id;
    char *revision, *status, *started_at, *exception, *username, *hostname, *checksum; /* NULL: none */
    double seconds;
    double started, ended;     /* epoch seconds; 0: not recorded */
} store_attempt;

typedef struct store_attempts {
    store_attempt *a;
    size_t n;
} store_attempts;

/* The attempts, in the order they ran (none when the tables are not there):
 * of revision (NULL: of every revision), the newest `newest` of them (0: all). */
int store_read_attempts(PGconn *conn, const char *schema, const char *revision, int newest,
                        store_attempts *out, del_err *err);
void store_free_attempts(store_attempts *at);
/* For each revision whose latest attempt failed: its revision, then its
 * error, pushed to pairs. */
int store_last_errors(PGconn *conn, const char *schema, strvec *pairs, del_err *err);

#endif
