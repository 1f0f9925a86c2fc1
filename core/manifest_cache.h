/* A parsed-manifest cache. libyaml reads about 12 MB/s, so a 1,000-entry
 * manifest costs ~15 ms to parse; a no-op upgrade should cost little more
 * than connecting. After a successful parse the manifest is stored in a
 * compact binary form under the user's cache folder, named by the sha256 of
 * the manifest's bytes: it can never be stale, and a missing, unreadable or
 * malformed cache file only means parsing the YAML again. */
#ifndef DEL_MANIFEST_CACHE_H
#define DEL_MANIFEST_CACHE_H

#include "manifest.h"

/* 0 and *mf filled when a valid cache entry exists for this digest. */
int manifest_cache_load(const char *digest, const char *path, manifest *mf);
/* Best effort; never fails the caller. */
void manifest_cache_store(const char *digest, const manifest *mf);

#endif
