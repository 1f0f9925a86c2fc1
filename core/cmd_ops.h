/* Operating a live database: `stamp`, `forget`, `repair` and `show` (and
 * cmd_downgrade.h). Every action takes the run lock, is one transaction with
 * its history rows (store_ops.h), and prints through one render function per
 * command at the end of cmd_ops.c, from a result the logic filled. */
#ifndef DEL_CMD_OPS_H
#define DEL_CMD_OPS_H

#include "app.h"

typedef struct ops_args {
    char **revs;            /* the revisions named on the command line */
    int nrevs;
    int all_pending;        /* stamp --all-pending */
    const char *through;    /* stamp --through REV */
    int dry_run;
    int cascade;            /* forget --cascade */
    int yes;                /* repair --yes */
    double lock_timeout;    /* < 0: wait for ever */
} ops_args;

/* Each returns 0 or -1 and reports its own output through a->o->notify (one JSON document
 * with --json, the error included). */
int cmd_stamp(app *a, const ops_args *o, del_err *err);
int cmd_forget(app *a, const ops_args *o, del_err *err);
int cmd_repair(app *a, const ops_args *o, del_err *err);
int cmd_show(app *a, const char *rev, del_err *err);

#endif
