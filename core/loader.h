/* Opening a plugin safely: the file is checked (inside the bundle, owner and
 * permissions, ELF class and machine, sha256 against the manifest) through one
 * open descriptor, and that same descriptor is what dlopen loads, so the file
 * can't be swapped between the check and the load. Then the descriptor is
 * checked (ABI, size, revision, upgrade, depends_on) and compared with the
 * manifest entry. */
#ifndef DEL_LOADER_H
#define DEL_LOADER_H

#include <sys/stat.h>

#include "delembic/plugin.h"
#include "err.h"
#include "manifest.h"

typedef struct loaded_plugin {
    void *handle;
    const struct dm_descriptor *desc;
} loaded_plugin;

/* Permissions of a bundle file or folder (st from lstat/fstat). */
int loader_check_mode(const char *path, const struct stat *st, int is_dir, del_err *err);
/* Open bundle_dir/file after the checks above; expected_sha may be NULL. */
int loader_open_verified(const char *bundle_dir, const char *file, const char *expected_sha,
                         int *fd_out, char sha_out[65], del_err *err);
/* dlopen the open file and check its descriptor. name is for messages. */
int loader_load_fd(int fd, const char *name, loaded_plugin *lp, del_err *err);
/* The descriptor agrees with the manifest entry. */
int loader_match_manifest(const struct dm_descriptor *d, const mentry *e, const char *name,
                          del_err *err);
void loader_unload(loaded_plugin *lp);

#endif
