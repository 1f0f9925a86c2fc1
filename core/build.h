/* `delembic build`: compile every .c of the script folder into its own .so
 * (incrementally, in parallel, with the compiler's own file:line errors),
 * copy the data/ folder, read each descriptor and write manifest.yaml with the
 * Alembic graph. */
#ifndef DEL_BUILD_H
#define DEL_BUILD_H

#include "app.h"

typedef struct build_args {
    const char *out_dir;    /* -o, else the section's build_dir */
    int jobs;               /* 0: number of cores */
} build_args;

typedef struct build_stats {
    size_t sources, compiled, removed;
} build_stats;

int cmd_build(app *a, const build_args *ba, build_stats *stats, del_err *err);

/* SDK flags for compiling a migration with this delembic: -I and the archive. */
void build_sdk_paths(const app_env *env, const char **include_dir, const char **archive);

#endif
