#include "cmd_graph.h"

#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/render_html.h"
#include "graph_svg.h"
#include "graph_text.h"
#include "report_data.h"
#include "term.h"

/* The report data, with the database when it can be reached (a warning
 * otherwise). */
static int gather(app *a, const char *role, report_data *rd, int quiet, del_err *err)
{
    del_err ce;
    PGconn *conn = report_connect(a, role, &ce);
    if (!conn && !quiet)
        term_line(stderr, "WARNING: %s; statuses are unknown", ce.msg);
    int rc = report_data_gather(a, conn, rd, err);
    if (conn)
        PQfinish(conn);
    if (rc == 0 && conn && rd->db_error && !quiet)
        term_line(stderr, "WARNING: %s", rd->db_error);
    return rc;
}

static int utf8_terminal(void)
{
    if (!isatty(STDOUT_FILENO))
        return 0;
    setlocale(LC_CTYPE, "");
    const char *cs = nl_langinfo(CODESET);
    int utf8 = cs && (!strcmp(cs, "UTF-8") || !strcmp(cs, "utf8"));
    setlocale(LC_CTYPE, "C");
    return utf8;
}

/* ---- printing ---------------------------------------------------------- */

static void print_graph(const strvec *lines, const sbuf *dot)
{
    if (dot) {
        fwrite(dot->s, 1, dot->len, stdout);
        return;
    }
    for (size_t i = 0; i < lines->n; i++)
        puts(lines->v[i]); /* graph_text escaped them already */
}

int cmd_graph(app *a, int dot, del_err *err)
{
    report_data rd;
    if (gather(a, "graph", &rd, a->o->quiet, err) != 0) {
        report_data_free(&rd);
        return err->code;
    }
    int rc = 0;
    strvec lines = {0};
    sbuf text = {0};
    if (dot) {
        graph_svg_opts go = GRAPH_SVG_OPTS_INIT;
        go.collapse_over = 0; /* dot text for other tools: every node */
        rc = graph_dot(&rd.g, &go, &text, err);
    } else {
        graph_text_opts to = GRAPH_TEXT_OPTS_INIT;
        to.utf8 = utf8_terminal();
        rc = graph_text(&rd.g, &to, &lines, err);
    }
    if (rc == 0)
        print_graph(&lines, dot ? &text : NULL);
    strvec_clear(&lines);
    sbuf_free(&text);
    report_data_free(&rd);
    return rc == 0 ? 0 : err->code;
}

int cmd_report(app *a, const char *out_path, del_err *err)
{
    if (!out_path)
        return del_fail(err, DEL_EUSAGE, "report needs -o FILE, the HTML file to write");
    report_data rd;
    if (gather(a, "report", &rd, a->o->quiet, err) != 0) {
        report_data_free(&rd);
        return err->code;
    }
    graph_svg_opts go = GRAPH_SVG_OPTS_INIT;
    sbuf svg = {0}, page = {0};
    del_err ge;
    html_opts ho = {0};
    if (graph_svg(&rd.g, &go, &svg, &ge) == 0)
        ho.svg = svg.s ? svg.s : "";
    else
        ho.svg_error = ge.msg;
    render_html(&rd, &ho, &page);
    int rc = write_file_atomic(out_path, page.s, page.len, 0644, err);
    if (rc == 0 && !a->o->quiet)
        term_line(stdout, "Wrote %s: %zu migration(s), %zu failed, %zu pending", out_path, rd.n,
                  rd.count[DG_FAILED] + rd.count[DG_HELD], rd.count[DG_PENDING]);
    sbuf_free(&svg);
    sbuf_free(&page);
    report_data_free(&rd);
    return rc == 0 ? 0 : err->code;
}
