#include "cmd_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "datafiles.h"
#include "manifest.h"
#include "manifest_cache.h"
#include "sha256.h"
#include "trust.h"
#include "util.h"

/* While echo is off: the terminal's settings to put back if a signal ends
 * the process at the prompt (Ctrl-C), which then dies of that signal as it
 * would have. File scope because a signal handler reads it. */
static struct termios echo_saved;
static const int echo_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NECHO_SIGNALS (sizeof echo_signals / sizeof echo_signals[0])

static void echo_restore_and_die(int sig)
{
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &echo_saved);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void echo_guard(int on, struct sigaction *saved)
{
    for (size_t i = 0; i < NECHO_SIGNALS; i++) {
        if (on) {
            struct sigaction sa = {.sa_handler = echo_restore_and_die};
            sigemptyset(&sa.sa_mask);
            sigaction(echo_signals[i], &sa, &saved[i]);
        } else {
            sigaction(echo_signals[i], &saved[i], NULL);
        }
    }
}

/* One line of passphrase: from the terminal with echo off, or from stdin
 * when it is not a terminal (as minisign reads it). */
static int read_passphrase(const char *prompt, char *buf, size_t bufsz, del_err *err)
{
    int tty = isatty(STDIN_FILENO);
    struct termios old, quiet;
    struct sigaction saved[NECHO_SIGNALS];
    if (tty) {
        /* the prompt is for the person at the terminal, not for a renderer */
        dprintf(STDERR_FILENO, "%s", prompt);
        if (tcgetattr(STDIN_FILENO, &old) == 0) {
            quiet = old;
            quiet.c_lflag &= ~(tcflag_t)ECHO;
            echo_saved = old;
            echo_guard(1, saved);
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        } else {
            tty = 0;
        }
    }
    size_t n = 0;
    int rc = 0, c = 0;
    for (;;) {
        char ch;
        ssize_t r = read(STDIN_FILENO, &ch, 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || ch == '\n')
            break;
        if (n + 1 >= bufsz) {
            c = 1;
            continue;
        }
        buf[n++] = ch;
    }
    if (n && buf[n - 1] == '\r')
        n--;
    buf[n] = '\0';
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        echo_guard(0, saved);
        dprintf(STDERR_FILENO, "\n");
    }
    if (c)
        rc = del_fail(err, DEL_KIND_USAGE, "the passphrase is longer than the %d bytes minisign reads",
                      MINISIGN_PASSPHRASE_MAX);
    else if (!n)
        rc = del_fail(err, DEL_KIND_USAGE, "no passphrase given%s", tty ? "" : " on stdin (stdin is not a terminal: its first line is read)");
    return rc;
}

static int kdf_from_env(const char *v, minisign_kdf *kdf, int *have)
{
    *have = 0;
    if (!v || !*v)
        return 0;
    unsigned long long ops, mem;
    if (sscanf(v, "%llu,%llu", &ops, &mem) != 2)
        return -1;
    kdf->opslimit = ops;
    kdf->memlimit = mem;
    *have = 1;
    return 0;
}

void keygen_result_free(keygen_result *res)
{
    free(res->pub_path);
    free(res->key_path);
    memset(res, 0, sizeof *res);
}

/* Write a new file (refusing to replace one unless force). */
static int write_new(const char *path, const char *text, int mode, int force, del_err *err)
{
    if (!force && entry_exists(path))
        return del_fail(err, DEL_KIND_USAGE, "%s: already exists; choose another -o NAME, or give --force to replace it", path);
    return write_file_atomic(path, text, strlen(text), mode, err);
}

int cmd_keygen(const keygen_args *k, keygen_result *res, del_err *err)
{
    memset(res, 0, sizeof *res);
    if (!k->name || !*k->name)
        return del_fail(err, DEL_KIND_USAGE, "keygen needs -o NAME (it writes NAME.pub and NAME.key)");
    res->pub_path = xasprintf("%s.pub", k->name);
    res->key_path = xasprintf("%s.key", k->name);
    if (!k->force)
        for (int i = 0; i < 2; i++) {
            const char *p = i ? res->key_path : res->pub_path;
            if (entry_exists(p))
                return del_fail(err, DEL_KIND_USAGE, "%s: already exists; choose another -o NAME, or give --force to replace it", p);
        }
    minisign_kdf kdf;
    int have_kdf;
    if (kdf_from_env(k->kdf_limits, &kdf, &have_kdf) != 0)
        return del_fail(err, DEL_KIND_CONFIG, "%s must be OPSLIMIT,MEMLIMIT", KDF_ENV);
    char pass[MINISIGN_PASSPHRASE_MAX + 2], again[MINISIGN_PASSPHRASE_MAX + 2];
    int rc = 0;
    if (!k->no_password) {
        rc = read_passphrase("Passphrase for the new secret key: ", pass, sizeof pass, err);
        if (rc == 0 && isatty(STDIN_FILENO)) {
            rc = read_passphrase("Passphrase (again): ", again, sizeof again, err);
            if (rc == 0 && strcmp(pass, again))
                rc = del_fail(err, DEL_KIND_USAGE, "the two passphrases differ; run keygen again");
        }
    }
    char *pub_text = NULL, *key_text = NULL;
    minisign_pubkey pk;
    if (rc == 0)
        rc = minisign_keygen(k->no_password ? NULL : pass, have_kdf ? &kdf : NULL, &pub_text, &key_text, &pk, err);
    memset(pass, 0, sizeof pass);
    memset(again, 0, sizeof again);
    if (rc == 0)
        rc = write_new(res->key_path, key_text, 0600, k->force, err);
    if (rc == 0)
        rc = write_new(res->pub_path, pub_text, 0644, k->force, err);
    if (rc == 0) {
        minisign_key_id_hex(pk.key_id, res->key_id);
        minisign_pubkey_base64(&pk, res->pubkey);
    }
    free(pub_text);
    minisign_free_secret(key_text);
    return rc ? -1 : 0;
}

