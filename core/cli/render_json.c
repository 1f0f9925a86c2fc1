/* The JSON renderer (see render.h): --json prints one document per run, the
 * command's result (results.h) written here, or the document a command not
 * yet ported to results built itself; debug lines (-v) go to stderr. It
 * collects what comes before a result that the document holds: verify's
 * check problems, and the migration events of upgrade and downgrade (their
 * "results"). */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchview.h"
#include "json.h"
#include "results.h"
#include "util.h"

void render_json_init(render_json *r, int verbose)
{
    *r = (render_json){.verbose = verbose};
}

static void forget_outcomes(render_json *r)
{
    for (size_t i = 0; i < r->noutcomes; i++) {
        free(r->outcomes[i].revision);
        free(r->outcomes[i].status);
        free(r->outcomes[i].message);
    }
    free(r->outcomes);
    r->outcomes = NULL;
    r->noutcomes = 0;
}

void render_json_free(render_json *r)
{
    for (size_t i = 0; i < r->nproblems; i++)
        free(r->problems[i]);
    free(r->problems);
    r->problems = NULL;
    r->nproblems = 0;
    forget_outcomes(r);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void collect_outcome(render_json *r, const del_event *ev)
{
    r->outcomes = xrealloc(r->outcomes, (r->noutcomes + 1) * sizeof *r->outcomes);
    render_outcome *o = &r->outcomes[r->noutcomes++];
    *o = (render_outcome){.type = ev->type, .revision = dup_or_null(ev->revision), .seconds = ev->seconds};
    switch (ev->type) {
    case DEL_EV_MIGRATION_SKIPPED:
        o->status = xstrdup("skipped");
        o->message = dup_or_null(ev->message);
        break;
    case DEL_EV_MIGRATION_REFUSED:
        o->status = xstrdup("refused");
        o->message = dup_or_null(ev->message);
        break;
    case DEL_EV_MIGRATION_FAILED:
        o->status = xstrdup(ev->status ? ev->status : "failed"); /* failed, interrupted */
        o->message = dup_or_null(ev->message);
        break;
    default:
        break; /* succeeded: the result names its status; no message */
    }
}

/* "results": every migration that ran, as its events said; success is
 * succeeded_status (applied, downgraded). */
static void results_json(json *js, const render_json *r, const char *succeeded_status)
{
    json_arr_open(js, "results");
    for (size_t i = 0; i < r->noutcomes; i++) {
        const render_outcome *o = &r->outcomes[i];
        json_obj_open(js, NULL);
        json_str(js, "revision", o->revision);
        json_str(js, "status", o->type == DEL_EV_MIGRATION_SUCCEEDED ? succeeded_status : o->status);
        json_num(js, "seconds", o->seconds);
        json_str(js, "message", o->message);
        json_obj_close(js);
    }
    json_arr_close(js);
}

static void strings_json(json *js, const char *key, const char *const *v, size_t n)
{
    json_arr_open(js, key);
    for (size_t i = 0; i < n; i++)
        json_str(js, NULL, v[i]);
    json_arr_close(js);
}

static void upgrade_json(json *js, const render_json *r, const del_upgrade *u)
{
    json_str(js, "command", "upgrade");
    if (u->planned) {
        json_str(js, "target", u->target);
        json_bool(js, "dry_run", u->dry_run);
        json_arr_open(js, "plan");
        for (size_t k = 0; k < u->nplan; k++) {
            const del_plan_row *p = &u->plan[k];
            json_obj_open(js, NULL);
            json_str(js, "revision", p->revision);
            json_str(js, "description", p->description);
            json_int(js, "wave", (long long)p->wave);
            if (p->after_held)
                json_str(js, "after_held", p->after_held);
            json_obj_close(js);
        }
        json_arr_close(js);
        json_arr_open(js, "blocked");
        for (size_t k = 0; k < u->nblocked; k++) {
            const del_blocked_row *b = &u->blocked[k];
            json_obj_open(js, NULL);
            json_str(js, "revision", b->revision);
            strings_json(js, "missing_alembic", b->missing_alembic, b->nmissing);
            json_str(js, "message", b->message);
            json_obj_close(js);
        }
        json_arr_close(js);
        json_arr_open(js, "held");
        for (size_t k = 0; k < u->nheld; k++) {
            const del_held_row *h = &u->held[k];
            json_obj_open(js, NULL);
            json_str(js, "revision", h->revision);
            json_str(js, "hold", h->hold);
            strings_json(js, "dependents", h->dependents, h->ndependents);
            json_str(js, "message", h->message);
            json_obj_close(js);
        }
        json_arr_close(js);
        strings_json(js, "orphaned", u->orphaned, u->norphaned);
    }
    if (u->ran)
        results_json(js, r, "applied");
    const del_outcome *o = &u->outcome;
    json_int(js, "exit_code", o->exit_code);
    json_str(js, "error", o->error);
    json_str(js, "error_kind", o->error_kind);
    if (o->hint)
        json_str(js, "hint", o->hint);
}

/* How a command that changes things ended: exit_code, error_kind, error. */
static void outcome_json(json *js, const del_outcome *o)
{
    json_int(js, "exit_code", o->exit_code);
    json_str(js, "error_kind", o->error_kind);
    json_str(js, "error", o->error);
}

static void downgrade_json(json *js, const render_json *r, const del_downgrade *d)
{
    json_str(js, "command", "downgrade");
    if (d->planned) {
        json_str(js, "target", d->target);
        json_bool(js, "dry_run", d->dry_run);
        json_arr_open(js, "plan");
        for (size_t k = 0; k < d->nplan; k++) {
            json_obj_open(js, NULL);
            json_str(js, "revision", d->plan[k].revision);
            json_str(js, "description", d->plan[k].description);
            json_bool(js, "has_downgrade", d->plan[k].has_downgrade);
            json_obj_close(js);
        }
        json_arr_close(js);
    }
    if (d->ran)
        results_json(js, r, "downgraded");
    outcome_json(js, &d->outcome);
}

static void ops_json(json *js, const del_ops *o)
{
    json_str(js, "command", o->command);
    json_bool(js, "dry_run", o->dry_run);
    json_arr_open(js, "changes");
    for (size_t i = 0; i < o->n; i++) {
        json_obj_open(js, NULL);
        json_str(js, "revision", o->changes[i].revision);
        json_str(js, "action", o->changes[i].action);
        json_str(js, "note", o->changes[i].note);
        json_obj_close(js);
    }
    json_arr_close(js);
    strings_json(js, "skipped", o->skipped, o->nskipped);
    outcome_json(js, &o->outcome);
}

static void history_json(json *js, const del_history *h)
{
    json_str(js, "command", "history");
    json_arr_open(js, "migrations");
    for (size_t i = 0; i < h->n; i++) {
        const del_history_row *row = &h->rows[i];
        json_obj_open(js, NULL);
        json_str(js, "revision", row->revision);
        json_str(js, "status", row->status);
        if (!row->in_bundle) {
            json_str(js, "db_status", row->db_status);
            json_str(js, "applied_at", row->applied_at);
            json_obj_close(js);
            continue;
        }
        json_str(js, "description", row->description);
        json_str(js, "applied_at", row->applied_at);
        if (row->has_seconds)
            json_num(js, "seconds", row->seconds);
        else
            json_str(js, "seconds", NULL);
        json_str(js, "sha256", row->sha256);
        json_str(js, "identity", row->identity);
        /* the code that ran: its identity (the .so sha256 in rows of earlier
         * versions); applied_sha256 is the same, kept for readers of the
         * older key */
        json_str(js, "applied_identity", row->applied_identity);
        json_str(js, "applied_sha256", row->applied_identity);
        json_str(js, "error", row->error);
        json_str(js, "orphaned", row->orphaned);
        batchview_json(js, "progress", row->progress, 0);
        json_obj_close(js);
    }
    json_arr_close(js);
}

static void attempts_json(json *js, const del_attempts *at)
{
    json_str(js, "command", "history");
    json_bool(js, "all", 1);
    json_arr_open(js, "attempts");
    for (size_t i = 0; i < at->n; i++) {
        const del_attempt_row *t = &at->rows[i];
        json_obj_open(js, NULL);
        json_str(js, "revision", t->revision);
        json_str(js, "status", t->status);
        json_str(js, "started_at", t->started_at);
        json_num(js, "seconds", t->seconds);
        json_str(js, "identity", t->identity);
        json_str(js, "error", t->error);
        json_str(js, "username", t->username);
        json_str(js, "hostname", t->hostname);
        json_obj_close(js);
    }
    json_arr_close(js);
}

static void current_json(json *js, const del_current *c)
{
    json_str(js, "command", "current");
    json_str(js, "database", c->database);
    json_arr_open(js, "heads");
    for (size_t i = 0; i < c->nheads; i++)
        json_str(js, NULL, c->heads[i]);
    json_arr_close(js);
    json_int(js, "applied", (long long)c->applied);
    json_int(js, "pending", (long long)c->pending);
    json_int(js, "failed", (long long)c->failed);
    json_int(js, "changed", (long long)c->changed);
    json_int(js, "total", (long long)c->total);
}

static void verify_json(json *js, const render_json *r, const del_verify *v)
{
    json_str(js, "command", "verify");
    json_str(js, "bundle", v->bundle);
    json_arr_open(js, "problems");
    for (size_t i = 0; i + 1 < r->nproblems; i += 2) {
        json_obj_open(js, NULL);
        json_str(js, "kind", r->problems[i]);
        json_str(js, "message", r->problems[i + 1]);
        json_obj_close(js);
    }
    json_arr_close(js);
    if (v->signature) {
        const del_signature *t = v->signature;
        json_obj_open(js, "signature");
        json_bool(js, "signed", t->signed_bundle);
        json_bool(js, "verified", t->verified);
        json_int(js, "trusted_keys", (long long)t->trusted_keys);
        json_str(js, "key_id", t->key_id);
        json_str(js, "trusted_key", t->trusted_key);
        json_str(js, "bundle_version", t->bundle_version);
        json_str(js, "signed_at", t->signed_at);
        json_obj_close(js);
    }
    char msg[64];
    snprintf(msg, sizeof msg, "%zu problem(s)", v->problems);
    json_int(js, "migrations", (long long)v->migrations);
    json_int(js, "problem_count", (long long)v->problems);
    json_int(js, "warnings", (long long)v->warnings);
    json_bool(js, "ok", v->problems == 0);
    /* verify answers even when it found problems: the document says how it ends */
    json_int(js, "exit_code", v->problems ? DEL_EXIT_USAGE : 0);
    json_str(js, "error_kind", v->problems ? del_kind_name(DEL_KIND_BUNDLE) : NULL);
    json_str(js, "error", v->problems ? msg : NULL);
}


static void show_json(json *js, const del_show *r)
{
    json_str(js, "command", "show");
    json_str(js, "revision", r->revision);
    json_str(js, "status", r->status);
    json_str(js, "description", r->description);
    json_str(js, "file", r->file);
    json_str(js, "sha256", r->sha256);
    json_str(js, "identity", r->identity);
    json_str(js, "applied_identity", r->applied_identity);
    json_str(js, "applied_at", r->applied_at);
    json_str(js, "hold", r->hold);
    strings_json(js, "depends_on", r->depends_on, r->ndepends_on);
    strings_json(js, "alembic", r->alembic, r->nalembic);
    strings_json(js, "dependents", r->dependents, r->ndependents);
    json_str(js, "orphaned", r->orphaned);
    batchview_json(js, "progress", r->progress, 1);
    json_arr_open(js, "attempts");
    for (size_t i = 0; i < r->nattempts; i++) {
        const del_attempt_row *t = &r->attempts[i];
        char id[32];
        snprintf(id, sizeof id, "%lld", t->id);
        json_obj_open(js, NULL);
        json_str(js, "id", id);
        json_str(js, "started_at", t->started_at);
        json_num(js, "seconds", t->seconds);
        json_str(js, "status", t->status);
        json_str(js, "user", t->username);
        json_str(js, "host", t->hostname);
        /* the exception column: a failure's error, an operator's note */
        int failed = t->status && !strcmp(t->status, "failed");
        json_str(js, "error", failed ? t->error : NULL);
        json_str(js, "note", failed ? NULL : t->error);
        json_str(js, "identity", t->identity);
        json_obj_close(js);
    }
    json_arr_close(js);
}

static void print_document(render_json *r, const char *text)
{
    fputs(text, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    r->documented = 1;
}

/* A result is the command's answer: its document, with the exit code of a
 * read-only command that answered (0); upgrade, downgrade and the operator
 * commands carry their outcome. */
static void result_json(render_json *r, const del_event *ev)
{
    json js = {0};
    json_obj_open(&js, NULL);
    switch (ev->result_type) {
    case DEL_RESULT_HISTORY:
        history_json(&js, ev->result);
        break;
    case DEL_RESULT_ATTEMPTS:
        attempts_json(&js, ev->result);
        break;
    case DEL_RESULT_CURRENT:
        current_json(&js, ev->result);
        break;
    case DEL_RESULT_VERIFY:
        verify_json(&js, r, ev->result);
        break;
    case DEL_RESULT_SHOW:
        show_json(&js, ev->result);
        break;
    case DEL_RESULT_UPGRADE:
        upgrade_json(&js, r, ev->result);
        break;
    case DEL_RESULT_DOWNGRADE:
        downgrade_json(&js, r, ev->result);
        break;
    case DEL_RESULT_OPS:
        ops_json(&js, ev->result);
        break;
    default:
        break;
    }
    /* commands that change things say how they ended themselves */
    if (ev->result_type == DEL_RESULT_HISTORY || ev->result_type == DEL_RESULT_ATTEMPTS ||
        ev->result_type == DEL_RESULT_CURRENT || ev->result_type == DEL_RESULT_SHOW)
        json_int(&js, "exit_code", 0);
    if (ev->result_type == DEL_RESULT_SHOW) { /* its keys as they always were */
        json_str(&js, "error_kind", NULL);
        json_str(&js, "error", NULL);
    }
    json_obj_close(&js);
    print_document(r, js.b.s);
    free(js.b.s);
    /* a run's outcomes belong to the document that holds them */
    if (ev->result_type == DEL_RESULT_UPGRADE || ev->result_type == DEL_RESULT_DOWNGRADE)
        forget_outcomes(r);
}

void render_json_event(const del_event *ev, void *payload)
{
    render_json *r = payload;
    if (ev->type == DEL_EV_RESULT) {
        result_json(r, ev);
    } else if (ev->type == DEL_EV_MIGRATION_SUCCEEDED || ev->type == DEL_EV_MIGRATION_SKIPPED ||
               ev->type == DEL_EV_MIGRATION_REFUSED || ev->type == DEL_EV_MIGRATION_FAILED) {
        collect_outcome(r, ev);
    } else if (ev->type == DEL_EV_CHECK_PROBLEM) {
        r->problems = xrealloc(r->problems, (r->nproblems + 2) * sizeof *r->problems);
        r->problems[r->nproblems++] = xstrdup(ev->field ? ev->field : "");
        r->problems[r->nproblems++] = xstrdup(ev->message ? ev->message : "");
    } else if (ev->type == DEL_EV_WARNING) {
        render_line(stderr, "%s", ev->text); /* stdout holds the one document */
    } else if (ev->type == DEL_EV_MIGRATION_LOG) {
        render_line(stderr, "  %s: %s", ev->revision, ev->message);
    } else if (ev->type == DEL_EV_DEBUG && r->verbose) {
        render_line(stderr, "debug: %s", ev->text);
    }
}
