#include <stdint.h>
#include <stddef.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    del_config c;
    del_err e;
    if (config_parse("fuzz.yaml", (const char *)data, size, "delembic", "/proj", &c, &e) == 0)
        config_free(&c);
    return 0;
}
