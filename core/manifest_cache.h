/* A parsed-manifest cache. libyaml reads about 12 MB/s, so a 1,000-entry
 * manifest costs ~15 ms to parse; a no-op upgrade should cost little more
 * than connecting. After a successful parse the manifest is stored in a
 * compact binary form under the user's cache folder, together with the exact
 * manifest text it came from; an entry is used only when that text equals
 * the manifest byte for byte, so it can never be stale (the file name is a
 * fast hash of the text, only to find the entry). A missing, unreadable or
 * malformed cache file only means parsing the YAML again. */
#ifndef DEL_MANIFEST_CACHE_H
#define DEL_MANIFEST_CACHE_H

#include "manifest.h"

/* 0 and *mf filled when a valid cache entry exists for exactly this text. */
int manifest_cache_load(const char *text, size_t len, const char *path, manifest *mf);
/* Best effort; never fails the caller. */
void manifest_cache_store(const char *text, size_t len, const manifest *mf);

#endif
