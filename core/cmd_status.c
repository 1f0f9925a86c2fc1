#include "cmd_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchview.h"
#include "bundle.h"
#include "db.h"
#include "drift.h"
#include "json.h"
#include "orphan.h"
#include "store.h"
#include "term.h"

typedef struct status_view {
    bundle b;
    int have_bundle;
    vstate st;
    PGconn *conn;
} status_view;

static int view_open(app *a, status_view *v, del_err *err)
{
    memset(v, 0, sizeof *v);
    if (bundle_open(a->bundle_dir, app_cache_dir(a), &v->b, err) != 0)
        return -1;
    v->have_bundle = 1;
    v->conn = app_connect(a, "status", err);
    if (!v->conn)
        return -1;
    return store_read_state(v->conn, a->cfg.version_table_schema, &v->st, err);
}

static void view_close(status_view *v)
{
    if (v->conn)
        PQfinish(v->conn);
    store_free_state(&v->st);
    if (v->have_bundle)
        bundle_close(&v->b);
}

/* applied | failed | pending | changed */
static const char *status_of(const status_view *v, size_t i, const vrow **row)
{
    const mentry *e = &v->b.mf.m[i];
    *row = store_find(&v->st, e->revision);
    if (!*row)
        return "pending";
    if ((*row)->succeeded) {
        if (drift_changed((*row)->checksum, e->identity, e->sha256))
            return "changed";
        return "applied";
    }
    return "failed";
}

/* The REVISION column: as wide as the longest revision shown. */
#define REVISION_COLUMN_MIN 14
#define APPLIED_AT_COLUMN 22 /* "2026-11-27 18:20:54+00" */
#define STATUS_COLUMN 8             /* "applied", "pending", ... */
#define STATUS_COLUMN_UNDER_WAY 11  /* with a migration under way: "interrupted" */

static int revision_width(const status_view *v, const store_attempts *at)
{
    size_t w = REVISION_COLUMN_MIN;
    for (size_t i = 0; i < v->b.mf.n; i++)
        if (strlen(v->b.mf.m[i].revision) > w)
            w = strlen(v->b.mf.m[i].revision);
    for (size_t i = 0; i < v->st.n; i++)
        if (strlen(v->st.rows[i].revision) > w)
            w = strlen(v->st.rows[i].revision);
    for (size_t i = 0; at && i < at->n; i++)
        if (at->a[i].revision && strlen(at->a[i].revision) > w)
            w = strlen(at->a[i].revision);
    return (int)w;
}

/* history --all: every attempt, oldest first. */
static int history_all(app *a, status_view *v, del_err *err)
{
    store_attempts at;
    if (store_read_attempts(v->conn, a->cfg.version_table_schema, &at, err) != 0)
        return -1;
    const del_notify *n = a->o->notify;
    int rw = revision_width(v, &at);
    json js = {0};
    if (a->o->json) {
        json_obj_open(&js, NULL);
        json_str(&js, "command", "history");
        json_bool(&js, "all", 1);
        json_arr_open(&js, "attempts");
    } else {
        del_emit_text(n, DEL_EV_OUTPUT, "%-11s %-*s %-*s %9s  %s", "STATUS", rw, "REVISION", APPLIED_AT_COLUMN,
                      "STARTED AT", "TIME", "BY");
    }
    for (size_t i = 0; i < at.n; i++) {
        const store_attempt *t = &at.a[i];
        if (a->o->json) {
            json_obj_open(&js, NULL);
            json_str(&js, "revision", t->revision);
            json_str(&js, "status", t->status);
            json_str(&js, "started_at", t->started_at);
            json_num(&js, "seconds", t->seconds);
            json_str(&js, "identity", t->checksum);
            json_str(&js, "error", t->exception);
            json_str(&js, "username", t->username);
            json_str(&js, "hostname", t->hostname);
            json_obj_close(&js);
            continue;
        }
        char dur[32];
        format_duration(t->seconds, dur, sizeof dur);
        del_emit_text(n, DEL_EV_OUTPUT, "%-11s %-*s %-*s %9s  %s@%s", t->status ? t->status : "", rw,
                      t->revision ? t->revision : "", APPLIED_AT_COLUMN, t->started_at ? t->started_at : "", dur,
                      t->username ? t->username : "?", t->hostname ? t->hostname : "?");
        if (t->exception && *t->exception)
            del_emit_text(n, DEL_EV_OUTPUT, "%-11s %-*s   error: %s", "", rw, "", t->exception);
    }
    if (a->o->json) {
        json_arr_close(&js);
        json_int(&js, "exit_code", 0);
        json_obj_close(&js);
        json_emit(&js, n);
    }
    store_free_attempts(&at);
    return 0;
}

