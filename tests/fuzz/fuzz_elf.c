/* The dynamic-section reader on hostile files: whatever the bytes, it reads
 * within the file and either refuses or returns bounded, clean names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfcheck.h"
#include "linkcheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0 && (fd = memfd_create("fuzz_elf", MFD_CLOEXEC)) < 0)
        abort();
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
        abort();
    elf_dynamic d;
    del_err e;
    if (elf_read_dynamic(fd, "fuzz.so", &d, &e) != 0)
        return 0;
    const char *one[] = {d.soname, d.rpath, d.runpath};
    for (size_t i = 0; i < d.needed.n; i++)
        if (!*d.needed.v[i] || strlen(d.needed.v[i]) > ELF_MAX_NAME)
            abort();
    for (size_t i = 0; i < 3; i++) {
        if (one[i] && (!*one[i] || strlen(one[i]) > ELF_MAX_NAME))
            abort();
        free(one[i] && i ? link_runpath_escape(one[i], "lib/x.so") : NULL);
    }
    elf_dynamic_free(&d);
    return 0;
}
