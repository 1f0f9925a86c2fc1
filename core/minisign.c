#include "minisign.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "util.h"

/* The algorithm tags and comments minisign writes. */
#define SIGALG "Ed"
#define SIGALG_HASHED "ED"
#define KDFALG "Sc"
#define CHKALG "B2"
#define COMMENT_PREFIX "untrusted comment: "
#define TRUSTED_PREFIX "trusted comment: "
#define DEFAULT_SIG_COMMENT "signature from minisign secret key"
#define PUBKEY_COMMENT "minisign public key"
#define SECKEY_COMMENT "minisign encrypted secret key"
#define SECKEY_COMMENT_UNENCRYPTED "minisign unencrypted secret key"
#define ALG_BYTES 2
#define HASH_BYTES 64               /* BLAKE2b-512 of a message, for "ED" */
#define CHK_BYTES 32                /* BLAKE2b-256 checksum of a secret key */
#define SALT_BYTES crypto_pwhash_scryptsalsa208sha256_SALTBYTES
#define READ_CHUNK 65536
#define KEY_IDS_LISTED 8            /* trusted key ids named in an unknown-key error */

/* The decoded layouts (byte offsets): minisign's PubkeyStruct, SigStruct
 * and SeckeyStruct. */
#define PK_BYTES (ALG_BYTES + MINISIGN_KEY_ID_BYTES + MINISIGN_PUBLIC_KEY_BYTES)
#define SIG_BYTES (ALG_BYTES + MINISIGN_KEY_ID_BYTES + MINISIGN_SIGNATURE_BYTES)
#define SK_KDF 2
#define SK_CHKALG 4
#define SK_SALT 6
#define SK_OPS (SK_SALT + SALT_BYTES)
#define SK_MEM (SK_OPS + 8)
#define SK_KEYNUM (SK_MEM + 8)      /* key id || secret key || checksum: what scrypt encrypts */
#define SK_SECRET (SK_KEYNUM + MINISIGN_KEY_ID_BYTES)
#define SK_CHK (SK_SECRET + MINISIGN_SECRET_KEY_BYTES)
#define SK_BYTES (SK_CHK + CHK_BYTES)
#define SK_KEYNUM_BYTES (SK_BYTES - SK_KEYNUM)

