#include "store.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "term.h"

static const char *const status_names[] = {
    [STORE_SUCCESS] = "success",         [STORE_FAILED] = "failed",
    [STORE_STAMPED] = "stamped",         [STORE_DOWNGRADED] = "downgraded",
    [STORE_INTERRUPTED] = "interrupted", [STORE_PAUSED] = "paused",
    [STORE_RUNNING] = "running",         [STORE_FORGOTTEN] = "forgotten",
    [STORE_REPAIRED] = "repaired",
};

const char *store_status_name(store_status s)
{
    return (unsigned)s < sizeof status_names / sizeof status_names[0] ? status_names[s] : "failed";
}

static void put_char(sbuf *b, char c)
{
    sbuf_add(b, &c, 1);
}

static char *quote_ident(const char *s)
{
    sbuf b = {0};
    put_char(&b, '"');
    for (; *s; s++) {
        if (*s == '"')
            put_char(&b, '"');
        put_char(&b, *s);
    }
    put_char(&b, '"');
    return b.s;
}

/* An E'' literal, whatever standard_conforming_strings says. */
static char *quote_literal(const char *s)
{
    sbuf b = {0};
    sbuf_puts(&b, "E'");
    for (; *s; s++) {
        if (*s == '\'' || *s == '\\')
            put_char(&b, *s);
        put_char(&b, *s);
    }
    put_char(&b, '\'');
    return b.s;
}

char *store_table(const char *schema, const char *table)
{
    char *q = quote_ident(schema ? schema : STORE_DEFAULT_SCHEMA);
    char *t = xasprintf("%s.%s", q, table);
    free(q);
    return t;
}

/* The names one statement needs, quoted. */
typedef struct names {
    char *version, *history, *claim, *checkpoint; /* "schema".delembic_version, ... */
    char *lit_version, *lit_history, *lit_claim, *lit_checkpoint, *lit_schema; /* the same as literals, for to_regclass */
    char *schema;                 /* "schema" */
} names;

static void names_init(names *n, const char *schema)
{
    if (!schema)
        schema = STORE_DEFAULT_SCHEMA;
    n->schema = quote_ident(schema);
    n->version = store_table(schema, "delembic_version");
    n->history = store_table(schema, "delembic_run_history");
    n->claim = store_table(schema, STORE_CLAIM_TABLE);
    n->checkpoint = store_table(schema, STORE_CHECKPOINT_TABLE);
    n->lit_checkpoint = quote_literal(n->checkpoint);
    n->lit_version = quote_literal(n->version);
    n->lit_history = quote_literal(n->history);
    n->lit_claim = quote_literal(n->claim);
    n->lit_schema = quote_literal(n->schema);
}

static void names_free(names *n)
{
    free(n->schema);
    free(n->version);
    free(n->history);
    free(n->claim);
    free(n->checkpoint);
    free(n->lit_checkpoint);
    free(n->lit_version);
    free(n->lit_history);
    free(n->lit_claim);
    free(n->lit_schema);
}

/* The tables, their extra columns and the schema: nine booleans. */
enum { CHECK_VERSION, CHECK_HISTORY, CHECK_V_CHECKSUM, CHECK_H_CHECKSUM, CHECK_V_HOLD,
       CHECK_CLAIM, CHECK_CHECKPOINT, CHECK_CP_IDENTITY, CHECK_SCHEMA, NCHECKS };

static char *schema_check_sql(const names *n)
{
    return xasprintf(
        "SELECT pg_catalog.to_regclass(%1$s) IS NOT NULL,"
        " pg_catalog.to_regclass(%2$s) IS NOT NULL,"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_attribute"
        "         WHERE attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(%1$s)::pg_catalog.oid"
        "         AND attname OPERATOR(pg_catalog.=) 'checksum'::pg_catalog.name AND NOT attisdropped),"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_attribute"
        "         WHERE attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(%2$s)::pg_catalog.oid"
        "         AND attname OPERATOR(pg_catalog.=) 'checksum'::pg_catalog.name AND NOT attisdropped),"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_attribute"
        "         WHERE attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(%1$s)::pg_catalog.oid"
        "         AND attname OPERATOR(pg_catalog.=) 'hold'::pg_catalog.name AND NOT attisdropped),"
        " pg_catalog.to_regclass(%4$s) IS NOT NULL,"
        " pg_catalog.to_regclass(%5$s) IS NOT NULL,"
        " EXISTS (SELECT 1 FROM pg_catalog.pg_attribute"
        "         WHERE attrelid OPERATOR(pg_catalog.=) pg_catalog.to_regclass(%5$s)::pg_catalog.oid"
        "         AND attname OPERATOR(pg_catalog.=) 'identity'::pg_catalog.name AND NOT attisdropped),"
        " pg_catalog.to_regnamespace(%3$s) IS NOT NULL",
        n->lit_version, n->lit_history, n->lit_schema, n->lit_claim, n->lit_checkpoint);
}

/* Run with synchronous_commit off: the first migration's commit (synchronous)
 * flushes the WAL up to it, these tables included; before that nothing
 * depends on them. The schema is created only when missing (creating one
 * needs a privilege that using it does not). */
static char *schema_sql(const names *n, int schema_exists)
{
    char *create_schema = schema_exists ? xstrdup("") : xasprintf("CREATE SCHEMA IF NOT EXISTS %s;", n->schema);
    char *sql = xasprintf(
        "BEGIN;"
        "SET LOCAL synchronous_commit = off;"
        "%3$s"
        "CREATE TABLE IF NOT EXISTS %1$s ("
        " revision text PRIMARY KEY,"
        " applied_at timestamptz,"
        " status text,"
        " execution_time_seconds double precision,"
        " checksum text,"
        " hold text);"
        "CREATE TABLE IF NOT EXISTS %2$s ("
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
        "ALTER TABLE %1$s ADD COLUMN IF NOT EXISTS checksum text;"
        "ALTER TABLE %1$s ADD COLUMN IF NOT EXISTS hold text;"
        "ALTER TABLE %2$s ADD COLUMN IF NOT EXISTS checksum text;"
        /* the claims: see store.h */
        "CREATE TABLE IF NOT EXISTS %4$s ("
        " xid bigint NOT NULL,"
        " revision text NOT NULL,"
        " claimed_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
        " username text,"
        " hostname text);"
        /* batched and non-transactional migrations: see store.h */
        "CREATE TABLE IF NOT EXISTS %5$s ("
        " revision text PRIMARY KEY,"
        " mode text NOT NULL CHECK (mode IN ('" STORE_MODE_BATCHED "', '" STORE_MODE_NO_TRANSACTION "')),"
        " cursor text,"
        " rows_done bigint NOT NULL DEFAULT 0,"
        " total bigint,"
        " batches bigint NOT NULL DEFAULT 0,"
        " batch_size bigint,"
        " state text NOT NULL CHECK (state IN ('" STORE_CP_RUNNING "', '" STORE_CP_PAUSED "')),"
        " started_at timestamptz NOT NULL,"
        " updated_at timestamptz NOT NULL,"
        " last_batch_seconds double precision,"
        " username text,"
        " hostname text,"
        " identity text);"
        /* the code that wrote it (checkpoints written before it was there: NULL) */
        "ALTER TABLE %5$s ADD COLUMN IF NOT EXISTS identity text;"
        "COMMIT;",
        n->version, n->history, create_schema, n->claim, n->checkpoint);
    free(create_schema);
    return sql;
}

