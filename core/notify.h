/* The output model: core code never prints; it reports what happens as
 * events (a run started, a migration started / logged / succeeded / failed /
 * was skipped / refused, a warning, a check problem, a plain note, a debug
 * line, a command's result (results.h)) and live progress, through the
 * callbacks the caller provides -- the shape of libgit2's
 * git_checkout_options with its notify_cb and progress_cb. The CLI holds two
 * renderers (core/cli/render_text.c, core/cli/render_json.c); a NULL
 * callback means "not interested", so DEL_NOTIFY_INIT silences everything.
 * Pointers in an event are valid only during the callback. */
#ifndef DEL_NOTIFY_H
#define DEL_NOTIFY_H

#include <stdarg.h>

#define DEL_NOTIFY_VERSION 1

typedef enum del_event_type {
    DEL_EV_NOTE,               /* an info line ("Wrote X", "Nothing to do ..."): text; hidden by -q */
    DEL_EV_OUTPUT,             /* a result line of a text command (history, current, graph, plan): text */
    DEL_EV_WARNING,            /* text (the whole line), revision when about one; hidden by -q */
    DEL_EV_DEBUG,              /* -v: the host's SQL and the timings of its phases: text */
    DEL_EV_DIAGNOSTIC,         /* what went wrong with one file of a build (compiler output): text, stderr, always shown */
    DEL_EV_MIGRATION_STARTED,  /* revision, description */
    DEL_EV_MIGRATION_LOG,      /* revision, message (dm_log) */
    DEL_EV_MIGRATION_SUCCEEDED,/* revision, seconds, message: what the worker said when it was unsure */
    DEL_EV_MIGRATION_SKIPPED,  /* revision: already applied by another run */
    DEL_EV_MIGRATION_REFUSED,  /* revision, message: a bundle problem */
    DEL_EV_MIGRATION_FAILED,   /* revision, seconds, message, status (failed, interrupted, paused:
                                  a batched migration stopped between batches, resumable) */
    DEL_EV_MIGRATION_WAITING,  /* revision, message: a batched migration waits (replica lag) */
    DEL_EV_RUN_NOTICE,         /* the run itself: "Interrupted ...", "Lost the run lock ...": text */
    DEL_EV_CHECK_PROBLEM,      /* verify: field (the check), message, severity */
    DEL_EV_RUN_FINISHED,       /* the executor is done: the live progress line goes */
    DEL_EV_RESULT,             /* a command's result: result_type, result (results.h) */
} del_event_type;

/* status of MIGRATION_STARTED and MIGRATION_SKIPPED during a downgrade
 * (skipped: message says why) */
#define DEL_STATUS_DOWNGRADING "downgrading"

typedef enum del_severity { DEL_SEV_ERROR = 0, DEL_SEV_WARNING } del_severity;

typedef struct del_event {
    del_event_type type;
    const char *revision;
    const char *description;
    const char *status;
    const char *message;
    const char *field;
    const char *text;          /* the line as text output shows it, where the type says */
    double seconds;
    int marked;                /* executor lines: name the revision (several run at once) */
    del_severity severity;
    int result_type;           /* DEL_EV_RESULT: a del_result_type */
    const void *result;        /* DEL_EV_RESULT: the struct result_type names */
} del_event;

typedef struct del_progress {
    const char *revision;
    long long done;
    long long total;           /* 0: unknown */
    const char *unit;          /* "rows" */
    /* a batched migration (DM_BATCHED; issue 12), after each committed
     * batch: done is the rows done in all runs (from its checkpoint), total
     * the estimate its batch callback gave (0: none); the rest below. For a
     * rate and a time left: run_done rows in elapsed seconds in this run. */
    int batched;
    long long batches;         /* batches committed, all runs */
    long long batch_size;      /* the size the next batch takes */
    long long run_done;        /* rows done by this run */
    double elapsed;            /* seconds since this run started the migration */
    double last_batch_seconds; /* how long the last batch took */
} del_progress;

typedef struct del_notify {
    unsigned int version;
    void (*event_cb)(const del_event *ev, void *payload);
    void (*progress_cb)(const del_progress *p, void *payload);
    void *payload;
} del_notify;

#define DEL_NOTIFY_INIT {DEL_NOTIFY_VERSION, NULL, NULL, NULL}

/* Hand ev to n's event callback (n or the callback may be NULL). */
void del_emit(const del_notify *n, const del_event *ev);
/* A DEL_EV_RESULT event: result is the struct of results.h result_type names. */
void del_emit_result(const del_notify *n, int result_type, const void *result);
void del_emit_progress(const del_notify *n, const del_progress *p);
/* An event of type with text formatted. */
void del_emit_text(const del_notify *n, del_event_type type, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void del_emit_vtext(const del_notify *n, del_event_type type, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));
/* Whether anyone listens (to skip formatting debug lines nobody reads). */
int del_listening(const del_notify *n);

#endif
