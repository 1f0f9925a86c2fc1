/* What read-only commands answer, as plain structs: the results of the
 * output model (notify.h). A command fills one and hands it to the caller's
 * renderers as a DEL_EV_RESULT event; the text renderer draws columns, the
 * JSON renderer writes the document; neither the command nor the core knows
 * how it looks. Strings are borrowed: they live during the callback. */
#ifndef DEL_RESULTS_H
#define DEL_RESULTS_H

#include <stddef.h>

struct batch_view; /* batchview.h: a migration under way, its words and its JSON */

typedef enum del_result_type {
    DEL_RESULT_HISTORY = 1,   /* del_history: the latest state of each revision */
    DEL_RESULT_ATTEMPTS,      /* del_attempts: every attempt (history --all) */
    DEL_RESULT_CURRENT,       /* del_current: heads and counts */
    DEL_RESULT_VERIFY,        /* del_verify: the summary after its DEL_EV_CHECK_PROBLEM events */
    DEL_RESULT_SHOW,          /* del_show: one revision, whole */
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

#endif
