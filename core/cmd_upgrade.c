#include "cmd_upgrade.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alembic.h"
#include "buildstate.h"
#include "bundle.h"
#include "datafiles.h"
#include "db.h"
#include "drift.h"
#include "executor.h"
#include "orphan.h"
#include "plan.h"
#include "store.h"
#include "notify.h"
#include "results.h"
#include "trust_run.h"

/* the stale-bundle warning names at most this many files */
#define STALE_LIST_MAX 10

/* Applied revisions whose code changed since, and revisions the bundle lacks. */
static int report_drift(const bundle *b, const vstate *st, int strict,
                        const del_notify *n, del_err *err)
{
    sbuf changed = {0};
    size_t nchanged = 0;
    for (size_t i = 0; i < b->mf.n; i++) {
        const vrow *v = store_find(st, b->mf.m[i].revision);
        const mentry *e = &b->mf.m[i];
        if (!v || !v->succeeded)
            continue;
        if (drift_changed(v->checksum, e->identity, e->sha256)) {
            nchanged++;
            sbuf_printf(&changed, "%s%s", changed.len ? ", " : "", e->revision);
            del_emit_text(n, DEL_EV_WARNING, "WARNING: %s changed since it was applied (applied with identity %.12s..., the bundle has %s %.12s...)%s",
                        e->revision, v->checksum, e->identity ? "identity" : ".so sha256",
                        e->identity ? e->identity : e->sha256,
                        strict ? "" : "; --strict makes this an error");
        }
    }
    for (size_t k = 0; k < st->n; k++)
        if (manifest_find(&b->mf, st->rows[k].revision) < 0 &&
            st->rows[k].succeeded)
            del_emit_text(n, DEL_EV_WARNING, "WARNING: %s is applied in the database but missing from the bundle",
                          st->rows[k].revision);
    int rc = 0;
    if (strict && nchanged)
        rc = del_fail(err, DEL_KIND_BUNDLE, "applied migration(s) %s changed since they ran (--strict); restore the original files or write a new migration",
                      changed.s);
    sbuf_free(&changed);
    return rc;
}

/* Applied migrations whose Alembic dependencies are no longer applied (an
 * `alembic downgrade` ran under them): a warning, or with --strict an error
 * before anything runs. Lines "REV: orphaned: ..." into out. */
static int orphans_possible(const bundle *b, const vstate *st)
{
    for (size_t i = 0; i < b->mf.n; i++) {
        const vrow *v = store_find(st, b->mf.m[i].revision);
        if (b->mf.m[i].alembic.n && v && !strcmp(v->status, "success"))
            return 1;
    }
    return 0;
}

/* heads: the database's Alembic heads, read when orphans_possible. */
static int report_orphans(const bundle *b, const vstate *st, const strvec *heads, int strict,
                          strvec *out, const del_notify *n, del_err *err)
{
    if (!orphans_possible(b, st))
        return 0;
    alstate al;
    alstate_from_heads(b, heads, &al);
    orphan_list(b, st, &al, out);
    alstate_free(&al);
    for (size_t k = 0; k < out->n; k++)
        del_emit_text(n, DEL_EV_WARNING, "WARNING: %s%s", out->v[k], strict ? "" : "; --strict refuses to run until it is resolved");
    if (strict && out->n)
        return del_fail(err, DEL_KIND_DATABASE, "%s (--strict); run 'alembic upgrade' to re-apply it, or 'delembic forget' the migration",
                        out->v[0]);
    return 0;
}

/* Run from a project: sources edited since the last build mean the bundle
 * runs old code. A warning, or with --strict an error before anything runs. */
static int report_stale(app *a, const upgrade_args *u, del_err *err)
{
    const del_notify *n = a->o->notify;
    strvec stale = {0};
    buildstate_stale(a->bundle_dir, a->cfg.dir, a->cfg.script_location, &stale);
    int rc = 0;
    if (stale.n) {
        sbuf list = {0};
        for (size_t i = 0; i < stale.n && i < STALE_LIST_MAX; i++)
            sbuf_printf(&list, "%s%s", i ? ", " : "", stale.v[i]);
        if (stale.n > STALE_LIST_MAX)
            sbuf_printf(&list, " and %zu more", stale.n - STALE_LIST_MAX);
        if (u->strict)
            rc = del_fail(err, DEL_KIND_BUNDLE, "sources changed since the last build: %s; run 'delembic build' (--strict)",
                          list.s);
        else
            del_emit_text(n, DEL_EV_WARNING, "WARNING: sources changed since the last build: %s; run 'delembic build'", list.s);
        sbuf_free(&list);
    }
    strvec_clear(&stale);
    return rc;
}