/* The checks of one result row: 1 when the tables are there as we need them. */
static int checks_ok(const PGresult *r, int *schema_exists)
{
    int ok = 1;
    for (int c = 0; c < CHECK_SCHEMA; c++)
        ok &= !strcmp(PQgetvalue(r, 0, c), "t");
    *schema_exists = !strcmp(PQgetvalue(r, 0, CHECK_SCHEMA), "t");
    return ok;
}

/* The schema check's booleans, by CHECK_*. */
static int read_checks(PGconn *conn, const names *n, int has[NCHECKS], del_err *err)
{
    char *check = schema_check_sql(n);
    PGresult *r = db_query(conn, check, 0, NULL, err);
    free(check);
    if (!r)
        return -1;
    for (int c = 0; c < NCHECKS; c++)
        has[c] = !strcmp(PQgetvalue(r, 0, c), "t");
    PQclear(r);
    return 0;
}

int store_ensure_schema(PGconn *conn, const char *schema, del_err *err)
{
    names n;
    names_init(&n, schema);
    char *check = schema_check_sql(&n);
    PGresult *r = db_query(conn, check, 0, NULL, err);
    free(check);
    if (!r) {
        names_free(&n);
        return -1;
    }
    int schema_exists;
    int ok = checks_ok(r, &schema_exists);
    PQclear(r);
    int rc = 0;
    if (!ok) {
        char *sql = schema_sql(&n, schema_exists);
        if (db_exec(conn, sql, err) != 0) {
            PQclear(PQexec(conn, "ROLLBACK"));
            rc = del_err_wrap(err, "cannot create the delembic tables in schema %s", n.schema);
        }
        free(sql);
    }
    names_free(&n);
    return rc;
}

int store_lock_holder(PGconn *conn, store_holder *h)
{
    memset(h, 0, sizeof *h);
    char *sql = xasprintf(
             "SELECT a.pid, CASE WHEN a.application_name OPERATOR(pg_catalog.<>) ''::pg_catalog.text"
             "  THEN a.application_name ELSE '?' END,"
             " coalesce(pg_catalog.host(a.client_addr), 'local socket'), a.usename,"
             " pg_catalog.to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS')"
             " FROM pg_catalog.pg_locks l JOIN pg_catalog.pg_stat_activity a"
             "  ON a.pid OPERATOR(pg_catalog.=) l.pid"
             " WHERE l.locktype OPERATOR(pg_catalog.=) 'advisory'::pg_catalog.text AND l.granted"
             " AND l.database OPERATOR(pg_catalog.=) (SELECT oid FROM pg_catalog.pg_database"
             "  WHERE datname OPERATOR(pg_catalog.=) pg_catalog.current_database())"
             " AND l.objsubid OPERATOR(pg_catalog.=) 1::pg_catalog.int2"
             " AND l.classid OPERATOR(pg_catalog.=) %u::pg_catalog.oid"
             " AND l.objid OPERATOR(pg_catalog.=) %u::pg_catalog.oid LIMIT 1",
             (unsigned)((unsigned long long)STORE_LOCK_KEY >> 32),
             (unsigned)((unsigned long long)STORE_LOCK_KEY & 0xffffffffu));
    PGresult *r = PQexec(conn, sql);
    free(sql);
    int rc = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK) {
        rc = PQntuples(r) == 1;
        if (rc) {
            h->pid = atoi(PQgetvalue(r, 0, 0));
            snprintf(h->application, sizeof h->application, "%s", PQgetvalue(r, 0, 1));
            snprintf(h->host, sizeof h->host, "%s", PQgetvalue(r, 0, 2));
            snprintf(h->user, sizeof h->user, "%s", PQgetvalue(r, 0, 3));
            snprintf(h->since, sizeof h->since, "%s", PQgetvalue(r, 0, 4));
        }
    }
    PQclear(r);
    return rc;
}

static void lock_holder(PGconn *conn, char *buf, size_t bufsz)
{
    store_holder h;
    if (store_lock_holder(conn, &h) == 1)
        snprintf(buf, bufsz, "server pid %d, %s, user %s from %s, since %s", h.pid, h.application, h.user,
                 h.host, h.since);
    else
        snprintf(buf, bufsz, "another delembic run");
}

/* how often a waiting run tries the lock again */
#define STORE_LOCK_POLL_MS 50

int store_lock(PGconn *conn, double timeout, const del_notify *notify, del_err *err)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_catalog.pg_try_advisory_lock(%lld)", (long long)STORE_LOCK_KEY);
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
            return del_fail(err, DEL_KIND_LOCK, "another delembic run holds the lock (%s); gave up after %.0fs. Retry later or raise --lock-timeout",
                            who, timeout);
        }
        if (!told) {
            char who[512];
            lock_holder(conn, who, sizeof who);
            del_emit_text(notify, DEL_EV_WARNING, "Waiting for the delembic lock held by %s ...", who); /* server text */
            told = 1;
        }
        struct timespec ts = {0, STORE_LOCK_POLL_MS * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Fill st from a result of (revision, status, applied_at, seconds, checksum,
 * hold, claimed). A revision with a claim committed (see store.h) is held,
 * whatever its row says (it has none, or a failure from before). */
static void state_from_result(vstate *st, const PGresult *r)
{
    int n = PQntuples(r);
    st->rows = xcalloc((size_t)n, sizeof *st->rows);
    for (int i = 0; i < n; i++) {
        vrow *v = &st->rows[i];
        v->revision = xstrdup(PQgetvalue(r, i, 0));
        v->status = xstrdup(PQgetisnull(r, i, 1) ? "" : PQgetvalue(r, i, 1));
        v->applied_at = xstrdup(PQgetisnull(r, i, 2) ? "" : PQgetvalue(r, i, 2));
        v->seconds = atof(PQgetvalue(r, i, 3));
        v->checksum = PQgetisnull(r, i, 4) ? NULL : xstrdup(PQgetvalue(r, i, 4));
        v->hold = PQgetisnull(r, i, 5) ? NULL : xstrdup(PQgetvalue(r, i, 5));
        v->succeeded = !strcmp(v->status, store_status_name(STORE_SUCCESS));
        if (strcmp(PQgetvalue(r, i, 6), "t") != 0)
            continue;
        st->claims++; /* settled by the next run under the lock, even over a success */
        if (strcmp(v->status, store_status_name(STORE_SUCCESS)) != 0) {
            free(v->status);
            v->status = xstrdup(store_status_name(STORE_FAILED));
            if (!v->hold)
                v->hold = xstrdup(STORE_HOLD_SELF_COMMIT);
        }
    }
    st->n = (size_t)n;
    for (size_t i = 0; i < st->n; i++)
        strmap_put(&st->index, st->rows[i].revision, (long)i);
    st->tables_exist = 1;
}

/* The fence token of this session: its pid, a key from its start time, and
 * the second advisory lock on (pid, key) that it holds while it lives. */
#define FENCE_SQL                                                                                  \
    "SELECT t.pid, t.key, pg_catalog.pg_try_advisory_lock(t.pid, t.key) FROM"                      \
    " (SELECT pg_catalog.pg_backend_pid() AS pid,"                                                 \
    "  coalesce((pg_catalog.floor(pg_catalog.date_part('epoch', s.backend_start)"                  \
    "   OPERATOR(pg_catalog.*) 1000000::double precision)::bigint"                                 \
    "   OPERATOR(pg_catalog.%) 2147483647::bigint)::int, 0) AS key"                                \
    "  FROM pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid()) s) t"

static int token_from_result(const PGresult *r, store_token *tok)
{
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || strcmp(PQgetvalue(r, 0, 2), "t"))
        return -1;
    tok->pid = atoi(PQgetvalue(r, 0, 0));
    tok->key = atoi(PQgetvalue(r, 0, 1));
    return 0;
}