_Static_assert(SK_BYTES == sizeof(((minisign_seckey_file *)0)->raw), "minisign secret key layout");
_Static_assert(SK_KEYNUM_BYTES == 104, "minisign keynum_sk is 104 bytes");
_Static_assert(MINISIGN_SECRET_KEY_BYTES == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key size");
_Static_assert(MINISIGN_PUBLIC_KEY_BYTES == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key size");
_Static_assert(MINISIGN_SIGNATURE_BYTES == crypto_sign_BYTES, "Ed25519 signature size");
_Static_assert(HASH_BYTES == crypto_generichash_BYTES_MAX, "BLAKE2b-512");
_Static_assert(CHK_BYTES == crypto_generichash_BYTES, "BLAKE2b-256");
_Static_assert(MINISIGN_PUBKEY_BASE64_LEN + 1 == sodium_base64_ENCODED_LEN(PK_BYTES, sodium_base64_VARIANT_ORIGINAL),
               "public key base64 length");
_Static_assert(MINISIGN_KDF_OPSLIMIT_DEFAULT == crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE,
               "minisign's default opslimit");
_Static_assert(MINISIGN_KDF_MEMLIMIT_DEFAULT == crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE,
               "minisign's default memlimit");
_Static_assert(MINISIGN_KDF_OPSLIMIT_MIN == crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_MIN, "opslimit min");
_Static_assert(MINISIGN_KDF_MEMLIMIT_MIN == crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_MIN, "memlimit min");

/* Set err (the exit class is always a usage/bundle error) and return kind. */
static int fault(del_err *err, minisign_fault kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fault(del_err *err, minisign_fault kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    del_vfail(err, DEL_KIND_BUNDLE, fmt, ap);
    va_end(ap);
    return kind;
}

/* libsodium must be initialised once before use; it is idempotent and
 * thread-safe, and fails only when the system has no randomness. */
static int need_sodium(del_err *err)
{
    if (sodium_init() < 0)
        return fault(err, MINISIGN_EFAIL, "cannot initialise libsodium (no source of randomness?)");
    return 0;
}

static uint64_t le64_load(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static void le64_store(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

void minisign_key_id_hex(const unsigned char id[MINISIGN_KEY_ID_BYTES], char hex[MINISIGN_KEY_ID_HEX_LEN + 1])
{
    static const char digits[] = "0123456789ABCDEF";
    for (int i = 0; i < MINISIGN_KEY_ID_BYTES; i++) {
        unsigned char b = id[MINISIGN_KEY_ID_BYTES - 1 - i];
        hex[2 * i] = digits[b >> 4];
        hex[2 * i + 1] = digits[b & 15];
    }
    hex[MINISIGN_KEY_ID_HEX_LEN] = '\0';
}

/* An algorithm tag for a message: printable as is, else in hex. */
static void alg_text(const unsigned char *alg, char out[8])
{
    if (alg[0] > 0x20 && alg[0] < 0x7f && alg[1] > 0x20 && alg[1] < 0x7f)
        snprintf(out, 8, "'%c%c'", alg[0], alg[1]);
    else
        snprintf(out, 8, "0x%02x%02x", alg[0], alg[1]);
}

/* ---- lines ---- */

typedef struct line {
    const char *s;
    size_t len;        /* without the newline and any '\r' before it */
    int complete;      /* ended by a newline */
} line;

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first max lines of text; *rest gets the offset after them. */
static size_t split_lines(const char *text, size_t len, line *out, size_t max, size_t *rest)
{
    size_t n = 0, off = 0;
    while (n < max && off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;
        size_t l = end - off;
        while (l > 0 && text[off + l - 1] == '\r')
            l--;
        out[n].s = text + off;
        out[n].len = l;
        out[n].complete = nl != NULL;
        n++;
        off = nl ? end + 1 : len;
    }
    *rest = off;
    return n;
}

static int only_blank(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!is_blank(s[i]))
            return 0;
    return 1;
}

static int has_prefix(const line *l, const char *prefix)
{
    size_t n = strlen(prefix);
    return l->len >= n && memcmp(l->s, prefix, n) == 0;
}

/* ---- base64 ---- */

static int b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/' || c == '=';
}

/* Decode exactly want bytes of base64 (what names the field for messages). */
static int b64_decode(const char *what, const char *s, size_t n, unsigned char *out, size_t want, del_err *err)
{
    size_t enc = sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1;
    int rc = need_sodium(err);
    if (rc != 0)
        return rc;
    if (n == 0)
        return fault(err, MINISIGN_ELENGTH, "the %s is empty (it is %zu base64 characters)", what, enc);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (b64_char(s[i]))
            continue;
        if (c > 0x20 && c < 0x7f)
            return fault(err, MINISIGN_EBASE64, "the %s is not base64 (character %zu is '%c')", what, i + 1, c);
        return fault(err, MINISIGN_EBASE64, "the %s is not base64 (character %zu is byte 0x%02x)", what, i + 1, c);
    }
    if (n != enc && (n % 4 != 0 || n > enc))
        return fault(err, MINISIGN_ELENGTH, "the %s has %zu base64 characters, not %zu", what, n, enc);
    unsigned char buf[SK_BYTES + 3];
    size_t got = 0;
    if (n > sizeof buf / 3 * 4 ||
        sodium_base642bin(buf, sizeof buf, s, n, NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0) {
        sodium_memzero(buf, sizeof buf);
        return fault(err, MINISIGN_EBASE64, "the %s is not base64 (padding or last character)", what);
    }
    if (got != want) {
        sodium_memzero(buf, sizeof buf);
        return fault(err, MINISIGN_ELENGTH, "the %s is %zu bytes, not %zu", what, got, want);
    }
    memcpy(out, buf, want);
    sodium_memzero(buf, sizeof buf);
    return 0;
}

/* base64 of n bytes into a malloc'd string. */
static char *b64_encode(const unsigned char *bin, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = xmalloc(cap);
    need_sodium(NULL); /* base64 needs no randomness: nothing to report */
    sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

/* Common checks on a whole input: its size against its limit, NUL bytes. */
static int check_input(const char *text, size_t len, size_t max, const char *what, del_err *err)
{
    if (len > max)
        return fault(err, MINISIGN_ETOOBIG, "%zu bytes, more than the %zu a %s may have", len, max, what);
    if (memchr(text, '\0', len))
        return fault(err, MINISIGN_EFORMAT, "a NUL byte: not a %s", what);
    return 0;
}

/* "name: message" */
static int named(int rc, const char *name, del_err *err)
{
    if (rc != 0)
        del_err_wrap(err, "%s", name);
    return rc;
}

/* ---- public keys ---- */

static int pubkey_decode(const char *s, size_t n, minisign_pubkey *pk, del_err *err)
{
    unsigned char raw[PK_BYTES];
    int rc = b64_decode("public key", s, n, raw, sizeof raw, err);
    if (rc != 0)
        return rc;
    if (memcmp(raw, SIGALG, ALG_BYTES) != 0) {
        char alg[8];
        alg_text(raw, alg);
        return fault(err, MINISIGN_EALGORITHM, "public key algorithm %s is not minisign's Ed25519 ('Ed')", alg);
    }
    memcpy(pk->key_id, raw + ALG_BYTES, MINISIGN_KEY_ID_BYTES);
    memcpy(pk->key, raw + ALG_BYTES + MINISIGN_KEY_ID_BYTES, MINISIGN_PUBLIC_KEY_BYTES);
    return 0;
}

static int pubkey_parse(const char *text, size_t len, minisign_pubkey *pk, del_err *err)
{
    int rc = check_input(text, len, MINISIGN_PUBKEY_FILE_MAX, "minisign public key", err);
    if (rc != 0)
        return rc;
    size_t off = 0;
    while (off < len && is_blank(text[off]))
        off++;
    if (off == len)
        return fault(err, MINISIGN_ETRUNCATED, "empty: expected a minisign public key");
    const char *s = text + off;
    size_t n = len - off;
    const char *key;
    size_t klen, after;
    if (n >= strlen("untrusted comment:") && memcmp(s, "untrusted comment:", strlen("untrusted comment:")) == 0) {
        /* a .pub file: the comment line, then the key line */
        line l[2];
        size_t rest;
        if (split_lines(s, n, l, 2, &rest) < 2)
            return fault(err, MINISIGN_ETRUNCATED, "no key line after the untrusted comment");
        key = l[1].s;
        klen = 0;
        while (klen < l[1].len && !is_blank(key[klen]))
            klen++;
        after = (size_t)(key - s) + klen;
    } else {
        /* a bare key string */
        key = s;
        klen = 0;
        while (klen < n && !is_blank(s[klen]))
            klen++;
        after = klen;
    }
    if (!only_blank(s + after, n - after))
        return fault(err, MINISIGN_EFORMAT, "junk after the public key: a minisign public key is one base64 line"
                     " (after an \"untrusted comment:\" line in a .pub file)");
    return pubkey_decode(key, klen, pk, err);
}

int minisign_pubkey_parse(const char *name, const char *text, size_t len, minisign_pubkey *pk, del_err *err)
{
    return named(pubkey_parse(text, len, pk, err), name, err);
}

void minisign_pubkey_base64(const minisign_pubkey *pk, char out[MINISIGN_PUBKEY_BASE64_LEN + 1])
{
    unsigned char raw[PK_BYTES];
    memcpy(raw, SIGALG, ALG_BYTES);
    memcpy(raw + ALG_BYTES, pk->key_id, MINISIGN_KEY_ID_BYTES);
    memcpy(raw + ALG_BYTES + MINISIGN_KEY_ID_BYTES, pk->key, MINISIGN_PUBLIC_KEY_BYTES);
    need_sodium(NULL);
    sodium_bin2base64(out, MINISIGN_PUBKEY_BASE64_LEN + 1, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
}

char *minisign_pubkey_file(const minisign_pubkey *pk)
{
    char hex[MINISIGN_KEY_ID_HEX_LEN + 1], b64[MINISIGN_PUBKEY_BASE64_LEN + 1];
    minisign_key_id_hex(pk->key_id, hex);
    minisign_pubkey_base64(pk, b64);
    return xasprintf(COMMENT_PREFIX PUBKEY_COMMENT " %s\n%s\n", hex, b64);
}

/* ---- secret keys ---- */

/* BLAKE2b-256 over signature algorithm || key id || secret key. */
static void seckey_checksum(const unsigned char raw[SK_BYTES], unsigned char chk[CHK_BYTES])
{
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, CHK_BYTES);
    crypto_generichash_update(&hs, raw, ALG_BYTES);
    crypto_generichash_update(&hs, raw + SK_KEYNUM, MINISIGN_KEY_ID_BYTES);
    crypto_generichash_update(&hs, raw + SK_SECRET, MINISIGN_SECRET_KEY_BYTES);
    crypto_generichash_final(&hs, chk, CHK_BYTES);
    sodium_memzero(&hs, sizeof hs);
}

/* scrypt's output for the encrypted part of a key file, as minisign derives it. */
static int kdf_stream(const char *passphrase, const unsigned char salt[SALT_BYTES], uint64_t ops, uint64_t mem,
                      unsigned char stream[SK_KEYNUM_BYTES], del_err *err)
{
    if (crypto_pwhash_scryptsalsa208sha256(stream, SK_KEYNUM_BYTES, passphrase, strlen(passphrase), salt,
                                           (unsigned long long)ops, (size_t)mem) != 0)
        return fault(err, MINISIGN_EFAIL, "scrypt failed (it needs up to %llu MiB of memory)",
                     (unsigned long long)(mem >> 20));
    return 0;
}

static int check_passphrase(const char *passphrase, del_err *err)
{
    if (strlen(passphrase) > MINISIGN_PASSPHRASE_MAX)
        return fault(err, MINISIGN_EARG, "the passphrase is longer than the %d bytes minisign reads",
                     MINISIGN_PASSPHRASE_MAX);
    return 0;
}

static int seckey_parse(const char *text, size_t len, minisign_seckey_file *f, del_err *err)
{
    memset(f, 0, sizeof *f);
    int rc = check_input(text, len, MINISIGN_SECKEY_FILE_MAX, "minisign secret key file", err);
    if (rc != 0)
        return rc;
    line l[2];
    size_t rest;
    size_t n = split_lines(text, len, l, 2, &rest);
    if (n == 0)
        return fault(err, MINISIGN_ETRUNCATED, "empty: expected a minisign secret key file");
    if (!has_prefix(&l[0], "untrusted comment:"))
        return fault(err, MINISIGN_EFORMAT, "not a minisign secret key file: the first line must be"
                     " \"untrusted comment: ...\"");
    if (n < 2)
        return fault(err, MINISIGN_ETRUNCATED, "no key line after the untrusted comment");
    if (!only_blank(text + rest, len - rest))
        return fault(err, MINISIGN_EFORMAT, "junk after the secret key line");
    size_t klen = l[1].len;
    while (klen > 0 && (l[1].s[klen - 1] == ' ' || l[1].s[klen - 1] == '\t'))
        klen--;
    if ((rc = b64_decode("secret key", l[1].s, klen, f->raw, SK_BYTES, err)) != 0) {
        sodium_memzero(f->raw, sizeof f->raw);
        return rc;
    }
    char alg[8];
    if (memcmp(f->raw, SIGALG, ALG_BYTES) != 0) {
        alg_text(f->raw, alg);
        rc = fault(err, MINISIGN_EALGORITHM, "signature algorithm %s is not minisign's Ed25519 ('Ed')", alg);
    } else if (memcmp(f->raw + SK_CHKALG, CHKALG, ALG_BYTES) != 0) {
        alg_text(f->raw + SK_CHKALG, alg);
        rc = fault(err, MINISIGN_EALGORITHM, "checksum algorithm %s is not minisign's BLAKE2b ('B2')", alg);
    } else if (memcmp(f->raw + SK_KDF, KDFALG, ALG_BYTES) == 0) {
        f->encrypted = 1;
        f->kdf.opslimit = le64_load(f->raw + SK_OPS);
        f->kdf.memlimit = le64_load(f->raw + SK_MEM);
        if (f->kdf.opslimit > MINISIGN_KDF_OPSLIMIT_MAX || f->kdf.memlimit > MINISIGN_KDF_MEMLIMIT_MAX)
            rc = fault(err, MINISIGN_ETOOBIG,
                       "asks scrypt for opslimit %llu and memlimit %llu; the most accepted is %llu and %llu"
                       " (minisign's own)", (unsigned long long)f->kdf.opslimit,
                       (unsigned long long)f->kdf.memlimit, MINISIGN_KDF_OPSLIMIT_MAX, MINISIGN_KDF_MEMLIMIT_MAX);
    } else if (f->raw[SK_KDF] != 0 || f->raw[SK_KDF + 1] != 0) {
        alg_text(f->raw + SK_KDF, alg);
        rc = fault(err, MINISIGN_EALGORITHM, "key derivation %s is neither minisign's scrypt ('Sc') nor none", alg);
    }
    if (rc != 0)
        minisign_seckey_file_wipe(f);
    return rc;
}

int minisign_seckey_parse(const char *name, const char *text, size_t len, minisign_seckey_file *f, del_err *err)
{
    return named(seckey_parse(text, len, f, err), name, err);
}

static int all_zero(const unsigned char *p, size_t n)
{
    unsigned char acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

static int seckey_unlock(const minisign_seckey_file *f, const char *passphrase, minisign_seckey *sk, del_err *err)
{
    unsigned char raw[SK_BYTES], stream[SK_KEYNUM_BYTES], chk[CHK_BYTES];
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
    int rc = need_sodium(err);
    if (rc != 0)
        return rc;
    memcpy(raw, f->raw, sizeof raw);
    if (f->encrypted) {
        if (!passphrase) {
            rc = fault(err, MINISIGN_ENEEDPASS, "the secret key is encrypted: a passphrase is needed");
            goto out;
        }
        if ((rc = check_passphrase(passphrase, err)) != 0 ||
            (rc = kdf_stream(passphrase, raw + SK_SALT, f->kdf.opslimit, f->kdf.memlimit, stream, err)) != 0)
            goto out;
        for (size_t i = 0; i < SK_KEYNUM_BYTES; i++)
            raw[SK_KEYNUM + i] ^= stream[i];
    }
    seckey_checksum(raw, chk);
    if (sodium_memcmp(chk, raw + SK_CHK, CHK_BYTES) != 0) {
        if (f->encrypted) {
            rc = fault(err, MINISIGN_EPASSPHRASE, "wrong passphrase for this secret key");
            goto out;
        }
        /* minisign -G -W writes no checksum */
        if (!all_zero(raw + SK_CHK, CHK_BYTES)) {
            rc = fault(err, MINISIGN_ECORRUPT, "the secret key does not match its checksum: the file is damaged");
            goto out;
        }
    }
    /* the public half must be the seed's own (a damaged key signs nothing
     * that verifies) */
    crypto_sign_seed_keypair(pk, sk2, raw + SK_SECRET);
    if (sodium_memcmp(pk, raw + SK_SECRET + 32, sizeof pk) != 0) {
        rc = fault(err, MINISIGN_ECORRUPT, "the secret key's public half is not its own: the file is damaged");
        goto out;
    }
    memcpy(sk->key_id, raw + SK_KEYNUM, MINISIGN_KEY_ID_BYTES);
    memcpy(sk->key, raw + SK_SECRET, MINISIGN_SECRET_KEY_BYTES);
out:
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(stream, sizeof stream);
    sodium_memzero(chk, sizeof chk);
    sodium_memzero(sk2, sizeof sk2);
    return rc;
}

int minisign_seckey_unlock(const char *name, const minisign_seckey_file *f, const char *passphrase,
                           minisign_seckey *sk, del_err *err)
{
    return named(seckey_unlock(f, passphrase, sk, err), name, err);
}

int minisign_seckey_load(const char *name, const char *text, size_t len, const char *passphrase,
                         minisign_seckey *sk, del_err *err)
{
    minisign_seckey_file f;
    int rc = minisign_seckey_parse(name, text, len, &f, err);
    if (rc == 0)
        rc = minisign_seckey_unlock(name, &f, passphrase, sk, err);
    minisign_seckey_file_wipe(&f);
    return rc;
}

static int seckey_file_text(const minisign_seckey *sk, const char *passphrase, const minisign_kdf *kdf,
                            char **text, del_err *err)
{
    *text = NULL;
    int rc = need_sodium(err);
    if (rc != 0)
        return rc;
    minisign_kdf cost = {MINISIGN_KDF_OPSLIMIT_DEFAULT, MINISIGN_KDF_MEMLIMIT_DEFAULT};
    if (passphrase) {
        if (!*passphrase)
            return fault(err, MINISIGN_EARG, "an empty passphrase protects nothing: give one, or write the key"
                         " unencrypted");
        if ((rc = check_passphrase(passphrase, err)) != 0)
            return rc;
        if (kdf)
            cost = *kdf;
        if (cost.opslimit < MINISIGN_KDF_OPSLIMIT_MIN || cost.opslimit > MINISIGN_KDF_OPSLIMIT_MAX ||
            cost.memlimit < MINISIGN_KDF_MEMLIMIT_MIN || cost.memlimit > MINISIGN_KDF_MEMLIMIT_MAX)
            return fault(err, MINISIGN_EARG, "scrypt opslimit %llu and memlimit %llu: each must be between %llu"
                         " and %llu, and %llu and %llu", (unsigned long long)cost.opslimit,
                         (unsigned long long)cost.memlimit, MINISIGN_KDF_OPSLIMIT_MIN, MINISIGN_KDF_OPSLIMIT_MAX,
                         MINISIGN_KDF_MEMLIMIT_MIN, MINISIGN_KDF_MEMLIMIT_MAX);
    }
    unsigned char raw[SK_BYTES], stream[SK_KEYNUM_BYTES];
    memset(raw, 0, sizeof raw);
    memcpy(raw, SIGALG, ALG_BYTES);
    memcpy(raw + SK_CHKALG, CHKALG, ALG_BYTES);
    memcpy(raw + SK_KEYNUM, sk->key_id, MINISIGN_KEY_ID_BYTES);
    memcpy(raw + SK_SECRET, sk->key, MINISIGN_SECRET_KEY_BYTES);
    seckey_checksum(raw, raw + SK_CHK);
    if (passphrase) {
        memcpy(raw + SK_KDF, KDFALG, ALG_BYTES);
        randombytes_buf(raw + SK_SALT, SALT_BYTES);
        le64_store(raw + SK_OPS, cost.opslimit);
        le64_store(raw + SK_MEM, cost.memlimit);
        if ((rc = kdf_stream(passphrase, raw + SK_SALT, cost.opslimit, cost.memlimit, stream, err)) != 0)
            goto out;
        for (size_t i = 0; i < SK_KEYNUM_BYTES; i++)
            raw[SK_KEYNUM + i] ^= stream[i];
    }
    /* built by hand, not with a printf that may leave copies behind */
    char *b64 = b64_encode(raw, sizeof raw);
    const char *comment = passphrase ? COMMENT_PREFIX SECKEY_COMMENT "\n" : COMMENT_PREFIX SECKEY_COMMENT_UNENCRYPTED "\n";
    size_t clen = strlen(comment), blen = strlen(b64);
    *text = xmalloc(clen + blen + 2);
    memcpy(*text, comment, clen);
    memcpy(*text + clen, b64, blen);
    memcpy(*text + clen + blen, "\n", 2);
    minisign_free_secret(b64);
out:
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(stream, sizeof stream);
    return rc;
}

int minisign_seckey_file_text(const minisign_seckey *sk, const char *passphrase, const minisign_kdf *kdf,
                              char **text, del_err *err)
{
    return named(seckey_file_text(sk, passphrase, kdf, text, err), "writing a minisign secret key", err);
}

void minisign_seckey_pubkey(const minisign_seckey *sk, minisign_pubkey *pk)
{
    memcpy(pk->key_id, sk->key_id, MINISIGN_KEY_ID_BYTES);
    memcpy(pk->key, sk->key + MINISIGN_SECRET_KEY_BYTES - MINISIGN_PUBLIC_KEY_BYTES, MINISIGN_PUBLIC_KEY_BYTES);
}

void minisign_seckey_wipe(minisign_seckey *sk)
{
    sodium_memzero(sk, sizeof *sk);
}

void minisign_seckey_file_wipe(minisign_seckey_file *f)
{
    sodium_memzero(f, sizeof *f);
}

void minisign_free_secret(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

int minisign_keygen(const char *passphrase, const minisign_kdf *kdf, char **pub_text, char **key_text,
                    minisign_pubkey *pk, del_err *err)
{
    *pub_text = *key_text = NULL;
    int rc = need_sodium(err);
    if (rc != 0)
        return named(rc, "generating a minisign key", err);
    minisign_seckey sk;
    minisign_pubkey pub;
    randombytes_buf(sk.key_id, sizeof sk.key_id);
    memcpy(pub.key_id, sk.key_id, sizeof pub.key_id);
    if (crypto_sign_keypair(pub.key, sk.key) != 0) {
        minisign_seckey_wipe(&sk);
        return fault(err, MINISIGN_EFAIL, "generating a minisign key: Ed25519 key generation failed");
    }
    rc = minisign_seckey_file_text(&sk, passphrase, kdf, key_text, err);
    minisign_seckey_wipe(&sk);
    if (rc != 0)
        return rc;
    *pub_text = minisign_pubkey_file(&pub);
    if (pk)
        *pk = pub;
    return 0;
}

/* ---- signatures ---- */

static int sig_parse(const char *text, size_t len, minisign_sig *sig, del_err *err)
{
    int rc = check_input(text, len, MINISIGN_SIG_FILE_MAX, "minisign signature file", err);
    if (rc != 0)
        return rc;
    line l[4];
    size_t rest;
    size_t n = split_lines(text, len, l, 4, &rest);
    unsigned char raw[SIG_BYTES];
    memset(sig, 0, sizeof *sig);
    for (size_t i = 0; i < 4; i++) {
        if (i >= n)
            return fault(err, MINISIGN_ETRUNCATED, "ends after line %zu: a minisign signature has 4 lines"
                         " (untrusted comment, signature, trusted comment, global signature)", n);
        const line *li = &l[i];
        switch (i) {
        case 0:
            if (!has_prefix(li, COMMENT_PREFIX))
                rc = fault(err, MINISIGN_EFORMAT, "line 1 must be the untrusted comment (\"" COMMENT_PREFIX
                           "...\")");
            else if (li->len - strlen(COMMENT_PREFIX) > MINISIGN_COMMENT_MAX)
                rc = fault(err, MINISIGN_ETOOBIG, "the untrusted comment is %zu bytes, more than the %d minisign"
                           " reads", li->len - strlen(COMMENT_PREFIX), MINISIGN_COMMENT_MAX);
            break;
        case 1:
            rc = b64_decode("signature (line 2)", li->s, li->len, raw, sizeof raw, err);
            if (rc == 0 && memcmp(raw, SIGALG_HASHED, ALG_BYTES) != 0 && memcmp(raw, SIGALG, ALG_BYTES) != 0) {
                char alg[8];
                alg_text(raw, alg);
                rc = fault(err, MINISIGN_EALGORITHM, "signature algorithm %s is not one of minisign's ('ED'"
                           " prehashed, 'Ed' legacy)", alg);
            }
            break;
        case 2:
            if (!has_prefix(li, TRUSTED_PREFIX))
                rc = fault(err, MINISIGN_EFORMAT, "line 3 must be the trusted comment (\"" TRUSTED_PREFIX
                           "...\")");
            else if (li->len - strlen(TRUSTED_PREFIX) > MINISIGN_TRUSTED_COMMENT_MAX)
                rc = fault(err, MINISIGN_ETOOBIG, "the trusted comment is %zu bytes, more than the %d minisign"
                           " reads", li->len - strlen(TRUSTED_PREFIX), MINISIGN_TRUSTED_COMMENT_MAX);
            break;
        default:
            rc = b64_decode("global signature (line 4)", li->s, li->len, sig->global_sig, MINISIGN_SIGNATURE_BYTES,
                            err);
        }
        if (rc != 0) {
            /* a last line without its newline that does not read: the file was cut there */
            if (i == n - 1 && !li->complete) {
                del_err_wrap(err, "cut short in line %zu", i + 1);
                rc = MINISIGN_ETRUNCATED;
            }
            memset(sig, 0, sizeof *sig);
            return rc;
        }
    }
    if (!only_blank(text + rest, len - rest)) {
        memset(sig, 0, sizeof *sig);
        return fault(err, MINISIGN_EFORMAT, "extra lines after the global signature (line 4)");
    }
    sig->prehashed = memcmp(raw, SIGALG_HASHED, ALG_BYTES) == 0;
    memcpy(sig->key_id, raw + ALG_BYTES, MINISIGN_KEY_ID_BYTES);
    memcpy(sig->sig, raw + ALG_BYTES + MINISIGN_KEY_ID_BYTES, MINISIGN_SIGNATURE_BYTES);
    size_t tlen = l[2].len - strlen(TRUSTED_PREFIX);
    memcpy(sig->trusted_comment, l[2].s + strlen(TRUSTED_PREFIX), tlen);
    sig->trusted_comment[tlen] = '\0';
    return 0;
}

int minisign_sig_parse(const char *name, const char *text, size_t len, minisign_sig *sig, del_err *err)
{
    return named(sig_parse(text, len, sig, err), name, err);
}

/* A comment the signer writes: one line of text (tabs allowed), what
 * minisign reads back. */
static int check_comment(const char *what, const char *c, size_t max, del_err *err)
{
    size_t n = strlen(c);
    if (n > max)
        return fault(err, MINISIGN_EARG, "the %s is %zu bytes, more than the %zu minisign reads", what, n, max);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)c[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
            return fault(err, MINISIGN_EARG, "the %s must be one line of text: byte %zu is the control character"
                         " 0x%02x", what, i + 1, ch);
    }
    return 0;
}

/* Ed25519 over m (the BLAKE2b-512 digest for "ED"), then over sig ||
 * trusted comment; both checked with the public half before writing. */
static int sign_digest(const minisign_seckey *sk, const unsigned char digest[HASH_BYTES],
                       const char *trusted_comment, const char *untrusted_comment, char **sig_text, del_err *err)
{
    *sig_text = NULL;
    if (!untrusted_comment)
        untrusted_comment = DEFAULT_SIG_COMMENT;
    int rc;
    if (!trusted_comment)
        return fault(err, MINISIGN_EARG, "no trusted comment given");
    if ((rc = check_comment("trusted comment", trusted_comment, MINISIGN_TRUSTED_COMMENT_MAX, err)) != 0 ||
        (rc = check_comment("untrusted comment", untrusted_comment, MINISIGN_COMMENT_MAX, err)) != 0)
        return rc;
    unsigned char raw[SIG_BYTES];
    memcpy(raw, SIGALG_HASHED, ALG_BYTES);
    memcpy(raw + ALG_BYTES, sk->key_id, MINISIGN_KEY_ID_BYTES);
    unsigned char *s = raw + ALG_BYTES + MINISIGN_KEY_ID_BYTES;
    size_t tlen = strlen(trusted_comment);
    unsigned char *both = xmalloc(MINISIGN_SIGNATURE_BYTES + tlen);
    unsigned char global[MINISIGN_SIGNATURE_BYTES];
    const unsigned char *pk = sk->key + MINISIGN_SECRET_KEY_BYTES - MINISIGN_PUBLIC_KEY_BYTES;
    if (crypto_sign_detached(s, NULL, digest, HASH_BYTES, sk->key) != 0) {
        rc = fault(err, MINISIGN_EFAIL, "Ed25519 signing failed");
        goto out;
    }
    memcpy(both, s, MINISIGN_SIGNATURE_BYTES);
    memcpy(both + MINISIGN_SIGNATURE_BYTES, trusted_comment, tlen);
    if (crypto_sign_detached(global, NULL, both, MINISIGN_SIGNATURE_BYTES + tlen, sk->key) != 0) {
        rc = fault(err, MINISIGN_EFAIL, "Ed25519 signing failed");
        goto out;
    }
    if (crypto_sign_verify_detached(s, digest, HASH_BYTES, pk) != 0 ||
        crypto_sign_verify_detached(global, both, MINISIGN_SIGNATURE_BYTES + tlen, pk) != 0) {
        rc = fault(err, MINISIGN_ECORRUPT, "the new signature does not verify with the key's own public half");
        goto out;
    }
    char *b64 = b64_encode(raw, sizeof raw), *gb64 = b64_encode(global, sizeof global);
    *sig_text = xasprintf(COMMENT_PREFIX "%s\n%s\n" TRUSTED_PREFIX "%s\n%s\n", untrusted_comment, b64,
                          trusted_comment, gb64);
    free(b64);
    free(gb64);
out:
    free(both);
    return rc;
}

/* BLAKE2b-512 of fd's whole content from offset 0 (pread). */
static int hash_fd(int fd, unsigned char digest[HASH_BYTES], del_err *err)
{
    crypto_generichash_state hs;
    crypto_generichash_init(&hs, NULL, 0, HASH_BYTES);
    unsigned char *buf = xmalloc(READ_CHUNK);
    off_t off = 0;
    for (;;) {
        ssize_t r = pread(fd, buf, READ_CHUNK, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return fault(err, MINISIGN_EFAIL, "read error: %s", strerror(e));
        }
        if (r == 0)
            break;
        crypto_generichash_update(&hs, buf, (size_t)r);
        off += r;
    }
    free(buf);
    crypto_generichash_final(&hs, digest, HASH_BYTES);
    return 0;
}

int minisign_sign(const minisign_seckey *sk, const void *msg, size_t msg_len, const char *trusted_comment,
                  const char *untrusted_comment, char **sig_text, del_err *err)
{
    *sig_text = NULL;
    int rc = need_sodium(err);
    if (rc != 0)
        return named(rc, "signing", err);
    unsigned char digest[HASH_BYTES];
    crypto_generichash(digest, HASH_BYTES, msg, msg_len, NULL, 0);
    return named(sign_digest(sk, digest, trusted_comment, untrusted_comment, sig_text, err), "signing", err);
}

int minisign_sign_fd(const minisign_seckey *sk, int fd, const char *name, const char *trusted_comment,
                     const char *untrusted_comment, char **sig_text, del_err *err)
{
    *sig_text = NULL;
    int rc = need_sodium(err);
    if (rc != 0)
        return named(rc, name, err);
    unsigned char digest[HASH_BYTES];
    if ((rc = hash_fd(fd, digest, err)) != 0)
        return named(rc, name, err);
    return named(sign_digest(sk, digest, trusted_comment, untrusted_comment, sig_text, err), name, err);
}

/* ---- verifying ---- */

/* Where the signed message comes from: bytes in memory, or a file. */
typedef struct msg_source {
    const void *data;
    size_t len;
    int fd;              /* >= 0: read the message from fd */
    const char *name;
} msg_source;

/* The key ids of the trusted keys, for an unknown-key message. */
static void list_key_ids(const minisign_pubkey *keys, size_t nkeys, char *buf, size_t bufsz)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < nkeys && i < KEY_IDS_LISTED; i++) {
        char hex[MINISIGN_KEY_ID_HEX_LEN + 1];
        minisign_key_id_hex(keys[i].key_id, hex);
        int w = snprintf(buf + used, bufsz - used, "%s%s", i ? ", " : "", hex);
        if (w < 0 || (size_t)w >= bufsz - used)
            return;
        used += (size_t)w;
    }
    if (nkeys > KEY_IDS_LISTED)
        snprintf(buf + used, bufsz - used, ", ... %zu in all", nkeys);
}

static int legacy_too_big(const char *name, del_err *err)
{
    return fault(err, MINISIGN_ETOOBIG, "%s: larger than the %u bytes a legacy ('Ed') signature is checked for;"
                 " sign it again with minisign 0.8 or later (prehashed 'ED')", name, MINISIGN_LEGACY_MESSAGE_MAX);
}

/* The bytes the signature covers: the message's BLAKE2b-512 for "ED", the
 * message itself for legacy "Ed" (*owned set when it had to be read). */
static int signed_bytes(const minisign_sig *sig, const msg_source *m, unsigned char digest[HASH_BYTES],
                        const unsigned char **bytes, size_t *len, unsigned char **owned, del_err *err)
{
    *owned = NULL;
    if (sig->prehashed) {
        if (m->fd >= 0) {
            int rc = hash_fd(m->fd, digest, err);
            if (rc != 0)
                return named(rc, m->name, err);
        } else {
            crypto_generichash(digest, HASH_BYTES, m->data, m->len, NULL, 0);
        }
        *bytes = digest;
        *len = HASH_BYTES;
        return 0;
    }
    if (m->fd < 0) {
        *bytes = m->data;
        *len = m->len;
        return 0;
    }
    struct stat st;
    if (fstat(m->fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > MINISIGN_LEGACY_MESSAGE_MAX)
        return legacy_too_big(m->name, err);
    size_t cap = READ_CHUNK, n = 0;
    unsigned char *buf = xmalloc(cap);
    for (;;) {
        if (n == cap) {
            if (cap > MINISIGN_LEGACY_MESSAGE_MAX) {
                free(buf);
                return legacy_too_big(m->name, err);
            }
            cap = cap * 2 > MINISIGN_LEGACY_MESSAGE_MAX ? (size_t)MINISIGN_LEGACY_MESSAGE_MAX + 1 : cap * 2;
            buf = xrealloc(buf, cap);
        }
        ssize_t r = pread(m->fd, buf + n, cap - n, (off_t)n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            return fault(err, MINISIGN_EFAIL, "%s: read error: %s", m->name, strerror(e));
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (n > MINISIGN_LEGACY_MESSAGE_MAX) {
        free(buf);
        return legacy_too_big(m->name, err);
    }
    *owned = buf;
    *bytes = buf;
    *len = n;
    return 0;
}

static int verify(const char *sig_name, const char *sig_text, size_t sig_len, const msg_source *m,
                  const minisign_pubkey *keys, size_t nkeys, minisign_sig *out, size_t *key_index, del_err *err)
{
    int rc = need_sodium(err);
    if (rc != 0)
        return named(rc, sig_name, err);
    if (!keys || nkeys == 0)
        return fault(err, MINISIGN_EARG, "%s: no trusted public key to verify it with", sig_name);
    minisign_sig *sig = xmalloc(sizeof *sig);
    if ((rc = minisign_sig_parse(sig_name, sig_text, sig_len, sig, err)) != 0)
        goto out;
    char hex[MINISIGN_KEY_ID_HEX_LEN + 1];
    minisign_key_id_hex(sig->key_id, hex);
    size_t first = nkeys;
    for (size_t i = 0; i < nkeys && first == nkeys; i++)
        if (memcmp(keys[i].key_id, sig->key_id, MINISIGN_KEY_ID_BYTES) == 0)
            first = i;
    if (first == nkeys) {
        char ids[KEY_IDS_LISTED * (MINISIGN_KEY_ID_HEX_LEN + 2) + 32];
        list_key_ids(keys, nkeys, ids, sizeof ids);
        rc = fault(err, MINISIGN_EUNKNOWNKEY, "%s: signed by key id %s, which is not a trusted key (trusted: %s)",
                   sig_name, hex, ids);
        goto out;
    }
    unsigned char digest[HASH_BYTES], *owned = NULL;
    const unsigned char *bytes = NULL;
    size_t len = 0;
    if ((rc = signed_bytes(sig, m, digest, &bytes, &len, &owned, err)) != 0)
        goto out;
    rc = fault(err, MINISIGN_EBADSIG, "%s: the signature by key id %s does not match %s: changed after it was"
               " signed?", sig_name, hex, m->name);
    size_t tlen = strlen(sig->trusted_comment);
    unsigned char *both = xmalloc(MINISIGN_SIGNATURE_BYTES + tlen);
    memcpy(both, sig->sig, MINISIGN_SIGNATURE_BYTES);
    memcpy(both + MINISIGN_SIGNATURE_BYTES, sig->trusted_comment, tlen);
    /* several trusted keys may share a key id: any one of them may verify */
    for (size_t i = first; i < nkeys; i++) {
        if (memcmp(keys[i].key_id, sig->key_id, MINISIGN_KEY_ID_BYTES) != 0 ||
            crypto_sign_verify_detached(sig->sig, bytes, len, keys[i].key) != 0)
            continue;
        if (crypto_sign_verify_detached(sig->global_sig, both, MINISIGN_SIGNATURE_BYTES + tlen, keys[i].key) != 0) {
            rc = fault(err, MINISIGN_EBADCOMMENT, "%s: the trusted comment does not match its signature by key id"
                       " %s: changed after it was signed?", sig_name, hex);
            break;
        }
        del_err_clear(err);
        rc = 0;
        if (key_index)
            *key_index = i;
        if (out)
            memcpy(out, sig, sizeof *sig);
        break;
    }
    free(both);
    free(owned);
out:
    free(sig);
    return rc;
}

int minisign_verify(const char *sig_name, const char *sig_text, size_t sig_len, const void *msg, size_t msg_len,
                    const minisign_pubkey *keys, size_t nkeys, minisign_sig *sig, size_t *key_index, del_err *err)
{
    msg_source m = {msg, msg_len, -1, "the message"};
    return verify(sig_name, sig_text, sig_len, &m, keys, nkeys, sig, key_index, err);
}

int minisign_verify_fd(const char *sig_name, const char *sig_text, size_t sig_len, int fd, const char *msg_name,
                       const minisign_pubkey *keys, size_t nkeys, minisign_sig *sig, size_t *key_index,
                       del_err *err)
{
    msg_source m = {NULL, 0, fd, msg_name};
    return verify(sig_name, sig_text, sig_len, &m, keys, nkeys, sig, key_index, err);
}
