#include "db.h"

#include <errno.h>
#include <libpq-events.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

char *db_normalize_url(const char *url)
{
    if (!url)
        return NULL;
    const char *plus = strchr(url, '+');
    const char *sep = strstr(url, "://");
    if (plus && sep && plus < sep &&
        (strncmp(url, "postgresql+", 11) == 0 || strncmp(url, "postgres+", 9) == 0))
        return xasprintf("%.*s%s", (int)(plus - url), url, sep);
    return xstrdup(url);
}

/* The URL as written, by precedence; NULL for libpq's defaults. */
static const char *choose_raw(const char *cli, const char *env, const char *section_url,
                              const char **source)
{
    if (cli && *cli) {
        *source = "--database";
        return cli;
    }
    if (env && *env) {
        *source = "DELEMBIC_DATABASE_URL";
        return env;
    }
    if (section_url && *section_url) {
        *source = "the section's 'database'";
        return section_url;
    }
    *source = "libpq defaults (PGHOST, PGDATABASE, ...)";
    return NULL;
}

char *db_choose_url(const char *cli, const char *env, const char *section_url, const char **source)
{
    return db_normalize_url(choose_raw(cli, env, section_url, source));
}

char *db_choose_driver(const char *cli, const char *env, const char *section_url)
{
    const char *source;
    const char *url = choose_raw(cli, env, section_url, &source);
    if (!url)
        return NULL;
    const char *plus = strchr(url, '+');
    const char *sep = strstr(url, "://");
    if (!plus || !sep || plus > sep ||
        (strncmp(url, "postgresql+", 11) != 0 && strncmp(url, "postgres+", 9) != 0))
        return NULL;
    return xstrndup(plus + 1, (size_t)(sep - plus - 1));
}

/* ---- the same database for SQLAlchemy (Alembic's env.py) ---------------- */

static int plain_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '.' || *s == '_' || *s == '-'))
            return 0;
    return 1;
}

static int digits_only(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static int ipv6_literal(const char *s)
{
    if (!strchr(s, ':'))
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F') ||
              *s == ':' || *s == '.'))
            return 0;
    return 1;
}

/* RFC 3986 percent-encoding of everything but unreserved characters; what
 * SQLAlchemy decodes in user, password and query values. */
static void pct(sbuf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '.' || *p == '_' || *p == '~')
            sbuf_add(b, (const char *)p, 1);
        else
            sbuf_printf(b, "%%%02X", *p);
    }
}

static void query_param(sbuf *b, int *first, const char *key, const char *val)
{
    sbuf_add(b, *first ? "?" : "&", 1);
    *first = 0;
    pct(b, key);
    sbuf_add(b, "=", 1);
    pct(b, val);
}

char *db_sqlalchemy_url(const char *url, const char *driver, del_err *err)
{
    if (driver && (!*driver || strspn(driver, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(driver))) {
        char *shown = db_redact_text(driver, NULL);
        del_fail(err, DEL_KIND_DATABASE, "the database URL's driver '+%.40s' is not a SQLAlchemy driver name; write postgresql+psycopg2://... or postgresql://...",
                 shown);
        free(shown);
        return NULL;
    }
    sbuf b = {0};
    sbuf_printf(&b, "postgresql%s%s://", driver ? "+" : "", driver ? driver : "");
    if (!url) /* libpq's defaults: SQLAlchemy connects with no arguments, libpq fills them in */
        return b.s;
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (!opts) {
        sbuf_free(&b);
        PQfreemem(msg);
        db_check_url(url, err); /* the message, masked */
        return NULL;
    }
    const char *user = NULL, *pw = NULL, *host = NULL, *port = NULL, *dbname = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val)
            continue;
        if (!strcmp(o->keyword, "user"))
            user = o->val;
        else if (!strcmp(o->keyword, "password"))
            pw = o->val;
        else if (!strcmp(o->keyword, "host"))
            host = o->val;
        else if (!strcmp(o->keyword, "port"))
            port = o->val;
        else if (!strcmp(o->keyword, "dbname"))
            dbname = o->val;
    }
    /* what SQLAlchemy reads well goes in the URL's parts; the rest (socket
     * folders, several hosts, odd names, every other libpq option) in the
     * query string, which SQLAlchemy hands to the driver as it is */
    int host_part = host && (plain_name(host) || ipv6_literal(host));
    int port_part = host_part && port && digits_only(port);
    int db_part = dbname && plain_name(dbname);
    if (user && *user) {
        pct(&b, user);
        if (pw) {
            sbuf_add(&b, ":", 1);
            pct(&b, pw);
        }
        sbuf_add(&b, "@", 1);
    }
    if (host_part)
        sbuf_printf(&b, ipv6_literal(host) ? "[%s]" : "%s", host);
    if (port_part)
        sbuf_printf(&b, ":%s", port);
    if (db_part)
        sbuf_printf(&b, "/%s", dbname);
    int first = 1;
    if (pw && !(user && *user))
        query_param(&b, &first, "password", pw);
    if (host && !host_part)
        query_param(&b, &first, "host", host);
    if (port && !port_part)
        query_param(&b, &first, "port", port);
    if (dbname && !db_part)
        query_param(&b, &first, "dbname", dbname);
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && strcmp(o->keyword, "user") && strcmp(o->keyword, "password") &&
            strcmp(o->keyword, "host") && strcmp(o->keyword, "port") && strcmp(o->keyword, "dbname"))
            query_param(&b, &first, o->keyword, o->val);
    PQconninfoFree(opts);
    return b.s;
}

