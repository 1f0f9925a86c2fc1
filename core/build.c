#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alembic.h"
#include "buildpaths.h"
#include "delembic/plugin.h"
#include "bundle.h"
#include "inspect.h"
#include "manifest.h"
#include "sha256.h"

#define DEPS_DIR ".deps"

void build_sdk_paths(const char **include_dir, const char **archive)
{
    const char *inc = getenv("DELEMBIC_SDK_INCLUDE");
    const char *lib = getenv("DELEMBIC_SDK_LIB");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    int uninstalled = 0;
    if (n > 0) {
        exe[n] = '\0';
        uninstalled = strcmp(exe, DEL_EXE_UNINSTALLED) == 0 && path_exists(DEL_SDK_INCLUDE_UNINSTALLED);
    }
    /* run through a wrapper (valgrind) with no installed SDK: the build tree's */
    if (!uninstalled && !path_exists(DEL_SDK_LIB_INSTALLED) && path_exists(DEL_SDK_LIB_UNINSTALLED))
        uninstalled = 1;
    *include_dir = inc ? inc : uninstalled ? DEL_SDK_INCLUDE_UNINSTALLED : DEL_SDK_INCLUDE_INSTALLED;
    *archive = lib ? lib : uninstalled ? DEL_SDK_LIB_UNINSTALLED : DEL_SDK_LIB_INSTALLED;
}

static void split_words(const char *s, strvec *out)
{
    if (!s)
        return;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *st = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        strvec_push_owned(out, xstrndup(st, (size_t)(p - st)));
    }
}

/* pkg-config --cflags libpq, or the flags meson saw */
static char *libpq_cflags(void)
{
    FILE *f = popen("pkg-config --cflags libpq 2>/dev/null", "r");
    char buf[1024] = "";
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = '\0';
        int rc = pclose(f);
        if (rc != 0)
            buf[0] = '\0';
    }
    size_t l = strlen(buf);
    while (l && (buf[l - 1] == '\n' || buf[l - 1] == ' '))
        buf[--l] = '\0';
    return xstrdup(buf[0] ? buf : DEL_LIBPQ_CFLAGS);
}

typedef struct unit {
    char *src;        /* absolute source path */
    char *name;       /* base name without .c */
    char *so;         /* out/name.so */
    char *dep;        /* out/.deps/name.d */
    char *cmdfile;    /* out/.deps/name.cmd */
    char *log;        /* out/.deps/name.log */
    char *cmdline;    /* the compile command, for change detection */
    strvec argv;
    pid_t pid;
    int status;
    int needs;
} unit;

static void unit_free(unit *u)
{
    free(u->src);
    free(u->name);
    free(u->so);
    free(u->dep);
    free(u->cmdfile);
    free(u->log);
    free(u->cmdline);
    strvec_clear(&u->argv);
}

static int mtime_of(const char *path, struct timespec *ts)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    *ts = st.st_mtim;
    return 0;
}

static int newer(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* Does the .so need compiling? Reads the depfile written by -MMD. */
static int needs_build(const unit *u, const char *sdk_archive)
{
    struct timespec so_t, t;
    if (mtime_of(u->so, &so_t) != 0)
        return 1;
    char *old = NULL;
    if (read_file(u->cmdfile, 1 << 20, &old, NULL, NULL) != 0)
        return 1;
    int same = strcmp(old, u->cmdline) == 0;
    free(old);
    if (!same)
        return 1;
    if (mtime_of(sdk_archive, &t) == 0 && newer(&t, &so_t))
        return 1;
    char *deps = NULL;
    if (read_file(u->dep, 16 << 20, &deps, NULL, NULL) != 0)
        return 1;
    int rebuild = 0;
    /* "target: dep dep \\\n dep" ; escaped spaces are rare in paths here */
    char *p = strchr(deps, ':');
    p = p ? p + 1 : deps;
    while (*p && !rebuild) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\\')
            p++;
        if (!*p)
            break;
        char *st = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && !(*p == '\\' && p[1] == '\n'))
            p++;
        char *dep = xstrndup(st, (size_t)(p - st));
        if (mtime_of(dep, &t) != 0 || newer(&t, &so_t))
            rebuild = 1;
        free(dep);
    }
    free(deps);
    return rebuild;
}

static pid_t start_compile(unit *u)
{
    int logfd = open(u->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        execvp(u->argv.v[0], u->argv.v);
        fprintf(stderr, "cannot run the compiler '%s': %s\n", u->argv.v[0], strerror(errno));
        _exit(127);
    }
    if (logfd >= 0)
        close(logfd);
    return pid;
}

static void show_log(const unit *u)
{
    char *text = NULL;
    if (read_file(u->log, 1 << 20, &text, NULL, NULL) == 0) {
        if (*text)
            fputs(text, stderr);
        free(text);
    }
}

