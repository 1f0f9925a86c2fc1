#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    manifest mf;
    del_err e;
    if (manifest_parse("manifest.yaml", (const char *)data, size, &mf, &e) != 0)
        return 0;
    /* round trip: the emitter's output parses back to the same entries */
    char *text;
    size_t len;
    if (manifest_emit(&mf, &text, &len, &e) != 0)
        abort();
    manifest again;
    if (manifest_parse("again", text, len, &again, &e) != 0 || again.n != mf.n)
        abort();
    for (size_t i = 0; i < mf.n; i++)
        if (strcmp(mf.m[i].revision, again.m[i].revision) || strcmp(mf.m[i].description, again.m[i].description))
            abort();
    dag g;
    if (bundle_build_dag(&mf, &g, &e) == 0)
        dag_free(&g);
    manifest_free(&again);
    free(text);
    manifest_free(&mf);
    return 0;
}
