/* The text renderer (see render.h): turns events into lines for a person. */
#include "render.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "term.h"
#include "util.h"

/* erase the live progress line */
#define CLEAR_LINE "\r\033[K"

void render_text_init(render_text *r, int quiet, int verbose, double plain_interval)
{
    *r = (render_text){.out = stdout, .err = stderr, .quiet = quiet, .verbose = verbose,
                       .plain_interval = plain_interval > 0 ? plain_interval : RENDER_PLAIN_PROGRESS_SECONDS,
                       .last_plain = -1e9};
    r->tty = isatty(fileno(stdout));
}

static void vline(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void vline(FILE *f, const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        return;
    char *t = term_text(s);
    fputs(t, f);
    fputc('\n', f);
    free(t);
    free(s);
}

void render_line(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(f, fmt, ap);
    va_end(ap);
}

static void clear_progress(render_text *r)
{
    if (r->progress_shown) {
        fputs(CLEAR_LINE, r->out);
        r->progress_shown = 0;
    }
}

/* A line on stdout (or stderr), after the live progress line goes. */
static void put(render_text *r, FILE *f, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void put(render_text *r, FILE *f, const char *fmt, ...)
{
    clear_progress(r);
    va_list ap;
    va_start(ap, fmt);
    vline(f, fmt, ap);
    va_end(ap);
    fflush(f);
}

static int downgrading(const del_event *ev)
{
    return ev->status && !strcmp(ev->status, DEL_STATUS_DOWNGRADING);
}

static const char *mark(const del_event *ev, char *buf, size_t n)
{
    if (ev->marked && ev->revision)
        snprintf(buf, n, "%s ", ev->revision);
    else
        buf[0] = '\0';
    return buf;
}

void render_text_event(const del_event *ev, void *payload)
{
    render_text *r = payload;
    char mk[256], dur[32];
    const char *text = ev->text ? ev->text : "";
    switch (ev->type) {
    case DEL_EV_OUTPUT:
        put(r, r->out, "%s", text);
        return;
    case DEL_EV_CHECK_PROBLEM:
        put(r, r->out, "%s: %s", ev->field, ev->message);
        return;
    case DEL_EV_DIAGNOSTIC:
        put(r, r->err, "%s", text);
        return;
    case DEL_EV_DEBUG:
        if (r->verbose)
            put(r, r->err, "debug: %s", text);
        return;
    case DEL_EV_DOCUMENT:
        return;
    case DEL_EV_RUN_FINISHED:
        clear_progress(r);
        fflush(r->out);
        return;
    default:
        break;
    }
    if (r->quiet)
        return;
    switch (ev->type) {
    case DEL_EV_NOTE:
    case DEL_EV_RUN_NOTICE:
        put(r, r->out, "%s", text);
        break;
    case DEL_EV_WARNING:
        put(r, r->err, "%s", text);
        break;
    case DEL_EV_MIGRATION_STARTED:
        put(r, r->out, "%s %s: %s", downgrading(ev) ? "Downgrading" : "Running", ev->revision, ev->description);
        break;
    case DEL_EV_MIGRATION_LOG:
        put(r, r->out, "  %s: %s", ev->revision, ev->message);
        break;
    case DEL_EV_MIGRATION_SUCCEEDED:
        format_duration(ev->seconds, dur, sizeof dur);
        if (ev->status && !strcmp(ev->status, "committed_with_record"))
            put(r, r->out, "  %sOK (%s; committed with its record, though its worker reported: %s)",
                mark(ev, mk, sizeof mk), dur, ev->message);
        else if (ev->status && !strcmp(ev->status, "committed_before_exit"))
            put(r, r->out, "  %sOK (committed before its worker %s)", mark(ev, mk, sizeof mk), ev->message);
        else
            put(r, r->out, "  %sOK (%s)", mark(ev, mk, sizeof mk), dur);
        break;
    case DEL_EV_MIGRATION_SKIPPED:
        put(r, r->out, "  %s%s", mark(ev, mk, sizeof mk), downgrading(ev) ? ev->message : "already applied by another run");
        break;
    case DEL_EV_MIGRATION_REFUSED:
        put(r, r->out, "  %sREFUSED: %s", mark(ev, mk, sizeof mk), ev->message);
        break;
    case DEL_EV_MIGRATION_FAILED:
        if (ev->status && !strcmp(ev->status, "paused"))
            put(r, r->out, "  %sPAUSED: %s", mark(ev, mk, sizeof mk), ev->message);
        else
            put(r, r->out, "  %sFAILED: %s", mark(ev, mk, sizeof mk), ev->message);
        break;
    case DEL_EV_MIGRATION_WAITING:
        put(r, r->out, "  %s: %s", ev->revision, ev->message);
        break;
    default:
        break;
    }
}

/* The pace of rev's progress (NULL when its name is too long to keep). */
static pace *pace_of(render_text *r, const char *rev)
{
    if (!rev || strlen(rev) >= RENDER_PACE_REVISION_MAX)
        return NULL;
    render_pace *slot = NULL;
    r->heard++;
    for (size_t i = 0; i < RENDER_PACE_SLOTS; i++) {
        render_pace *s = &r->paces[i];
        if (s->heard && !strcmp(s->revision, rev)) {
            s->heard = r->heard;
            return &s->p;
        }
        if (!slot || s->heard < slot->heard)
            slot = s; /* unused (0) first, else the longest unheard-of */
    }
    memset(slot, 0, sizeof *slot);
    snprintf(slot->revision, sizeof slot->revision, "%s", rev);
    slot->heard = r->heard;
    return &slot->p;
}

/* "K001: 12300 of 30000 rows (41%), 2460 rows/s, about 7 s left": the
 * percent with a total, the rate and the time left once the pace is known */
static char *progress_text(render_text *r, const del_progress *p)
{
    pace *pc = pace_of(r, p->revision);
    if (pc)
        pace_sample(pc, monotonic_seconds(), p->done);
    double rate = pc ? pace_rate(pc) : -1;
    /* a batched migration: the host's own count of this run's rows and time
     * (a resumed run's earlier rows are not this run's pace) */
    if (p->batched && p->run_done > 0 && p->elapsed >= PACE_MIN_SECONDS)
        rate = (double)p->run_done / p->elapsed;
    char done[64], total[64], rt[64] = "", left[64] = "";
    pace_format_amount(p->done, p->unit, done, sizeof done);
    if (rate > 0) {
        char r_s[48];
        pace_format_rate(rate, p->unit, r_s, sizeof r_s);
        snprintf(rt, sizeof rt, ", %s", r_s);
    }
    char *s = NULL;
    int n;
    if (p->total > 0) {
        double eta = pace_eta(p->done, p->total, rate);
        if (eta >= 0 && p->done < p->total) {
            char l[48];
            pace_format_left(eta, l, sizeof l);
            snprintf(left, sizeof left, ", about %s left", l);
        }
        /* "12.3 MB of 45.6 MB", "12300 of 30000 rows" */
        pace_format_amount(p->total, p->unit, total, sizeof total);
        if (p->unit && !strcmp(p->unit, "bytes"))
            n = asprintf(&s, "  %s: %s of %s (%.0f%%)%s%s", p->revision, done, total,
                         pace_percent(p->done, p->total), rt, left);
        else
            n = asprintf(&s, "  %s: %lld of %s (%.0f%%)%s%s", p->revision, p->done, total,
                         pace_percent(p->done, p->total), rt, left);
    } else {
        n = asprintf(&s, "  %s: %s%s", p->revision, done, rt);
    }
    return n < 0 ? NULL : s;
}

void render_text_progress(const del_progress *p, void *payload)
{
    render_text *r = payload;
    if (r->quiet)
        return;
    char *s = progress_text(r, p);
    if (!s)
        return;
    if (r->tty) {
        fputs(CLEAR_LINE, r->out);
        char *t = term_text(s);
        fputs(t, r->out);
        free(t);
        free(s);
        fflush(r->out);
        r->progress_shown = 1;
        return;
    }
    double now = monotonic_seconds();
    if (now - r->last_plain < r->plain_interval) {
        free(s);
        return;
    }
    r->last_plain = now;
    put(r, r->out, "%s", s);
    free(s);
}

void render_text_error(FILE *f, const del_err *err)
{
    render_line(f, "delembic: %s", err->msg);
    if (err->detail[0])
        render_line(f, "detail: %s", err->detail);
    if (err->hint[0])
        render_line(f, "hint: %s", err->hint);
}
