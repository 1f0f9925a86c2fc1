#include "cmd_ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batchview.h"
#include "bundle.h"
#include "db.h"
#include "drift.h"
#include "results.h"
#include "store_ops.h"
#include "orphan.h"
#include "results.h"
#include "store.h"
#include "term.h"
#include "trust_run.h"

/* ---- what the commands share ------------------------------------------- */

typedef struct ops_session {
    bundle b;
    int have_bundle;
    PGconn *conn;
    vstate st;
    store_checkpoint *cps;      /* the batched migrations' checkpoints */
    size_t ncps;
} ops_session;

/* The bundle, a connection, and the state; with lock, the run lock first
 * (and the tables, so a first stamp can record). */
static int session_open(app *a, const char *role, int lock, double lock_timeout, ops_session *s,
                        del_err *err)
{
    memset(s, 0, sizeof *s);
    /* the trust chain first: stamp and repair record from its manifest */
    trust_result trust;
    if (trust_run_bundle(a, a->bundle_dir, &trust, err) != 0 || bundle_open(a->bundle_dir, app_cache_dir(a), &s->b, err) != 0)
        return -1;
    s->have_bundle = 1;
    if (trust_same_manifest(&trust, &s->b.mf, err) != 0)
        return -1;
    s->conn = app_connect(a, role, err);
    if (!s->conn)
        return -1;
    const char *schema = a->cfg.version_table_schema;
    if (lock && (store_lock(s->conn, lock_timeout, a->o->notify, err) != 0 ||
                 store_ensure_schema(s->conn, schema, err) != 0))
        return -1;
    if (store_read_state(s->conn, schema, &s->st, err) != 0)
        return -1;
    return store_checkpoints(s->conn, schema, NULL, &s->cps, &s->ncps, err);
}

static void session_close(ops_session *s)
{
    if (s->conn)
        PQfinish(s->conn);
    store_free_state(&s->st);
    store_free_checkpoints(s->cps, s->ncps);
    if (s->have_bundle)
        bundle_close(&s->b);
}

static int is_applied(const vrow *v)
{
    return v && !strcmp(v->status, store_status_name(STORE_SUCCESS));
}

/* The bundle's index of rev, or -1 with a usage error naming it. */
static long find_rev(const bundle *b, const char *rev, del_err *err)
{
    long t = dag_find(&b->g, rev);
    if (t >= 0)
        return t;
    if (algraph_find(&b->mf.graph, rev) >= 0)
        del_fail(err, DEL_KIND_USAGE, "%s is an Alembic revision; use 'alembic' for it, or name a data migration", rev);
    else
        del_fail(err, DEL_KIND_USAGE, "unknown revision '%s'; see 'delembic history' for the revisions in this bundle", rev);
    return -1;
}

static const store_checkpoint *find_checkpoint(const ops_session *s, const char *rev)
{
    for (size_t i = 0; i < s->ncps; i++)
        if (!strcmp(s->cps[i].revision, rev))
            return &s->cps[i];
    return NULL;
}

/* The words a stamp or forget of rev adds when it removes a checkpoint
 * ("" when it has none): the next upgrade starts from the beginning. */
static char *checkpoint_note(const ops_session *s, const char *rev)
{
    const store_checkpoint *cp = find_checkpoint(s, rev);
    if (!cp)
        return xstrdup("");
    return xasprintf("; its %s checkpoint (%lld rows in %lld batches) removed: the next upgrade starts from the beginning",
                     cp->mode, cp->rows_done, cp->batches);
}

static const char *identity_of(const mentry *e)
{
    return e->identity ? e->identity : e->sha256;
}

/* What a command did (or, with --dry-run, would do), for its render. */
typedef struct op_item {
    char *revision;
    const char *action;     /* stamped, forgotten, accepted, dropped */
    char *note;
} op_item;

typedef struct ops_result {
    const char *command;
    int dry_run;
    op_item *items;
    size_t n;
    strvec skipped;         /* "REV: why" */
} ops_result;

static void result_add(ops_result *r, const char *rev, const char *action, char *note)
{
    r->items = xrealloc(r->items, (r->n + 1) * sizeof *r->items);
    r->items[r->n++] = (op_item){xstrdup(rev), action, note};
}

