#include "config.h"

#include "batchsize.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"
#include "yamltree.h"

#define CONFIG_MAX_BYTES (1u << 20)
/* NAMEDATALEN - 1: the longest name PostgreSQL keeps */
#define PG_NAME_MAX 63

char *config_find(const char *start_dir)
{
    char *dir = path_absolute(start_dir);
    for (;;) {
        char *candidate = path_join(dir, DEL_CONFIG_FILE);
        /* any entry stops the walk (a dangling link or a FIFO too): what is
         * found is then checked, never skipped for one further up */
        if (entry_exists(candidate)) {
            free(dir);
            return candidate;
        }
        free(candidate);
        if (strcmp(dir, "/") == 0)
            break;
        char *up = path_dirname(dir);
        free(dir);
        dir = up;
    }
    free(dir);
    return NULL;
}

void config_free(del_config *cfg)
{
    free(cfg->path);
    free(cfg->dir);
    free(cfg->section);
    free(cfg->script_location);
    free(cfg->build_dir);
    free(cfg->database);
    free(cfg->alembic_config);
    free(cfg->alembic_version_table);
    free(cfg->alembic_command);
    free(cfg->pipeline_file);
    free(cfg->statement_timeout);
    free(cfg->lock_timeout);
    free(cfg->batch_target_text);
    free(cfg->batch_pause_text);
    free(cfg->batch_lock_timeout_text);
    free(cfg->max_replication_lag_text);
    free(cfg->timeout);
    free(cfg->version_table_schema);
    strvec_clear(&cfg->trusted_keys);
    memset(cfg, 0, sizeof *cfg);
}

/* A PostgreSQL duration: digits, optional fraction, optional unit word. */
static int valid_interval(const char *s)
{
    return config_duration_seconds(s) >= 0;
}

