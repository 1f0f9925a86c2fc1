/* `delembic downgrade REV | -1 | base`: undo applied migrations with their
 * optional downgrade callbacks, in the workers that run upgrades (executor
 * with exec_opts.downgrade): REV and the applied migrations that depend on
 * it, latest first; -1 the latest applied head; base everything applied.
 * Each step is one transaction with the removal of its version row and a
 * `downgraded` history row. Before anything runs, every planned plugin's
 * descriptor is read (in a child, inspect.h): one without a downgrade
 * callback, or a planned record the bundle lacks, stops the plan, named. */
#ifndef DEL_CMD_DOWNGRADE_H
#define DEL_CMD_DOWNGRADE_H

#include "app.h"

typedef struct downgrade_args {
    const char *target;     /* REV, "-1" or "base" */
    int dry_run;
    double lock_timeout;    /* < 0: wait for ever */
    double timeout;         /* per step, seconds; 0: the section's */
} downgrade_args;

/* 0 or -1; reports its own output through a->o->notify (one JSON document with --json). */
int cmd_downgrade(app *a, const downgrade_args *d, del_err *err);

#endif
