/* A parsed-manifest cache. libyaml reads about 30 MB/s, so a 1,000-entry
 * manifest costs ~5-15 ms to parse; a no-op upgrade should cost little more
 * than connecting. After a successful parse the manifest is stored in a
 * compact binary form under the user's cache folder, named by the SHA-256 of
 * the manifest's text.
 *
 * An entry never stands in for manifest.yaml:
 *  - it is read only from a folder and a file owned by the invoking user or
 *    root and writable by nobody else, a regular file opened without
 *    following a symbolic link (the folders the cache creates are 0700): only
 *    someone who could already act as the user (or root) can write one;
 *  - it carries the SHA-256 of the text it was parsed from, which must be the
 *    SHA-256 of the manifest.yaml being read (so it can never be stale), and
 *    the SHA-256 of its own payload, which must match (so a torn or
 *    corrupted entry is never used). It was written only after that very
 *    text parsed and passed every check of manifest_parse.
 * A missing, unreadable, untrusted or malformed entry only means parsing the
 * YAML again. */
#ifndef DEL_MANIFEST_CACHE_H
#define DEL_MANIFEST_CACHE_H

#include "manifest.h"

/* The cache's folder: cache_dir ($DELEMBIC_CACHE_DIR) when set, else
 * xdg_cache_home/delembic, else home/.cache/delembic; -1 and "" for no cache
 * (cache_dir "off", or nothing usable). The CLI reads the variables once
 * (app_env) and passes the folder down: cdir below, NULL or "" for none. */
int manifest_cache_dir(const char *cache_dir, const char *xdg_cache_home, const char *home, char *out,
                       size_t outsz);

/* bundle_dir/manifest.yaml: read, then taken from the cache in cdir when a
 * trusted entry says exactly its text, else parsed (manifest_parse) and
 * cached. The cache sits above the parser: manifest.c knows nothing of it. */
int manifest_load(const char *bundle_dir, const char *cdir, manifest *mf, del_err *err);

/* 0 and *mf filled when a trusted entry in cdir says exactly this text. */
int manifest_cache_load(const char *cdir, const char *text, size_t len, const char *path, manifest *mf);
/* Best effort; never fails the caller. */
void manifest_cache_store(const char *cdir, const char *text, size_t len, const manifest *mf);

#endif
