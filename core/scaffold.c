#include "scaffold.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alembic.h"
#include "db.h"
#include "util.h"

extern const char tmpl_delembic_yaml_in[];
extern const char tmpl_migration_c_in[];

char *scaffold_render(const char *tmpl, const char *const *kv)
{
    sbuf b = {0};
    const char *p = tmpl;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            const char *end = strstr(p + 2, "}}");
            if (end) {
                size_t klen = (size_t)(end - p - 2);
                const char *val = NULL;
                for (const char *const *k = kv; *k; k += 2)
                    if (strlen(k[0]) == klen && !strncmp(k[0], p + 2, klen))
                        val = k[1];
                if (val) {
                    sbuf_puts(&b, val);
                    p = end + 2;
                    continue;
                }
            }
        }
        sbuf_add(&b, p, 1);
        p++;
    }
    return b.s ? b.s : xstrdup("");
}

static int write_new(const char *path, const char *text, del_err *err)
{
    FILE *f = fopen(path, "wx");
    if (!f) {
        if (errno == EEXIST)
            return del_fail(err, DEL_KIND_CONFIG, "%s already exists; not overwriting it", path);
        return del_fail(err, DEL_KIND_CONFIG, "%s: cannot create: %s", path, strerror(errno));
    }
    fputs(text, f);
    if (fclose(f) != 0)
        return del_fail(err, DEL_KIND_CONFIG, "%s: write error", path);
    return 0;
}

/* The version_table_schema line of a new section. Sections that share a
 * database must keep their records apart: two sections numbering their own
 * migrations from D001 would each take the other's D001 as theirs. So a
 * section added with its own script folder gets a schema named after it; one
 * that shares a folder with an existing section runs the same migrations
 * (an environment) and keeps the default. */
#define SCHEMA_LINE_OWN "version_table_schema: %s   # this section's own records: sections that share a database must not share them"
#define SCHEMA_LINE_DEFAULT "# version_table_schema: public   # where the records live; sections that share a database need one each"

/* Does an existing section of cfg_path use folder (absolute) for its sources? */
static int folder_in_use(const char *cfg_path, char **names, size_t n, const char *folder)
{
    int used = 0;
    for (size_t i = 0; i < n && !used; i++) {
        del_config c;
        del_err e;
        if (config_load(cfg_path, names[i], 0, &c, &e) != 0)
            continue; /* a section that does not parse shares nothing we can tell */
        char *loc = path_absolute(c.script_location);
        used = strcmp(loc, folder) == 0;
        free(loc);
        config_free(&c);
    }
    return used;
}