double config_duration_seconds(const char *text)
{
    const char *p = text;
    if (!(*p >= '0' && *p <= '9'))
        return -1;
    while ((*p >= '0' && *p <= '9') || *p == '.')
        p++;
    char *end;
    double v = strtod(text, &end);
    if (end != p)
        return -1; /* "1.2.3" */
    while (*p == ' ')
        p++;
    static const struct {
        const char *unit;
        double seconds;
    } units[] = {{"", 0.001}, {"ms", 0.001}, {"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(p, units[i].unit) == 0)
            return v * units[i].seconds;
    return -1;
}

static void set_defaults(del_config *cfg, const char *base_dir)
{
    cfg->dir = xstrdup(base_dir);
    cfg->script_location = path_join(base_dir, "migrations");
    cfg->build_dir = path_join(base_dir, "build/migrations");
    cfg->alembic_version_table = xstrdup("alembic_version");
    cfg->version_table_schema = xstrdup("public");
    cfg->pipeline_file = path_join(base_dir, "pipeline.yaml");
    cfg->jobs = 1;
    cfg->batch_target = BATCH_DEFAULT_TARGET_S;
    cfg->batch_lock_timeout = BATCH_DEFAULT_LOCK_TIMEOUT_S;
    cfg->batch_min = BATCH_DEFAULT_MIN;
    cfg->batch_max = BATCH_DEFAULT_MAX;
}

static const char *const section_keys[] = {
    "script_location", "build_dir", "database", "alembic_config", "alembic_version_table",
    "alembic_command", "pipeline", "statement_timeout", "lock_timeout", "timeout",
    "version_table_schema", "jobs", "extends", "trusted_keys", "batch_target", "batch_min", "batch_max",
    "batch_pause", "batch_lock_timeout", "max_replication_lag", NULL};

/* How many sections an `extends:` chain may go through (a cycle stops here). */
#define CONFIG_EXTENDS_MAX 8

/* The fields of section secname (node sec) into cfg, after those of the
 * section it extends, if any (so its own override them). */
static int read_section(const char *name, const ynode *root, const ynode *sec, const char *secname,
                        const char *base_dir, del_config *cfg, int depth, const char **chain, del_err *err)
{
    chain[depth] = secname; /* the sections on the way here: a cycle names them */
    char where[160];
    snprintf(where, sizeof where, "section '%s'", secname);
    if (yscalar_is_null(sec) && sec->kind == YNODE_SCALAR)
        return 0; /* an empty section: all defaults */
    if (yexpect(name, sec, YNODE_MAP, where, err) != 0 ||
        ymap_check_keys(name, sec, section_keys, where, err) != 0)
        return -1;
    const char *parent = NULL;
    if (yget_string(name, sec, "extends", 0, &parent, err) != 0)
        return -1;
    if (parent) {
        const ynode *v = ymap_get(sec, "extends");
        const ynode *ps = ymap_get(root, parent);
        for (int k = 0; k <= depth; k++) {
            if (strcmp(chain[k], parent) != 0)
                continue;
            sbuf path = {0};
            for (int j = k; j <= depth; j++)
                sbuf_printf(&path, "'%s' extends ", chain[j]);
            sbuf_printf(&path, "'%s'", parent);
            int rc = del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: a cycle of extends: %s; make one of them extend none",
                              name, v->line, v->col, path.s);
            sbuf_free(&path);
            return rc;
        }
        if (depth + 1 >= CONFIG_EXTENDS_MAX)
            return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: section '%s' (from '%s'): an extends chain may hold at most %d sections; make one section extend another directly",
                            name, v->line, v->col, secname, chain[0], CONFIG_EXTENDS_MAX);
        if (!ps)
            return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: section '%s' extends '%s', which is not a section of this file",
                            name, v->line, v->col, secname, parent);
        if (read_section(name, root, ps, parent, base_dir, cfg, depth + 1, chain, err) != 0)
            return -1;
    }
    struct {
        const char *key;
        char **dst;
        int is_path;
    } fields[] = {
        {"script_location", &cfg->script_location, 1},
        {"build_dir", &cfg->build_dir, 1},
        {"database", &cfg->database, 0},
        {"alembic_config", &cfg->alembic_config, 1},
        {"alembic_version_table", &cfg->alembic_version_table, 0},
        {"alembic_command", &cfg->alembic_command, 0},
        {"pipeline", &cfg->pipeline_file, 1},
        {"statement_timeout", &cfg->statement_timeout, 0},
        {"lock_timeout", &cfg->lock_timeout, 0},
        {"timeout", &cfg->timeout, 0},
        {"version_table_schema", &cfg->version_table_schema, 0},
        {"batch_target", &cfg->batch_target_text, 0},
        {"batch_pause", &cfg->batch_pause_text, 0},
        {"batch_lock_timeout", &cfg->batch_lock_timeout_text, 0},
        {"max_replication_lag", &cfg->max_replication_lag_text, 0},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *s = NULL;
        if (yget_string(name, sec, fields[i].key, 0, &s, err) != 0)
            return -1;
        if (!s)
            continue;
        if (!*s) {
            const ynode *v = ymap_get(sec, fields[i].key);
            return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' is empty; give a value or remove it",
                            name, v->line, v->col, fields[i].key);
        }
        free(*fields[i].dst);
        *fields[i].dst = fields[i].is_path ? path_join(base_dir, s) : xstrdup(s);
    }
    if (yget_int(name, sec, "jobs", 0, 1, 256, &cfg->jobs, err) != 0 ||
        yget_int(name, sec, "batch_min", 0, 1, BATCH_SIZE_LIMIT, &cfg->batch_min, err) != 0 ||
        yget_int(name, sec, "batch_max", 0, 1, BATCH_SIZE_LIMIT, &cfg->batch_max, err) != 0)
        return -1;
    /* trusted_keys: one entry, or a list; a section's own replace those of
     * the section it extends */
    const ynode *tk = ymap_get(sec, "trusted_keys");
    if (tk)
        strvec_clear(&cfg->trusted_keys);
    if (tk && tk->kind == YNODE_SCALAR && !yscalar_is_null(tk)) {
        strvec_push(&cfg->trusted_keys, tk->value);
    } else if (tk && tk->kind != YNODE_SCALAR) {
        const ynode *seq = NULL;
        if (yget_string_list(name, sec, "trusted_keys", &seq, err) != 0)
            return -1;
        for (size_t i = 0; seq && i < seq->n; i++)
            strvec_push(&cfg->trusted_keys, seq->items[i]->value);
    }
    return 0;
}