/* A planned revision on hold: its failed run committed work by itself, so
 * upgrade will not run it (nor what depends on it) until an operator acts. */
static const char *held(const bundle *b, const vstate *st, size_t i)
{
    const vrow *v = store_find(st, b->mf.m[i].revision);
    return v && v->hold ? v->hold : NULL;
}

/* For each planned revision (by manifest index): the HELD revision it waits
 * for, itself when it is held, or -1 (malloc'd; the plan is in DAG order, so
 * dependencies come first). */
static long *held_roots(const bundle *b, const plan *p, const vstate *st)
{
    long *root = xmalloc(b->mf.n * sizeof *root);
    for (size_t i = 0; i < b->mf.n; i++)
        root[i] = -1;
    for (size_t k = 0; k < p->nrun; k++) {
        size_t i = p->run[k];
        if (held(b, st, i)) {
            root[i] = (long)i;
            continue;
        }
        const dag_node *nd = &b->g.nodes[i];
        for (size_t d = 0; d < nd->ndeps && root[i] < 0; d++)
            root[i] = root[nd->deps[d]];
    }
    return root;
}

/* The planned revisions that wait for held revision h: "T002, T003". */
static char *dependents(const bundle *b, const plan *p, const long *root, size_t h)
{
    sbuf list = {0};
    for (size_t k = 0; k < p->nrun; k++)
        if (p->run[k] != h && root[p->run[k]] == (long)h)
            sbuf_printf(&list, "%s%s", list.len ? ", " : "", b->mf.m[p->run[k]].revision);
    return list.s ? list.s : xstrdup("");
}

static char *held_message(const bundle *b, const plan *p, const vstate *st, const long *root,
                          size_t i)
{
    const char *rev = b->mf.m[i].revision;
    char *deps = dependents(b, p, root, i);
    char *waiting = *deps ? xasprintf("; %s, which depend%s on it, wait%s too", deps,
                                      strchr(deps, ',') ? "" : "s", strchr(deps, ',') ? "" : "s")
                          : xstrdup("");
    char *msg = xasprintf("HELD: %s %s: part of its work is or may be committed, so it is not run again by itself (nor what depends on it)%s. Check its data, then run 'delembic forget %s' to run it again or 'delembic stamp %s' to accept it",
                          rev, held(b, st, i), waiting, rev, rev);
    free(deps);
    free(waiting);
    return msg;
}

/* What upgrade answers (results.h), with the strings and arrays it owns. */
typedef struct upgrade_answer {
    del_upgrade res;
    del_plan_row *plan;
    del_blocked_row *blocked;
    del_held_row *held;
    const char ***dependents;   /* per held row */
    strvec messages;            /* the BLOCKED and HELD lines */
    strvec orphans;
} upgrade_answer;

/* The plan, its BLOCKED and its HELD migrations, into the answer. */
static void answer_plan(upgrade_answer *an, const bundle *b, const plan *p, const vstate *st,
                        const long *root)
{
    del_upgrade *u = &an->res;
    u->planned = 1;
    u->total = b->mf.n;
    an->plan = xcalloc(p->nrun ? p->nrun : 1, sizeof *an->plan);
    an->held = xcalloc(p->nrun ? p->nrun : 1, sizeof *an->held);
    an->dependents = xcalloc(p->nrun ? p->nrun : 1, sizeof *an->dependents);
    for (size_t k = 0; k < p->nrun; k++) {
        size_t i = p->run[k];
        del_plan_row *row = &an->plan[u->nplan++];
        *row = (del_plan_row){.revision = b->mf.m[i].revision, .description = b->mf.m[i].description,
                              .wave = p->wave[i], .held = root[i] == (long)i};
        for (size_t x = 0; x < p->nblocked; x++)
            if (p->blocked[x].index == i)
                row->blocked = 1;
        if (root[i] >= 0 && root[i] != (long)i)
            row->after_held = b->mf.m[root[i]].revision;
        if (root[i] != (long)i)
            continue;
        const char **deps = xcalloc(p->nrun, sizeof *deps);
        size_t ndeps = 0;
        for (size_t x = 0; x < p->nrun; x++)
            if (p->run[x] != i && root[p->run[x]] == (long)i)
                deps[ndeps++] = b->mf.m[p->run[x]].revision;
        an->dependents[u->nheld] = deps;
        char *msg = held_message(b, p, st, root, i);
        strvec_push_owned(&an->messages, msg);
        an->held[u->nheld++] = (del_held_row){.revision = b->mf.m[i].revision, .hold = held(b, st, i),
                                              .dependents = deps, .ndependents = ndeps, .message = msg};
    }
    an->blocked = xcalloc(p->nblocked ? p->nblocked : 1, sizeof *an->blocked);
    for (size_t k = 0; k < p->nblocked; k++) {
        char *msg = plan_blocked_message(b, p, k);
        strvec_push_owned(&an->messages, msg);
        an->blocked[u->nblocked++] = (del_blocked_row){
            .revision = b->mf.m[p->blocked[k].index].revision,
            .missing_alembic = (const char *const *)p->blocked[k].missing.v,
            .nmissing = p->blocked[k].missing.n, .message = msg};
    }
    u->plan = an->plan;
    u->blocked = an->blocked;
    u->held = an->held;
    u->orphaned = (const char *const *)an->orphans.v;
    u->norphaned = an->orphans.n;
}

