/* Errors as values: a core function that can fail returns -1 (or NULL) and
 * fills a del_err with an exit class and one line for the operator. */
#ifndef DEL_ERR_H
#define DEL_ERR_H

#include <stdarg.h>

enum del_exit {
    DEL_OK = 0,
    DEL_EFAILED = 1,   /* a migration failed or was blocked */
    DEL_EUSAGE = 2,    /* usage, configuration or bundle error */
    DEL_ELOCK = 3,     /* the lock could not be taken in time */
};

typedef struct del_err {
    int code;          /* enum del_exit */
    char msg[2048];
} del_err;

/* Set err (if not NULL) and return -1. */
int del_fail(del_err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int del_vfail(del_err *err, int code, const char *fmt, va_list ap);
void del_err_clear(del_err *err);
/* Prefix an existing message: "context: old message". */
int del_err_wrap(del_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
