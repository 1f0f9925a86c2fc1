#include "pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alembic.h"
#include "cmd_upgrade.h"
#include "db.h"
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
        del_fail(err, DEL_KIND_CONFIG, "%s: empty; write one with 'delembic pipeline init' or 'pipeline generate'", name);
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
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: step type must be alembic or delembic, not '%.40s'",
                     name, t->line, t->col, type);
            goto out;
        }
        for (const char *c = target; *c; c++)
            if ((unsigned char)*c <= ' ' || *c == ';' || *c == '&' || *c == '|' || *c == '`' || *c == '$') {
                const ynode *t = ymap_get(s, "target");
                del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: target '%.40s' must be a single revision id or head",
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
        return del_fail(err, DEL_KIND_CONFIG, "Alembic has %zu heads (%s); run 'alembic merge heads' and rebuild before generating a pipeline",
                        heads.n, hs);
    }
    strvec_clear(&heads);
    if (algraph_order(g, &order, err) != 0)
        return -1;
    size_t n = b->mf.n;
    /* checkpoint[i]: position in order of the latest Alembic revision that
     * migration i or any of its ancestors needs; -1 for none */
    long *cp = xmalloc(n * sizeof *cp);
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
            return del_fail(err, DEL_KIND_CONFIG, "%s already exists; not overwriting it", path);
        return del_fail(err, DEL_KIND_CONFIG, "%s: cannot create: %s", path, strerror(errno));
    }
    fputs(tmpl_pipeline_yaml_in, f);
    fclose(f);
    del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Wrote %s", path);
    return 0;
}

int cmd_pipeline_generate(app *a, const char *output, int print, int force, del_err *err)
{
    const char *path = output ? output : a->cfg.pipeline_file;
    if (!print && !force && entry_exists(path)) /* a dangling link is there too */
        return del_fail(err, DEL_KIND_CONFIG, "%s already exists; not overwriting it (--force replaces it, --print shows the steps)",
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
        for (char *line = text, *nl; *line; line = nl + 1) {
            nl = strchr(line, '\n');
            if (!nl) {
                del_emit_text(a->o->notify, DEL_EV_OUTPUT, "%s", line);
                break;
            }
            *nl = '\0';
            del_emit_text(a->o->notify, DEL_EV_OUTPUT, "%s", line);
        }
    } else {
        rc = write_file_atomic(path, text, strlen(text), 0644, err);
        if (rc == 0)
            del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Wrote %s (%zu steps)", path, p.n);
    }
    free(text);
    pipeline_free(&p);
    return rc;
}

/* ---- Alembic steps ----------------------------------------------------
 * With the default command, Alembic gets a private copy of alembic.ini whose
 * sqlalchemy.url is the database the Delembic steps use (the stock env.py
 * reads it from there), and runs in the original file's folder, so relative
 * paths and %(here)s mean what they meant. The copy holds the password: it is
 * written 0600 in a 0700 folder of its own and removed when Alembic ends,
 * also when delembic is interrupted meanwhile. With alembic_command set, the
 * command runs as written, with DELEMBIC_DATABASE_URL in its environment.
 * Either way, the database's version table is checked afterwards. */

#define ALEMBIC_COPY_DIR "delembic-alembic.XXXXXX"

static volatile sig_atomic_t alembic_signal;
static volatile sig_atomic_t alembic_child;

static void on_signal_during_alembic(int sig)
{
    if (!alembic_signal)
        alembic_signal = sig;
    if (alembic_child > 0)
        kill((pid_t)alembic_child, sig);
}

typedef struct ini_copy {
    char *dir;   /* the private folder */
    char *path;  /* the copy in it */
} ini_copy;

static void ini_copy_remove(ini_copy *c)
{
    if (c->path)
        unlink(c->path);
    if (c->dir)
        rmdir(c->dir);
    free(c->path);
    free(c->dir);
    memset(c, 0, sizeof *c);
}