static int compile_all(unit *units, size_t n, int jobs, build_stats *stats)
{
    size_t next = 0, running = 0;
    int failed = 0;
    for (;;) {
        while (running < (size_t)jobs && next < n) {
            unit *u = &units[next++];
            if (!u->needs)
                continue;
            u->pid = start_compile(u);
            if (u->pid < 0) {
                u->status = -1;
                failed++;
                continue;
            }
            running++;
        }
        if (!running)
            break;
        int status;
        pid_t pid = wait(&status);
        if (pid < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (size_t i = 0; i < n; i++) {
            if (units[i].pid != pid)
                continue;
            unit *u = &units[i];
            running--;
            u->pid = 0;
            show_log(u);
            char *tmp = xasprintf("%s.tmp", u->so);
            if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                chmod(tmp, 0755);
                if (rename(tmp, u->so) == 0) {
                    write_file_atomic(u->cmdfile, u->cmdline, strlen(u->cmdline), 0644, NULL);
                    stats->compiled++;
                } else {
                    fprintf(stderr, "%s: cannot move the built file into place: %s\n", u->so, strerror(errno));
                    u->status = -1;
                    failed++;
                }
            } else {
                unlink(tmp);
                u->status = -1;
                failed++;
            }
            free(tmp);
            unlink(u->log);
        }
    }
    return failed;
}

static int copy_file(const char *from, const char *to, del_err *err)
{
    char *data;
    size_t len;
    if (read_file(from, (size_t)8 << 30, &data, &len, err) != 0)
        return -1;
    int rc = write_file_atomic(to, data, len, 0644, err);
    free(data);
    return rc;
}

/* Mirror script_location/data into out/data (only changed files). */
static int copy_data(const char *src_root, const char *out_root, del_err *err)
{
    char *src = path_join(src_root, "data");
    if (!is_dir(src)) {
        free(src);
        return 0;
    }
    char *dst = path_join(out_root, "data");
    int rc = mkdir_p(dst, 0755, err);
    if (rc == 0)
        chmod(dst, 0755);
    DIR *d = rc == 0 ? opendir(src) : NULL;
    struct dirent *de;
    while (d && rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *from = path_join(src, de->d_name), *to = path_join(dst, de->d_name);
        struct stat a, b;
        if (stat(from, &a) == 0 && S_ISREG(a.st_mode) &&
            (stat(to, &b) != 0 || a.st_size != b.st_size || newer(&a.st_mtim, &b.st_mtim)))
            rc = copy_file(from, to, err);
        free(from);
        free(to);
    }
    if (d)
        closedir(d);
    free(src);
    free(dst);
    return rc;
}

static int by_str(const void *a, const void *b)
{
    return natural_cmp(*(char *const *)a, *(char *const *)b);
}

static int list_sources(const char *dir, strvec *out, del_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return del_fail(err, DEL_EUSAGE, "%s: script folder not found: %s; create it with 'delembic init' or set script_location",
                        dir, strerror(errno));
    struct dirent *de;
    while ((de = readdir(d)))
        if (has_suffix(de->d_name, ".c") && de->d_name[0] != '.')
            strvec_push(out, de->d_name);
    closedir(d);
    if (out->n)
        qsort(out->v, out->n, sizeof *out->v, by_str);
    return 0;
}

/* Remove .so files built from sources that are gone. */
static void remove_stale(const char *out_dir, const strvec *names, build_stats *stats)
{
    char *deps_dir = path_join(out_dir, DEPS_DIR);
    DIR *d = opendir(out_dir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!has_suffix(de->d_name, ".so"))
            continue;
        char *base = xstrndup(de->d_name, strlen(de->d_name) - 3);
        if (!strvec_contains(names, base)) {
            char *so = path_join(out_dir, de->d_name);
            char *dep = xasprintf("%s/%s.d", deps_dir, base);
            char *cmd = xasprintf("%s/%s.cmd", deps_dir, base);
            if (unlink(so) == 0)
                stats->removed++;
            unlink(dep);
            unlink(cmd);
            free(so);
            free(dep);
            free(cmd);
        }
        free(base);
    }
    if (d)
        closedir(d);
    free(deps_dir);
}