static int take_token(PGconn *conn, store_token *tok, del_err *err)
{
    PGresult *r = db_query(conn, FENCE_SQL, 0, NULL, err);
    if (!r)
        return del_err_wrap(err, "cannot take the run's fence lock");
    int rc = token_from_result(r, tok);
    PQclear(r);
    if (rc != 0)
        return del_fail(err, DEL_KIND_DATABASE, "cannot take the run's fence lock (advisory lock on this session's pid)");
    return 0;
}

static char *state_sql(const names *n, int has_checksum, int has_hold, int has_claim, int applied_at)
{
    char *claims = has_claim ? xasprintf("(SELECT DISTINCT revision FROM %s)", n->claim)
                             : xstrdup("(SELECT NULL::pg_catalog.text AS revision WHERE false)");
    char *sql = xasprintf(
        "SELECT coalesce(v.revision, c.revision), v.status, %s, coalesce(v.execution_time_seconds, 0), %s, %s,"
        " c.revision IS NOT NULL FROM %s v FULL JOIN %s c ON v.revision OPERATOR(pg_catalog.=) c.revision",
        applied_at ? "coalesce(pg_catalog.to_char(v.applied_at, '" STORE_TIME_FORMAT "'), '')" : "''",
        has_checksum ? "v.checksum" : "NULL", has_hold ? "v.hold" : "NULL", n->version, claims);
    free(claims);
    return sql;
}

/* Claims found committed become held rows, each with a history row saying
 * what happened (not over a success, nor over a hold already recorded), and
 * are removed: one statement, run under the run lock. */
static int settle_claims(PGconn *conn, const names *n, del_err *err)
{
    const char *params[5] = {store_status_name(STORE_FAILED), STORE_HOLD_SELF_COMMIT,
                             STORE_CLAIM_MESSAGE, store_status_name(STORE_SUCCESS), NULL};
    char *sql = xasprintf(
        "WITH c AS (DELETE FROM %3$s RETURNING revision, claimed_at, username, hostname),"
        " d AS (SELECT DISTINCT ON (revision) * FROM c ORDER BY revision, claimed_at),"
        " v AS (INSERT INTO %1$s AS t (revision, applied_at, status, execution_time_seconds, checksum, hold)"
        "  SELECT revision, claimed_at, $1, NULL, NULL, $2 FROM d"
        "  ON CONFLICT (revision) DO UPDATE SET status = EXCLUDED.status, hold = EXCLUDED.hold"
        "  WHERE t.hold IS NULL AND t.status IS DISTINCT FROM $4 RETURNING revision)"
        " INSERT INTO %2$s (revision, started_at, ended_at, duration_seconds, status, exception, username, hostname)"
        " SELECT d.revision, d.claimed_at, NULL, NULL, $1, $3, d.username, d.hostname FROM d JOIN v USING (revision)",
        n->version, n->history, n->claim);
    PGresult *r = db_query(conn, sql, 4, params, err);
    free(sql);
    if (!r)
        return del_err_wrap(err, "cannot record the migrations that committed by themselves");
    PQclear(r);
    return 0;
}

static int settle_interrupted(PGconn *conn, const names *n, del_err *err);

/* The fast path's fifth statement: are there claims of non-transactional
 * migrations (settle_interrupted)? */
static char *notx_sql(const names *n)
{
    return xasprintf("SELECT pg_catalog.count(*) FROM %s WHERE mode OPERATOR(pg_catalog.=) '" STORE_MODE_NO_TRANSACTION "'",
                     n->checkpoint);
}

int store_begin_run_send(PGconn *conn, const char *schema)
{
    /* the common case in one round trip: the lock, the fence token, the
     * schema check, the state */
    names n;
    names_init(&n, schema);
    char *check = schema_check_sql(&n);
    char *state = state_sql(&n, 1, 1, 1, 0);
    char *notx = notx_sql(&n);
    char *sql = xasprintf("SELECT pg_catalog.pg_try_advisory_lock(%lld);%s;%s;%s;%s",
                          (long long)STORE_LOCK_KEY, FENCE_SQL, check, state, notx);
    free(notx);
    int rc = PQsendQuery(conn, sql) ? 0 : -1;
    db_trace_sql(conn, sql, 0); /* sent; answered later */
    free(sql);
    free(state);
    free(check);
    names_free(&n);
    return rc;
}

int store_begin_run_finish(PGconn *conn, const char *schema, int sent, double lock_timeout,
                           const del_notify *notify, vstate *st, store_token *tok, del_err *err)
{
    memset(st, 0, sizeof *st);
    int got_lock = 0, got_token = 0, schema_ok = 0, state_ok = 0, notx = 0;
    if (sent == 0) {
        PGresult *r;
        int k = 0, schema_exists;
        while ((r = PQgetResult(conn))) {
            if (PQresultStatus(r) == PGRES_TUPLES_OK) {
                if (k == 0)
                    got_lock = !strcmp(PQgetvalue(r, 0, 0), "t");
                else if (k == 1)
                    got_token = token_from_result(r, tok) == 0;
                else if (k == 2)
                    schema_ok = checks_ok(r, &schema_exists);
                else if (k == 3 && got_lock && schema_ok) {
                    state_from_result(st, r);
                    state_ok = 1;
                } else if (k == 4 && state_ok) {
                    notx = atoi(PQgetvalue(r, 0, 0)) > 0;
                }
            }
            k++;
            PQclear(r);
        }
    }
    if (got_lock && got_token && schema_ok && state_ok && !st->claims && !notx)
        return 0;
    if (got_lock && got_token && schema_ok && state_ok) { /* rare: settle, read again */
        store_free_state(st);
        names n;
        names_init(&n, schema);
        int rc = settle_claims(conn, &n, err);
        if (rc == 0)
            rc = settle_interrupted(conn, &n, err);
        names_free(&n);
        return rc != 0 ? -1 : store_read_state(conn, schema, st, err);
    }
    store_free_state(st);
    if (!got_token && take_token(conn, tok, err) != 0)
        return -1;
    if (!got_lock && store_lock(conn, lock_timeout, notify, err) != 0)
        return -1;
    if (store_ensure_schema(conn, schema, err) != 0)
        return -1;
    names n;
    names_init(&n, schema);
    int rc = settle_interrupted(conn, &n, err);
    names_free(&n);
    return rc != 0 ? -1 : store_read_state(conn, schema, st, err);
}

