#include "render_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "json.h"
#include "term.h"

/* ---- escaping ---------------------------------------------------------- */

/* Text for HTML (element content and quoted attributes): valid UTF-8, the
 * five markup characters as entities, control characters (but newline and
 * tab in pre), DEL, C1 controls, line separators and bidirectional
 * overrides shown escaped as on a terminal. */
static void html_text_ex(sbuf *b, const char *s, int keep_newlines)
{
    if (!s)
        return;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned c = *p;
        if (c < 0x80) {
            switch (c) {
            case '&': sbuf_puts(b, "&amp;"); break;
            case '<': sbuf_puts(b, "&lt;"); break;
            case '>': sbuf_puts(b, "&gt;"); break;
            case '"': sbuf_puts(b, "&quot;"); break;
            case '\'': sbuf_puts(b, "&#39;"); break;
            case '\n':
                sbuf_puts(b, keep_newlines ? "\n" : "\\n");
                break;
            case '\t':
                sbuf_puts(b, keep_newlines ? "\t" : "\\t");
                break;
            default:
                if (c < 0x20 || c == 0x7f)
                    sbuf_printf(b, "\\x%02x", c);
                else
                    sbuf_add(b, (const char *)p, 1);
            }
            p++;
            continue;
        }
        unsigned cp;
        size_t n = utf8_seq_len(p, &cp);
        if (n == 0) {
            sbuf_printf(b, "\\x%02x", c);
            p++;
            continue;
        }
        if ((cp >= 0x80 && cp < 0xa0) || cp == 0x2028 || cp == 0x2029 || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e || cp == 0x200f || cp == 0x061c)
            sbuf_printf(b, "\\u%04x", cp);
        else
            sbuf_add(b, (const char *)p, n);
        p += n;
    }
}

static void h(sbuf *b, const char *s)
{
    html_text_ex(b, s, 0);
}

/* An id for an element: the revision with any byte but letters, digits, '_'
 * and '-' written as ".xx" (as graph_svg's node ids), so it is unique. */
static void html_id(sbuf *b, const char *prefix, const char *rev)
{
    sbuf_puts(b, prefix);
    for (const unsigned char *p = (const unsigned char *)rev; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
            *p == '-')
            sbuf_add(b, (const char *)p, 1);
        else
            sbuf_printf(b, ".%02x", *p);
    }
}

/* ---- style and script (inline, allowed by hash) ------------------------ */

