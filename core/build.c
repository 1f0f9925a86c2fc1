#include "build.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alembic.h"
#include "buildpaths.h"
#include "buildstate.h"
#include "cmd_sign.h"
#include "datafiles.h"
#include "delembic/plugin.h"
#include "bundle.h"
#include "identity.h"
#include "inspect.h"
#include "loader.h"
#include "manifest.h"
#include "manifest_cache.h"
#include "sdk_digest.h"
#include "sha256.h"
#include "term.h"

#define STATE_OBJ_DIR "obj"
#define POSIX_FLAG "-D_POSIX_C_SOURCE=200809L"
#define STATE_LOCK "lock"
/* <script_location>/common: its *.c are compiled into every migration (each
 * one's translation unit starts with them, -include), its headers are found
 * with #include "..."; none of it is a migration itself. */
#define COMMON_DIR "common"
#define BUNDLE_MODE 0755
#define PLUGIN_MODE 0755
/* a preprocessed unit larger than this is refused (the source is not a migration) */
#define UNIT_MAX_BYTES (256u << 20)
#define TREE_FD_LIMIT 16
/* what debug info calls things whose path differs between checkouts */
#define MAP_PROJECT "."
#define MAP_SDK "delembic-sdk"
#define MAP_STATE ".build-state"
#define MAP_SOURCE "migration.c"

void build_sdk_paths(const app_env *env, const char **include_dir, const char **archive)
{
    const char *inc = env->sdk_include;
    const char *lib = env->sdk_lib;
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

enum { PHASE_IDLE, PHASE_COMPILE, PHASE_IDENTITY };

typedef struct unit {
    char *src;        /* absolute source path */
    char *name;       /* base name without .c */
    char *obj;        /* state/obj/name.so */
    char *tmp;        /* state/obj/name.so.tmp, while compiling */
    char *dep;        /* state/name.d */
    char *cmdfile;    /* state/name.cmd */
    char *idfile;     /* state/name.id */
    char *log;        /* state/name.log */
    char *unitfile;   /* state/name.i, the preprocessed unit */
    char *key;        /* compile command, SDK digest, identity version */
    strvec argv;      /* compile */
    strvec pp;        /* preprocess, for the identity */
    char identity[SHA256_HEX_LEN + 1];
    char sha256[SHA256_HEX_LEN + 1];
    srcset inputs;    /* the source and local headers it was compiled from */
    pid_t pid;
    int phase;
    int status;
    int needs;
} unit;

/* One build: the folders and what every unit shares. */
typedef struct build_ctx {
    app *a;
    const build_args *ba;
    const char *project;    /* delembic.yaml's folder: the compiler runs there */
    const char *scripts;
    char *bundle;           /* as configured (absolute) */
    char *target;           /* the folder replaced: the bundle, symlinks resolved */
    char *state;
    char *objdir;
    const char *sdk_inc, *sdk_lib;
    char sdk_sha[SHA256_HEX_LEN + 1];   /* the archive's bytes: the .so's, not the identity's */
    char *flags;            /* canonical flags for the identity */
    srcset known;           /* input records of earlier builds: hashes reused */
    srcset snaps;           /* inputs seen by this build */
    strvec dep_paths;       /* headers stat'ed by this build, once each */
    struct timespec *dep_times;     /* their mtimes (tv_nsec -1: missing) */
    strmap dep_idx;
} build_ctx;

static void unit_free(unit *u)
{
    free(u->src);
    free(u->name);
    free(u->obj);
    free(u->tmp);
    free(u->dep);
    free(u->cmdfile);
    free(u->idfile);
    free(u->log);
    free(u->unitfile);
    free(u->key);
    strvec_clear(&u->argv);
    strvec_clear(&u->pp);
    srcset_free(&u->inputs);
}

static int under(const char *path, const char *dir)
{
    size_t l = strlen(dir);
    return l > 1 && strncmp(path, dir, l) == 0 && path[l] == '/';
}

/* path as a message shows it: from the project folder when inside it */
static const char *shown(const build_ctx *c, const char *path)
{
    return under(path, c->project) ? path + strlen(c->project) + 1 : path;
}

/* A file of the project (not a system or SDK header): what staleness tracks. */
static int is_local(const build_ctx *c, const char *path)
{
    return (under(path, c->project) || under(path, c->scripts)) && !under(path, c->sdk_inc);
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

/* The mtime of a header of some depfile; every unit includes the same
 * system headers, so each is stat'ed once per build. */
static int dep_mtime(build_ctx *c, const char *path, struct timespec *ts)
{
    long i = c->dep_paths.n ? strmap_get(&c->dep_idx, path) : -1;
    if (i < 0) {
        i = (long)c->dep_paths.n;
        strvec_push(&c->dep_paths, path);
        c->dep_times = xrealloc(c->dep_times, c->dep_paths.n * sizeof *c->dep_times);
        if (mtime_of(path, &c->dep_times[i]) != 0)
            c->dep_times[i].tv_nsec = -1;
        strmap_put(&c->dep_idx, c->dep_paths.v[i], i);
    }
    *ts = c->dep_times[i];
    return ts->tv_nsec < 0 ? -1 : 0;
}

/* The files of a -MD depfile ("target: dep dep \\\n dep"), absolute. */
static void depfile_paths(const char *depfile, const char *base, strvec *out)
{
    char *deps = NULL;
    if (read_file(depfile, 16 << 20, &deps, NULL, NULL) != 0)
        return;
    char *p = strchr(deps, ':');
    p = p ? p + 1 : deps;
    sbuf word = {0};
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || (*p == '\\' && p[1] == '\n'))
            p += *p == '\\' ? 2 : 1;
        if (!*p)
            break;
        word.len = 0;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && !(*p == '\\' && p[1] == '\n')) {
            if (*p == '\\' && (p[1] == ' ' || p[1] == '#'))
                p++;
            else if (*p == '$' && p[1] == '$')
                p++;
            sbuf_add(&word, p++, 1);
        }
        sbuf_add(&word, "", 1);
        /* most entries are system headers, absolute and already normal */
        if (word.s[0] == '/' && !strstr(word.s, "/./") && !strstr(word.s, "/../") && !strstr(word.s, "//")) {
            strvec_push(out, word.s);
        } else {
            char *joined = path_join(base, word.s);
            strvec_push_owned(out, path_absolute(joined));
            free(joined);
        }
    }
    sbuf_free(&word);
    free(deps);
}

