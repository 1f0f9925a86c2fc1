#include "inspect.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loader.h"
#include "term.h"

void plugin_info_free(plugin_info *pi)
{
    free(pi->error);
    free(pi->revision);
    free(pi->description);
    strvec_clear(&pi->depends_on);
    memset(pi, 0, sizeof *pi);
}

/* Where s stops being text a manifest can carry: NULL when it is valid
 * UTF-8 without control characters (C0, DEL, C1), else why, with *at the
 * byte offset and *byte the byte there. */
static const char *text_problem(const char *s, size_t *at, unsigned *byte)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        size_t n = utf8_seq_len(p, &cp);
        *at = (size_t)(p - (const unsigned char *)s);
        *byte = *p;
        if (n == 0)
            return "is not valid UTF-8";
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
            return "holds a control character";
        p += n;
    }
    return NULL;
}

static int field_fail(const char *source, const char *rev, const char *field, const char *what,
                      size_t at, unsigned byte, del_err *err)
{
    int utf8 = strstr(what, "UTF-8") != NULL;
    return del_fail(err, DEL_KIND_BUNDLE, "%s: the %s of %s %s (byte 0x%02x at offset %zu); %s", source, field, rev,
                    what, byte, at,
                    utf8 ? "save the source as UTF-8" : "remove it");
}

int plugin_info_check(const plugin_info *pi, const char *source, del_err *err)
{
    size_t at;
    unsigned byte;
    const char *why;
    if ((why = text_problem(pi->revision, &at, &byte)))
        return field_fail(source, "this migration", "revision", why, at, byte, err);
    if ((why = text_problem(pi->description, &at, &byte)))
        return field_fail(source, pi->revision, "description", why, at, byte, err);
    for (size_t i = 0; i < pi->depends_on.n; i++)
        if ((why = text_problem(pi->depends_on.v[i], &at, &byte))) {
            char field[64];
            snprintf(field, sizeof field, "depends_on entry %zu", i + 1);
            return field_fail(source, pi->revision, field, why, at, byte, err);
        }
    return 0;
}

#define INSPECT_RECORD_MAX (64u << 20)
#define LOAD_TIMEOUT_ENV "DELEMBIC_LOAD_TIMEOUT"
#define INSPECT_TIMEOUT_MAX_S 86400

typedef struct rec_head {
    uint32_t index, ok, len;
} rec_head;

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static void child(int fd, const char *dir, const manifest *mf, const inspect_item *items, size_t start,
                  size_t n)
{
    for (size_t i = start; i < n; i++) {
        sbuf payload = {0};
        rec_head h = {(uint32_t)i, 0, 0};
        del_err err;
        int pfd = -1;
        char sha[65];
        const inspect_item *it = &items[i];
        char *path = path_join(dir, it->file);
        const char *name = it->name ? it->name : path;
        loaded_plugin lp;
        /* the file loaded is the one opened and hashed here, never one
         * reopened by name after a check */
        int failed = mf ? loader_load_verified(dir, mf, it->file, it->sha256, &lp, sha, &err) != 0
                        : loader_open_verified(dir, it->file, it->sha256, &pfd, sha, &err) != 0 ||
                              loader_load_fd(pfd, name, &lp, &err) != 0;
        if (failed) {
            sbuf_puts(&payload, err.msg);
        } else {
            h.ok = 1;
            sbuf_add(&payload, sha, 65);
            sbuf_add(&payload, lp.desc->revision, strlen(lp.desc->revision) + 1);
            const char *d = lp.desc->description ? lp.desc->description : "";
            sbuf_add(&payload, d, strlen(d) + 1);
            for (const char *const *p = lp.desc->depends_on; p && *p; p++)
                sbuf_add(&payload, *p, strlen(*p) + 1);
            loader_unload(&lp);
        }
        if (pfd >= 0)
            close(pfd);
        free(path);
        h.len = (uint32_t)payload.len;
        if (write_all(fd, &h, sizeof h) != 0 || (payload.len && write_all(fd, payload.s, payload.len) != 0))
            _exit(1);
        sbuf_free(&payload);
    }
    _exit(0);
}

static void parse_record(plugin_info *pi, const rec_head *h, const char *p)
{
    if (!h->ok) {
        pi->error = xstrndup(p, h->len);
        return;
    }
    const char *end = p + h->len;
    memcpy(pi->sha256, p, 65);
    pi->sha256[64] = '\0';
    p += 65;
    pi->revision = xstrdup(p);
    p += strlen(p) + 1;
    pi->description = xstrdup(p < end ? p : "");
    p += strlen(p) + 1;
    while (p < end) {
        strvec_push(&pi->depends_on, p);
        p += strlen(p) + 1;
    }
}