/* The node of field key for a message: in sec, or in a section it extends. */
static const ynode *field_node(const ynode *root, const ynode *sec, const char *key)
{
    for (int depth = 0; sec && sec->kind == YNODE_MAP && depth <= CONFIG_EXTENDS_MAX; depth++) {
        const ynode *v = ymap_get(sec, key);
        if (v)
            return v;
        const ynode *ext = ymap_get(sec, "extends");
        sec = ext && ext->kind == YNODE_SCALAR ? ymap_get(root, ext->value) : NULL;
    }
    return NULL;
}

int config_parse(const char *name, const char *text, size_t len, const char *section,
                 const char *base_dir, del_config *cfg, del_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    set_defaults(cfg, base_dir);
    cfg->section = xstrdup(section ? section : DEL_DEFAULT_SECTION);
    ynode *root = NULL;
    if (yaml_parse(name, text, len, &root, err) != 0)
        goto fail;
    if (!root) {
        del_fail(err, DEL_KIND_CONFIG, "%s: the file is empty; it needs a section such as '%s:' (run 'delembic init')",
                 name, cfg->section);
        goto fail;
    }
    if (yexpect(name, root, YNODE_MAP, "the top level (sections by name)", err) != 0)
        goto fail;
    const ynode *sec = ymap_get(root, cfg->section);
    if (!sec) {
        char names[512] = "";
        size_t l = 0;
        for (size_t i = 0; i < root->n && l < sizeof names; i++)
            l += (size_t)snprintf(names + l, sizeof names - l, "%s%s", i ? ", " : "",
                                  root->keys[i]->value);
        del_fail(err, DEL_KIND_CONFIG, "%s: no section '%s'; sections here: %s (choose one with -n NAME)",
                 name, cfg->section, root->n ? names : "none");
        goto fail;
    }
    const char *chain[CONFIG_EXTENDS_MAX];
    if (read_section(name, root, sec, cfg->section, base_dir, cfg, 0, chain, err) != 0)
        goto fail;
    const char *timeouts[] = {"statement_timeout", "lock_timeout", "timeout"};
    char *tvals[] = {cfg->statement_timeout, cfg->lock_timeout, cfg->timeout};
    for (int i = 0; i < 3; i++) {
        if (tvals[i] && !valid_interval(tvals[i])) {
            const ynode *v = field_node(root, sec, timeouts[i]);
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' must be a duration like 30s, 500ms or 5min, not '%.40s'",
                     name, v ? v->line : 0, v ? v->col : 0, timeouts[i], tvals[i]);
            goto fail;
        }
    }
    /* the batch settings: durations, the target and the lock timeout more than zero */
    const char *bkeys[] = {"batch_target", "batch_pause", "batch_lock_timeout", "max_replication_lag"};
    char *bvals[] = {cfg->batch_target_text, cfg->batch_pause_text, cfg->batch_lock_timeout_text,
                     cfg->max_replication_lag_text};
    double *bout[] = {&cfg->batch_target, &cfg->batch_pause, &cfg->batch_lock_timeout, &cfg->max_replication_lag};
    for (int i = 0; i < 4; i++) {
        if (!bvals[i])
            continue;
        double v = config_duration_seconds(bvals[i]);
        const ynode *node = field_node(root, sec, bkeys[i]);
        if (v < 0) {
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' must be a duration like 0.5s, 500ms or 2min, not '%.40s'",
                     name, node ? node->line : 0, node ? node->col : 0, bkeys[i], bvals[i]);
            goto fail;
        }
        if (v <= 0 && i != 1) {
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' must be more than zero%s",
                     name, node ? node->line : 0, node ? node->col : 0, bkeys[i],
                     i == 3 ? "; remove it not to check the replicas" : "");
            goto fail;
        }
        *bout[i] = v;
    }
    if (cfg->batch_min > cfg->batch_max) {
        const ynode *node = field_node(root, sec, "batch_min");
        if (!node)
            node = field_node(root, sec, "batch_max");
        del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field 'batch_min' (%lld) is more than batch_max (%lld); make batch_min at most batch_max",
                 name, node ? node->line : 0, node ? node->col : 0, cfg->batch_min, cfg->batch_max);
        goto fail;
    }
    if (cfg->timeout && config_duration_seconds(cfg->timeout) <= 0) {
        const ynode *v = field_node(root, sec, "timeout");
        del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field 'timeout' must be more than zero; remove it for no limit",
                 name, v ? v->line : 0, v ? v->col : 0);
        goto fail;
    }
    const char *vs = cfg->version_table_schema;
    int bad_schema = strlen(vs) > PG_NAME_MAX;
    for (const char *p = vs; *p; p++)
        bad_schema |= (unsigned char)*p < 0x20 || *p == 0x7f;
    if (bad_schema) {
        const ynode *v = field_node(root, sec, "version_table_schema");
        del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field 'version_table_schema' must be a schema name of at most %d bytes without control characters",
                 name, v ? v->line : 0, v ? v->col : 0, PG_NAME_MAX);
        goto fail;
    }
    const char *vt = cfg->alembic_version_table;
    for (const char *p = vt; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '.')) {
            const ynode *v = field_node(root, sec, "alembic_version_table");
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field 'alembic_version_table' must be a table name (letters, digits, _ and an optional schema.)",
                     name, v ? v->line : 0, v ? v->col : 0);
            goto fail;
        }
    }
    ynode_free(root);
    return 0;
