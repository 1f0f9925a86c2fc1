#include "store_ops.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "term.h"
#include "util.h"

/* One statement per change: the version row's change and the history row.
 * Parameters: $1 revision, $2 checksum, $3 note, $4 user, $5 host, $6 the
 * history status, $7 'success'. */
static char *change_sql(op_kind kind, const char *version, const char *claim, const char *history,
                        const char *checkpoint)
{
    const char *row;
    switch (kind) {
    case OP_STAMP:
        row = "INSERT INTO %1$s (revision, applied_at, status, execution_time_seconds, checksum, hold)"
              " VALUES ($1, pg_catalog.now(), $7, 0, $2, NULL)"
              " ON CONFLICT (revision) DO UPDATE SET applied_at = EXCLUDED.applied_at,"
              "  status = EXCLUDED.status, execution_time_seconds = 0, checksum = EXCLUDED.checksum, hold = NULL"
              " WHERE %1$s.status IS NULL OR %1$s.status OPERATOR(pg_catalog.<>) $7 RETURNING 1";
        break;
    case OP_ACCEPT:
        row = "UPDATE %1$s SET checksum = $2 WHERE revision OPERATOR(pg_catalog.=) $1"
              " AND $7::pg_catalog.text IS NOT NULL RETURNING 1";
        break;
    case OP_FORGET:
    case OP_DROP:
    default:
        row = "DELETE FROM %1$s WHERE revision OPERATOR(pg_catalog.=) $1"
              " AND $7::pg_catalog.text IS NOT NULL RETURNING 1";
        break;
    }
    char *v = xasprintf(row, version);
    /* a batched migration's checkpoint goes with a stamp or a forget (the
     * next upgrade starts it from the beginning, store.h), and with repair's
     * drop of a revision the bundle no longer has */
    char *cp = kind == OP_STAMP || kind == OP_FORGET || kind == OP_DROP
                   ? xasprintf(", cp AS (DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) $1)", checkpoint)
                   : xstrdup("");
    /* a claim left by a migration that committed by itself (store.h) is
     * settled by what the operator decided, or it would hold it again */
    char *sql = xasprintf("WITH v AS (%s), k AS (DELETE FROM %s WHERE revision OPERATOR(pg_catalog.=) $1)%s"
                          " INSERT INTO %s (revision, started_at, ended_at, duration_seconds, status,"
                          "  exception, username, hostname, checksum)"
                          " SELECT $1, pg_catalog.now(), pg_catalog.now(), 0, $6, $3, $4, $5, $2"
                          " FROM (SELECT pg_catalog.count(*) FROM v) c",
                          v, claim, cp, history);
    free(cp);
    free(v);
    return sql;
}

static const char *history_status(op_kind kind)
{
    switch (kind) {
    case OP_STAMP: return store_status_name(STORE_STAMPED);
    case OP_FORGET: return store_status_name(STORE_FORGOTTEN);
    default: return store_status_name(STORE_REPAIRED);
    }
}

int oprecord_apply(PGconn *conn, const char *schema, const op_change *changes, size_t n,
                   del_err *err)
{
    char *version = store_table(schema, "delembic_version");
    char *history = store_table(schema, "delembic_run_history");
    char *claim = store_table(schema, STORE_CLAIM_TABLE);
    char *checkpoint = store_table(schema, STORE_CHECKPOINT_TABLE);
    int rc = db_exec(conn, "BEGIN", err);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const op_change *c = &changes[i];
        char *sql = change_sql(c->kind, version, claim, history, checkpoint);
        char *note = utf8_valid(c->note ? c->note : "");
        const char *params[7] = {c->revision, c->checksum, note, store_username(), store_hostname(),
                                 history_status(c->kind), store_status_name(STORE_SUCCESS)};
        PGresult *r = db_query(conn, sql, 7, params, err);
        free(sql);
        free(note);
        if (!r)
            rc = del_err_wrap(err, "cannot record %s of %s", history_status(c->kind), c->revision);
        PQclear(r);
    }
    if (rc == 0)
        rc = db_exec(conn, "COMMIT", err);
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        PQclear(PQexec(conn, "ROLLBACK"));
    free(version);
    free(history);
    free(claim);
    free(checkpoint);
    return rc;
}
