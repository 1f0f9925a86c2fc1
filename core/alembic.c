#include "alembic.h"

#include <ctype.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "util.h"

#define SCRIPT_MAX_BYTES (4u << 20)

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

int alembic_read_ini(const char *ini_path, strvec *version_dirs, del_err *err)
{
    char *text;
    if (read_file(ini_path, 1u << 20, &text, NULL, err) != 0)
        return del_err_wrap(err, "alembic_config");
    char *here = path_dirname(ini_path);
    char *script_location = NULL, *version_locations = NULL, *separator = NULL;
    int in_alembic = 0;
    size_t lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *l = trim(line);
        if (!*l || *l == '#' || *l == ';')
            continue;
        if (*l == '[') {
            in_alembic = strncmp(l, "[alembic]", 9) == 0;
            continue;
        }
        if (!in_alembic)
            continue;
        char *eq = strchr(l, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *key = trim(l), *val = trim(eq + 1);
        char **dst = !strcmp(key, "script_location")     ? &script_location
                     : !strcmp(key, "version_locations") ? &version_locations
                     : !strcmp(key, "version_path_separator") ? &separator
                                                              : NULL;
        if (!dst)
            continue;
        /* expand %(here)s */
        sbuf b = {0};
        for (const char *p = val; *p;) {
            if (strncmp(p, "%(here)s", 8) == 0) {
                sbuf_puts(&b, here);
                p += 8;
            } else {
                sbuf_add(&b, p, 1);
                p++;
            }
        }
        free(*dst);
        *dst = b.s ? b.s : xstrdup("");
    }
    int rc = 0;
    if (!script_location) {
        rc = del_fail(err, DEL_KIND_CONFIG, "%s: no script_location in its [alembic] section; is this the project's alembic.ini?",
                      ini_path);
    } else if (strchr(script_location, ':') && script_location[0] != '/') {
        rc = del_fail(err, DEL_KIND_CONFIG, "%s: script_location '%s' is a package resource; give a folder path instead",
                      ini_path, script_location);
    } else if (version_locations && *version_locations) {
        const char *sep = " ";
        if (separator && !strcmp(separator, "os"))
            sep = ":";
        else if (separator && (!strcmp(separator, ";") || !strcmp(separator, ":") || !strcmp(separator, "space")))
            sep = !strcmp(separator, "space") ? " " : separator;
        else
            sep = " ,";
        char *s2 = NULL;
        for (char *p = strtok_r(version_locations, sep, &s2); p; p = strtok_r(NULL, sep, &s2))
            strvec_push_owned(version_dirs, path_join(here, p));
    } else {
        char *loc = path_join(here, script_location);
        strvec_push_owned(version_dirs, path_join(loc, "versions"));
        free(loc);
    }
    free(script_location);
    free(version_locations);
    free(separator);
    free(here);
    free(text);
    return rc;
}

/* ---- a copy of alembic.ini for one database --------------------------- */

/* s with '%' doubled: a literal value for configparser's interpolation */
static void ini_literal(sbuf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '%')
            sbuf_puts(b, "%%");
        else
            sbuf_add(b, s, 1);
    }
}

/* one line, %(here)s replaced by the original folder (escaped %% kept) */
static void ini_line(sbuf *b, const char *line, size_t n, const char *here)
{
    for (size_t i = 0; i < n;) {
        if (line[i] == '%' && i + 1 < n && line[i + 1] == '%') {
            sbuf_add(b, line + i, 2);
            i += 2;
        } else if (n - i >= 8 && strncmp(line + i, "%(here)s", 8) == 0) {
            ini_literal(b, here);
            i += 8;
        } else {
            sbuf_add(b, line + i, 1);
            i++;
        }
    }
}

static int blank_line(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)p[i]))
            return 0;
    return 1;
}

static size_t line_len(const char *p)
{
    const char *nl = strchr(p, '\n');
    return nl ? (size_t)(nl - p) + 1 : strlen(p);
}