/* ---- redaction --------------------------------------------------------
 * One rule for every message that may carry connection text (a URL from the
 * user, libpq's own error text, a server's): mark the bytes of each password
 * value, then print each marked run as ***. A password is found
 *   - in a URI's userinfo: scheme://user:PASSWORD@host (up to the last '@'
 *     before the first '/' or space, as libpq reads it);
 *   - as password= or sslpassword= in a URI query (keys percent-decoded) or
 *     in a key=value string (quoted with '...' and \ escapes, or bare);
 *   - anywhere, as the literal text of a password the URL or the connection
 *     carries (libpq quotes fragments such as a bad percent-escape alone). */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* key (len bytes, percent-decoded when uri) is password or sslpassword */
static int is_password_key(const char *key, size_t len, int uri)
{
    char k[16];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (uri && c == '%' && i + 2 < len && hexval(key[i + 1]) >= 0 && hexval(key[i + 2]) >= 0) {
            c = (char)(hexval(key[i + 1]) * 16 + hexval(key[i + 2]));
            i += 2;
        }
        if (n + 1 >= sizeof k)
            return 0;
        k[n++] = (char)((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c);
    }
    k[n] = '\0';
    return !strcmp(k, "password") || !strcmp(k, "sslpassword");
}

/* A value this redaction already replaced: "***" then the end of the value
 * or a quote or ':' around it (so that masking twice changes nothing). */
static int already_masked(const char *v)
{
    return strncmp(v, "***", 3) == 0 && (!v[3] || strchr("'\":;,)&# \t\n", v[3]));
}

static void mark(char *m, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        m[i] = 1;
}

/* URI userinfo passwords and query-string passwords */
static void mark_uris(const char *t, size_t len, char *m)
{
    for (const char *sep = strstr(t, "://"); sep; sep = strstr(sep + 3, "://")) {
        const char *auth = sep + 3, *p = auth, *at = NULL;
        while (*p && *p != '/' && !is_space(*p)) {
            if (*p == '@')
                at = p;
            p++;
        }
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon)
                mark(m, (size_t)(colon + 1 - t), (size_t)(at - t));
        }
    }
    /* ?key=value&key=value, wherever a query string appears */
    for (size_t i = 0; i < len; i++) {
        if (t[i] != '?' && t[i] != '&')
            continue;
        size_t k = i + 1, e = k;
        while (e < len && t[e] != '=' && t[e] != '&' && t[e] != '#' && t[e] != '"' && !is_space(t[e]))
            e++;
        if (e >= len || t[e] != '=' || !is_password_key(t + k, e - k, 1))
            continue;
        size_t v = e + 1, ve = v;
        if (already_masked(t + v))
            ve += 3;
        else
            while (ve < len && t[ve] != '&' && t[ve] != '#' && t[ve] != '"' && !is_space(t[ve]))
                ve++;
        mark(m, v, ve);
    }
}

/* password = value in key=value strings (and in any text that has them) */
static void mark_keywords(const char *t, size_t len, char *m)
{
    for (size_t i = 0; i < len; i++) {
        if (i > 0 && !is_space(t[i - 1]) && t[i - 1] != '\'' && t[i - 1] != '"')
            continue;
        size_t e = i;
        while (e < len && ((t[e] >= 'a' && t[e] <= 'z') || (t[e] >= 'A' && t[e] <= 'Z')))
            e++;
        if (e == i || !is_password_key(t + i, e - i, 0))
            continue;
        size_t v = e;
        while (v < len && is_space(t[v]))
            v++;
        if (v >= len || t[v] != '=')
            continue;
        v++;
        while (v < len && is_space(t[v]))
            v++;
        size_t ve = v;
        if (ve < len && t[ve] == '\'') {
            ve++;
            while (ve < len && t[ve] != '\'') {
                if (t[ve] == '\\' && ve + 1 < len)
                    ve++;
                ve++;
            }
            if (ve < len)
                ve++;
        } else if (already_masked(t + ve)) {
            ve += 3;
        } else {
            while (ve < len && !is_space(t[ve])) {
                if (t[ve] == '\\' && ve + 1 < len)
                    ve++;
                ve++;
            }
        }
        mark(m, v, ve);
        i = ve ? ve - 1 : ve;
    }
}

