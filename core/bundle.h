/* A bundle: a folder with manifest.yaml and one .so per migration. Opening
 * one checks the manifest as a whole (syntax, fields, the owner and
 * permissions of the folder and of manifest.yaml, every .so listed and every
 * listed file present, the DAG) without reading or loading any plugin file. */
#ifndef DEL_BUNDLE_H
#define DEL_BUNDLE_H

#include <limits.h>
#include <sys/types.h>

#include "dag.h"
#include "manifest.h"

typedef struct bundle {
    char *dir;          /* absolute */
    manifest mf;
    dag g;              /* node i is manifest entry i */
    int kept;           /* bundle_open_kept: the folder is held open (dirfd, below) */
    int dirfd;          /* O_DIRECTORY, with a shared flock that build respects */
    dev_t dev;          /* the kept folder */
    ino_t ino;
} bundle;

int bundle_open(const char *dir, bundle *b, del_err *err);
/* bundle_open_manifest for a run: the folder is opened once and held, with a
 * shared flock, until bundle_close; the manifest and the listing are read
 * from that very folder. A build that swaps in a new bundle meanwhile
 * exchanges the folder names: the held folder (the old bundle) stays as it
 * is under another name (build leaves a folder it cannot lock exclusively,
 * as .<bundle>.old-XXXXXX, for a later build to remove), so the run goes on
 * with the bundle it started with (bundle_path). */
int bundle_open_kept(const char *dir, bundle *b, del_err *err);
/* Where the files of b are: b->dir, or, when a build put another bundle there
 * since bundle_open_kept, the kept folder's new path (in buf). When the kept
 * folder is gone (removed by hand, or by a build of an older delembic),
 * b->dir again: what is there now runs only if it is what the manifest says. */
const char *bundle_path(const bundle *b, char buf[PATH_MAX]);
/* The folder at b->dir is no longer the one bundle_open_kept held. */
int bundle_replaced(const bundle *b);
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
/* The bundle checks shared by upgrade and verify report each problem through
 * a callback (after git's fsck_options.error_func): upgrade's stops at the
 * first (the callback returns nonzero), verify's collects them all (it
 * returns 0). check names the check ("unlisted", "missing", "dependency"). */
typedef struct bundle_checker {
    int (*report)(void *payload, const char *check, const del_err *problem);
    void *payload;
    int listed_missing;  /* also report listed files that are missing (verify's file checks say it) */
} bundle_checker;
/* Every .so at the top of dir is a listed plugin or library, and (with
 * listed_missing) every listed plugin is there. 0, or -1 when the callback
 * stopped the check or the folder cannot be read. */
int bundle_check_listing(const char *dir, const manifest *mf, const bundle_checker *c);
/* Each migration's dependency outside the bundle is one of its Alembic
 * revisions, and one the manifest's Alembic graph has (when it has one). */
int bundle_check_dependencies(const char *dir, const manifest *mf, const dag *g, const bundle_checker *c);
/* The checker of a run: it stops at the first problem, which it puts in err. */
int bundle_stop_at_first(void *err, const char *check, const del_err *problem);

/* Build the DAG of a manifest (also used by build before writing one). */
int bundle_build_dag(const manifest *mf, dag *g, del_err *err);

#endif
