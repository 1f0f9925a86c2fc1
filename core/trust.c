#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sha256.h"

void trust_keys_free(trust_keys *tk)
{
    for (size_t i = 0; i < tk->n; i++)
        free(tk->names[i]);
    free(tk->names);
    free(tk->keys);
    memset(tk, 0, sizeof *tk);
}

/* A bare minisign public key: one base64 line of the right length. */
static int looks_like_key(const char *s)
{
    return strlen(s) == MINISIGN_PUBKEY_BASE64_LEN &&
           strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") == strlen(s);
}

int trust_keys_add(trust_keys *tk, const char *entry, const char *base_dir, const char *origin,
                   del_err *err)
{
    if (tk->n >= TRUST_MAX_KEYS)
        return del_fail(err, DEL_KIND_CONFIG, "%s: more than %d trusted keys; trust fewer", origin, TRUST_MAX_KEYS);
    if (!entry || !*entry)
        return del_fail(err, DEL_KIND_CONFIG, "%s: an empty trusted key; give a .pub file or a minisign public key string",
                        origin);
    minisign_pubkey pk;
    char *name;
    char *path = entry[0] == '/' || !base_dir ? xstrdup(entry) : path_join(base_dir, entry);
    /* a key string: what is not a file and has no '/' or '.' in it (a key
     * of the wrong length is refused as one, saying so) */
    if (looks_like_key(entry) || (!entry_exists(path) && !strpbrk(entry, "/."))) {
        free(path);
        name = xasprintf("%s: trusted key %.20s%s", origin, entry, strlen(entry) > 20 ? "..." : "");
        if (minisign_pubkey_parse(name, entry, strlen(entry), &pk, err) != 0) {
            free(name);
            return -1;
        }
        goto add;
    }
    char *text;
    size_t len;
    if (read_file(path, MINISIGN_PUBKEY_FILE_MAX, &text, &len, err) != 0) {
        if (!entry_exists(path))
            del_fail(err, DEL_KIND_CONFIG, "%s: trusted key %s: no such file; give a minisign .pub file or a public key string",
                     origin, path);
        free(path);
        return -1;
    }
    name = xasprintf("%s (%s)", path, origin);
    free(path);
    int rc = minisign_pubkey_parse(name, text, len, &pk, err);
    free(text);
    if (rc != 0) {
        free(name);
        return -1;
    }
add:
    tk->keys = xrealloc(tk->keys, (tk->n + 1) * sizeof *tk->keys);
    tk->names = xrealloc(tk->names, (tk->n + 1) * sizeof *tk->names);
    tk->keys[tk->n] = pk;
    tk->names[tk->n] = name;
    tk->n++;
    return 0;
}

int trust_keys_add_env(trust_keys *tk, const char *value, del_err *err)
{
    char *copy = xstrdup(value), *save = NULL;
    int rc = 0;
    for (char *t = strtok_r(copy, ":\n", &save); t && rc == 0; t = strtok_r(NULL, ":\n", &save))
        if (*t)
            rc = trust_keys_add(tk, t, NULL, TRUST_KEYS_ENV, err);
    free(copy);
    return rc;
}

int trust_version_cmp(const char *a, const char *b)
{
    return natural_cmp(a, b);
}

