/* Reading the descriptors of built plugins (for build's manifest and for
 * verify) in a child process, so a plugin that crashes while loading takes
 * down the child, not delembic. */
#ifndef DEL_INSPECT_H
#define DEL_INSPECT_H

#include "err.h"
#include "util.h"

typedef struct plugin_info {
    char *error;            /* NULL when the descriptor was read */
    char *revision;
    char *description;
    strvec depends_on;
    char sha256[65];
} plugin_info;

/* files are names inside dir. Always fills out[0..n); returns -1 only when
 * the child cannot be started. */
int inspect_plugins(const char *dir, char *const *files, size_t n, plugin_info *out, del_err *err);
void plugin_info_free(plugin_info *pi);

#endif