/* NAME.id: "identity HEX\nsha256 HEX\n" then the input records. */
static int read_id(unit *u)
{
    char *text = NULL;
    if (read_file(u->idfile, BUILDSTATE_MAX_BYTES, &text, NULL, NULL) != 0)
        return -1;
    int ok = strncmp(text, "identity ", 9) == 0 && strlen(text) > 9 + SHA256_HEX_LEN + 8 + SHA256_HEX_LEN &&
             strncmp(text + 9 + SHA256_HEX_LEN, "\nsha256 ", 8) == 0;
    if (ok) {
        memcpy(u->identity, text + 9, SHA256_HEX_LEN);
        memcpy(u->sha256, text + 9 + SHA256_HEX_LEN + 8, SHA256_HEX_LEN);
        ok = sha256_is_hex(u->identity) && sha256_is_hex(u->sha256);
        srcset_parse(text, &u->inputs);
    }
    free(text);
    return ok && u->inputs.n ? 0 : -1;
}

static int write_id(const unit *u, del_err *err)
{
    sbuf b = {0};
    sbuf_printf(&b, "identity %s\nsha256 %s\n", u->identity, u->sha256);
    srcset_format(&u->inputs, NULL, &b);
    int rc = write_file_atomic(u->idfile, b.s, b.len, 0644, err);
    sbuf_free(&b);
    return rc;
}

/* Is the compiled object still what this source, its headers, the SDK and
 * the command give? Up to date: u->sha256 and u->identity are set. */
static int needs_build(build_ctx *c, unit *u)
{
    struct timespec so_t, t;
    if (mtime_of(u->obj, &so_t) != 0)
        return 1;
    char *old = NULL;
    if (read_file(u->cmdfile, 1 << 20, &old, NULL, NULL) != 0)
        return 1;
    int same = strcmp(old, u->key) == 0;
    free(old);
    if (!same)
        return 1;
    /* an input moved (even to an older mtime, as a checkout can) */
    for (size_t i = 0; i < u->inputs.n; i++)
        if (srcfile_moved(&u->inputs.f[i]))
            return 1;
    strvec deps = {0};
    depfile_paths(u->dep, c->project, &deps);
    int rebuild = deps.n == 0;
    /* every header, system ones too (-isystem folders are not the system's) */
    for (size_t i = 0; i < deps.n && !rebuild; i++)
        if (dep_mtime(c, deps.v[i], &t) != 0 || newer(&t, &so_t))
            rebuild = 1;
    strvec_clear(&deps);
    if (rebuild)
        return 1;
    /* the object itself, which the bundle shares: unchanged since compiled */
    char now[SHA256_HEX_LEN + 1];
    if (sha256_file(u->obj, now, NULL) != 0 || strcmp(now, u->sha256) != 0)
        return 1;
    return 0;
}

/* The source and the local headers of the last depfile, before compiling. */
static int snap_before(build_ctx *c, unit *u, del_err *err)
{
    if (srcset_snap(&c->snaps, u->src, &c->known, err) != 0)
        return -1;
    strvec deps = {0};
    depfile_paths(u->dep, c->project, &deps);
    int rc = 0;
    for (size_t i = 0; i < deps.n && rc == 0; i++)
        if (is_local(c, deps.v[i]) && path_exists(deps.v[i]))
            rc = srcset_snap(&c->snaps, deps.v[i], &c->known, err);
    strvec_clear(&deps);
    return rc;
}

static pid_t start_job(const strvec *argv, const char *cwd, const char *log)
{
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = fork();
    if (pid == 0) {
        if (logfd >= 0) {
            dup2(logfd, 1);
            dup2(logfd, 2);
        }
        if (chdir(cwd) != 0) {
            dprintf(STDERR_FILENO, "cannot enter %s: %s\n", cwd, strerror(errno)); /* the child's log */
            _exit(127);
        }
        /* GCC names the folder in debug information by $PWD when $PWD is the
         * current folder: through a symbolic link that would be the link's
         * path, which no prefix map covers. cwd is the real path. */
        if (setenv("PWD", cwd, 1) != 0)
            unsetenv("PWD");
        execvp(argv->v[0], argv->v);
        dprintf(STDERR_FILENO, "cannot run the compiler '%s': %s\n", argv->v[0], strerror(errno));
        _exit(127);
    }
    if (logfd >= 0)
        close(logfd);
    return pid;
}

