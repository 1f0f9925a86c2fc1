/* delembic.yaml: -c FILE, or found by walking up from the current folder
 * (then used only when it and its folder are owned by the invoking user or
 * root and nobody else can write to them), one section per environment
 * (-n NAME, default "delembic"). */
#ifndef DEL_CONFIG_H
#define DEL_CONFIG_H

#include <stddef.h>

#include "err.h"
#include "util.h"

#define DEL_CONFIG_FILE "delembic.yaml"
#define DEL_DEFAULT_SECTION "delembic"

typedef struct del_config {
    char *path;             /* the delembic.yaml read, or NULL when none was found */
    char *dir;              /* its folder (paths in it are relative to this); else cwd */
    char *section;          /* the section used */
    char *script_location;  /* C sources (absolute) */
    char *build_dir;        /* the bundle build writes and upgrade reads (absolute) */
    char *database;         /* the section's database URL, or NULL */
    char *alembic_config;   /* alembic.ini (absolute), or NULL */
    char *alembic_version_table; /* default alembic_version */
    char *alembic_command;  /* default "alembic -c <alembic_config>" */
    char *pipeline_file;    /* default pipeline.yaml beside delembic.yaml */
    char *statement_timeout; /* PostgreSQL interval text, per migration, or NULL */
    char *lock_timeout;     /* PostgreSQL interval text, per migration, or NULL */
    char *timeout;          /* host-side wall-clock limit per migration (interval text), or NULL */
    char *version_table_schema; /* where the delembic tables live; default public */
    long long jobs;         /* default 1 */
    /* batched migrations (DM_BATCHED; batchsize.h): durations as text (like
     * statement_timeout) until config_parse checks them into the doubles */
    char *batch_target_text, *batch_pause_text, *batch_lock_timeout_text, *max_replication_lag_text;
    double batch_target;        /* seconds per batch; default BATCH_DEFAULT_TARGET_S */
    double batch_pause;         /* seconds between batches; default 0 */
    double batch_lock_timeout;  /* seconds; default BATCH_DEFAULT_LOCK_TIMEOUT_S */
    double max_replication_lag; /* seconds; 0: not checked (default) */
    long long batch_min, batch_max; /* rows; BATCH_DEFAULT_MIN, BATCH_DEFAULT_MAX */
    strvec trusted_keys;    /* trusted_keys: .pub files (relative to dir) or key strings */
} del_config;

/* The first entry named delembic.yaml from start_dir upwards (whatever it
 * is: config_load checks it); a malloc'd path or NULL. */
char *config_find(const char *start_dir);

/* Load a config. explicit_path: -c FILE (must exist) or NULL to search;
 * section: -n NAME or NULL. When nothing is found and allow_missing, the
 * defaults apply relative to the current folder. */
int config_load(const char *explicit_path, const char *section, int allow_missing,
                del_config *cfg, del_err *err);
/* Parse a config from text (for tests and fuzzing). */
int config_parse(const char *name, const char *text, size_t len, const char *section,
                 const char *base_dir, del_config *cfg, del_err *err);
void config_free(del_config *cfg);

/* Seconds in a duration as PostgreSQL reads statement_timeout ("90s",
 * "30min", "500ms"; a bare number is milliseconds); -1 when it is not one. */
double config_duration_seconds(const char *text);

/* The section names in a config file's text, for `init -n`. */
int config_list_sections(const char *path, char ***names, size_t *n, del_err *err);

#endif
