/* A small JSON writer for --json output (one document per command). */
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
/* Hand the finished document to n as a DEL_EV_DOCUMENT event, and free. */
struct del_notify;
void json_emit(json *j, const struct del_notify *n);

#endif