/* The linker names a place by its debug information, where the source is
 * MAP_SOURCE ("././migration.c:7: undefined reference ..."): that name,
 * standing alone and followed by ':', becomes the source's own. */
static void name_source(const char *text, const char *source, sbuf *out)
{
    const char *p = text, *hit;
    size_t ml = strlen(MAP_SOURCE);
    while ((hit = strstr(p, MAP_SOURCE ":"))) {
        const char *start = hit;
        while (start - p >= 2 && start[-2] == '.' && start[-1] == '/')
            start -= 2;
        int alone = start == text || strchr(" \t\n'`\"(", start[-1]) != NULL;
        sbuf_add(out, p, (size_t)(alone ? start - p : hit + ml - p));
        if (alone)
            sbuf_puts(out, source);
        p = hit + ml;
    }
    sbuf_puts(out, p);
}

static void show_log(const build_ctx *c, const unit *u)
{
    char *text = NULL;
    if (read_file(u->log, 1 << 20, &text, NULL, NULL) == 0) {
        if (*text) {
            sbuf b = {0};
            name_source(text, shown(c, u->src), &b);
            /* the compiler's own lines, one event each */
            for (char *line = b.s, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                    *nl = '\0';
                del_emit_text(c->a->o->notify, DEL_EV_DIAGNOSTIC, "%s", line);
            }
            sbuf_free(&b);
        }
        free(text);
    }
}

/* Compiled and preprocessed: the identity, the inputs, then the object and
 * its records (the key last, so an interrupted step means a rebuild). */
static int finish_unit(build_ctx *c, unit *u, del_err *err)
{
    char *text = NULL;
    size_t len = 0;
    int rc = read_file(u->unitfile, UNIT_MAX_BYTES, &text, &len, err);
    unlink(u->unitfile);
    if (rc == 0)
        rc = identity_digest(DEL_SDK_SOURCE_SHA256, c->flags, text, len, u->identity, err);
    free(text);
    strvec deps = {0};
    depfile_paths(u->dep, c->project, &deps);
    srcset_free(&u->inputs);
    if (rc == 0 && srcset_snap(&c->snaps, u->src, &c->known, err) == 0)
        srcset_add(&u->inputs, srcset_find(&c->snaps, u->src));
    else
        rc = -1;
    for (size_t i = 0; i < deps.n && rc == 0; i++) {
        if (!is_local(c, deps.v[i]))
            continue;
        rc = srcset_snap(&c->snaps, deps.v[i], &c->known, err);
        if (rc == 0)
            srcset_add(&u->inputs, srcset_find(&c->snaps, deps.v[i]));
    }
    strvec_clear(&deps);
    unlink(u->cmdfile);
    if (rc == 0 && (chmod(u->tmp, PLUGIN_MODE) != 0 || rename(u->tmp, u->obj) != 0))
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot move the built file into place: %s", u->obj, strerror(errno));
    if (rc == 0 && sha256_file(u->obj, u->sha256, err) != 0)
        rc = -1;
    if (rc == 0 && (write_id(u, err) != 0 || write_file_atomic(u->cmdfile, u->key, strlen(u->key), 0644, err) != 0))
        rc = -1;
    return rc;
}

static void job_done(build_ctx *c, unit *u, int status, size_t *failed, build_stats *stats)
{
    int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (u->phase == PHASE_COMPILE) {
        show_log(c, u);
        if (ok) {
            u->phase = PHASE_IDENTITY;
            u->pid = start_job(&u->pp, c->project, u->log);
            if (u->pid > 0)
                return;
            del_emit_text(c->a->o->notify, DEL_EV_DIAGNOSTIC, "%s: cannot start the preprocessor: %s", u->src, strerror(errno));
        }
    } else if (ok) {
        del_err e;
        if (finish_unit(c, u, &e) == 0) {
            unlink(u->log);
            u->phase = PHASE_IDLE;
            u->pid = 0;
            stats->compiled++;
            return;
        }
        del_emit_text(c->a->o->notify, DEL_EV_DIAGNOSTIC, "%s", e.msg);
    } else {
        show_log(c, u);
        del_emit_text(c->a->o->notify, DEL_EV_DIAGNOSTIC, "%s: the preprocessor failed, so its identity is unknown", u->src);
    }
    unlink(u->tmp);
    unlink(u->unitfile);
    unlink(u->log);
    u->phase = PHASE_IDLE;
    u->pid = 0;
    u->status = -1;
    (*failed)++;
}

static size_t compile_all(build_ctx *c, unit *units, size_t n, int jobs, build_stats *stats)
{
    size_t next = 0, running = 0, failed = 0;
    for (;;) {
        while (running < (size_t)jobs && next < n) {
            unit *u = &units[next++];
            if (!u->needs)
                continue;
            del_err e;
            if (snap_before(c, u, &e) != 0) {
                del_emit_text(c->a->o->notify, DEL_EV_DIAGNOSTIC, "%s", e.msg);
                u->status = -1;
                failed++;
                continue;
            }
            u->phase = PHASE_COMPILE;
            u->pid = start_job(&u->argv, c->project, u->log);
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
            if (units[i].pid != pid || units[i].phase == PHASE_IDLE)
                continue;
            job_done(c, &units[i], status, &failed, stats);
            if (units[i].phase == PHASE_IDLE)
                running--;
            break;
        }
    }
    return failed;
}

