#include "cmd_downgrade.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "db.h"
#include "executor.h"
#include "inspect.h"
#include "plan.h"
#include "results.h"
#include "store.h"
#include "term.h"
#include "trust_run.h"

static int is_applied(const vstate *st, const char *rev)
{
    const vrow *v = store_find(st, rev);
    return v && !strcmp(v->status, store_status_name(STORE_SUCCESS));
}

/* What the plan is, for the answer. */
typedef struct down_result {
    char *has_down;         /* per planned step (plan order) */
    strvec lacking;         /* revisions without a downgrade callback */
} down_result;

/* The applied migrations the target takes down, latest first, into p; a
 * usage error for a target that names nothing applied. 0 with p->nrun 0
 * when nothing is applied at all (-1, base). */
/* An applied revision the bundle does not have, or NULL. */
static const char *unknown_applied(const bundle *b, const vstate *st)
{
    for (size_t k = 0; k < st->n; k++)
        if (!strcmp(st->rows[k].status, store_status_name(STORE_SUCCESS)) &&
            manifest_find(&b->mf, st->rows[k].revision) < 0)
            return st->rows[k].revision;
    return NULL;
}

static int plan_down(const bundle *b, const vstate *st, const char *target, plan *p, del_err *err)
{
    size_t n = b->mf.n;
    char *in = xcalloc(n ? n : 1, 1);
    int rc = 0;
    if (!strcmp(target, "base")) {
        for (size_t i = 0; i < n; i++)
            in[i] = (char)is_applied(st, b->mf.m[i].revision);
        for (size_t k = 0; k < st->n && rc == 0; k++)
            if (!strcmp(st->rows[k].status, store_status_name(STORE_SUCCESS)) &&
                manifest_find(&b->mf, st->rows[k].revision) < 0)
                rc = del_fail(err, DEL_KIND_MIGRATION, "cannot downgrade to base: %s is applied but not in this bundle, so there is no code to downgrade it; nothing was run. Use the bundle that has it, or 'delembic forget %s'",
                              st->rows[k].revision, st->rows[k].revision);
    } else if (unknown_applied(b, st)) {
        /* an applied record the bundle lacks may depend on anything: its
         * dependents cannot be known, so nothing may be taken from under it */
        const char *r = unknown_applied(b, st);
        rc = del_fail(err, DEL_KIND_MIGRATION, "cannot plan a downgrade: %s is applied but not in this bundle, so what depends on what cannot be known; nothing was run. Use the bundle that has it, or 'delembic forget %s' first",
                      r, r);
    } else if (!strcmp(target, "-1")) {
        /* the applied head applied last (ties: the later in DAG order) */
        long best = -1;
        for (size_t k = 0; k < n; k++) {
            size_t i = b->g.order[k];
            if (!is_applied(st, b->mf.m[i].revision))
                continue;
            int head = 1;
            for (size_t j = 0; j < n && head; j++) {
                const dag_node *nd = &b->g.nodes[j];
                for (size_t d = 0; d < nd->ndeps && head; d++)
                    head = !(nd->deps[d] == i && is_applied(st, b->mf.m[j].revision));
            }
            if (head && (best < 0 || strcmp(store_find(st, b->mf.m[i].revision)->applied_at,
                                            store_find(st, b->mf.m[best].revision)->applied_at) >= 0))
                best = (long)i;
        }
        if (best >= 0)
            in[best] = 1;
    } else {
        long t = dag_find(&b->g, target);
        if (t < 0)
            rc = del_fail(err, DEL_KIND_USAGE, "unknown revision '%s'; see 'delembic history' for the revisions in this bundle",
                          target);
        else if (!is_applied(st, target))
            rc = del_fail(err, DEL_KIND_USAGE, "%s is not applied; nothing to downgrade", target);
        else {
            in[t] = 1;
            /* and every applied migration that depends on it */
            char *below = xcalloc(n ? n : 1, 1);
            below[t] = 1;
            for (size_t k = 0; k < n; k++) {
                size_t j = b->g.order[k];
                const dag_node *nd = &b->g.nodes[j];
                for (size_t d = 0; d < nd->ndeps && !below[j]; d++)
                    below[j] = below[nd->deps[d]];
                if (below[j] && is_applied(st, b->mf.m[j].revision))
                    in[j] = 1;
            }
            free(below);
        }
    }
    memset(p, 0, sizeof *p);
    p->run = xmalloc((n ? n : 1) * sizeof *p->run);
    p->wave = xcalloc(n ? n : 1, sizeof *p->wave);
    for (size_t k = n; rc == 0 && k-- > 0;) {
        size_t i = b->g.order[k];
        if (in[i]) {
            p->wave[i] = 1;
            p->run[p->nrun++] = i;
        }
    }
    free(in);
    return rc;
}

