#include "store.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"

static const char *schema_check_sql =
    "SELECT to_regclass('delembic_version') IS NOT NULL,"
    " to_regclass('delembic_run_history') IS NOT NULL,"
    " EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('delembic_version')"
    "         AND attname = 'checksum' AND NOT attisdropped),"
    " EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('delembic_run_history')"
    "         AND attname = 'checksum' AND NOT attisdropped)";

/* Run with synchronous_commit off: the first migration's commit (synchronous)
 * flushes the WAL up to it, these tables included; before that nothing
 * depends on them. */
static const char *schema_sql =
    "BEGIN;"
    "SET LOCAL synchronous_commit = off;"
    "CREATE TABLE IF NOT EXISTS delembic_version ("
    " revision text PRIMARY KEY,"
    " applied_at timestamptz,"
    " status text,"
    " execution_time_seconds double precision,"
    " checksum text);"
    "CREATE TABLE IF NOT EXISTS delembic_run_history ("
    " id serial PRIMARY KEY,"
    " revision text,"
    " started_at timestamptz,"
    " ended_at timestamptz,"
    " duration_seconds double precision,"
    " status text,"
    " exception text,"
    " username text,"
    " hostname text,"
    " checksum text);"
    "ALTER TABLE delembic_version ADD COLUMN IF NOT EXISTS checksum text;"
    "ALTER TABLE delembic_run_history ADD COLUMN IF NOT EXISTS checksum text;"
    "COMMIT;";

int store_ensure_schema(PGconn *conn, del_err *err)
{
    PGresult *r = db_query(conn, schema_check_sql, 0, NULL, err);
    if (!r)
        return -1;
    int ok = 1;
    for (int c = 0; c < 4; c++)
        if (strcmp(PQgetvalue(r, 0, c), "t") != 0)
            ok = 0;
    PQclear(r);
    if (ok)
        return 0;
    if (db_exec(conn, schema_sql, err) != 0) {
        PQclear(PQexec(conn, "ROLLBACK"));
        return del_err_wrap(err, "cannot create the delembic tables");
    }
    return 0;
}

static void lock_holder(PGconn *conn, char *buf, size_t bufsz)
{
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT a.pid, coalesce(nullif(a.application_name, ''), '?'),"
             " coalesce(host(a.client_addr), 'local socket'), a.usename,"
             " to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')"
             " FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
             " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1"
             " AND l.classid = %u AND l.objid = %u LIMIT 1",
             (unsigned)((unsigned long long)STORE_LOCK_KEY >> 32),
             (unsigned)((unsigned long long)STORE_LOCK_KEY & 0xffffffffu));
    PGresult *r = PQexec(conn, sql);
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
        snprintf(buf, bufsz, "server pid %s, %s, user %s from %s, since %s", PQgetvalue(r, 0, 0),
                 PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 3), PQgetvalue(r, 0, 2), PQgetvalue(r, 0, 4));
    else
        snprintf(buf, bufsz, "another delembic run");
    PQclear(r);
}

