#include "drift.h"

#include <string.h>

int drift_changed(const char *applied, const char *identity, const char *sha256)
{
    if (!applied)
        return 0;
    if (identity && strcmp(applied, identity) == 0)
        return 0;
    if (sha256 && strcmp(applied, sha256) == 0)
        return 0;
    return 1;
}