int cmd_init(const app_opts *o, const char *dir, del_err *err)
{
    const char *folder = dir && *dir ? dir : "migrations";
    const char *section = o->section ? o->section : "delembic";
    for (const char *p = section; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return del_fail(err, DEL_KIND_CONFIG, "section name '%s' must use letters, digits, _ and - only", section);
    if (folder[0] == '/' || strstr(folder, ".."))
        return del_fail(err, DEL_KIND_CONFIG, "init DIR '%s' must be a folder inside this project (relative, no ..)", folder);
    const char *cfg_path = o->config_path ? o->config_path : "delembic.yaml";
    char *cfg_dir = path_dirname(cfg_path);
    char *folder_path = path_join(cfg_dir, folder);
    int rc = 0;
    if (entry_exists(cfg_path)) {
        if (!o->section) {
            free(cfg_dir);
            free(folder_path);
            return del_fail(err, DEL_KIND_CONFIG, "%s already exists; add another environment with 'delembic init -n NAME DIR'", cfg_path);
        }
        char **names;
        size_t n;
        if (config_list_sections(cfg_path, &names, &n, err) != 0) {
            free(cfg_dir);
            free(folder_path);
            return -1;
        }
        int exists = 0;
        for (size_t i = 0; i < n; i++)
            exists |= strcmp(names[i], section) == 0;
        char *abs_folder = path_absolute(folder_path);
        int shared = !exists && folder_in_use(cfg_path, names, n, abs_folder);
        free(abs_folder);
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        if (exists) {
            free(cfg_dir);
            free(folder_path);
            return del_fail(err, DEL_KIND_CONFIG, "%s already has a section '%s'; not overwriting it", cfg_path, section);
        }
        char *schema = shared ? xstrdup(SCHEMA_LINE_DEFAULT) : xasprintf(SCHEMA_LINE_OWN, section);
        const char *kv[] = {"section", section, "script_location", folder, "version_table_schema", schema, NULL};
        /* only the section, without the file's header comment */
        const char *from = strstr(tmpl_delembic_yaml_in, "\n{{section}}:");
        char *text = scaffold_render(from ? from + 1 : tmpl_delembic_yaml_in, kv);
        free(schema);
        FILE *f = fopen(cfg_path, "a");
        if (!f) {
            rc = del_fail(err, DEL_KIND_CONFIG, "%s: cannot write: %s", cfg_path, strerror(errno));
        } else {
            fprintf(f, "\n%s", text);
            if (fclose(f) != 0)
                rc = del_fail(err, DEL_KIND_CONFIG, "%s: write error", cfg_path);
            else
                del_emit_text(o->notify, DEL_EV_OUTPUT, "Added section '%s' to %s%s", section, cfg_path,
                       shared ? "" : " (with its own version_table_schema)");
        }
        free(text);
    } else {
        const char *kv[] = {"section", section, "script_location", folder,
                            "version_table_schema", SCHEMA_LINE_DEFAULT, NULL};
        char *text = scaffold_render(tmpl_delembic_yaml_in, kv);
        rc = write_new(cfg_path, text, err);
        if (rc == 0)
            del_emit_text(o->notify, DEL_EV_OUTPUT, "Wrote %s", cfg_path);
        free(text);
    }
    if (rc == 0 && !is_dir(folder_path)) {
        rc = mkdir_p(folder_path, 0755, err);
        if (rc == 0)
            del_emit_text(o->notify, DEL_EV_OUTPUT, "Created %s/ for the C sources of your data migrations", folder_path);
    }
    if (rc == 0) {
        /* the command to type next, with the options that chose this section */
        sbuf next = {0};
        sbuf_puts(&next, "delembic ");
        if (o->config_path)
            sbuf_printf(&next, "-c %s ", o->config_path);
        if (o->section)
            sbuf_printf(&next, "-n %s ", section);
        del_emit_text(o->notify, DEL_EV_OUTPUT, "Next: %srevision -m \"describe the change\"", next.s);
        sbuf_free(&next);
    }
    free(cfg_dir);
    free(folder_path);
    return rc == 0 ? 0 : -1;
}

/* UTF-8 letters folded to ASCII for file names; others are dropped. */
static const char *const fold_table[][2] = {
    {"à", "a"}, {"á", "a"}, {"â", "a"}, {"ã", "a"}, {"ä", "a"}, {"å", "a"}, {"æ", "ae"},
    {"ç", "c"}, {"è", "e"}, {"é", "e"}, {"ê", "e"}, {"ë", "e"}, {"ì", "i"}, {"í", "i"},
    {"î", "i"}, {"ï", "i"}, {"ñ", "n"}, {"ò", "o"}, {"ó", "o"}, {"ô", "o"}, {"õ", "o"},
    {"ö", "o"}, {"ø", "o"}, {"ù", "u"}, {"ú", "u"}, {"û", "u"}, {"ü", "u"}, {"ý", "y"},
    {"ÿ", "y"}, {"ß", "ss"}, {"À", "a"}, {"Á", "a"}, {"Â", "a"}, {"Ä", "a"}, {"Å", "a"},
    {"Æ", "ae"}, {"Ç", "c"}, {"È", "e"}, {"É", "e"}, {"Ê", "e"}, {"Ë", "e"}, {"Í", "i"},
    {"Ñ", "n"}, {"Ó", "o"}, {"Ô", "o"}, {"Ö", "o"}, {"Ø", "o"}, {"Ú", "u"}, {"Ü", "u"},
    {"ł", "l"}, {"Ł", "l"}, {"ś", "s"}, {"š", "s"}, {"Š", "s"}, {"ž", "z"}, {"Ž", "z"},
    {"č", "c"}, {"Č", "c"}, {"ř", "r"}, {"ě", "e"}, {"ą", "a"}, {"ę", "e"}, {"ő", "o"},
    {"ű", "u"}, {"œ", "oe"}, {"Œ", "oe"},
};

char *scaffold_slug(const char *message)
{
    sbuf b = {0};
    int pending_sep = 0;
    const unsigned char *p = (const unsigned char *)message;
    while (*p && b.len < 60) {
        const char *add = NULL;
        size_t adv = 1;
        char one[2] = {0, 0};
        if (isalnum(*p) && *p < 0x80) {
            one[0] = (char)tolower(*p);
            add = one;
        } else if (*p >= 0x80) {
            for (size_t i = 0; i < sizeof fold_table / sizeof fold_table[0]; i++) {
                size_t l = strlen(fold_table[i][0]);
                if (!strncmp((const char *)p, fold_table[i][0], l)) {
                    add = fold_table[i][1];
                    adv = l;
                    break;
                }
            }
            if (!add) { /* skip one whole UTF-8 sequence */
                adv = 1;
                while ((p[adv] & 0xC0) == 0x80)
                    adv++;
                pending_sep = 1;
            }
        } else {
            pending_sep = 1;
        }
        if (add) {
            if (pending_sep && b.len)
                sbuf_add(&b, "_", 1);
            pending_sep = 0;
            sbuf_puts(&b, add);
        }
        p += adv;
    }
    return b.s ? b.s : xstrdup("");
}

/* `.revision = "D012"` in a source, or NULL */
static char *revision_in(const char *text)
{
    const char *p = text;
    while ((p = strstr(p, "revision"))) {
        const char *q = p + 8;
        int dotted = p > text && p[-1] == '.';
        p = q;
        if (!dotted)
            continue;
        while (*q == ' ' || *q == '\t' || *q == '\n')
            q++;
        if (*q != '=')
            continue;
        q++;
        while (*q == ' ' || *q == '\t' || *q == '\n')
            q++;
        if (*q != '"')
            continue;
        const char *end = strchr(q + 1, '"');
        if (!end)
            continue;
        return xstrndup(q + 1, (size_t)(end - q - 1));
    }
    return NULL;
}

char *scaffold_next_revision(const char *script_dir, del_err *err)
{
    DIR *d = opendir(script_dir);
    if (!d) {
        del_fail(err, DEL_KIND_CONFIG, "%s: script folder not found: %s; run 'delembic init' first",
                 script_dir, strerror(errno));
        return NULL;
    }
    long long max = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_suffix(de->d_name, ".c") || de->d_name[0] == '.')
            continue;
        char *path = path_join(script_dir, de->d_name), *text = NULL;
        if (read_file(path, 4u << 20, &text, NULL, NULL) == 0) {
            char *rev = revision_in(text);
            if (rev && (rev[0] == 'D' || rev[0] == 'd') && isdigit((unsigned char)rev[1])) {
                char *end;
                long long v = strtoll(rev + 1, &end, 10);
                if (!*end && v > max)
                    max = v;
            }
            free(rev);
            free(text);
        }
        free(path);
    }
    closedir(d);
    return xasprintf("D%03lld", max + 1);
}