/* ---- the bundle: staged beside the old one, swapped in one step ---- */

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

/* to shares from's inode when it can (same filesystem), else a copy */
static int link_or_copy(const char *from, const char *to, int mode, del_err *err)
{
    if (link(from, to) != 0 && copy_file(from, to, err) != 0)
        return -1;
    if (chmod(to, (mode_t)mode) != 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot set its mode: %s", to, strerror(errno));
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, TREE_FD_LIMIT, FTW_DEPTH | FTW_PHYS);
}

/* What build may replace: a folder holding only what build writes (or
 * wrote before: .deps/), so a mistyped -o never deletes anything else. */
static int check_replaceable(const char *dir, del_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: not a folder build can write: %s; name another with -o DIR", dir,
                        strerror(errno));
    struct dirent *de;
    int rc = 0;
    while (rc == 0 && (de = readdir(d))) {
        const char *n = de->d_name;
        if (!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, MANIFEST_FILE) ||
            !strncmp(n, MANIFEST_FILE ".", strlen(MANIFEST_FILE ".")) || has_suffix(n, ".so") || has_suffix(n, ".so.tmp") || !strcmp(n, "data") || !strcmp(n, ".deps"))
            continue;
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: not a bundle folder (it holds '%s'); build into a new or empty folder, or remove it",
                      dir, n);
    }
    closedir(d);
    return rc;
}

/* Mirror script_location/data into staging/data, sharing unchanged files with the old bundle. */
static int stage_data(const build_ctx *c, const char *staging, del_err *err)
{
    char *src = path_join(c->scripts, "data");
    if (!is_dir(src)) {
        free(src);
        return 0;
    }
    char *dst = path_join(staging, "data");
    char *old = path_join(c->target, "data");
    int rc = mkdir(dst, BUNDLE_MODE) == 0 && chmod(dst, BUNDLE_MODE) == 0
                 ? 0
                 : del_fail(err, DEL_KIND_BUNDLE, "%s: cannot create folder: %s", dst, strerror(errno));
    DIR *d = rc == 0 ? opendir(src) : NULL;
    struct dirent *de;
    while (d && rc == 0 && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char *from = path_join(src, de->d_name), *to = path_join(dst, de->d_name);
        char *prev = path_join(old, de->d_name);
        struct stat a, b;
        /* a bundle's data/ is flat and holds plain files (a symbolic link
         * is copied as the file it leads to): anything else is said, never
         * left out silently */
        if (stat(from, &a) != 0)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s; a data file must be readable (a symbolic link must lead to a file)",
                          from, strerror(errno));
        else if (S_ISDIR(a.st_mode))
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: a folder; a bundle's data/ is flat: move its files up into %s or out of it",
                          from, src);
        else if (!S_ISREG(a.st_mode))
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s, not a regular file; a bundle's data files are plain files",
                          from, file_kind(a.st_mode));
        else if (lstat(prev, &b) == 0 && S_ISREG(b.st_mode) && a.st_size == b.st_size && !newer(&a.st_mtim, &b.st_mtim))
            rc = link_or_copy(prev, to, 0644, err);
        else
            rc = copy_file(from, to, err);
        free(from);
        free(to);
        free(prev);
    }
    if (d)
        closedir(d);
    free(src);
    free(dst);
    free(old);
    return rc;
}

/* A problem with staging/file, said of the source it was built from: the
 * hidden staging folder is never named. */
static int source_fail(const build_ctx *c, const char *staging, const char *file, const unit *u, const char *msg,
                       del_err *err)
{
    char *staged = xasprintf("%s/%s: ", staging, file);
    char *src = xasprintf("%s: ", shown(c, u->src));
    if (!strncmp(msg, staged, strlen(staged)))
        msg += strlen(staged);
    else if (!strncmp(msg, src, strlen(src)))
        msg += strlen(src);
    int rc = del_fail(err, DEL_KIND_BUNDLE, "%s: %s", shown(c, u->src), msg);
    free(staged);
    free(src);
    return rc;
}

/* What verify and upgrade check before loading a plugin, on what was just
 * built, before any of it is loaded: an ELF object for this host whose run
 * paths stay inside the bundle and whose libraries are the host's own (a
 * bundle build writes lists none). */
static int check_built(const build_ctx *c, const char *staging, const char *file, const unit *u, del_err *err)
{
    int fd;
    del_err e;
    manifest none = {0};
    /* its sha256 was checked when it was found up to date or compiled */
    if (loader_open_verified(staging, file, NULL, &fd, NULL, &e) != 0)
        return source_fail(c, staging, file, u, e.msg, err);
    int rc = loader_check_links(staging, &none, fd, file, shown(c, u->src), NULL, &e);
    close(fd);
    return rc == 0 ? 0 : source_fail(c, staging, file, u, e.msg, err);
}

