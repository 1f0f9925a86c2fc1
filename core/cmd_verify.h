/* `delembic verify`: every check a bundle can fail, one line per problem,
 * then drift against the database when one is configured. */
#ifndef DEL_CMD_VERIFY_H
#define DEL_CMD_VERIFY_H

#include "app.h"

typedef struct verify_args {
    int strict;          /* drift counts as a problem */
    int offline;         /* never touch the database */
} verify_args;

int cmd_verify(app *a, const verify_args *v, del_err *err);

#endif