static void mark_literal(const char *t, char *m, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (!n)
        return;
    for (const char *p = strstr(t, secret); p; p = strstr(p + 1, secret))
        mark(m, (size_t)(p - t), (size_t)(p - t) + n);
}

/* The passwords a connection string carries: as written (from the marks)
 * and as libpq decodes them. */
static void url_secrets(const char *url, strvec *out)
{
    if (!url)
        return;
    size_t len = strlen(url);
    char *m = xcalloc(len + 1, 1);
    mark_uris(url, len, m);
    mark_keywords(url, len, m);
    for (size_t i = 0; i < len;) {
        if (!m[i]) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && m[j])
            j++;
        char *raw = xstrndup(url + i, j - i);
        /* a quoted key=value password: also without its quotes */
        if (raw[0] == '\'' && j - i >= 2) {
            char *inner = xstrndup(raw + 1, strlen(raw) - 2);
            strvec_push_owned(out, inner);
        }
        strvec_push_owned(out, raw);
        i = j;
    }
    free(m);
    PQconninfoOption *opts = PQconninfoParse(url, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (o->val && *o->val && (!strcmp(o->keyword, "password") || !strcmp(o->keyword, "sslpassword")))
            strvec_push(out, o->val);
    PQconninfoFree(opts);
}

static char *redact_with(const char *text, const strvec *secrets)
{
    if (!text)
        return xstrdup("");
    size_t len = strlen(text);
    char *m = xcalloc(len + 1, 1);
    mark_uris(text, len, m);
    mark_keywords(text, len, m);
    for (size_t k = 0; secrets && k < secrets->n; k++)
        mark_literal(text, m, secrets->v[k]);
    sbuf b = {0};
    for (size_t i = 0; i < len;) {
        if (m[i]) {
            sbuf_puts(&b, "***");
            while (i < len && m[i])
                i++;
        } else {
            sbuf_add(&b, text + i, 1);
            i++;
        }
    }
    free(m);
    return b.s ? b.s : xstrdup("");
}

char *db_redact_text(const char *text, const char *url)
{
    strvec secrets = {0};
    url_secrets(url, &secrets);
    char *out = redact_with(text, &secrets);
    strvec_clear(&secrets);
    return out;
}

char *db_redact(const char *url)
{
    if (!url)
        return xstrdup("(libpq defaults)");
    return db_redact_text(url, url);
}

/* err->msg through the redaction, with the passwords of url */
static void redact_err(del_err *err, const char *url)
{
    if (!err)
        return;
    char *red = db_redact_text(err->msg, url);
    snprintf(err->msg, sizeof err->msg, "%s", red);
    free(red);
}

int db_check_url(const char *url, del_err *err)
{
    if (!url)
        return 0;
    char *msg = NULL;
    PQconninfoOption *opts = PQconninfoParse(url, &msg);
    if (!opts) {
        char *red = db_redact(url);
        if (msg) {
            size_t l = strlen(msg);
            while (l && (msg[l - 1] == '\n' || msg[l - 1] == ' '))
                msg[--l] = '\0';
        }
        del_fail(err, DEL_KIND_DATABASE, "bad database URL '%s': %s; use postgresql://user@host:port/dbname",
                 red, msg ? msg : "cannot parse it");
        redact_err(err, url); /* libpq may quote the URL, or a piece of the password */
        free(red);
        PQfreemem(msg);
        return -1;
    }
    PQconninfoFree(opts);
    return 0;
}

static void first_line(const char *s, char *buf, size_t bufsz)
{
    if (!s)
        s = "";
    snprintf(buf, bufsz, "%s", s);
    for (char *p = buf; *p; p++) {
        if (*p == '\t')
            *p = ' ';
        if (*p == '\n') {
            /* keep DETAIL-like continuation on the same line */
            if (p[1])
                *p = ' ';
            else
                *p = '\0';
        }
    }
}

static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* connect_timeout (seconds, as text) or NULL; it comes before the URL, so a
 * connect_timeout written in the URL wins */