static void result_free(ops_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].revision);
        free(r->items[i].note);
    }
    free(r->items);
    strvec_clear(&r->skipped);
}

/* The changes of a result, to record (kinds by action). */
static int result_apply(const ops_session *s, const app *a, const ops_result *r, del_err *err)
{
    if (!r->n || r->dry_run)
        return 0;
    op_change *c = xcalloc(r->n, sizeof *c);
    for (size_t i = 0; i < r->n; i++) {
        const op_item *it = &r->items[i];
        long e = manifest_find(&s->b.mf, it->revision);
        const vrow *v = store_find(&s->st, it->revision);
        c[i].revision = it->revision;
        c[i].note = it->note;
        c[i].checksum = e >= 0 ? identity_of(&s->b.mf.m[e]) : v ? v->checksum : NULL;
        if (!strcmp(it->action, "stamped"))
            c[i].kind = OP_STAMP;
        else if (!strcmp(it->action, "forgotten"))
            c[i].kind = OP_FORGET;
        else if (!strcmp(it->action, "accepted"))
            c[i].kind = OP_ACCEPT;
        else
            c[i].kind = OP_DROP;
        if (c[i].kind == OP_FORGET || c[i].kind == OP_DROP) {
            const store_checkpoint *cp = find_checkpoint(s, it->revision);
            c[i].checksum = v ? v->checksum : cp ? cp->identity : NULL;
        }
    }
    int rc = oprecord_apply(s->conn, a->cfg.version_table_schema, c, r->n, err);
    free(c);
    return rc;
}

static int render_ops(const app *a, const ops_result *r, int code, const del_err *err);
static int confirm_drop(const del_notify *n, const ops_result *r);

/* ---- stamp ---------------------------------------------------------------- */

int cmd_stamp(app *a, const ops_args *o, del_err *err)
{
    ops_result res = {.command = "stamp", .dry_run = o->dry_run};
    ops_session s;
    memset(&s, 0, sizeof s);
    char *want = NULL;
    int code = 0;
    if (!o->all_pending && !o->nrevs) {
        del_fail(err, DEL_KIND_USAGE, "stamp needs revisions, or --all-pending; see 'delembic stamp --help'");
        code = -1;
        goto done;
    }
    if ((o->all_pending && o->nrevs) || (o->through && !o->all_pending)) {
        del_fail(err, DEL_KIND_USAGE, "stamp takes either REV... or --all-pending [--through REV]; see 'delembic stamp --help'");
        code = -1;
        goto done;
    }
    if (session_open(a, "stamp", !o->dry_run, o->lock_timeout, &s, err) != 0) {
        code = -1;
        goto done;
    }
    const bundle *b = &s.b;
    size_t n = b->mf.n;
    want = xcalloc(n ? n : 1, 1);
    if (o->all_pending && !o->through) {
        memset(want, 1, n);
    } else if (o->all_pending) {
        long t = find_rev(b, o->through, err);
        if (t < 0) {
            code = -1;
            goto done;
        }
        dag_mark_ancestors(&b->g, (size_t)t, want);
    }
    for (int k = 0; k < o->nrevs; k++) {
        long t = find_rev(b, o->revs[k], err);
        if (t < 0) {
            code = -1;
            goto done;
        }
        want[t] = 1;
    }
    /* applied ones stay as they are */
    for (size_t i = 0; i < n; i++) {
        if (want[i] && is_applied(store_find(&s.st, b->mf.m[i].revision))) {
            want[i] = 0;
            if (!o->all_pending)
                strvec_push_owned(&res.skipped, xasprintf("%s: already applied", b->mf.m[i].revision));
        }
    }
    /* dependencies: applied, or stamped in this call */
    int need_alembic = 0;
    for (size_t i = 0; i < n; i++) {
        if (!want[i])
            continue;
        need_alembic |= b->mf.m[i].alembic.n > 0;
        const dag_node *nd = &b->g.nodes[i];
        for (size_t d = 0; d < nd->ndeps; d++) {
            size_t j = nd->deps[d];
            if (!want[j] && !is_applied(store_find(&s.st, b->mf.m[j].revision))) {
                del_fail(err, DEL_KIND_USAGE, "cannot stamp %s: it depends on %s, which is neither applied nor stamped in this call; stamp %s too, or upgrade it first",
                         b->mf.m[i].revision, b->mf.m[j].revision, b->mf.m[j].revision);
                code = -1;
                goto done;
            }
        }
    }
    if (need_alembic) {
        alstate al;
        if (alstate_read(s.conn, b, &al, err) != 0) {
            code = -1;
            goto done;
        }
        for (size_t i = 0; i < n && !code; i++) {
            strvec missing = {0};
            if (want[i])
                alstate_missing(&al, &b->mf.m[i], &missing);
            if (missing.n) {
                char list[1024];
                strvec_join(&missing, ", ", list, sizeof list);
                del_fail(err, DEL_KIND_MIGRATION, "cannot stamp %s: it needs Alembic %s, which is not applied; run 'alembic upgrade' first",
                         b->mf.m[i].revision, list);
                code = -1;
            }
            strvec_clear(&missing);
        }
        alstate_free(&al);
        if (code)
            goto done;
    }
    for (size_t k = 0; k < n; k++) {
        size_t i = b->g.order[k];
        if (!want[i])
            continue;
        const vrow *v = store_find(&s.st, b->mf.m[i].revision);
        char *cpn = checkpoint_note(&s, b->mf.m[i].revision);
        result_add(&res, b->mf.m[i].revision, "stamped",
                   xasprintf("marked applied without running it (stamp)%s%s%s", v ? "; was " : "",
                             v ? v->status : "", cpn));
        free(cpn);
    }
    if (result_apply(&s, a, &res, err) != 0)
        code = -1;
done:
    free(want);
    session_close(&s);
    code = render_ops(a, &res, code, err);
    result_free(&res);
    return code;
}