/* The key of an option line ("key = value" or "key: value"), lowercased, in buf. */
static int option_key(const char *p, size_t n, char *buf, size_t bufsz)
{
    size_t k = 0;
    while (k < n && p[k] != '=' && p[k] != ':' && p[k] != '\n')
        k++;
    if (k >= n || (p[k] != '=' && p[k] != ':'))
        return 0;
    while (k > 0 && isspace((unsigned char)p[k - 1]))
        k--;
    if (k + 1 > bufsz)
        return 0;
    for (size_t i = 0; i < k; i++)
        buf[i] = (char)tolower((unsigned char)p[i]);
    buf[k] = '\0';
    return 1;
}

char *alembic_ini_with_url(const char *text, const char *here, const char *url)
{
    sbuf b = {0}, urlline = {0};
    sbuf_puts(&urlline, "sqlalchemy.url = ");
    ini_literal(&urlline, url);
    sbuf_puts(&urlline, "\n");
    int in_alembic = 0, saw_alembic = 0, skipping = 0;
    for (const char *p = text; *p;) {
        size_t n = line_len(p);
        int indented = *p == ' ' || *p == '\t';
        int blank = blank_line(p, n);
        if (skipping) {
            /* the old value's continuation lines (and blank lines inside it) */
            if (indented && !blank) {
                p += n;
                continue;
            }
            if (blank) {
                const char *q = p + n;
                while (*q && blank_line(q, line_len(q)))
                    q += line_len(q);
                if (*q == ' ' || *q == '\t') {
                    p = q;
                    continue;
                }
            }
            skipping = 0;
        }
        const char *t = p;
        while (t < p + n && (*t == ' ' || *t == '\t'))
            t++;
        char key[64];
        if (blank) {
            ini_line(&b, p, n, here);
        } else if (!indented && *t == '[') {
            in_alembic = strncmp(t, "[alembic]", 9) == 0;
            ini_line(&b, p, n, here);
            if (n && p[n - 1] != '\n')
                sbuf_puts(&b, "\n");
            if (in_alembic) {
                /* the database first in the section; the original line goes */
                saw_alembic = 1;
                sbuf_add(&b, urlline.s, urlline.len);
            }
        } else if (in_alembic && !indented && *t != '#' && *t != ';' && option_key(p, n, key, sizeof key) &&
                   !strcmp(key, "sqlalchemy.url")) {
            skipping = 1;
        } else {
            ini_line(&b, p, n, here);
        }
        p += n;
    }
    if (!saw_alembic) {
        if (b.len && b.s[b.len - 1] != '\n')
            sbuf_puts(&b, "\n");
        sbuf_puts(&b, "\n[alembic]\n");
        sbuf_add(&b, urlline.s, urlline.len);
    }
    explicit_bzero(urlline.s, urlline.len);
    sbuf_free(&urlline);
    return b.s;
}

/* ---- the script reader ---------------------------------------------- */

typedef struct cursor {
    const char *p;
    size_t line;
} cursor;

static void skip_space(cursor *c, int newlines)
{
    for (;;) {
        if (*c->p == ' ' || *c->p == '\t' || *c->p == '\r' || *c->p == '\f') {
            c->p++;
        } else if (*c->p == '\\' && c->p[1] == '\n') {
            c->p += 2;
            c->line++;
        } else if (newlines && *c->p == '\n') {
            c->p++;
            c->line++;
        } else if (newlines && *c->p == '#') {
            while (*c->p && *c->p != '\n')
                c->p++;
        } else {
            return;
        }
    }
}

/* A Python string literal (with optional r/u prefix); 0 ok, -1 not one. */
static int read_string(cursor *c, char **out)
{
    const char *p = c->p;
    if (*p == 'r' || *p == 'R' || *p == 'u' || *p == 'U')
        p++;
    char q = *p;
    if (q != '\'' && q != '"')
        return -1;
    int triple = p[1] == q && p[2] == q;
    p += triple ? 3 : 1;
    sbuf b = {0};
    for (;;) {
        if (!*p || (!triple && *p == '\n')) {
            sbuf_free(&b);
            return -1;
        }
        if (*p == '\\' && p[1]) {
            sbuf_add(&b, p + 1, 1);
            p += 2;
            continue;
        }
        if (*p == q && (!triple || (p[1] == q && p[2] == q))) {
            p += triple ? 3 : 1;
            break;
        }
        if (*p == '\n')
            c->line++;
        sbuf_add(&b, p, 1);
        p++;
    }
    c->p = p;
    *out = b.s ? b.s : xstrdup("");
    return 0;
}

