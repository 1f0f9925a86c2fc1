/* The SQL of a worker's session, beside store.c's (every SQL text the host
 * sends lives in store*.c; the worker only decides when to send it).
 *
 * Set up once per connection (and again after a full reset): each
 * migration's transaction starts by inserting a guard row; a deferred trigger
 * on it refuses any COMMIT that the host's success record did not allow (the
 * record sets a transaction-local flag). So a plugin's own COMMIT fails and
 * rolls back. Every name in the trigger function is qualified, so no
 * search_path a plugin sets (and no current_setting() or = it defines) can
 * answer for it; cheaper than a SET clause on the function, measured.
 *
 * Opening a migration's transaction: the claim of the revision (store.h), the
 * guard row, the transaction id and the catalog dependencies this session
 * created so far (compared with the record's count: did the plugin create
 * objects?). Prepared once: no planning per migration. After a migration
 * whose commands could have left prepared statements, LISTEN or held cursors,
 * the checked form also says whether it did: about 10 us of server time that
 * the common case does not pay (measured).
 *
 * What every commit undoes, in the same round trip and before the record (so
 * the record runs as the host, with the host's settings): session settings,
 * SET ROLE, cached sequence values; SET SESSION AUTHORIZATION too when the
 * server reported that it changed; the record itself releases session
 * advisory locks. Outside the host's transactions the session is read-only
 * (STORE_SESSION_READ_ONLY, again after RESET ALL; the host's own
 * transactions begin READ WRITE): what a plugin runs after it left the host's
 * transaction cannot write, unless it turns read-write on itself (txwatch.h). */
#ifndef DEL_STORE_SESSION_H
#define DEL_STORE_SESSION_H

#include <libpq-fe.h>

#include "store.h"

#define STORE_ROLLBACK "ROLLBACK"
/* a full reset of what a plugin left (runs alone, outside any transaction) */
#define STORE_DISCARD_ALL "DISCARD ALL"
#define STORE_SESSION_READ_ONLY "SET default_transaction_read_only = on;"

/* The guard, the record (or, for a downgrade's workers, the unrecord too),
 * the open statements and the temporary-objects check, in one transaction,
 * then the session read-only. */
char *store_session_setup_sql(const char *schema, const store_token *tok, int downgrade);

/* BEGIN READ WRITE, the section's timeouts as SET LOCAL (NULL: none; the
 * values are checked intervals from the config), the open statement (checked:
 * the form that also reports what a plugin left) claiming revision. Its last
 * result is read by store_open_result. */
char *store_begin_sql(const char *statement_timeout, const char *lock_timeout, int checked,
                      const char *revision);
/* The open statement's answer: 0 with the transaction id, the dependency
 * count and whether the session holds what a plugin left; -1 when r is not
 * that answer. */
int store_open_result(const PGresult *r, long long *xid, long long *deps, int *dirty);

/* The commit's round trip: the session reset (with SET SESSION AUTHORIZATION
 * DEFAULT when auth_reset), record (store_record_sql or store_unrecord_sql),
 * COMMIT, and then next_begin (NULL: none), the next migration's
 * store_begin_sql, which opens only after the COMMIT. */
char *store_commit_sql(int auth_reset, const char *record, const char *next_begin);

/* stmt alone in a transaction of its own (the checkpoint of a
 * non-transactional migration): BEGIN READ WRITE, stmt, COMMIT. */
char *store_in_transaction_sql(const char *stmt);

/* The session of a non-transactional upgrade (autocommit): read-write, with
 * the section's timeouts (NULL: none) for the session; the worker resets the
 * session in full after it. */
char *store_autocommit_session_sql(const char *statement_timeout, const char *lock_timeout);

/* In an open transaction: are there temporary objects other than the
 * guard's? One row, "t" or "f". */
#define STORE_TEMP_CHECK_SQL "EXECUTE delembic_temp"

/* Is the record statement (downgrade: the unrecord) still prepared? Rows: 1
 * when it is. (Prepared statements are not transactional: a plugin's
 * DEALLOCATE or DISCARD removes them.) Its PREPARE again: store.h. */
const char *store_record_prepared_sql(int downgrade);

/* before (SQL text, may be "") then the query of the session's start key
 * (STORE_BACKEND_KEY). */
char *store_backend_key_sql(const char *before);

#endif