fail:
    ynode_free(root);
    config_free(cfg);
    return -1;
}

/* Owned by the invoking user or root, and writable by nobody else. */
static int trusted_owner(const struct stat *st)
{
    return st->st_uid == geteuid() || st->st_uid == 0;
}

/* A group only the owner is in (a user private group: with umask 002, as
 * Ubuntu gives, every file is writable by it) lets nobody else write. Its
 * members: the users whose primary group it is, and its own member list;
 * exactly one, the owner (the rule of Debian's OpenSSH for StrictModes). */
static int private_group(uid_t owner, gid_t gid)
{
    struct group *gr = getgrgid(gid);
    if (!gr)
        return 0;
    int members = 0, others = 0;
    struct passwd *pw;
    setpwent();
    while ((pw = getpwent()))
        if (pw->pw_gid == gid) {
            members++;
            others |= pw->pw_uid != owner;
        }
    endpwent();
    pw = getpwuid(owner);
    gr = getgrgid(gid); /* getpwent may have reused the buffers */
    if (!pw || !gr || others)
        return 0;
    for (char **m = gr->gr_mem; *m; m++) {
        members++;
        others |= strcmp(*m, pw->pw_name) != 0;
    }
    return members > 0 && !others;
}

/* Who besides the owner may write it: NULL for nobody. */
static const char *who_else_writes(const struct stat *st)
{
    if (st->st_mode & S_IWOTH)
        return "others";
    if ((st->st_mode & S_IWGRP) && !private_group(st->st_uid, st->st_gid))
        return "its group";
    return NULL;
}

static void owner_name(uid_t uid, char *buf, size_t bufsz)
{
    struct passwd *pw = getpwuid(uid);
    if (pw && pw->pw_name)
        snprintf(buf, bufsz, "%s (uid %u)", pw->pw_name, (unsigned)uid);
    else
        snprintf(buf, bufsz, "uid %u", (unsigned)uid);
}

#define CONFIG_UNTRUSTED_HINT \
    "a %s found by walking up is used only when you or root own it and its folder, and nobody else can write to either: " \
    "pass it with -c FILE to use it anyway, fix its owner or mode, or run from a folder outside %s"

/* A config found by walking up (not one given with -c): another user must
 * not be able to choose it for you (a file planted above your folder in a
 * shared /tmp, or one anybody can edit). The folder it is in and the file
 * itself: owned by you or root, writable by nobody else. Then it is read
 * through the descriptor that was checked. */