static const char page_css[] =
    ":root{--fg:#1b1b1b;--muted:#595959;--line:#d0d0d0;--bg:#fff;--panel:#f6f6f6;"
    "--applied:#009e73;--applied-bg:#d5f0e5;--failed:#d55e00;--failed-bg:#f8d3bf;--pending:#595959;"
    "--pending-bg:#fff;--changed:#b57d00;--changed-bg:#fbe6b8;--missing:#737373;--missing-bg:#ebebeb;"
    "--orphaned:#cc79a7;--orphaned-bg:#f5dcea;--held:#000;--held-bg:#f7f1b0;--running:#0072b2;"
    "--running-bg:#cde4f3;--paused:#56b4e9;--paused-bg:#e0f1fb;--unknown:#000;--unknown-bg:#fff}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
    "color:var(--fg);background:var(--bg)}"
    "header,main{max-width:1400px;margin:0 auto;padding:0 16px}"
    "header{padding-top:12px;border-bottom:1px solid var(--line)}"
    "h1{font-size:1.5rem;margin:.3em 0}h2{font-size:1.2rem;margin:1.4em 0 .5em}h3{font-size:1rem;margin:.8em 0 .3em}"
    "code,pre,.rev{font-family:'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.9em}"
    "pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--panel);padding:8px;border-left:4px solid var(--failed);margin:.3em 0}"
    ".meta{color:var(--muted);margin:.2em 0 .8em;overflow-wrap:anywhere}"
    ".skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:4px;z-index:2}"
    "a:focus,button:focus,summary:focus,input:focus,select:focus,[tabindex]:focus{outline:3px solid #0072b2;outline-offset:2px}"
    ".counts{display:flex;flex-wrap:wrap;gap:8px;list-style:none;padding:0;margin:0}"
    ".counts li{border:2px solid var(--line);border-radius:6px;padding:6px 12px;min-width:7.5em;background:var(--panel)}"
    ".counts .n{display:block;font-size:1.4rem;font-weight:700}"
    ".st{display:inline-block;border:2px solid;border-radius:4px;padding:0 6px;font-size:.85em;font-weight:600;white-space:nowrap}"
    ".st-applied{border-color:var(--applied);background:var(--applied-bg)}"
    ".st-failed{border-color:var(--failed);background:var(--failed-bg);border-width:3px}"
    ".st-pending{border-color:var(--pending);background:var(--pending-bg);border-style:dashed}"
    ".st-changed{border-color:var(--changed);background:var(--changed-bg);border-style:double;border-width:4px}"
    ".st-missing{border-color:var(--missing);background:var(--missing-bg);border-style:dotted}"
    ".st-orphaned{border-color:var(--orphaned);background:var(--orphaned-bg)}"
    ".st-held{border-color:var(--held);background:var(--held-bg);border-style:dashed;border-width:3px}"
    ".st-running{border-color:var(--running);background:var(--running-bg);border-width:3px;border-radius:10px}"
    ".st-paused{border-color:var(--paused);background:var(--paused-bg);border-style:dotted;border-width:3px}"
    ".st-unknown{border-color:var(--unknown)}"
    ".scroll{overflow:auto;max-width:100%;border:1px solid var(--line);border-radius:6px}"
    ".graph{max-height:80vh}.graph svg{display:block}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);vertical-align:top}"
    "td.num,th.num{text-align:right;white-space:nowrap}"
    "th button{font:inherit;font-weight:700;background:none;border:0;padding:0;cursor:pointer;color:inherit}"
    "th button::after{content:' \\2195';color:var(--muted)}"
    ".tools{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:.5em 0}"
    ".tools input,.tools select{font:inherit;padding:4px 6px}"
    "details{border-bottom:1px solid var(--line);padding:4px 0}summary{cursor:pointer}"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:.4em 0 .6em}"
    "dt{color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}"
    ".tl{min-width:640px}.tl text{font:11px sans-serif}.tl .lane{fill:#f2f2f2}"
    ".tl .bar{stroke-width:1.5}.tl .bar.success{fill:var(--applied-bg);stroke:var(--applied)}"
    ".tl .bar.failed{fill:var(--failed-bg);stroke:var(--failed);stroke-width:3}"
    ".tl .bar.other{fill:var(--missing-bg);stroke:var(--missing)}"
    ".live{color:var(--muted);font-size:.9em}"
    ".warn{border-left:4px solid var(--changed);background:var(--changed-bg);padding:6px 10px}"
    "@media (max-width:700px){body{font-size:14px}header,main{padding:0 8px}"
    ".hide-narrow{display:none}.counts li{min-width:6em;padding:4px 8px}dl{grid-template-columns:1fr}}"
    "#timeline,#migrations,#failures{content-visibility:auto;contain-intrinsic-size:auto 1200px}"
    "[hidden]{display:none!important}";

/* Filtering and sorting of the migrations table; on the served page, a poll
 * of the status document that reloads the page's content when it changed. It
 * never builds markup from data: the content it swaps in is the server's own
 * escaped HTML, parsed inertly. */
