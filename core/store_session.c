#include "store_session.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

#define GUARD_TABLE "pg_temp.delembic_guard"
#define GUARD_FUNCTION "pg_temp.delembic_guard_check()"
#define OPEN_STATEMENT "delembic_open"
#define OPEN_CHECK_STATEMENT "delembic_open_check"
#define TEMP_STATEMENT "delembic_temp"

_Static_assert(sizeof STORE_TEMP_CHECK_SQL == sizeof "EXECUTE " TEMP_STATEMENT,
               "STORE_TEMP_CHECK_SQL runs TEMP_STATEMENT");

static const char *guard_sql =
    "BEGIN;"
    "SET LOCAL synchronous_commit = off;" /* temporary objects: nothing to make durable */
    "SET LOCAL client_min_messages = warning;"
    "CREATE TEMP TABLE IF NOT EXISTS delembic_guard (x int);"
    "CREATE OR REPLACE FUNCTION " GUARD_FUNCTION " RETURNS trigger LANGUAGE plpgsql AS $g$"
    "BEGIN IF pg_catalog.current_setting('delembic.commit_ok', true) OPERATOR(pg_catalog.=) 'on'"
    " THEN RETURN NULL; END IF;"
    " RAISE EXCEPTION 'a migration may not COMMIT: the host commits'; END $g$;"
    "DROP TRIGGER IF EXISTS delembic_guard_t ON " GUARD_TABLE ";"
    "CREATE CONSTRAINT TRIGGER delembic_guard_t AFTER INSERT ON " GUARD_TABLE
    " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION " GUARD_FUNCTION ";"
    "COMMIT;";

#define DEPEND_COUNT                                                                                \
    "pg_catalog.pg_stat_get_xact_tuples_inserted('pg_catalog.pg_depend'::pg_catalog.regclass)"
#define OPEN_RETURNING " RETURNING pg_catalog.txid_current(), " DEPEND_COUNT ","
/* Both start with the claim of the revision ($1; see store.h). */
#define OPEN_PREPARE(name) "PREPARE " name "(pg_catalog.text) AS %s"
static const char *open_sql =
    OPEN_PREPARE(OPEN_STATEMENT) "INSERT INTO " GUARD_TABLE " VALUES (1)" OPEN_RETURNING " false";
static const char *open_check_sql =
    OPEN_PREPARE(OPEN_CHECK_STATEMENT) "INSERT INTO " GUARD_TABLE " VALUES (1)" OPEN_RETURNING
    " EXISTS (SELECT 1 FROM pg_catalog.pg_prepared_statements WHERE NOT name OPERATOR(pg_catalog.=)"
    " ANY ('{" STORE_RECORD_STATEMENT "," STORE_UNRECORD_STATEMENT "," OPEN_STATEMENT "," OPEN_CHECK_STATEMENT "," TEMP_STATEMENT
    "}'::pg_catalog.text[]))"
    " OR EXISTS (SELECT 1 FROM pg_catalog.pg_listening_channels())"
    " OR EXISTS (SELECT 1 FROM pg_catalog.pg_cursors)";

/* After a migration that created objects: are there temporary ones other
 * than the guard's? (Each depends on the session's temporary schema.) */
static const char *temp_sql =
    "PREPARE " TEMP_STATEMENT " AS SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d"
    "  WHERE d.refclassid OPERATOR(pg_catalog.=) 'pg_catalog.pg_namespace'::pg_catalog.regclass::pg_catalog.oid"
    "  AND d.refobjid OPERATOR(pg_catalog.=) pg_catalog.pg_my_temp_schema()"
    "  AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass::pg_catalog.oid"
    "           AND d.objid OPERATOR(pg_catalog.=) '" GUARD_TABLE "'::pg_catalog.regclass::pg_catalog.oid)"
    "  AND NOT (d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_proc'::pg_catalog.regclass::pg_catalog.oid"
    "           AND d.objid OPERATOR(pg_catalog.=) '" GUARD_FUNCTION "'::pg_catalog.regprocedure::pg_catalog.oid))";

#define SESSION_RESET "RESET ALL;RESET ROLE;DISCARD SEQUENCES;" STORE_SESSION_READ_ONLY
#define SESSION_AUTH_RESET "SET SESSION AUTHORIZATION DEFAULT;"

char *store_session_setup_sql(const char *schema, const store_token *tok, int downgrade)
{
    char *rec = store_prepare_record_sql(schema, tok);
    char *claim = store_claim_cte(schema);
    char *open = xasprintf(open_sql, claim), *open_check = xasprintf(open_check_sql, claim);
    char *unrec = downgrade ? store_prepare_unrecord_sql(schema, tok) : NULL;
    char *sql = xasprintf("%s%s;%s%s%s;%s;%s;" STORE_SESSION_READ_ONLY, guard_sql, rec, unrec ? unrec : "",
                          unrec ? ";" : "", open, open_check, temp_sql);
    free(rec);
    free(unrec);
    free(claim);
    free(open);
    free(open_check);
    return sql;
}

char *store_begin_sql(const char *statement_timeout, const char *lock_timeout, int checked,
                      const char *revision)
{
    sbuf b = {0};
    sbuf_puts(&b, "BEGIN READ WRITE;");
    if (statement_timeout)
        sbuf_printf(&b, "SET LOCAL statement_timeout = '%s';", statement_timeout);
    if (lock_timeout)
        sbuf_printf(&b, "SET LOCAL lock_timeout = '%s';", lock_timeout);
    sbuf_puts(&b, checked ? "EXECUTE " OPEN_CHECK_STATEMENT : "EXECUTE " OPEN_STATEMENT);
    char *arg = store_claim_arg(revision);
    sbuf_puts(&b, arg);
    free(arg);
    return b.s;
}

int store_open_result(const PGresult *r, long long *xid, long long *deps, int *dirty)
{
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 3)
        return -1;
    *xid = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    *deps = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    *dirty = !strcmp(PQgetvalue(r, 0, 2), "t");
    return *xid > 0 ? 0 : -1;
}

char *store_commit_sql(int auth_reset, const char *record, const char *next_begin)
{
    return xasprintf("%s" SESSION_RESET "%s;COMMIT%s%s", auth_reset ? SESSION_AUTH_RESET : "", record,
                     next_begin ? ";" : "", next_begin ? next_begin : "");
}

char *store_in_transaction_sql(const char *stmt)
{
    return xasprintf("BEGIN READ WRITE;%s;COMMIT", stmt);
}

char *store_autocommit_session_sql(const char *statement_timeout, const char *lock_timeout)
{
    sbuf s = {0};
    sbuf_puts(&s, "SET default_transaction_read_only = off;");
    if (statement_timeout)
        sbuf_printf(&s, "SET statement_timeout = '%s';", statement_timeout);
    if (lock_timeout)
        sbuf_printf(&s, "SET lock_timeout = '%s';", lock_timeout);
    return s.s;
}

const char *store_record_prepared_sql(int downgrade)
{
    return downgrade ? "SELECT 1 FROM pg_catalog.pg_prepared_statements"
                       " WHERE name OPERATOR(pg_catalog.=) '" STORE_UNRECORD_STATEMENT "'"
                     : "SELECT 1 FROM pg_catalog.pg_prepared_statements"
                       " WHERE name OPERATOR(pg_catalog.=) '" STORE_RECORD_STATEMENT "'";
}

char *store_backend_key_sql(const char *before)
{
    return xasprintf("%sSELECT " STORE_BACKEND_KEY
                     " FROM pg_catalog.pg_stat_get_activity(pg_catalog.pg_backend_pid()) s",
                     before);
}
