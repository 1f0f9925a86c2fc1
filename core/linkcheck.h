/* What a plugin may bring into the process besides itself. Its run paths
 * (DT_RPATH, DT_RUNPATH) may only name $ORIGIN or a folder under it that stays
 * inside the bundle; each library it needs (DT_NEEDED, and the filters ld.so
 * also loads) must be part of the C library, libpq, one of the libraries libpq
 * itself needs as loaded in this process, or a library that manifest.yaml
 * lists with its sha256 (checked by the loader). The policy only; the loader
 * applies it to what elfcheck reads. */
#ifndef DEL_LINKCHECK_H
#define DEL_LINKCHECK_H

#include "util.h"

#define LIBPQ_SONAME "libpq.so.5"

/* soname is one of glibc's: libc, libm, libdl, libpthread, librt or the
 * dynamic linker. */
int link_is_libc(const char *soname);
/* The sonames of libpq and of every library it needs, transitively, read
 * from the files this process has loaded (only libpq when it is not loaded). */
void link_libpq_closure(strvec *out);
/* NULL when every entry of a DT_RPATH/DT_RUNPATH value is $ORIGIN or
 * $ORIGIN/<sub> that stays inside the bundle, for an object at rel (its path
 * inside the bundle); otherwise the first entry that does not (malloc'd). An
 * absolute or relative path, an empty entry (the current folder), another
 * $TOKEN or a '..' above the bundle folder are all refused. */
char *link_runpath_escape(const char *value, const char *rel);

#endif