void store_free_state(vstate *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->rows[i].revision);
        free(st->rows[i].status);
        free(st->rows[i].applied_at);
        free(st->rows[i].checksum);
        free(st->rows[i].hold);
    }
    free(st->rows);
    strmap_free(&st->index);
    memset(st, 0, sizeof *st);
}

int store_read_state(PGconn *conn, const char *schema, vstate *st, del_err *err)
{
    memset(st, 0, sizeof *st);
    names n;
    names_init(&n, schema);
    int has[NCHECKS];
    if (read_checks(conn, &n, has, err) != 0) {
        names_free(&n);
        return -1;
    }
    int exists = has[CHECK_VERSION], has_checksum = has[CHECK_V_CHECKSUM];
    int has_hold = has[CHECK_V_HOLD], has_claim = has[CHECK_CLAIM];
    st->tables_exist = exists;
    if (!exists) {
        names_free(&n);
        return 0;
    }
    char *sql = state_sql(&n, has_checksum, has_hold, has_claim, 1);
    PGresult *r = db_query(conn, sql, 0, NULL, err);
    free(sql);
    names_free(&n);
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

int store_status_of(PGconn *conn, const char *schema, const char *revision, char *buf,
                    size_t bufsz, del_err *err)
{
    const char *params[1] = {revision};
    char *version = store_table(schema, "delembic_version");
    char *sql = xasprintf("SELECT status FROM %s WHERE revision OPERATOR(pg_catalog.=) $1", version);
    PGresult *r = db_query(conn, sql, 1, params, err);
    free(sql);
    free(version);
    if (!r)
        return -1;
    snprintf(buf, bufsz, "%s", PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return 0;
}

int store_xid_committed(PGconn *conn, long long xid)
{
    if (xid <= 0)
        return -1;
    char x[32];
    snprintf(x, sizeof x, "%lld", xid);
    const char *params[1] = {x};
    PGresult *r = PQexecParams(conn, "SELECT pg_catalog.txid_status($1::bigint)", 1, NULL, params,
                               NULL, NULL, 0);
    int rc = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
        rc = !strcmp(PQgetvalue(r, 0, 0), "committed");
    PQclear(r);
    return rc;
}

int store_recorded_by(PGconn *conn, const char *schema, const char *revision, long long xid)
{
    if (xid <= 0)
        return -1;
    char x[32];
    /* xmin is the low 32 bits of the txid_current() form */
    snprintf(x, sizeof x, "%lld", xid & 0xffffffffLL);
    const char *params[3] = {revision, x, store_status_name(STORE_SUCCESS)};
    char *version = store_table(schema, "delembic_version");
    char *sql = xasprintf("SELECT 1 FROM %s WHERE revision OPERATOR(pg_catalog.=) $1"
                          " AND status OPERATOR(pg_catalog.=) $3"
                          " AND xmin::pg_catalog.text OPERATOR(pg_catalog.=) $2",
                          version);
    PGresult *r = PQexecParams(conn, sql, 3, NULL, params, NULL, NULL, 0);
    free(sql);
    free(version);
    int rc = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
        rc = PQntuples(r) == 1;
    PQclear(r);
    return rc;
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

/* An attempt's start, end and duration as the text parameters of a record. */
typedef struct attempt_times {
    char started[64], ended[64], secs[64];
} attempt_times;

static void attempt_times_of(double started, double ended, attempt_times *t)
{
    snprintf(t->started, sizeof t->started, "%.6f", started);
    snprintf(t->ended, sizeof t->ended, "%.6f", ended);
    snprintf(t->secs, sizeof t->secs, "%.6f", ended - started);
}

int store_record_failure(PGconn *conn, const char *schema, const char *revision, double started,
                         double ended, const char *message, const char *checksum,
                         const char *hold, del_err *err)
{
    attempt_times t;
    attempt_times_of(started, ended, &t);
    char *text = utf8_valid(message); /* a plugin's message may hold any bytes */
    const char *params[11] = {revision, t.started, t.ended, t.secs, text, store_username(),
                              store_hostname(), checksum, hold, store_status_name(STORE_FAILED),
                              store_status_name(STORE_SUCCESS)};
    names n;
    names_init(&n, schema);
    char *sql = xasprintf(
        "WITH v AS ("
        " INSERT INTO %1$s (revision, applied_at, status, execution_time_seconds, checksum, hold)"
        " VALUES ($1, pg_catalog.to_timestamp($3::double precision), $10, $4::double precision, $8, $9)"
        " ON CONFLICT (revision) DO UPDATE SET applied_at = EXCLUDED.applied_at, status = EXCLUDED.status,"
        "  execution_time_seconds = EXCLUDED.execution_time_seconds, checksum = EXCLUDED.checksum,"
        "  hold = EXCLUDED.hold"
        " WHERE %1$s.status IS NULL OR %1$s.status OPERATOR(pg_catalog.<>) $11)"
        " INSERT INTO %2$s (revision, started_at, ended_at, duration_seconds, status,"
        "  exception, username, hostname, checksum)"
        " VALUES ($1, pg_catalog.to_timestamp($2::double precision), pg_catalog.to_timestamp($3::double precision),"
        "  $4::double precision, $10, $5, $6, $7, $8)",
        n.version, n.history);
    PGresult *r = db_query(conn, sql, 11, params, err);
    free(sql);
    free(text);
    names_free(&n);
    if (!r)
        return del_err_wrap(err, "cannot record the failure of %s", revision);
    PQclear(r);
    return 0;
}

/* A text value for the record, whatever client_encoding the plugin left
 * (the server reads the whole round trip with it, before RESET ALL runs):
 * printable ASCII reads the same in every client encoding, so it goes as an
 * E'' literal (whatever standard_conforming_strings says); anything else as
 * hex, decoded on the server as UTF-8. */
static void record_text(sbuf *b, const char *s)
{
    if (!s) {
        sbuf_puts(b, "NULL");
        return;
    }
    int ascii = 1;
    for (const unsigned char *p = (const unsigned char *)s; *p && ascii; p++)
        ascii = *p >= 0x20 && *p < 0x7f;
    if (ascii) {
        char *q = quote_literal(s);
        sbuf_puts(b, q);
        free(q);
        return;
    }
    static const char hex[] = "0123456789abcdef";
    sbuf_puts(b, "pg_catalog.convert_from(pg_catalog.decode('");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char h[2] = {hex[*p >> 4], hex[*p & 15]};
        sbuf_add(b, h, 2);
    }
    sbuf_puts(b, "', 'hex'), 'UTF8')");
}

/* How the record and unrecord statements refuse: each outcome raises an
 * error of its own SQLSTATE, from a built-in function of pg_catalog fed a
 * value computed at run time (so nothing is raised at PREPARE), with a token
 * in the server's message for whoever reads the server log. The worker tells
 * them apart by SQLSTATE alone (store_record_error_of), and only for an error
 * with no context: a trigger or function a plugin put on these tables raises
 * with one. */
#define SQLSTATE_GUARD_MISSING "22P02" /* invalid_text_representation: text -> int */
#define SQLSTATE_LOST_LOCK "42704"     /* undefined_object: a setting that cannot exist (no dot) */
#define SQLSTATE_NOT_DONE "22007"      /* invalid_datetime_format: text -> interval */
#define RAISE_GUARD_MISSING                                                                        \
    "('delembic-guard-missing:'::pg_catalog.text OPERATOR(pg_catalog.||)"                          \
    " pg_catalog.txid_current()::pg_catalog.text)::int"
#define RAISE_LOST_LOCK                                                                            \
    "pg_catalog.length(pg_catalog.current_setting('delembic-lost-lock:'::pg_catalog.text"          \
    " OPERATOR(pg_catalog.||) pg_catalog.txid_current()::pg_catalog.text))"
#define RAISE_NOT_DONE(token)                                                                      \
    "pg_catalog.length(((" "'" token ":'::pg_catalog.text OPERATOR(pg_catalog.||)"                \
    " (SELECT pg_catalog.count(*) FROM v)::pg_catalog.text)::pg_catalog.interval)::pg_catalog.text)"

store_record_error store_record_error_of(const PGresult *r, int unrecord)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!state || PQresultErrorField(r, PG_DIAG_CONTEXT))
        return STORE_RECORD_OTHER;
    if (!strcmp(state, SQLSTATE_GUARD_MISSING))
        return STORE_RECORD_GUARD_MISSING;
    if (!strcmp(state, SQLSTATE_LOST_LOCK))
        return STORE_RECORD_LOST_LOCK;
    if (!strcmp(state, SQLSTATE_NOT_DONE))
        return unrecord ? STORE_RECORD_NOT_APPLIED : STORE_RECORD_ALREADY_APPLIED;
    return STORE_RECORD_OTHER;
}

