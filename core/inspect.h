/* Reading the descriptors of built plugins (for build's manifest and for
 * verify) in a child process, so a plugin that crashes while loading takes
 * down the child, not delembic, and one whose constructor spins is killed
 * after INSPECT_TIMEOUT_S (DELEMBIC_LOAD_TIMEOUT overrides it). */
#ifndef DEL_INSPECT_H
#define DEL_INSPECT_H

#include "err.h"
#include "manifest.h"
#include "util.h"

/* seconds one plugin may take to load and unload in the child */
#define INSPECT_TIMEOUT_S 30

typedef struct plugin_info {
    char *error;            /* NULL when the descriptor was read */
    char *revision;
    char *description;
    strvec depends_on;
    char sha256[65];
    int has_downgrade;      /* the descriptor has a downgrade callback */
} plugin_info;

/* One file to read the descriptor of. */
typedef struct inspect_item {
    const char *file;       /* a name inside dir */
    const char *sha256;     /* what it must hash to, checked on the descriptor
                             * that is loaded; NULL: not checked */
    const char *name;       /* for messages; NULL: dir/file */
} inspect_item;

/* With a manifest (verify), each file is loaded as a run loads it
 * (loader_load_verified: what it brings in checked, listed libraries
 * verified and loaded first); without one (build, before there is a
 * manifest), as it is. Always fills out[0..n); returns -1 only when the
 * child cannot be started (or load_timeout_env, the value of
 * LOAD_TIMEOUT_ENV or NULL, is not a number of seconds). */
#define LOAD_TIMEOUT_ENV "DELEMBIC_LOAD_TIMEOUT"
int inspect_plugins(const char *dir, const manifest *mf, const inspect_item *items, size_t n,
                    const char *load_timeout_env, plugin_info *out, del_err *err);
void plugin_info_free(plugin_info *pi);
/* A descriptor read without error whose text can go into manifest.yaml:
 * revision, description and each depends_on entry valid UTF-8 without
 * control characters. Else -1, the message naming source and the field. */
int plugin_info_check(const plugin_info *pi, const char *source, del_err *err);

/* Where s stops being text a manifest can carry: NULL when it is valid
 * UTF-8 without control characters (C0, DEL, C1), else why, with *at the
 * byte offset and *byte the byte there. */
const char *inspect_text_problem(const char *s, size_t *at, unsigned *byte);

#endif
