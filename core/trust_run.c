#include "trust_run.h"

#include <stdlib.h>
#include <string.h>

#include "store.h"

int trust_run_keys(const app *a, trust_keys *tk, del_err *err)
{
    memset(tk, 0, sizeof *tk);
    char *origin = xasprintf("%s trusted_keys", a->cfg.path ? a->cfg.path : DEL_CONFIG_FILE);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < a->cfg.trusted_keys.n; i++)
        rc = trust_keys_add(tk, a->cfg.trusted_keys.v[i], a->cfg.dir, origin, err);
    free(origin);
    for (size_t i = 0; rc == 0 && i < a->o->ntrusted_keys; i++)
        rc = trust_keys_add(tk, a->o->trusted_keys[i], NULL, "--trusted-key", err);
    const char *env = app_env_of(a->o)->trusted_keys;
    if (rc == 0 && env && *env)
        rc = trust_keys_add_env(tk, env, err);
    if (rc != 0)
        trust_keys_free(tk);
    return rc;
}

int trust_newest_version(PGconn *conn, const char *schema, char **version, del_err *err)
{
    *version = NULL;
    strvec all = {0};
    if (store_bundle_versions(conn, schema, &all, err) != 0)
        return -1;
    for (size_t i = 0; i < all.n; i++)
        if (!*version || trust_version_cmp(all.v[i], *version) > 0) {
            free(*version);
            *version = xstrdup(all.v[i]);
        }
    strvec_clear(&all);
    return 0;
}

int trust_run_bundle(const app *a, const char *dir, trust_result *r, del_err *err)
{
    trust_keys tk;
    memset(r, 0, sizeof *r);
    if (trust_run_keys(a, &tk, err) != 0)
        return -1;
    int rc = trust_check_bundle(&tk, dir, NULL, r, err);
    trust_keys_free(&tk);
    return rc;
}

int trust_check_rollback(PGconn *conn, const char *schema, const trust_result *r, int allow_older,
                         del_err *err)
{
    if (!r->verified)
        return 0;
    char *newest = NULL;
    if (trust_newest_version(conn, schema, &newest, err) != 0)
        return -1;
    int rc = 0;
    if (newest && !r->version[0] && !allow_older)
        rc = del_fail(err, DEL_KIND_BUNDLE, "the bundle signed by key id %s carries no version (its trusted comment has neither bundle_version nor timestamp), and version %s was already applied to this database: it cannot be told from a rollback. Sign it with 'delembic sign' or give --allow-older-bundle if you mean it",
                      r->key_id, newest);
    else if (newest && r->version[0] && trust_version_cmp(r->version, newest) < 0 && !allow_older)
        rc = del_fail(err, DEL_KIND_BUNDLE, "bundle version %s (signed by key id %s) is older than %s, already applied to this database: a rollback; give --allow-older-bundle if you mean it",
                      r->version, r->key_id, newest);
    free(newest);
    return rc;
}

int trust_record_version(PGconn *conn, const char *schema, const trust_result *r, del_err *err)
{
    if (!r->verified || !r->version[0])
        return 0;
    return store_record_bundle_version(conn, schema, r->version, r->key_id, r->signed_at, err);
}
