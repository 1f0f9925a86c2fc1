/* Is this file a shared object this host can load? Read the ELF header
 * ourselves so a foreign bundle is named as such, not "cannot open". */
#ifndef DEL_ELFCHECK_H
#define DEL_ELFCHECK_H

#include "err.h"

int elf_check_fd(int fd, const char *name, del_err *err);

#endif
