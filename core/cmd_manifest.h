/* `delembic manifest --bundle DIR [--check]`: a manifest for .so files built
 * outside `delembic build` (a vendor's own make or meson, with the README's
 * pkg-config line). Each plugin passes the checks build makes before it is
 * loaded (a regular file, owner and mode, an ELF object for this host whose
 * libraries are the host's own) and its descriptor is read in a child
 * process, as build does; data/ is listed too. Then `delembic sign` signs it.
 * --check writes nothing: it says whether manifest.yaml lists exactly what is
 * there (the first difference, naming the file). */
#ifndef DEL_CMD_MANIFEST_H
#define DEL_CMD_MANIFEST_H

#include "app.h"

typedef struct manifest_result {
    size_t plugins, data_files;
    int removed_signature;   /* a manifest.yaml.minisig that no longer matched was removed */
    int check;               /* --check was given (and passed) */
    const char *dir;
} manifest_result;

int cmd_manifest(app *a, int check, manifest_result *res, del_err *err);
void manifest_print(const del_notify *n, const manifest_result *res);

#endif
