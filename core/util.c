#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void oom(void)
{
    static const char msg[] = "delembic: out of memory\n";
    if (write(STDERR_FILENO, msg, sizeof msg - 1) < 0) { /* the last word before abort */
    }
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom();
    return p;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        oom();
    return d;
}

char *xstrndup(const char *s, size_t n)
{
    char *d = strndup(s, n);
    if (!d)
        oom();
    return d;
}

static char *xvasprintf(const char *fmt, va_list ap, size_t *len)
{
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    if (n < 0)
        oom();
    if (len)
        *len = (size_t)n;
    return s;
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap, NULL);
    va_end(ap);
    return s;
}

void strvec_push_owned(strvec *sv, char *s)
{
    if (sv->n + 1 >= sv->cap) {
        sv->cap = sv->cap ? sv->cap * 2 : 8;
        sv->v = xrealloc(sv->v, sv->cap * sizeof *sv->v);
    }
    sv->v[sv->n++] = s;
    sv->v[sv->n] = NULL;
}

void strvec_push(strvec *sv, const char *s)
{
    strvec_push_owned(sv, xstrdup(s));
}

void strvec_clear(strvec *sv)
{
    for (size_t i = 0; i < sv->n; i++)
        free(sv->v[i]);
    free(sv->v);
    sv->v = NULL;
    sv->n = sv->cap = 0;
}

int strvec_contains(const strvec *sv, const char *s)
{
    for (size_t i = 0; i < sv->n; i++)
        if (strcmp(sv->v[i], s) == 0)
            return 1;
    return 0;
}

void strvec_join(const strvec *sv, const char *sep, char *buf, size_t bufsz)
{
    size_t len = 0;
    if (bufsz)
        buf[0] = '\0';
    for (size_t i = 0; i < sv->n && len < bufsz; i++) {
        int n = snprintf(buf + len, bufsz - len, "%s%s", i ? sep : "", sv->v[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
}

static int natural_qsort_cmp(const void *a, const void *b)
{
    return natural_cmp(*(char *const *)a, *(char *const *)b);
}

void strvec_sort_natural(strvec *sv)
{
    if (sv->n > 1)
        qsort(sv->v, sv->n, sizeof *sv->v, natural_qsort_cmp);
}

int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            const char *za = a, *zb = b;
            while (*za == '0')
                za++;
            while (*zb == '0')
                zb++;
            const char *ea = za, *eb = zb;
            while (isdigit((unsigned char)*ea))
                ea++;
            while (isdigit((unsigned char)*eb))
                eb++;
            size_t la = (size_t)(ea - za), lb = (size_t)(eb - zb);
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = memcmp(za, zb, la);
            if (c)
                return c < 0 ? -1 : 1;
            /* same value: fewer leading zeros first, for a total order */
            if ((ea - a) != (eb - b))
                return (ea - a) < (eb - b) ? -1 : 1;
            a = ea;
            b = eb;
        } else {
            if (*a != *b)
                return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
            a++;
            b++;
        }
    }
    if (*a == *b)
        return 0;
    return *a ? 1 : -1;
}

void sbuf_add(sbuf *b, const char *data, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->s = xrealloc(b->s, cap);
        b->cap = cap;
    }
    memcpy(b->s + b->len, data, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void sbuf_puts(sbuf *b, const char *s)
{
    sbuf_add(b, s, strlen(s));
}

void sbuf_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    size_t n;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap, &n);
    va_end(ap);
    sbuf_add(b, s, n);
    free(s);
}

void sbuf_free(sbuf *b)
{
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}

const char *file_kind(unsigned mode)
{
    switch (mode & S_IFMT) {
    case S_IFREG: return "a regular file";
    case S_IFDIR: return "a folder";
    case S_IFIFO: return "a FIFO";
    case S_IFCHR: return "a character device";
    case S_IFBLK: return "a block device";
    case S_IFSOCK: return "a socket";
    case S_IFLNK: return "a symbolic link";
    default: return "not a file";
    }
}

static int not_regular(const char *path, unsigned mode, del_err *err)
{
    return del_fail(err, DEL_KIND_CONFIG, "%s: %s, not a regular file; delembic reads only regular files (replace it with one)",
                    path, file_kind(mode));
}

int open_regular(const char *path, struct stat *st, del_err *err)
{
    struct stat before;
    /* never open what is not a regular file: opening a FIFO waits for a
     * writer, opening a device may act on it */
    if (stat(path, &before) != 0)
        return del_fail(err, DEL_KIND_CONFIG, "%s: cannot open: %s", path, strerror(errno));
    if (!S_ISREG(before.st_mode))
        return not_regular(path, before.st_mode, err);
    /* O_NONBLOCK: should it be swapped for a FIFO meanwhile, the open still
     * returns at once, and fstat below refuses it */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return del_fail(err, DEL_KIND_CONFIG, "%s: cannot open: %s", path, strerror(errno));
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        unsigned mode = (unsigned)st->st_mode;
        close(fd);
        return not_regular(path, mode, err);
    }
    return fd;
}

