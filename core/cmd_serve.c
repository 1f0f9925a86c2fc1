#include "cmd_serve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>
#include <openssl/crypto.h>

#include "cli/render_html.h"
#include "graph_svg.h"
#include "report_data.h"
#include "term.h"

#define SERVE_TOKEN_ENV "DELEMBIC_SERVE_TOKEN"

typedef struct server {
    app *a;
    int verbose;              /* -v: a line per request on stderr */
    const char *token;
    int port;
    char host_ok[3][80];      /* Host header values accepted without a token */
    PGconn *conn;             /* read-only; reconnected when it broke */
    char *svg_key;            /* the statuses the cached picture shows */
    char *svg;
    char *svg_error;
    char *csp_live;
} server;

typedef struct reply {
    unsigned code;
    const char *type;
    sbuf body;
} reply;

static PGconn *server_conn(server *s)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
        return s->conn;
    if (s->conn)
        PQfinish(s->conn);
    del_err e;
    s->conn = report_connect(s->a, "serve", &e);
    return s->conn;
}

/* The picture for these statuses: drawn again only when they changed. */
static void server_picture(server *s, const report_data *rd, html_opts *ho)
{
    sbuf key = {0};
    for (size_t i = 0; i < rd->g.n; i++)
        sbuf_printf(&key, "%s%c%d;", rd->g.nodes[i].id, '0' + (int)rd->g.nodes[i].kind, (int)rd->g.nodes[i].status);
    sbuf_puts(&key, "");
    if (!s->svg_key || strcmp(s->svg_key, key.s) != 0) {
        free(s->svg_key);
        free(s->svg);
        free(s->svg_error);
        s->svg = s->svg_error = NULL;
        s->svg_key = key.s;
        key.s = NULL;
        graph_svg_opts go = GRAPH_SVG_OPTS_INIT;
        sbuf svg = {0};
        del_err e;
        if (graph_svg(&rd->g, &go, &svg, &e) == 0) {
            s->svg = svg.s ? svg.s : xstrdup("");
        } else {
            sbuf_free(&svg);
            s->svg_error = xstrdup(e.msg);
        }
    }
    sbuf_free(&key);
    ho->svg = s->svg;
    ho->svg_error = s->svg_error;
}

static void text_reply(reply *r, unsigned code, const char *msg)
{
    r->code = code;
    r->type = "text/plain; charset=utf-8";
    sbuf_puts(&r->body, msg);
    sbuf_puts(&r->body, "\n");
}

static void answer(server *s, const char *path, const char *part, reply *r)
{
    int api = !strcmp(path, "/api/status.json");
    if (!api && strcmp(path, "/") != 0) {
        text_reply(r, MHD_HTTP_NOT_FOUND, "not found: this server has / and /api/status.json");
        return;
    }
    report_data rd;
    del_err e;
    if (report_data_gather(s->a, server_conn(s), &rd, &e) != 0) {
        report_data_free(&rd);
        char *msg = term_text(e.msg);
        text_reply(r, MHD_HTTP_INTERNAL_SERVER_ERROR, msg);
        free(msg);
        return;
    }
    r->code = MHD_HTTP_OK;
    if (api) {
        char *fp = report_data_fingerprint(&rd);
        r->type = "application/json";
        render_status_json(&rd, fp, &r->body);
        free(fp);
    } else {
        html_opts ho = {.live = 1, .content_only = part && !strcmp(part, "content")};
        server_picture(s, &rd, &ho);
        r->type = "text/html; charset=utf-8";
        render_html(&rd, &ho, &r->body);
    }
    report_data_free(&rd);
}

/* Constant time in the token's length. */
static int token_matches(const char *want, const char *got)
{
    if (!got)
        return 0;
    size_t n = strlen(want);
    return strlen(got) == n && CRYPTO_memcmp(want, got, n) == 0;
}

static int authorised(server *s, struct MHD_Connection *c)
{
    if (!s->token) {
        /* loopback only: the Host must name it (DNS rebinding) */
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        for (size_t i = 0; host && i < sizeof s->host_ok / sizeof s->host_ok[0]; i++)
            if (s->host_ok[i][0] && !strcmp(host, s->host_ok[i]))
                return 1;
        return 0;
    }
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (auth && !strncmp(auth, "Bearer ", 7) && token_matches(s->token, auth + 7))
        return 1;
    return token_matches(s->token, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token"));
}

/* -v: one line per request on stderr (the path without its query, so no
 * token), as the README shows it: "GET /api/status.json 200" */
static void print_request(const server *s, const char *method, const char *url, unsigned code)
{
    if (s->verbose)
        del_emit_text(s->a->o->notify, DEL_EV_DIAGNOSTIC, "%s %s %u", method, url, code);
}

static void add_headers(struct MHD_Response *resp, const char *csp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload, size_t *upload_size, void **state)
{
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)state;
    server *s = cls;
    reply r = {0};
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        text_reply(&r, MHD_HTTP_METHOD_NOT_ALLOWED, "read-only: GET and HEAD only");
    } else if (!authorised(s, c)) {
        if (s->token)
            text_reply(&r, MHD_HTTP_UNAUTHORIZED, "a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN");
        else
            text_reply(&r, MHD_HTTP_FORBIDDEN, "this server answers requests for its loopback address only");
    } else {
        answer(s, url, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "part"), &r);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r.body.len, r.body.s ? r.body.s : (char *)"", r.body.s ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        sbuf_free(&r.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.type);
    add_headers(resp, s->csp_live);
    if (r.code == MHD_HTTP_UNAUTHORIZED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (r.code == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, r.code, resp);
    MHD_destroy_response(resp);
    print_request(s, method, url, r.code);
    return ret;
}

