/* A migration's code identity: what it *is*, not where it was built.
 *
 * SHA-256 over a canonical, path-free description of everything that decides
 * its code: the preprocessed translation unit without line markers (`-E -P`:
 * the source, every header it includes, the SDK header), the SDK archive's
 * sha256, and the compile flags with include paths, prefix maps and output
 * options dropped and known folders replaced by names. So a rename, another
 * checkout or another build folder keeps it, and any change to the source, a
 * header, the SDK or the flags changes it. The compiler's version is not in
 * it. Build computes it; drift compares it. */
#ifndef DEL_IDENTITY_H
#define DEL_IDENTITY_H

#include <stddef.h>

#include "err.h"
#include "sha256.h"
#include "util.h"

/* Bumped when the description changes, so build recomputes every identity. */
#define IDENTITY_VERSION 1

/* A folder whose path is replaced by a name in the canonical flags. */
typedef struct identity_root {
    const char *path;   /* absolute, no trailing slash */
    const char *name;   /* e.g. "$PROJECT" */
} identity_root;

/* The canonical flags: one per line, in order; -I/-isystem/-iquote/-idirafter/
 * -include/-imacros (what they bring is in the preprocessed unit), -M* and -o
 * (outputs) and *-prefix-map (they only rename paths) dropped, each root's
 * path replaced by its name. Pure. */
void identity_flags(char *const *args, size_t n, const identity_root *roots, size_t nroots, sbuf *out);

/* The identity (64 hex) of a preprocessed unit built with those canonical
 * flags against the SDK archive whose sha256 is sdk_sha256. */
int identity_digest(const char *sdk_sha256, const char *flags, const char *unit, size_t unit_len,
                    char hex[SHA256_HEX_LEN + 1], del_err *err);

#endif
