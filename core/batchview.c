#include "batchview.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pace.h"
#include "util.h"

static int is(const char *a, const char *b)
{
    return a && !strcmp(a, b);
}

void batchview_make(batch_view *v, const store_checkpoint *cp, int lock_held, int failed,
                    double pause_seconds)
{
    memset(v, 0, sizeof *v);
    v->cp = cp;
    if (is(cp->state, STORE_CP_PAUSED))
        v->status = store_status_name(STORE_PAUSED);
    else if (lock_held)
        v->status = store_status_name(STORE_RUNNING);
    else if (failed)
        v->status = store_status_name(STORE_FAILED);
    else
        v->status = store_status_name(STORE_INTERRUPTED);
    int batched = is(cp->mode, STORE_MODE_BATCHED);
    v->percent = batched ? pace_percent(cp->rows_done, cp->total) : -1;
    v->rate = batched ? pace_checkpoint_rate(cp->rows_done, cp->started_epoch, cp->updated_epoch,
                                             cp->batch_size, cp->last_batch_seconds, pause_seconds)
                      : -1;
    v->seconds_left = batched ? pace_eta(cp->rows_done, cp->total, v->rate) : -1;
}

const store_checkpoint *batchview_find(const store_checkpoint *cps, size_t n, const char *revision)
{
    for (size_t i = 0; revision && i < n; i++)
        if (is(cps[i].revision, revision))
            return &cps[i];
    return NULL;
}

int batchview_any_running(const store_checkpoint *cps, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (is(cps[i].state, STORE_CP_RUNNING))
            return 1;
    return 0;
}

char *batchview_progress(const batch_view *v)
{
    const store_checkpoint *cp = v->cp;
    if (!is(cp->mode, STORE_MODE_BATCHED))
        return xasprintf("no transaction, started %s (runs again from the start when interrupted)",
                         cp->started_at ? cp->started_at : "?");
    char amount[96], size[64] = "", rate[64] = "", left[64] = "";
    if (cp->total > 0)
        snprintf(amount, sizeof amount, "%lld of %lld rows (%.0f%%)", cp->rows_done, cp->total, v->percent);
    else
        snprintf(amount, sizeof amount, "%lld rows", cp->rows_done);
    if (cp->batch_size > 0)
        snprintf(size, sizeof size, ", batch size %lld", cp->batch_size);
    if (v->rate > 0) {
        char r[48];
        pace_format_rate(v->rate, "rows", r, sizeof r);
        snprintf(rate, sizeof rate, ", %s", r);
    }
    if (v->seconds_left > 0) {
        char l[48];
        pace_format_left(v->seconds_left, l, sizeof l);
        snprintf(left, sizeof left, ", about %s left", l);
    }
    return xasprintf("%s in %lld batch%s%s%s%s", amount, cp->batches, cp->batches == 1 ? "" : "es", size, rate,
                     left);
}

char *batchview_when(const batch_view *v)
{
    const store_checkpoint *cp = v->cp;
    const char *at = cp->updated_at ? cp->updated_at : "?";
    if (cp->username || cp->hostname)
        return xasprintf("%s at %s by %s@%s", v->status, at, cp->username ? cp->username : "?",
                         cp->hostname ? cp->hostname : "?");
    return xasprintf("%s at %s", v->status, at);
}

void batchview_json(json *js, const char *key, const batch_view *v, int with_cursor)
{
    if (!v) {
        json_str(js, key, NULL);
        return;
    }
    const store_checkpoint *cp = v->cp;
    int batched = is(cp->mode, STORE_MODE_BATCHED);
    json_obj_open(js, key);
    json_str(js, "mode", cp->mode);
    json_str(js, "state", v->status);
    /* a non-transactional migration counts neither rows nor batches */
    if (batched)
        json_int(js, "rows_done", cp->rows_done);
    else
        json_str(js, "rows_done", NULL);
    if (cp->total >= 0)
        json_int(js, "total", cp->total);
    else
        json_str(js, "total", NULL);
    json_num(js, "percent", v->percent >= 0 ? v->percent : NAN);
    if (batched)
        json_int(js, "batches", cp->batches);
    else
        json_str(js, "batches", NULL);
    if (batched && cp->batch_size > 0)
        json_int(js, "batch_size", cp->batch_size);
    else
        json_str(js, "batch_size", NULL);
    json_num(js, "last_batch_seconds", cp->last_batch_seconds >= 0 ? cp->last_batch_seconds : NAN);
    json_num(js, "rows_per_second", v->rate > 0 ? v->rate : NAN);
    json_num(js, "seconds_left", v->seconds_left >= 0 ? v->seconds_left : NAN);
    json_str(js, "started_at", cp->started_at);
    json_str(js, "updated_at", cp->updated_at);
    json_str(js, "username", cp->username);
    json_str(js, "hostname", cp->hostname);
    if (with_cursor)
        json_str(js, "cursor", cp->cursor);
    json_obj_close(js);
}
