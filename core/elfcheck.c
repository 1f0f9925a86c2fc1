#include "elfcheck.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
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
        return del_fail(err, DEL_EUSAGE, "%s: read error: %s", name, strerror(errno));
    if (r < 20 || memcmp(h, ELFMAG, SELFMAG) != 0)
        return del_fail(err, DEL_EUSAGE, "%s: not a shared object (no ELF header%s); rebuild it with 'delembic build'",
                        name, r < 20 ? ", the file is truncated" : "");
    int cls = h[EI_CLASS];
    int host_cls = sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32;
    int data = h[EI_DATA];
    int host_data = (__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ? ELFDATA2LSB : ELFDATA2MSB;
    if (cls != ELFCLASS32 && cls != ELFCLASS64)
        return del_fail(err, DEL_EUSAGE, "%s: corrupt ELF header (class %d)", name, cls);
    if (data != host_data)
        return del_fail(err, DEL_EUSAGE, "%s: built for a %s-endian machine; this host is %s-endian. Rebuild the bundle for this host",
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
        return del_fail(err, DEL_EUSAGE, "%s: built for %s (%d-bit); this host is %s (%d-bit). Rebuild the bundle for this host",
                        name, machine_name(machine), cls == ELFCLASS64 ? 64 : 32,
                        machine_name(HOST_MACHINE), host_cls == ELFCLASS64 ? 64 : 32);
    if (type != ET_DYN)
        return del_fail(err, DEL_EUSAGE, "%s: an ELF file but not a shared object (type %u); build it with -shared -fPIC",
                        name, type);
    return 0;
}