static int ini_copy_write(app *a, const char *ini, ini_copy *c, del_err *err)
{
    memset(c, 0, sizeof *c);
    char *text;
    if (read_file(ini, 1u << 20, &text, NULL, err) != 0)
        return del_err_wrap(err, "alembic_config");
    char *sa = db_sqlalchemy_url(a->url, a->url_driver, err);
    if (!sa) {
        free(text);
        return -1;
    }
    char *here = path_dirname(ini);
    char *copy = alembic_ini_with_url(text, here, sa);
    explicit_bzero(sa, strlen(sa));
    free(sa);
    free(here);
    free(text);
    const char *tmp = app_env_of(a->o)->tmpdir;
    c->dir = path_join(tmp && *tmp ? tmp : "/tmp", ALEMBIC_COPY_DIR);
    int rc = 0;
    if (!mkdtemp(c->dir)) {
        rc = del_fail(err, DEL_KIND_CONFIG, "cannot create a private folder for Alembic's config in %s: %s; set TMPDIR to a writable folder",
                      tmp && *tmp ? tmp : "/tmp", strerror(errno));
        free(c->dir);
        c->dir = NULL;
    } else {
        c->path = path_join(c->dir, path_basename(ini));
        int fd = open(c->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        size_t len = strlen(copy), off = 0;
        while (fd >= 0 && off < len) {
            ssize_t w = write(fd, copy + off, len - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        if (fd < 0 || off < len || close(fd) != 0)
            rc = del_fail(err, DEL_KIND_CONFIG, "cannot write Alembic's config %s: %s", c->path, strerror(errno));
        if (fd >= 0 && rc != 0)
            close(fd);
        if (rc != 0)
            ini_copy_remove(c);
    }
    explicit_bzero(copy, strlen(copy));
    free(copy);
    return rc;
}

/* The environment of Alembic's process: ours, with DELEMBIC_DATABASE_URL
 * set to the run's database (for an alembic_command's env.py) when there is
 * one. Built for exec; our own environment is left as it is. */
static void child_env(const app *a, strvec *env)
{
    static const char name[] = "DELEMBIC_DATABASE_URL=";
    for (char **e = environ; *e; e++)
        if (!a->url || strncmp(*e, name, sizeof name - 1) != 0)
            strvec_push(env, *e);
    if (a->url)
        strvec_push_owned(env, xasprintf("%s%s", name, a->url));
}

/* Run argv in dir; the exit code (128 + signal when killed), or -1. */
static int run_child(app *a, char **argv, const char *dir, int *interrupted, del_err *err)
{
    strvec env = {0};
    child_env(a, &env);
    struct sigaction sa, old_int, old_term, old_hup;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal_during_alembic;
    sigemptyset(&sa.sa_mask);
    alembic_signal = 0;
    alembic_child = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGHUP, &sa, &old_hup);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        /* default dispositions, even where delembic itself started with a
         * signal ignored (a background job ignores SIGINT): Alembic must
         * stop when the signal is passed on to it */
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
            signal(sigs[i], SIG_DFL);
        if (dir && chdir(dir) != 0) {
            dprintf(STDERR_FILENO, "cannot enter %s: %s\n", dir, strerror(errno)); /* the child */
            _exit(127);
        }
        execvpe(argv[0], argv, env.v);
        dprintf(STDERR_FILENO, "cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int code = -1;
    if (pid < 0) {
        del_fail(err, DEL_KIND_CONFIG, "cannot start alembic: %s", strerror(errno));
    } else {
        alembic_child = pid;
        if (alembic_signal) /* arrived between fork and here */
            kill(pid, alembic_signal);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        alembic_child = 0;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    *interrupted = alembic_signal;
    for (size_t i = 0; i < env.n; i++) /* the URL may hold a password */
        explicit_bzero(env.v[i], strlen(env.v[i]));
    strvec_clear(&env);
    return code;
}

static int run_alembic(app *a, const char *target, del_err *err)
{
    strvec argv = {0};
    ini_copy copy = {0};
    char *dir = xstrdup(a->cfg.dir ? a->cfg.dir : ".");
    if (a->cfg.alembic_command) {
        char *cmd = xstrdup(a->cfg.alembic_command);
        char *save = NULL;
        for (char *w = strtok_r(cmd, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
            strvec_push(&argv, w);
        free(cmd);
    } else {
        /* the default command: alembic -c <alembic_config>, or the alembic.ini
         * beside delembic.yaml that a plain `alembic` would read */
        char *ini = a->cfg.alembic_config ? xstrdup(a->cfg.alembic_config) : path_join(dir, "alembic.ini");
        strvec_push(&argv, "alembic");
        if (a->cfg.alembic_config || path_exists(ini)) {
            if (ini_copy_write(a, ini, &copy, err) != 0) {
                free(ini);
                free(dir);
                strvec_clear(&argv);
                return -1;
            }
            strvec_push(&argv, "-c");
            strvec_push(&argv, copy.path);
            free(dir);
            dir = path_dirname(ini); /* relative paths in it start there */
        }
        free(ini);
    }
    strvec_push(&argv, "upgrade");
    strvec_push(&argv, target);
    int interrupted = 0;
    int code = run_child(a, argv.v, dir, &interrupted, err);
    ini_copy_remove(&copy);
    int rc = 0;
    if (code < 0)
        rc = -1;
    else if (interrupted)
    {
        rc = del_fail(err, DEL_KIND_INTERRUPTED, "interrupted by %s while 'alembic upgrade %s' ran",
                      interrupted == SIGINT ? "SIGINT" : interrupted == SIGTERM ? "SIGTERM" : "SIGHUP", target);
        err->signal = interrupted;
    }
    else if (code != 0)
        rc = del_fail(err, DEL_KIND_ALEMBIC, "'%s upgrade %s' failed with exit code %d", argv.v[0], target, code);
    free(dir);
    strvec_clear(&argv);
    return rc;
}

/* The Alembic graph to judge "applied" by: the scripts the ini names, else
 * the bundle's snapshot; *have = 0 when neither can be read. */
static void load_graph(app *a, algraph *g, int *have)
{
    del_err e;
    *have = 0;
    memset(g, 0, sizeof *g);
    char *ini = a->cfg.alembic_config ? xstrdup(a->cfg.alembic_config)
                                      : path_join(a->cfg.dir ? a->cfg.dir : ".", "alembic.ini");
    if (path_exists(ini) && alembic_read_graph(ini, g, &e) == 0) {
        *have = 1;
    } else {
        bundle b;
        if (bundle_open_manifest(a->bundle_dir, &b, &e) == 0) {
            for (size_t i = 0; i < b.mf.graph.n; i++) {
                alnode *n = algraph_add(g, b.mf.graph.nodes[i].rev);
                for (size_t k = 0; k < b.mf.graph.nodes[i].down.n; k++)
                    strvec_push(&n->down, b.mf.graph.nodes[i].down.v[k]);
            }
            *have = b.mf.graph.n > 0;
            bundle_close(&b);
        }
    }
    free(ini);
}

/* target resolved in the graph: exact, or a unique prefix (Alembic takes
 * those); -1 when it names no single revision */
static long resolve(const algraph *g, const char *target)
{
    long hit = algraph_find(g, target);
    if (hit >= 0)
        return hit;
    size_t n = strlen(target);
    for (size_t i = 0; i < g->n; i++)
        if (strncmp(g->nodes[i].rev, target, n) == 0) {
            if (hit >= 0)
                return -1;
            hit = (long)i;
        }
    return hit;
}

/* What the database Delembic uses shows for an Alembic target: *applied = 1
 * when the target is applied there (the revision itself or a descendant; for
 * head, every head of the graph). *known = 0 when the target names nothing
 * that can be looked for (base, a label, a relative step, head without a
 * graph): then *applied only says whether any revision is there. *shows: the
 * version table's rows ("(none)" when empty), for messages. */
static int alembic_target_state(app *a, const char *target, const algraph *g, int have_graph,
                                int *known, int *applied, char *shows, size_t shows_sz, del_err *err)
{
    PGconn *conn = app_connect(a, "pipeline", err);
    if (!conn)
        return -1;
    strvec rows = {0}, want = {0}, done = {0}, unknown = {0};
    int exists = 0;
    int rc = alembic_db_heads(conn, a->cfg.alembic_version_table, &rows, &exists, err);
    PQfinish(conn);
    if (rc != 0) {
        strvec_clear(&rows);
        return -1;
    }
    *known = 1;
    if (!strcmp(target, "base")) {
        *known = 0;
    } else if (!strcmp(target, "head") || !strcmp(target, "heads")) {
        if (have_graph)
            algraph_heads(g, &want);
        else
            *known = 0;
    } else if (have_graph && resolve(g, target) >= 0) {
        strvec_push(&want, g->nodes[resolve(g, target)].rev);
    } else if (strchr(target, '@') || target[0] == '+' || target[0] == '-') {
        *known = 0; /* a label or a relative step: only "something" can be checked */
    } else {
        strvec_push(&want, target);
    }
    if (have_graph)
        algraph_applied(g, &rows, &done, &unknown);
    else
        for (size_t i = 0; i < rows.n; i++)
            strvec_push(&done, rows.v[i]);
    *applied = *known ? want.n > 0 : rows.n > 0;
    for (size_t w = 0; *known && w < want.n; w++) {
        int found = 0;
        for (size_t i = 0; i < done.n && !found; i++)
            found = strncmp(done.v[i], want.v[w], strlen(want.v[w])) == 0;
        *applied = *applied && found;
    }
    if (rows.n)
        strvec_join(&rows, ", ", shows, shows_sz);
    else
        snprintf(shows, shows_sz, "(none)");
    strvec_clear(&rows);
    strvec_clear(&want);
    strvec_clear(&done);
    strvec_clear(&unknown);
    return 0;
}

/* One Alembic step. When the database already shows the target, Alembic is
 * not run at all (so an env.py that migrates another database cannot hide
 * behind a database that was already there); after it runs, the database must
 * show what was asked for. */
static int alembic_step(app *a, const char *target, const algraph *g, int have_graph, del_err *err)
{
    int known, applied;
    char shows[1024];
    if (alembic_target_state(a, target, g, have_graph, &known, &applied, shows, sizeof shows, err) != 0)
        return -1;
    if (known && applied) {
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "    schema already at %s: skipped", target);
        return 0;
    }
    if (run_alembic(a, target, err) != 0)
        return -1;
    if (!strcmp(target, "base"))
        return 0;
    if (alembic_target_state(a, target, g, have_graph, &known, &applied, shows, sizeof shows, err) != 0)
        return -1;
    if (applied)
        return 0;
    char *url = app_display_url(a);
    del_fail(err, DEL_KIND_CONFIG, "alembic upgrade %s reported success but %s shows %s %s; Alembic migrated another database: check sqlalchemy.url or env.py",
             target, url, a->cfg.alembic_version_table, shows);
    free(url);
    return -1;
}

int cmd_pipeline_run(app *a, const char *file, int autogen, del_err *err)
{
    pipeline p;
    if (autogen) {
        bundle b;
        if (bundle_open(a->bundle_dir, &b, err) != 0)
            return -1;
        int rc = pipeline_generate(&b, &p, err);
        bundle_close(&b);
        if (rc != 0)
            return -1;
    } else {
        const char *path = file ? file : a->cfg.pipeline_file;
        char *text;
        size_t len;
        if (read_file(path, 1u << 20, &text, &len, err) != 0) {
            if (!path_exists(path))
                del_fail(err, DEL_KIND_CONFIG, "%s not found; write one with 'delembic pipeline generate' or use 'pipeline run --auto'", path);
            return -1;
        }
        int rc = pipeline_parse(path, text, len, &p, err);
        free(text);
        if (rc != 0)
            return -1;
    }
    double t0 = monotonic_seconds();
    int code = 0;
    algraph graph;
    int have_graph = 0, graph_loaded = 0;
    for (size_t i = 0; i < p.n; i++) {
        const pstep *s = &p.steps[i];
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "==> [%zu/%zu] %s upgrade %s  (%s)", i + 1, p.n, s->type, s->target, s->name);
        double st = monotonic_seconds();
        if (!strcmp(s->type, "alembic")) {
            if (!graph_loaded) {
                load_graph(a, &graph, &have_graph);
                graph_loaded = 1;
            }
            if (alembic_step(a, s->target, &graph, have_graph, err) != 0)
                code = -1;
        } else {
            upgrade_args u = {.target = s->target, .jobs = 0, .lock_timeout = -1};
            code = cmd_upgrade(a, &u, err);
        }
        char dur[32];
        format_duration(monotonic_seconds() - st, dur, sizeof dur);
        if (code != 0) {
            del_emit_text(a->o->notify, DEL_EV_OUTPUT, "==> step %zu failed after %s (exit code %d); stopping", i + 1, dur, del_exit_code(err));
            break;
        }
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "    done in %s", dur);
    }
    if (code == 0) {
        char dur[32];
        format_duration(monotonic_seconds() - t0, dur, sizeof dur);
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Pipeline complete: %zu steps in %s", p.n, dur);
    }
    if (graph_loaded)
        algraph_free(&graph);
    pipeline_free(&p);
    return code;
}
