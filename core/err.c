/* Errors as values: setting, wrapping and mapping a del_err (see err.h). */
#include "err.h"

#include <stdio.h>
#include <string.h>

int del_vfail(del_err *err, del_kind kind, const char *fmt, va_list ap)
{
    if (err) {
        err->kind = kind;
        err->signal = 0;
        err->reported = 0;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        err->detail[0] = '\0';
        err->hint[0] = '\0';
    }
    return -1;
}

int del_fail(del_err *err, del_kind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    del_vfail(err, kind, fmt, ap);
    va_end(ap);
    return -1;
}

int del_hint(del_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->hint, sizeof err->hint, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int del_detail(del_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->detail, sizeof err->detail, fmt, ap);
        va_end(ap);
    }
    return -1;
}

void del_err_clear(del_err *err)
{
    if (err) {
        err->kind = DEL_KIND_NONE;
        err->signal = 0;
        err->reported = 0;
        err->msg[0] = '\0';
        err->detail[0] = '\0';
        err->hint[0] = '\0';
    }
}

int del_failed(const del_err *err)
{
    return err && err->kind != DEL_KIND_NONE;
}

int del_err_wrap(del_err *err, const char *fmt, ...)
{
    if (!err)
        return -1;
    char prefix[DEL_HINT_MAX], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old) < 0)
        memcpy(err->msg, old, sizeof old); /* keep the original on encoding errors */
    return -1;
}

int del_exit_code(const del_err *err)
{
    if (!err)
        return DEL_EXIT_OK;
    switch (err->kind) {
    case DEL_KIND_NONE: return DEL_EXIT_OK;
    case DEL_KIND_USAGE:
    case DEL_KIND_CONFIG:
    case DEL_KIND_BUNDLE:
    case DEL_KIND_DATABASE: return DEL_EXIT_USAGE;
    case DEL_KIND_MIGRATION:
    case DEL_KIND_ALEMBIC: return DEL_EXIT_FAILED;
    case DEL_KIND_LOCK: return DEL_EXIT_LOCK;
    case DEL_KIND_INTERRUPTED: return DEL_EXIT_SIGNAL + (err->signal > 0 ? err->signal : 2);
    }
    return DEL_EXIT_USAGE;
}

const char *del_kind_name(del_kind kind)
{
    static const char *const names[] = {
        [DEL_KIND_NONE] = NULL,          [DEL_KIND_USAGE] = "usage",
        [DEL_KIND_CONFIG] = "config",    [DEL_KIND_BUNDLE] = "bundle",
        [DEL_KIND_DATABASE] = "database", [DEL_KIND_MIGRATION] = "migration",
        [DEL_KIND_ALEMBIC] = "alembic",  [DEL_KIND_LOCK] = "lock",
        [DEL_KIND_INTERRUPTED] = "interrupted",
    };
    return (unsigned)kind < sizeof names / sizeof names[0] ? names[kind] : NULL;
}