/* None | 'x' | ('a', 'b') | ['a', 'b'] */
static int read_value(cursor *c, strvec *vals, int *is_none)
{
    *is_none = 0;
    skip_space(c, 0);
    if (strncmp(c->p, "None", 4) == 0 && !isalnum((unsigned char)c->p[4]) && c->p[4] != '_') {
        c->p += 4;
        *is_none = 1;
        return 0;
    }
    char *s;
    if (*c->p == '(' || *c->p == '[') {
        char close = *c->p == '(' ? ')' : ']';
        c->p++;
        for (;;) {
            skip_space(c, 1);
            if (*c->p == close) {
                c->p++;
                return 0;
            }
            if (read_string(c, &s) != 0)
                return -1;
            strvec_push_owned(vals, s);
            skip_space(c, 1);
            if (*c->p == ',') {
                c->p++;
                continue;
            }
            if (*c->p == close) {
                c->p++;
                return 0;
            }
            return -1;
        }
    }
    if (read_string(c, &s) != 0)
        return -1;
    strvec_push_owned(vals, s);
    return 0;
}

/* At the start of a line: NAME [: annotation] = ; returns 1 with c after '='. */
static int assignment_of(cursor *c, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(c->p, name, n) != 0)
        return 0;
    const char *p = c->p + n;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == ':') {
        /* annotation: up to '=' on this line, outside brackets */
        int depth = 0;
        p++;
        while (*p && *p != '\n') {
            if (*p == '[' || *p == '(')
                depth++;
            else if (*p == ']' || *p == ')')
                depth--;
            else if (*p == '=' && depth == 0)
                break;
            p++;
        }
    }
    if (*p != '=' || p[1] == '=')
        return 0;
    c->p = p + 1;
    return 1;
}