/* Every name qualified (tables with the schema, functions with pg_catalog):
 * the record runs after RESET ALL, but nothing a plugin created must be able
 * to capture it even then. The fence: the run lock is held by someone (a
 * shared try fails) and the run's own lock session still holds its (pid, key)
 * lock; if either try succeeds, the run lost its lock. */
char *store_prepare_record_sql(const char *schema, const store_token *tok)
{
    names n;
    names_init(&n, schema);
    const char *ok = store_status_name(STORE_SUCCESS);
    char *sql = xasprintf(
        "PREPARE " STORE_RECORD_STATEMENT "(text, double precision, double precision, text, text, text, bigint) AS"
        " WITH v AS (INSERT INTO %1$s (revision, applied_at, status, execution_time_seconds, checksum, hold)"
        "  VALUES ($1, pg_catalog.to_timestamp($3), '%3$s', $3 OPERATOR(pg_catalog.-) $2, $4, NULL)"
        "  ON CONFLICT (revision) DO UPDATE SET applied_at = EXCLUDED.applied_at, status = EXCLUDED.status,"
        "  execution_time_seconds = EXCLUDED.execution_time_seconds, checksum = EXCLUDED.checksum, hold = NULL"
        "  WHERE %1$s.status IS NULL OR %1$s.status OPERATOR(pg_catalog.<>) '%3$s'::pg_catalog.text"
        "  RETURNING 1),"
        " h AS (INSERT INTO %2$s (revision, started_at, ended_at, duration_seconds, status,"
        "  exception, username, hostname, checksum)"
        "  SELECT $1, pg_catalog.to_timestamp($2), pg_catalog.to_timestamp($3), $3 OPERATOR(pg_catalog.-) $2,"
        "  '%3$s', NULL, $5, $6, $4 FROM v),"
        " c AS (DELETE FROM %7$s WHERE xid OPERATOR(pg_catalog.=) pg_catalog.txid_current())"
        " SELECT CASE WHEN pg_catalog.txid_current() OPERATOR(pg_catalog.<>) $7"
        "  THEN " RAISE_GUARD_MISSING
        "  WHEN pg_catalog.pg_try_advisory_xact_lock_shared(%4$lld)"
        "   OR pg_catalog.pg_try_advisory_xact_lock_shared(%5$d, %6$d)"
        "  THEN " RAISE_LOST_LOCK
        "  WHEN NOT EXISTS (SELECT 1 FROM v)"
        "  THEN " RAISE_NOT_DONE("delembic-already-applied")
        "  ELSE (SELECT pg_catalog.length(pg_catalog.set_config('delembic.commit_ok', 'on', true))"
        "        FROM (SELECT pg_catalog.pg_advisory_unlock_all()) u) END,"
        " pg_catalog.pg_stat_get_xact_tuples_inserted('pg_catalog.pg_depend'::pg_catalog.regclass)",
        n.version, n.history, ok, (long long)STORE_LOCK_KEY, tok->pid, tok->key, n.claim);
    names_free(&n);
    return sql;
}

char *store_claim_cte(const char *schema)
{
    names n;
    names_init(&n, schema);
    sbuf b = {0};
    sbuf_printf(&b, "WITH " STORE_CLAIM_TABLE " AS (INSERT INTO %s (xid, revision, username, hostname)"
                    " VALUES (pg_catalog.txid_current(), $1, ", n.claim);
    record_text(&b, store_username());
    sbuf_puts(&b, ", ");
    record_text(&b, store_hostname());
    sbuf_puts(&b, ")) ");
    names_free(&n);
    return b.s;
}

char *store_claim_arg(const char *revision)
{
    sbuf b = {0};
    sbuf_puts(&b, "(");
    record_text(&b, revision);
    sbuf_puts(&b, ")");
    return b.s;
}

char *store_claim_retarget_sql(const char *schema, const char *revision)
{
    names n;
    names_init(&n, schema);
    sbuf b = {0};
    sbuf_printf(&b, "UPDATE %s SET revision = ", n.claim);
    record_text(&b, revision);
    sbuf_puts(&b, " WHERE xid OPERATOR(pg_catalog.=) pg_catalog.txid_current()");
    names_free(&n);
    return b.s;
}

static char *execute_sql(const char *statement, const char *revision, double started, double ended,
                         const char *checksum, long long xid)
{
    sbuf b = {0};
    sbuf_printf(&b, "EXECUTE %s(", statement);
    record_text(&b, revision);
    sbuf_printf(&b, ", %.6f, %.6f, ", started, ended);
    record_text(&b, checksum);
    sbuf_puts(&b, ", ");
    record_text(&b, store_username());
    sbuf_puts(&b, ", ");
    record_text(&b, store_hostname());
    sbuf_printf(&b, ", %lld)", xid);
    return b.s;
}

/* The history's text columns (older tables, the Python tool's, may lack
 * checksum): every attempt in the order they ran. */