int store_lock(PGconn *conn, double timeout, int quiet, del_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_try_advisory_lock(%lld)", (long long)STORE_LOCK_KEY);
    double start = monotonic_seconds();
    int told = 0;
    for (;;) {
        PGresult *r = db_query(conn, sql, 0, NULL, err);
        if (!r)
            return del_err_wrap(err, "cannot take the delembic run lock");
        int got = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (got)
            return 0;
        double waited = monotonic_seconds() - start;
        if (timeout >= 0 && waited >= timeout) {
            char who[512];
            lock_holder(conn, who, sizeof who);
            return del_fail(err, DEL_ELOCK, "another delembic run holds the lock (%s); gave up after %.0fs. Retry later or raise --lock-timeout",
                            who, timeout);
        }
        if (!told && !quiet) {
            char who[512];
            lock_holder(conn, who, sizeof who);
            fprintf(stderr, "Waiting for the delembic lock held by %s ...\n", who);
            told = 1;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Fill st from a result of (revision, status, applied_at, seconds, checksum). */
static void state_from_result(vstate *st, const PGresult *r)
{
    int n = PQntuples(r);
    st->rows = xcalloc((size_t)(n ? n : 1), sizeof *st->rows);
    for (int i = 0; i < n; i++) {
        vrow *v = &st->rows[i];
        v->revision = xstrdup(PQgetvalue(r, i, 0));
        v->status = xstrdup(PQgetisnull(r, i, 1) ? "" : PQgetvalue(r, i, 1));
        v->applied_at = xstrdup(PQgetisnull(r, i, 2) ? "" : PQgetvalue(r, i, 2));
        v->seconds = atof(PQgetvalue(r, i, 3));
        v->checksum = PQgetisnull(r, i, 4) ? NULL : xstrdup(PQgetvalue(r, i, 4));
    }
    st->n = (size_t)n;
    for (size_t i = 0; i < st->n; i++)
        strmap_put(&st->index, st->rows[i].revision, (long)i);
    st->tables_exist = 1;
}

int store_begin_run_send(PGconn *conn)
{
    /* the common case in one round trip: the lock, the schema check, the state */
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT pg_try_advisory_lock(%lld);%s;"
             "SELECT revision, status, '', coalesce(execution_time_seconds, 0), checksum FROM delembic_version",
             (long long)STORE_LOCK_KEY, schema_check_sql);
    return PQsendQuery(conn, sql) ? 0 : -1;
}

int store_begin_run_finish(PGconn *conn, int sent, double lock_timeout, int quiet, vstate *st,
                           del_err *err)
{
    memset(st, 0, sizeof *st);
    int got_lock = 0, schema_ok = 0, state_ok = 0;
    if (sent == 0) {
        PGresult *r;
        int k = 0;
        while ((r = PQgetResult(conn))) {
            if (PQresultStatus(r) == PGRES_TUPLES_OK) {
                if (k == 0)
                    got_lock = !strcmp(PQgetvalue(r, 0, 0), "t");
                else if (k == 1) {
                    schema_ok = 1;
                    for (int c = 0; c < 4; c++)
                        schema_ok &= !strcmp(PQgetvalue(r, 0, c), "t");
                } else if (k == 2 && got_lock && schema_ok) {
                    state_from_result(st, r);
                    state_ok = 1;
                }
            }
            k++;
            PQclear(r);
        }
    }
    if (got_lock && schema_ok && state_ok)
        return 0;
    store_free_state(st);
    if (!got_lock && store_lock(conn, lock_timeout, quiet, err) != 0)
        return -1;
    if (store_ensure_schema(conn, err) != 0)
        return -1;
    return store_read_state(conn, st, err);
}

void store_free_state(vstate *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].revision);
        free(st->rows[i].status);
        free(st->rows[i].applied_at);
        free(st->rows[i].checksum);
    }
    free(st->rows);
    strmap_free(&st->index);
    memset(st, 0, sizeof *st);
}

int store_read_state(PGconn *conn, vstate *st, del_err *err)
{
    memset(st, 0, sizeof *st);
    PGresult *r = db_query(conn,
                           "SELECT to_regclass('delembic_version') IS NOT NULL,"
                           " EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('delembic_version')"
                           " AND attname = 'checksum' AND NOT attisdropped)",
                           0, NULL, err);
    if (!r)
        return -1;
    int exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    int has_checksum = strcmp(PQgetvalue(r, 0, 1), "t") == 0;
    PQclear(r);
    st->tables_exist = exists;
    if (!exists)
        return 0;
    r = db_query(conn,
                 has_checksum
                     ? "SELECT revision, status, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'),"
                       " coalesce(execution_time_seconds, 0), checksum FROM delembic_version"
                     : "SELECT revision, status, to_char(applied_at, 'YYYY-MM-DD HH24:MI:SS'),"
                       " coalesce(execution_time_seconds, 0), NULL FROM delembic_version",
                 0, NULL, err);
    if (!r)
        return -1;
    state_from_result(st, r);
    PQclear(r);
    return 0;
}

const vrow *store_find(const vstate *st, const char *revision)
{
    long i = strmap_get(&st->index, revision);
    return i < 0 ? NULL : &st->rows[i];
}

int store_status_of(PGconn *conn, const char *revision, char *buf, size_t bufsz, del_err *err)
{
    const char *params[1] = {revision};
    PGresult *r = db_query(conn, "SELECT status FROM delembic_version WHERE revision = $1", 1,
                           params, err);
    if (!r)
        return -1;
    snprintf(buf, bufsz, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}

const char *store_username(void)
{
    static char name[128];
    if (!name[0]) {
        struct passwd pw, *res = NULL;
        char buf[1024];
        if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res)
            snprintf(name, sizeof name, "%s", res->pw_name);
        else
            snprintf(name, sizeof name, "uid%u", (unsigned)geteuid());
    }
    return name;
}

