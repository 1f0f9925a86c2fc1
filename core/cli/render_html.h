/* The history page (delembic report, delembic serve): a renderer of the
 * report data (core/report_data.h) into one self-contained HTML document,
 * beside the text and JSON renderers. No network, no external resource: the
 * style and the script are inline, allowed by their SHA-256 in the page's
 * Content-Security-Policy (no 'unsafe-inline'), the dependency picture and
 * the timeline are inline SVG. Every value from the database or the bundle
 * is escaped (HTML, and control characters, invalid UTF-8 and bidirectional
 * overrides shown as the terminal shows them). Without JavaScript the whole
 * page reads; the script adds filtering and sorting, and on the served page
 * polling of /api/status.json. */
#ifndef DEL_RENDER_HTML_H
#define DEL_RENDER_HTML_H

#include "report_data.h"
#include "util.h"

#define TIMELINE_GAP_S 300.0     /* a pause this long between attempts starts another run */
#define TIMELINE_MAX_RUNS 5      /* the newest runs drawn on the timeline */
#define TIMELINE_WIDTH 1000      /* SVG user units */
#define TIMELINE_LANE_H 22
#define LIVE_POLL_MS 2000        /* how often the served page asks for the status */

typedef struct html_opts {
    int live;                 /* the served page: poll and refresh itself */
    int content_only;         /* just the part that refreshes (<main>'s inside) */
    const char *svg;          /* the dependency picture (graph_svg), or NULL */
    const char *svg_error;    /* why there is none */
} html_opts;

/* Append the page (or, with content_only, its refreshing part) to out. */
void render_html(const report_data *rd, const html_opts *o, sbuf *out);

/* The Content-Security-Policy of the page, for a response header (the page
 * carries it in a meta element too). malloc'd. */
char *render_html_csp(int live);

/* The status document of serve (GET /api/status.json): history --json's
 * keys for each migration, plus summary counts, the run in progress and a
 * fingerprint that changes with any of it. */
void render_status_json(const report_data *rd, const char *fingerprint, sbuf *out);

#endif