int store_read_attempts(PGconn *conn, const char *schema, const char *revision, int newest,
                        store_attempts *out, del_err *err)
{
    memset(out, 0, sizeof *out);
    names n;
    names_init(&n, schema);
    int has[NCHECKS];
    if (read_checks(conn, &n, has, err) != 0) {
        names_free(&n);
        return -1;
    }
    int exists = has[CHECK_HISTORY], has_checksum = has[CHECK_H_CHECKSUM];
    if (!exists) {
        names_free(&n);
        return 0;
    }
    char limit[32] = "";
    if (newest > 0)
        snprintf(limit, sizeof limit, " LIMIT %d", newest);
    char *sql = xasprintf("SELECT * FROM (SELECT revision, status,"
                          " pg_catalog.to_char(started_at, '" STORE_TIME_FORMAT "'),"
                          " coalesce(duration_seconds, 0), exception, username, hostname, %s, id,"
                          " pg_catalog.date_part('epoch', started_at), pg_catalog.date_part('epoch', ended_at)"
                          " FROM %s WHERE $1::pg_catalog.text IS NULL OR revision OPERATOR(pg_catalog.=) $1"
                          " ORDER BY id DESC%s) h ORDER BY id",
                          has_checksum ? "checksum" : "NULL", n.history, limit);
    names_free(&n);
    const char *params[1] = {revision};
    PGresult *r = db_query(conn, sql, 1, params, err);
    free(sql);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    out->a = xcalloc((size_t)rows, sizeof *out->a);
    for (int i = 0; i < rows; i++) {
        store_attempt *t = &out->a[i];
        char **col[] = {&t->revision, &t->status, &t->started_at, NULL, &t->exception, &t->username,
                        &t->hostname, &t->checksum};
        for (int c = 0; c < (int)(sizeof col / sizeof col[0]); c++)
            if (col[c])
                *col[c] = PQgetisnull(r, i, c) ? NULL : xstrdup(PQgetvalue(r, i, c));
        t->seconds = atof(PQgetvalue(r, i, 3));
        t->id = strtoll(PQgetvalue(r, i, 8), NULL, 10);
        t->started = PQgetisnull(r, i, 9) ? 0 : strtod(PQgetvalue(r, i, 9), NULL);
        t->ended = PQgetisnull(r, i, 10) ? 0 : strtod(PQgetvalue(r, i, 10), NULL);
    }
    out->n = (size_t)rows;
    PQclear(r);
    return 0;
}

int store_bundle_versions(PGconn *conn, const char *schema, strvec *out, del_err *err)
{
    char *table = store_table(schema, STORE_BUNDLE_HISTORY_TABLE);
    const char *params[1] = {table};
    PGresult *r = db_query(conn, "SELECT pg_catalog.to_regclass($1) IS NOT NULL", 1, params, err);
    int exists = r && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (!r || !exists) {
        free(table);
        return r ? 0 : -1;
    }
    char *sql = xasprintf("SELECT DISTINCT bundle_version FROM %s", table);
    free(table);
    r = db_query(conn, sql, 0, NULL, err);
    free(sql);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++)
        strvec_push(out, PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}

int store_record_bundle_version(PGconn *conn, const char *schema, const char *version, const char *key_id,
                                const char *signed_at, del_err *err)
{
    char *table = store_table(schema, STORE_BUNDLE_HISTORY_TABLE);
    char *sql = xasprintf("CREATE TABLE IF NOT EXISTS %s (id bigserial PRIMARY KEY, bundle_version text NOT NULL,"
                          " key_id text, signed_at text, recorded_at timestamptz NOT NULL DEFAULT pg_catalog.now(),"
                          " username text, hostname text)",
                          table);
    PGresult *r = db_query(conn, sql, 0, NULL, err);
    free(sql);
    if (r) {
        PQclear(r);
        sql = xasprintf("INSERT INTO %s (bundle_version, key_id, signed_at, username, hostname)"
                        " VALUES ($1, $2, NULLIF($3, ''), $4, $5)",
                        table);
        const char *params[5] = {version, key_id, signed_at ? signed_at : "", store_username(), store_hostname()};
        r = db_query(conn, sql, 5, params, err);
        free(sql);
        PQclear(r);
    }
    free(table);
    return r ? 0 : -1;
}

int store_read_workers(PGconn *conn, store_worker **out, size_t *n, del_err *err)
{
    *out = NULL;
    *n = 0;
    PGresult *r = db_query(conn,
                           "SELECT a.pid, coalesce(a.state, ''),"
                           " pg_catalog.to_char(a.xact_start, '" STORE_TIME_FORMAT "'),"
                           " p.relid::pg_catalog.regclass::pg_catalog.text, p.tuples_processed, p.bytes_processed,"
                           " p.bytes_total"
                           " FROM pg_catalog.pg_stat_activity a LEFT JOIN pg_catalog.pg_stat_progress_copy p"
                           "  ON p.pid OPERATOR(pg_catalog.=) a.pid"
                           " WHERE a.application_name LIKE '" STORE_WORKER_APP_PREFIX "%'"
                           " AND a.datname OPERATOR(pg_catalog.=) pg_catalog.current_database()"
                           " ORDER BY a.pid",
                           0, NULL, err);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    *out = xcalloc((size_t)rows, sizeof **out);
    for (int i = 0; i < rows; i++) {
        store_worker *w = &(*out)[i];
#define OPT_TEXT(c) (PQgetisnull(r, i, c) ? NULL : xstrdup(PQgetvalue(r, i, c)))
#define OPT_NUM(c) (PQgetisnull(r, i, c) ? -1 : strtoll(PQgetvalue(r, i, c), NULL, 10))
        w->pid = atoi(PQgetvalue(r, i, 0));
        w->state = xstrdup(PQgetvalue(r, i, 1));
        w->since = OPT_TEXT(2);
        w->copy_table = OPT_TEXT(3);
        w->copy_rows = OPT_NUM(4);
        w->copy_bytes = OPT_NUM(5);
        w->copy_bytes_total = OPT_NUM(6);
#undef OPT_TEXT
#undef OPT_NUM
    }
    *n = (size_t)rows;
    PQclear(r);
    return 0;
}

void store_free_workers(store_worker *w, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(w[i].state);
        free(w[i].since);
        free(w[i].copy_table);
    }
    free(w);
}

void store_free_attempts(store_attempts *at)
{
    for (size_t i = 0; i < at->n; i++) {
        store_attempt *t = &at->a[i];
        free(t->revision);
        free(t->status);
        free(t->started_at);
        free(t->exception);
        free(t->username);
        free(t->hostname);
        free(t->checksum);
    }
    free(at->a);
    memset(at, 0, sizeof *at);
}

int store_last_errors(PGconn *conn, const char *schema, strvec *pairs, del_err *err)
{
    char *history = store_table(schema, "delembic_run_history");
    char *sql = xasprintf("SELECT revision, exception FROM (SELECT DISTINCT ON (revision) revision, exception, status"
                          " FROM %s ORDER BY revision, id DESC) last WHERE status OPERATOR(pg_catalog.=) '%s'",
                          history, store_status_name(STORE_FAILED));
    free(history);
    PGresult *r = db_query(conn, sql, 0, NULL, err);
    free(sql);
    if (!r)
        return -1;
    for (int i = 0; i < PQntuples(r); i++) {
        strvec_push(pairs, PQgetvalue(r, i, 0));
        strvec_push(pairs, PQgetvalue(r, i, 1));
    }
    PQclear(r);
    return 0;
}

/* The server session with this pid and start key (the worker's, as it told
 * us): a pid that another session took since never matches. */
#define BACKEND_MATCH                                                                              \
    " FROM pg_catalog.pg_stat_get_activity($1::int) s"                                             \
    " WHERE " STORE_BACKEND_KEY " OPERATOR(pg_catalog.=) $2::bigint"

