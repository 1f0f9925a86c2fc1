#include "yamltree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"

#define YAML_MAX_DEPTH 64

static ynode *node_new(ynode_kind kind, const yaml_mark_t *mark)
{
    ynode *n = xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = mark->line + 1;
    n->col = mark->column + 1;
    return n;
}

void ynode_free(ynode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n; i++) {
        ynode_free(n->items[i]);
        if (n->keys)
            ynode_free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->value);
    free(n);
}

static void push_child(ynode *parent, ynode *key, ynode *val)
{
    parent->items = xrealloc(parent->items, (parent->n + 1) * sizeof *parent->items);
    if (parent->kind == YNODE_MAP)
        parent->keys = xrealloc(parent->keys, (parent->n + 1) * sizeof *parent->keys);
    parent->items[parent->n] = val;
    if (parent->kind == YNODE_MAP)
        parent->keys[parent->n] = key;
    parent->n++;
}

typedef struct frame {
    ynode *node;
    ynode *pending_key; /* mappings: the key awaiting its value */
} frame;

static const char *printable(const char *s, char *buf, size_t bufsz)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && o + 5 < bufsz; p++) {
        if (*p < 0x20 || *p == 0x7f)
            o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", *p);
        else
            buf[o++] = (char)*p;
    }
    buf[o] = '\0';
    return buf;
}

int yaml_parse(const char *name, const char *text, size_t len, ynode **root, del_err *err)
{
    *root = NULL;
    if (memchr(text, '\0', len))
        return del_fail(err, DEL_KIND_CONFIG, "%s: contains a NUL byte; it is not a YAML text file", name);
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser))
        return del_fail(err, DEL_KIND_CONFIG, "%s: cannot start the YAML parser", name);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);

    frame stack[YAML_MAX_DEPTH + 1];
    int depth = 0, docs = 0, rc = -1;
    ynode *doc = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            char pbuf[256];
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: invalid YAML: %s%s%s", name,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     printable(parser.problem ? parser.problem : "syntax error", pbuf, sizeof pbuf),
                     parser.context ? " " : "", parser.context ? parser.context : "");
            goto out;
        }
        yaml_event_type_t type = ev.type;
        ynode *made = NULL;
        int opens = 0;
        switch (type) {
        case YAML_STREAM_END_EVENT:
            yaml_event_delete(&ev);
            rc = 0;
            goto out;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1) {
                del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: more than one YAML document; keep one", name,
                         ev.start_mark.line + 1, ev.start_mark.column + 1);
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_ALIAS_EVENT:
            del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: YAML aliases (*name) are not supported here; write the value out",
                     name, ev.start_mark.line + 1, ev.start_mark.column + 1);
            yaml_event_delete(&ev);
            goto out;
        case YAML_SCALAR_EVENT:
            made = node_new(YNODE_SCALAR, &ev.start_mark);
            made->value = xstrndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
            made->quoted = ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                           ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                           ev.data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
                           ev.data.scalar.style == YAML_FOLDED_SCALAR_STYLE;
            if (strlen(made->value) != ev.data.scalar.length) {
                del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: a value contains a NUL character", name,
                         made->line, made->col);
                ynode_free(made);
                yaml_event_delete(&ev);
                goto out;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
            made = node_new(YNODE_SEQ, &ev.start_mark);
            opens = 1;
            break;
        case YAML_MAPPING_START_EVENT:
            made = node_new(YNODE_MAP, &ev.start_mark);
            opens = 1;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            depth--;
            made = stack[depth].node; /* completed; attach below */
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!made)
            continue;
        if (opens) {
            if (depth >= YAML_MAX_DEPTH) {
                del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: nested deeper than %d levels", name,
                         made->line, made->col, YAML_MAX_DEPTH);
                ynode_free(made);
                goto out;
            }
            /* a container is attached to its parent when it opens */
        }
        int completed = (type == YAML_SEQUENCE_END_EVENT || type == YAML_MAPPING_END_EVENT);
        if (!completed) {
            if (depth == 0) {
                doc = made;
            } else {
                frame *top = &stack[depth - 1];
                if (top->node->kind == YNODE_SEQ) {
                    push_child(top->node, NULL, made);
                } else if (!top->pending_key) {
                    if (made->kind != YNODE_SCALAR) {
                        del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: a mapping key must be a plain value, not a %s",
                                 name, made->line, made->col, ykind_name(made));
                        ynode_free(made);
                        goto out;
                    }
                    for (size_t i = 0; i < top->node->n; i++) {
                        if (strcmp(top->node->keys[i]->value, made->value) == 0) {
                            char kb[128];
                            del_fail(err, DEL_KIND_CONFIG,
                                     "%s:%zu:%zu: duplicate key '%s' (first at line %zu); keep one",
                                     name, made->line, made->col,
                                     printable(made->value, kb, sizeof kb), top->node->keys[i]->line);
                            ynode_free(made);
                            goto out;
                        }
                    }
                    top->pending_key = made;
                    continue;
                } else {
                    push_child(top->node, top->pending_key, made);
                    top->pending_key = NULL;
                }
            }
            if (opens) {
                stack[depth].node = made;
                stack[depth].pending_key = NULL;
                depth++;
            }
        }
    }