/* ---- binding ----------------------------------------------------------- */

typedef struct bind_addr {
    struct sockaddr_storage ss;
    int v6;
    int loopback;
} bind_addr;

static int parse_bind(const char *text, int port, bind_addr *b)
{
    memset(b, 0, sizeof *b);
    struct sockaddr_in *in4 = (struct sockaddr_in *)&b->ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&b->ss;
    const char *t = !strcmp(text, "localhost") ? "127.0.0.1" : text;
    if (inet_pton(AF_INET, t, &in4->sin_addr) == 1) {
        in4->sin_family = AF_INET;
        in4->sin_port = htons((uint16_t)port);
        b->loopback = (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
        return 0;
    }
    char buf[INET6_ADDRSTRLEN + 2];
    size_t n = strlen(t);
    if (n >= 2 && t[0] == '[' && t[n - 1] == ']' && n - 2 < sizeof buf) {
        memcpy(buf, t + 1, n - 2);
        buf[n - 2] = '\0';
        t = buf;
    }
    if (inet_pton(AF_INET6, t, &in6->sin6_addr) == 1) {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = htons((uint16_t)port);
        b->v6 = 1;
        b->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        return 0;
    }
    return -1;
}

/* ---- printing ---------------------------------------------------------- */

/* Notes (hidden by -q; the text renderer flushes each line, so a script
 * reading the log sees the address at once). */
static void print_serving(const del_notify *n, const char *bind, int v6, int port, int token)
{
    del_emit_text(n, DEL_EV_NOTE, "Serving the history page on http://%s%s%s:%d/%s (Ctrl-C stops)", v6 ? "[" : "",
                  bind, v6 ? "]" : "", port, token ? " (requests need the token)" : "");
}

static void print_stopped(const del_notify *n, int sig)
{
    del_emit_text(n, DEL_EV_NOTE, "Stopped (%s)", sig == SIGINT ? "SIGINT" : "SIGTERM");
}

int cmd_serve(app *a, const serve_args *sa, del_err *err)
{
    const char *bind_text = sa->bind ? sa->bind : SERVE_DEFAULT_BIND;
    int port = sa->port < 0 ? SERVE_DEFAULT_PORT : sa->port;
    const char *token = sa->token; /* --token, else SERVE_TOKEN_ENV (app_env) */
    if (token && !*token)
        token = NULL;
    bind_addr ba;
    if (parse_bind(bind_text, port, &ba) != 0) {
        char *t = term_text(bind_text);
        del_fail(err, DEL_KIND_USAGE, "--bind %s is not an IPv4 or IPv6 address; give one, such as 127.0.0.1", t);
        free(t);
        return -1;
    }
    if (!ba.loopback && !token) {
        char *t = term_text(bind_text);
        del_fail(err, DEL_KIND_USAGE, "--bind %s is not a loopback address: give --token T (or %s) so that every request must carry it",
                 t, SERVE_TOKEN_ENV);
        free(t);
        return -1;
    }
    if (token && strlen(token) < SERVE_TOKEN_MIN) {
        del_fail(err, DEL_KIND_USAGE, "the token is too short: use at least %d characters (say, openssl rand -hex 16)",
                 SERVE_TOKEN_MIN);
        return -1;
    }
    /* the bundle must open now: a typo is an error at start, not a 500 later */
    bundle b;
    if (bundle_open(a->bundle_dir, app_cache_dir(a), &b, err) != 0)
        return -1;
    bundle_close(&b);

    server s = {.a = a, .token = token, .verbose = a->o->verbose};
    char *csp = render_html_csp(1);
    s.csp_live = xasprintf("%s; frame-ancestors 'none'", csp); /* a header only: a meta element cannot say it */
    free(csp);
    /* SIGINT and SIGTERM are taken by sigwait below, in this thread only */
    sigset_t stop, old;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, &old);
    signal(SIGPIPE, SIG_IGN);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | (ba.v6 ? MHD_USE_IPv6 : 0);
    struct MHD_Daemon *d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, on_request, &s,
                                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ba.ss,
                                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)SERVE_CONNECTION_LIMIT,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVE_CONNECTION_TIMEOUT_S,
                                            MHD_OPTION_END);
    int rc = 0;
    if (!d) {
        char *t = term_text(bind_text);
        rc = del_fail(err, DEL_KIND_CONFIG, "cannot listen on %s port %d: %s; is another server there?", t, port,
                      strerror(errno ? errno : EADDRINUSE));
        free(t);
    } else {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        int bound = info && info->port ? info->port : port;
        const char *host_name = ba.v6 ? "[::1]" : "127.0.0.1";
        snprintf(s.host_ok[0], sizeof s.host_ok[0], "%s:%d", host_name, bound);
        snprintf(s.host_ok[1], sizeof s.host_ok[1], "localhost:%d", bound);
        if (bound == 80)
            snprintf(s.host_ok[2], sizeof s.host_ok[2], "%s", host_name);
        char *t = term_text(bind_text);
        print_serving(a->o->notify, t, ba.v6, bound, token != NULL);
        free(t);
        int sig = 0;
        while (sigwait(&stop, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
            ;
        MHD_stop_daemon(d);
        print_stopped(a->o->notify, sig);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (s.conn)
        PQfinish(s.conn);
    free(s.svg_key);
    free(s.svg);
    free(s.svg_error);
    free(s.csp_live);
    return rc == 0 ? 0 : -1;
}