/* ---- forget --------------------------------------------------------------- */

int cmd_forget(app *a, const ops_args *o, del_err *err)
{
    ops_result res = {.command = "forget", .dry_run = o->dry_run};
    ops_session s;
    memset(&s, 0, sizeof s);
    char *below = NULL;
    int code = 0;
    if (o->nrevs != 1) {
        del_fail(err, DEL_KIND_USAGE, "forget takes one revision; see 'delembic forget --help'");
        code = -1;
        goto done;
    }
    const char *rev = o->revs[0];
    if (session_open(a, "forget", !o->dry_run, o->lock_timeout, &s, err) != 0) {
        code = -1;
        goto done;
    }
    const bundle *b = &s.b;
    const vrow *row = store_find(&s.st, rev);
    /* a paused batched migration has no version row, only its checkpoint */
    const store_checkpoint *cp = find_checkpoint(&s, rev);
    if (!row && !cp) {
        if (manifest_find(&b->mf, rev) < 0 && find_rev(b, rev, err) < 0) {
            code = -1;
            goto done;
        }
        del_fail(err, DEL_KIND_USAGE, "%s has no record in the database (it is pending); nothing to forget", rev);
        code = -1;
        goto done;
    }
    /* the applied migrations that depend on it, directly or not */
    long t = dag_find(&b->g, rev);
    size_t n = b->mf.n;
    below = xcalloc(n ? n : 1, 1);
    sbuf deps = {0};
    size_t ndeps = 0;
    if (t >= 0) {
        for (size_t k = 0; k < n; k++) {
            size_t j = b->g.order[k];
            const dag_node *nd = &b->g.nodes[j];
            for (size_t d = 0; d < nd->ndeps && !below[j]; d++)
                below[j] = nd->deps[d] == (size_t)t || below[nd->deps[d]];
        }
        for (size_t k = 0; k < n; k++) {
            size_t j = b->g.order[k];
            if (below[j] && is_applied(store_find(&s.st, b->mf.m[j].revision))) {
                sbuf_printf(&deps, "%s%s", ndeps ? ", " : "", b->mf.m[j].revision);
                ndeps++;
            } else {
                below[j] = 0;
            }
        }
    }
    if (ndeps && !o->cascade) {
        del_fail(err, DEL_KIND_USAGE, "cannot forget %s: %s depend%s on it and %s applied; forget %s first, or add --cascade to forget %s too",
                 rev, deps.s, ndeps > 1 ? "" : "s", ndeps > 1 ? "are" : "is", ndeps > 1 ? "them" : "it",
                 ndeps > 1 ? "them" : "it");
        sbuf_free(&deps);
        code = -1;
        goto done;
    }
    sbuf_free(&deps);
    /* dependents first, latest first */
    for (size_t k = n; k-- > 0;) {
        size_t j = b->g.order[k];
        if (below[j])
            result_add(&res, b->mf.m[j].revision, "forgotten",
                       xasprintf("made pending again with %s (--cascade); was success", rev));
    }
    char *cpn = checkpoint_note(&s, rev);
    if (row)
        result_add(&res, rev, "forgotten",
                   xasprintf("made pending again (forget); was %s%s%s%s", row->status, row->hold ? ", held: " : "",
                             row->hold ? row->hold : "", cpn));
    else
        result_add(&res, rev, "forgotten",
                   xasprintf("made pending again (forget); was %s, with no record%s", cp->state, cpn));
    free(cpn);
    if (result_apply(&s, a, &res, err) != 0)
        code = -1;
done:
    free(below);
    session_close(&s);
    code = render_ops(a, &res, code, err);
    result_free(&res);
    return code;
}