static int build_manifest(build_ctx *c, const char *staging, int have_target, const strvec *names, unit *units,
                          del_err *err)
{
    app *a = c->a;
    manifest old = {0};
    int have_old = have_target && manifest_load(c->target, app_cache_dir(a), &old, NULL) == 0;
    size_t n = names->n;
    char **files = xcalloc(n, sizeof *files);
    plugin_info *info = xcalloc(n, sizeof *info);
    size_t *todo = xcalloc(n, sizeof *todo);
    inspect_item *todo_items = xcalloc(n, sizeof *todo_items);
    size_t ntodo = 0;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        files[i] = xasprintf("%s.so", names->v[i]);
        /* reuse the old entry when the file is byte-identical */
        long k = -1;
        for (size_t j = 0; have_old && j < old.n && k < 0; j++)
            if (!strcmp(old.m[j].file, files[i]) && !strcmp(old.m[j].sha256, units[i].sha256))
                k = (long)j;
        if (k >= 0) {
            info[i].revision = xstrdup(old.m[k].revision);
            info[i].description = xstrdup(old.m[k].description);
            for (size_t d = 0; d < old.m[k].depends_on.n; d++)
                strvec_push(&info[i].depends_on, old.m[k].depends_on.v[d]);
        } else {
            todo[ntodo] = i;
            todo_items[ntodo++] = (inspect_item){files[i], units[i].sha256, shown(c, units[i].src)};
        }
    }
    /* nothing is loaded that verify and upgrade would refuse to load; a
     * file reused from the previous bundle passed this when it was built */
    for (size_t t = 0; t < ntodo; t++)
        if (check_built(c, staging, files[todo[t]], &units[todo[t]], err) != 0) {
            rc = -1;
            goto out;
        }
    if (ntodo) {
        plugin_info *fresh = xcalloc(ntodo, sizeof *fresh);
        if (inspect_plugins(staging, NULL, todo_items, ntodo, app_env_of(a->o)->load_timeout, fresh, err) != 0) {
            free(fresh);
            rc = -1;
            goto out;
        }
        for (size_t t = 0; t < ntodo; t++)
            info[todo[t]] = fresh[t];
        free(fresh);
    }
    for (size_t i = 0; i < n; i++) {
        if (info[i].error) {
            rc = source_fail(c, staging, files[i], &units[i], info[i].error, err);
            goto out;
        }
        /* nothing that is not plain UTF-8 text reaches the manifest */
        if (plugin_info_check(&info[i], shown(c, units[i].src), err) != 0) {
            rc = -1;
            goto out;
        }
    }
    /* duplicate revisions name both sources */
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++)
            if (!strcmp(info[i].revision, info[j].revision)) {
                rc = del_fail(err, DEL_KIND_BUNDLE, "revision %s is defined by both %s and %s; give one of them a new revision",
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
        e->sha256 = xstrdup(units[i].sha256);
        e->identity = xstrdup(units[i].identity);
        e->description = xstrdup(info[i].description);
        for (size_t d = 0; d < info[i].depends_on.n; d++) {
            const char *dep = info[i].depends_on.v[d];
            if (strvec_contains(&e->depends_on, dep))
                continue;
            strvec_push(&e->depends_on, dep);
            if (strmap_get(&revs, dep) >= 0)
                continue;
            if (have_graph && algraph_find(&graph, dep) < 0)
                rc = del_fail(err, DEL_KIND_BUNDLE, "%s (%s): depends_on entry '%s' is neither a data migration nor an Alembic revision in %s; fix the typo",
                              info[i].revision, units[i].src, dep, a->cfg.alembic_config);
            else if (!have_graph)
                del_emit_text(a->o->notify, DEL_EV_WARNING, "warning: %s depends on '%s', taken as an Alembic revision; set alembic_config in delembic.yaml so build can check it",
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
    /* every file of data/, pinned by sha256 and size */
    if (rc == 0)
        rc = datafiles_scan(staging, &mf, err);
    if (rc == 0)
        rc = manifest_write(staging, &mf, err);
    manifest_free(&mf);
    algraph_free(&graph);
out:
    for (size_t i = 0; i < n; i++) {
        free(files[i]);
        plugin_info_free(&info[i]);
    }
    free(files);
    free(info);
    free(todo);
    free(todo_items);
    if (have_old)
        manifest_free(&old);
    return rc;
}

/* Put staging where target is, in one step; afterwards staging holds the old
 * bundle (or nothing). */
static int swap_in(const char *staging, const char *target, int have_target, del_err *err)
{
    if (!have_target) {
        if (rename(staging, target) == 0)
            return 0;
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot move the new bundle into place: %s", target, strerror(errno));
    }
#ifdef RENAME_EXCHANGE
    if (renameat2(AT_FDCWD, staging, AT_FDCWD, target, RENAME_EXCHANGE) == 0)
        return 0;
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot swap in the new bundle: %s", target, strerror(errno));
#endif
    /* no atomic exchange here: the old bundle steps aside for a moment */
    char *aside = xasprintf("%s.old", staging);
    int rc = 0;
    if (rename(target, aside) != 0) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot move the old bundle aside: %s", target, strerror(errno));
    } else if (rename(staging, target) != 0) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot move the new bundle into place: %s", target, strerror(errno));
        if (rename(aside, target) != 0)
            del_hint(err, "the previous bundle is in %s; move it back to %s", aside, target);
    } else if (rename(aside, staging) != 0) {
        remove_tree(aside);
    }
    free(aside);
    return rc;
}

/* Remove a folder that held a bundle, unless a running upgrade still holds
 * it (a shared flock, see bundle_open_kept): 0 removed, -1 in use. */
static int remove_unless_used(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return -1;
    }
    remove_tree(dir);
    if (fd >= 0)
        close(fd);
    return 0;
}

