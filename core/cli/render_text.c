/* The text renderer (see render.h): turns events into lines for a person. */
#include "render.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batchview.h"
#include "results.h"
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

/* ---- results (results.h) ---- */

/* The REVISION column: as wide as the longest revision shown. */
#define REVISION_COLUMN_MIN 14
#define APPLIED_AT_COLUMN 22 /* "2026-11-27 18:20:54+00" */

static int revision_width(const char *const *revs, size_t n, size_t stride)
{
    size_t w = REVISION_COLUMN_MIN;
    for (size_t i = 0; i < n; i++) {
        const char *rev = *(const char *const *)((const char *)revs + i * stride);
        if (rev && strlen(rev) > w)
            w = strlen(rev);
    }
    return (int)w;
}

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

#define STATUS_COLUMN 8             /* "applied", "pending", ... */
#define STATUS_COLUMN_UNDER_WAY 11  /* with a migration under way: "interrupted" */

static void draw_history(render_text *r, const del_history *h)
{
    int rw = h->n ? revision_width(&h->rows[0].revision, h->n, sizeof h->rows[0]) : REVISION_COLUMN_MIN;
    int sw = h->under_way ? STATUS_COLUMN_UNDER_WAY : STATUS_COLUMN;
    char dur[32];
    put(r, r->out, "%-*s %-*s %-*s %9s  %s", sw, "STATUS", rw, "REVISION", APPLIED_AT_COLUMN, "APPLIED AT", "TIME",
        "DESCRIPTION");
    for (size_t i = 0; i < h->n; i++) {
        const del_history_row *row = &h->rows[i];
        dur[0] = '\0';
        if (row->has_seconds)
            format_duration(row->seconds, dur, sizeof dur);
        if (!row->in_bundle) {
            put(r, r->out, "%-*s %-*s %-*s %9s  (in the database, not in this bundle; was %s)", sw, row->status, rw,
                row->revision, APPLIED_AT_COLUMN, or_empty(row->applied_at), dur, or_empty(row->db_status));
            continue;
        }
        put(r, r->out, "%-*s %-*s %-*s %9s  %s", sw, row->status, rw, row->revision, APPLIED_AT_COLUMN,
            or_empty(row->applied_at), dur, or_empty(row->description));
        if (row->progress) {
            char *prog = batchview_progress(row->progress), *when = batchview_when(row->progress);
            put(r, r->out, "%-*s %-*s   %s; %s", sw, "", rw, "", prog, when);
            free(prog);
            free(when);
        }
        if (row->error)
            put(r, r->out, "%-*s %-*s   error: %s", sw, "", rw, "", row->error);
        if (row->orphaned)
            put(r, r->out, "%-*s %-*s   %s", sw, "", rw, "", row->orphaned);
    }
}

static void draw_attempts(render_text *r, const del_attempts *at)
{
    int rw = at->n ? revision_width(&at->rows[0].revision, at->n, sizeof at->rows[0]) : REVISION_COLUMN_MIN;
    char dur[32];
    put(r, r->out, "%-11s %-*s %-*s %9s  %s", "STATUS", rw, "REVISION", APPLIED_AT_COLUMN, "STARTED AT", "TIME",
        "BY");
    for (size_t i = 0; i < at->n; i++) {
        const del_attempt_row *t = &at->rows[i];
        format_duration(t->seconds, dur, sizeof dur);
        put(r, r->out, "%-11s %-*s %-*s %9s  %s@%s", or_empty(t->status), rw, or_empty(t->revision),
            APPLIED_AT_COLUMN, or_empty(t->started_at), dur, t->username ? t->username : "?",
            t->hostname ? t->hostname : "?");
        if (t->error && *t->error)
            /* the exception column: a failure's error, an operator's note */
            put(r, r->out, "%-11s %-*s   %s: %s", "", rw, "",
                t->status && !strcmp(t->status, "failed") ? "error" : "note", t->error);
    }
}

static void draw_current(render_text *r, const del_current *c)
{
    sbuf hs = {0};
    for (size_t i = 0; i < c->nheads; i++)
        sbuf_printf(&hs, "%s%s", i ? ", " : "", c->heads[i]);
    put(r, r->out, "Database: %s", or_empty(c->database));
    put(r, r->out, "Current: %s", c->nheads ? hs.s : "(none applied)");
    put(r, r->out, "%zu of %zu applied, %zu pending, %zu failed%s", c->applied, c->total, c->pending, c->failed,
        c->changed ? " (some changed since applied: see 'delembic history')" : "");
    free(hs.s);
}