/* ---- repair --------------------------------------------------------------- */

int cmd_repair(app *a, const ops_args *o, del_err *err)
{
    ops_result res = {.command = "repair", .dry_run = o->dry_run};
    ops_session s;
    memset(&s, 0, sizeof s);
    int code = 0;
    if (o->nrevs) {
        del_fail(err, DEL_KIND_USAGE, "repair takes no revision: it repairs every changed and missing record; see 'delembic repair --help'");
        code = -1;
        goto done;
    }
    if (session_open(a, "repair", !o->dry_run, o->lock_timeout, &s, err) != 0) {
        code = -1;
        goto done;
    }
    const bundle *b = &s.b;
    for (size_t k = 0; k < b->mf.n; k++) {
        const mentry *e = &b->mf.m[b->g.order[k]];
        const vrow *v = store_find(&s.st, e->revision);
        if (is_applied(v) && drift_changed(v->checksum, e->identity, e->sha256))
            result_add(&res, e->revision, "accepted",
                       xasprintf("accepted the bundle's code as applied: identity %.12s... (was %.12s...)",
                                 identity_of(e), v->checksum));
    }
    size_t ndrop = 0;
    for (size_t k = 0; k < s.st.n; k++) {
        const vrow *v = &s.st.rows[k];
        if (manifest_find(&b->mf, v->revision) >= 0)
            continue;
        result_add(&res, v->revision, "dropped",
                   xasprintf("dropped its record: in the database (%s) but not in the bundle", v->status));
        ndrop++;
    }
    if (ndrop && !o->yes && !o->dry_run) {
        int asked = !a->o->json && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
        if (!asked || !confirm_drop(a->o->notify, &res)) {
            sbuf list = {0};
            for (size_t i = 0; i < res.n; i++)
                if (!strcmp(res.items[i].action, "dropped"))
                    sbuf_printf(&list, "%s%s", list.len ? ", " : "", res.items[i].revision);
            del_fail(err, DEL_KIND_USAGE, "repair would drop %zu record(s) missing from the bundle (%s); %s; nothing was changed",
                     ndrop, list.s, asked ? "not confirmed" : "run 'delembic repair --yes' to drop them");
            sbuf_free(&list);
            res.dry_run = 1; /* show what it would have done */
            code = -1;
            goto done;
        }
    }
    if (result_apply(&s, a, &res, err) != 0)
        code = -1;
done:
    session_close(&s);
    code = render_ops(a, &res, code, err);
    result_free(&res);
    return code;
}

/* ---- show ----------------------------------------------------------------- */

