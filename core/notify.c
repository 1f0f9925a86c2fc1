/* The output model's plumbing (see notify.h): hand events to the caller. */
#include "notify.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

void del_emit(const del_notify *n, const del_event *ev)
{
    if (n && n->event_cb)
        n->event_cb(ev, n->payload);
}

void del_emit_result(const del_notify *n, int result_type, const void *result)
{
    del_event ev = {.type = DEL_EV_RESULT, .result_type = result_type, .result = result};
    del_emit(n, &ev);
}

void del_emit_progress(const del_notify *n, const del_progress *p)
{
    if (n && n->progress_cb)
        n->progress_cb(p, n->payload);
}

int del_listening(const del_notify *n)
{
    return n && n->event_cb;
}

void del_emit_vtext(const del_notify *n, del_event_type type, const char *fmt, va_list ap)
{
    if (!del_listening(n))
        return;
    char *text = NULL;
    if (vasprintf(&text, fmt, ap) < 0)
        text = NULL;
    del_event ev = {.type = type, .text = text ? text : ""};
    del_emit(n, &ev);
    free(text);
}

void del_emit_text(const del_notify *n, del_event_type type, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    del_emit_vtext(n, type, fmt, ap);
    va_end(ap);
}
