/* A small JSON writer: the JSON renderer's (core/cli/render_json.c) and the
 * JSON members of the helpers it calls (batchview_json). */
#ifndef DEL_JSON_H
#define DEL_JSON_H

#include "util.h"

typedef struct json {
    sbuf b;
    int need_comma[64];
    int depth;
} json;

void json_obj_open(json *j, const char *key);   /* key NULL inside arrays / at top */
void json_obj_close(json *j);
void json_arr_open(json *j, const char *key);
void json_arr_close(json *j);
void json_str(json *j, const char *key, const char *val); /* val NULL -> null */
void json_num(json *j, const char *key, double val);
void json_int(json *j, const char *key, long long val);
void json_bool(json *j, const char *key, int val);

#endif
