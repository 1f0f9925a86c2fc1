#include "elfcheck.h"

#include <elf.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_MACHINE EM_X86_64
#elif defined(__aarch64__)
#define HOST_MACHINE EM_AARCH64
#elif defined(__i386__)
#define HOST_MACHINE EM_386
#elif defined(__arm__)
#define HOST_MACHINE EM_ARM
#elif defined(__riscv)
#define HOST_MACHINE EM_RISCV
#elif defined(__powerpc64__)
#define HOST_MACHINE EM_PPC64
#elif defined(__s390x__)
#define HOST_MACHINE EM_S390
#else
#define HOST_MACHINE EM_NONE
#endif

static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_X86_64: return "x86-64";
    case EM_AARCH64: return "aarch64 (arm64)";
    case EM_386: return "i386";
    case EM_ARM: return "arm";
    case EM_RISCV: return "riscv";
    case EM_PPC64: return "ppc64";
    case EM_PPC: return "ppc";
    case EM_S390: return "s390x";
    case EM_MIPS: return "mips";
    default: return "an unknown machine";
    }
}

int elf_check_fd(int fd, const char *name, del_err *err)
{
    unsigned char h[64];
    ssize_t r = pread(fd, h, sizeof h, 0);
    if (r < 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: read error: %s", name, strerror(errno));
    if (r < 20 || memcmp(h, ELFMAG, SELFMAG) != 0)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: not a shared object (no ELF header%s); rebuild it with 'delembic build'",
                        name, r < 20 ? ", the file is truncated" : "");
    int cls = h[EI_CLASS];
    int host_cls = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
    int data = h[EI_DATA];
    int host_data = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? ELFDATA2LSB : ELFDATA2MSB;
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: corrupt ELF header (class %d)", name, cls);
    if (data != host_data)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: built for a %s-endian machine; this host is %s-endian. Rebuild the bundle for this host",
                        name, data == ELFDATA2LSB ? "little" : "big", host_data == ELFDATA2LSB ? "little" : "big");
    unsigned type, machine;
    if (data == ELFDATA2LSB) {
        type = (unsigned)h[16] | (unsigned)h[17] << 8;
        machine = (unsigned)h[18] | (unsigned)h[19] << 8;
    } else {
        type = (unsigned)h[17] | (unsigned)h[16] << 8;
        machine = (unsigned)h[19] | (unsigned)h[18] << 8;
    }
    if (cls != host_cls || machine != HOST_MACHINE)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: built for %s (%d-bit); this host is %s (%d-bit). Rebuild the bundle for this host",
                        name, machine_name(machine), cls == ELFCLASS64 ? 64 : 32,
                        machine_name(HOST_MACHINE), host_cls == ELFCLASS64 ? 64 : 32);
    if (type != ET_DYN)
        return del_fail(err, DEL_KIND_BUNDLE, "%s: an ELF file but not a shared object (type %u); build it with -shared -fPIC",
                        name, type);
    return 0;
}

/* ---- the dynamic section ------------------------------------------------ */

typedef ElfW(Ehdr) elf_ehdr;
typedef ElfW(Phdr) elf_phdr;
typedef ElfW(Dyn) elf_dyn;

typedef struct segment {
    uint64_t vaddr, memsz, offset, filesz;
} segment;

typedef struct image {
    int fd;
    const char *name;
    uint64_t size, page;
    segment loads[ELF_MAX_PHDRS];
    size_t nloads;
} image;

static int malformed(const image *im, const char *what, del_err *err)
{
    return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot load: a malformed ELF file (%s); rebuild it", im->name, what);
}

