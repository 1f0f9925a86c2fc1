/* store: operator actions on the records (stamp, forget, repair): each call is one
 * transaction, on the session that holds the run lock, that changes the
 * version rows and adds one history row per revision saying what was done,
 * by whom (OS user), from which host and when. A kill -9 leaves all of it
 * done or none of it. */
#ifndef DEL_STORE_OPS_H
#define DEL_STORE_OPS_H

#include <libpq-fe.h>

#include "err.h"
#include "store.h"

typedef enum op_kind {
    OP_STAMP,      /* version row success (not run), checkpoint removed, history `stamped` */
    OP_FORGET,     /* version row and checkpoint removed, history `forgotten` */
    OP_ACCEPT,     /* version row's checksum set to the bundle's identity, history `repaired` */
    OP_DROP,       /* version row removed (missing from the bundle), history `repaired` */
} op_kind;

typedef struct op_change {
    op_kind kind;
    const char *revision;
    const char *checksum;  /* OP_STAMP, OP_ACCEPT: the bundle's identity; else the row's (may be NULL) */
    const char *note;      /* the history row's exception column: what was done, in words */
} op_change;

/* Apply changes[0..n) in one transaction; the lock must be held by conn. */
int oprecord_apply(PGconn *conn, const char *schema, const op_change *changes, size_t n,
                   del_err *err);

#endif