out:
    yaml_parser_delete(&parser);
    /* free a pending key left by an error */
    for (int i = 0; i < depth; i++)
        if (stack[i].pending_key)
            ynode_free(stack[i].pending_key);
    if (rc != 0) {
        ynode_free(doc);
        return -1;
    }
    *root = doc;
    return 0;
}

int yaml_load_file(const char *path, size_t max_bytes, ynode **root, del_err *err)
{
    char *text;
    size_t len;
    if (read_file(path, max_bytes, &text, &len, err) != 0)
        return -1;
    int rc = yaml_parse(path, text, len, root, err);
    free(text);
    return rc;
}

const ynode *ymap_get(const ynode *map, const char *key)
{
    if (!map || map->kind != YNODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (strcmp(map->keys[i]->value, key) == 0)
            return map->items[i];
    return NULL;
}

int yscalar_is_null(const ynode *n)
{
    if (!n)
        return 1;
    if (n->kind != YNODE_SCALAR || n->quoted)
        return 0;
    return !*n->value || !strcmp(n->value, "~") || !strcmp(n->value, "null") ||
           !strcmp(n->value, "Null") || !strcmp(n->value, "NULL");
}

const char *ykind_name(const ynode *n)
{
    if (!n)
        return "nothing";
    switch (n->kind) {
    case YNODE_SCALAR:
        return "value";
    case YNODE_SEQ:
        return "list";
    case YNODE_MAP:
        return "mapping";
    }
    return "?";
}

int yexpect(const char *file, const ynode *n, ynode_kind kind, const char *what, del_err *err)
{
    static const char *names[] = {"a value", "a list", "a mapping"};
    if (!n)
        return del_fail(err, DEL_KIND_CONFIG, "%s: %s is missing; it must be %s", file, what, names[kind]);
    if (n->kind != kind)
        return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: %s must be %s, not a %s", file, n->line,
                        n->col, what, names[kind], ykind_name(n));
    return 0;
}

static int missing(const char *file, const ynode *map, const char *key, del_err *err)
{
    if (map)
        return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: required field '%s' is missing", file,
                        map->line, map->col, key);
    return del_fail(err, DEL_KIND_CONFIG, "%s: required field '%s' is missing", file, key);
}

int yget_string(const char *file, const ynode *map, const char *key, int required,
                const char **out, del_err *err)
{
    const ynode *v = ymap_get(map, key);
    if (!v || (yscalar_is_null(v) && v->kind == YNODE_SCALAR && !v->quoted && !*v->value)) {
        if (required)
            return missing(file, map, key, err);
        return 0;
    }
    if (v->kind != YNODE_SCALAR)
        return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' must be a text value, not a %s",
                        file, v->line, v->col, key, ykind_name(v));
    if (yscalar_is_null(v)) {
        if (required)
            return missing(file, map, key, err);
        return 0;
    }
    *out = v->value;
    return 0;
}

int yget_int(const char *file, const ynode *map, const char *key, int required, long long min,
             long long max, long long *out, del_err *err)
{
    const ynode *v = ymap_get(map, key);
    if (!v || yscalar_is_null(v)) {
        if (required)
            return missing(file, map, key, err);
        return 0;
    }
    if (v->kind != YNODE_SCALAR)
        return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' must be a number, not a %s",
                        file, v->line, v->col, key, ykind_name(v));
    char *end;
    errno = 0;
    long long n = strtoll(v->value, &end, 10);
    if (errno || end == v->value || *end || n < min || n > max)
        return del_fail(err, DEL_KIND_CONFIG,
                        "%s:%zu:%zu: field '%s' must be a whole number from %lld to %lld, not '%.40s'",
                        file, v->line, v->col, key, min, max, v->value);
    *out = n;
    return 0;
}

int yget_string_list(const char *file, const ynode *map, const char *key, const ynode **seq,
                     del_err *err)
{
    const ynode *v = ymap_get(map, key);
    *seq = NULL;
    if (!v || yscalar_is_null(v))
        return 0;
    if (v->kind != YNODE_SEQ)
        return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: field '%s' must be a list like [a, b], not a %s",
                        file, v->line, v->col, key, ykind_name(v));
    for (size_t i = 0; i < v->n; i++) {
        const ynode *it = v->items[i];
        if (it->kind != YNODE_SCALAR || yscalar_is_null(it))
            return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: items of '%s' must be text values",
                            file, it->line, it->col, key);
    }
    *seq = v;
    return 0;
}

int ymap_check_keys(const char *file, const ynode *map, const char *const *allowed,
                    const char *where, del_err *err)
{
    if (!map || map->kind != YNODE_MAP)
        return 0;
    for (size_t i = 0; i < map->n; i++) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (strcmp(*a, map->keys[i]->value) == 0)
                ok = 1;
        if (!ok) {
            char known[512] = "";
            size_t len = 0;
            for (const char *const *a = allowed; *a && len < sizeof known; a++)
                len += (size_t)snprintf(known + len, sizeof known - len, "%s%s",
                                        a == allowed ? "" : ", ", *a);
            char kb[128];
            return del_fail(err, DEL_KIND_CONFIG, "%s:%zu:%zu: unknown field '%s' in %s; known fields: %s",
                            file, map->keys[i]->line, map->keys[i]->col,
                            printable(map->keys[i]->value, kb, sizeof kb), where, known);
        }
    }
    return 0;
}