static void format_time(long long t, char out[TRUST_TIME_LEN + 1])
{
    time_t tt = (time_t)t;
    struct tm tm;
    out[0] = '\0';
    if (gmtime_r(&tt, &tm))
        strftime(out, TRUST_TIME_LEN + 1, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int trust_comment(const char *version, long long t, char **comment, del_err *err)
{
    char when[TRUST_TIME_LEN + 1];
    format_time(t, when);
    if (version) {
        size_t n = strlen(version);
        int ok = n > 0 && n <= TRUST_VERSION_MAX &&
                 ((version[0] >= '0' && version[0] <= '9') || (version[0] >= 'a' && version[0] <= 'z') ||
                  (version[0] >= 'A' && version[0] <= 'Z'));
        for (size_t i = 0; i < n && ok; i++)
            ok = version[i] > 0x20 && version[i] < 0x7f;
        if (!ok)
            return del_fail(err, DEL_KIND_USAGE, "--bundle-version '%.60s': a version is 1 to %d printable characters without spaces, starting with a letter or digit (such as 2.4.1 or 2026-11-27)",
                            version, TRUST_VERSION_MAX);
    }
    *comment = xasprintf("timestamp:%lld\tfile:%s\tbundle_version:%s", t, MANIFEST_FILE, version ? version : when);
    return 0;
}

void trust_parse_comment(const char *comment, trust_result *r)
{
    r->version[0] = r->signed_at[0] = '\0';
    const char *p = comment;
    while (*p) {
        size_t n = strcspn(p, "\t");
        if (n > 10 && !strncmp(p, "timestamp:", 10)) {
            char *end;
            char num[32];
            size_t l = n - 10 < sizeof num - 1 ? n - 10 : sizeof num - 1;
            memcpy(num, p + 10, l);
            num[l] = '\0';
            long long t = strtoll(num, &end, 10);
            if (!*end && t >= 0)
                format_time(t, r->signed_at);
        } else if (n > 15 && !strncmp(p, "bundle_version:", 15) && n - 15 <= TRUST_VERSION_MAX) {
            memcpy(r->version, p + 15, n - 15);
            r->version[n - 15] = '\0';
        }
        p += n;
        if (*p)
            p++;
    }
    if (!r->version[0] && r->signed_at[0])
        snprintf(r->version, sizeof r->version, "%s", r->signed_at);
}

int trust_same_manifest(const trust_result *r, const manifest *mf, del_err *err)
{
    if (!r->verified || !mf->text_sha256[0] || !strcmp(r->manifest_sha256, mf->text_sha256))
        return 0;
    return del_fail(err, DEL_KIND_BUNDLE, "%s: changed while it was read (signed by key id %s); run again",
                    mf->path ? mf->path : MANIFEST_FILE, r->key_id);
}

int trust_check_bundle(const trust_keys *tk, const char *dir, const manifest *mf, trust_result *r,
                       del_err *err)
{
    memset(r, 0, sizeof *r);
    r->nkeys = tk->n;
    char *sig_path = path_join(dir, TRUST_SIG_FILE);
    char *mpath = path_join(dir, MANIFEST_FILE);
    char *sig_text = NULL, *text = NULL;
    size_t sig_len = 0, len = 0;
    int rc = 0;
    struct stat st;
    if (lstat(sig_path, &st) != 0) {
        if (errno != ENOENT)
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: cannot read: %s", sig_path, strerror(errno));
        else if (tk->n) {
            char ids[MINISIGN_KEY_ID_HEX_LEN * 4 + 16] = "";
            for (size_t i = 0; i < tk->n && i < 3; i++) {
                char hex[MINISIGN_KEY_ID_HEX_LEN + 1];
                minisign_key_id_hex(tk->keys[i].key_id, hex);
                snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%s", i ? ", " : "", hex);
            }
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: missing: the bundle is not signed, but trusted keys are configured (key id %s%s); ask the vendor for a signed bundle (delembic sign)",
                          sig_path, ids, tk->n > 3 ? ", ..." : "");
        }
        goto out;
    }
    r->signed_bundle = 1;
    if (read_file(sig_path, MINISIGN_SIG_FILE_MAX, &sig_text, &sig_len, err) != 0) {
        if (!tk->n) /* nothing asked for it: verify shows it as unreadable */
            r->key_id[0] = '\0';
        rc = tk->n ? -1 : 0;
        goto out;
    }
    minisign_sig sig;
    if (!tk->n) {
        /* not checked: only what verify shows */
        if (minisign_sig_parse(sig_path, sig_text, sig_len, &sig, NULL) == 0) {
            minisign_key_id_hex(sig.key_id, r->key_id);
            trust_parse_comment(sig.trusted_comment, r);
        }
        goto out;
    }
    if (read_file(mpath, MANIFEST_MAX_BYTES, &text, &len, err) != 0) {
        rc = -1;
        goto out;
    }
    size_t idx = 0;
    int v = minisign_verify(sig_path, sig_text, sig_len, text, len, tk->keys, tk->n, &sig, &idx, err);
    if (v == MINISIGN_EBADSIG && minisign_sig_parse(sig_path, sig_text, sig_len, &sig, NULL) == 0) {
        minisign_key_id_hex(sig.key_id, r->key_id);
        rc = del_fail(err, DEL_KIND_BUNDLE, "%s: does not match its signature by key id %s (%s): it changed after it was signed; get the bundle again as the vendor signed it",
                      mpath, r->key_id, TRUST_SIG_FILE);
        goto out;
    }
    if (v != 0) {
        rc = -1;
        goto out;
    }
    minisign_key_id_hex(sig.key_id, r->key_id);
    r->verified = 1;
    snprintf(r->key_name, sizeof r->key_name, "%s", tk->names[idx]);
    trust_parse_comment(sig.trusted_comment, r);
    /* what is parsed must be what was verified */
    const void *part = text;
    if (sha256_parts(&part, &len, 1, r->manifest_sha256, err) != 0) {
        r->verified = 0;
        rc = -1;
    } else if (mf) {
        rc = trust_same_manifest(r, mf, err);
    }
out:
    free(sig_path);
    free(mpath);
    free(sig_text);
    free(text);
    return rc;
}
