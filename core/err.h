/* Errors as values: a core function that can fail returns -1 (or NULL) and
 * fills a del_err with a kind (what sort of thing went wrong), one line for
 * the operator, an optional detail and an optional hint (what to do, printed
 * on its own line as "hint: ..."). Only the CLI turns a kind into an exit
 * code (del_exit_code), in one place. */
#ifndef DEL_ERR_H
#define DEL_ERR_H

#include <stdarg.h>

typedef enum del_kind {
    DEL_KIND_NONE = 0,
    DEL_KIND_USAGE,        /* the command line */
    DEL_KIND_CONFIG,       /* delembic.yaml, pipeline.yaml, the environment, the project folder */
    DEL_KIND_BUNDLE,       /* manifest, plugin files, descriptors, the DAG, the build */
    DEL_KIND_DATABASE,     /* connecting, the server's answers, the records */
    DEL_KIND_MIGRATION,    /* a migration failed, or is HELD */
    DEL_KIND_ALEMBIC,      /* a migration is BLOCKED by a missing Alembic revision */
    DEL_KIND_LOCK,         /* the run lock: not taken in time, or lost */
    DEL_KIND_INTERRUPTED,  /* SIGINT or SIGTERM (signal holds which) */
} del_kind;

/* Exit codes, as the README documents them. */
enum del_exit {
    DEL_EXIT_OK = 0,
    DEL_EXIT_FAILED = 1,   /* a migration failed, was BLOCKED or HELD */
    DEL_EXIT_USAGE = 2,    /* usage, configuration, bundle or database error */
    DEL_EXIT_LOCK = 3,     /* the lock could not be taken in time, or was lost */
    DEL_EXIT_SIGNAL = 128, /* + the signal: interrupted */
};

/* One size for a message end to end: SDK messages (DM_MSG_MAX), worker
 * datagrams, errors. */
#define DEL_MSG_MAX 4096
#define DEL_HINT_MAX 512

typedef struct del_err {
    del_kind kind;
    int signal;              /* DEL_KIND_INTERRUPTED: SIGINT or SIGTERM */
    int reported;            /* already shown as an event (a FAILED line): not printed again */
    char msg[DEL_MSG_MAX];   /* lowercase: what went wrong first */
    char detail[DEL_MSG_MAX];/* optional */
    char hint[DEL_HINT_MAX]; /* optional: "run 'delembic build'" */
} del_err;

/* Set err (if not NULL): kind, message; detail and hint cleared. Returns -1. */
int del_fail(del_err *err, del_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int del_vfail(del_err *err, del_kind kind, const char *fmt, va_list ap) __attribute__((format(printf, 3, 0)));
/* Add a hint / a detail to the error already set. Return -1. */
int del_hint(del_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int del_detail(del_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void del_err_clear(del_err *err);
/* Prefix an existing message: "context: old message". Returns -1. */
int del_err_wrap(del_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether err holds an error. */
int del_failed(const del_err *err);

/* The exit code of a kind (the one mapping). */
int del_exit_code(const del_err *err);
/* The kind's name in JSON ("usage", "config", ...); NULL for DEL_KIND_NONE. */
const char *del_kind_name(del_kind kind);

#endif