int cmd_history(app *a, int all, del_err *err)
{
    status_view v;
    if (view_open(a, &v, err) != 0) {
        view_close(&v);
        return -1;
    }
    if (all) {
        int rc = history_all(a, &v, err);
        view_close(&v);
        return rc;
    }
    const del_notify *n = a->o->notify;
    strmap eidx = {0};
    strvec emsgs = {0};
    del_err quiet_err; /* the last errors are extra: a table of an older tool without them is fine */
    if (v.st.tables_exist && store_last_errors(v.conn, a->cfg.version_table_schema, &emsgs, &quiet_err) != 0)
        strvec_clear(&emsgs);
    for (size_t i = 0; i + 1 < emsgs.n; i += 2)
        strmap_put(&eidx, emsgs.v[i], (long)(i + 1));
    int rw = revision_width(&v, NULL);
    /* batched and non-transactional migrations under way (extra, as the last
     * errors: a database that cannot say shows their records) */
    store_checkpoint *cps = NULL;
    size_t ncps = 0;
    if (v.st.tables_exist && store_checkpoints(v.conn, a->cfg.version_table_schema, NULL, &cps, &ncps, &quiet_err) != 0) {
        cps = NULL;
        ncps = 0;
    }
    store_holder holder;
    int lock_held = batchview_any_running(cps, ncps) && store_lock_holder(v.conn, &holder) == 1;
    int sw = ncps ? STATUS_COLUMN_UNDER_WAY : STATUS_COLUMN;
    /* applied migrations whose Alembic dependencies are not applied now */
    alstate al;
    int have_al = 0;
    for (size_t i = 0; i < v.b.mf.n && !have_al; i++)
        have_al = v.b.mf.m[i].alembic.n && store_find(&v.st, v.b.mf.m[i].revision);
    if (have_al && alstate_read(v.conn, &v.b, &al, err) != 0) {
        strmap_free(&eidx);
        strvec_clear(&emsgs);
        store_free_checkpoints(cps, ncps);
        view_close(&v);
        return -1;
    }
    json js = {0};
    if (a->o->json) {
        json_obj_open(&js, NULL);
        json_str(&js, "command", "history");
        json_arr_open(&js, "migrations");
    } else {
        del_emit_text(n, DEL_EV_OUTPUT, "%-*s %-*s %-*s %9s  %s", sw, "STATUS", rw, "REVISION", APPLIED_AT_COLUMN,
                      "APPLIED AT", "TIME", "DESCRIPTION");
    }
    for (size_t k = 0; k < v.b.mf.n; k++) {
        size_t i = v.b.g.order[k];
        const mentry *e = &v.b.mf.m[i];
        const vrow *row;
        const char *s = status_of(&v, i, &row);
        const store_checkpoint *cp = batchview_find(cps, ncps, e->revision);
        batch_view bv = {0};
        if (cp && strcmp(s, "applied") && strcmp(s, "changed")) {
            batchview_make(&bv, cp, lock_held, row != NULL, a->cfg.batch_pause);
            s = bv.status;
        }
        long ei = strmap_get(&eidx, e->revision);
        const char *emsg = (ei >= 0 && strcmp(s, "failed") == 0) ? emsgs.v[ei] : NULL;
        char *orphan = NULL;
        if (have_al && (!strcmp(s, "applied") || !strcmp(s, "changed"))) {
            strvec missing = {0};
            alstate_missing(&al, e, &missing);
            if (missing.n)
                orphan = orphan_message(&missing);
            strvec_clear(&missing);
        }
        if (a->o->json) {
            json_obj_open(&js, NULL);
            json_str(&js, "revision", e->revision);
            json_str(&js, "status", s);
            json_str(&js, "description", e->description);
            json_str(&js, "applied_at", row ? row->applied_at : NULL);
            if (row)
                json_num(&js, "seconds", row->seconds);
            else
                json_str(&js, "seconds", NULL);
            json_str(&js, "sha256", e->sha256);
            json_str(&js, "identity", e->identity);
            /* the code that ran: its identity (the .so sha256 in rows of
             * earlier versions); applied_sha256 is the same, kept for
             * readers of the older key */
            json_str(&js, "applied_identity", row ? row->checksum : NULL);
            json_str(&js, "applied_sha256", row ? row->checksum : NULL);
            json_str(&js, "error", emsg);
            json_str(&js, "orphaned", orphan);
            batchview_json(&js, "progress", bv.cp ? &bv : NULL, 0);
            json_obj_close(&js);
            free(orphan);
            continue;
        }
        char dur[32] = "";
        if (row)
            format_duration(row->seconds, dur, sizeof dur);
        del_emit_text(n, DEL_EV_OUTPUT, "%-*s %-*s %-*s %9s  %s", sw, s, rw, e->revision, APPLIED_AT_COLUMN,
                      row ? row->applied_at : "", dur, e->description);
        if (bv.cp) {
            char *prog = batchview_progress(&bv), *when = batchview_when(&bv);
            del_emit_text(n, DEL_EV_OUTPUT, "%-*s %-*s   %s; %s", sw, "", rw, "", prog, when);
            free(prog);
            free(when);
        }
        if (emsg)
            del_emit_text(n, DEL_EV_OUTPUT, "%-*s %-*s   error: %s", sw, "", rw, "", emsg);
        if (orphan)
            del_emit_text(n, DEL_EV_OUTPUT, "%-*s %-*s   %s", sw, "", rw, "", orphan);
        free(orphan);
    }
    /* applied in the database, absent from the bundle */
    for (size_t k = 0; k < v.st.n; k++) {
        const vrow *row = &v.st.rows[k];
        if (manifest_find(&v.b.mf, row->revision) >= 0)
            continue;
        if (a->o->json) {
            json_obj_open(&js, NULL);
            json_str(&js, "revision", row->revision);
            json_str(&js, "status", "missing");
            json_str(&js, "db_status", row->status);
            json_str(&js, "applied_at", row->applied_at);
            json_obj_close(&js);
        } else {
            char dur[32];
            format_duration(row->seconds, dur, sizeof dur);
            del_emit_text(n, DEL_EV_OUTPUT, "%-*s %-*s %-*s %9s  (in the database, not in this bundle; was %s)",
                          sw, "missing", rw, row->revision, APPLIED_AT_COLUMN, row->applied_at, dur, row->status);
        }
    }
    if (a->o->json) {
        json_arr_close(&js);
        json_int(&js, "exit_code", 0);
        json_obj_close(&js);
        json_emit(&js, n);
    }
    strmap_free(&eidx);
    strvec_clear(&emsgs);
    store_free_checkpoints(cps, ncps);
    if (have_al)
        alstate_free(&al);
    view_close(&v);
    return 0;
}