static const char page_js[] =
    "(function(){'use strict';"
    "var d=document;"
    "function q(s,e){return (e||d).querySelector(s)}"
    "function qa(s,e){return Array.prototype.slice.call((e||d).querySelectorAll(s))}"
    "var only=null;"
    "function filter(){var f=q('#filter'),s=q('#status-filter');if(!f||!s)return;"
    "var t=f.value.toLowerCase(),v=s.value,n=0;"
    "qa('#mig-table tbody tr').forEach(function(r){var ok=(!v||r.getAttribute('data-status')===v)&&"
    "(!t||r.textContent.toLowerCase().indexOf(t)>=0)&&(!only||only[r.children[1].textContent]);r.hidden=!ok;if(ok)n++});"
    "var c=q('#shown');if(c)c.textContent=n+' shown';var a=q('#all');if(a)a.hidden=!only}"
    /* a collapsed run of the picture: the table shows its members */
    "function expand(g){var t=q('title',g),m=t?/: (.*)$/.exec(t.textContent):null;if(!m)return;only={};"
    "m[1].split(', ').forEach(function(r){only[r]=1});filter();var h=q('#migrations');if(h)h.scrollIntoView()}"
    "function sorter(){qa('#mig-table th[data-key]').forEach(function(th,i){"
    "var b=d.createElement('button');b.type='button';b.textContent=th.textContent;th.textContent='';th.appendChild(b);"
    "b.addEventListener('click',function(){var tb=q('#mig-table tbody'),rows=qa('tr',tb),"
    "k=th.getAttribute('data-key'),num=th.classList.contains('num'),asc=th.getAttribute('aria-sort')!=='ascending';"
    "qa('#mig-table th').forEach(function(o){o.removeAttribute('aria-sort')});"
    "th.setAttribute('aria-sort',asc?'ascending':'descending');"
    "rows.sort(function(x,y){var a=x.children[i].getAttribute('data-v')||x.children[i].textContent,"
    "c=y.children[i].getAttribute('data-v')||y.children[i].textContent,r;"
    "if(num){r=(parseFloat(a)||0)-(parseFloat(c)||0)}else{r=a.localeCompare(c,undefined,{numeric:true})}"
    "return asc?r:-r});rows.forEach(function(r){tb.appendChild(r)})})})}"
    "function tools(){var t=q('#mig-tools');if(!t)return;t.hidden=false;"
    "q('#filter').addEventListener('input',filter);q('#status-filter').addEventListener('change',filter);"
    "sorter();filter();"
    "var a=q('#all');if(a)a.addEventListener('click',function(){only=null;filter()});"
    "qa('svg g.node').forEach(function(g){var id=g.id||'';if(/^chain-m-/.test(id)){"
    "g.setAttribute('tabindex','0');g.setAttribute('role','button');"
    "g.addEventListener('click',function(){expand(g)});"
    "g.addEventListener('keydown',function(e){if(e.key==='Enter'||e.key===' '){e.preventDefault();expand(g)}});return}"
    "var m=/^m-(.*)$/.exec(id);if(!m)return;"
    "g.addEventListener('click',function(){var e=d.getElementById('mig-'+m[1]);if(e){e.open=true;e.scrollIntoView()}})});"
    /* #expand=ID opens the page with that collapsed run shown */
    "var hx=/^#expand=(.+)$/.exec(location.hash),g=hx?d.getElementById(decodeURIComponent(hx[1])):null;if(g)expand(g)}"
    "tools();"
    "var live=d.body.getAttribute('data-live');if(!live)return;"
    "var tok=new URLSearchParams(location.search).get('token'),last=d.body.getAttribute('data-fp');"
    "function withTok(p){return p+(tok?(p.indexOf('?')<0?'?':'&')+'token='+encodeURIComponent(tok):'')}"
    "function say(s){var e=q('#live');if(e)e.textContent=s}"
    "function refresh(){fetch(withTok('./?part=content'),{cache:'no-store'}).then(function(r){"
    "if(!r.ok)throw new Error('HTTP '+r.status);return r.text()}).then(function(t){"
    "var doc=new DOMParser().parseFromString('<!DOCTYPE html><body><main>'+t+'</main>','text/html'),"
    "m=q('#content'),f=q('#filter'),s=q('#status-filter'),fv=f?f.value:'',sv=s?s.value:'';"
    "while(m.firstChild)m.removeChild(m.firstChild);"
    "qa('body > main > *',doc).forEach(function(n){m.appendChild(d.importNode(n,true))});"
    "if(q('#filter')){q('#filter').value=fv;q('#status-filter').value=sv}tools()})}"
    "function poll(){fetch(withTok('./api/status.json'),{cache:'no-store'}).then(function(r){"
    "if(!r.ok)throw new Error('HTTP '+r.status);return r.json()}).then(function(j){"
    "say('live: updated '+new Date().toLocaleTimeString());"
    "if(j.fingerprint!==last){last=j.fingerprint;refresh()}}).catch(function(e){say('live: '+e.message)})"
    ".then(function(){setTimeout(poll," "LIVE_POLL" ")})}"
    "setTimeout(poll,LIVE_POLL)})();";