/* Read each planned plugin's descriptor (in a child): which have a downgrade. */
static int check_callbacks(const app *a, const bundle *b, const plan *p, down_result *r, del_err *err)
{
    r->has_down = xcalloc(p->nrun ? p->nrun : 1, 1);
    if (!p->nrun)
        return 0;
    inspect_item *items = xcalloc(p->nrun, sizeof *items);
    plugin_info *info = xcalloc(p->nrun, sizeof *info);
    for (size_t k = 0; k < p->nrun; k++) {
        const mentry *e = &b->mf.m[p->run[k]];
        items[k].file = e->file;
        items[k].sha256 = e->sha256;
    }
    char buf[PATH_MAX];
    int rc = inspect_plugins(bundle_path(b, buf), &b->mf, items, p->nrun, app_env_of(a->o)->load_timeout, info, err);
    for (size_t k = 0; k < p->nrun && rc == 0; k++) {
        if (info[k].error) {
            rc = del_fail(err, DEL_KIND_USAGE, "%s", info[k].error);
            break;
        }
        r->has_down[k] = (char)info[k].has_downgrade;
        if (!info[k].has_downgrade)
            strvec_push(&r->lacking, b->mf.m[p->run[k]].revision);
    }
    for (size_t k = 0; k < p->nrun; k++)
        plugin_info_free(&info[k]);
    free(info);
    free(items);
    return rc;
}

int cmd_downgrade(app *a, const downgrade_args *d, del_err *err)
{
    bundle b;
    memset(&b, 0, sizeof b);
    plan p = {0};
    vstate st = {0};
    int code = 0;
    PGconn *conn = NULL;
    down_result res = {0};
    del_downgrade answer = {.target = d->target, .dry_run = d->dry_run};
    del_downgrade_row *rows = NULL;
    if (!d->target) {
        code = -1;
        del_fail(err, DEL_KIND_USAGE, "downgrade needs a target: REV, -1 or base; see 'delembic downgrade --help'");
        goto done;
    }
    conn = app_connect(a, "downgrade", err);
    /* the trust chain first, as upgrade: its plugins run here too */
    trust_result trust;
    if (!conn || trust_run_bundle(a, a->bundle_dir, &trust, err) != 0 ||
        bundle_open_kept(a->bundle_dir, app_cache_dir(a), &b, err) != 0 || trust_same_manifest(&trust, &b.mf, err) != 0 ||
        bundle_check(&b, err) != 0) {
        code = -1;
        goto done;
    }
    const char *schema = a->cfg.version_table_schema;
    store_token token = {0};
    int sent = d->dry_run ? -1 : store_begin_run_send(conn, schema);
    if (d->dry_run ? store_read_state(conn, schema, &st, err) != 0
                   : store_begin_run_finish(conn, schema, sent, d->lock_timeout, a->o->notify,
                                            &st, &token, err) != 0) {
        code = -1;
        goto done;
    }
    if (plan_down(&b, &st, d->target, &p, err) != 0 || check_callbacks(a, &b, &p, &res, err) != 0) {
        code = -1;
        goto done;
    }
    rows = xcalloc(p.nrun ? p.nrun : 1, sizeof *rows);
    for (size_t k = 0; k < p.nrun; k++) {
        const mentry *e = &b.mf.m[p.run[k]];
        rows[k] = (del_downgrade_row){e->revision, e->description, res.has_down[k]};
    }
    answer.planned = 1;
    answer.plan = rows;
    answer.nplan = p.nrun;
    answer.lacking = res.lacking.n > 0;
    if (res.lacking.n) {
        char list[1024];
        strvec_join(&res.lacking, ", ", list, sizeof list);
        del_fail(err, DEL_KIND_MIGRATION, "cannot downgrade: %s ha%s no downgrade callback; nothing was run. Forget %s instead ('delembic forget'), or add a downgrade and rebuild",
                 list, res.lacking.n > 1 ? "ve" : "s", res.lacking.n > 1 ? "them" : "it");
        code = -1;
        goto done;
    }
    if (d->dry_run || !p.nrun)
        goto done;
    exec_opts eo = {.jobs = 1,
                    .quiet = a->o->quiet,
                    .verbose = a->o->verbose,
                    .url = a->url,
                    .statement_timeout = a->cfg.statement_timeout,
                    .lock_timeout = a->cfg.lock_timeout,
                    .timeout = d->timeout > 0 ? d->timeout
                               : a->cfg.timeout ? config_duration_seconds(a->cfg.timeout) : 0,
                    .schema = schema,
                    .token = token,
                    .notify = a->o->notify,
                    .downgrade = 1};
    exec_result er;
    code = executor_run(&b, &p, conn, &eo, &er, err);
    answer.ran = 1;
    if (code != 0 && err->kind == DEL_KIND_MIGRATION)
        err->reported = 1; /* the FAILED line said it */
done:
    /* the answer, once, however it ended */
    answer.outcome = del_outcome_of(code, err);
    del_emit_result(a->o->notify, DEL_RESULT_DOWNGRADE, &answer);
    free(rows);
    if (conn)
        PQfinish(conn);
    free(res.has_down);
    strvec_clear(&res.lacking);
    store_free_state(&st);
    plan_free(&p);
    bundle_close(&b);
    return code;
}
