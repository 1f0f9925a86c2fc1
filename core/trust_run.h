/* The vendor trust chain in a run (upgrade, verify): the trusted keys from
 * every source, and rollback protection in the database. Each run of a
 * verified signed bundle records its version in the store
 * (STORE_BUNDLE_HISTORY_TABLE, in the section's version_table_schema); a signed bundle older than the
 * newest version recorded there is refused unless --allow-older-bundle, as
 * TUF refuses metadata older than what a client has seen. */
#ifndef DEL_TRUST_RUN_H
#define DEL_TRUST_RUN_H

#include <libpq-fe.h>

#include "app.h"
#include "trust.h"


/* The section's trusted_keys (relative to the config's folder), then each
 * --trusted-key, then TRUST_KEYS_ENV. */
int trust_run_keys(const app *a, trust_keys *tk, del_err *err);
/* The bundle's signature against the configured keys (trust_check_bundle,
 * before the manifest is parsed): every command that opens a bundle's
 * plugins or records from its manifest calls this first, then
 * trust_same_manifest on what it parsed. */
int trust_run_bundle(const app *a, const char *dir, trust_result *r, del_err *err);

/* The newest bundle version recorded (malloc'd), or NULL when none (or no
 * table yet). */
int trust_newest_version(PGconn *conn, const char *schema, char **version, del_err *err);
/* -1 (exit 2) when r is a verified bundle older than the newest recorded and
 * allow_older is not set; the message names both versions. */
int trust_check_rollback(PGconn *conn, const char *schema, const trust_result *r, int allow_older,
                         del_err *err);
/* Record r's version (a verified bundle with one; else nothing). */
int trust_record_version(PGconn *conn, const char *schema, const trust_result *r, del_err *err);

#endif