int alembic_parse_script(const char *name, const char *text, char **revision, strvec *down,
                         int *found_down, del_err *err)
{
    *revision = NULL;
    *found_down = 0;
    cursor c = {text, 1};
    int in_triple = 0;
    char triple_q = 0;
    while (*c.p) {
        size_t line_no = c.line;
        if (in_triple) {
            /* find the closing quotes on this line */
            const char *end = strchr(c.p, '\n');
            size_t len = end ? (size_t)(end - c.p) : strlen(c.p);
            for (size_t i = 0; i + 3 <= len; i++)
                if (c.p[i] == triple_q && c.p[i + 1] == triple_q && c.p[i + 2] == triple_q) {
                    in_triple = 0;
                    break;
                }
        } else if (assignment_of(&c, "revision")) {
            strvec v = {0};
            int none;
            if (read_value(&c, &v, &none) != 0 || none || v.n != 1) {
                strvec_clear(&v);
                free(*revision);
                *revision = NULL;
                return del_fail(err, DEL_KIND_CONFIG, "%s:%zu: cannot read revision: expected a quoted string such as revision = 'ae1027a6acf'",
                                name, line_no);
            }
            free(*revision);
            *revision = xstrdup(v.v[0]);
            strvec_clear(&v);
        } else if (assignment_of(&c, "down_revision")) {
            strvec v = {0};
            int none;
            if (read_value(&c, &v, &none) != 0) {
                strvec_clear(&v);
                free(*revision);
                *revision = NULL;
                return del_fail(err, DEL_KIND_CONFIG, "%s:%zu: cannot read down_revision: expected None, a quoted string or a tuple of strings",
                                name, line_no);
            }
            strvec_clear(down);
            for (size_t i = 0; i < v.n; i++)
                strvec_push(down, v.v[i]);
            strvec_clear(&v);
            *found_down = 1;
        } else {
            /* a line that opens a triple-quoted string without closing it */
            const char *end = strchr(c.p, '\n');
            size_t len = end ? (size_t)(end - c.p) : strlen(c.p);
            for (size_t i = 0; i + 2 < len; i++) {
                if ((c.p[i] == '"' || c.p[i] == '\'') && c.p[i + 1] == c.p[i] && c.p[i + 2] == c.p[i]) {
                    char q = c.p[i];
                    i += 3;
                    int closed = 0;
                    for (; i + 2 < len; i++)
                        if (c.p[i] == q && c.p[i + 1] == q && c.p[i + 2] == q) {
                            closed = 1;
                            i += 2;
                            break;
                        }
                    if (!closed) {
                        in_triple = 1;
                        triple_q = q;
                        break;
                    }
                }
            }
        }
        /* next line (an assignment may have read across several) */
        const char *nl = strchr(c.p, '\n');
        if (!nl)
            break;
        c.p = nl + 1;
        c.line++;
    }
    if (!*revision)
        return del_fail(err, DEL_KIND_CONFIG, "%s:1: no module-level revision = '...' found; is this an Alembic version script?",
                        name);
    if (!*found_down) {
        free(*revision);
        *revision = NULL;
        return del_fail(err, DEL_KIND_CONFIG, "%s:1: no module-level down_revision = ... found; an Alembic version script needs one",
                        name);
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int alembic_read_graph(const char *ini_path, algraph *g, del_err *err)
{
    strvec dirs = {0};
    memset(g, 0, sizeof *g);
    if (alembic_read_ini(ini_path, &dirs, err) != 0) {
        strvec_clear(&dirs);
        return -1;
    }
    int rc = 0;
    for (size_t d = 0; d < dirs.n && rc == 0; d++) {
        DIR *dir = opendir(dirs.v[d]);
        if (!dir) {
            rc = del_fail(err, DEL_KIND_CONFIG, "%s: Alembic versions folder not found (from %s)",
                          dirs.v[d], ini_path);
            break;
        }
        strvec files = {0};
        struct dirent *de;
        while ((de = readdir(dir)))
            if (has_suffix(de->d_name, ".py") && de->d_name[0] != '.' &&
                strcmp(de->d_name, "__init__.py") != 0)
                strvec_push(&files, de->d_name);
        closedir(dir);
        if (files.n)
            qsort(files.v, files.n, sizeof *files.v, by_name);
        for (size_t i = 0; i < files.n && rc == 0; i++) {
            char *path = path_join(dirs.v[d], files.v[i]);
            char *text;
            if (read_file(path, SCRIPT_MAX_BYTES, &text, NULL, err) != 0) {
                rc = -1;
            } else {
                char *rev;
                strvec down = {0};
                int found;
                if (alembic_parse_script(path, text, &rev, &down, &found, err) != 0) {
                    rc = -1;
                } else {
                    alnode *n = algraph_add(g, rev);
                    n->file = xstrdup(path);
                    for (size_t k = 0; k < down.n; k++)
                        strvec_push(&n->down, down.v[k]);
                    free(rev);
                }
                strvec_clear(&down);
                free(text);
            }
            free(path);
        }
        strvec_clear(&files);
    }
    strvec_clear(&dirs);
    if (rc == 0)
        rc = algraph_validate(g, ini_path, err);
    if (rc != 0)
        algraph_free(g);
    return rc;
}

int alembic_db_heads(PGconn *conn, const char *table, strvec *heads, int *exists, del_err *err)
{
    const char *params[1] = {table};
    PGresult *r = db_query(conn, "SELECT to_regclass($1) IS NOT NULL", 1, params, err);
    if (!r)
        return -1;
    *exists = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!*exists)
        return 0;
    char *sql = xasprintf("SELECT version_num FROM %s", table);
    r = db_query(conn, sql, 0, NULL, err);
    free(sql);
    if (!r)
        return del_err_wrap(err, "cannot read Alembic's %s", table);
    for (int i = 0; i < PQntuples(r); i++)
        strvec_push(heads, PQgetvalue(r, i, 0));
    PQclear(r);
    return 0;
}
