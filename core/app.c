#include "app.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_sign.h"
#include "db.h"
#include "inspect.h"
#include "manifest_cache.h"
#include "store.h"
#include "trust.h"
#include "util.h"

static const char *env_value(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

void app_env_read(app_env *e)
{
    e->database_url = env_value("DELEMBIC_DATABASE_URL");
    e->progress_seconds = env_value("DELEMBIC_PROGRESS_SECONDS");
    e->cc = env_value("CC");
    e->cflags = env_value("CFLAGS");
    e->sdk_include = env_value("DELEMBIC_SDK_INCLUDE");
    e->sdk_lib = env_value("DELEMBIC_SDK_LIB");
    e->tmpdir = env_value("TMPDIR");
    e->trusted_keys = env_value(TRUST_KEYS_ENV);
    e->load_timeout = env_value(LOAD_TIMEOUT_ENV);
    e->kdf_limits = env_value(KDF_ENV);
    e->serve_token = env_value("DELEMBIC_SERVE_TOKEN");
    manifest_cache_dir(env_value("DELEMBIC_CACHE_DIR"), env_value("XDG_CACHE_HOME"), env_value("HOME"),
                       e->cache_dir, sizeof e->cache_dir);
}

const char *app_cache_dir(const app *a)
{
    const char *d = a ? app_env_of(a->o)->cache_dir : NULL;
    return d && *d ? d : NULL;
}

const app_env *app_env_of(const app_opts *o)
{
    static const app_env none = {0};
    return o && o->env ? o->env : &none;
}

int app_open(const app_opts *o, int need_config, app *a, del_err *err)
{
    memset(a, 0, sizeof *a);
    a->o = o;
    /* with --bundle and a database from --database or the environment, no
     * delembic.yaml is needed */
    int allow_missing = !need_config;
    if (config_load(o->config_path, o->section, allow_missing, &a->cfg, err) != 0)
        return -1;
    /* outside any project, without --bundle: say what is missing, not which
     * default bundle folder is */
    if (!a->cfg.path && !o->bundle) {
        del_fail(err, DEL_KIND_CONFIG, "no %s found in %s or any parent folder", DEL_CONFIG_FILE, a->cfg.dir);
        del_hint(err, "run 'delembic init', pass -c FILE, or name a bundle with --bundle DIR");
        config_free(&a->cfg);
        return -1;
    }
    a->bundle_dir = path_absolute(o->bundle ? o->bundle : a->cfg.build_dir);
    const char *env_url = app_env_of(o)->database_url;
    a->url = db_choose_url(o->database, env_url, a->cfg.database, &a->url_source);
    a->url_driver = db_choose_driver(o->database, env_url, a->cfg.database);
    if (a->url && db_check_url(a->url, err) != 0) {
        del_err_wrap(err, "from %s", a->url_source);
        app_close(a);
        return -1;
    }
    return 0;
}

void app_close(app *a)
{
    config_free(&a->cfg);
    free(a->bundle_dir);
    free(a->url);
    free(a->url_driver);
    memset(a, 0, sizeof *a);
}

PGconn *app_connect_start(const app *a, const char *role, del_err *err)
{
    char name[64];
    snprintf(name, sizeof name, "delembic %s pid=%ld", role, (long)getpid());
    return db_connect_start(a->url, name, err);
}

PGconn *app_connect_finish(const app *a, PGconn *conn, del_err *err)
{
    conn = db_connect_finish(conn, a->url, err);
    if (conn && a->o->verbose)
        db_trace(conn, a->o->notify);
    return conn;
}

PGconn *app_connect(const app *a, const char *role, del_err *err)
{
    return app_connect_finish(a, app_connect_start(a, role, err), err);
}

char *app_display_url(const app *a)
{
    return db_redact(a->url);
}
