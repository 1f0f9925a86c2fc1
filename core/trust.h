/* The customer's side of the vendor trust chain: which signers are trusted
 * (trusted_keys: in the section, --trusted-key, DELEMBIC_TRUSTED_KEYS; each a
 * minisign .pub file or a public key string), and the check of a bundle's
 * manifest.yaml.minisig against them before any plugin is opened. The
 * signature's trusted comment carries the bundle version (for rollback
 * protection, trust_store.h) and the signing time:
 *     timestamp:1764279600<TAB>file:manifest.yaml<TAB>bundle_version:V
 * (minisign's own default comment, "timestamp:N<TAB>file:F<TAB>hashed", is
 * read too: its version is then the signing time, in UTC). */
#ifndef DEL_TRUST_H
#define DEL_TRUST_H

#include <stddef.h>

#include "err.h"
#include "manifest.h"
#include "minisign.h"
#include "util.h"

#define TRUST_SIG_FILE MANIFEST_FILE ".minisig"
#define TRUST_KEYS_ENV "DELEMBIC_TRUSTED_KEYS"   /* entries separated by ':' */
#define TRUST_MAX_KEYS 64
#define TRUST_VERSION_MAX 128                    /* bytes of a bundle version */
#define TRUST_TIME_LEN 20                        /* "2026-11-27T21:40:00Z" */

typedef struct trust_keys {
    minisign_pubkey *keys;
    char **names;          /* where each came from, for messages */
    size_t n;
} trust_keys;

/* One entry: a public key string (what `minisign -P` takes), else a .pub
 * file (relative paths from base_dir); origin names it in messages
 * ("delembic.yaml trusted_keys", "--trusted-key", TRUST_KEYS_ENV). */
int trust_keys_add(trust_keys *tk, const char *entry, const char *base_dir, const char *origin,
                   del_err *err);
/* Every entry of a TRUST_KEYS_ENV value. */
int trust_keys_add_env(trust_keys *tk, const char *value, del_err *err);
void trust_keys_free(trust_keys *tk);

typedef struct trust_result {
    int signed_bundle;    /* manifest.yaml.minisig is there */
    int verified;         /* and it was checked against a trusted key */
    char key_id[MINISIGN_KEY_ID_HEX_LEN + 1];
    char key_name[512];   /* the trusted key that verified it: where it came from */
    char version[TRUST_VERSION_MAX + 1];      /* "" when the comment has none */
    char signed_at[TRUST_TIME_LEN + 1];       /* "" when the comment has no timestamp */
    size_t nkeys;         /* trusted keys configured (0: nothing was required) */
    char manifest_sha256[65]; /* verified: the sha256 of the manifest text that was verified */
} trust_result;

/* Check dir's signature. With no trusted keys: nothing is required; a
 * signature that is there is read (not checked) for verify to show. With
 * keys: an unsigned bundle, a signature that does not parse, an unknown key
 * id, a bad signature (the manifest changed after signing) or a changed
 * trusted comment is refused (-1, exit 2, one line naming the file and the
 * key id). Run it before the manifest is parsed (a manifest changed into
 * bad YAML is then refused as unsigned, naming the key id, not as bad
 * YAML), then check the parsed one with trust_same_manifest. mf (may be
 * NULL) is a manifest already read: its text must be the verified one. */
int trust_check_bundle(const trust_keys *tk, const char *dir, const manifest *mf, trust_result *r,
                       del_err *err);

/* After trust_check_bundle: the manifest parsed since (mf) has the text
 * that was verified; -1 (err) when it changed in between. */
int trust_same_manifest(const trust_result *r, const manifest *mf, del_err *err);

/* The trusted comment delembic writes for a bundle version (NULL: the
 * signing time) at time t (malloc'd); -1 when version is not one (printable
 * ASCII without spaces, starting with a letter or digit, at most
 * TRUST_VERSION_MAX bytes). */
int trust_comment(const char *version, long long t, char **comment, del_err *err);
/* Read version and signing time from a trusted comment (either format). */
void trust_parse_comment(const char *comment, trust_result *r);
/* The order of bundle versions: natural order (digits by value), so
 * 2026-11-27T21:40:00Z < 2026-11-28T08:00:00Z and 1.9 < 1.10. */
int trust_version_cmp(const char *a, const char *b);

#endif