void keygen_print(const del_notify *n, const keygen_result *res)
{
    del_emit_text(n, DEL_EV_NOTE, "Wrote %s (public) and %s (secret: keep it safe)", res->pub_path, res->key_path);
    del_emit_text(n, DEL_EV_NOTE, "key id %s", res->key_id);
    del_emit_text(n, DEL_EV_NOTE, "public key %s", res->pubkey);
}

int sign_load_key(const char *path, minisign_seckey *sk, del_err *err)
{
    char *text;
    size_t len;
    if (read_file(path, MINISIGN_SECKEY_FILE_MAX, &text, &len, err) != 0) {
        if (!entry_exists(path))
            del_fail(err, DEL_KIND_USAGE, "%s: no such secret key file; make one with 'delembic keygen -o NAME'", path);
        return -1;
    }
    minisign_seckey_file f;
    int rc = minisign_seckey_parse(path, text, len, &f, err) != 0 ? -1 : 0;
    minisign_free_secret(text);
    if (rc == 0) {
        char pass[MINISIGN_PASSPHRASE_MAX + 2] = "";
        if (f.encrypted) {
            char *prompt = xasprintf("Passphrase for %s: ", path);
            rc = read_passphrase(prompt, pass, sizeof pass, err);
            free(prompt);
        }
        if (rc == 0 && minisign_seckey_unlock(path, &f, f.encrypted ? pass : NULL, sk, err) != 0)
            rc = -1;
        memset(pass, 0, sizeof pass);
    }
    minisign_seckey_file_wipe(&f);
    return rc;
}

void sign_result_free(sign_result *res)
{
    free(res->sig_path);
    memset(res, 0, sizeof *res);
}

int sign_manifest(const char *dir, const minisign_seckey *sk, const char *version, sign_result *res,
                  del_err *err)
{
    memset(res, 0, sizeof *res);
    char *comment = NULL;
    if (trust_comment(version, (long long)time(NULL), &comment, err) != 0)
        return -1;
    char *mpath = path_join(dir, MANIFEST_FILE);
    struct stat st;
    int fd = open_regular(mpath, &st, err);
    char *sig = NULL;
    int rc = fd < 0 ? -1 : 0;
    if (rc == 0 && minisign_sign_fd(sk, fd, mpath, comment, "signature from delembic secret key", &sig, err) != 0)
        rc = -1;
    if (fd >= 0)
        close(fd);
    if (rc == 0) {
        res->sig_path = path_join(dir, TRUST_SIG_FILE);
        rc = write_file_atomic(res->sig_path, sig, strlen(sig), 0644, err);
        minisign_key_id_hex(sk->key_id, res->key_id);
        trust_result tr;
        trust_parse_comment(comment, &tr);
        snprintf(res->version, sizeof res->version, "%s", tr.version);
    }
    free(sig);
    free(comment);
    free(mpath);
    return rc;
}

/* What is signed must be what is there: the manifest, each .so, each data file. */
static int check_before_signing(const char *dir, const char *cdir, del_err *err)
{
    manifest mf;
    if (manifest_load(dir, cdir, &mf, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < mf.n; i++) {
        char *path = path_join(dir, mf.m[i].file);
        char hex[SHA256_HEX_LEN + 1];
        if (sha256_file(path, hex, err) != 0)
            rc = -1;
        else if (strcmp(hex, mf.m[i].sha256))
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: sha256 is %.12s... but manifest.yaml says %.12s...; rebuild the bundle or write its manifest again ('delembic manifest') before signing",
                          path, hex, mf.m[i].sha256);
        free(path);
    }
    for (size_t i = 0; rc == 0 && i < mf.nlibs; i++) {
        char *path = path_join(dir, mf.libs[i].file);
        char hex[SHA256_HEX_LEN + 1];
        if (sha256_file(path, hex, err) != 0)
            rc = -1;
        else if (strcmp(hex, mf.libs[i].sha256))
            rc = del_fail(err, DEL_KIND_BUNDLE, "%s: sha256 is %.12s... but manifest.yaml says %.12s...; rebuild the bundle before signing",
                          path, hex, mf.libs[i].sha256);
        free(path);
    }
    if (rc == 0)
        rc = datafiles_check(dir, &mf, 1, NULL, NULL, err);
    manifest_free(&mf);
    return rc;
}

int cmd_sign(app *a, const char *key_path, const char *version, sign_result *res, del_err *err)
{
    memset(res, 0, sizeof *res);
    if (!key_path)
        return del_fail(err, DEL_KIND_USAGE, "sign needs the secret key file: delembic sign --bundle DIR NAME.key");
    char *probe = NULL;
    if (version && trust_comment(version, 0, &probe, err) != 0)
        return -1;
    free(probe);
    if (check_before_signing(a->bundle_dir, app_cache_dir(a), err) != 0)
        return -1;
    minisign_seckey sk;
    if (sign_load_key(key_path, &sk, err) != 0)
        return -1;
    int rc = sign_manifest(a->bundle_dir, &sk, version, res, err);
    minisign_seckey_wipe(&sk);
    return rc;
}

void sign_print(const del_notify *n, const sign_result *res)
{
    del_emit_text(n, DEL_EV_NOTE, "Signed %s with key id %s, bundle version %s\n", res->sig_path, res->key_id, res->version);
}
