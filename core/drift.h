/* Drift: is an applied migration's code still the bundle's? One rule for
 * upgrade, verify, history and current. Pure: no I/O.
 *
 * The database's checksum column holds what ran: the migration's identity
 * (build's digest of its preprocessed source, SDK and flags), or, for rows
 * written by earlier versions, the sha256 of the .so. A row is `changed` only
 * when it has a checksum and that checksum is neither the entry's identity nor
 * the .so sha256. */
#ifndef DEL_DRIFT_H
#define DEL_DRIFT_H

/* applied: the row's checksum (NULL: unknown, never changed); identity: the
 * manifest entry's (NULL in manifests written before it existed); sha256: the
 * .so's. Returns 1 when the applied code differs from the bundle's. */
int drift_changed(const char *applied, const char *identity, const char *sha256);

#endif
