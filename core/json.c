#include "json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "term.h"

static void escape(sbuf *b, const char *s)
{
    sbuf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sbuf_puts(b, "\\\""); break;
        case '\\': sbuf_puts(b, "\\\\"); break;
        case '\n': sbuf_puts(b, "\\n"); break;
        case '\r': sbuf_puts(b, "\\r"); break;
        case '\t': sbuf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20) {
                sbuf_printf(b, "\\u%04x", *p);
            } else if (*p < 0x80) {
                sbuf_add(b, (const char *)p, 1);
            } else {
                /* a document is valid UTF-8: a stray byte becomes U+FFFD */
                unsigned cp;
                size_t n = utf8_seq_len(p, &cp);
                if (n == 0) {
                    sbuf_puts(b, "\\ufffd");
                } else {
                    sbuf_add(b, (const char *)p, n);
                    p += n - 1;
                }
            }
        }
    }
    sbuf_add(b, "\"", 1);
}

static void prefix(json *j, const char *key)
{
    if (j->depth > 0 && j->need_comma[j->depth])
        sbuf_add(&j->b, ",", 1);
    if (j->depth > 0)
        j->need_comma[j->depth] = 1;
    if (key) {
        escape(&j->b, key);
        sbuf_add(&j->b, ":", 1);
    }
}

static void open_(json *j, const char *key, const char *c)
{
    prefix(j, key);
    sbuf_puts(&j->b, c);
    if (j->depth < 63)
        j->depth++;
    j->need_comma[j->depth] = 0;
}

void json_obj_open(json *j, const char *key) { open_(j, key, "{"); }
void json_arr_open(json *j, const char *key) { open_(j, key, "["); }

void json_obj_close(json *j)
{
    sbuf_add(&j->b, "}", 1);
    if (j->depth > 0)
        j->depth--;
}

void json_arr_close(json *j)
{
    sbuf_add(&j->b, "]", 1);
    if (j->depth > 0)
        j->depth--;
}

void json_str(json *j, const char *key, const char *val)
{
    prefix(j, key);
    if (val)
        escape(&j->b, val);
    else
        sbuf_puts(&j->b, "null");
}

void json_num(json *j, const char *key, double val)
{
    prefix(j, key);
    if (isfinite(val))
        sbuf_printf(&j->b, "%.6g", val);
    else
        sbuf_puts(&j->b, "null");
}

void json_int(json *j, const char *key, long long val)
{
    prefix(j, key);
    sbuf_printf(&j->b, "%lld", val);
}

void json_bool(json *j, const char *key, int val)
{
    prefix(j, key);
    sbuf_puts(&j->b, val ? "true" : "false");
}