/* Who signed the bundle and when. */
static void draw_signature(render_text *r, const del_signature *t)
{
    if (!t->signed_bundle)
        put(r, r->out, "signature: none (the bundle is not signed)");
    else if (t->verified)
        put(r, r->out, "signature: good, key id %s (%s), bundle version %s, signed %s", or_empty(t->key_id),
            or_empty(t->trusted_key), t->bundle_version ? t->bundle_version : "(none)",
            t->signed_at ? t->signed_at : "(no time)");
    else if (t->trusted_keys)
        put(r, r->out, "signature: not accepted (see above)");
    else if (t->key_id)
        put(r, r->out, "signature: key id %s, bundle version %s, signed %s; not checked: no trusted keys configured",
            t->key_id, t->bundle_version ? t->bundle_version : "(none)", t->signed_at ? t->signed_at : "(no time)");
    else
        put(r, r->out, "signature: present but not checked (no trusted keys configured)");
}

static void draw_verify(render_text *r, const del_verify *v)
{
    if (v->signature)
        draw_signature(r, v->signature);
    put(r, r->out, "verify: %zu migration(s), %zu problem(s), %zu warning(s) in %s", v->migrations, v->problems,
        v->warnings, or_empty(v->bundle));
}

/* "a, b, c" or none */
static char *joined(const char *const *v, size_t n, const char *none)
{
    sbuf b = {0};
    for (size_t i = 0; i < n; i++)
        sbuf_printf(&b, "%s%s", i ? ", " : "", v[i]);
    return n ? b.s : xstrdup(none);
}

static void draw_show(render_text *r, const del_show *s)
{
    put(r, r->out, "Revision:     %s", s->revision);
    put(r, r->out, "Description:  %s", s->in_bundle ? or_empty(s->description) : "(not in this bundle)");
    if (s->in_bundle) {
        put(r, r->out, "File:         %s (sha256 %s)", or_empty(s->file), or_empty(s->sha256));
        put(r, r->out, "Identity:     %s", s->identity ? s->identity : "(none in this manifest)");
        char *l = joined(s->depends_on, s->ndepends_on, "(no Delembic migration)");
        put(r, r->out, "Depends on:   %s", l);
        free(l);
        l = joined(s->alembic, s->nalembic, "(no Alembic revision)");
        put(r, r->out, "Alembic:      %s", l);
        free(l);
        l = joined(s->dependents, s->ndependents, "(none)");
        put(r, r->out, "Dependents:   %s", l);
        free(l);
    }
    if (s->progress) {
        char *when = batchview_when(s->progress), *prog = batchview_progress(s->progress);
        put(r, r->out, "Status:       %s (%s)", or_empty(s->status), when);
        put(r, r->out, "Progress:     %s", prog);
        if (s->progress->cp->cursor)
            put(r, r->out, "Cursor:       %s (the next batch starts after it)", s->progress->cp->cursor);
        if (s->hold)
            put(r, r->out, "Hold:         %s", s->hold);
        free(when);
        free(prog);
    } else if (s->recorded) {
        char dur[32];
        format_duration(s->seconds, dur, sizeof dur);
        put(r, r->out, "Status:       %s (%s at %s, %s)", or_empty(s->status), or_empty(s->db_status),
            or_empty(s->applied_at), dur);
        if (s->applied_identity)
            put(r, r->out, "Applied code: identity %s", s->applied_identity);
        if (s->hold)
            put(r, r->out, "Hold:         %s", s->hold);
    } else {
        put(r, r->out, "Status:       %s", or_empty(s->status));
    }
    if (s->orphaned)
        put(r, r->out, "Warning:      %s", s->orphaned);
    put(r, r->out, "Attempts:     %zu", s->nattempts);
    for (size_t i = 0; i < s->nattempts; i++) {
        const del_attempt_row *t = &s->attempts[i];
        char dur[32];
        format_duration(t->seconds, dur, sizeof dur);
        put(r, r->out, "  #%lld %s  %-10s %8s  %s@%s", t->id, t->started_at ? t->started_at : "?",
            t->status ? t->status : "?", dur, t->username ? t->username : "?", t->hostname ? t->hostname : "?");
        if (t->error)
            put(r, r->out, "      %s", t->error);
    }
}

/* One line of upgrade's dry-run plan: the migration, its wave with -j, its mark. */
static void draw_plan_row(render_text *r, const del_upgrade *u, const del_plan_row *p)
{
    char mk[256] = "";
    if (p->blocked)
        snprintf(mk, sizeof mk, "  [BLOCKED]");
    else if (p->held)
        snprintf(mk, sizeof mk, "  [HELD]");
    else if (p->after_held)
        snprintf(mk, sizeof mk, "  [after HELD %s]", p->after_held);
    if (u->jobs > 1)
        put(r, r->out, "  wave %zu  %s: %s%s", p->wave, p->revision, or_empty(p->description), mk);
    else
        put(r, r->out, "  %s: %s%s", p->revision, or_empty(p->description), mk);
}

static void draw_blocked(render_text *r, const del_upgrade *u)
{
    for (size_t k = 0; k < u->nblocked; k++)
        put(r, r->out, "%s", u->blocked[k].message);
}

