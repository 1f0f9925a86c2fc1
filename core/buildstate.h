/* Build state: what `delembic build` keeps between runs, beside the bundle
 * and never inside it, in <parent>/.<bundle-name>.build-state/:
 *
 *   obj/NAME.so   the compiled migration (the bundle hard-links it)
 *   NAME.d        the compiler's dependency list (-MD: system headers too)
 *   NAME.cmd      the compile key: command line, SDK digest, identity version
 *   NAME.id       identity, .so sha256, and the inputs it was compiled from
 *   inputs        every source and local header of the bundle last built,
 *                 with size, mtime and sha256 (read by the stale check of
 *                 upgrade and verify)
 *   lock          one build at a time
 *
 * Input records are lines "input SHA256 SIZE SEC NSEC PATH": in NAME.id an
 * absolute PATH; in inputs, PATH from the project folder when inside it (so
 * a project copied or moved with its build folder keeps its record). */
#ifndef DEL_BUILDSTATE_H
#define DEL_BUILDSTATE_H

#include "err.h"
#include "sha256.h"
#include "util.h"

#define BUILDSTATE_INPUTS "inputs"
#define BUILDSTATE_INPUTS_HEADER "delembic-build-inputs 2\n"
#define BUILDSTATE_INPUTS_HEADER_V1 "delembic-build-inputs 1\n"   /* absolute paths only */
#define BUILDSTATE_MAX_BYTES (64u << 20)

typedef struct srcfile {
    char *path;                   /* absolute (relative to the project only in the inputs file) */
    long long size, sec, nsec;    /* as seen before it was compiled */
    char sha256[SHA256_HEX_LEN + 1];
} srcfile;

typedef struct srcset {
    srcfile *f;
    size_t n, cap;
    strmap idx;                   /* path -> index */
} srcset;

/* <parent>/.<bundle-name>.build-state for an absolute bundle folder (malloc'd). */
char *buildstate_dir(const char *bundle_dir);

void srcset_free(srcset *s);
const srcfile *srcset_find(const srcset *s, const char *path);
/* Add a copy of f unless its path is there already. */
void srcset_add(srcset *s, const srcfile *f);
/* Read the "input" lines of text (others are skipped; a damaged line ends
 * the read). The text's newlines become NULs. */
void srcset_parse(char *text, srcset *s);
/* The "input" lines; paths inside base (may be NULL) relative to it. */
void srcset_format(const srcset *s, const char *base, sbuf *out);
/* Record path as it is now: stat it, reuse the sha256 known for the same
 * size and mtime, else hash the file. */
int srcset_snap(srcset *s, const char *path, const srcset *known, del_err *err);
/* Does the file's size or mtime differ from the record now (or is it gone)? */
int srcfile_moved(const srcfile *f);

/* The sources changed since the bundle was built: recorded inputs whose
 * content differs or that are gone, and sources of script_dir never built.
 * Only files whose size or mtime moved are hashed. Paths are given relative
 * to project_dir when inside it, sorted. No record (built by an earlier
 * version, or never by this checkout): nothing is stale. */
void buildstate_stale(const char *bundle_dir, const char *project_dir, const char *script_dir, strvec *stale);

#endif
