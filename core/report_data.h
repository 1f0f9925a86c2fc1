/* Everything the history page needs (delembic report, delembic serve), read
 * once into plain structs: the bundle's migrations with their statuses, every
 * attempt recorded in the run history (with a lane per concurrent worker for
 * the timeline), the Alembic heads, the dependency picture's model, and what
 * a run in progress is doing now. Renderers (core/cli/render_html.c, the
 * status document of serve) only read it; nothing here prints.
 *
 * It reads on a read-only session (default_transaction_read_only, set right
 * after connecting: nothing the page asks can write, whatever the database's
 * views and functions try). A database that cannot be reached or has no
 * Delembic tables yet still gives a page: every migration pending. */
#ifndef DEL_REPORT_DATA_H
#define DEL_REPORT_DATA_H

#include <libpq-fe.h>

#include "app.h"
#include "bundle.h"
#include "depgraph.h"
#include "err.h"
#include "store.h"
#include "util.h"

/* Attempts kept for the timeline and the details (the newest ones). */
#define REPORT_MAX_ATTEMPTS 20000

typedef struct rd_migration {
    const char *revision;     /* borrowed from the bundle's manifest, or the row */
    const char *description;  /* "" when none */
    dg_status status;
    int in_bundle;
    const char *applied_at;   /* NULL: never applied */
    double seconds;           /* of the recorded run */
    const char *identity;     /* the bundle's (NULL in old manifests) */
    const char *sha256;       /* of the .so */
    const char *file;
    const char *applied_identity; /* what ran (NULL for none) */
    const char *db_status;    /* delembic_version.status, or NULL */
    const char *hold;         /* NULL, or why it is held */
    const char *error;        /* the last failure's full text, while failed */
    const strvec *depends_on; /* NULL for a revision not in the bundle */
    strvec dependents;        /* revisions that need this one */
    size_t attempts;
    /* a run in progress: copy progress of the worker inferred to run it */
    long long progress_done, progress_total; /* -1: none */
    char *progress_what;      /* e.g. "COPY concept" (malloc'd) */
} rd_migration;

typedef struct rd_attempt {
    long long id;
    char *revision;
    double started, ended;    /* epoch seconds; ended 0 while unknown */
    double seconds;
    char *status;
    char *error;              /* NULL when none */
    char *username, *hostname;
    size_t lane;              /* 0-based: attempts that overlap get other lanes */
} rd_attempt;

typedef store_worker rd_worker;  /* a worker's session now (store.h) */

typedef struct report_data {
    char *generated_at;       /* UTC, ISO 8601 */
    char *database;           /* display URL: password masked */
    char *bundle_dir;
    char *schema;
    char *db_error;           /* NULL, or why the database could not be read */
    int tables_exist;
    bundle b;
    int have_bundle;
    rd_migration *m;          /* bundle order (the stable run order), then missing ones */
    size_t n;
    rd_attempt *a;            /* oldest first */
    size_t na, lanes;
    double first_start, last_end;
    size_t count[DG_NSTATUS];
    strvec alembic_heads;     /* in the database */
    int alembic_table;        /* the Alembic version table exists */
    int run_active;           /* an upgrade holds the run lock now */
    int run_pid;              /* its lock session's server pid */
    char *run_since;
    rd_worker *w;
    size_t nw;
    depgraph g;
    vstate st;                /* the rows the statuses came from */
} report_data;

/* A connection for reading the page: connected, then made read-only for
 * the session. NULL with err when the database cannot be reached. */
PGconn *report_connect(const app *a, const char *role, del_err *err);

/* Fill rd from the bundle and, when conn is not NULL, the database (a
 * failed query is recorded in rd->db_error; the page still renders). -1 with
 * err only when the bundle cannot be opened. */
int report_data_gather(const app *a, PGconn *conn, report_data *rd, del_err *err);
void report_data_free(report_data *rd);

/* Give each attempt of rd->a a lane: the first lane free at its start, so
 * attempts that overlapped in time (workers of a -j run, two runs) never
 * share one; sets rd->lanes, first_start and last_end. */
void report_data_lanes(report_data *rd);

/* A short text that changes whenever a migration's status, an attempt or
 * the run's progress changes (for the live page to notice). malloc'd. */
char *report_data_fingerprint(const report_data *rd);

#endif
