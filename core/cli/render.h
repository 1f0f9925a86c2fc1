/* The CLI's two renderers of the output model (core/notify.h): text for a
 * person (with the live progress line on a terminal, warnings and errors on
 * stderr, results on stdout, every untrusted string escaped by term.c), and
 * JSON (one document on stdout per run). The HTML report is a third. */
#ifndef DEL_CLI_RENDER_H
#define DEL_CLI_RENDER_H

#include <stdio.h>

#include "err.h"
#include "notify.h"
#include "pace.h"

/* seconds between plain progress lines when stdout is not a terminal */
#define RENDER_PLAIN_PROGRESS_SECONDS 5.0
/* the paces (rate, time left) of this many migrations at once (-j); the
 * longest unheard-of one makes room for a new one */
#define RENDER_PACE_SLOTS 16
#define RENDER_PACE_REVISION_MAX 128 /* a longer revision's progress line has no pace */

typedef struct render_pace {
    char revision[RENDER_PACE_REVISION_MAX];
    pace p;
    unsigned long heard; /* when it was last heard of (render_text's clock) */
} render_pace;

typedef struct render_text {
    FILE *out, *err;
    int quiet, verbose;
    int tty;                 /* out is a terminal: progress is one live line */
    int progress_shown;      /* the live line is on screen */
    double plain_interval;   /* seconds between plain progress lines */
    double last_plain;
    render_pace paces[RENDER_PACE_SLOTS]; /* per migration: its rate and time left */
    unsigned long heard;     /* progress events so far */
} render_text;

/* plain_interval <= 0: RENDER_PLAIN_PROGRESS_SECONDS */
void render_text_init(render_text *r, int quiet, int verbose, double plain_interval);
void render_text_event(const del_event *ev, void *payload);
void render_text_progress(const del_progress *p, void *payload);
/* The error line ("delembic: ..."), then "detail: ..." and "hint: ...". */
void render_text_error(FILE *f, const del_err *err);
/* A formatted line written escaped (bundle, plugin, server text). */
void render_line(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A migration's outcome as its event said it, for upgrade's and downgrade's
 * "results" (the status of a success is known by the result: applied or
 * downgraded). */
typedef struct render_outcome {
    del_event_type type;     /* DEL_EV_MIGRATION_SUCCEEDED, _SKIPPED, _REFUSED, _FAILED */
    char *revision, *status, *message;
    double seconds;
} render_outcome;

typedef struct render_json {
    int verbose;
    int documented;          /* a command's document was printed */
    /* check problems seen so far, for the result's document: kind, message */
    char **problems;
    size_t nproblems;
    /* migration outcomes seen so far, in the order they came */
    render_outcome *outcomes;
    size_t noutcomes;
} render_json;

void render_json_init(render_json *r, int verbose);
void render_json_event(const del_event *ev, void *payload);
void render_json_free(render_json *r);

#endif
