#include "chain.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

static const char *skip_space(const char *q)
{
    while (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r')
        q++;
    return q;
}

/* After `.field =` in text: where its value starts, or NULL. */
static const char *field_value(const char *text, const char *field)
{
    size_t n = strlen(field);
    for (const char *p = text; (p = strstr(p, field)); p += n) {
        if (p == text || p[-1] != '.')
            continue;
        const char *q = skip_space(p + n);
        if (*q == '=')
            return skip_space(q + 1);
    }
    return NULL;
}

char *chain_parse_source(const char *text, strvec *depends_on)
{
    const char *q = field_value(text, "revision");
    char *rev = NULL;
    if (q && *q == '"') {
        const char *end = strchr(q + 1, '"');
        if (end)
            rev = xstrndup(q + 1, (size_t)(end - q - 1));
    }
    q = field_value(text, "depends_on");
    if (q && !strncmp(q, "DM_DEPS", 7)) {
        q = skip_space(q + 7);
        if (*q == '(')
            for (q++; *q && *q != ')';) {
                if (*q != '"') {
                    q++;
                    continue;
                }
                const char *end = strchr(q + 1, '"');
                if (!end)
                    break;
                char *s = xstrndup(q + 1, (size_t)(end - q - 1));
                strvec_push_owned(depends_on, s);
                q = end + 1;
            }
    }
    return rev;
}

int chain_source_heads(const char *script_dir, strvec *heads)
{
    DIR *d = opendir(script_dir);
    if (!d)
        return -1;
    strvec revs = {0}, deps = {0};
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!has_suffix(de->d_name, ".c") || de->d_name[0] == '.')
            continue;
        char *path = path_join(script_dir, de->d_name), *text = NULL;
        if (read_file(path, 4u << 20, &text, NULL, NULL) == 0) {
            char *rev = chain_parse_source(text, &deps);
            if (rev)
                strvec_push_owned(&revs, rev);
            free(text);
        }
        free(path);
    }
    closedir(d);
    for (size_t i = 0; i < revs.n; i++)
        if (!strvec_contains(&deps, revs.v[i]) && !strvec_contains(heads, revs.v[i]))
            strvec_push(heads, revs.v[i]);
    strvec_sort_natural(heads);
    strvec_clear(&revs);
    strvec_clear(&deps);
    return 0;
}
