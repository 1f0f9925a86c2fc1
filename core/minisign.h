/* minisign's key and signature formats, signing and verifying, byte for byte
 * compatible with minisign 0.11 (Debian's `minisign`): the bundle signatures
 * of the vendor trust chain. A pure module: text in, text or structs out, no
 * printing, no state of its own. Cryptography comes from libsodium, the
 * library minisign itself is built on: Ed25519 (crypto_sign), BLAKE2b
 * (crypto_generichash) and scrypt (crypto_pwhash_scryptsalsa208sha256, so the
 * opslimit/memlimit stored in a key file map to the same N, r, p).
 *
 * Errors: every function that can fail returns 0, or a negative
 * minisign_fault saying what kind of problem it was, and fills err with one
 * line naming the input (the `name` the caller gave: a file name, or "trusted
 * key 2") and what to do; the exit class is DEL_KIND_BUNDLE. Callers that only
 * need success or failure test `!= 0` (or `< 0`).
 *
 * Formats (all base64 is RFC 4648 with padding, one line each):
 *   public key   "untrusted comment: ..." line, then base64 of
 *                "Ed" || key id (8) || Ed25519 public key (32)          = 42 bytes
 *   secret key   "untrusted comment: ..." line, then base64 of
 *                "Ed" || kdf ("Sc" or 0,0) || "B2" || salt (32) || opslimit (8, LE)
 *                || memlimit (8, LE) || [key id (8) || Ed25519 secret (64) ||
 *                BLAKE2b-256 checksum (32)], the bracket XORed with scrypt's
 *                output when the kdf is "Sc"                           = 158 bytes
 *   signature    "untrusted comment: ..." line, base64 of "ED" (or legacy "Ed")
 *                || key id (8) || Ed25519 signature (64) = 74 bytes, "trusted
 *                comment: ..." line, base64 of the global signature (64 bytes,
 *                Ed25519 over signature || trusted comment). "ED" signs the
 *                BLAKE2b-512 of the message, "Ed" the message itself.
 * A line may end in "\r\n"; blank lines after the last line are ignored,
 * anything else after it is refused. */
#ifndef DEL_MINISIGN_H
#define DEL_MINISIGN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define MINISIGN_KEY_ID_BYTES 8
#define MINISIGN_KEY_ID_HEX_LEN 16        /* uppercase, as minisign prints it */
#define MINISIGN_PUBLIC_KEY_BYTES 32
#define MINISIGN_SECRET_KEY_BYTES 64      /* libsodium's: seed || public key */
#define MINISIGN_SIGNATURE_BYTES 64
#define MINISIGN_PUBKEY_BASE64_LEN 56     /* base64 of the 42-byte public key */

/* Input limits: larger inputs are refused before they are parsed (read a
 * file with util.h's read_file(path, MINISIGN_SIG_FILE_MAX, ...) so a huge
 * one is never read whole). */
#define MINISIGN_PUBKEY_FILE_MAX 4096
#define MINISIGN_SECKEY_FILE_MAX 4096
#define MINISIGN_SIG_FILE_MAX 16384
/* The comments minisign 0.11 can read back (its line buffers are 1024 and
 * 8192 bytes with the prefix, the newline and a NUL). */
#define MINISIGN_COMMENT_MAX 1003
#define MINISIGN_TRUSTED_COMMENT_MAX 8173
#define MINISIGN_PASSPHRASE_MAX 1023
/* A legacy ("Ed") signature signs the whole message, so minisign_verify_fd
 * reads a file with one into memory, up to this size. */
#define MINISIGN_LEGACY_MESSAGE_MAX (64u * 1024 * 1024)

/* scrypt cost, as minisign stores it. Keys are written with minisign's
 * defaults (libsodium's "sensitive" limits: 1 GiB of memory, a few seconds),
 * and a key file asking for more than these is refused rather than run. */
#define MINISIGN_KDF_OPSLIMIT_DEFAULT 33554432ULL
#define MINISIGN_KDF_MEMLIMIT_DEFAULT 1073741824ULL
#define MINISIGN_KDF_OPSLIMIT_MAX MINISIGN_KDF_OPSLIMIT_DEFAULT
#define MINISIGN_KDF_MEMLIMIT_MAX MINISIGN_KDF_MEMLIMIT_DEFAULT
/* The least cost a key may be written with (libsodium's minimums). */
#define MINISIGN_KDF_OPSLIMIT_MIN 32768ULL
#define MINISIGN_KDF_MEMLIMIT_MIN 16777216ULL