const char *store_hostname(void)
{
    static char host[256];
    if (!host[0] && gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "unknown");
    return host;
}

int store_record_failure(PGconn *conn, const char *revision, double started, double ended,
                         const char *message, const char *checksum, del_err *err)
{
    char s_started[64], s_ended[64], s_secs[64];
    snprintf(s_started, sizeof s_started, "%.6f", started);
    snprintf(s_ended, sizeof s_ended, "%.6f", ended);
    snprintf(s_secs, sizeof s_secs, "%.6f", ended - started);
    const char *params[8] = {revision, s_started, s_ended, s_secs, message,
                             store_username(), store_hostname(), checksum};
    PGresult *r = db_query(
        conn,
        "WITH v AS ("
        " INSERT INTO delembic_version (revision, applied_at, status, execution_time_seconds, checksum)"
        " VALUES ($1, to_timestamp($3::double precision), 'failed', $4::double precision, $8)"
        " ON CONFLICT (revision) DO UPDATE SET applied_at = EXCLUDED.applied_at, status = 'failed',"
        "  execution_time_seconds = EXCLUDED.execution_time_seconds, checksum = EXCLUDED.checksum"
        " WHERE delembic_version.status IS DISTINCT FROM 'success')"
        " INSERT INTO delembic_run_history (revision, started_at, ended_at, duration_seconds, status,"
        "  exception, username, hostname, checksum)"
        " VALUES ($1, to_timestamp($2::double precision), to_timestamp($3::double precision),"
        "  $4::double precision, 'failed', $5, $6, $7, $8)",
        8, params, err);
    if (!r)
        return del_err_wrap(err, "cannot record the failure of %s", revision);
    PQclear(r);
    return 0;
}

static char *lit(PGconn *conn, const char *s)
{
    if (!s)
        return xstrdup("NULL");
    char *e = PQescapeLiteral(conn, s, strlen(s));
    if (!e)
        return xstrdup("NULL");
    char *out = xstrdup(e);
    PQfreemem(e);
    return out;
}

const char *store_prepare_record_sql(void)
{
    return "PREPARE delembic_record(text, double precision, double precision, text, text, text, bigint) AS"
           " WITH v AS (INSERT INTO delembic_version (revision, applied_at, status, execution_time_seconds, checksum)"
           "  VALUES ($1, to_timestamp($3), 'success', $3 - $2, $4)"
           "  ON CONFLICT (revision) DO UPDATE SET applied_at = EXCLUDED.applied_at, status = 'success',"
           "  execution_time_seconds = EXCLUDED.execution_time_seconds, checksum = EXCLUDED.checksum"
           "  WHERE delembic_version.status IS DISTINCT FROM 'success' RETURNING 1),"
           " h AS (INSERT INTO delembic_run_history (revision, started_at, ended_at, duration_seconds, status,"
           "  exception, username, hostname, checksum)"
           "  SELECT $1, to_timestamp($2), to_timestamp($3), $3 - $2, 'success', NULL, $5, $6, $4 FROM v)"
           " SELECT CASE WHEN txid_current() <> $7"
           "  THEN ('" STORE_GUARD_MISSING ":' || txid_current())::int"
           "  WHEN NOT EXISTS (SELECT 1 FROM v)"
           "  THEN ('" STORE_ALREADY_APPLIED ":' || (SELECT count(*) FROM v))::int"
           "  ELSE length(set_config('delembic.commit_ok', 'on', true)) END";
}

char *store_record_sql(PGconn *conn, const char *revision, double started, double ended,
                       const char *checksum, long long xid)
{
    char *r = lit(conn, revision), *c = lit(conn, checksum), *u = lit(conn, store_username()),
         *h = lit(conn, store_hostname());
    char *sql = xasprintf("EXECUTE delembic_record(%s, %.6f, %.6f, %s, %s, %s, %lld)", r, started,
                          ended, c, u, h, xid);
    free(r);
    free(c);
    free(u);
    free(h);
    return sql;
}
