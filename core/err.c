#include "err.h"

#include <stdio.h>
#include <string.h>

int del_vfail(del_err *err, int code, const char *fmt, va_list ap)
{
    if (err) {
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    }
    return -1;
}

int del_fail(del_err *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    del_vfail(err, code, fmt, ap);
    va_end(ap);
    return -1;
}

void del_err_clear(del_err *err)
{
    if (err) {
        err->code = DEL_OK;
        err->msg[0] = '\0';
    }
}

int del_err_wrap(del_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) < 0)
        memcpy(err->msg, old, sizeof old); /* keep the original on encoding errors */
    return -1;
}
