/* Database connections: URL choice and normalisation (and the same database
 * as a SQLAlchemy URL, for Alembic), password redaction for every message,
 * connecting, and small query helpers that return errors as values. */
#ifndef DEL_DB_H
#define DEL_DB_H

#include <libpq-fe.h>

#include "err.h"
#include "notify.h"

/* Pick the URL by precedence: cli, then $DELEMBIC_DATABASE_URL, then the
 * section's; NULL means libpq's own defaults (PGHOST, PGDATABASE, ...).
 * *source names where it came from. The result is normalised (malloc'd). */
char *db_choose_url(const char *cli, const char *env, const char *section_url, const char **source);
/* The +driver of the URL db_choose_url picks ("psycopg2" for
 * postgresql+psycopg2://...), or NULL; malloc'd. */
char *db_choose_driver(const char *cli, const char *env, const char *section_url);
/* The same database as a SQLAlchemy URL for Alembic's env.py:
 * postgresql[+driver]://user:password@host:port/dbname?other=options, parts
 * percent-encoded, and a socket folder, several hosts or an unusual name in
 * the query string; url NULL (libpq's defaults) gives postgresql:// (the
 * driver then reads PGHOST, PGDATABASE, ... as libpq does). Accepts URIs and
 * key=value strings. It holds the password: never print it. */
char *db_sqlalchemy_url(const char *url, const char *driver, del_err *err);
/* postgresql+psycopg://... -> postgresql://...; other strings unchanged. */
char *db_normalize_url(const char *url);
/* The URL with any password replaced by ***, for messages; NULL gives
 * "(libpq defaults)". */
char *db_redact(const char *url);
/* Any text with every password replaced by ***: URI user:PASSWORD@,
 * password= and sslpassword= in query strings (keys percent-decoded) and in
 * key=value strings (quoted or bare), and each literal occurrence of a
 * password that url (may be NULL) carries. The one redaction that every
 * message holding connection text (libpq's included) goes through. */
char *db_redact_text(const char *text, const char *url);
/* Validate syntax without connecting. */
int db_check_url(const char *url, del_err *err);

PGconn *db_connect(const char *url, const char *application_name, del_err *err);
/* The same, giving up after seconds (libpq's connect_timeout; one written in
 * the URL wins). */
PGconn *db_connect_within(const char *url, const char *application_name, int seconds, del_err *err);
/* The same in two halves, so other work can overlap the server's start-up. */
PGconn *db_connect_start(const char *url, const char *application_name, del_err *err);
PGconn *db_connect_finish(PGconn *conn, const char *url, del_err *err);
/* Close a connection inherited across fork without telling the server. */
void db_forget(PGconn *conn);

/* Run a command; failure fills err with the server's message. */
int db_exec(PGconn *conn, const char *sql, del_err *err);
/* Run a query with text parameters; NULL on failure. */
/* -v: from now on, the SQL the host sends on conn through db_query (and
 * db_trace_sql) goes to n as debug events with its time. The notify set is
 * kept with the connection (libpq instance data), not in a global. */
void db_trace(PGconn *conn, const del_notify *n);
/* Report sql, sent on conn and answered in seconds, when conn is traced. */
void db_trace_sql(PGconn *conn, const char *sql, double seconds);

PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   del_err *err);
/* The one-line message of a failed result or connection. */
void db_result_message(PGconn *conn, const PGresult *res, char *buf, size_t bufsz);

#endif