int read_fd(int fd, const char *path, const struct stat *st, size_t max, char **out, size_t *len,
            del_err *err)
{
    if ((size_t)st->st_size > max)
        return del_fail(err, DEL_KIND_CONFIG, "%s: file is %lld bytes, larger than the %zu allowed",
                        path, (long long)st->st_size, max);
    size_t cap = (size_t)st->st_size + 1, n = 0;
    char *buf = xmalloc(cap);
    for (;;) {
        if (n + 1 >= cap) {
            if (cap > max + 1) {
                free(buf);
                return del_fail(err, DEL_KIND_CONFIG, "%s: file grew past %zu bytes", path, max);
            }
            cap *= 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(buf);
            return del_fail(err, DEL_KIND_CONFIG, "%s: read error: %s", path, strerror(errno));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

int read_file(const char *path, size_t max, char **out, size_t *len, del_err *err)
{
    struct stat st;
    int fd = open_regular(path, &st, err);
    if (fd < 0)
        return -1;
    int rc = read_fd(fd, path, &st, max, out, len, err);
    close(fd);
    return rc;
}

int write_file_atomic(const char *path, const char *data, size_t len, int mode, del_err *err)
{
    char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
    /* a fresh file: never through a link, a FIFO or a file left under its name */
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        del_fail(err, DEL_KIND_CONFIG, "%s: cannot write: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            del_fail(err, DEL_KIND_CONFIG, "%s: write error: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            free(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, (mode_t)mode) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
        del_fail(err, DEL_KIND_CONFIG, "%s: cannot write: %s", path, strerror(errno));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

char *path_join(const char *a, const char *b)
{
    if (!a || !*a || (b && b[0] == '/'))
        return xstrdup(b);
    size_t la = strlen(a);
    return xasprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *path_dirname(const char *p)
{
    const char *slash = strrchr(p, '/');
    if (!slash)
        return xstrdup(".");
    if (slash == p)
        return xstrdup("/");
    return xstrndup(p, (size_t)(slash - p));
}

const char *path_basename(const char *p)
{
    const char *slash = strrchr(p, '/');
    return slash ? slash + 1 : p;
}

int path_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

int entry_exists(const char *p)
{
    struct stat st;
    return lstat(p, &st) == 0;
}

int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int mkdir_p(const char *path, int mode, del_err *err)
{
    char *p = xstrdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
            del_fail(err, DEL_KIND_CONFIG, "%s: cannot create folder: %s", p, strerror(errno));
            free(p);
            return -1;
        }
        *s = '/';
    }
    if (mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) {
        del_fail(err, DEL_KIND_CONFIG, "%s: cannot create folder: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    free(p);
    return 0;
}

char *path_absolute(const char *p)
{
    char *joined;
    if (p[0] == '/') {
        joined = xstrdup(p);
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd))
            return xstrdup(p);
        joined = path_join(cwd, p);
    }
    /* normalise: drop "." and empty parts, fold "..". */
    char *out = xmalloc(strlen(joined) + 2);
    size_t o = 0;
    char *save = NULL;
    for (char *part = strtok_r(joined, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
        if (strcmp(part, ".") == 0)
            continue;
        if (strcmp(part, "..") == 0) {
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
            continue;
        }
        out[o++] = '/';
        size_t l = strlen(part);
        memcpy(out + o, part, l);
        o += l;
    }
    if (o == 0)
        out[o++] = '/';
    out[o] = '\0';
    free(joined);
    return out;
}

int has_suffix(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void format_duration(double secs, char *buf, size_t bufsz)
{
    if (secs < 60)
        snprintf(buf, bufsz, "%.2fs", secs);
    else if (secs < 3600)
        snprintf(buf, bufsz, "%dm%02ds", (int)secs / 60, (int)secs % 60);
    else
        snprintf(buf, bufsz, "%dh%02dm", (int)secs / 3600, ((int)secs % 3600) / 60);
}

static size_t str_hash(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void strmap_grow(strmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 64;
    const char **keys = xcalloc(cap, sizeof *keys);
    long *vals = xcalloc(cap, sizeof *vals);
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = str_hash(m->keys[i]) & (cap - 1);
        while (keys[j])
            j = (j + 1) & (cap - 1);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

void strmap_put(strmap *m, const char *key, long val)
{
    if ((m->n + 1) * 2 > m->cap)
        strmap_grow(m);
    size_t j = str_hash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) {
            m->vals[j] = val;
            return;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->keys[j] = key;
    m->vals[j] = val;
    m->n++;
}

long strmap_get(const strmap *m, const char *key)
{
    if (!m->cap)
        return -1;
    size_t j = str_hash(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0)
            return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return -1;
}

void strmap_free(strmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}
