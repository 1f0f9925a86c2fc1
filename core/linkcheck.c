#include "linkcheck.h"

#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfcheck.h"

int link_is_libc(const char *soname)
{
    static const char *const glibc[] = {
        "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
        /* the dynamic linker, by architecture */
        "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "ld-linux.so.2", "ld-linux-armhf.so.3",
        "ld-linux-riscv64-lp64d.so.1", "ld64.so.2", "ld64.so.1", NULL};
    for (const char *const *p = glibc; *p; p++)
        if (!strcmp(soname, *p))
            return 1;
    return 0;
}

static int add_loaded(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    if (info->dlpi_name && info->dlpi_name[0] == '/')
        strvec_push(data, info->dlpi_name);
    return 0;
}

/* The dynamic section of a library this process loaded. */
static int read_loaded(const char *path, elf_dynamic *d)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    del_err err;
    int rc = elf_read_dynamic(fd, path, d, &err);
    close(fd);
    return rc;
}

/* The loaded file whose soname is soname: by its base name (how ld.so found
 * it), else by the soname written in each file. */
static long find_loaded(const strvec *loaded, const char *soname)
{
    for (size_t i = 0; i < loaded->n; i++)
        if (!strcmp(path_basename(loaded->v[i]), soname))
            return (long)i;
    for (size_t i = 0; i < loaded->n; i++) {
        elf_dynamic d;
        if (read_loaded(loaded->v[i], &d) != 0)
            continue;
        int same = d.soname && !strcmp(d.soname, soname);
        elf_dynamic_free(&d);
        if (same)
            return (long)i;
    }
    return -1;
}

void link_libpq_closure(strvec *out)
{
    strvec loaded = {0};
    dl_iterate_phdr(add_loaded, &loaded);
    strvec_push(out, LIBPQ_SONAME);
    for (size_t next = out->n - 1; next < out->n; next++) {
        long i = find_loaded(&loaded, out->v[next]);
        elf_dynamic d;
        if (i < 0 || read_loaded(loaded.v[i], &d) != 0)
            continue;
        for (size_t k = 0; k < d.needed.n; k++)
            if (!strvec_contains(out, d.needed.v[k]))
                strvec_push(out, d.needed.v[k]);
        elf_dynamic_free(&d);
    }
    strvec_clear(&loaded);
}

/* One entry: $ORIGIN or ${ORIGIN}, then folders that never climb above the
 * bundle folder (the object is depth folders below it). */
static int entry_inside(const char *entry, size_t len, long depth)
{
    size_t at;
    if (len >= 7 && !strncmp(entry, "$ORIGIN", 7))
        at = 7;
    else if (len >= 9 && !strncmp(entry, "${ORIGIN}", 9))
        at = 9;
    else
        return 0;
    if (at < len && entry[at] != '/')
        return 0; /* $ORIGINX is another token */
    while (at < len) {
        while (at < len && entry[at] == '/')
            at++;
        size_t end = at;
        while (end < len && entry[end] != '/')
            end++;
        size_t n = end - at;
        if (memchr(entry + at, '$', n))
            return 0;
        if (n == 2 && !strncmp(entry + at, "..", 2)) {
            if (--depth < 0)
                return 0;
        } else if (n && !(n == 1 && entry[at] == '.')) {
            depth++;
        }
        at = end;
    }
    return 1;
}

char *link_runpath_escape(const char *value, const char *rel)
{
    long depth = 0;
    for (const char *p = rel; *p; p++)
        depth += *p == '/';
    const char *p = value;
    for (;;) {
        size_t len = strcspn(p, ":");
        if (!entry_inside(p, len, depth))
            return xstrndup(p, len);
        if (!p[len])
            return NULL;
        p += len + 1;
    }
}
