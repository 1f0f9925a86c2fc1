/* A migration's code identity: what it *is*, not where it was built.
 *
 * SHA-256 over a canonical, path-free description of everything that decides
 * its code: the preprocessed translation unit without line markers (`-E -P`:
 * the source, every header it includes, the SDK header), the SDK's source
 * digest (plugin.h and sdk.c as shipped, DEL_SDK_SOURCE_SHA256: not the bytes
 * of the archive, which depend on how delembic itself was compiled), and the
 * compile flags with include paths, prefix maps, output options, debug-info
 * and diagnostic flags dropped and known folders replaced by names. So a
 * rename, another checkout, another build folder, -g or a warning flag keeps
 * it, and any change to the source, a header, the SDK or a flag that changes
 * code changes it. The compiler's version is not in it. Build computes it;
 * drift compares it. */
#ifndef DEL_IDENTITY_H
#define DEL_IDENTITY_H

#include <stddef.h>

#include "err.h"
#include "sha256.h"
#include "util.h"

/* Bumped when the description changes, so build recomputes every identity
 * (2: the SDK's source digest, not its archive's; debug and diagnostic flags
 * dropped). */
#define IDENTITY_VERSION 2

/* A folder whose path is replaced by a name in the canonical flags. */
typedef struct identity_root {
    const char *path;   /* absolute, no trailing slash */
    const char *name;   /* e.g. "$PROJECT" */
} identity_root;

/* The canonical flags: one per line, in order; dropped are -I/-isystem/
 * -iquote/-idirafter/-include/-imacros (what they bring is in the
 * preprocessed unit), -M* and -o (outputs), *-prefix-map (they only rename
 * paths), -g* (debug information only), and the diagnostic flags -W* (but
 * not -Wl, -Wa, -Wp,), -w, -pedantic*, -fdiagnostics-*, -fno-diagnostics-*,
 * -fmax-errors=, -fmessage-length=, -f[no-]show-column; each root's path is
 * replaced by its name. Pure. */
void identity_flags(char *const *args, size_t n, const identity_root *roots, size_t nroots, sbuf *out);

/* The identity (64 hex) of a preprocessed unit built with those canonical
 * flags against the SDK whose source digest is sdk_source. */
int identity_digest(const char *sdk_source, const char *flags, const char *unit, size_t unit_len,
                    char hex[SHA256_HEX_LEN + 1], del_err *err);

#endif
