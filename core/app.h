/* What every command shares: the global options, the config section, the
 * bundle folder and the database URL chosen by precedence. */
#ifndef DEL_APP_H
#define DEL_APP_H

#include <libpq-fe.h>
#include <limits.h>

#include "config.h"
#include "err.h"
#include "notify.h"

/* The environment variables delembic reads, read once by the CLI's setup
 * (app_env_read) and passed down; core code calls no getenv of its own.
 * NULL: not set. */
typedef struct app_env {
    const char *database_url;     /* DELEMBIC_DATABASE_URL */
    const char *progress_seconds; /* DELEMBIC_PROGRESS_SECONDS: plain progress lines' interval */
    const char *cc, *cflags;      /* CC, CFLAGS: build's compiler */
    const char *sdk_include, *sdk_lib; /* DELEMBIC_SDK_INCLUDE, DELEMBIC_SDK_LIB */
    const char *tmpdir;           /* TMPDIR: where pipeline writes Alembic's private config */
    const char *trusted_keys;     /* DELEMBIC_TRUSTED_KEYS: keys trusted besides the config's and --trusted-key */
    const char *load_timeout;     /* DELEMBIC_LOAD_TIMEOUT: seconds a plugin may take to load (inspect.h) */
    const char *kdf_limits;       /* DELEMBIC_KDF_LIMITS: keygen's scrypt limits (cmd_sign.c) */
    /* the manifest cache's folder, from DELEMBIC_CACHE_DIR, XDG_CACHE_HOME and
     * HOME (manifest_cache_dir); "" for none */
    char cache_dir[PATH_MAX];
    const char *serve_token;      /* DELEMBIC_SERVE_TOKEN: serve's --token when not given */
} app_env;

void app_env_read(app_env *e);

typedef struct app_opts {
    const char *config_path;  /* -c */
    const char *section;      /* -n */
    const char *database;     /* --database */
    const char *bundle;       /* --bundle */
    int json;
    int quiet;
    int verbose;
    const del_notify *notify; /* where everything the commands report goes (the CLI's renderer) */
    const app_env *env;       /* NULL: as if nothing were set */
    const char *const *trusted_keys;  /* --trusted-key, each time it is given */
    size_t ntrusted_keys;
} app_opts;

/* o's environment (an empty one when o has none). */
const app_env *app_env_of(const app_opts *o);

typedef struct app {
    const app_opts *o;
    del_config cfg;
    char *bundle_dir;         /* absolute */
    char *url;                /* NULL: libpq defaults */
    char *url_driver;         /* the +driver written in the URL (SQLAlchemy's), or NULL */
    const char *url_source;
} app;

/* The manifest cache's folder for a's commands (NULL: no cache). */
const char *app_cache_dir(const app *a);

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
