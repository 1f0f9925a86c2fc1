/* The JSON renderer (see render.h): --json prints one document per run, the
 * one the command built from its results; debug lines (-v) go to stderr. */
#include "render.h"

#include <stdio.h>

void render_json_init(render_json *r, int verbose)
{
    *r = (render_json){.verbose = verbose};
}

void render_json_event(const del_event *ev, void *payload)
{
    render_json *r = payload;
    if (ev->type == DEL_EV_DOCUMENT) {
        fputs(ev->text, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        r->documented = 1;
    } else if (ev->type == DEL_EV_DEBUG && r->verbose) {
        render_line(stderr, "debug: %s", ev->text);
    }
}