static char *c_escape(const char *s)
{
    sbuf b = {0};
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            sbuf_printf(&b, "\\%c", *p);
        else if (*p == '\n')
            sbuf_puts(&b, "\\n");
        else if (*p < 0x20)
            sbuf_printf(&b, "\\%03o", *p);
        else if (*p == '?' && p[1] == '?')
            sbuf_puts(&b, "?\\"); /* no trigraphs */
        else
            sbuf_add(&b, (const char *)p, 1);
    }
    return b.s ? b.s : xstrdup("");
}

static char *comment_safe(const char *s)
{
    sbuf b = {0};
    for (const char *p = s; *p; p++) {
        if (p[0] == '*' && p[1] == '/') {
            sbuf_puts(&b, "* /");
            p++;
        } else if (*p == '\n') {
            sbuf_add(&b, " ", 1);
        } else {
            sbuf_add(&b, p, 1);
        }
    }
    return b.s ? b.s : xstrdup("");
}

/* revision only reads the Alembic heads: an unreachable database is a warning, soon */
#define REVISION_CONNECT_TIMEOUT_S 5

/* The database's Alembic heads, or -1 with a warning line in err. */
static int capture_heads(app *a, strvec *heads, del_err *err)
{
    PGconn *conn = db_connect_within(a->url, "delembic revision", REVISION_CONNECT_TIMEOUT_S, err);
    if (!conn)
        return -1;
    int exists;
    int rc = alembic_db_heads(conn, a->cfg.alembic_version_table, heads, &exists, err);
    PQfinish(conn);
    strvec_sort_natural(heads);
    return rc;
}

int cmd_revision(app *a, const char *message, char **path_out, del_err *err)
{
    *path_out = NULL;
    if (!message || !*message)
        return del_fail(err, DEL_KIND_CONFIG, "revision needs a message: delembic revision -m \"load person demographics\"");
    char *rev = scaffold_next_revision(a->cfg.script_location, err);
    if (!rev)
        return -1;
    char *slug = scaffold_slug(message);
    char *file = *slug ? xasprintf("%s_%s.c", rev, slug) : xasprintf("%s.c", rev);
    char *path = path_join(a->cfg.script_location, file);

    strvec heads = {0};
    del_err herr;
    int captured = capture_heads(a, &heads, &herr) == 0;
    sbuf deps = {0};
    if (captured && heads.n) {
        sbuf_puts(&deps, "DM_DEPS(");
        for (size_t i = 0; i < heads.n; i++) {
            char *e = c_escape(heads.v[i]);
            sbuf_printf(&deps, "%s\"%s\"", i ? ", " : "", e);
            free(e);
        }
        sbuf_puts(&deps, ")");
    } else {
        sbuf_puts(&deps, "DM_NO_DEPS");
    }
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    char *desc_c = c_escape(message), *desc_comment = comment_safe(message);
    const char *kv[] = {"revision", rev, "description_c", desc_c, "description_comment", desc_comment,
                        "depends_on", deps.s, "date", date, NULL};
    char *text = scaffold_render(tmpl_migration_c_in, kv);
    int rc = write_new(path, text, err);
    if (rc == 0) {
        del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Generated %s (revision %s)", path, rev);
        if (captured) {
            char hs[1024];
            strvec_join(&heads, ", ", hs, sizeof hs);
            del_emit_text(a->o->notify, DEL_EV_OUTPUT, "Alembic heads captured: [%s]", hs);
        } else {
            del_emit_text(a->o->notify, DEL_EV_WARNING, "WARNING: could not read the Alembic heads, so depends_on is empty: %s", herr.msg);
        }
        *path_out = path;
        path = NULL;
    }
    free(text);
    free(desc_c);
    free(desc_comment);
    sbuf_free(&deps);
    strvec_clear(&heads);
    free(rev);
    free(slug);
    free(file);
    free(path);
    return rc == 0 ? 0 : -1;
}
