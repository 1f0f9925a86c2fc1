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
static int gather(app *a, const char *role, report_data *rd, del_err *err)
{
    const del_notify *n = a->o->notify;
    del_err ce;
    PGconn *conn = report_connect(a, role, &ce);
    if (!conn)
        del_emit_text(n, DEL_EV_WARNING, "WARNING: %s; statuses are unknown", ce.msg);
    int rc = report_data_gather(a, conn, rd, err);
    if (conn)
        PQfinish(conn);
    if (rc == 0 && conn && rd->db_error)
        del_emit_text(n, DEL_EV_WARNING, "WARNING: %s", rd->db_error);
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

/* Result lines (DEL_EV_OUTPUT): graph_text's lines (escaped already), or the
 * dot text line by line, its indenting tabs as spaces (the text renderer
 * shows a tab as \t, as any control character). */
static void print_graph(const del_notify *n, const strvec *lines, const sbuf *dot)
{
    if (!dot) {
        for (size_t i = 0; i < lines->n; i++)
            del_emit_text(n, DEL_EV_OUTPUT, "%s", lines->v[i]);
        return;
    }
    sbuf line = {0};
    for (size_t i = 0; i < dot->len; i++) {
        char ch = dot->s[i];
        if (ch == '\n' || i + 1 == dot->len) {
            if (ch != '\n')
                sbuf_add(&line, &ch, 1);
            del_emit_text(n, DEL_EV_OUTPUT, "%s", line.s ? line.s : "");
            sbuf_free(&line);
            line = (sbuf){0};
        } else if (ch == '\t') {
            sbuf_puts(&line, "    ");
        } else {
            sbuf_add(&line, &ch, 1);
        }
    }
    sbuf_free(&line);
}

int cmd_graph(app *a, int dot, del_err *err)
{
    report_data rd;
    if (gather(a, "graph", &rd, err) != 0) {
        report_data_free(&rd);
        return -1;
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
        print_graph(a->o->notify, &lines, dot ? &text : NULL);
    strvec_clear(&lines);
    sbuf_free(&text);
    report_data_free(&rd);
    return rc == 0 ? 0 : -1;
}

int cmd_report(app *a, const char *out_path, del_err *err)
{
    if (!out_path)
        return del_fail(err, DEL_KIND_USAGE, "report needs -o FILE, the HTML file to write");
    report_data rd;
    if (gather(a, "report", &rd, err) != 0) {
        report_data_free(&rd);
        return -1;
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
    if (rc == 0)
        del_emit_text(a->o->notify, DEL_EV_NOTE, "Wrote %s: %zu migration(s), %zu failed, %zu pending", out_path,
                      rd.n, rd.count[DG_FAILED] + rd.count[DG_HELD], rd.count[DG_PENDING]);
    sbuf_free(&svg);
    sbuf_free(&page);
    report_data_free(&rd);
    return rc == 0 ? 0 : -1;
}
