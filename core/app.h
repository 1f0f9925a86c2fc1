/* What every command shares: the global options, the config section, the
 * bundle folder and the database URL chosen by precedence. */
#ifndef DEL_APP_H
#define DEL_APP_H

#include <libpq-fe.h>

#include "config.h"
#include "err.h"
#include "notify.h"

typedef struct app_opts {
    const char *config_path;  /* -c */
    const char *section;      /* -n */
    const char *database;     /* --database */
    const char *bundle;       /* --bundle */
    int json;
    int quiet;
    int verbose;
    const del_notify *notify; /* where everything the commands report goes (the CLI's renderer) */
} app_opts;

typedef struct app {
    const app_opts *o;
    del_config cfg;
    char *bundle_dir;         /* absolute */
    char *url;                /* NULL: libpq defaults */
    char *url_driver;         /* the +driver written in the URL (SQLAlchemy's), or NULL */
    const char *url_source;
} app;

/* need_config: fail when no delembic.yaml is found (else defaults apply). */
int app_open(const app_opts *o, int need_config, app *a, del_err *err);
void app_close(app *a);
PGconn *app_connect(const app *a, const char *role, del_err *err);
/* Start connecting now, finish later (overlapping other work). */
PGconn *app_connect_start(const app *a, const char *role, del_err *err);
PGconn *app_connect_finish(const app *a, PGconn *conn, del_err *err);
/* The URL for display (password hidden); malloc'd. */
char *app_display_url(const app *a);

#endif