typedef struct show_result {
    const char *revision;
    const mentry *e;            /* NULL: not in the bundle */
    const vrow *row;            /* NULL: no record */
    const char *status;         /* pending applied failed changed missing */
    strvec delembic_deps;       /* "D001 (applied)" */
    strvec alembic_deps;        /* "3d1e... (applied now)" */
    strvec dependents;
    char *orphan;               /* the orphaned line, or NULL */
    store_attempts attempts;
    store_checkpoint *cps;      /* its checkpoint (batched, no transaction): 0 or 1 */
    size_t ncps;
    batch_view bv;              /* under way: bv.cp set */
} show_result;

static void show_free(show_result *r)
{
    store_free_attempts(&r->attempts);
    store_free_checkpoints(r->cps, r->ncps);
    strvec_clear(&r->delembic_deps);
    strvec_clear(&r->alembic_deps);
    strvec_clear(&r->dependents);
    free(r->orphan);
}

static void render_show(const app *a, const show_result *r, int code, const del_err *err);

/* A batched or non-transactional migration under way (its checkpoint, not
 * applied): its status and progress (batchview.h). Extra: a database that
 * cannot say shows the migration as its record does. */
static void under_way(app *a, ops_session *s, show_result *res)
{
    del_err quiet;
    if (store_checkpoints(s->conn, a->cfg.version_table_schema, res->revision, &res->cps, &res->ncps, &quiet) != 0)
        return;
    const store_checkpoint *cp = batchview_find(res->cps, res->ncps, res->revision);
    if (!cp || is_applied(res->row))
        return;
    store_holder h;
    int held = batchview_any_running(cp, 1) && store_lock_holder(s->conn, &h) == 1;
    batchview_make(&res->bv, cp, held, res->row != NULL, a->cfg.batch_pause);
    res->status = res->bv.status;
}

int cmd_show(app *a, const char *rev, del_err *err)
{
    show_result res = {.revision = rev};
    ops_session s;
    memset(&s, 0, sizeof s);
    int code = 0;
    if (!rev) {
        del_fail(err, DEL_KIND_USAGE, "show needs a revision; see 'delembic show --help'");
        code = -1;
        goto done;
    }
    if (session_open(a, "show", 0, -1, &s, err) != 0) {
        code = -1;
        goto done;
    }
    const bundle *b = &s.b;
    long i = manifest_find(&b->mf, rev);
    res.row = store_find(&s.st, rev);
    if (i < 0 && !res.row) {
        find_rev(b, rev, err);
        code = -1;
        goto done;
    }
    res.e = i >= 0 ? &b->mf.m[i] : NULL;
    if (!res.e)
        res.status = "missing";
    else if (!res.row)
        res.status = "pending";
    else if (!is_applied(res.row))
        res.status = "failed";
    else
        res.status = drift_changed(res.row->checksum, res.e->identity, res.e->sha256) ? "changed" : "applied";
    if (res.e) {
        const dag_node *nd = &b->g.nodes[i];
        for (size_t d = 0; d < nd->ndeps; d++) {
            const char *dr = b->mf.m[nd->deps[d]].revision;
            const vrow *dv = store_find(&s.st, dr);
            strvec_push_owned(&res.delembic_deps,
                              xasprintf("%s (%s)", dr, is_applied(dv) ? "applied" : dv ? "failed" : "pending"));
        }
        for (size_t k = 0; k < b->mf.n; k++) {
            size_t j = b->g.order[k];
            const dag_node *nj = &b->g.nodes[j];
            for (size_t d = 0; d < nj->ndeps; d++)
                if (nj->deps[d] == (size_t)i)
                    strvec_push(&res.dependents, b->mf.m[j].revision);
        }
        if (res.e->alembic.n) {
            alstate al;
            if (alstate_read(s.conn, b, &al, err) != 0) {
                code = -1;
                goto done;
            }
            for (size_t d = 0; d < res.e->alembic.n; d++) {
                int ap = alstate_applied(&al, res.e->alembic.v[d]);
                strvec_push_owned(&res.alembic_deps,
                                  xasprintf("%s (%s)", res.e->alembic.v[d],
                                            ap > 0 ? "applied now" : ap == 0 ? "NOT applied now" : "unknown: the bundle has no Alembic graph for the database's heads"));
            }
            strvec missing = {0};
            alstate_missing(&al, res.e, &missing);
            if (missing.n && is_applied(res.row))
                res.orphan = orphan_message(&missing);
            strvec_clear(&missing);
            alstate_free(&al);
        }
    }
    if (s.st.tables_exist) {
        del_err quiet_err; /* the attempts are extra: without them show still answers */
        if (store_read_attempts(s.conn, a->cfg.version_table_schema, rev, 0, &res.attempts, &quiet_err) != 0)
            memset(&res.attempts, 0, sizeof res.attempts);
        under_way(a, &s, &res);
    }
done:
    render_show(a, &res, code, err);
    show_free(&res);
    session_close(&s);
    return code;
}

