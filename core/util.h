/* Small helpers shared by the core: allocation, string vectors, natural
 * ordering, paths and whole-file reads. */
#ifndef DEL_UTIL_H
#define DEL_UTIL_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* Allocation that cannot return NULL (aborts on exhaustion, as git's xmalloc). */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

void strvec_push(strvec *sv, const char *s);
void strvec_push_owned(strvec *sv, char *s);
void strvec_clear(strvec *sv);
int strvec_contains(const strvec *sv, const char *s);
/* "a, b, c" into buf. */
void strvec_join(const strvec *sv, const char *sep, char *buf, size_t bufsz);
void strvec_sort_natural(strvec *sv);

/* Natural order: D2 < D10 < D10a; digits runs compare by value. */
int natural_cmp(const char *a, const char *b);

/* A growable byte buffer. */
typedef struct sbuf {
    char *s;
    size_t len, cap;
} sbuf;
void sbuf_add(sbuf *b, const char *data, size_t n);
void sbuf_puts(sbuf *b, const char *s);
void sbuf_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_free(sbuf *b);

struct stat;
/* Read a whole regular file (at most max bytes) into a NUL-terminated
 * buffer. Anything else (a FIFO, a device, a folder) is refused before it is
 * opened, with one line naming it. */
int read_file(const char *path, size_t max, char **out, size_t *len, del_err *err);
/* The same in two steps: open a regular file (refused, unopened, when it is
 * not one; *st is what the open descriptor is), then read it whole. */
int open_regular(const char *path, struct stat *st, del_err *err);
int read_fd(int fd, const char *path, const struct stat *st, size_t max, char **out, size_t *len,
            del_err *err);
/* "a FIFO", "a folder", ... for a st_mode, in messages. */
const char *file_kind(unsigned mode);
/* Write a file atomically (temp file + rename). */
int write_file_atomic(const char *path, const char *data, size_t len, int mode, del_err *err);

char *path_join(const char *a, const char *b);
char *path_dirname(const char *p);
const char *path_basename(const char *p);
int path_exists(const char *p);
/* Any directory entry at p, a dangling symbolic link included. */
int entry_exists(const char *p);
int is_dir(const char *p);
int mkdir_p(const char *path, int mode, del_err *err);
/* An absolute, normalised version of p (the file need not exist). */
char *path_absolute(const char *p);
int has_suffix(const char *s, const char *suffix);

double now_seconds(void);
double monotonic_seconds(void);
/* ISO 8601 local time for display. */
void format_duration(double secs, char *buf, size_t bufsz);



/* A string -> index map (open addressing), for revision look-ups. */
typedef struct strmap {
    const char **keys;
    long *vals;
    size_t cap, n;
} strmap;
void strmap_put(strmap *m, const char *key, long val); /* key is borrowed */
long strmap_get(const strmap *m, const char *key);      /* -1 when absent */
void strmap_free(strmap *m);
#endif
