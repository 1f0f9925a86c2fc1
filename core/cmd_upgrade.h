/* `delembic upgrade [head|REV]`: plan, check Alembic and holds, take the
 * lock, run. */
#ifndef DEL_CMD_UPGRADE_H
#define DEL_CMD_UPGRADE_H

#include "app.h"

typedef struct upgrade_args {
    const char *target;      /* NULL/"head" or a revision */
    int jobs;                /* 0: the section's jobs */
    int dry_run;
    int strict;              /* drift is an error */
    double lock_timeout;     /* seconds; < 0 waits for ever */
    double timeout;          /* --timeout: seconds per migration; 0 uses the section's */
    int allow_older_bundle;  /* --allow-older-bundle: no rollback protection (trust_run.h) */
} upgrade_args;

/* Returns the exit code; err holds the message for nonzero codes. */
int cmd_upgrade(app *a, const upgrade_args *u, del_err *err);

#endif
