/* The dynamic-section reader (elfcheck.h) on real and hostile files, and the
 * link policy (linkcheck.h). */
#include <elf.h>
#include <libpq-fe.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check_main.h"
#include "elfcheck.h"
#include "linkcheck.h"

/* A file descriptor holding these bytes. */
static int memfile(const void *data, size_t n)
{
    int fd = memfd_create("elf", MFD_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
    return fd;
}

static int read_bytes(const void *data, size_t n, elf_dynamic *d, del_err *e)
{
    int fd = memfile(data, n);
    int rc = elf_read_dynamic(fd, "x.so", d, e);
    close(fd);
    return rc;
}

static int find_libpq(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    if (strstr(info->dlpi_name, "/libpq.so")) {
        snprintf(data, 4096, "%s", info->dlpi_name);
        return 1;
    }
    return 0;
}

/* libpq as this process loaded it (as delembic does: calling it here keeps
 * the linker from dropping it). */
static unsigned char *libpq_bytes(size_t *n)
{
    ck_assert_int_gt(PQlibVersion(), 0);
    char path[4096] = "";
    dl_iterate_phdr(find_libpq, path);
    ck_assert_msg(path[0], "libpq is not loaded");
    char *data;
    del_err e;
    ck_assert_int_eq(read_file(path, 64u << 20, &data, n, &e), 0);
    return (unsigned char *)data;
}

START_TEST(reads_a_real_library)
{
    size_t n;
    unsigned char *b = libpq_bytes(&n);
    elf_dynamic d;
    del_err e;
    ck_assert_msg(read_bytes(b, n, &d, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(d.soname, LIBPQ_SONAME);
    ck_assert(strvec_contains(&d.needed, "libc.so.6"));
    ck_assert_ptr_null(d.runpath);
    elf_dynamic_free(&d);
    free(b);
}
END_TEST

START_TEST(truncated_files_are_refused_not_read_past)
{
    size_t n;
    unsigned char *b = libpq_bytes(&n);
    elf_dynamic d;
    del_err e;
    /* every cut in the headers, then in steps through the rest */
    for (size_t cut = 0; cut < n; cut += cut < 4096 ? 1 : 997) {
        int rc = read_bytes(b, cut, &d, &e);
        if (rc == 0)
            elf_dynamic_free(&d);
        else
            ck_assert_msg(strstr(e.msg, "x.so: cannot load: a malformed ELF file (") == e.msg, "%s", e.msg);
    }
    free(b);
}
END_TEST

START_TEST(garbage_is_refused_or_read_within_bounds)
{
    size_t n;
    unsigned char *b = libpq_bytes(&n);
    unsigned char *c = xmalloc(n);
    elf_dynamic d;
    del_err e;
    uint32_t seed = 12345;
    /* flip bytes in the headers, the program headers and the dynamic section */
    const ElfW(Ehdr) *eh = (const ElfW(Ehdr) *)b;
    size_t hot = eh->e_phoff + eh->e_phnum * sizeof(ElfW(Phdr));
    for (int round = 0; round < 3000; round++) {
        memcpy(c, b, n);
        int flips = 1 + (int)(seed % 4);
        for (int k = 0; k < flips; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % (round % 2 ? n : hot);
            seed = seed * 1103515245u + 12345u;
            c[at] = (unsigned char)(seed >> 16);
        }
        if (read_bytes(c, n, &d, &e) == 0)
            elf_dynamic_free(&d);
    }
    /* pure noise, and noise behind a valid ELF identity */
    for (int round = 0; round < 300; round++) {
        for (size_t i = 0; i < 4096; i++) {
            seed = seed * 1103515245u + 12345u;
            c[i] = (unsigned char)(seed >> 16);
        }
        if (round % 2)
            memcpy(c, b, EI_NIDENT);
        if (read_bytes(c, 4096, &d, &e) == 0)
            elf_dynamic_free(&d);
    }
    free(c);
    free(b);
}
END_TEST

/* Targeted lies: each must be refused with its reason. */
START_TEST(lying_headers_are_refused)
{
    size_t n;
    unsigned char *b = libpq_bytes(&n);
    unsigned char *c = xmalloc(n);
    elf_dynamic d;
    del_err e;
    ElfW(Ehdr) *eh = (ElfW(Ehdr) *)c;
    ElfW(Phdr) *ph;
#define RESET() (memcpy(c, b, n), ph = (ElfW(Phdr) *)(c + eh->e_phoff))
#define REFUSED(why)                                                                   \
    do {                                                                               \
        ck_assert_int_eq(read_bytes(c, n, &d, &e), -1);                                \
        ck_assert_msg(strstr(e.msg, why) != NULL, "'%s' lacks '%s'", e.msg, why);      \
    } while (0)
    RESET();
    eh->e_phnum = 0xffff; /* PN_XNUM */
    REFUSED("bad program header table");
    RESET();
    eh->e_phoff = (ElfW(Off))n - 8;
    REFUSED("out of the file");
    RESET();
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            ph[i].p_vaddr += 0x40000000;
    REFUSED("the dynamic section is not in a loadable segment");
    RESET();
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC)
            ph[i].p_type = PT_NULL;
    REFUSED("no dynamic section");
    RESET();
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD)
            ph[i].p_filesz = (ElfW(Xword))n * 2;
    REFUSED("a loadable segment is out of the file");
    /* the dynamic entries themselves */
    ElfW(Dyn) *dyn = NULL;
    size_t ndyn = 0;
    RESET();
    for (int i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_DYNAMIC) {
            dyn = (ElfW(Dyn) *)(c + ph[i].p_offset);
            ndyn = ph[i].p_filesz / sizeof *dyn;
        }
    ck_assert_ptr_nonnull(dyn);
    for (size_t i = 0; i < ndyn; i++)
        if (dyn[i].d_tag == DT_STRSZ)
            dyn[i].d_un.d_val = 1;
    REFUSED("a library name is out of the string table");
    RESET();
    for (size_t i = 0; i < ndyn; i++)
        if (dyn[i].d_tag == DT_NULL)
            dyn[i].d_tag = DT_DEBUG;
    REFUSED("the dynamic section has no end");
    RESET();
    for (size_t i = 0; i < ndyn; i++)
        if (dyn[i].d_tag == DT_STRTAB)
            dyn[i].d_un.d_ptr = (ElfW(Addr))0x7fff0000;
    REFUSED("the string table is missing or not in a loadable segment");
    RESET();
    for (size_t i = 0; i + 1 < ndyn; i++)
        if (dyn[i].d_tag == DT_NEEDED && dyn[i + 1].d_tag == DT_NEEDED)
            dyn[i + 1].d_tag = DT_SONAME; /* now two */
    REFUSED("appears twice");
#undef RESET
#undef REFUSED
    free(c);
    free(b);
}
END_TEST

START_TEST(run_paths_must_stay_in_the_bundle)
{
    static const struct {
        const char *value, *rel, *bad;
    } cases[] = {
        {"$ORIGIN", "D1.so", NULL},
        {"${ORIGIN}", "D1.so", NULL},
        {"$ORIGIN/lib", "D1.so", NULL},
        {"$ORIGIN/lib/./x:$ORIGIN", "D1.so", NULL},
        {"$ORIGIN/lib/../lib2", "D1.so", NULL},
        {"$ORIGIN/..", "lib/libx.so.1", NULL},
        {"$ORIGIN/..", "D1.so", "$ORIGIN/.."},
        {"$ORIGIN/../..", "D1.so", "$ORIGIN/../.."},
        {"$ORIGIN/lib/../..", "D1.so", "$ORIGIN/lib/../.."},
        {"$ORIGIN/../..", "lib/libx.so.1", "$ORIGIN/../.."},
        {"/tmp/x", "D1.so", "/tmp/x"},
        {"$ORIGIN:/usr/lib", "D1.so", "/usr/lib"},
        {"lib", "D1.so", "lib"},
        {"", "D1.so", ""},
        {"$ORIGIN:", "D1.so", ""},
        {"$ORIGINX", "D1.so", "$ORIGINX"},
        {"$LIB", "D1.so", "$LIB"},
        {"$ORIGIN/$PLATFORM", "D1.so", "$ORIGIN/$PLATFORM"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *bad = link_runpath_escape(cases[i].value, cases[i].rel);
        if (!cases[i].bad)
            ck_assert_msg(bad == NULL, "%s refused for %s", cases[i].value, cases[i].rel);
        else
            ck_assert_msg(bad && !strcmp(bad, cases[i].bad), "%s for %s: got %s", cases[i].value,
                          cases[i].rel, bad ? bad : "accepted");
        free(bad);
    }
}
END_TEST

START_TEST(host_libraries)
{
    ck_assert(link_is_libc("libc.so.6"));
    ck_assert(link_is_libc("libm.so.6"));
    ck_assert(!link_is_libc("libc.so.7"));
    ck_assert(!link_is_libc("libssl.so.3"));
    strvec c = {0};
    link_libpq_closure(&c);
    ck_assert(strvec_contains(&c, LIBPQ_SONAME));
    /* libpq's own needs, and theirs */
    size_t n;
    unsigned char *b = libpq_bytes(&n);
    elf_dynamic d;
    del_err e;
    ck_assert_int_eq(read_bytes(b, n, &d, &e), 0);
    for (size_t i = 0; i < d.needed.n; i++)
        ck_assert_msg(strvec_contains(&c, d.needed.v[i]), "%s missing", d.needed.v[i]);
    ck_assert_msg(c.n > d.needed.n + 1, "no transitive libraries: %zu", c.n);
    ck_assert(!strvec_contains(&c, "libsupply_lib.so"));
    elf_dynamic_free(&d);
    free(b);
    strvec_clear(&c);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("elfcheck");
    TCase *tc = tcase_create("elfcheck");
    tcase_set_timeout(tc, 120);
    ADD(tc, reads_a_real_library);
    ADD(tc, truncated_files_are_refused_not_read_past);
    ADD(tc, garbage_is_refused_or_read_within_bounds);
    ADD(tc, lying_headers_are_refused);
    ADD(tc, run_paths_must_stay_in_the_bundle);
    ADD(tc, host_libraries);
    suite_add_tcase(s, tc);
    return s;
}
