#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pipeline p;
    del_err e;
    if (pipeline_parse("pipeline.yaml", (const char *)data, size, &p, &e) == 0) {
        char *text = pipeline_to_yaml(&p);
        pipeline again;
        /* what we write, we must read back the same */
        if (pipeline_parse("again", text, strlen(text), &again, &e) != 0 || again.n != p.n)
            abort();
        pipeline_free(&again);
        free(text);
        pipeline_free(&p);
    }
    return 0;
}
