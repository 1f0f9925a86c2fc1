/* The vendor's side of the trust chain: `delembic keygen -o NAME` (a
 * minisign key pair, NAME.pub and NAME.key), `delembic sign --bundle DIR
 * NAME.key` and `delembic build --sign NAME.key` (manifest.yaml.minisig, a
 * minisign signature whose trusted comment carries the bundle version and
 * the signing time: trust.h). Passphrases come from the terminal (echo off)
 * or, when stdin is not a terminal, from its first line, as minisign reads
 * them; they are never printed. */
#ifndef DEL_CMD_SIGN_H
#define DEL_CMD_SIGN_H

#include "app.h"
#include "minisign.h"

typedef struct keygen_args {
    const char *name;     /* -o NAME: NAME.pub and NAME.key */
    int no_password;      /* --no-password: the secret key unencrypted (CI keys) */
    int force;            /* --force: replace existing files */
    const char *kdf_limits; /* KDF_ENV's value ("OPSLIMIT,MEMLIMIT"), or NULL: minisign's */
} keygen_args;

/* For tests only: the scrypt cost of new keys as "OPSLIMIT,MEMLIMIT"
 * (minisign's default otherwise: about 1 GiB and a few seconds); read once
 * by the CLI (app_env) and given as keygen_args.kdf_limits. */
#define KDF_ENV "DELEMBIC_KDF_LIMITS"

typedef struct keygen_result {
    char *pub_path, *key_path;
    char key_id[MINISIGN_KEY_ID_HEX_LEN + 1];
    char pubkey[MINISIGN_PUBKEY_BASE64_LEN + 1];
} keygen_result;

int cmd_keygen(const keygen_args *k, keygen_result *res, del_err *err);
void keygen_result_free(keygen_result *res);
void keygen_print(const del_notify *n, const keygen_result *res);

/* Read and unlock a secret key file (asking for its passphrase if it is
 * encrypted). Wipe sk with minisign_seckey_wipe. */
int sign_load_key(const char *path, minisign_seckey *sk, del_err *err);

typedef struct sign_result {
    char *sig_path;
    char key_id[MINISIGN_KEY_ID_HEX_LEN + 1];
    char version[129];
} sign_result;

/* Sign dir/manifest.yaml with sk: dir/manifest.yaml.minisig, the trusted
 * comment carrying version (NULL: the signing time in UTC). */
int sign_manifest(const char *dir, const minisign_seckey *sk, const char *version, sign_result *res,
                  del_err *err);
void sign_result_free(sign_result *res);

/* `delembic sign --bundle DIR KEY`: the bundle is checked first (its
 * manifest, every .so and data file as listed), then signed. */
int cmd_sign(app *a, const char *key_path, const char *version, sign_result *res, del_err *err);
void sign_print(const del_notify *n, const sign_result *res);

#endif
