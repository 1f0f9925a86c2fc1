#include "sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static void to_hex(const unsigned char digest[32], char hex[SHA256_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[SHA256_HEX_LEN] = '\0';
}

/* OpenSSL 3 looks the algorithm up on every implicit use; fetch it once. */
static const EVP_MD *sha256_md(void)
{
    static EVP_MD *md;
    if (!md)
        md = EVP_MD_fetch(NULL, "SHA256", NULL);
    return md ? md : EVP_sha256();
}

int sha256_fd(int fd, const char *name, char hex[SHA256_HEX_LEN + 1], del_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, sha256_md(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return del_fail(err, DEL_KIND_BUNDLE, "%s: cannot start SHA-256", name);
    }
    unsigned char buf[65536];
    off_t off = 0;
    for (;;) {
        ssize_t r = pread(fd, buf, sizeof buf, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            EVP_MD_CTX_free(md);
            return del_fail(err, DEL_KIND_BUNDLE, "%s: read error: %s", name, strerror(errno));
        }
        if (r == 0)
            break;
        EVP_DigestUpdate(md, buf, (size_t)r);
        off += r;
    }
    unsigned char digest[32];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, digest, &dlen);
    EVP_MD_CTX_free(md);
    to_hex(digest, hex);
    return 0;
}

int sha256_parts(const void *const *parts, const size_t *lens, size_t n, char hex[SHA256_HEX_LEN + 1],
                 del_err *err)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md || EVP_DigestInit_ex(md, sha256_md(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return del_fail(err, DEL_KIND_BUNDLE, "cannot start SHA-256");
    }
    for (size_t i = 0; i < n; i++)
        EVP_DigestUpdate(md, parts[i], lens[i]);
    unsigned char digest[32];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, digest, &dlen);
    EVP_MD_CTX_free(md);
    to_hex(digest, hex);
    return 0;
}

int sha256_file(const char *path, char hex[SHA256_HEX_LEN + 1], del_err *err)
{
    struct stat st;
    int fd = open_regular(path, &st, err); /* never a FIFO or a device */
    if (fd < 0)
        return -1;
    int rc = sha256_fd(fd, path, hex, err);
    close(fd);
    return rc;
}

int sha256_is_hex(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++)
        if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
            return 0;
    return n == SHA256_HEX_LEN;
}