static int build_manifest(app *a, const char *out_dir, const strvec *names, unit *units,
                          del_err *err)
{
    manifest old = {0};
    int have_old = manifest_load(out_dir, &old, NULL) == 0;
    size_t n = names->n;
    char **files = xcalloc(n ? n : 1, sizeof *files);
    char (*shas)[65] = xcalloc(n ? n : 1, 65);
    plugin_info *info = xcalloc(n ? n : 1, sizeof *info);
    size_t *todo = xcalloc(n ? n : 1, sizeof *todo);
    char **todo_files = xcalloc(n ? n : 1, sizeof *todo_files);
    size_t ntodo = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        files[i] = xasprintf("%s.so", names->v[i]);
        char *path = path_join(out_dir, files[i]);
        if (sha256_file(path, shas[i], err) != 0) {
            free(path);
            rc = -1;
            goto out;
        }
        free(path);
        /* reuse the old entry when the file is byte-identical */
        long k = -1;
        for (size_t j = 0; have_old && j < old.n && k < 0; j++)
            if (!strcmp(old.m[j].file, files[i]) && !strcmp(old.m[j].sha256, shas[i]))
                k = (long)j;
        if (k >= 0) {
            info[i].revision = xstrdup(old.m[k].revision);
            info[i].description = xstrdup(old.m[k].description);
            for (size_t d = 0; d < old.m[k].depends_on.n; d++)
                strvec_push(&info[i].depends_on, old.m[k].depends_on.v[d]);
            memcpy(info[i].sha256, shas[i], 65);
        } else {
            todo[ntodo] = i;
            todo_files[ntodo++] = files[i];
        }
    }
    if (ntodo) {
        plugin_info *fresh = xcalloc(ntodo, sizeof *fresh);
        if (inspect_plugins(out_dir, NULL, todo_files, ntodo, fresh, err) != 0) {
            free(fresh);
            rc = -1;
            goto out;
        }
        for (size_t t = 0; t < ntodo; t++)
            info[todo[t]] = fresh[t];
        free(fresh);
    }
    for (size_t i = 0; i < n; i++)
        if (info[i].error) {
            rc = del_fail(err, DEL_EUSAGE, "%s (from %s)", info[i].error, units[i].src);
            goto out;
        }
    /* duplicate revisions name both sources */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(info[i].revision, info[j].revision)) {
                rc = del_fail(err, DEL_EUSAGE, "revision %s is defined by both %s and %s; give one of them a new revision",
                              info[i].revision, units[i].src, units[j].src);
                goto out;
            }
    manifest mf = {0};
    mf.format = MANIFEST_FORMAT;
    mf.abi = DM_ABI_VERSION;
    algraph graph = {0};
    int have_graph = 0;
    if (a->cfg.alembic_config) {
        if (alembic_read_graph(a->cfg.alembic_config, &graph, err) != 0) {
            rc = -1;
            goto out;
        }
        have_graph = 1;
    }
    strmap revs = {0};
    for (size_t i = 0; i < n; i++)
        strmap_put(&revs, info[i].revision, (long)i);
    for (size_t i = 0; i < n && rc == 0; i++) {
        mentry *e = manifest_add(&mf);
        e->revision = xstrdup(info[i].revision);
        e->file = xstrdup(files[i]);
        e->sha256 = xstrdup(shas[i]);
        e->description = xstrdup(info[i].description);
        for (size_t d = 0; d < info[i].depends_on.n; d++) {
            const char *dep = info[i].depends_on.v[d];
            if (strvec_contains(&e->depends_on, dep))
                continue;
            strvec_push(&e->depends_on, dep);
            if (strmap_get(&revs, dep) >= 0)
                continue;
            if (have_graph && algraph_find(&graph, dep) < 0)
                rc = del_fail(err, DEL_EUSAGE, "%s (%s): depends_on entry '%s' is neither a data migration nor an Alembic revision in %s; fix the typo",
                              info[i].revision, units[i].src, dep, a->cfg.alembic_config);
            else if (!have_graph && !a->o->quiet)
                fprintf(stderr, "warning: %s depends on '%s', taken as an Alembic revision; set alembic_config in delembic.yaml so build can check it\n",
                        info[i].revision, dep);
            strvec_push(&e->alembic, dep);
        }
    }
    strmap_free(&revs);
    if (rc == 0) {
        mf.has_alembic = have_graph;
        mf.version_table = xstrdup(a->cfg.alembic_version_table);
        if (have_graph) {
            /* the graph in Alembic order, base first */
            strvec order = {0};
            algraph_order(&graph, &order, NULL);
            for (size_t k = 0; k < order.n; k++) {
                const alnode *src = &graph.nodes[algraph_find(&graph, order.v[k])];
                alnode *dst = algraph_add(&mf.graph, src->rev);
                for (size_t d = 0; d < src->down.n; d++)
                    strvec_push(&dst->down, src->down.v[d]);
            }
            strvec_clear(&order);
        }
        dag g;
        if (bundle_build_dag(&mf, &g, err) != 0)
            rc = -1;
        else
            dag_free(&g);
    }
    if (rc == 0)
        rc = manifest_write(out_dir, &mf, err);
    manifest_free(&mf);
    algraph_free(&graph);
