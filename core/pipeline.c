#include "pipeline.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd_upgrade.h"
#include "term.h"
#include "yamltree.h"

extern const char tmpl_pipeline_yaml_in[];

void pipeline_free(pipeline *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->steps[i].name);
        free(p->steps[i].type);
        free(p->steps[i].target);
    }
    free(p->steps);
    memset(p, 0, sizeof *p);
}

static void add_step(pipeline *p, const char *name, const char *type, const char *target)
{
    p->steps = xrealloc(p->steps, (p->n + 1) * sizeof *p->steps);
    p->steps[p->n].name = xstrdup(name);
    p->steps[p->n].type = xstrdup(type);
    p->steps[p->n].target = xstrdup(target);
    p->n++;
}

static const char *const top_keys[] = {"steps", NULL};
static const char *const step_keys[] = {"name", "type", "target", NULL};

int pipeline_parse(const char *name, const char *text, size_t len, pipeline *p, del_err *err)
{
    memset(p, 0, sizeof *p);
    ynode *root = NULL;
    if (yaml_parse(name, text, len, &root, err) != 0)
        return -1;
    int rc = -1;
    if (!root) {
        del_fail(err, DEL_EUSAGE, "%s: empty; write one with 'delembic pipeline init' or 'pipeline generate'", name);
        goto out;
    }
    if (yexpect(name, root, YNODE_MAP, "the pipeline", err) != 0 ||
        ymap_check_keys(name, root, top_keys, "the pipeline", err) != 0)
        goto out;
    const ynode *steps = ymap_get(root, "steps");
    if (yexpect(name, steps, YNODE_SEQ, "'steps'", err) != 0)
        goto out;
    for (size_t i = 0; i < steps->n; i++) {
        const ynode *s = steps->items[i];
        const char *sname = NULL, *type = NULL, *target = NULL;
        if (yexpect(name, s, YNODE_MAP, "a step", err) != 0 ||
            ymap_check_keys(name, s, step_keys, "a step", err) != 0 ||
            yget_string(name, s, "type", 1, &type, err) != 0 ||
            yget_string(name, s, "target", 1, &target, err) != 0 ||
            yget_string(name, s, "name", 0, &sname, err) != 0)
            goto out;
        if (strcmp(type, "alembic") != 0 && strcmp(type, "delembic") != 0) {
            const ynode *t = ymap_get(s, "type");
            del_fail(err, DEL_EUSAGE, "%s:%zu:%zu: step type must be alembic or delembic, not '%.40s'",
                     name, t->line, t->col, type);
            goto out;
        }
        for (const char *c = target; *c; c++)
            if ((unsigned char)*c <= ' ' || *c == ';' || *c == '&' || *c == '|' || *c == '`' || *c == '$') {
                const ynode *t = ymap_get(s, "target");
                del_fail(err, DEL_EUSAGE, "%s:%zu:%zu: target '%.40s' must be a single revision id or head",
                         name, t->line, t->col, target);
                goto out;
            }
        char auto_name[256];
        snprintf(auto_name, sizeof auto_name, "%s %s", type, target);
        add_step(p, sname ? sname : auto_name, type, target);
    }
    rc = 0;
out:
    ynode_free(root);
    if (rc != 0)
        pipeline_free(p);
    return rc;
}

int pipeline_generate(const bundle *b, pipeline *p, del_err *err)
{
    memset(p, 0, sizeof *p);
    const algraph *g = &b->mf.graph;
    strvec heads = {0}, order = {0};
    algraph_heads(g, &heads);
    if (heads.n > 1) {
        char hs[512];
        strvec_join(&heads, ", ", hs, sizeof hs);
        strvec_clear(&heads);
        return del_fail(err, DEL_EUSAGE, "Alembic has %zu heads (%s); run 'alembic merge heads' and rebuild before generating a pipeline",
                        heads.n, hs);
    }
    strvec_clear(&heads);
    if (algraph_order(g, &order, err) != 0)
        return -1;
    size_t n = b->mf.n;
    /* checkpoint[i]: position in order of the latest Alembic revision that
     * migration i or any of its ancestors needs; -1 for none */
    long *cp = xmalloc((n ? n : 1) * sizeof *cp);
    strmap pos = {0};
    for (size_t k = 0; k < order.n; k++)
        strmap_put(&pos, order.v[k], (long)k);
    for (size_t k = 0; k < n; k++) {
        size_t i = b->g.order[k];
        long best = -1;
        for (size_t d = 0; d < b->mf.m[i].alembic.n; d++) {
            long q = strmap_get(&pos, b->mf.m[i].alembic.v[d]);
            if (q > best)
                best = q;
        }
        for (size_t d = 0; d < b->g.nodes[i].ndeps; d++)
            if (cp[b->g.nodes[i].deps[d]] > best)
                best = cp[b->g.nodes[i].deps[d]];
        cp[i] = best;
    }
    for (size_t k = 0; k < order.n; k++) {
        int first = 1;
        for (size_t m = 0; m < n; m++) {
            size_t i = b->g.order[m];
            if (cp[i] != (long)k)
                continue;
            if (first) {
                char name[256];
                snprintf(name, sizeof name, "schema to %s", order.v[k]);
                add_step(p, name, "alembic", order.v[k]);
                first = 0;
            }
            char name[512];
            snprintf(name, sizeof name, "data %s: %s", b->mf.m[i].revision, b->mf.m[i].description);
            add_step(p, name, "delembic", b->mf.m[i].revision);
        }
    }
    add_step(p, "schema to head", "alembic", "head");
    add_step(p, "data to head", "delembic", "head");
    strmap_free(&pos);
    free(cp);
    strvec_clear(&order);
    return 0;
}

