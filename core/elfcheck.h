/* Is this file a shared object this host can load? Read the ELF header
 * ourselves so a foreign bundle is named as such, not "cannot open".
 *
 * And what will the dynamic linker load for it? elf_read_dynamic reads the
 * dynamic section of an open file the way ld.so finds it (PT_DYNAMIC through
 * the PT_LOAD segments it maps, strings through DT_STRTAB), with every offset
 * and size checked against the file: the file is hostile, and this runs in the
 * host before any dlopen. */
#ifndef DEL_ELFCHECK_H
#define DEL_ELFCHECK_H

#include "err.h"
#include "util.h"

#define ELF_MAX_PHDRS 256          /* program headers */
#define ELF_MAX_DYNAMIC 4096       /* dynamic entries */
#define ELF_MAX_NAMES 256          /* DT_NEEDED and filter entries */
#define ELF_MAX_NAME 4096          /* bytes in one name or run path */

int elf_check_fd(int fd, const char *name, del_err *err);

typedef struct elf_dynamic {
    strvec needed;     /* DT_NEEDED, then DT_FILTER and DT_AUXILIARY: all load a library */
    char *soname;      /* DT_SONAME, or NULL */
    char *rpath;       /* DT_RPATH, or NULL */
    char *runpath;     /* DT_RUNPATH, or NULL */
} elf_dynamic;

/* 0 and *out filled (free with elf_dynamic_free), or -1 naming the file and
 * what is wrong. The file must be an ELF object of this host's class and byte
 * order (elf_check_fd says which machine). */
int elf_read_dynamic(int fd, const char *name, elf_dynamic *out, del_err *err);
void elf_dynamic_free(elf_dynamic *d);

#endif
