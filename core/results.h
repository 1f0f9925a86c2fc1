/* What read-only commands answer, as plain structs: the results of the
 * output model (notify.h). A command fills one and hands it to the caller's
 * renderers as a DEL_EV_RESULT event; the text renderer draws columns, the
 * JSON renderer writes the document; neither the command nor the core knows
 * how it looks. Strings are borrowed: they live during the callback. */
#ifndef DEL_RESULTS_H
#define DEL_RESULTS_H

#include <stddef.h>

#include "err.h"

struct batch_view; /* batchview.h: a migration under way, its words and its JSON */

typedef enum del_result_type {
    DEL_RESULT_HISTORY = 1,   /* del_history: the latest state of each revision */
    DEL_RESULT_ATTEMPTS,      /* del_attempts: every attempt (history --all) */
    DEL_RESULT_CURRENT,       /* del_current: heads and counts */
    DEL_RESULT_VERIFY,        /* del_verify: the summary after its DEL_EV_CHECK_PROBLEM events */
    DEL_RESULT_SHOW,          /* del_show: one revision, whole */
    DEL_RESULT_UPGRADE,       /* del_upgrade: the plan and how the run ended, after its migration events */
    DEL_RESULT_DOWNGRADE,     /* del_downgrade: the same for a downgrade */
    DEL_RESULT_OPS,           /* del_ops: what stamp, forget or repair changed (or would) */
} del_result_type;

/* One revision in `history`: a migration of the bundle, or (in_bundle 0) a
 * revision the database has that the bundle lacks. */
typedef struct del_history_row {
    const char *revision;
    const char *status;           /* applied, changed, failed, pending, missing */
    const char *description;
    const char *applied_at;       /* NULL: never applied */
    double seconds;
    int has_seconds;
    const char *sha256, *identity;     /* the bundle's */
    const char *applied_identity;      /* what ran (its checksum), or NULL */
    const char *error;                 /* the last failure while failed */
    const char *orphaned;              /* why its Alembic dependencies are gone, or NULL */
    const char *db_status;             /* missing rows: the status in the database */
    int in_bundle;
    const struct batch_view *progress; /* a batched or non-transactional migration under way, or NULL */
} del_history_row;

typedef struct del_history {
    const del_history_row *rows;  /* the bundle's run order, then missing ones */
    size_t n;
    int under_way;                /* some migration is under way: the wider status column */
} del_history;

typedef struct del_attempt_row {
    long long id;
    const char *revision, *status, *started_at;
    double seconds;
    const char *identity, *error, *username, *hostname;
} del_attempt_row;

typedef struct del_attempts {
    const del_attempt_row *rows;  /* oldest first */
    size_t n;
} del_attempts;

typedef struct del_current {
    const char *database;         /* display URL, password masked */
    const char *const *heads;     /* applied revisions no applied one depends on */
    size_t nheads;
    size_t applied, pending, failed, changed, total;
} del_current;

/* `show REV`: everything about one revision. */
typedef struct del_show {
    const char *revision;
    const char *status;            /* pending applied failed changed missing, or under way */
    int in_bundle;
    const char *description, *file, *sha256, *identity; /* the bundle's (NULL when not in it) */
    int recorded;                  /* it has a version row: */
    const char *db_status, *applied_at, *applied_identity, *hold;
    double seconds;
    const char *const *depends_on; /* "D001 (applied)" */
    size_t ndepends_on;
    const char *const *alembic;    /* "3d1e... (applied now)" */
    size_t nalembic;
    const char *const *dependents;
    size_t ndependents;
    const char *orphaned;
    const struct batch_view *progress; /* under way, or NULL */
    const del_attempt_row *attempts;   /* oldest first; error: a failure's, else an operator's note */
    size_t nattempts;
} del_show;

/* The bundle's signature as verify saw it. */
typedef struct del_signature {
    int signed_bundle, verified;
    size_t trusted_keys;
    const char *key_id, *trusted_key, *bundle_version, *signed_at; /* NULL: none */
} del_signature;

/* verify's summary; each problem was an event before it. */
typedef struct del_verify {
    const char *bundle;
    const del_signature *signature; /* NULL when the check did not get that far */
    size_t migrations, problems, warnings;
} del_verify;

/* How a command that changes things ended: its exit code and error. */
typedef struct del_outcome {
    int exit_code;                /* 0: it succeeded */
    const char *error, *error_kind, *hint; /* NULL: none */
} del_outcome;

/* The outcome of a command that returned code (0 or -1) with err; borrows err. */
del_outcome del_outcome_of(int code, const del_err *err);

/* One migration upgrade would run, in run order. */
typedef struct del_plan_row {
    const char *revision, *description;
    size_t wave;                  /* 1-based */
    int blocked;                  /* waits for Alembic revisions not applied */
    int held;                     /* on hold itself */
    const char *after_held;       /* the held revision it waits for, or NULL */
} del_plan_row;

/* A planned migration whose Alembic dependencies are not applied. */
typedef struct del_blocked_row {
    const char *revision;
    const char *const *missing_alembic;
    size_t nmissing;
    const char *message;          /* the BLOCKED line */
} del_blocked_row;

/* A planned migration on hold, and the planned ones waiting for it. */
typedef struct del_held_row {
    const char *revision, *hold;
    const char *const *dependents;
    size_t ndependents;
    const char *message;          /* the HELD line */
} del_held_row;

/* upgrade's answer; each migration it ran was an event before it. */
typedef struct del_upgrade {
    const char *target;           /* "head" when none was given */
    int dry_run;
    int planned;                  /* 0: it stopped before planning; only outcome says more */
    int jobs;                     /* > 1: the dry-run plan is shown by wave */
    size_t total;                 /* migrations in the bundle */
    const del_plan_row *plan;
    size_t nplan;
    const del_blocked_row *blocked;
    size_t nblocked;
    const del_held_row *held;
    size_t nheld;
    const char *const *orphaned;  /* "REV: orphaned: ..." */
    size_t norphaned;
    int ran;                      /* the executor ran: the results are its migration events */
    del_outcome outcome;
} del_upgrade;

/* One migration a downgrade takes down, in its order. */
typedef struct del_downgrade_row {
    const char *revision, *description;
    int has_downgrade;
} del_downgrade_row;

/* downgrade's answer; each migration it took down was an event before it. */
typedef struct del_downgrade {
    const char *target;
    int dry_run;
    int planned;                  /* 0: it stopped before planning */
    const del_downgrade_row *plan;
    size_t nplan;
    int lacking;                  /* some planned migration has no downgrade: nothing ran */
    int ran;                      /* the executor ran */
    del_outcome outcome;
} del_downgrade;

/* One record stamp, forget or repair changed (or, dry, would change). */
typedef struct del_op_change {
    const char *revision;
    const char *action;           /* stamped, forgotten, accepted, dropped */
    const char *note;
} del_op_change;

typedef struct del_ops {
    const char *command;          /* stamp, forget, repair */
    int dry_run;
    const del_op_change *changes;
    size_t n;
    const char *const *skipped;   /* "REV: why" */
    size_t nskipped;
    del_outcome outcome;
} del_ops;

#endif