static PGresult *backend_query(PGconn *conn, const char *select, int pid, long long key)
{
    if (!conn)
        return NULL;
    char p[32], k[32];
    snprintf(p, sizeof p, "%d", pid);
    snprintf(k, sizeof k, "%lld", key);
    const char *params[2] = {p, k};
    char *sql = xasprintf("%s" BACKEND_MATCH, select);
    PGresult *r = PQexecParams(conn, sql, 2, NULL, params, NULL, NULL, 0);
    free(sql);
    return r;
}

int store_terminate_backend(PGconn *conn, int pid, long long key)
{
    PGresult *r = backend_query(conn, "SELECT pg_catalog.pg_terminate_backend(s.pid)", pid, key);
    int rc = r && PQresultStatus(r) == PGRES_TUPLES_OK ? 0 : -1;
    PQclear(r);
    return rc;
}

int store_backend_alive(PGconn *conn, int pid, long long key)
{
    PGresult *r = backend_query(conn, "SELECT 1", pid, key);
    int alive = r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0;
    PQclear(r);
    return alive;
}

char *store_record_sql(const char *revision, double started, double ended, const char *checksum,
                       long long xid)
{
    return execute_sql(STORE_RECORD_STATEMENT, revision, started, ended, checksum, xid);
}

char *store_unrecord_sql(const char *revision, double started, double ended, const char *checksum,
                         long long xid)
{
    return execute_sql(STORE_UNRECORD_STATEMENT, revision, started, ended, checksum, xid);
}

/* The same checks as the record's, in the same order; the row it removes is
 * a success only (a failed or missing one means someone else acted first). */
char *store_prepare_unrecord_sql(const char *schema, const store_token *tok)
{
    names n;
    names_init(&n, schema);
    char *sql = xasprintf(
        "PREPARE " STORE_UNRECORD_STATEMENT "(text, double precision, double precision, text, text, text, bigint) AS"
        " WITH v AS (DELETE FROM %1$s WHERE revision OPERATOR(pg_catalog.=) $1"
        "  AND status OPERATOR(pg_catalog.=) '%3$s'::pg_catalog.text RETURNING 1),"
        " h AS (INSERT INTO %2$s (revision, started_at, ended_at, duration_seconds, status,"
        "  exception, username, hostname, checksum)"
        "  SELECT $1, pg_catalog.to_timestamp($2), pg_catalog.to_timestamp($3), $3 OPERATOR(pg_catalog.-) $2,"
        "  '%7$s', NULL, $5, $6, $4 FROM v),"
        " c AS (DELETE FROM %8$s WHERE xid OPERATOR(pg_catalog.=) pg_catalog.txid_current())"
        " SELECT CASE WHEN pg_catalog.txid_current() OPERATOR(pg_catalog.<>) $7"
        "  THEN " RAISE_GUARD_MISSING
        "  WHEN pg_catalog.pg_try_advisory_xact_lock_shared(%4$lld)"
        "   OR pg_catalog.pg_try_advisory_xact_lock_shared(%5$d, %6$d)"
        "  THEN " RAISE_LOST_LOCK
        "  WHEN NOT EXISTS (SELECT 1 FROM v)"
        "  THEN " RAISE_NOT_DONE("delembic-not-applied")
        "  ELSE (SELECT pg_catalog.length(pg_catalog.set_config('delembic.commit_ok', 'on', true))"
        "        FROM (SELECT pg_catalog.pg_advisory_unlock_all()) u) END,"
        " pg_catalog.pg_stat_get_xact_tuples_inserted('pg_catalog.pg_depend'::pg_catalog.regclass)",
        n.version, n.history, store_status_name(STORE_SUCCESS), (long long)STORE_LOCK_KEY, tok->pid,
        tok->key, store_status_name(STORE_DOWNGRADED), n.claim);
    names_free(&n);
    return sql;
}

/* ---- checkpoints (store.h) ---------------------------------------------- */

int store_checkpoints(PGconn *conn, const char *schema, const char *revision, store_checkpoint **out,
                      size_t *count, del_err *err)
{
    *out = NULL;
    *count = 0;
    names n;
    names_init(&n, schema);
    int has[NCHECKS];
    if (read_checks(conn, &n, has, err) != 0) {
        names_free(&n);
        return -1;
    }
    if (!has[CHECK_CHECKPOINT]) {
        names_free(&n);
        return 0;
    }
    const char *params[1] = {revision};
    char *sql = xasprintf(
        "SELECT revision, mode, cursor, rows_done, coalesce(total, -1), batches, coalesce(batch_size, 0),"
        " state, pg_catalog.to_char(started_at, '" STORE_TIME_FORMAT "'),"
        " pg_catalog.to_char(updated_at, '" STORE_TIME_FORMAT "'),"
        " pg_catalog.date_part('epoch', started_at), pg_catalog.date_part('epoch', updated_at),"
        " coalesce(last_batch_seconds, -1), username, hostname, %s"
        " FROM %s %s ORDER BY revision",
        has[CHECK_CP_IDENTITY] ? "identity" : "NULL::pg_catalog.text", n.checkpoint,
        revision ? "WHERE revision OPERATOR(pg_catalog.=) $1" : "");
    names_free(&n);
    PGresult *r = db_query(conn, sql, revision ? 1 : 0, revision ? params : NULL, err);
    free(sql);
    if (!r)
        return -1;
    int rows = PQntuples(r);
    store_checkpoint *cps = xcalloc((size_t)rows + 1, sizeof *cps);
    for (int i = 0; i < rows; i++) {
        store_checkpoint *c = &cps[i];
        char **text[] = {&c->revision, &c->mode, &c->cursor, NULL, NULL, NULL, NULL, &c->state,
                         &c->started_at, &c->updated_at, NULL, NULL, NULL, &c->username, &c->hostname,
                         &c->identity};
        for (int k = 0; k < (int)(sizeof text / sizeof text[0]); k++)
            if (text[k])
                *text[k] = PQgetisnull(r, i, k) ? NULL : xstrdup(PQgetvalue(r, i, k));
        c->rows_done = strtoll(PQgetvalue(r, i, 3), NULL, 10);
        c->total = strtoll(PQgetvalue(r, i, 4), NULL, 10);
        c->batches = strtoll(PQgetvalue(r, i, 5), NULL, 10);
        c->batch_size = strtoll(PQgetvalue(r, i, 6), NULL, 10);
        c->started_epoch = atof(PQgetvalue(r, i, 10));
        c->updated_epoch = atof(PQgetvalue(r, i, 11));
        c->last_batch_seconds = atof(PQgetvalue(r, i, 12));
    }
    PQclear(r);
    *out = cps;
    *count = (size_t)rows;
    return 0;
}

void store_free_checkpoints(store_checkpoint *cps, size_t n)
{
    for (size_t i = 0; cps && i < n; i++) {
        store_checkpoint *c = &cps[i];
        free(c->revision);
        free(c->mode);
        free(c->cursor);
        free(c->state);
        free(c->started_at);
        free(c->updated_at);
        free(c->username);
        free(c->hostname);
        free(c->identity);
    }
    free(cps);
}