/* Exactly n bytes at off, or -1. */
static int read_at(const image *im, void *buf, size_t n, uint64_t off)
{
    if (off > im->size || n > im->size - off)
        return -1;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(im->fd, (char *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* Where [vaddr, vaddr + len) comes from in the file once ld.so has mapped
 * the segments: the file-backed part of one PT_LOAD, in no page that another
 * PT_LOAD maps over it. -1 for anything else. */
static int file_offset(const image *im, uint64_t vaddr, uint64_t len, uint64_t *off)
{
    if (len > UINT64_MAX - vaddr)
        return -1;
    size_t in = im->nloads;
    for (size_t i = 0; i < im->nloads && in == im->nloads; i++)
        if (vaddr >= im->loads[i].vaddr && vaddr + len <= im->loads[i].vaddr + im->loads[i].filesz)
            in = i;
    if (in == im->nloads)
        return -1;
    for (size_t i = 0; i < im->nloads; i++) {
        const segment *s = &im->loads[i];
        uint64_t lo = s->vaddr & ~(im->page - 1);
        uint64_t hi = (s->vaddr + s->memsz + im->page - 1) & ~(im->page - 1);
        if (i != in && vaddr < hi && lo < vaddr + len)
            return -1;
    }
    *off = im->loads[in].offset + (vaddr - im->loads[in].vaddr);
    return 0;
}

/* The NUL-terminated string at index idx of a string table of size strsz
 * found at file offset table; NULL when it is out of bounds, unterminated,
 * longer than ELF_MAX_NAME, empty or has control characters. */
static char *read_string(const image *im, uint64_t table, uint64_t strsz, uint64_t idx)
{
    if (idx >= strsz)
        return NULL;
    char buf[ELF_MAX_NAME + 1];
    size_t n = strsz - idx < sizeof buf ? (size_t)(strsz - idx) : sizeof buf;
    if (read_at(im, buf, n, table + idx) != 0)
        return NULL;
    size_t len = strnlen(buf, n);
    if (len == n || len == 0)
        return NULL;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
            return NULL;
    return xstrndup(buf, len);
}

/* The ELF header and the PT_LOAD segments; *dyn gets PT_DYNAMIC. */
static int read_segments(image *im, elf_phdr *dyn, del_err *err)
{
    elf_ehdr eh;
    if (read_at(im, &eh, sizeof eh, 0) != 0)
        return malformed(im, "the ELF header is truncated", err);
    int host_data = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? ELFDATA2LSB : ELFDATA2MSB;
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) ||
        eh.e_ident[EI_DATA] != host_data)
        return malformed(im, "not an ELF file of this host's class and byte order", err);
    if (eh.e_phentsize != sizeof(elf_phdr) || eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHDRS)
        return malformed(im, "bad program header table", err);
    elf_phdr ph[ELF_MAX_PHDRS];
    if (read_at(im, ph, eh.e_phnum * sizeof(elf_phdr), eh.e_phoff) != 0)
        return malformed(im, "the program header table is out of the file", err);
    size_t ndyn = 0;
    for (size_t i = 0; i < eh.e_phnum; i++) {
        if (ph[i].p_type == PT_DYNAMIC) {
            *dyn = ph[i];
            ndyn++;
        }
        if (ph[i].p_type != PT_LOAD || ph[i].p_memsz == 0)
            continue;
        segment s = {ph[i].p_vaddr, ph[i].p_memsz, ph[i].p_offset, ph[i].p_filesz};
        if (s.filesz > s.memsz || s.offset > im->size || s.filesz > im->size - s.offset ||
            s.memsz > UINT64_MAX - im->page - s.vaddr || ((s.vaddr - s.offset) & (im->page - 1)))
            return malformed(im, "a loadable segment is out of the file or misaligned", err);
        if (im->nloads && s.vaddr < im->loads[im->nloads - 1].vaddr + im->loads[im->nloads - 1].memsz)
            return malformed(im, "loadable segments overlap or are out of order", err);
        im->loads[im->nloads++] = s;
    }
    if (ndyn != 1 || dyn->p_filesz < sizeof(elf_dyn))
        return malformed(im, ndyn ? "more than one dynamic section" : "no dynamic section", err);
    return 0;
}

void elf_dynamic_free(elf_dynamic *d)
{
    strvec_clear(&d->needed);
    free(d->soname);
    free(d->rpath);
    free(d->runpath);
    memset(d, 0, sizeof *d);
}

int elf_read_dynamic(int fd, const char *name, elf_dynamic *out, del_err *err)
{
    memset(out, 0, sizeof *out);
    image *im = xcalloc(1, sizeof *im);
    im->fd = fd;
    im->name = name;
    struct stat st;
    long page = sysconf(_SC_PAGESIZE);
    im->page = page > 0 ? (uint64_t)page : 4096;
    int rc = -1;
    elf_dyn *dyn = NULL;
    uint64_t names[ELF_MAX_NAMES];
    size_t nnames = 0;
    if (fstat(fd, &st) != 0 || st.st_size < 0) {
        del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", name, strerror(errno));
        goto out;
    }
    im->size = (uint64_t)st.st_size;
    elf_phdr dph = {0};
    if (read_segments(im, &dph, err) != 0)
        goto out;
    /* the entries as ld.so reads them: at the section's address, to DT_NULL */
    size_t n = (size_t)(dph.p_filesz / sizeof(elf_dyn));
    if (n > ELF_MAX_DYNAMIC)
        n = ELF_MAX_DYNAMIC;
    uint64_t off;
    dyn = xcalloc(n, sizeof *dyn);
    if (file_offset(im, dph.p_vaddr, n * sizeof *dyn, &off) != 0 || read_at(im, dyn, n * sizeof *dyn, off) != 0) {
        malformed(im, "the dynamic section is not in a loadable segment", err);
        goto out;
    }
    uint64_t strtab = 0, strsz = 0, soname = 0, rpath = 0, runpath = 0;
    int seen_strtab = 0, seen_strsz = 0, seen_soname = 0, seen_rpath = 0, seen_runpath = 0, ended = 0;
    for (size_t i = 0; i < n && !ended; i++) {
        uint64_t v = (uint64_t)dyn[i].d_un.d_val;
        int dup = 0;
        switch (dyn[i].d_tag) {
        case DT_NULL: ended = 1; break;
        case DT_NEEDED:
        case DT_FILTER:
        case DT_AUXILIARY:
            if (nnames == ELF_MAX_NAMES) {
                del_fail(err, DEL_KIND_BUNDLE, "%s: needs more than %d libraries; link fewer", name, ELF_MAX_NAMES);
                goto out;
            }
            names[nnames++] = v;
            break;
        case DT_STRTAB: dup = seen_strtab++; strtab = v; break;
        case DT_STRSZ: dup = seen_strsz++; strsz = v; break;
        case DT_SONAME: dup = seen_soname++; soname = v; break;
        case DT_RPATH: dup = seen_rpath++; rpath = v; break;
        case DT_RUNPATH: dup = seen_runpath++; runpath = v; break;
        default: break;
        }
        if (dup) {
            malformed(im, "a dynamic entry that may appear once appears twice", err);
            goto out;
        }
    }
    if (!ended) {
        malformed(im, "the dynamic section has no end", err);
        goto out;
    }
    if (!nnames && !seen_soname && !seen_rpath && !seen_runpath) {
        rc = 0;
        goto out;
    }
    uint64_t table;
    if (!seen_strtab || !seen_strsz || file_offset(im, strtab, strsz, &table) != 0) {
        malformed(im, "the string table is missing or not in a loadable segment", err);
        goto out;
    }
    for (size_t i = 0; i < nnames; i++) {
        char *s = read_string(im, table, strsz, names[i]);
        if (!s) {
            malformed(im, "a library name is out of the string table, empty, too long or has control characters", err);
            goto out;
        }
        strvec_push_owned(&out->needed, s);
    }
    if ((seen_soname && !(out->soname = read_string(im, table, strsz, soname))) ||
        (seen_rpath && !(out->rpath = read_string(im, table, strsz, rpath))) ||
        (seen_runpath && !(out->runpath = read_string(im, table, strsz, runpath)))) {
        malformed(im, "its soname or run path is out of the string table, empty, too long or has control characters", err);
        goto out;
    }
    rc = 0;
out:
    free(dyn);
    free(im);
    if (rc != 0)
        elf_dynamic_free(out);
    return rc;
}
