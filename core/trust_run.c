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

/* The server's message without libpq's trailing newline. */
static int db_fail(del_err *err, PGconn *conn, const char *what)
{
    const char *m = PQerrorMessage(conn);
    int n = (int)strlen(m);
    while (n > 0 && (m[n - 1] == '\n' || m[n - 1] == '\r'))
        n--;
    return del_fail(err, DEL_EUSAGE, "%s %s: %.*s", what, TRUST_HISTORY_TABLE, n, m);
}

static int table_exists(PGconn *conn, const char *table, int *exists, del_err *err)
{
    const char *params[1] = {table};
    PGresult *r = PQexecParams(conn, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", 1, NULL, params, NULL,
                               NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_fail(err, conn, "reading");
        PQclear(r);
        return -1;
    }
    *exists = !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    return 0;
}

int trust_newest_version(PGconn *conn, const char *schema, char **version, del_err *err)
{
    *version = NULL;
    char *table = store_table(schema, TRUST_HISTORY_TABLE);
    int exists = 0;
    if (table_exists(conn, table, &exists, err) != 0) {
        free(table);
        return -1;
    }
    if (!exists) {
        free(table);
        return 0;
    }
    char *sql = xasprintf("SELECT DISTINCT bundle_version FROM %s", table);
    free(table);
    PGresult *r = PQexec(conn, sql);
    free(sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_fail(err, conn, "reading");
        PQclear(r);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) {
        const char *v = PQgetvalue(r, i, 0);
        if (!*version || trust_version_cmp(v, *version) > 0) {
            free(*version);
            *version = xstrdup(v);
        }
    }
    PQclear(r);
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
        rc = del_fail(err, DEL_EUSAGE, "the bundle signed by key id %s carries no version (its trusted comment has neither bundle_version nor timestamp), and version %s was already applied to this database: it cannot be told from a rollback. Sign it with 'delembic sign' or give --allow-older-bundle if you mean it",
                      r->key_id, newest);
    else if (newest && r->version[0] && trust_version_cmp(r->version, newest) < 0 && !allow_older)
        rc = del_fail(err, DEL_EUSAGE, "bundle version %s (signed by key id %s) is older than %s, already applied to this database: a rollback; give --allow-older-bundle if you mean it",
                      r->version, r->key_id, newest);
    free(newest);
    return rc;
}

int trust_record_version(PGconn *conn, const char *schema, const trust_result *r, del_err *err)
{
    if (!r->verified || !r->version[0])
        return 0;
    char *table = store_table(schema, TRUST_HISTORY_TABLE);
    char *sql = xasprintf("CREATE TABLE IF NOT EXISTS %1$s (id bigserial PRIMARY KEY, bundle_version text NOT NULL,"
                          " key_id text, signed_at text, recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
                          " username text, hostname text)",
                          table);
    PGresult *res = PQexec(conn, sql);
    free(sql);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = db_fail(err, conn, "creating");
    PQclear(res);
    if (rc == 0) {
        sql = xasprintf("INSERT INTO %s (bundle_version, key_id, signed_at, username, hostname)"
                        " VALUES ($1, $2, NULLIF($3, ''), $4, $5)",
                        table);
        const char *params[5] = {r->version, r->key_id, r->signed_at, store_username(), store_hostname()};
        res = PQexecParams(conn, sql, 5, NULL, params, NULL, NULL, 0);
        free(sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = db_fail(err, conn, "recording the bundle version in");
        PQclear(res);
    }
    free(table);
    return rc;
}
