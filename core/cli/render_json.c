/* The JSON renderer (see render.h): --json prints one document per run, the
 * command's result (results.h) written here, or the document a command not
 * yet ported to results built itself; debug lines (-v) go to stderr. */
#include "render.h"

#include <stdio.h>
#include <stdlib.h>

#include "json.h"
#include "results.h"

void render_json_init(render_json *r, int verbose)
{
    *r = (render_json){.verbose = verbose};
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

static void print_document(render_json *r, const char *text)
{
    fputs(text, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    r->documented = 1;
}

/* A result is the command's answer: its document, with the exit code of a
 * command that answered (0). */
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
    default:
        break;
    }
    json_int(&js, "exit_code", 0);
    json_obj_close(&js);
    print_document(r, js.b.s);
    free(js.b.s);
}

void render_json_event(const del_event *ev, void *payload)
{
    render_json *r = payload;
    if (ev->type == DEL_EV_RESULT) {
        result_json(r, ev);
    } else if (ev->type == DEL_EV_DOCUMENT) {
        fputs(ev->text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        r->documented = 1;
    } else if (ev->type == DEL_EV_DEBUG && r->verbose) {
        render_line(stderr, "debug: %s", ev->text);
    }
}