static void draw_held(render_text *r, const del_upgrade *u)
{
    for (size_t k = 0; k < u->nheld; k++)
        put(r, r->out, "%s", u->held[k].message);
}

/* upgrade: a dry run's plan (by wave with -j), then its BLOCKED and HELD
 * lines; a run stopped by HELD (or else BLOCKED) migrations says which. What
 * ran was drawn from its events. */
static void draw_upgrade(render_text *r, const del_upgrade *u)
{
    if (!u->planned)
        return;
    if (!u->dry_run) {
        if (u->ran)
            return;
        if (u->nheld)
            draw_held(r, u);
        else
            draw_blocked(r, u);
        return;
    }
    if (!u->nplan) {
        put(r, r->out, "Nothing to do: all %zu migrations are applied.", u->total);
    } else {
        put(r, r->out, "Would run %zu migration(s)%s:", u->nplan, u->jobs > 1 ? " (by wave)" : "");
        /* by wave: wave 1's items, then wave 2's, ... (each in plan order) */
        size_t waves = 0;
        for (size_t k = 0; k < u->nplan && u->jobs > 1; k++)
            if (u->plan[k].wave > waves)
                waves = u->plan[k].wave;
        for (size_t wv = 0; wv <= waves; wv++)
            for (size_t k = 0; k < u->nplan; k++)
                if (u->jobs <= 1 || u->plan[k].wave == wv)
                    draw_plan_row(r, u, &u->plan[k]);
    }
    draw_blocked(r, u);
    draw_held(r, u);
}

/* downgrade: its plan when it is a dry run or could not run (the migrations
 * without a downgrade marked); a run shows its events (-q: nothing). */
static void draw_downgrade(render_text *r, const del_downgrade *d)
{
    if (!d->planned || (r->quiet && !d->dry_run))
        return;
    if (!d->nplan) {
        put(r, r->out, "Nothing to downgrade: no migration is applied.");
        return;
    }
    if (!d->dry_run && !d->lacking)
        return;
    put(r, r->out, "Would downgrade %zu migration(s), in this order:", d->nplan);
    for (size_t k = 0; k < d->nplan; k++)
        put(r, r->out, "  %s: %s%s", d->plan[k].revision, or_empty(d->plan[k].description),
            d->plan[k].has_downgrade ? "" : "  [NO DOWNGRADE]");
}

/* stamp, forget, repair: what was skipped, then the records changed (or,
 * dry, that would be); -q: only a dry run's. */
static void draw_ops(render_text *r, const del_ops *o)
{
    if (r->quiet && !o->dry_run)
        return;
    for (size_t i = 0; i < o->nskipped; i++)
        put(r, r->out, "Skipped %s", o->skipped[i]);
    if (o->outcome.exit_code && !o->n)
        return;
    if (!o->n) {
        put(r, r->out, "Nothing to %s.", o->command);
        return;
    }
    put(r, r->out, "%s %zu record(s):", o->dry_run ? "Would change" : "Changed", o->n);
    for (size_t i = 0; i < o->n; i++)
        put(r, r->out, "  %s %s: %s", o->changes[i].action, o->changes[i].revision, or_empty(o->changes[i].note));
}

static void draw_result(render_text *r, const del_event *ev)
{
    switch (ev->result_type) {
    case DEL_RESULT_HISTORY:
        draw_history(r, ev->result);
        break;
    case DEL_RESULT_ATTEMPTS:
        draw_attempts(r, ev->result);
        break;
    case DEL_RESULT_CURRENT:
        draw_current(r, ev->result);
        break;
    case DEL_RESULT_VERIFY:
        draw_verify(r, ev->result);
        break;
    case DEL_RESULT_SHOW:
        draw_show(r, ev->result);
        break;
    case DEL_RESULT_UPGRADE:
        draw_upgrade(r, ev->result);
        break;
    case DEL_RESULT_DOWNGRADE:
        draw_downgrade(r, ev->result);
        break;
    case DEL_RESULT_OPS:
        draw_ops(r, ev->result);
        break;
    default:
        break;
    }
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
    case DEL_EV_RESULT:
        draw_result(r, ev);
        return;
    case DEL_EV_RUN_FINISHED:
        clear_progress(r);
        fflush(r->out);
        return;
    default:
        break;
    }
    if (r->quiet) {
        /* -q: only errors and warnings, on stderr; a failure names its
         * revision, as no "Running" line came before it */
        if (ev->type == DEL_EV_WARNING || ev->type == DEL_EV_RUN_NOTICE)
            put(r, r->err, "%s", text);
        else if (ev->type == DEL_EV_MIGRATION_REFUSED)
            put(r, r->err, "%s REFUSED: %s", ev->revision, ev->message);
        else if (ev->type == DEL_EV_MIGRATION_FAILED)
            put(r, r->err, "%s %s: %s", ev->revision,
                ev->status && !strcmp(ev->status, "paused") ? "PAUSED" : "FAILED", ev->message);
        return;
    }
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