/* The previous bundle, after the swap (at the staging folder's name): a run
 * that started with it keeps it until it ends, as .<bundle>.old-XXXXXX,
 * which a later build removes. */
static void retire_old_bundle(const char *old, const char *target)
{
    if (remove_unless_used(old) == 0)
        return;
    char *parent = path_dirname(target);
    char *kept = xasprintf("%s/.%s.old-XXXXXX", parent, path_basename(target));
    if (mkdtemp(kept) && rename(old, kept) != 0)
        rmdir(kept); /* it stays under the staging name: removed the same way */
    free(kept);
    free(parent);
}

/* Staging folders of builds that were killed before they could clean up,
 * and previous bundles that runs no longer use. */
static void remove_leftovers(const char *target)
{
    char *parent = path_dirname(target);
    char *prefix = xasprintf(".%s.new-", path_basename(target));
    char *kept = xasprintf(".%s.old-", path_basename(target));
    DIR *d = opendir(parent);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0 &&
            strncmp(de->d_name, kept, strlen(kept)) != 0)
            continue;
        char *p = path_join(parent, de->d_name);
        remove_unless_used(p);
        free(p);
    }
    if (d)
        closedir(d);
    free(kept);
    free(prefix);
    free(parent);
}

static size_t count_removed(const char *target, const strvec *names)
{
    size_t removed = 0;
    DIR *d = opendir(target);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!has_suffix(de->d_name, ".so"))
            continue;
        char *base = xstrndup(de->d_name, strlen(de->d_name) - 3);
        removed += !strvec_contains(names, base);
        free(base);
    }
    if (d)
        closedir(d);
    return removed;
}

/* The folder build replaces: not /, and new, empty or a bundle. */
static int check_target(const char *target, del_err *err)
{
    struct stat st;
    if (!strcmp(target, "/"))
        return del_fail(err, DEL_KIND_BUNDLE, "/: the root folder cannot be a bundle folder; name another with -o DIR or build_dir");
    if (lstat(target, &st) != 0)
        return 0;
    if (!S_ISDIR(st.st_mode))
        return del_fail(err, DEL_KIND_BUNDLE, "%s: exists and is not a folder; name another bundle folder with -o DIR", target);
    return check_replaceable(target, err);
}

static int stage_and_swap(build_ctx *c, unit *units, const strvec *names, build_stats *stats, del_err *err)
{
    struct stat st;
    int have_target = lstat(c->target, &st) == 0;
    /* again: the folder may have changed while compiling */
    if (check_target(c->target, err) != 0)
        return -1;
    remove_leftovers(c->target);
    char *parent = path_dirname(c->target);
    char *staging = xasprintf("%s/.%s.new-XXXXXX", parent, path_basename(c->target));
    free(parent);
    if (!mkdtemp(staging)) {
        int rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot create a staging folder: %s", staging, strerror(errno));
        free(staging);
        return rc;
    }
    int rc = chmod(staging, BUNDLE_MODE) == 0 ? 0 : del_fail(err, DEL_KIND_BUNDLE, "%s: %s", staging, strerror(errno));
    for (size_t i = 0; i < names->n && rc == 0; i++) {
        char *to = xasprintf("%s/%s.so", staging, units[i].name);
        rc = link_or_copy(units[i].obj, to, PLUGIN_MODE, err);
        free(to);
    }
    if (rc == 0)
        rc = stage_data(c, staging, err);
    if (rc == 0)
        rc = build_manifest(c, staging, have_target, names, units, err);
    if (rc == 0 && c->ba->sign_key)
        rc = sign_manifest(staging, c->ba->sign_key, c->ba->bundle_version, c->ba->sign_out, err);
    if (rc == 0) {
        size_t removed = have_target ? count_removed(c->target, names) : 0;
        rc = swap_in(staging, c->target, have_target, err);
        if (rc == 0)
            stats->removed = removed;
    }
    if (rc == 0 && have_target)
        retire_old_bundle(staging, c->target);
    else
        remove_tree(staging);
    free(staging);
    return rc;
}

/* The records of units whose sources are gone. */
static void forget_gone(const build_ctx *c, const strvec *names)
{
    DIR *d = opendir(c->objdir);
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (!has_suffix(de->d_name, ".so"))
            continue;
        char *base = xstrndup(de->d_name, strlen(de->d_name) - 3);
        if (!strvec_contains(names, base)) {
            const char *ext[] = {"d", "cmd", "id", "log", "i"};
            for (size_t k = 0; k < sizeof ext / sizeof ext[0]; k++) {
                char *f = xasprintf("%s/%s.%s", c->state, base, ext[k]);
                unlink(f);
                free(f);
            }
            char *so = path_join(c->objdir, de->d_name);
            unlink(so);
            free(so);
        }
        free(base);
    }
    if (d)
        closedir(d);
}

