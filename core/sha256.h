/* SHA-256 of files and open file descriptors (OpenSSL's libcrypto). */
#ifndef DEL_SHA256_H
#define DEL_SHA256_H

#include <stddef.h>

#include "err.h"

#define SHA256_HEX_LEN 64

/* hex gets 65 bytes. The fd is read from its start; its offset is restored to 0. */
int sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN + 1], del_err *err);
int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], del_err *err);
int sha256_is_hex(const char *s);
/* The SHA-256 of the concatenation of n buffers. */
int sha256_parts(const void *const *parts, const size_t *lens, size_t n, char hex[SHA256_HEX_LEN + 1],
                 del_err *err);

#endif