/* How long one plugin may take to load (its constructors) and unload (its
 * destructors) in the child, in seconds: DELEMBIC_LOAD_TIMEOUT, or this. */
static int load_timeout(int *seconds, del_err *err)
{
    const char *v = getenv(LOAD_TIMEOUT_ENV);
    *seconds = INSPECT_TIMEOUT_S;
    if (!v || !*v)
        return 0;
    char *end;
    errno = 0;
    long s = strtol(v, &end, 10);
    if (errno || *end || s < 1 || s > INSPECT_TIMEOUT_MAX_S)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: '%s' is not a number of seconds from 1 to %d; unset it for the default (%d s)",
                        LOAD_TIMEOUT_ENV, v, INSPECT_TIMEOUT_MAX_S, INSPECT_TIMEOUT_S);
    *seconds = (int)s;
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* 1: fd has something to read (or its end) before deadline; 0: not */
static int readable_before(int fd, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 1; /* let the read say what is wrong */
    }
}

/* A record the child wrote as child() writes them: the next index in turn,
 * and for a descriptor, the sha256 and each string NUL-terminated inside
 * it (a plugin's constructor can write to the pipe too). */
static int record_ok(const rec_head *h, const char *p, size_t next, size_t n)
{
    if (h->index != next || h->index >= n)
        return 0;
    if (!h->ok)
        return 1;
    return h->len >= 65 + 2 && p[64] == '\0' && p[h->len - 1] == '\0' && memchr(p + 65, '\0', h->len - 65) != NULL;
}

int inspect_plugins(const char *dir, const manifest *mf, const inspect_item *items, size_t n,
                    plugin_info *out, del_err *err)
{
    for (size_t i = 0; i < n; i++)
        memset(&out[i], 0, sizeof out[i]);
    int timeout_s;
    if (load_timeout(&timeout_s, err) != 0)
        return -1;
    size_t next = 0;
    while (next < n) {
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) != 0)
            return del_fail(err, DEL_KIND_BUNDLE, "cannot create a pipe: %s", strerror(errno));
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
            close(pfd[0]);
            close(pfd[1]);
            return del_fail(err, DEL_KIND_BUNDLE, "cannot fork: %s", strerror(errno));
        }
        if (pid == 0) {
            close(pfd[0]);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            child(pfd[1], dir, mf, items, next, n);
        }
        close(pfd[1]);
        int timed_out = 0, forged = 0;
        for (;;) {
            /* each plugin gets timeout_s to load, be read and unload */
            if (!readable_before(pfd[0], now_ms() + (long long)timeout_s * 1000)) {
                timed_out = 1;
                kill(pid, SIGKILL);
                break;
            }
            rec_head h;
            if (read_all(pfd[0], &h, sizeof h) != 0)
                break;
            if (h.len > INSPECT_RECORD_MAX)
                break;
            char *p = xmalloc(h.len + 1);
            if (h.len && read_all(pfd[0], p, h.len) != 0) {
                free(p);
                break;
            }
            p[h.len] = '\0';
            int ok = record_ok(&h, p, next, n);
            if (ok) {
                parse_record(&out[h.index], &h, p);
                next = h.index + 1;
            }
            free(p);
            if (!ok) {
                forged = 1;
                kill(pid, SIGKILL);
                break;
            }
        }
        close(pfd[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (next < n) {
            char why[128];
            if (WIFSIGNALED(status))
                snprintf(why, sizeof why, "SIG%s", sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "?");
            else
                snprintf(why, sizeof why, "exit status %d", WEXITSTATUS(status));
            char *path = path_join(dir, items[next].file);
            const char *name = items[next].name ? items[next].name : path;
            if (timed_out)
                out[next].error = xasprintf("%s: timed out while loading: its constructor (or destructor) ran for more than %d s; fix the plugin (or raise %s)",
                                            name, timeout_s, LOAD_TIMEOUT_ENV);
            else if (forged)
                out[next].error = xasprintf("%s: wrote into delembic's own pipe while loading (a constructor writes to file descriptors it does not own); fix the plugin",
                                            name);
            else
                out[next].error = xasprintf("%s: crashed while loading (%s); a constructor or the descriptor of this plugin is broken",
                                            name, why);
            free(path);
            next++;
        }
    }
    return 0;
}
