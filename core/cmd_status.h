/* `delembic current` and `delembic history`: the database state against the bundle. */
#ifndef DEL_CMD_STATUS_H
#define DEL_CMD_STATUS_H

#include "app.h"

int cmd_current(app *a, del_err *err);
/* all: every attempt (delembic_run_history), not only the latest state per revision */
int cmd_history(app *a, int all, del_err *err);

#endif