static int read_found_config(const char *path, char **text, size_t *len, del_err *err)
{
    char *dir = path_dirname(path);
    struct stat st, dst;
    char who[96];
    int rc = -1, fd = -1;
    if (stat(path, &st) == 0 && !trusted_owner(&st)) {
        owner_name(st.st_uid, who, sizeof who);
        del_fail(err, DEL_KIND_CONFIG, "%s: found by walking up, but it is owned by %s; " CONFIG_UNTRUSTED_HINT,
                 path, who, DEL_CONFIG_FILE, dir);
    } else if (stat(dir, &dst) != 0) {
        del_fail(err, DEL_KIND_CONFIG, "%s: cannot read its folder %s: %s", path, dir, strerror(errno));
    } else if (!trusted_owner(&dst)) {
        owner_name(dst.st_uid, who, sizeof who);
        del_fail(err, DEL_KIND_CONFIG, "%s: found by walking up, but its folder %s is owned by %s; " CONFIG_UNTRUSTED_HINT,
                 path, dir, who, DEL_CONFIG_FILE, dir);
    } else if (who_else_writes(&dst)) {
        del_fail(err, DEL_KIND_CONFIG, "%s: found by walking up, but its folder %s is writable by %s; " CONFIG_UNTRUSTED_HINT,
                 path, dir, who_else_writes(&dst), DEL_CONFIG_FILE, dir);
    } else if ((fd = open_regular(path, &st, err)) < 0) {
        /* a FIFO, a device, a folder: refused without opening it */
    } else if (!trusted_owner(&st)) { /* what was opened, should it have changed */
        owner_name(st.st_uid, who, sizeof who);
        del_fail(err, DEL_KIND_CONFIG, "%s: found by walking up, but it is owned by %s; " CONFIG_UNTRUSTED_HINT,
                 path, who, DEL_CONFIG_FILE, dir);
    } else if (who_else_writes(&st)) {
        del_fail(err, DEL_KIND_CONFIG, "%s: found by walking up, but it is writable by %s; " CONFIG_UNTRUSTED_HINT,
                 path, who_else_writes(&st), DEL_CONFIG_FILE, dir);
    } else {
        rc = read_fd(fd, path, &st, CONFIG_MAX_BYTES, text, len, err);
    }
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

int config_load(const char *explicit_path, const char *section, int allow_missing,
                del_config *cfg, del_err *err)
{
    char *path = NULL;
    memset(cfg, 0, sizeof *cfg);
    if (explicit_path) {
        if (!entry_exists(explicit_path))
            return del_fail(err, DEL_KIND_CONFIG, "%s: config file not found (given with -c)", explicit_path);
        path = path_absolute(explicit_path);
    } else {
        path = config_find(".");
    }
    if (!path) {
        if (!allow_missing) {
            char *cwd = path_absolute(".");
            del_fail(err, DEL_KIND_CONFIG, "no %s found in %s or any parent folder", DEL_CONFIG_FILE, cwd);
            free(cwd);
            return del_hint(err, "run 'delembic init' or pass -c FILE");
        }
        if (section && strcmp(section, DEL_DEFAULT_SECTION) != 0)
            return del_fail(err, DEL_KIND_CONFIG, "section '%s' asked for with -n, but no %s was found",
                            section, DEL_CONFIG_FILE);
        char *cwd = path_absolute(".");
        set_defaults(cfg, cwd);
        cfg->section = xstrdup(DEL_DEFAULT_SECTION);
        free(cwd);
        return 0;
    }
    char *text;
    size_t len;
    int read_rc = explicit_path ? read_file(path, CONFIG_MAX_BYTES, &text, &len, err)
                                : read_found_config(path, &text, &len, err);
    if (read_rc != 0) {
        free(path);
        return -1;
    }
    char *dir = path_dirname(path);
    int rc = config_parse(path, text, len, section, dir, cfg, err);
    free(text);
    free(dir);
    if (rc != 0) {
        free(path);
        return -1;
    }
    cfg->path = path;
    return 0;
}

int config_list_sections(const char *path, char ***names, size_t *n, del_err *err)
{
    ynode *root = NULL;
    *names = NULL;
    *n = 0;
    if (yaml_load_file(path, CONFIG_MAX_BYTES, &root, err) != 0)
        return -1;
    if (!root)
        return 0;
    if (yexpect(path, root, YNODE_MAP, "the top level (sections by name)", err) != 0) {
        ynode_free(root);
        return -1;
    }
    *names = xcalloc(root->n + 1, sizeof **names);
    for (size_t i = 0; i < root->n; i++)
        (*names)[i] = xstrdup(root->keys[i]->value);
    *n = root->n;
    ynode_free(root);
    return 0;
}