int cmd_current(app *a, del_err *err)
{
    status_view v;
    if (view_open(a, &v, err) != 0) {
        view_close(&v);
        return -1;
    }
    size_t applied = 0, failed = 0, pending = 0, changed = 0;
    char *done = xcalloc(v.b.mf.n, 1);
    for (size_t i = 0; i < v.b.mf.n; i++) {
        const vrow *row;
        const char *s = status_of(&v, i, &row);
        if (!strcmp(s, "applied") || !strcmp(s, "changed")) {
            applied++;
            done[i] = 1;
            changed += !strcmp(s, "changed");
        } else if (!strcmp(s, "failed")) {
            failed++;
        } else {
            pending++;
        }
    }
    /* applied heads: applied revisions no applied revision depends on */
    strvec heads = {0};
    for (size_t k = 0; k < v.b.mf.n; k++) {
        size_t i = v.b.g.order[k];
        if (!done[i])
            continue;
        int is_head = 1;
        for (size_t j = 0; j < v.b.mf.n && is_head; j++) {
            if (!done[j])
                continue;
            for (size_t d = 0; d < v.b.g.nodes[j].ndeps; d++)
                if (v.b.g.nodes[j].deps[d] == i)
                    is_head = 0;
        }
        if (is_head)
            strvec_push(&heads, v.b.mf.m[i].revision);
    }
    char *url = app_display_url(a);
    if (a->o->json) {
        json js = {0};
        json_obj_open(&js, NULL);
        json_str(&js, "command", "current");
        json_str(&js, "database", url);
        json_arr_open(&js, "heads");
        for (size_t i = 0; i < heads.n; i++)
            json_str(&js, NULL, heads.v[i]);
        json_arr_close(&js);
        json_int(&js, "applied", (long long)applied);
        json_int(&js, "pending", (long long)pending);
        json_int(&js, "failed", (long long)failed);
        json_int(&js, "changed", (long long)changed);
        json_int(&js, "total", (long long)v.b.mf.n);
        json_int(&js, "exit_code", 0);
        json_obj_close(&js);
        json_emit(&js, a->o->notify);
    } else {
        char hs[2048];
        strvec_join(&heads, ", ", hs, sizeof hs);
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Database: %s", url);
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Current: %s", heads.n ? hs : "(none applied)");
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "%zu of %zu applied, %zu pending, %zu failed%s", applied, v.b.mf.n, pending, failed,
               changed ? " (some changed since applied: see 'delembic history')" : "");
    }
    free(url);
    free(done);
    strvec_clear(&heads);
    view_close(&v);
    return 0;
}
