#include "report_data.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alembic.h"
#include "db.h"
#include "drift.h"
#include "sha256.h"
#include "store.h"
#include "store_session.h"


PGconn *report_connect(const app *a, const char *role, del_err *err)
{
    PGconn *conn = app_connect(a, role, err);
    if (!conn)
        return NULL;
    PGresult *r = PQexec(conn, STORE_SESSION_READ_ONLY);
    int ok = r && PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    if (!ok) {
        char msg[512];
        db_result_message(conn, NULL, msg, sizeof msg);
        PQfinish(conn);
        del_fail(err, DEL_KIND_DATABASE, "cannot make the page's database session read-only: %s", msg);
        return NULL;
    }
    return conn;
}

static void note_db_error(report_data *rd, const char *what, const char *msg)
{
    if (!rd->db_error)
        rd->db_error = xasprintf("%s: %s", what, msg);
}

/* The newest REPORT_MAX_ATTEMPTS attempts, oldest first. */
static void read_attempts(report_data *rd, PGconn *conn)
{
    store_attempts at;
    del_err err;
    if (store_read_attempts(conn, rd->schema, NULL, REPORT_MAX_ATTEMPTS, &at, &err) != 0) {
        note_db_error(rd, "reading the run history", err.msg);
        return;
    }
    rd->a = xcalloc(at.n, sizeof *rd->a);
    for (size_t i = 0; i < at.n; i++) {
        store_attempt *s = &at.a[i];
        rd_attempt *t = &rd->a[rd->na++];
        t->id = s->id;
        t->started = s->started;
        t->ended = s->ended;
        t->seconds = s->seconds;
        if (!t->ended && t->started)
            t->ended = t->started + t->seconds;
        /* the strings move to the report */
        t->revision = s->revision;
        t->status = s->status ? s->status : xstrdup("");
        t->error = s->exception;
        t->username = s->username;
        t->hostname = s->hostname;
        s->revision = s->status = s->exception = s->username = s->hostname = NULL;
    }
    store_free_attempts(&at);
}