/* ---- rendering (one function per command's output) ----------------------- */

/* The question goes out as a line (the renderer owns stdout); the answer is
 * the first line of stdin. */
static int confirm_drop(const del_notify *n, const ops_result *r)
{
    del_emit_text(n, DEL_EV_OUTPUT, "These records are in the database but not in the bundle:");
    for (size_t i = 0; i < r->n; i++)
        if (!strcmp(r->items[i].action, "dropped"))
            del_emit_text(n, DEL_EV_OUTPUT, "  %s: %s", r->items[i].revision, r->items[i].note);
    del_emit_text(n, DEL_EV_OUTPUT, "Drop them? [y/N]");
    fflush(stdout);
    char line[64];
    return fgets(line, sizeof line, stdin) && (line[0] == 'y' || line[0] == 'Y');
}

/* The answer (results.h), once, however the command ended; code stays. */
static int render_ops(const app *a, const ops_result *r, int code, const del_err *err)
{
    del_op_change *changes = xcalloc(r->n ? r->n : 1, sizeof *changes);
    for (size_t i = 0; i < r->n; i++)
        changes[i] = (del_op_change){r->items[i].revision, r->items[i].action, r->items[i].note};
    del_ops res = {.command = r->command,
                   .dry_run = r->dry_run,
                   .changes = changes,
                   .n = r->n,
                   .skipped = (const char *const *)r->skipped.v,
                   .nskipped = r->skipped.n,
                   .outcome = del_outcome_of(code, err)};
    del_emit_result(a->o->notify, DEL_RESULT_OPS, &res);
    free(changes);
    return code;
}

/* show's answer: its result, for the renderers */
static void render_show(const app *a, const show_result *r, int code, const del_err *err)
{
    (void)err; /* a failure has no result: main writes its error */
    if (code)
        return;
    const mentry *e = r->e;
    del_attempt_row *at = xcalloc(r->attempts.n, sizeof *at);
    for (size_t i = 0; i < r->attempts.n; i++) {
        const store_attempt *t = &r->attempts.a[i];
        at[i] = (del_attempt_row){.id = t->id, .revision = t->revision, .status = t->status,
                                  .started_at = t->started_at, .seconds = t->seconds, .identity = t->checksum,
                                  .error = t->exception, .username = t->username, .hostname = t->hostname};
    }
    del_show res = {
        .revision = r->revision, .status = r->status, .in_bundle = e != NULL,
        .description = e ? e->description : NULL, .file = e ? e->file : NULL, .sha256 = e ? e->sha256 : NULL,
        .identity = e ? e->identity : NULL, .recorded = r->row != NULL,
        .db_status = r->row ? r->row->status : NULL, .applied_at = r->row ? r->row->applied_at : NULL,
        .applied_identity = r->row ? r->row->checksum : NULL, .hold = r->row ? r->row->hold : NULL,
        .seconds = r->row ? r->row->seconds : 0,
        .depends_on = (const char *const *)r->delembic_deps.v, .ndepends_on = r->delembic_deps.n,
        .alembic = (const char *const *)r->alembic_deps.v, .nalembic = r->alembic_deps.n,
        .dependents = (const char *const *)r->dependents.v, .ndependents = r->dependents.n,
        .orphaned = r->orphan, .progress = r->bv.cp ? &r->bv : NULL, .attempts = at, .nattempts = r->attempts.n};
    del_emit_result(a->o->notify, DEL_RESULT_SHOW, &res);
    free(at);
}
