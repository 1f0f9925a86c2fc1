#include "db.h"

#include <errno.h>
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

char *db_choose_url(const char *cli, const char *section_url, const char **source)
{
    const char *env = getenv("DELEMBIC_DATABASE_URL");
    if (cli && *cli) {
        *source = "--database";
        return db_normalize_url(cli);
    }
    if (env && *env) {
        *source = "DELEMBIC_DATABASE_URL";
        return db_normalize_url(env);
    }
    if (section_url && *section_url) {
        *source = "the section's 'database'";
        return db_normalize_url(section_url);
    }
    *source = "libpq defaults (PGHOST, PGDATABASE, ...)";
    return NULL;
}

char *db_redact(const char *url)
{
    if (!url)
        return xstrdup("(libpq defaults)");
    const char *sep = strstr(url, "://");
    if (sep) {
        const char *auth = sep + 3;
        const char *end = auth + strcspn(auth, "/?#");
        const char *at = NULL;
        for (const char *p = auth; p < end; p++)
            if (*p == '@')
                at = p;
        char *out = xstrdup(url);
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon) {
                free(out);
                out = xasprintf("%.*s:***%s", (int)(colon - url), url, at);
            }
        }
        /* password=... in the query string */
        char *q = strstr(out, "password=");
        if (q) {
            char *v = q + 9;
            size_t vl = strcspn(v, "&#");
            char *red = xasprintf("%.*s***%s", (int)(v - out), out, v + vl);
            free(out);
            out = red;
        }
        return out;
    }
    /* key=value form */
    sbuf b = {0};
    const char *p = url;
    while (*p) {
        const char *k = strstr(p, "password");
        if (!k) {
            sbuf_puts(&b, p);
            break;
        }
        const char *eq = k + 8;
        while (*eq == ' ')
            eq++;
        if (*eq != '=') {
            sbuf_add(&b, p, (size_t)(k - p) + 8);
            p = k + 8;
            continue;
        }
        sbuf_add(&b, p, (size_t)(eq - p) + 1);
        sbuf_puts(&b, "***");
        const char *v = eq + 1;
        while (*v == ' ')
            v++;
        if (*v == '\'') {
            v++;
            while (*v && *v != '\'') {
                if (*v == '\\' && v[1])
                    v++;
                v++;
            }
            if (*v)
                v++;
        } else {
            while (*v && *v != ' ')
                v++;
        }
        p = v;
    }
    if (!b.s)
        return xstrdup("");
    return b.s;
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
        del_fail(err, DEL_EUSAGE, "bad database URL '%s': %s; use postgresql://user@host:port/dbname",
                 red, msg ? msg : "cannot parse it");
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

PGconn *db_connect_start(const char *url, const char *application_name, del_err *err)
{
    if (db_check_url(url, err) != 0)
        return NULL;
    const char *keys[] = {"dbname", "fallback_application_name", "application_name", NULL};
    const char *vals[] = {url, "delembic", application_name, NULL};
    if (!url) {
        keys[0] = "fallback_application_name";
        vals[0] = "delembic";
        keys[1] = "application_name";
        vals[1] = application_name;
        keys[2] = NULL;
    }
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (!conn)
        del_fail(err, DEL_EUSAGE, "cannot connect: out of memory");
    return conn;
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
        del_fail(err, DEL_EUSAGE, "cannot connect to the database %s: %s; check --database, DELEMBIC_DATABASE_URL or the section's 'database'",
                 red, line);
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
}

PGresult *db_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                   del_err *err)
{
    PGresult *res = nparams > 0 ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
                                : PQexec(conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        char msg[1024];
        db_result_message(conn, res, msg, sizeof msg);
        del_fail(err, DEL_EUSAGE, "database: %s", msg);
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
