/* manifest.yaml: the table of contents of a bundle. Written by build (libyaml
 * emitter), read by upgrade and verify. Format 1:
 *
 *   format: 1
 *   abi: 1
 *   migrations:
 *     - revision: D001
 *       file: D001_load_vocabulary.so
 *       sha256: 5f1c...
 *       identity: 9be0...         (optional: the code identity drift compares)
 *       description: Load OMOP vocabulary tables
 *       depends_on: [3d1e3e6abc12]
 *       alembic: [3d1e3e6abc12]
 *   alembic:
 *     version_table: alembic_version
 *     graph:
 *       3d1e3e6abc12: [9a0b1c2d3e4f]
 *       9a0b1c2d3e4f: []
 *   libraries:                       # optional: shared libraries the plugins need,
 *     - file: lib/libfoo.so.1        # shipped in the bundle (the base name is the
 *       sha256: 9b2e...              # soname) and pinned like the plugins
 */
#ifndef DEL_MANIFEST_H
#define DEL_MANIFEST_H

#include "algraph.h"
#include "err.h"
#include "util.h"

#define MANIFEST_FILE "manifest.yaml"
#define MANIFEST_FORMAT 1
#define MANIFEST_MAX_BYTES (64u << 20)
#define MANIFEST_MAX_ABI 1000000
#define MANIFEST_MAX_PATH 1024     /* a library's path inside the bundle */

typedef struct mentry {
    char *revision;
    char *file;        /* base name of the .so inside the bundle */
    char *sha256;      /* of the .so: what was shipped */
    char *identity;    /* code identity (64 hex), NULL before manifests had it */
    char *description;
    strvec depends_on;
    strvec alembic;    /* the Alembic revisions among depends_on */
    size_t line;       /* for parse errors; 0 when read from the cache */
} mentry;

typedef struct mlib {
    char *file;        /* path inside the bundle; its base name is its soname */
    char *sha256;
} mlib;

typedef struct manifest {
    char *path;        /* for messages */
    int format;
    int abi;
    mentry *m;
    size_t n, cap;
    int has_alembic;
    char *version_table;
    algraph graph;
    strmap by_revision;  /* revision -> entry (built by manifest_add and parse) */
    strmap by_file;      /* file -> entry */
    mlib *libs;          /* libraries: */
    size_t nlibs;
} manifest;

int manifest_parse(const char *name, const char *text, size_t len, manifest *mf, del_err *err);
int manifest_write(const char *bundle_dir, const manifest *mf, del_err *err);
/* Serialise to YAML text (malloc'd). */
int manifest_emit(const manifest *mf, char **out, size_t *len, del_err *err);
/* 1 when manifest_emit would write exactly text (compared as it is emitted). */
int manifest_emits_as(const manifest *mf, const char *text, size_t len);
/* 0 when every value of mf is one that manifest_parse accepts (valid ids,
 * names and digests, no duplicates, a sound graph); -1 otherwise. With
 * manifest_emits_as, this is how the cache proves that an entry says exactly
 * what manifest.yaml says: parsing the emitter's text gives back what it was
 * given (values YAML would read as null are written quoted). */
int manifest_check_values(const manifest *mf);
void manifest_free(manifest *mf);
long manifest_find(const manifest *mf, const char *revision);
mentry *manifest_add(manifest *mf);
mlib *manifest_add_library(manifest *mf);
/* The listed library whose soname (file base name) is soname, or -1. */
long manifest_find_library(const manifest *mf, const char *soname);

#endif
