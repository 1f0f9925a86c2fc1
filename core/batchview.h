/* What history and show say of a migration under way: a batched migration
 * with its checkpoint (rows done, total, batches, batch size, pace, time
 * left), or a non-transactional one whose `running` claim is committed.
 * Its status: `running` while a run holds the lock, `paused` after SIGINT or
 * SIGTERM, `failed` when its last run failed (a batch that kept timing out
 * on a lock), else `interrupted` (the run died: the next upgrade resumes
 * it). Pure but for the JSON it writes; cmd_status.c and cmd_ops.c call it. */
#ifndef DEL_BATCHVIEW_H
#define DEL_BATCHVIEW_H

#include "json.h"
#include "store.h"

typedef struct batch_view {
    const store_checkpoint *cp;
    const char *status;   /* running | paused | interrupted | failed */
    double percent;       /* of the total; -1 unknown */
    double rate;          /* rows per second at its latest pace; -1 unknown */
    double seconds_left;  /* -1 unknown */
} batch_view;

/* lock_held: a run holds the run lock now; failed: its version row says
 * failed; pause_seconds: the section's batch_pause (the pace counts it). */
void batchview_make(batch_view *v, const store_checkpoint *cp, int lock_held, int failed,
                    double pause_seconds);
/* The checkpoint of revision among cps (NULL when none). */
const store_checkpoint *batchview_find(const store_checkpoint *cps, size_t n, const char *revision);
/* Whether any of cps says running (then the lock holder says whether it is). */
int batchview_any_running(const store_checkpoint *cps, size_t n);
/* One line: "12300 of 30000 rows (41%) in 123 batches, batch size 100,
 * 2460 rows/s, about 7 s left"; for a non-transactional migration "no
 * transaction, started 2026-... (runs again from the start when
 * interrupted)". malloc'd. */
char *batchview_progress(const batch_view *v);
/* "paused at 2026-11-28 01:02:03+00 by ann@db1" (the checkpoint's latest
 * update). malloc'd. */
char *batchview_when(const batch_view *v);
/* The "progress" member: an object, or null for v NULL. with_cursor adds the
 * cursor (show). */
void batchview_json(json *js, const char *key, const batch_view *v, int with_cursor);

#endif
