/* A bundle: a folder with manifest.yaml and one .so per migration. Opening
 * one checks the manifest as a whole (syntax, fields, the owner and
 * permissions of the folder and of manifest.yaml, every .so listed and every
 * listed file present, the DAG) without reading or loading any plugin file. */
#ifndef DEL_BUNDLE_H
#define DEL_BUNDLE_H

#include "dag.h"
#include "manifest.h"

typedef struct bundle {
    char *dir;          /* absolute */
    manifest mf;
    dag g;              /* node i is manifest entry i */
} bundle;

int bundle_open(const char *dir, bundle *b, del_err *err);
/* bundle_open in two halves (the second can overlap a database round trip):
 * the folder, the manifest and the listing; then the DAG and dependencies.
 * Each closes b on failure. */
int bundle_open_manifest(const char *dir, bundle *b, del_err *err);
int bundle_check(bundle *b, del_err *err);
void bundle_close(bundle *b);
/* dir/manifest.yaml is a regular file (not a link, FIFO or device), owned by
 * root or the user and writable by nobody else, as plugins must be; missing
 * is not this check's problem (0). */
int bundle_check_manifest_file(const char *dir, del_err *err);
/* Build the DAG of a manifest (also used by build before writing one). */
int bundle_build_dag(const manifest *mf, dag *g, del_err *err);

#endif
