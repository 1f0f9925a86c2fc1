#include "cmd_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "db.h"
#include "drift.h"
#include "json.h"
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
    if (bundle_open(a->bundle_dir, &v->b, err) != 0)
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
    if (strcmp((*row)->status, "success") == 0) {
        if (drift_changed((*row)->checksum, e->identity, e->sha256))
            return "changed";
        return "applied";
    }
    return "failed";
}

static void last_errors(PGconn *conn, const char *schema, strmap *idx, strvec *msgs)
{
    char *history = store_table(schema, "delembic_run_history");
    char *sql = xasprintf("SELECT DISTINCT ON (revision) revision, exception, status"
                          " FROM %s ORDER BY revision, id DESC", history);
    PGresult *r = PQexec(conn, sql);
    free(sql);
    free(history);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        PQclear(r);
        return;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, 2), "failed") != 0)
            continue;
        strvec_push(msgs, PQgetvalue(r, i, 0));
        strvec_push(msgs, PQgetvalue(r, i, 1));
    }
    for (size_t i = 0; i + 1 < msgs->n; i += 2)
        strmap_put(idx, msgs->v[i], (long)(i + 1));
    PQclear(r);
}

int cmd_history(app *a, del_err *err)
{
    status_view v;
    if (view_open(a, &v, err) != 0) {
        view_close(&v);
        return err->code;
    }
    strmap eidx = {0};
    strvec emsgs = {0};
    if (v.st.tables_exist)
        last_errors(v.conn, a->cfg.version_table_schema, &eidx, &emsgs);
    json js = {0};
    if (a->o->json) {
        json_obj_open(&js, NULL);
        json_str(&js, "command", "history");
        json_arr_open(&js, "migrations");
    } else {
        printf("%-8s %-14s %-19s %9s  %s\n", "STATUS", "REVISION", "APPLIED AT", "TIME", "DESCRIPTION");
    }
    for (size_t k = 0; k < v.b.mf.n; k++) {
        size_t i = v.b.g.order[k];
        const mentry *e = &v.b.mf.m[i];
        const vrow *row;
        const char *s = status_of(&v, i, &row);
        long ei = strmap_get(&eidx, e->revision);
        const char *emsg = (ei >= 0 && strcmp(s, "failed") == 0) ? emsgs.v[ei] : NULL;
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
            json_obj_close(&js);
            continue;
        }
        char dur[32] = "";
        if (row)
            format_duration(row->seconds, dur, sizeof dur);
        term_line(stdout, "%-8s %-14s %-19s %9s  %s", s, e->revision, row ? row->applied_at : "", dur,
                  e->description);
        if (emsg)
            term_line(stdout, "%-8s %-14s   error: %s", "", "", emsg);
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
            term_line(stdout, "%-8s %-14s %-19s %9s  (in the database, not in this bundle; was %s)", "missing",
                      row->revision, row->applied_at, dur, row->status);
        }
    }
    if (a->o->json) {
        json_arr_close(&js);
        json_int(&js, "exit_code", 0);
        json_obj_close(&js);
        json_print(&js);
    }
    strmap_free(&eidx);
    strvec_clear(&emsgs);
    view_close(&v);
    return 0;
}

int cmd_current(app *a, del_err *err)
{
    status_view v;
    if (view_open(a, &v, err) != 0) {
        view_close(&v);
        return err->code;
    }
    size_t applied = 0, failed = 0, pending = 0, changed = 0;
    char *done = xcalloc(v.b.mf.n ? v.b.mf.n : 1, 1);
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
        json_print(&js);
    } else {
        char hs[2048];
        strvec_join(&heads, ", ", hs, sizeof hs);
        term_line(stdout, "Database: %s", url);
        term_line(stdout, "Current: %s", heads.n ? hs : "(none applied)");
        printf("%zu of %zu applied, %zu pending, %zu failed%s\n", applied, v.b.mf.n, pending, failed,
               changed ? " (some changed since applied: see 'delembic history')" : "");
    }
    free(url);
    free(done);
    strvec_clear(&heads);
    view_close(&v);
    return 0;
}