typedef enum minisign_fault {
    MINISIGN_OK = 0,
    MINISIGN_EFAIL = -1,       /* the system or the library failed (memory for scrypt, a read) */
    MINISIGN_ETOOBIG = -2,     /* an input, comment or KDF cost beyond its named limit */
    MINISIGN_ETRUNCATED = -3,  /* fewer lines than the format has */
    MINISIGN_EFORMAT = -4,     /* a line that is not what the format says: comment prefix,
                                  NUL byte, junk or extra lines */
    MINISIGN_EBASE64 = -5,     /* not base64 */
    MINISIGN_ELENGTH = -6,     /* base64 of the wrong number of bytes (cut short or too long) */
    MINISIGN_EALGORITHM = -7,  /* signature, KDF or checksum algorithm minisign does not have */
    MINISIGN_EUNKNOWNKEY = -8, /* signed by a key id that no trusted key has */
    MINISIGN_EBADSIG = -9,     /* the signature does not match the message */
    MINISIGN_EBADCOMMENT = -10,/* the global signature does not match: trusted comment changed */
    MINISIGN_ENEEDPASS = -11,  /* the secret key is encrypted and no passphrase was given */
    MINISIGN_EPASSPHRASE = -12,/* wrong passphrase */
    MINISIGN_ECORRUPT = -13,   /* a damaged secret key: checksum (unencrypted) or halves disagree */
    MINISIGN_EARG = -14,       /* the caller's own argument: a comment with a newline, no keys */
} minisign_fault;

/* The key id as minisign prints it: the 8 bytes read as a little-endian
 * number, 16 uppercase hex digits ("E34E410B9BD8F871"). */
void minisign_key_id_hex(const unsigned char id[MINISIGN_KEY_ID_BYTES],
                         char hex[MINISIGN_KEY_ID_HEX_LEN + 1]);

/* ---- public keys ---- */

typedef struct minisign_pubkey {
    unsigned char key_id[MINISIGN_KEY_ID_BYTES];
    unsigned char key[MINISIGN_PUBLIC_KEY_BYTES];
} minisign_pubkey;

/* A .pub file's text (an "untrusted comment:" line, then the base64 line) or
 * a bare base64 key string (what `minisign -P` takes), told apart by the
 * first line. Surrounding whitespace and blank lines are ignored. */
int minisign_pubkey_parse(const char *name, const char *text, size_t len, minisign_pubkey *pk,
                          del_err *err);
/* The base64 line (what minisign_pubkey_parse reads back bare). */
void minisign_pubkey_base64(const minisign_pubkey *pk, char out[MINISIGN_PUBKEY_BASE64_LEN + 1]);
/* A .pub file's text, as minisign -G writes it (malloc'd). */
char *minisign_pubkey_file(const minisign_pubkey *pk);

/* ---- secret keys ---- */

/* An unlocked secret key: wipe it with minisign_seckey_wipe when done. */
typedef struct minisign_seckey {
    unsigned char key_id[MINISIGN_KEY_ID_BYTES];
    unsigned char key[MINISIGN_SECRET_KEY_BYTES];
} minisign_seckey;

typedef struct minisign_kdf {
    uint64_t opslimit, memlimit;
} minisign_kdf;

/* A secret key file as read, still encrypted when it was (unlocking is a
 * second step: it may need a passphrase and takes seconds). Holds secret
 * material for an unencrypted key: wipe it with minisign_seckey_file_wipe. */
typedef struct minisign_seckey_file {
    int encrypted;            /* kdf "Sc": minisign_seckey_unlock needs the passphrase */
    minisign_kdf kdf;         /* its scrypt cost (0, 0 when not encrypted) */
    unsigned char raw[158];   /* the decoded key file */
} minisign_seckey_file;

/* Read a secret key file's text: the algorithms ("Ed", "Sc" or none, "B2"),
 * the length; for an encrypted key also the KDF cost against the limits. */
int minisign_seckey_parse(const char *name, const char *text, size_t len, minisign_seckey_file *f,
                          del_err *err);
/* Decrypt (when encrypted; passphrase NULL then gives MINISIGN_ENEEDPASS, and
 * a checksum that does not match MINISIGN_EPASSPHRASE) and check the key:
 * the checksum (minisign -G -W writes none: all zero is accepted for an
 * unencrypted key) and that the public half is the one of the secret seed. */