out:
    for (size_t i = 0; i < n; i++) {
        free(files[i]);
        plugin_info_free(&info[i]);
    }
    free(files);
    free(shas);
    free(info);
    free(todo);
    free(todo_files);
    if (have_old)
        manifest_free(&old);
    return rc;
}

int cmd_build(app *a, const build_args *ba, build_stats *stats, del_err *err)
{
    memset(stats, 0, sizeof *stats);
    char *out_dir = path_absolute(ba->out_dir ? ba->out_dir : a->cfg.build_dir);
    char *deps_dir = path_join(out_dir, DEPS_DIR);
    strvec sources = {0}, names = {0};
    unit *units = NULL;
    int rc = 0;
    if (list_sources(a->cfg.script_location, &sources, err) != 0 ||
        mkdir_p(deps_dir, 0755, err) != 0) {
        rc = -1;
        goto out;
    }
    chmod(out_dir, 0755);
    chmod(deps_dir, 0755);
    const char *sdk_inc, *sdk_lib;
    build_sdk_paths(&sdk_inc, &sdk_lib);
    if (!path_exists(sdk_lib)) {
        rc = del_fail(err, DEL_EUSAGE, "the plugin SDK archive %s is missing; install delembic with 'meson install' or set DELEMBIC_SDK_LIB",
                      sdk_lib);
        goto out;
    }
    char *pq = libpq_cflags();
    const char *cc = getenv("CC");
    const char *user_cflags = getenv("CFLAGS");
    units = xcalloc(sources.n ? sources.n : 1, sizeof *units);
    for (size_t i = 0; i < sources.n; i++) {
        unit *u = &units[i];
        u->src = path_join(a->cfg.script_location, sources.v[i]);
        u->name = xstrndup(sources.v[i], strlen(sources.v[i]) - 2);
        strvec_push(&names, u->name);
        u->so = xasprintf("%s/%s.so", out_dir, u->name);
        u->dep = xasprintf("%s/%s.d", deps_dir, u->name);
        u->cmdfile = xasprintf("%s/%s.cmd", deps_dir, u->name);
        u->log = xasprintf("%s/%s.log", deps_dir, u->name);
        split_words(cc && *cc ? cc : "cc", &u->argv);
        split_words(user_cflags && *user_cflags ? user_cflags : "-O2 -g", &u->argv);
        char *inc = xasprintf("-I%s", sdk_inc);
        const char *fixed[] = {"-std=c11", "-fPIC", "-shared", "-Wall", "-Wextra",
                               "-fvisibility=hidden", inc, NULL};
        for (const char **f = fixed; *f; f++)
            strvec_push(&u->argv, *f);
        free(inc);
        split_words(pq, &u->argv);
        const char *tail[] = {"-MMD", "-MF", u->dep, "-o", NULL};
        for (const char **f = tail; *f; f++)
            strvec_push(&u->argv, *f);
        strvec_push_owned(&u->argv, xasprintf("%s.tmp", u->so));
        strvec_push(&u->argv, u->src);
        strvec_push(&u->argv, sdk_lib);
        strvec_push(&u->argv, "-lpq");
        sbuf cl = {0};
        for (size_t k = 0; k < u->argv.n; k++)
            sbuf_printf(&cl, "%s%s", k ? " " : "", u->argv.v[k]);
        u->cmdline = cl.s;
        u->needs = needs_build(u, sdk_lib);
    }
    free(pq);
    stats->sources = sources.n;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = ba->jobs > 0 ? ba->jobs : (cores > 0 ? (int)cores : 1);
    size_t failed = (size_t)compile_all(units, sources.n, jobs, stats);
    remove_stale(out_dir, &names, stats);
    if (failed) {
        sbuf names_failed = {0};
        for (size_t i = 0; i < sources.n; i++)
            if (units[i].status != 0)
                sbuf_printf(&names_failed, "%s%s", names_failed.len ? ", " : "", sources.v[i]);
        stats->failed = failed;
        rc = del_fail(err, DEL_EUSAGE, "%zu migration(s) did not compile: %s; fix the errors above and run 'delembic build' again",
                      failed, names_failed.s);
        sbuf_free(&names_failed);
        goto out;
    }
    if (copy_data(a->cfg.script_location, out_dir, err) != 0 ||
        build_manifest(a, out_dir, &names, units, err) != 0)
        rc = -1;
out:
    for (size_t i = 0; units && i < sources.n; i++)
        unit_free(&units[i]);
    free(units);
    strvec_clear(&sources);
    strvec_clear(&names);
    free(out_dir);
    free(deps_dir);
    return rc == 0 ? 0 : (err->code ? err->code : DEL_EUSAGE);
}
