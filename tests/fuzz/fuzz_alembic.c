#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alembic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    char *rev = NULL;
    strvec down = {0};
    int found;
    del_err e;
    if (alembic_parse_script("v.py", text, &rev, &down, &found, &e) == 0)
        free(rev);
    strvec_clear(&down);
    free(text);
    return 0;
}