static void answer_free(upgrade_answer *an)
{
    for (size_t k = 0; k < an->res.nheld; k++)
        free(an->dependents[k]);
    free(an->dependents);
    free(an->plan);
    free(an->blocked);
    free(an->held);
    strvec_clear(&an->messages);
    strvec_clear(&an->orphans);
}

/* -v: how long the phase that ends now took (since *t), then restart *t. */
static void phase_done(const app *a, const char *name, double *t)
{
    double now = monotonic_seconds();
    if (a->o->verbose)
        del_emit_text(a->o->notify, DEL_EV_DEBUG, "phase %s: %.1f ms", name, (now - *t) * 1000.0);
    *t = now;
}

int cmd_upgrade(app *a, const upgrade_args *u, del_err *err)
{
    double t = monotonic_seconds();
    bundle b;
    plan p = {0};
    vstate st = {0};
    upgrade_answer an = {.res = {.target = u->target ? u->target : "head", .dry_run = u->dry_run}};
    int code = 0;
    const del_notify *out = a->o->notify;
    /* the server starts a backend while we read the bundle */
    PGresult *res_drain;
    long *root = NULL; /* per revision: the HELD one it waits for */
    memset(&b, 0, sizeof b);
    PGconn *conn = app_connect_start(a, "upgrade", err);
    if (!conn) {
        code = -1;
        goto done;
    }
    /* a stale bundle stops --strict before anything is read or run */
    if (!a->o->bundle && report_stale(a, u, err) != 0) {
        code = -1;
        goto done;
    }
    /* the run keeps this bundle folder, whatever a build puts in its place */
    /* the trust chain, before any plugin is opened: the signature (before
     * the manifest is even parsed), then what was parsed is what was
     * verified, and the data files */
    trust_result trust;
    if (trust_run_bundle(a, a->bundle_dir, &trust, err) != 0) {
        code = -1;
        goto done;
    }
    if (bundle_open_kept(a->bundle_dir, app_cache_dir(a), &b, err) != 0) {
        code = -1;
        goto done;
    }
    phase_done(a, "read bundle", &t);
    char kept[PATH_MAX];
    if (trust_same_manifest(&trust, &b.mf, err) != 0 ||
        datafiles_check(bundle_path(&b, kept), &b.mf, 0, NULL, NULL, err) != 0) {
        code = -1;
        goto done;
    }
    conn = app_connect_finish(a, conn, err);
    if (!conn) {
        code = -1;
        goto done;
    }
    phase_done(a, "connect", &t);
    /* the server answers the state query while we build the DAG */
    const char *schema = a->cfg.version_table_schema;
    int sent = u->dry_run ? -1 : store_begin_run_send(conn, schema);
    if (bundle_check(&b, err) != 0) {
        if (sent == 0)
            while ((res_drain = PQgetResult(conn)))
                PQclear(res_drain);
        code = -1;
        goto done;
    }
    store_token token = {0};
    if (u->dry_run ? store_read_state(conn, schema, &st, err) != 0
                   : store_begin_run_finish(conn, schema, sent, u->lock_timeout, a->o->notify,
                                            &st, &token, err) != 0) {
        code = -1;
        goto done;
    }
    phase_done(a, u->dry_run ? "check and state" : "check, lock and state", &t);
    if (trust_check_rollback(conn, schema, &trust, u->allow_older_bundle, err) != 0) {
        code = -1;
        goto done;
    }
    if (plan_make(&b, &st, u->target, &p, err) != 0 ||
        report_drift(&b, &st, u->strict, a->o->notify, err) != 0) {
        code = -1;
        goto done;
    }
    /* the Alembic heads, once: for BLOCKED, and for applied migrations
     * whose Alembic dependency was downgraded under them (orphans) */
    strvec heads = {0};
    if (plan_needs_alembic(&b, &p) || orphans_possible(&b, &st)) {
        int exists = 0;
        if (alembic_db_heads(conn, b.mf.version_table, &heads, &exists, err) != 0) {
            strvec_clear(&heads);
            code = -1;
            goto done;
        }
        if (plan_needs_alembic(&b, &p))
            plan_check_alembic(&b, &p, &heads, exists);
    }
    int orc = report_orphans(&b, &st, &heads, u->strict, &an.orphans, a->o->notify, err);
    strvec_clear(&heads);
    if (orc != 0) {
        code = -1;
        goto done;
    }
    phase_done(a, "plan", &t);
    int jobs = u->jobs > 0 ? u->jobs : (int)a->cfg.jobs;
    root = held_roots(&b, &p, &st);
    an.res.jobs = jobs;
    answer_plan(&an, &b, &p, &st, root);
    /* a dry run answers with the plan; a run stops at HELD, then BLOCKED,
     * migrations, whose lines (the answer's) say why */
    if (u->dry_run) {
        code = an.res.nblocked || an.res.nheld ? -1 : 0;
        if (an.res.nblocked)
            del_fail(err, DEL_KIND_ALEMBIC, "%zu migration(s) would be BLOCKED", an.res.nblocked);
        else if (an.res.nheld)
            del_fail(err, DEL_KIND_MIGRATION, "%zu migration(s) are HELD", an.res.nheld);
        goto done;
    }
    if (an.res.nheld || an.res.nblocked) {
        if (an.res.nheld)
            del_fail(err, DEL_KIND_MIGRATION, "%s", an.res.held[0].message);
        else
            del_fail(err, DEL_KIND_ALEMBIC, "%s", an.res.blocked[0].message);
        err->reported = 1; /* the answer's lines say it */
        code = -1;
        goto done;
    }
    /* something will run: every data file must be the one listed (hashed
     * here, not on a no-op run; dm_copy_file checks again as it streams) */
    if (p.nrun) {
        char pbuf[PATH_MAX];
        if (datafiles_check(bundle_path(&b, pbuf), &b.mf, 1, NULL, NULL, err) != 0) {
            code = -1;
            goto done;
        }
    }
    /* this signed bundle is now the newest run against the database */
    if (trust_record_version(conn, schema, &trust, err) != 0) {
        code = -1;
        goto done;
    }
    if (!p.nrun) {
        if (out && !a->o->quiet)
            del_emit_text(out, DEL_EV_NOTE, "Nothing to do: all %zu migrations are applied.", b.mf.n);
        goto done;
    }
    exec_opts eo = {.jobs = jobs,
                    .quiet = a->o->quiet,
                    .verbose = a->o->verbose,
                    .url = a->url,
                    .statement_timeout = a->cfg.statement_timeout,
                    .lock_timeout = a->cfg.lock_timeout,
                    .timeout = u->timeout > 0 ? u->timeout
                               : a->cfg.timeout ? config_duration_seconds(a->cfg.timeout) : 0,
                    .schema = schema,
                    .token = token,
                    .notify = out,
                    .batch = {.target = a->cfg.batch_target, .min = a->cfg.batch_min, .max = a->cfg.batch_max,
                              .pause = a->cfg.batch_pause, .lock_timeout = a->cfg.batch_lock_timeout,
                              .max_lag = a->cfg.max_replication_lag}};
    exec_result res;
    code = executor_run(&b, &p, conn, &eo, &res, err);
    phase_done(a, "run", &t);
    an.res.ran = 1;
    if (code != 0 && err->kind == DEL_KIND_MIGRATION)
        err->reported = 1; /* the FAILED line said it */
done:
    /* the answer, once, however it ended */
    an.res.outcome = del_outcome_of(code, err);
    del_emit_result(a->o->notify, DEL_RESULT_UPGRADE, &an.res);
    answer_free(&an);
    if (conn)
        PQfinish(conn);
    free(root);
    store_free_state(&st);
    plan_free(&p);
    bundle_close(&b);
    return code;
}