static char *sha256_b64(const char *s)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
    char *out = xmalloc(4 * ((mdlen + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
    return out;
}

/* The script with its poll interval in place of LIVE_POLL. */
static char *script_text(void)
{
    sbuf b = {0};
    const char *s = page_js;
    for (const char *p; (p = strstr(s, "LIVE_POLL"));) {
        sbuf_add(&b, s, (size_t)(p - s));
        sbuf_printf(&b, "%d", LIVE_POLL_MS);
        s = p + strlen("LIVE_POLL");
    }
    sbuf_puts(&b, s);
    return b.s;
}

char *render_html_csp(int live)
{
    char *js = script_text();
    char *hs = sha256_b64(page_css), *hj = sha256_b64(js);
    char *csp = xasprintf("default-src 'none'; style-src 'sha256-%s'; script-src 'sha256-%s'; img-src data:;"
                          " connect-src %s; base-uri 'none'; form-action 'none'",
                          hs, hj, live ? "'self'" : "'none'");
    free(js);
    free(hs);
    free(hj);
    return csp;
}

/* ---- the page ---------------------------------------------------------- */

static void status_badge(sbuf *b, dg_status s)
{
    sbuf_printf(b, "<span class=\"st st-%s\">%s</span>", dg_status_name(s), dg_status_name(s));
}

static void revision_link(sbuf *b, const char *rev)
{
    sbuf_puts(b, "<a class=\"rev\" href=\"#");
    html_id(b, "mig-", rev);
    sbuf_puts(b, "\">");
    h(b, rev);
    sbuf_puts(b, "</a>");
}

static void summary(sbuf *b, const report_data *rd)
{
    static const dg_status shown[] = {DG_APPLIED, DG_FAILED,   DG_PENDING, DG_CHANGED, DG_MISSING,
                                      DG_ORPHANED, DG_HELD, DG_RUNNING, DG_PAUSED};
    sbuf_puts(b, "<section id=\"summary\" aria-labelledby=\"h-summary\"><h2 id=\"h-summary\">Summary</h2>"
                 "<ul class=\"counts\">");
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        sbuf_printf(b, "<li class=\"st-%s\" data-status=\"%s\"><span class=\"n\">%zu</span>%s</li>",
                    dg_status_name(shown[i]), dg_status_name(shown[i]), rd->count[shown[i]],
                    dg_status_name(shown[i]));
    sbuf_printf(b, "</ul><p>%zu migration(s) in the bundle", rd->have_bundle ? rd->b.mf.n : 0);
    if (rd->alembic_table || rd->alembic_heads.n) {
        sbuf_puts(b, "; Alembic head(s) in the database: ");
        for (size_t i = 0; i < rd->alembic_heads.n; i++) {
            sbuf_puts(b, i ? ", <code>" : "<code>");
            h(b, rd->alembic_heads.v[i]);
            sbuf_puts(b, "</code>");
        }
        if (!rd->alembic_heads.n)
            sbuf_puts(b, "(none)");
    }
    sbuf_puts(b, ".</p>");
    if (rd->db_error) {
        sbuf_puts(b, "<p class=\"warn\" role=\"alert\">The database could not be read in full: ");
        h(b, rd->db_error);
        sbuf_puts(b, "</p>");
    }
    if (rd->run_active) {
        sbuf_printf(b, "<div id=\"run\" class=\"warn\"><h3>A run is in progress</h3><p>upgrade holds the run lock"
                       " (server pid %d, since ", rd->run_pid);
        h(b, rd->run_since);
        sbuf_puts(b, ").</p>");
        for (size_t k = 0; k < rd->n; k++) {
            const rd_migration *m = &rd->m[k];
            if (m->status != DG_RUNNING)
                continue;
            sbuf_puts(b, "<p>Running: ");
            revision_link(b, m->revision);
            sbuf_puts(b, " ");
            h(b, m->description);
            if (m->progress_what) {
                sbuf_puts(b, " &mdash; ");
                h(b, m->progress_what);
                sbuf_printf(b, ": <span class=\"progress\">%lld rows</span>", m->progress_done);
            }
            sbuf_puts(b, "</p>");
        }
        if (rd->nw) {
            sbuf_puts(b, "<div class=\"scroll\"><table><caption>Worker sessions</caption><thead><tr><th>server pid</th>"
                         "<th>state</th><th>transaction since</th><th>COPY</th><th class=\"num\">rows</th>"
                         "<th class=\"num\">bytes</th></tr></thead><tbody>");
            for (size_t i = 0; i < rd->nw; i++) {
                const rd_worker *w = &rd->w[i];
                sbuf_printf(b, "<tr><td>%d</td><td>", w->pid);
                h(b, w->state);
                sbuf_puts(b, "</td><td>");
                h(b, w->since);
                sbuf_puts(b, "</td><td>");
                h(b, w->copy_table);
                sbuf_puts(b, "</td><td class=\"num\">");
                if (w->copy_rows >= 0)
                    sbuf_printf(b, "%lld", w->copy_rows);
                sbuf_puts(b, "</td><td class=\"num\">");
                if (w->copy_bytes >= 0)
                    sbuf_printf(b, "%lld", w->copy_bytes);
                if (w->copy_bytes_total > 0)
                    sbuf_printf(b, " of %lld", w->copy_bytes_total);
                sbuf_puts(b, "</td></tr>");
            }
            sbuf_puts(b, "</tbody></table></div>");
        }
        sbuf_puts(b, "</div>");
    }
    sbuf_puts(b, "</section>");
}

static void picture(sbuf *b, const html_opts *o)
{
    sbuf_puts(b, "<section id=\"picture\" aria-labelledby=\"h-picture\"><h2 id=\"h-picture\">Schema and data"
                 "</h2><p class=\"meta\">Alembic revisions (ellipses) and data migrations (boxes); an arrow"
                 " goes from what is needed to what needs it. Each node names its status; hover for the whole"
                 " description.</p>");
    if (o->svg) {
        sbuf_puts(b, "<div class=\"scroll graph\" tabindex=\"0\" role=\"region\" aria-label=\"Dependency picture"
                     " (scrolls)\">");
        const char *s = o->svg;
        if (!strncmp(s, "<svg ", 5)) {
            sbuf_puts(b, "<svg role=\"img\" aria-label=\"Dependency picture of the Alembic revisions and the"
                         " data migrations\" ");
            s += 5;
        }
        sbuf_puts(b, s);
        sbuf_puts(b, "</div>");
    } else {
        sbuf_puts(b, "<p class=\"warn\">No picture: ");
        h(b, o->svg_error ? o->svg_error : "not drawn");
        sbuf_puts(b, "</p>");
    }
    sbuf_puts(b, "</section>");
}

static void fmt_secs(sbuf *b, double s)
{
    char d[32];
    format_duration(s, d, sizeof d);
    sbuf_puts(b, d);
}

static void fmt_time(sbuf *b, double epoch)
{
    time_t t = (time_t)epoch;
    struct tm tm;
    char buf[40];
    gmtime_r(&t, &tm);
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    sbuf_puts(b, buf);
}

/* One run (attempts without a pause of TIMELINE_GAP_S) as an SVG of lanes. */
static void timeline_run(sbuf *b, const report_data *rd, rd_attempt *const *by, size_t from, size_t to)
{
    double t0 = by[from]->started, t1 = t0;
    size_t lanes = 0;
    for (size_t i = from; i < to; i++) {
        if (by[i]->ended > t1)
            t1 = by[i]->ended;
        if (by[i]->lane + 1 > lanes)
            lanes = by[i]->lane + 1;
    }
    (void)rd;
    double span = t1 - t0 > 0.001 ? t1 - t0 : 0.001;
    int label_w = 70, axis_h = 16;
    int hgt = (int)lanes * TIMELINE_LANE_H + axis_h + 4;
    sbuf_puts(b, "<h3>Run started ");
    fmt_time(b, t0);
    sbuf_printf(b, " UTC: %zu attempt(s), %zu lane(s), ", to - from, lanes);
    fmt_secs(b, t1 - t0);
    sbuf_puts(b, "</h3><div class=\"scroll\">");
    sbuf_printf(b, "<svg class=\"tl\" viewBox=\"0 0 %d %d\" width=\"100%%\" role=\"img\" aria-label=\"Timeline of"
                   " %zu attempts in %zu lanes\">",
                label_w + TIMELINE_WIDTH + 10, hgt, to - from, lanes);
    for (size_t l = 0; l < lanes; l++)
        sbuf_printf(b, "<rect class=\"lane\" x=\"%d\" y=\"%zu\" width=\"%d\" height=\"%d\"/>"
                       "<text x=\"2\" y=\"%zu\">lane %zu</text>",
                    label_w, l * TIMELINE_LANE_H + 2, TIMELINE_WIDTH, TIMELINE_LANE_H - 4,
                    l * TIMELINE_LANE_H + TIMELINE_LANE_H / 2 + 5, l + 1);
    for (size_t i = from; i < to; i++) {
        const rd_attempt *t = by[i];
        double x = label_w + (t->started - t0) / span * TIMELINE_WIDTH;
        double w = (t->ended - t->started) / span * TIMELINE_WIDTH;
        if (w < 1.5)
            w = 1.5;
        const char *cls = !strcmp(t->status, "success") ? "success" : !strcmp(t->status, "failed") ? "failed" : "other";
        sbuf_printf(b, "<rect class=\"bar %s\" x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"%d\"><title>", cls, x,
                    t->lane * TIMELINE_LANE_H + 3, w, TIMELINE_LANE_H - 6);
        h(b, t->revision);
        sbuf_puts(b, " ");
        h(b, t->status);
        sbuf_puts(b, ", ");
        fmt_secs(b, t->seconds);
        sbuf_puts(b, ", from ");
        fmt_time(b, t->started);
        sbuf_puts(b, "</title></rect>");
        if (w > 40) {
            sbuf_printf(b, "<text x=\"%.1f\" y=\"%zu\">", x + 3, t->lane * TIMELINE_LANE_H + TIMELINE_LANE_H / 2 + 4);
            h(b, t->revision);
            sbuf_puts(b, "</text>");
        }
    }
    sbuf_printf(b, "<text x=\"%d\" y=\"%d\">0 s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", label_w,
                hgt - 4, label_w + TIMELINE_WIDTH, hgt - 4);
    fmt_secs(b, t1 - t0);
    sbuf_puts(b, "</text></svg></div>");
}

static int cmp_att(const void *x, const void *y)
{
    const rd_attempt *a = *(rd_attempt *const *)x, *b = *(rd_attempt *const *)y;
    if (a->started != b->started)
        return a->started < b->started ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static void timeline(sbuf *b, const report_data *rd)
{
    sbuf_puts(b, "<section id=\"timeline\" aria-labelledby=\"h-timeline\"><h2 id=\"h-timeline\">Timeline</h2>");
    if (!rd->na) {
        sbuf_puts(b, "<p>No attempt recorded yet.</p></section>");
        return;
    }
    sbuf_printf(b, "<p class=\"meta\">Each attempt from start to end; attempts that ran at the same time (workers"
                   " of <code>-j</code>) are on separate lanes. The newest %d runs (a pause of %.0f s or more"
                   " starts another).</p>",
                TIMELINE_MAX_RUNS, TIMELINE_GAP_S);
    rd_attempt **by = xmalloc(rd->na * sizeof *by);
    for (size_t i = 0; i < rd->na; i++)
        by[i] = &rd->a[i];
    qsort(by, rd->na, sizeof *by, cmp_att);
    /* runs: split where nothing ran for TIMELINE_GAP_S */
    size_t *starts = xmalloc((rd->na + 1) * sizeof *starts), nruns = 0;
    double end = 0;
    for (size_t i = 0; i < rd->na; i++) {
        if (i == 0 || by[i]->started - end >= TIMELINE_GAP_S)
            starts[nruns++] = i;
        if (by[i]->ended > end || i == 0)
            end = by[i]->ended > by[i]->started ? by[i]->ended : by[i]->started;
    }
    starts[nruns] = rd->na;
    size_t first = nruns > TIMELINE_MAX_RUNS ? nruns - TIMELINE_MAX_RUNS : 0;
    for (size_t r = nruns; r-- > first;)
        timeline_run(b, rd, by, starts[r], starts[r + 1]);
    free(starts);
    sbuf_printf(b, "<details><summary>Every attempt as a table (%zu)</summary><div class=\"scroll\"><table>"
                   "<thead><tr><th>#</th><th>revision</th><th>status</th><th>started (UTC)</th>"
                   "<th class=\"num\">time</th><th class=\"hide-narrow\">by</th></tr></thead><tbody>",
                rd->na);
    for (size_t i = rd->na; i-- > 0;) {
        const rd_attempt *t = &rd->a[i];
        sbuf_printf(b, "<tr><td>%lld</td><td>", t->id);
        revision_link(b, t->revision);
        sbuf_puts(b, "</td><td>");
        h(b, t->status);
        sbuf_puts(b, "</td><td>");
        fmt_time(b, t->started);
        sbuf_puts(b, "</td><td class=\"num\">");
        fmt_secs(b, t->seconds);
        sbuf_puts(b, "</td><td class=\"hide-narrow\">");
        h(b, t->username);
        if (t->hostname) {
            sbuf_puts(b, "@");
            h(b, t->hostname);
        }
        sbuf_puts(b, "</td></tr>");
    }
    sbuf_puts(b, "</tbody></table></div></details></section>");
    free(by);
}

static void failures(sbuf *b, const report_data *rd)
{
    sbuf_puts(b, "<section id=\"failures\" aria-labelledby=\"h-failures\"><h2 id=\"h-failures\">Failures</h2>");
    int any = 0;
    for (size_t k = 0; k < rd->n; k++) {
        const rd_migration *m = &rd->m[k];
        if (m->status != DG_FAILED && m->status != DG_HELD)
            continue;
        any = 1;
        sbuf_puts(b, "<article class=\"failure\"><h3>");
        revision_link(b, m->revision);
        sbuf_puts(b, " ");
        status_badge(b, m->status);
        sbuf_puts(b, " ");
        h(b, m->description);
        sbuf_puts(b, "</h3>");
        if (m->hold) {
            sbuf_puts(b, "<p>Held: ");
            h(b, m->hold);
            sbuf_puts(b, "; upgrade will not run it or what depends on it until an operator decides.</p>");
        }
        sbuf_puts(b, "<pre class=\"error\">");
        html_text_ex(b, m->error ? m->error : "(no message recorded)", 1);
        sbuf_puts(b, "</pre></article>");
    }
    if (!any)
        sbuf_puts(b, "<p>None: no migration is failed or held.</p>");
    sbuf_puts(b, "</section>");
}

static void rev_list(sbuf *b, const strvec *v)
{
    if (!v || !v->n) {
        sbuf_puts(b, "none");
        return;
    }
    for (size_t i = 0; i < v->n; i++) {
        if (i)
            sbuf_puts(b, ", ");
        sbuf_puts(b, "<code>");
        h(b, v->v[i]);
        sbuf_puts(b, "</code>");
    }
}

static void dd(sbuf *b, const char *term, const char *val)
{
    sbuf_puts(b, "<dt>");
    sbuf_puts(b, term);
    sbuf_puts(b, "</dt><dd>");
    if (val) {
        sbuf_puts(b, "<code>");
        h(b, val);
        sbuf_puts(b, "</code>");
    } else {
        sbuf_puts(b, "&mdash;");
    }
    sbuf_puts(b, "</dd>");
}

static void migrations(sbuf *b, const report_data *rd)
{
    sbuf_puts(b, "<section id=\"migrations\" aria-labelledby=\"h-migrations\"><h2 id=\"h-migrations\">Migrations</h2>"
                 "<div id=\"mig-tools\" class=\"tools\" hidden><label>Filter <input id=\"filter\" type=\"search\""
                 " placeholder=\"revision or text\"></label><label>Status <select id=\"status-filter\">"
                 "<option value=\"\">all</option>");
    for (int s = 0; s < DG_NSTATUS; s++)
        if (rd->count[s])
            sbuf_printf(b, "<option value=\"%s\">%s (%zu)</option>", dg_status_name((dg_status)s),
                        dg_status_name((dg_status)s), rd->count[s]);
    sbuf_puts(b, "</select></label><span id=\"shown\" aria-live=\"polite\"></span>"
                 "<button id=\"all\" type=\"button\" hidden>Show every migration</button></div>"
                 "<div class=\"scroll\"><table id=\"mig-table\"><thead><tr><th data-key=\"order\" class=\"num\">#</th>"
                 "<th data-key=\"rev\">revision</th><th data-key=\"status\">status</th>"
                 "<th data-key=\"desc\">description</th><th data-key=\"at\" class=\"hide-narrow\">applied at</th>"
                 "<th data-key=\"time\" class=\"num\">time</th><th data-key=\"tries\" class=\"num hide-narrow\">attempts</th>"
                 "</tr></thead><tbody>");
    for (size_t k = 0; k < rd->n; k++) {
        const rd_migration *m = &rd->m[k];
        sbuf_printf(b, "<tr data-status=\"%s\"><td class=\"num\">%zu</td><td>", dg_status_name(m->status), k + 1);
        revision_link(b, m->revision);
        sbuf_puts(b, "</td><td>");
        status_badge(b, m->status);
        sbuf_puts(b, "</td><td>");
        h(b, m->description);
        sbuf_puts(b, "</td><td class=\"hide-narrow\">");
        h(b, m->applied_at);
        sbuf_printf(b, "</td><td class=\"num\" data-v=\"%.6f\">", m->db_status ? m->seconds : 0);
        if (m->db_status)
            fmt_secs(b, m->seconds);
        sbuf_printf(b, "</td><td class=\"num hide-narrow\">%zu</td></tr>", m->attempts);
    }
    sbuf_puts(b, "</tbody></table></div><h3>Details</h3>");
    for (size_t k = 0; k < rd->n; k++) {
        const rd_migration *m = &rd->m[k];
        sbuf_puts(b, "<details id=\"");
        html_id(b, "mig-", m->revision);
        sbuf_puts(b, "\"><summary><span class=\"rev\">");
        h(b, m->revision);
        sbuf_puts(b, "</span> ");
        status_badge(b, m->status);
        sbuf_puts(b, " ");
        h(b, m->description);
        sbuf_puts(b, "</summary><dl><dt>depends on</dt><dd>");
        rev_list(b, m->depends_on);
        sbuf_puts(b, "</dd><dt>needed by</dt><dd>");
        rev_list(b, &m->dependents);
        sbuf_printf(b, "</dd><dt>attempts</dt><dd>%zu</dd>", m->attempts);
        dd(b, "file", m->file);
        dd(b, "sha256 (.so)", m->sha256);
        dd(b, "identity (bundle)", m->identity);
        dd(b, "identity (applied)", m->applied_identity);
        sbuf_puts(b, "<dt>drift</dt><dd>");
        sbuf_puts(b, m->status == DG_CHANGED   ? "changed: the code that ran is not the bundle's"
                     : m->status == DG_MISSING ? "in the database, not in this bundle"
                     : m->applied_identity     ? "none: the code that ran is the bundle's"
                                               : "&mdash;");
        sbuf_puts(b, "</dd>");
        if (m->hold)
            dd(b, "hold", m->hold);
        sbuf_puts(b, "</dl>");
        if (m->error) {
            sbuf_puts(b, "<pre class=\"error\">");
            html_text_ex(b, m->error, 1);
            sbuf_puts(b, "</pre>");
        }
        sbuf_puts(b, "</details>");
    }
    sbuf_puts(b, "</section>");
}

static void content(sbuf *b, const report_data *rd, const html_opts *o)
{
    summary(b, rd);
    picture(b, o);
    timeline(b, rd);
    failures(b, rd);
    migrations(b, rd);
}

void render_html(const report_data *rd, const html_opts *o, sbuf *out)
{
    if (o->content_only) {
        content(out, rd, o);
        return;
    }
    char *csp = render_html_csp(o->live);
    char *js = script_text();
    char *fp = report_data_fingerprint(rd);
    sbuf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<meta http-equiv=\"Content-Security-Policy\" content=\"");
    h(out, csp);
    sbuf_puts(out, "\"><meta name=\"referrer\" content=\"no-referrer\"><meta name=\"generator\" content=\"delembic\">"
                   "<title>Delembic history: ");
    h(out, rd->database);
    sbuf_puts(out, "</title><style>");
    sbuf_puts(out, page_css);
    sbuf_printf(out, "</style></head><body%s data-fp=\"%s\"><a class=\"skip\" href=\"#migrations\">Skip to the"
                     " migrations</a><header><h1>Delembic history</h1><p class=\"meta\">Database <code>",
                o->live ? " data-live=\"1\"" : "", fp);
    h(out, rd->database);
    sbuf_puts(out, "</code> &middot; schema <code>");
    h(out, rd->schema);
    sbuf_puts(out, "</code> &middot; bundle <code>");
    h(out, rd->bundle_dir);
    sbuf_puts(out, "</code> &middot; generated <time>");
    h(out, rd->generated_at);
    sbuf_puts(out, "</time>");
    if (o->live)
        sbuf_puts(out, " &middot; <span id=\"live\" class=\"live\" aria-live=\"polite\">live</span>");
    sbuf_puts(out, "</p><nav aria-label=\"Sections\"><a href=\"#summary\">Summary</a> &middot; <a href=\"#picture\">"
                   "Picture</a> &middot; <a href=\"#timeline\">Timeline</a> &middot; <a href=\"#failures\">Failures"
                   "</a> &middot; <a href=\"#migrations\">Migrations</a></nav></header><main id=\"content\">");
    content(out, rd, o);
    sbuf_puts(out, "</main><script>");
    sbuf_puts(out, js);
    sbuf_puts(out, "</script></body></html>\n");
    free(csp);
    free(js);
    free(fp);
}

/* ---- the status document ----------------------------------------------- */

void render_status_json(const report_data *rd, const char *fingerprint, sbuf *out)
{
    json js = {0};
    json_obj_open(&js, NULL);
    json_str(&js, "command", "history");
    json_str(&js, "database", rd->database);
    json_str(&js, "generated_at", rd->generated_at);
    json_str(&js, "fingerprint", fingerprint);
    json_arr_open(&js, "migrations");
    for (size_t k = 0; k < rd->n; k++) {
        const rd_migration *m = &rd->m[k];
        json_obj_open(&js, NULL);
        json_str(&js, "revision", m->revision);
        json_str(&js, "status", dg_status_name(m->status));
        if (m->in_bundle) {
            json_str(&js, "description", m->description);
            json_str(&js, "applied_at", m->applied_at);
            if (m->db_status)
                json_num(&js, "seconds", m->seconds);
            else
                json_str(&js, "seconds", NULL);
            json_str(&js, "sha256", m->sha256);
            json_str(&js, "identity", m->identity);
            json_str(&js, "applied_identity", m->applied_identity);
            json_str(&js, "applied_sha256", m->applied_identity);
            json_str(&js, "error", m->error);
        } else {
            json_str(&js, "db_status", m->db_status);
            json_str(&js, "applied_at", m->applied_at);
        }
        if (m->hold)
            json_str(&js, "hold", m->hold);
        if (m->progress_what) {
            json_obj_open(&js, "progress");
            json_str(&js, "what", m->progress_what);
            json_int(&js, "done", m->progress_done);
            json_obj_close(&js);
        }
        json_obj_close(&js);
    }
    json_arr_close(&js);
    json_obj_open(&js, "summary");
    for (int s = 0; s < DG_NSTATUS; s++)
        json_int(&js, dg_status_name((dg_status)s), (long long)rd->count[s]);
    json_obj_close(&js);
    json_obj_open(&js, "run");
    json_bool(&js, "active", rd->run_active);
    if (rd->run_active) {
        json_int(&js, "lock_pid", rd->run_pid);
        json_arr_open(&js, "workers");
        for (size_t i = 0; i < rd->nw; i++) {
            json_obj_open(&js, NULL);
            json_int(&js, "pid", rd->w[i].pid);
            json_str(&js, "state", rd->w[i].state);
            json_str(&js, "copy_table", rd->w[i].copy_table);
            if (rd->w[i].copy_rows >= 0)
                json_int(&js, "copy_rows", rd->w[i].copy_rows);
            json_obj_close(&js);
        }
        json_arr_close(&js);
    }
    json_obj_close(&js);
    json_str(&js, "database_error", rd->db_error);
    json_int(&js, "exit_code", 0);
    json_obj_close(&js);
    sbuf_add(out, js.b.s, js.b.len);
    sbuf_free(&js.b);
}
