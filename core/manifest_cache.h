/* A parsed-manifest cache. libyaml reads about 30 MB/s, so a 1,000-entry
 * manifest costs ~5-15 ms to parse; a no-op upgrade should cost little more
 * than connecting. After a successful parse the manifest is stored in a
 * compact binary form under the user's cache folder (the file name is a fast
 * hash of the text, only to find the entry).
 *
 * An entry never stands in for manifest.yaml:
 *  - it is read only from a folder and a file owned by the invoking user or
 *    root and writable by nobody else, a regular file opened without
 *    following a symbolic link (the folders the cache creates are 0700);
 *  - it is used only when libyaml's emitter, given the entry's content, writes
 *    exactly the text of manifest.yaml, and every value is one the parser
 *    accepts: since parsing what the emitter writes gives back what it was
 *    given, the entry then says exactly what the manifest says, nothing else
 *    (and it can never be stale). Only manifests as delembic writes them are
 *    cached; any other is parsed every time.
 * A missing, unreadable, untrusted or malformed entry only means parsing the
 * YAML again. */
#ifndef DEL_MANIFEST_CACHE_H
#define DEL_MANIFEST_CACHE_H

#include "manifest.h"

/* bundle_dir/manifest.yaml: read, then taken from the cache when a trusted
 * entry says exactly its text, else parsed (manifest_parse) and cached. The
 * cache sits above the parser: manifest.c knows nothing of it. */
int manifest_load(const char *bundle_dir, manifest *mf, del_err *err);

/* 0 and *mf filled when a trusted entry says exactly this text. */
int manifest_cache_load(const char *text, size_t len, const char *path, manifest *mf);
/* Best effort; never fails the caller. */
void manifest_cache_store(const char *text, size_t len, const manifest *mf);

#endif