static int cmp_started(const void *x, const void *y)
{
    const rd_attempt *a = *(rd_attempt *const *)x, *b = *(rd_attempt *const *)y;
    if (a->started != b->started)
        return a->started < b->started ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Lanes for the timeline: each attempt goes to the first lane free at its
 * start, so attempts that overlapped in time (workers of a -j run, or two
 * runs) never share one, and one worker's attempts stay on one lane. */
void report_data_lanes(report_data *rd)
{
    if (!rd->na)
        return;
    rd_attempt **by = xmalloc(rd->na * sizeof *by);
    for (size_t i = 0; i < rd->na; i++)
        by[i] = &rd->a[i];
    qsort(by, rd->na, sizeof *by, cmp_started);
    double *lane_end = xcalloc(rd->na, sizeof *lane_end);
    rd->first_start = by[0]->started;
    rd->last_end = 0;
    for (size_t i = 0; i < rd->na; i++) {
        rd_attempt *t = by[i];
        size_t l = 0;
        while (l < rd->lanes && lane_end[l] > t->started)
            l++;
        if (l == rd->lanes)
            rd->lanes++;
        t->lane = l;
        lane_end[l] = t->ended > t->started ? t->ended : t->started;
        if (lane_end[l] > rd->last_end)
            rd->last_end = lane_end[l];
    }
    free(lane_end);
    free(by);
}

static void read_run(report_data *rd, PGconn *conn)
{
    store_holder h;
    if (store_lock_holder(conn, &h) != 1)
        return;
    rd->run_active = 1;
    rd->run_pid = h.pid;
    rd->run_since = xstrdup(h.since);
    del_err err; /* no workers to show is fine: the page says a run holds the lock */
    if (store_read_workers(conn, &rd->w, &rd->nw, &err) != 0)
        rd->nw = 0;
}

/* A worker with a transaction open is running a migration. */
static int worker_busy(const rd_worker *w)
{
    return !strcmp(w->state, "active") || !strncmp(w->state, "idle in transaction", 19);
}

static int is_done(dg_status s)
{
    return s == DG_APPLIED || s == DG_CHANGED;
}

/* While a run holds the lock: the migrations its busy workers run are the
 * first ready ones in the run's stable order (ready: not applied, not held,
 * every migration it needs applied). Exact with one worker; with -j N the
 * order is the one the run starts them in. */
static void infer_running(report_data *rd, const strmap *idx, const strmap *alembic_applied,
                          int alembic_known)
{
    size_t busy = 0;
    const rd_worker *one = NULL;
    for (size_t i = 0; i < rd->nw; i++)
        if (worker_busy(&rd->w[i])) {
            busy++;
            one = &rd->w[i];
        }
    size_t marked = 0;
    for (size_t k = 0; k < rd->n && marked < busy; k++) {
        rd_migration *m = &rd->m[k];
        if (!m->in_bundle || (m->status != DG_PENDING && m->status != DG_FAILED))
            continue;
        int ready = 1;
        for (size_t d = 0; d < m->depends_on->n && ready; d++) {
            const char *dep = m->depends_on->v[d];
            long j = strmap_get(idx, dep);
            if (j >= 0)
                ready = is_done(rd->m[j].status);
            else if (alembic_known)
                ready = strmap_get(alembic_applied, dep) >= 0;
        }
        if (!ready)
            continue;
        m->status = DG_RUNNING;
        marked++;
        if (busy == 1 && one->copy_table) {
            m->progress_done = one->copy_rows;
            m->progress_total = -1;
            m->progress_what = xasprintf("COPY %s", one->copy_table);
        }
    }
}

static dg_status status_cb(void *ud, dg_kind kind, const char *revision)
{
    void **pp = ud;
    const report_data *rd = pp[0];
    const strmap *idx = pp[1];
    const strmap *applied = pp[2];
    const int *known = pp[3];
    if (kind == DG_MIGRATION) {
        long k = strmap_get(idx, revision);
        return k >= 0 ? rd->m[k].status : DG_UNKNOWN;
    }
    if (!*known)
        return DG_UNKNOWN;
    return strmap_get(applied, revision) >= 0 ? DG_APPLIED : DG_PENDING;
}

static dg_status row_status(const vrow *row, const mentry *e)
{
    if (!row)
        return DG_PENDING;
    if (!strcmp(row->status, "success"))
        return drift_changed(row->checksum, e->identity, e->sha256) ? DG_CHANGED : DG_APPLIED;
    return row->hold ? DG_HELD : DG_FAILED;
}

int report_data_gather(const app *a, PGconn *conn, report_data *rd, del_err *err)
{
    memset(rd, 0, sizeof *rd);
    time_t now = time(NULL);
    struct tm tm;
    char ts[64];
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S UTC", &tm);
    rd->generated_at = xstrdup(ts);
    rd->database = app_display_url(a);
    rd->bundle_dir = xstrdup(a->bundle_dir);
    rd->schema = xstrdup(a->cfg.version_table_schema ? a->cfg.version_table_schema : STORE_DEFAULT_SCHEMA);
    if (bundle_open(a->bundle_dir, app_cache_dir(a), &rd->b, err) != 0)
        return -1;
    rd->have_bundle = 1;
    const manifest *mf = &rd->b.mf;

    int alembic_known = 0;
    if (!conn) {
        note_db_error(rd, "database", "not connected");
    } else {
        del_err e;
        if (store_read_state(conn, rd->schema, &rd->st, &e) != 0)
            note_db_error(rd, "reading delembic_version", e.msg);
        rd->tables_exist = rd->st.tables_exist;
        if (rd->tables_exist)
            read_attempts(rd, conn);
        if (mf->has_alembic || mf->graph.n) {
            if (alembic_db_heads(conn, mf->version_table ? mf->version_table : "alembic_version",
                                 &rd->alembic_heads, &rd->alembic_table, &e) != 0)
                note_db_error(rd, "reading the Alembic version table", e.msg);
            else
                alembic_known = 1;
        }
        read_run(rd, conn);
    }

    /* the migrations: the bundle in run order, then rows the bundle lacks */
    rd->m = xcalloc(mf->n + rd->st.n + 1, sizeof *rd->m);
    strmap idx = {0};
    for (size_t k = 0; k < mf->n; k++) {
        const mentry *e = &mf->m[rd->b.g.order[k]];
        rd_migration *m = &rd->m[rd->n++];
        const vrow *row = store_find(&rd->st, e->revision);
        m->revision = e->revision;
        m->description = e->description ? e->description : "";
        m->in_bundle = 1;
        m->status = conn ? row_status(row, e) : DG_UNKNOWN;
        m->applied_at = row && !strcmp(row->status, "success") ? row->applied_at : NULL;
        m->seconds = row ? row->seconds : 0;
        m->identity = e->identity;
        m->sha256 = e->sha256;
        m->file = e->file;
        m->applied_identity = row ? row->checksum : NULL;
        m->db_status = row ? row->status : NULL;
        m->hold = row ? row->hold : NULL;
        m->depends_on = &e->depends_on;
        m->progress_done = m->progress_total = -1;
        strmap_put(&idx, m->revision, (long)k);
    }
    for (size_t k = 0; k < rd->st.n; k++) {
        const vrow *row = &rd->st.rows[k];
        if (manifest_find(mf, row->revision) >= 0)
            continue;
        rd_migration *m = &rd->m[rd->n];
        m->revision = row->revision;
        m->description = "";
        m->status = DG_MISSING;
        m->applied_at = row->applied_at;
        m->seconds = row->seconds;
        m->applied_identity = row->checksum;
        m->db_status = row->status;
        m->hold = row->hold;
        m->progress_done = m->progress_total = -1;
        strmap_put(&idx, m->revision, (long)rd->n);
        rd->n++;
    }
    /* dependents */
    for (size_t k = 0; k < rd->n; k++) {
        const strvec *deps = rd->m[k].depends_on;
        for (size_t d = 0; deps && d < deps->n; d++) {
            long j = strmap_get(&idx, deps->v[d]);
            if (j >= 0)
                strvec_push(&rd->m[j].dependents, rd->m[k].revision);
        }
    }
    /* attempts: counts, the last failure's text */
    for (size_t i = 0; i < rd->na; i++) {
        long k = strmap_get(&idx, rd->a[i].revision);
        if (k < 0)
            continue;
        rd->m[k].attempts++;
        if (!strcmp(rd->a[i].status, "failed") || rd->a[i].error)
            rd->m[k].error = rd->a[i].error;
        if (!strcmp(rd->a[i].status, "success"))
            rd->m[k].error = NULL;
    }
    for (size_t k = 0; k < rd->n; k++)
        if (rd->m[k].status != DG_FAILED && rd->m[k].status != DG_HELD)
            rd->m[k].error = NULL;
    report_data_lanes(rd);

    strvec applied = {0}, unknown = {0};
    strmap applied_idx = {0};
    if (alembic_known) {
        algraph_applied(&mf->graph, &rd->alembic_heads, &applied, &unknown);
        for (size_t i = 0; i < applied.n; i++)
            strmap_put(&applied_idx, applied.v[i], (long)i);
    }
    if (rd->run_active)
        infer_running(rd, &idx, &applied_idx, alembic_known);
    for (size_t k = 0; k < rd->n; k++)
        rd->count[rd->m[k].status]++;

    void *ud[4] = {rd, &idx, &applied_idx, &alembic_known};
    del_err e;
    if (depgraph_from_manifest(&rd->g, mf, status_cb, ud, &e) != 0) {
        note_db_error(rd, "the dependency picture", e.msg);
    } else {
        for (size_t k = mf->n; k < rd->n; k++)
            depgraph_add(&rd->g, DG_MIGRATION, rd->m[k].revision, NULL, DG_MISSING);
    }
    strmap_free(&applied_idx);
    strvec_clear(&applied);
    strvec_clear(&unknown);
    strmap_free(&idx);
    return 0;
}

void report_data_free(report_data *rd)
{
    for (size_t k = 0; k < rd->n; k++) {
        strvec_clear(&rd->m[k].dependents);
        free(rd->m[k].progress_what);
    }
    free(rd->m);
    for (size_t i = 0; i < rd->na; i++) {
        free(rd->a[i].revision);
        free(rd->a[i].status);
        free(rd->a[i].error);
        free(rd->a[i].username);
        free(rd->a[i].hostname);
    }
    free(rd->a);
    store_free_workers(rd->w, rd->nw);
    strvec_clear(&rd->alembic_heads);
    depgraph_free(&rd->g);
    store_free_state(&rd->st);
    if (rd->have_bundle)
        bundle_close(&rd->b);
    free(rd->generated_at);
    free(rd->database);
    free(rd->bundle_dir);
    free(rd->schema);
    free(rd->db_error);
    free(rd->run_since);
    memset(rd, 0, sizeof *rd);
}

char *report_data_fingerprint(const report_data *rd)
{
    sbuf b = {0};
    for (size_t k = 0; k < rd->n; k++)
        sbuf_printf(&b, "%s=%d;", rd->m[k].revision, (int)rd->m[k].status);
    sbuf_printf(&b, "|%zu|%lld|%d|", rd->na, rd->na ? rd->a[rd->na - 1].id : 0, rd->run_pid);
    for (size_t i = 0; i < rd->nw; i++)
        sbuf_printf(&b, "%d:%s:%lld;", rd->w[i].pid, rd->w[i].state, rd->w[i].copy_rows);
    for (size_t i = 0; i < rd->alembic_heads.n; i++)
        sbuf_printf(&b, "%s,", rd->alembic_heads.v[i]);
    char hex[SHA256_HEX_LEN + 1];
    const void *parts[1] = {b.s ? b.s : ""};
    size_t lens[1] = {b.len};
    del_err e;
    if (sha256_parts(parts, lens, 1, hex, &e) != 0)
        snprintf(hex, sizeof hex, "%zu", b.len);
    sbuf_free(&b);
    return xstrdup(hex);
}
