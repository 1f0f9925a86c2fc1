/* A shared library that a migration needs (tests/e2e/test_supply.sh), built
 * with -Wl,-soname,libsupply_lib.so. Its constructor appends @VALUE@ to
 * @MARKER@, so a test can tell which copy was loaded, and when. */
#include <stdio.h>

__attribute__((constructor)) static void leave_marker(void)
{
    FILE *f = fopen("@MARKER@", "a");
    if (f) {
        fputs("@VALUE@\n", f);
        fclose(f);
    }
}

__attribute__((visibility("default"))) int supply_value(void)
{
    return @VALUE@;
}
