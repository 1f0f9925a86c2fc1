/* core/minisign's parsers: every input is read as a public key, a secret key
 * file and a signature file. What parses must round-trip (keys written back
 * read the same; a secret key signs what its public key verifies), and a
 * signature that parses goes through verification. Encrypted keys are
 * unlocked only at a low scrypt cost, so a run stays fast. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "minisign.h"

/* libsodium's scrypt uses at most about 32 * opslimit bytes and time in
 * proportion to opslimit: these keep an unlock to milliseconds */
#define FUZZ_OPSLIMIT_MAX 65536
#define FUZZ_MEMLIMIT_MAX (16u << 20)

static const char MESSAGE[] = "format: 1\nmigrations: []\n";

static void pubkey(const char *text, size_t len)
{
    minisign_pubkey pk, again;
    del_err e;
    if (minisign_pubkey_parse("fuzz.pub", text, len, &pk, &e) != 0)
        return;
    char *file = minisign_pubkey_file(&pk);
    if (minisign_pubkey_parse("again.pub", file, strlen(file), &again, &e) != 0 || memcmp(&pk, &again, sizeof pk))
        abort();
    free(file);
    char b64[MINISIGN_PUBKEY_BASE64_LEN + 1];
    minisign_pubkey_base64(&pk, b64);
    if (minisign_pubkey_parse("again", b64, strlen(b64), &again, &e) != 0 || memcmp(&pk, &again, sizeof pk))
        abort();
}

static void seckey(const char *text, size_t len)
{
    minisign_seckey_file f;
    minisign_seckey sk, again;
    del_err e;
    if (minisign_seckey_parse("fuzz.key", text, len, &f, &e) != 0)
        return;
    if (f.encrypted && (f.kdf.opslimit > FUZZ_OPSLIMIT_MAX || f.kdf.memlimit > FUZZ_MEMLIMIT_MAX)) {
        minisign_seckey_file_wipe(&f);
        return;
    }
    int rc = minisign_seckey_unlock("fuzz.key", &f, "fuzz", &sk, &e);
    minisign_seckey_file_wipe(&f);
    if (rc != 0)
        return;
    char *plain;
    if (minisign_seckey_file_text(&sk, NULL, NULL, &plain, &e) != 0 ||
        minisign_seckey_load("again.key", plain, strlen(plain), NULL, &again, &e) != 0 ||
        memcmp(&sk, &again, sizeof sk))
        abort();
    minisign_free_secret(plain);
    minisign_pubkey pk;
    minisign_seckey_pubkey(&sk, &pk);
    char *sig;
    minisign_sig out;
    if (minisign_sign(&sk, MESSAGE, sizeof MESSAGE - 1, "fuzz\tcomment", NULL, &sig, &e) != 0 ||
        minisign_verify("fuzz.minisig", sig, strlen(sig), MESSAGE, sizeof MESSAGE - 1, &pk, 1, &out, NULL, &e) != 0 ||
        strcmp(out.trusted_comment, "fuzz\tcomment"))
        abort();
    free(sig);
    minisign_seckey_wipe(&sk);
    minisign_seckey_wipe(&again);
}

static void signature(const char *text, size_t len)
{
    minisign_sig sig;
    del_err e;
    if (minisign_sig_parse("fuzz.minisig", text, len, &sig, &e) != 0)
        return;
    if (strchr(sig.trusted_comment, '\n') || strlen(sig.trusted_comment) > MINISIGN_TRUSTED_COMMENT_MAX)
        abort();
    /* verified against a key with its key id (it will not verify, but every
     * step before that runs) and against one without */
    minisign_pubkey keys[2];
    memset(keys, 0, sizeof keys);
    memcpy(keys[1].key_id, sig.key_id, MINISIGN_KEY_ID_BYTES);
    unsigned char seed[crypto_sign_SEEDBYTES] = {1}, sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(keys[1].key, sk, seed);
    minisign_verify("fuzz.minisig", text, len, MESSAGE, sizeof MESSAGE - 1, keys, 2, NULL, NULL, &e);
    minisign_verify("fuzz.minisig", text, len, MESSAGE, sizeof MESSAGE - 1, keys, 1, NULL, NULL, &e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    pubkey(text, size);
    seckey(text, size);
    signature(text, size);
    return 0;
}