static PGconn *connect_start(const char *url, const char *application_name, const char *timeout,
                             del_err *err)
{
    if (db_check_url(url, err) != 0)
        return NULL;
    const char *keys[5], *vals[5];
    size_t k = 0;
    if (timeout) {
        keys[k] = "connect_timeout";
        vals[k++] = timeout;
    }
    if (url) {
        keys[k] = "dbname";
        vals[k++] = url;
    }
    keys[k] = "fallback_application_name";
    vals[k++] = "delembic";
    keys[k] = "application_name";
    vals[k++] = application_name;
    keys[k] = NULL;
    vals[k] = NULL;
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (!conn)
        del_fail(err, DEL_KIND_DATABASE, "cannot connect: out of memory");
    return conn;
}

PGconn *db_connect_start(const char *url, const char *application_name, del_err *err)
{
    return connect_start(url, application_name, NULL, err);
}

PGconn *db_connect_within(const char *url, const char *application_name, int seconds, del_err *err)
{
    char t[32];
    snprintf(t, sizeof t, "%d", seconds);
    return db_connect_finish(connect_start(url, application_name, t, err), url, err);
}

PGconn *db_connect_finish(PGconn *conn, const char *url, del_err *err)
{
    if (!conn)
        return NULL;
    PostgresPollingStatusType st = PQstatus(conn) == CONNECTION_BAD ? PGRES_POLLING_FAILED
                                                                    : PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        struct pollfd p = {.fd = PQsocket(conn), .events = st == PGRES_POLLING_READING ? POLLIN : POLLOUT};
        if (p.fd < 0)
            break;
        if (poll(&p, 1, -1) < 0 && errno != EINTR)
            break;
        st = PQconnectPoll(conn);
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char line[1024];
        first_line(PQerrorMessage(conn), line, sizeof line);
        char *red = db_redact(url);
        del_fail(err, DEL_KIND_DATABASE, "cannot connect to the database %s: %s; check --database, DELEMBIC_DATABASE_URL or the section's 'database'",
                 red, line);
        redact_err(err, url);
        free(red);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, quiet_notice, NULL);
    return conn;
}

PGconn *db_connect(const char *url, const char *application_name, del_err *err)
{
    return db_connect_finish(db_connect_start(url, application_name, err), url, err);
}

void db_forget(PGconn *conn)
{
    /* After fork the child must not send Terminate on the parent's socket. */
    if (!conn)
        return;
    int fd = PQsocket(conn);
    if (fd >= 0)
        close(fd);
}

void db_result_message(PGconn *conn, const PGresult *res, char *buf, size_t bufsz)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (primary) {
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        if (detail)
            snprintf(buf, bufsz, "%s (%s)", primary, detail);
        else
            snprintf(buf, bufsz, "%s", primary);
    } else {
        first_line(conn ? PQerrorMessage(conn) : "no connection", buf, bufsz);
        if (!*buf)
            snprintf(buf, bufsz, "no result from the server");
    }
    for (char *p = buf; *p; p++)
        if (*p == '\n')
            *p = ' ';
    /* the connection's own password, wherever libpq or the server repeats it */
    strvec secrets = {0};
    const char *pw = conn ? PQpass(conn) : NULL;
    if (pw && *pw)
        strvec_push(&secrets, pw);
    char *red = redact_with(buf, &secrets);
    snprintf(buf, bufsz, "%s", red);
    free(red);
    strvec_clear(&secrets);
}

/* the libpq event procedure that keys the trace's instance data */
static int trace_proc(PGEventId id, void *info, void *pass)
{
    (void)id;
    (void)info;
    (void)pass;
    return 1;
}

void db_trace(PGconn *conn, const del_notify *n)
{
    if (conn && n && PQregisterEventProc(conn, trace_proc, "delembic trace", NULL))
        PQsetInstanceData(conn, trace_proc, (void *)n);
}

void db_trace_sql(PGconn *conn, const char *sql, double seconds)
{
    const del_notify *n = conn ? PQinstanceData(conn, trace_proc) : NULL;
    if (n)
        del_emit_text(n, DEL_EV_DEBUG, "sql (%.1f ms): %s", seconds * 1000.0, sql);
}

PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   del_err *err)
{
    double t0 = monotonic_seconds();
    PGresult *res = nparams > 0 ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
                                : PQexec(conn, sql);
    db_trace_sql(conn, sql, monotonic_seconds() - t0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char msg[1024];
        db_result_message(conn, res, msg, sizeof msg);
        del_fail(err, DEL_KIND_DATABASE, "database: %s", msg);
        PQclear(res);
        return NULL;
    }
    return res;
}

int db_exec(PGconn *conn, const char *sql, del_err *err)
{
    PGresult *res = db_query(conn, sql, 0, NULL, err);
    if (!res)
        return -1;
    PQclear(res);
    return 0;
}
