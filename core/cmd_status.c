#include "cmd_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batchview.h"
#include "bundle.h"
#include "db.h"
#include "drift.h"
#include "orphan.h"
#include "results.h"
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

/* history --all: every attempt, oldest first. */
static int history_all(app *a, status_view *v, del_err *err)
{
    store_attempts at;
    if (store_read_attempts(v->conn, a->cfg.version_table_schema, NULL, 0, &at, err) != 0)
        return -1;
    del_attempt_row *rows = xcalloc(at.n, sizeof *rows);
    for (size_t i = 0; i < at.n; i++) {
        const store_attempt *t = &at.a[i];
        rows[i] = (del_attempt_row){.revision = t->revision, .status = t->status, .started_at = t->started_at,
                                    .seconds = t->seconds, .identity = t->checksum, .error = t->exception,
                                    .username = t->username, .hostname = t->hostname};
    }
    del_attempts res = {.rows = rows, .n = at.n};
    del_emit_result(a->o->notify, DEL_RESULT_ATTEMPTS, &res);
    free(rows);
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
    strmap eidx = {0};
    strvec emsgs = {0};
    del_err quiet_err; /* the last errors are extra: a table of an older tool without them is fine */
    if (v.st.tables_exist && store_last_errors(v.conn, a->cfg.version_table_schema, &emsgs, &quiet_err) != 0)
        strvec_clear(&emsgs);
    for (size_t i = 0; i + 1 < emsgs.n; i += 2)
        strmap_put(&eidx, emsgs.v[i], (long)(i + 1));
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
    del_history_row *rows = xcalloc(v.b.mf.n + v.st.n, sizeof *rows);
    strvec orphans = {0}; /* owns the orphan notes */
    batch_view *views = xcalloc(v.b.mf.n, sizeof *views); /* what the rows point at */
    size_t nr = 0;
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
            views[k] = bv;
        }
        long ei = strmap_get(&eidx, e->revision);
        const char *orphan = NULL;
        if (have_al && (!strcmp(s, "applied") || !strcmp(s, "changed"))) {
            strvec missing = {0};
            alstate_missing(&al, e, &missing);
            if (missing.n) {
                char *m = orphan_message(&missing);
                strvec_push(&orphans, m);
                free(m);
                orphan = orphans.v[orphans.n - 1];
            }
            strvec_clear(&missing);
        }
        rows[nr++] = (del_history_row){
            .revision = e->revision, .status = s, .description = e->description,
            .applied_at = row ? row->applied_at : NULL, .seconds = row ? row->seconds : 0, .has_seconds = row != NULL,
            .sha256 = e->sha256, .identity = e->identity, .applied_identity = row ? row->checksum : NULL,
            .error = (ei >= 0 && strcmp(s, "failed") == 0) ? emsgs.v[ei] : NULL, .orphaned = orphan,
            .in_bundle = 1, .progress = bv.cp ? &views[k] : NULL};
    }
    /* applied in the database, absent from the bundle */
    for (size_t k = 0; k < v.st.n; k++) {
        const vrow *row = &v.st.rows[k];
        if (manifest_find(&v.b.mf, row->revision) >= 0)
            continue;
        rows[nr++] = (del_history_row){.revision = row->revision, .status = "missing", .applied_at = row->applied_at,
                                       .seconds = row->seconds, .has_seconds = 1, .db_status = row->status};
    }
    del_history res = {.rows = rows, .n = nr, .under_way = ncps > 0};
    del_emit_result(a->o->notify, DEL_RESULT_HISTORY, &res);
    free(rows);
    free(views);
    strvec_clear(&orphans);
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
    del_current res = {.database = url, .heads = (const char *const *)heads.v, .nheads = heads.n,
                       .applied = applied, .pending = pending, .failed = failed, .changed = changed,
                       .total = v.b.mf.n};
    del_emit_result(a->o->notify, DEL_RESULT_CURRENT, &res);
    free(url);
    free(done);
    strvec_clear(&heads);
    view_close(&v);
    return 0;
}