static void yaml_quoted(sbuf *b, const char *s)
{
    sbuf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sbuf_printf(b, "\\%c", *p);
        else if (*p < 0x20)
            sbuf_printf(b, "\\x%02x", *p);
        else
            sbuf_add(b, (const char *)p, 1);
    }
    sbuf_add(b, "\"", 1);
}

char *pipeline_to_yaml(const pipeline *p)
{
    sbuf b = {0};
    sbuf_puts(&b, "# Generated by 'delembic pipeline generate': each data migration right after\n"
                  "# the Alembic revision it needs. Run with 'delembic pipeline run'.\n"
                  "steps:\n");
    for (size_t i = 0; i < p->n; i++) {
        sbuf_puts(&b, "  - name: ");
        yaml_quoted(&b, p->steps[i].name);
        sbuf_printf(&b, "\n    type: %s\n    target: ", p->steps[i].type);
        yaml_quoted(&b, p->steps[i].target);
        sbuf_puts(&b, "\n");
    }
    return b.s;
}

int cmd_pipeline_init(app *a, del_err *err)
{
    const char *path = a->cfg.pipeline_file;
    FILE *f = fopen(path, "wx");
    if (!f) {
        if (errno == EEXIST)
            return del_fail(err, DEL_EUSAGE, "%s already exists; not overwriting it", path);
        return del_fail(err, DEL_EUSAGE, "%s: cannot create: %s", path, strerror(errno));
    }
    fputs(tmpl_pipeline_yaml_in, f);
    fclose(f);
    printf("Wrote %s\n", path);
    return 0;
}

int cmd_pipeline_generate(app *a, const char *output, int print, int force, del_err *err)
{
    const char *path = output ? output : a->cfg.pipeline_file;
    if (!print && !force && path_exists(path))
        return del_fail(err, DEL_EUSAGE, "%s already exists; not overwriting it (--force replaces it, --print shows the steps)",
                        path);
    bundle b;
    if (bundle_open(a->bundle_dir, &b, err) != 0)
        return -1;
    pipeline p;
    int rc = pipeline_generate(&b, &p, err);
    bundle_close(&b);
    if (rc != 0)
        return -1;
    char *text = pipeline_to_yaml(&p);
    if (print) {
        fputs(text, stdout);
    } else {
        rc = write_file_atomic(path, text, strlen(text), 0644, err);
        if (rc == 0)
            printf("Wrote %s (%zu steps)\n", path, p.n);
    }
    free(text);
    pipeline_free(&p);
    return rc;
}

static int run_alembic(app *a, const char *target, del_err *err)
{
    strvec argv = {0};
    char *cmd = a->cfg.alembic_command
                    ? xstrdup(a->cfg.alembic_command)
                    : (a->cfg.alembic_config ? xasprintf("alembic -c %s", a->cfg.alembic_config)
                                             : xstrdup("alembic"));
    char *save = NULL;
    for (char *w = strtok_r(cmd, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        strvec_push(&argv, w);
    strvec_push(&argv, "upgrade");
    strvec_push(&argv, target);
    free(cmd);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        strvec_clear(&argv);
        return del_fail(err, DEL_EUSAGE, "cannot start alembic: %s", strerror(errno));
    }
    if (pid == 0) {
        if (a->url)
            setenv("DELEMBIC_DATABASE_URL", a->url, 1);
        if (a->cfg.dir && chdir(a->cfg.dir) != 0)
            _exit(127);
        execvp(argv.v[0], argv.v);
        fprintf(stderr, "cannot run '%s': %s\n", argv.v[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int rc = 0;
    if (code != 0)
        rc = del_fail(err, code, "'%s upgrade %s' failed with exit code %d", argv.v[0], target, code);
    strvec_clear(&argv);
    return rc;
}

int cmd_pipeline_run(app *a, const char *file, int autogen, del_err *err)
{
    pipeline p;
    if (autogen) {
        bundle b;
        if (bundle_open(a->bundle_dir, &b, err) != 0)
            return err->code;
        int rc = pipeline_generate(&b, &p, err);
        bundle_close(&b);
        if (rc != 0)
            return err->code;
    } else {
        const char *path = file ? file : a->cfg.pipeline_file;
        char *text;
        size_t len;
        if (read_file(path, 1u << 20, &text, &len, err) != 0) {
            if (!path_exists(path))
                del_fail(err, DEL_EUSAGE, "%s not found; write one with 'delembic pipeline generate' or use 'pipeline run --auto'", path);
            return err->code;
        }
        int rc = pipeline_parse(path, text, len, &p, err);
        free(text);
        if (rc != 0)
            return err->code;
    }
    double t0 = monotonic_seconds();
    int code = 0;
    for (size_t i = 0; i < p.n; i++) {
        const pstep *s = &p.steps[i];
        term_line(stdout, "==> [%zu/%zu] %s upgrade %s  (%s)", i + 1, p.n, s->type, s->target, s->name);
        fflush(stdout);
        double st = monotonic_seconds();
        if (!strcmp(s->type, "alembic")) {
            if (run_alembic(a, s->target, err) != 0)
                code = err->code ? err->code : 1;
        } else {
            upgrade_args u = {.target = s->target, .jobs = 0, .lock_timeout = -1};
            code = cmd_upgrade(a, &u, err);
        }
        char dur[32];
        format_duration(monotonic_seconds() - st, dur, sizeof dur);
        if (code != 0) {
            printf("==> step %zu failed after %s (exit code %d); stopping\n", i + 1, dur, code);
            break;
        }
        printf("    done in %s\n", dur);
    }
    if (code == 0) {
        char dur[32];
        format_duration(monotonic_seconds() - t0, dur, sizeof dur);
        printf("Pipeline complete: %zu steps in %s\n", p.n, dur);
    }
    pipeline_free(&p);
    return code;
}
