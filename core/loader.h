/* Opening a plugin safely: the file is checked (inside the bundle, owner and
 * permissions, ELF class and machine, sha256 against the manifest) through one
 * open descriptor, and that same descriptor is what dlopen loads, so the file
 * can't be swapped between the check and the load. What it brings in with it
 * is checked too (linkcheck.h): run paths inside the bundle, and each library
 * it needs the host's own or listed in the manifest; a listed library is
 * verified the same way and loaded first, through its own descriptor. Then the
 * descriptor is checked (ABI, size, revision, upgrade, depends_on) and
 * compared with the manifest entry. A descriptor may be larger than this
 * host's (a newer SDK's), never smaller than ABI 1's fields; the host reads
 * only the fields both it and the plugin's size have (plugin.h). */
#ifndef DEL_LOADER_H
#define DEL_LOADER_H

#include <sys/stat.h>

#include "delembic/plugin.h"
#include "err.h"
#include "manifest.h"

typedef struct loaded_plugin {
    void *handle;
    const struct dm_descriptor *desc; /* the host's copy: fields the plugin's size lacks are zero */
    void **libs;        /* loaded before it (the libraries it needs), closed after it */
    size_t nlibs;
} loaded_plugin;

/* Permissions of a bundle file or folder (st from lstat/fstat). */
int loader_check_mode(const char *path, const struct stat *st, int is_dir, del_err *err);
/* Open bundle_dir/file after the checks above; expected_sha may be NULL, and
 * with sha_out NULL too the file is not hashed at all. */
int loader_open_verified(const char *bundle_dir, const char *file, const char *expected_sha,
                         int *fd_out, char sha_out[65], del_err *err);
/* The object open at fd (rel: its path inside the bundle) brings in only
 * what mf allows; listed libraries are named, not opened (verify checks each
 * with loader_check_library), and one flagged in lib_failed (may be NULL) is
 * refused. Messages name it name (NULL: bundle_dir/rel). */
int loader_check_links(const char *bundle_dir, const manifest *mf, int fd, const char *rel,
                       const char *name, const char *lib_failed, del_err *err);
/* Listed library i: checked as a plugin is (inside the bundle, owner, mode,
 * ELF, sha256 as listed), its soname is its file name, what it brings in is
 * allowed, and it is not a library the host already provides. */
int loader_check_library(const char *bundle_dir, const manifest *mf, size_t i, del_err *err);
/* What a run does: open bundle_dir/file verified (expected_sha may be NULL),
 * check what it brings in, load the libraries it needs (the bundle's through
 * their verified descriptors) and then it, through the descriptor it was
 * verified through, and check its descriptor. sha_out gets its sha256. */
int loader_load_verified(const char *bundle_dir, const manifest *mf, const char *file,
                         const char *expected_sha, loaded_plugin *lp, char sha_out[65], del_err *err);
/* dlopen the open file and check its descriptor. name is for messages. */
int loader_load_fd(int fd, const char *name, loaded_plugin *lp, del_err *err);
/* The descriptor agrees with the manifest entry. */
int loader_match_manifest(const struct dm_descriptor *d, const mentry *e, const char *name,
                          del_err *err);
void loader_unload(loaded_plugin *lp);

#endif
