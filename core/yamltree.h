/* YAML documents as a small tree (libyaml's event parser underneath), with
 * line and column on every node, duplicate keys and aliases refused, and
 * bounded depth, so every reader of delembic.yaml, manifest.yaml and
 * pipeline.yaml can name the exact spot of a problem. */
#ifndef DEL_YAMLTREE_H
#define DEL_YAMLTREE_H

#include <stddef.h>

#include "err.h"

typedef enum { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP } ynode_kind;

typedef struct ynode {
    ynode_kind kind;
    char *value;            /* scalars */
    int quoted;             /* scalar was quoted ('x' or "x") */
    size_t line, col;       /* 1-based */
    size_t n;
    struct ynode **items;   /* sequence items, or mapping values */
    struct ynode **keys;    /* mapping keys (scalars) */
} ynode;

/* Parse text; *root is NULL for an empty document. name is used in messages. */
int yaml_parse(const char *name, const char *text, size_t len, ynode **root, del_err *err);
int yaml_load_file(const char *path, size_t max_bytes, ynode **root, del_err *err);
void ynode_free(ynode *n);

const ynode *ymap_get(const ynode *map, const char *key);
int yscalar_is_null(const ynode *n);
const char *ykind_name(const ynode *n);

/* Typed field readers: a missing key leaves *out as it is and returns 0 unless
 * required. Errors read "file:line:col: field 'k' ...". */
int yget_string(const char *file, const ynode *map, const char *key, int required,
                const char **out, del_err *err);
int yget_int(const char *file, const ynode *map, const char *key, int required, long long min,
             long long max, long long *out, del_err *err);
/* A list of scalars (or one scalar, or null) */
int yget_string_list(const char *file, const ynode *map, const char *key, const ynode **seq,
                     del_err *err);
/* Refuse keys that are not in allowed (NULL-terminated). */
int ymap_check_keys(const char *file, const ynode *map, const char *const *allowed,
                    const char *where, del_err *err);
int yexpect(const char *file, const ynode *n, ynode_kind kind, const char *what, del_err *err);

#endif