int minisign_seckey_unlock(const char *name, const minisign_seckey_file *f, const char *passphrase,
                           minisign_seckey *sk, del_err *err);
/* Both steps at once. */
int minisign_seckey_load(const char *name, const char *text, size_t len, const char *passphrase,
                         minisign_seckey *sk, del_err *err);
/* A secret key file's text (malloc'd; free it with minisign_free_secret):
 * encrypted with the passphrase at the given scrypt cost (NULL: minisign's
 * default), or unencrypted when passphrase is NULL (with its checksum, as
 * `minisign -C -W` writes it). An empty passphrase is refused. */
int minisign_seckey_file_text(const minisign_seckey *sk, const char *passphrase,
                              const minisign_kdf *kdf, char **text, del_err *err);
void minisign_seckey_pubkey(const minisign_seckey *sk, minisign_pubkey *pk);
void minisign_seckey_wipe(minisign_seckey *sk);
void minisign_seckey_file_wipe(minisign_seckey_file *f);
/* Zero a string that held secret material, then free it (NULL is fine). */
void minisign_free_secret(char *s);

/* ---- key generation ---- */

/* A new Ed25519 key pair with a random key id: the .pub text and the .key
 * text (both malloc'd; free the .key text with minisign_free_secret), the
 * key encrypted as minisign_seckey_file_text does; pk (if not NULL) gets the
 * public key. */
int minisign_keygen(const char *passphrase, const minisign_kdf *kdf, char **pub_text,
                    char **key_text, minisign_pubkey *pk, del_err *err);

/* ---- signatures ---- */

/* A signature file as read: minisign_verify fills one once both signatures
 * have been checked. */
typedef struct minisign_sig {
    int prehashed;            /* 1: "ED" (BLAKE2b-512 of the message), 0: legacy "Ed" */
    unsigned char key_id[MINISIGN_KEY_ID_BYTES];
    unsigned char sig[MINISIGN_SIGNATURE_BYTES];
    unsigned char global_sig[MINISIGN_SIGNATURE_BYTES];
    char trusted_comment[MINISIGN_TRUSTED_COMMENT_MAX + 1];  /* NUL-terminated, no newline */
} minisign_sig;

/* Read a signature file's text (not verified: see minisign_verify). */
int minisign_sig_parse(const char *name, const char *text, size_t len, minisign_sig *sig,
                       del_err *err);

/* A prehashed ("ED") signature file for the message (malloc'd text), the
 * trusted comment one line of printable text or tabs (at most
 * MINISIGN_TRUSTED_COMMENT_MAX bytes), the untrusted one likewise (NULL:
 * minisign's "signature from minisign secret key"). The new signature is
 * verified with the key's public half before it is returned. */
int minisign_sign(const minisign_seckey *sk, const void *msg, size_t msg_len,
                  const char *trusted_comment, const char *untrusted_comment, char **sig_text,
                  del_err *err);
/* The same for a file read through fd from its start (pread: the offset is
 * not moved), hashed as it streams; name is for messages. */
int minisign_sign_fd(const minisign_seckey *sk, int fd, const char *name,
                     const char *trusted_comment, const char *untrusted_comment, char **sig_text,
                     del_err *err);

/* Verify the signature file (sig_name for messages) against the message and
 * the trusted keys (several for a rotation: the signature's key id picks the
 * key). On success sig (if not NULL) holds the signature, its key id and
 * trusted comment, and *key_index (if not NULL) the index of the key that
 * verified it. Checks, in order: the file parses, a trusted key has its key
 * id (MINISIGN_EUNKNOWNKEY names it), the signature matches the message
 * (MINISIGN_EBADSIG), the global signature matches the trusted comment
 * (MINISIGN_EBADCOMMENT). */
int minisign_verify(const char *sig_name, const char *sig_text, size_t sig_len, const void *msg,
                    size_t msg_len, const minisign_pubkey *keys, size_t nkeys, minisign_sig *sig,
                    size_t *key_index, del_err *err);
/* The same for a message read through fd from its start (pread: the offset
 * is not moved): a prehashed signature's file is streamed through BLAKE2b-512
 * and never held in memory; a legacy one is read whole, up to
 * MINISIGN_LEGACY_MESSAGE_MAX bytes. msg_name is for messages. */
int minisign_verify_fd(const char *sig_name, const char *sig_text, size_t sig_len, int fd,
                       const char *msg_name, const minisign_pubkey *keys, size_t nkeys,
                       minisign_sig *sig, size_t *key_index, del_err *err);

#endif