static int write_inputs(const build_ctx *c, const unit *units, size_t n, del_err *err)
{
    srcset all = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < units[i].inputs.n; k++)
            srcset_add(&all, &units[i].inputs.f[k]);
    sbuf b = {0};
    sbuf_puts(&b, BUILDSTATE_INPUTS_HEADER);
    srcset_format(&all, c->project, &b);
    char *path = path_join(c->state, BUILDSTATE_INPUTS);
    int rc = write_file_atomic(path, b.s, b.len, 0644, err);
    free(path);
    sbuf_free(&b);
    srcset_free(&all);
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
        return del_fail(err, DEL_KIND_BUNDLE, "%s: script folder not found: %s; create it with 'delembic init' or set script_location",
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

/* -ffile-prefix-map=OLD=NEW, unless OLD has an '=' the option cannot carry */
static void push_map(strvec *argv, const char *opt, const char *old, const char *new_name)
{
    if (!strchr(old, '='))
        strvec_push_owned(argv, xasprintf("%s=%s=%s", opt, old, new_name));
}

/* Debug info and __FILE__ name the project as ".", the SDK as MAP_SDK; the
 * source itself is MAP_SOURCE in debug info (so a rename keeps the bytes).
 * GCC applies the last matching map, so the most specific comes last. */
static void push_maps(const build_ctx *c, const unit *u, strvec *argv)
{
    push_map(argv, "-ffile-prefix-map", c->project, MAP_PROJECT);
    if (!under(c->scripts, c->project) && strcmp(c->scripts, c->project) != 0)
        push_map(argv, "-ffile-prefix-map", c->scripts, path_basename(c->scripts));
    push_map(argv, "-ffile-prefix-map", c->state, MAP_STATE);
    push_map(argv, "-ffile-prefix-map", c->sdk_inc, MAP_SDK);
    push_map(argv, "-fdebug-prefix-map", u->src, MAP_SOURCE);
}

static void make_unit(build_ctx *c, unit *u, const char *source, const strvec *common, const char *pq)
{
    u->src = path_join(c->a->cfg.script_location, source);
    u->name = xstrndup(source, strlen(source) - 2);
    u->obj = xasprintf("%s/%s.so", c->objdir, u->name);
    u->tmp = xasprintf("%s.tmp", u->obj);
    u->dep = xasprintf("%s/%s.d", c->state, u->name);
    u->cmdfile = xasprintf("%s/%s.cmd", c->state, u->name);
    u->idfile = xasprintf("%s/%s.id", c->state, u->name);
    u->log = xasprintf("%s/%s.log", c->state, u->name);
    u->unitfile = xasprintf("%s/%s.i", c->state, u->name);
    for (size_t k = 0; k < common->n; k++) {
        const char *f = common->v[k];
        strvec_push(&u->argv, f);
        /* not -g*: -g3 keeps the #defines in -E output, and debug flags are
         * not part of the identity */
        if (strcmp(f, "-shared") != 0 && strncmp(f, "-g", 2) != 0)
            strvec_push(&u->pp, f);
    }
    split_words(pq, &u->argv);
    split_words(pq, &u->pp);
    push_maps(c, u, &u->argv);
    push_maps(c, u, &u->pp);
    /* -z defs: a symbol defined nowhere is a link error naming file:line,
     * not a plugin that cannot be loaded (not part of the identity: it
     * changes no output, only refuses) */
    const char *tail[] = {"-Wl,-z,defs", "-MD", "-MF", u->dep, "-o", u->tmp, u->src, c->sdk_lib, "-lpq", NULL};
    for (const char **f = tail; *f; f++)
        strvec_push(&u->argv, *f);
    const char *pp_tail[] = {"-E", "-P", "-o", u->unitfile, u->src, NULL};
    for (const char **f = pp_tail; *f; f++)
        strvec_push(&u->pp, *f);
    sbuf key = {0};
    for (size_t k = 0; k < u->argv.n; k++)
        sbuf_printf(&key, "%s%s", k ? " " : "", u->argv.v[k]);
    sbuf_printf(&key, "\nsdk %s\nsdk-source %s\nidentity %d\n", c->sdk_sha, DEL_SDK_SOURCE_SHA256, IDENTITY_VERSION);
    u->key = key.s;
}

/* The canonical flags: the compiler, CFLAGS, the fixed flags and libpq's. */
static char *canonical_flags(const build_ctx *c, const strvec *common, const char *pq)
{
    strvec all = {0};
    for (size_t k = 0; k < common->n; k++)
        strvec_push(&all, common->v[k]);
    split_words(pq, &all);
    strvec_push(&all, "-lpq");
    const identity_root roots[] = {{c->project, "$PROJECT"}, {c->scripts, "$SOURCES"},
                                   {c->state, "$STATE"}, {c->sdk_inc, "$SDK"}};
    sbuf out = {0};
    identity_flags(all.v, all.n, roots, sizeof roots / sizeof roots[0], &out);
    strvec_clear(&all);
    return out.s;
}

static int take_lock(const build_ctx *c, int *fd, del_err *err)
{
    char *path = path_join(c->state, STATE_LOCK);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    free(path);
    if (*fd < 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot open the build lock: %s", c->state, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    del_emit_text(c->a->o->notify, DEL_EV_WARNING, "Waiting for another build of %s", c->bundle);
    while (flock(*fd, LOCK_EX) != 0)
        if (errno != EINTR)
            return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot take the build lock: %s", c->state, strerror(errno));
    return 0;
}

int cmd_build(app *a, const build_args *ba, build_stats *stats, del_err *err)
{
    memset(stats, 0, sizeof *stats);
    build_ctx c = {.a = a, .ba = ba, .project = a->cfg.dir, .scripts = a->cfg.script_location};
    c.bundle = path_absolute(ba->out_dir ? ba->out_dir : a->cfg.build_dir);
    char *real = realpath(c.bundle, NULL);
    c.target = real ? real : xstrdup(c.bundle);
    c.state = buildstate_dir(c.bundle);
    c.objdir = path_join(c.state, STATE_OBJ_DIR);
    strvec sources = {0}, names = {0}, common = {0};
    unit *units = NULL;
    char *pq = NULL;
    char *parent = path_dirname(c.target);
    int lockfd = -1, rc = 0;
    /* a folder build may not replace is refused before anything is made */
    if (check_target(c.target, err) != 0) {
        rc = -1;
        goto out;
    }
    if (list_sources(a->cfg.script_location, &sources, err) != 0 || mkdir_p(parent, 0755, err) != 0 ||
        mkdir_p(c.objdir, 0755, err) != 0 || take_lock(&c, &lockfd, err) != 0) {
        rc = -1;
        goto out;
    }
    chmod(c.state, 0755);
    chmod(c.objdir, 0755);
    build_sdk_paths(app_env_of(a->o), &c.sdk_inc, &c.sdk_lib);
    if (!path_exists(c.sdk_lib)) {
        rc = del_fail(err, DEL_KIND_BUNDLE, "the plugin SDK archive %s is missing; install delembic with 'meson install' or set DELEMBIC_SDK_LIB",
                      c.sdk_lib);
        goto out;
    }
    if (sha256_file(c.sdk_lib, c.sdk_sha, err) != 0) {
        rc = -1;
        goto out;
    }
    pq = libpq_cflags();
    const char *cc = app_env_of(a->o)->cc;
    const char *user_cflags = app_env_of(a->o)->cflags;
    split_words(cc && *cc ? cc : "cc", &common);
    /* POSIX (fork, pid_t, strdup) under -std=c11; CFLAGS can still ask for more */
    strvec_push(&common, POSIX_FLAG);
    split_words(user_cflags && *user_cflags ? user_cflags : "-O2 -g", &common);
    const char *fixed[] = {"-std=c11", "-fPIC", "-shared", "-Wall", "-Wextra", "-fvisibility=hidden", NULL};
    for (const char **f = fixed; *f; f++)
        strvec_push(&common, *f);
    c.flags = canonical_flags(&c, &common, pq);
    strvec_push_owned(&common, xasprintf("-I%s", c.sdk_inc));
    /* shared code: in the preprocessed unit, so in each identity too (the
     * flags that bring it in are not) */
    char *common_dir = path_join(a->cfg.script_location, COMMON_DIR);
    if (is_dir(common_dir)) {
        strvec shared = {0};
        list_sources(common_dir, &shared, err);
        strvec_push_owned(&common, xasprintf("-I%s", common_dir));
        for (size_t k = 0; k < shared.n; k++) {
            strvec_push(&common, "-include");
            strvec_push_owned(&common, path_join(common_dir, shared.v[k]));
        }
        strvec_clear(&shared);
    }
    free(common_dir);
    units = xcalloc(sources.n ? sources.n : 1, sizeof *units);
    for (size_t i = 0; i < sources.n; i++) {
        unit *u = &units[i];
        make_unit(&c, u, sources.v[i], &common, pq);
        strvec_push(&names, u->name);
        if (read_id(u) != 0) {
            srcset_free(&u->inputs);
            u->needs = 1;
        }
        for (size_t k = 0; k < u->inputs.n; k++)
            srcset_add(&c.known, &u->inputs.f[k]);
    }
    for (size_t i = 0; i < sources.n; i++)
        if (!units[i].needs)
            units[i].needs = needs_build(&c, &units[i]);
    stats->sources = sources.n;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int jobs = ba->jobs > 0 ? ba->jobs : (cores > 0 ? (int)cores : 1);
    size_t failed = compile_all(&c, units, sources.n, jobs, stats);
    if (failed) {
        sbuf names_failed = {0};
        for (size_t i = 0; i < sources.n; i++)
            if (units[i].status != 0)
                sbuf_printf(&names_failed, "%s%s", names_failed.len ? ", " : "", sources.v[i]);
        rc = del_fail(err, DEL_KIND_BUNDLE, "%zu migration(s) did not compile: %s; fix the errors above and run 'delembic build' again",
                      failed, names_failed.s);
        sbuf_free(&names_failed);
        goto out;
    }
    if (stage_and_swap(&c, units, &names, stats, err) != 0) {
        rc = -1;
        goto out;
    }
    forget_gone(&c, &names);
    /* the bundle is in place; without this record upgrade may warn for nothing */
    del_err e;
    if (write_inputs(&c, units, sources.n, &e) != 0)
        del_emit_text(a->o->notify, DEL_EV_WARNING, "warning: %s; 'delembic upgrade' may take sources for changed until the next build", e.msg);
out:
    if (lockfd >= 0)
        close(lockfd);
    for (size_t i = 0; units && i < sources.n; i++)
        unit_free(&units[i]);
    free(units);
    strvec_clear(&sources);
    strvec_clear(&names);
    strvec_clear(&common);
    srcset_free(&c.known);
    srcset_free(&c.snaps);
    strvec_clear(&c.dep_paths);
    free(c.dep_times);
    strmap_free(&c.dep_idx);
    free(pq);
    free(parent);
    free(c.flags);
    free(c.bundle);
    free(c.target);
    free(c.state);
    free(c.objdir);
    if (rc != 0 && !del_failed(err))
        err->kind = DEL_KIND_BUNDLE;
    return rc == 0 ? 0 : -1;
}
