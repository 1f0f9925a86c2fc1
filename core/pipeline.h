/* `delembic pipeline init|generate|run`: interleave `alembic upgrade REV`
 * with `delembic upgrade REV` so each data migration runs right after the
 * schema it needs. pipeline.yaml:
 *   steps:
 *     - {name: schema to 3d1e, type: alembic, target: 3d1e3e6abc12}
 *     - {name: data D001, type: delembic, target: D001}
 */
#ifndef DEL_PIPELINE_H
#define DEL_PIPELINE_H

#include "app.h"
#include "bundle.h"

typedef struct pstep {
    char *name;
    char *type;    /* alembic | delembic */
    char *target;
} pstep;

typedef struct pipeline {
    pstep *steps;
    size_t n;
} pipeline;

void pipeline_free(pipeline *p);
int pipeline_parse(const char *name, const char *text, size_t len, pipeline *p, del_err *err);
/* The interleaved steps for a bundle (its manifest's Alembic graph). */
int pipeline_generate(const bundle *b, pipeline *p, del_err *err);
char *pipeline_to_yaml(const pipeline *p);

int cmd_pipeline_init(app *a, del_err *err);
/* Writes the steps to output (default: the section's pipeline file), which
 * must not exist unless force; print: to stdout instead. */
int cmd_pipeline_generate(app *a, const char *output, int print, int force, del_err *err);
/* Returns the exit code of the failing step, or 0. */
int cmd_pipeline_run(app *a, const char *file, int autogen, del_err *err);

#endif