char *store_checkpoint_commit_sql(const char *schema, const store_token *tok, const char *revision,
                                  const store_progress *p, long long xid)
{
    names n;
    names_init(&n, schema);
    sbuf b = {0};
    sbuf_printf(&b, "WITH cp AS (INSERT INTO %s AS t (revision, mode, cursor, rows_done, total, batches,"
                    " batch_size, state, started_at, updated_at, last_batch_seconds, username, hostname, identity) VALUES (",
                n.checkpoint);
    record_text(&b, revision);
    sbuf_puts(&b, ", ");
    record_text(&b, p->mode);
    sbuf_puts(&b, ", ");
    record_text(&b, p->cursor);
    sbuf_printf(&b, ", %lld, ", p->rows_done);
    if (p->total >= 0)
        sbuf_printf(&b, "%lld", p->total);
    else
        sbuf_puts(&b, "NULL");
    sbuf_printf(&b, ", %lld, ", p->batches);
    if (p->batch_size > 0)
        sbuf_printf(&b, "%lld", p->batch_size);
    else
        sbuf_puts(&b, "NULL");
    sbuf_puts(&b, ", '" STORE_CP_RUNNING "', pg_catalog.statement_timestamp(), pg_catalog.statement_timestamp(), ");
    if (p->last_batch_seconds >= 0)
        sbuf_printf(&b, "%.6f", p->last_batch_seconds);
    else
        sbuf_puts(&b, "NULL");
    sbuf_puts(&b, ", ");
    record_text(&b, store_username());
    sbuf_puts(&b, ", ");
    record_text(&b, store_hostname());
    sbuf_puts(&b, ", ");
    record_text(&b, p->identity);
    sbuf_printf(&b, ") ON CONFLICT (revision) DO UPDATE SET mode = EXCLUDED.mode, cursor = EXCLUDED.cursor,"
                    " rows_done = EXCLUDED.rows_done, total = EXCLUDED.total, batches = EXCLUDED.batches,"
                    " batch_size = EXCLUDED.batch_size, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at,"
                    " last_batch_seconds = EXCLUDED.last_batch_seconds, username = EXCLUDED.username,"
                    " hostname = EXCLUDED.hostname, identity = EXCLUDED.identity RETURNING 1),"
                    " c AS (DELETE FROM %s WHERE xid OPERATOR(pg_catalog.=) pg_catalog.txid_current())"
                    " SELECT CASE",
                n.claim);
    if (xid > 0)
        sbuf_printf(&b, " WHEN pg_catalog.txid_current() OPERATOR(pg_catalog.<>) %lld"
                        "  THEN " RAISE_GUARD_MISSING,
                    xid);
    sbuf_printf(&b, " WHEN pg_catalog.pg_try_advisory_xact_lock_shared(%lld)"
                    "   OR pg_catalog.pg_try_advisory_xact_lock_shared(%d, %d)"
                    "  THEN " RAISE_LOST_LOCK
                    "  ELSE (SELECT pg_catalog.length(pg_catalog.set_config('delembic.commit_ok', 'on', true))"
                    "        FROM (SELECT pg_catalog.pg_advisory_unlock_all()) u) END,"
                    " (SELECT pg_catalog.count(*) FROM cp)",
                (long long)STORE_LOCK_KEY, tok->pid, tok->key);
    names_free(&n);
    return b.s;
}

char *store_checkpoint_lock_sql(const char *schema, const char *revision)
{
    names n;
    names_init(&n, schema);
    sbuf b = {0};
    sbuf_puts(&b, "SELECT c.cursor, coalesce(c.rows_done, 0), coalesce(c.total, -1), coalesce(c.batches, 0),"
                  " coalesce(c.batch_size, 0), c.mode, c.identity FROM (SELECT pg_catalog.pg_advisory_xact_lock("
                  "pg_catalog.hashtextextended('" STORE_CHECKPOINT_TABLE ":' OPERATOR(pg_catalog.||) ");
    record_text(&b, revision);
    sbuf_printf(&b, ", 0))) l LEFT JOIN %s c ON c.revision OPERATOR(pg_catalog.=) ", n.checkpoint);
    record_text(&b, revision);
    names_free(&n);
    return b.s;
}

char *store_checkpoint_delete_sql(const char *schema, const char *revision)
{
    names n;
    names_init(&n, schema);
    sbuf b = {0};
    sbuf_printf(&b, "DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) ", n.checkpoint);
    record_text(&b, revision);
    names_free(&n);
    return b.s;
}

int store_record_paused(PGconn *conn, const char *schema, const char *revision, double started,
                        double ended, const char *message, del_err *err)
{
    attempt_times t;
    attempt_times_of(started, ended, &t);
    char *text = utf8_valid(message);
    const char *params[8] = {revision, t.started, t.ended, t.secs, text, store_username(), store_hostname(),
                             store_status_name(STORE_PAUSED)};
    names n;
    names_init(&n, schema);
    char *sql = xasprintf(
        "WITH cp AS (UPDATE %2$s SET state = '" STORE_CP_PAUSED "', updated_at = pg_catalog.statement_timestamp()"
        " WHERE revision OPERATOR(pg_catalog.=) $1)"
        " INSERT INTO %1$s (revision, started_at, ended_at, duration_seconds, status, exception, username, hostname)"
        " VALUES ($1, pg_catalog.to_timestamp($2::double precision), pg_catalog.to_timestamp($3::double precision),"
        "  $4::double precision, $8, $5, $6, $7)",
        n.history, n.checkpoint);
    PGresult *r = db_query(conn, sql, 8, params, err);
    free(sql);
    free(text);
    names_free(&n);
    if (!r)
        return del_err_wrap(err, "cannot record that %s paused", revision);
    PQclear(r);
    return 0;
}

int store_replica_lag(PGconn *conn, double *lag, int *replicas, char *msg, size_t msgsz)
{
    PGresult *r = PQexec(conn, "SELECT coalesce(pg_catalog.max(pg_catalog.date_part('epoch', replay_lag)), 0),"
                               " pg_catalog.count(*) FROM pg_catalog.pg_stat_replication");
    int rc = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
        *lag = atof(PQgetvalue(r, 0, 0));
        *replicas = atoi(PQgetvalue(r, 0, 1));
        rc = 0;
    } else {
        db_result_message(conn, r, msg, msgsz);
    }
    PQclear(r);
    return rc;
}

/* Non-transactional migrations whose claim is still there: their run ended
 * between claim and record. Under the run lock: an `interrupted` history row
 * each, and the claims go (the migrations are pending, and run again). */
static int settle_interrupted(PGconn *conn, const names *n, del_err *err)
{
    const char *params[3] = {STORE_MODE_NO_TRANSACTION, store_status_name(STORE_INTERRUPTED),
                             STORE_NOTX_INTERRUPTED_MESSAGE};
    char *sql = xasprintf(
        "WITH d AS (DELETE FROM %2$s WHERE mode OPERATOR(pg_catalog.=) $1"
        "  RETURNING revision, started_at, updated_at, username, hostname)"
        " INSERT INTO %1$s (revision, started_at, ended_at, duration_seconds, status, exception, username, hostname)"
        " SELECT revision, started_at, NULL, NULL, $2, $3, username, hostname FROM d",
        n->history, n->checkpoint);
    PGresult *r = db_query(conn, sql, 3, params, err);
    free(sql);
    if (!r)
        return del_err_wrap(err, "cannot record the non-transactional migrations that were interrupted");
    PQclear(r);
    return 0;
}
