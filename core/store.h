/* The database state, in the same tables as the Python Delembic:
 *   delembic_version(revision, applied_at, status, execution_time_seconds, checksum)
 *   delembic_run_history(id, revision, started_at, ended_at, duration_seconds,
 *                        status, exception, username, hostname, checksum)
 * plus the advisory lock that serialises concurrent runs. */
#ifndef DEL_STORE_H
#define DEL_STORE_H

#include <libpq-fe.h>

#include "err.h"
#include "util.h"

/* The session-level advisory lock key ("delembic" in ASCII, folded). */
#define STORE_LOCK_KEY 0x64656c656d626963LL

typedef struct vrow {
    char *revision;
    char *status;       /* success | failed */
    char *applied_at;   /* text as the server prints it */
    double seconds;
    char *checksum;     /* NULL for rows from the Python tool */
} vrow;

typedef struct vstate {
    vrow *rows;
    size_t n;
    strmap index;       /* revision -> row */
    int tables_exist;
} vstate;

/* Create missing tables and columns (call with the lock held). */
int store_ensure_schema(PGconn *conn, del_err *err);
/* Wait for the run lock; timeout < 0 waits for ever. Exit class DEL_ELOCK. */
int store_lock(PGconn *conn, double timeout, int quiet, del_err *err);
int store_read_state(PGconn *conn, vstate *st, del_err *err);
/* For a run: the lock (waiting up to lock_timeout), the tables, the state;
 * one round trip when the lock is free and the tables are there. In two
 * halves: send the query, do other work, read the answer (sent is what
 * store_begin_run_send returned). */
int store_begin_run_send(PGconn *conn);
int store_begin_run_finish(PGconn *conn, int sent, double lock_timeout, int quiet, vstate *st,
                           del_err *err);
void store_free_state(vstate *st);
const vrow *store_find(const vstate *st, const char *revision);

/* The status of one revision now ("" when no row); for crash recovery. */
int store_status_of(PGconn *conn, const char *revision, char *buf, size_t bufsz, del_err *err);

/* Failure record, on its own connection/transaction after the work rolled back:
 * replaces a failed row, never a success. */
int store_record_failure(PGconn *conn, const char *revision, double started, double ended,
                         const char *message, const char *checksum, del_err *err);
/* The success record, run inside the migration's own transaction: a
 * statement prepared once per worker connection that upserts the version row
 * (never over a success) and adds the history row, then allows the commit
 * (the worker's guard trigger refuses any COMMIT it did not allow). It raises
 * an error naming STORE_GUARD_MISSING when the transaction is not the one the
 * worker opened (xid: the plugin ended it and began another), or
 * STORE_ALREADY_APPLIED when another run recorded a success meanwhile. */
#define STORE_GUARD_MISSING "delembic-guard-missing"
#define STORE_ALREADY_APPLIED "delembic-already-applied"
const char *store_prepare_record_sql(void);
char *store_record_sql(PGconn *conn, const char *revision, double started, double ended,
                       const char *checksum, long long xid);

/* Who runs this: OS user and host name, for history rows. */
const char *store_username(void);
const char *store_hostname(void);

#endif
