/* core/minisign: interoperability both ways with Debian's real `minisign`
 * (0.11, run as a child process: keys, signatures, passphrases on its stdin),
 * and every bad input refused with its kind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "minisign.h"
#include "util.h"

/* libsodium's "interactive" scrypt cost: milliseconds, for tests that are
 * not about minisign's default cost. */
static const minisign_kdf FAST_KDF = {524288, 16777216};
#define PASSPHRASE "correct horse battery staple"
#define MINISIGN_TIMEOUT_S 300   /* minisign's own scrypt takes seconds and 1 GiB, per key */

/* ---- a folder per test case (made and removed by the parent process) ---- */

static char dir[64];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/delembic-minisign.XXXXXX");
    if (!mkdtemp(dir))
        abort();
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
    rmdir(dir);
}

/* dir/name, in one of a few rotating buffers */
static const char *at(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, 512, "%s/%s", dir, name);
    return b;
}

static void put(const char *name, const char *data, size_t len)
{
    FILE *f = fopen(at(name), "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

static void puts_file(const char *name, const char *text)
{
    put(name, text, strlen(text));
}

/* The file's text (malloc'd, NUL-terminated). */
static char *get(const char *name, size_t *len)
{
    char *buf;
    size_t n;
    del_err e;
    ck_assert_msg(read_file(at(name), 1 << 20, &buf, &n, &e) == 0, "%s", e.msg);
    if (len)
        *len = n;
    return buf;
}

/* ---- the real minisign ---- */

static char ms_out[16384];   /* its stdout */
static char ms_err[16384];   /* its stderr */

/* Run minisign with args (NULL-terminated), input on its stdin; its exit
 * status (127: not installed). */
static int minisign(const char *input, ...)
{
    const char *argv[32] = {"minisign"};
    int argc = 1;
    va_list ap;
    va_start(ap, input);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 31)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    int in[2], out[2];
    ck_assert_int_eq(pipe(in), 0);
    ck_assert_int_eq(pipe(out), 0);
    const char *errpath = at("minisign.stderr");
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int errfd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(errfd, 2);
        close(in[1]);
        close(out[0]);
        execvp("minisign", (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (input)
        ck_assert_int_eq(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
    close(in[1]);
    size_t n = 0;
    ssize_t r;
    while ((r = read(out[0], ms_out + n, sizeof ms_out - 1 - n)) > 0 || (r < 0 && errno == EINTR))
        if (r > 0)
            n += (size_t)r;
    ms_out[n] = '\0';
    close(out[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        ck_assert_int_eq(errno, EINTR);
    FILE *f = fopen(errpath, "r");
    n = f ? fread(ms_err, 1, sizeof ms_err - 1, f) : 0;
    ms_err[n] = '\0';
    if (f)
        fclose(f);
    int rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    ck_assert_msg(rc != 127, "minisign is not installed (apt-get install minisign)");
    return rc;
}

/* ---- module helpers ---- */

static minisign_pubkey pub_of(const char *name)
{
    size_t len;
    char *text = get(name, &len);
    minisign_pubkey pk;
    del_err e;
    ck_assert_msg(minisign_pubkey_parse(name, text, len, &pk, &e) == 0, "%s", e.msg);
    free(text);
    return pk;
}

static minisign_seckey sec_of(const char *name, const char *passphrase)
{
    size_t len;
    char *text = get(name, &len);
    minisign_seckey sk;
    del_err e;
    ck_assert_msg(minisign_seckey_load(name, text, len, passphrase, &sk, &e) == 0, "%s", e.msg);
    minisign_free_secret(text);
    return sk;
}

/* A new key pair written to NAME.pub and NAME.key. */
static minisign_pubkey keygen_files(const char *name, const char *passphrase, const minisign_kdf *kdf)
{
    char *pub, *key, f[128];
    minisign_pubkey pk;
    del_err e;
    ck_assert_msg(minisign_keygen(passphrase, kdf, &pub, &key, &pk, &e) == 0, "%s", e.msg);
    snprintf(f, sizeof f, "%s.pub", name);
    puts_file(f, pub);
    snprintf(f, sizeof f, "%s.key", name);
    puts_file(f, key);
    free(pub);
    minisign_free_secret(key);
    return pk;
}

/* A key pair in memory, unencrypted. */
static minisign_seckey new_key(minisign_pubkey *pk)
{
    char *pub, *key;
    del_err e;
    ck_assert_msg(minisign_keygen(NULL, NULL, &pub, &key, pk, &e) == 0, "%s", e.msg);
    minisign_seckey sk;
    ck_assert_msg(minisign_seckey_load("new.key", key, strlen(key), NULL, &sk, &e) == 0, "%s", e.msg);
    free(pub);
    minisign_free_secret(key);
    return sk;
}

static char *sign_text(const minisign_seckey *sk, const char *msg, const char *tc)
{
    char *sig;
    del_err e;
    ck_assert_msg(minisign_sign(sk, msg, strlen(msg), tc, NULL, &sig, &e) == 0, "%s", e.msg);
    return sig;
}

static int verify_text(const char *sig, const char *msg, const minisign_pubkey *keys, size_t n, minisign_sig *out,
                       size_t *idx, del_err *e)
{
    return minisign_verify("m.minisig", sig, strlen(sig), msg, strlen(msg), keys, n, out, idx, e);
}

/* The module verifies dir/msg with dir/sig against one key; returns the fault. */
static int verify_files(const char *msg, const char *sig, const minisign_pubkey *pk, minisign_sig *out, del_err *e)
{
    size_t slen;
    char *stext = get(sig, &slen);
    int fd = open(at(msg), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    int rc = minisign_verify_fd(sig, stext, slen, fd, msg, pk, 1, out, NULL, e);
    close(fd);
    free(stext);
    return rc;
}

/* The id minisign prints in a .pub file's comment. */
/* minisign writes the key id in its comment as %PRIX64, without leading
 * zeros: the id 01CF... reads "1CF..." there; compared as a number */
static unsigned long long pub_comment_id(const char *name)
{
    char *text = get(name, NULL);
    const char *p = strstr(text, "minisign public key ");
    ck_assert_ptr_nonnull(p);
    unsigned long long id = strtoull(p + strlen("minisign public key "), NULL, 16);
    free(text);
    return id;
}

static const char *MANIFEST = "format: 1\nmigrations:\n  - revision: D001\n    file: D001.so\n";

/* ---- interoperability with minisign ---- */

START_TEST(minisign_unencrypted_key_signature_verifies_here)
{
    ck_assert_int_eq(minisign(NULL, "-G", "-W", "-p", at("w.pub"), "-s", at("w.key"), NULL), 0);
    puts_file("manifest.yaml", MANIFEST);
    ck_assert_msg(minisign(NULL, "-S", "-s", at("w.key"), "-m", at("manifest.yaml"), "-t", "version:1\tby ci",
                           NULL) == 0, "%s", ms_err);
    minisign_pubkey pk = pub_of("w.pub");
    minisign_sig sig;
    del_err e;
    ck_assert_msg(verify_files("manifest.yaml", "manifest.yaml.minisig", &pk, &sig, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(sig.trusted_comment, "version:1\tby ci");
    ck_assert_int_eq(sig.prehashed, 1);
    char hex[MINISIGN_KEY_ID_HEX_LEN + 1];
    minisign_key_id_hex(sig.key_id, hex);
    ck_assert_uint_eq(strtoull(hex, NULL, 16), pub_comment_id("w.pub"));
    /* the secret key too (minisign -G -W writes no checksum) */
    minisign_seckey sk = sec_of("w.key", NULL);
    minisign_pubkey again;
    minisign_seckey_pubkey(&sk, &again);
    ck_assert_mem_eq(&again, &pk, sizeof pk);
    minisign_seckey_wipe(&sk);
}
END_TEST

START_TEST(minisign_encrypted_key_unlocks_here_and_signs_for_minisign)
{
    /* minisign reads the passphrase twice from stdin when it is not a terminal */
    ck_assert_msg(minisign(PASSPHRASE "\n" PASSPHRASE "\n", "-G", "-p", at("e.pub"), "-s", at("e.key"), NULL) == 0,
                  "%s", ms_err);
    size_t len;
    char *text = get("e.key", &len);
    minisign_seckey_file f;
    minisign_seckey sk;
    del_err e;
    ck_assert_msg(minisign_seckey_parse("e.key", text, len, &f, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(f.encrypted, 1);
    ck_assert_uint_eq(f.kdf.opslimit, MINISIGN_KDF_OPSLIMIT_DEFAULT);
    ck_assert_uint_eq(f.kdf.memlimit, MINISIGN_KDF_MEMLIMIT_DEFAULT);
    ck_assert_int_eq(minisign_seckey_unlock("e.key", &f, NULL, &sk, &e), MINISIGN_ENEEDPASS);
    ck_assert_int_eq(minisign_seckey_unlock("e.key", &f, "not it", &sk, &e), MINISIGN_EPASSPHRASE);
    ck_assert_msg(minisign_seckey_unlock("e.key", &f, PASSPHRASE, &sk, &e) == 0, "%s", e.msg);
    minisign_seckey_file_wipe(&f);
    minisign_free_secret(text);

    puts_file("manifest.yaml", MANIFEST);
    char *sig;
    int fd = open(at("manifest.yaml"), O_RDONLY);
    ck_assert_msg(minisign_sign_fd(&sk, fd, "manifest.yaml", "version:2", NULL, &sig, &e) == 0, "%s", e.msg);
    close(fd);
    minisign_seckey_wipe(&sk);
    puts_file("manifest.yaml.minisig", sig);
    free(sig);
    ck_assert_msg(minisign(NULL, "-V", "-p", at("e.pub"), "-m", at("manifest.yaml"), NULL) == 0, "%s", ms_err);
}
END_TEST

START_TEST(module_signature_verifies_with_minisign)
{
    minisign_pubkey pk = keygen_files("k", NULL, NULL);
    minisign_seckey sk = sec_of("k.key", NULL);
    puts_file("manifest.yaml", MANIFEST);
    const char *tc = "timestamp:1700000000\tversion:2024.06.01\tsigner: caf\xc3\xa9";
    char *sig = sign_text(&sk, MANIFEST, tc);
    minisign_seckey_wipe(&sk);
    puts_file("elsewhere.sig", sig);
    puts_file("manifest.yaml.minisig", sig);
    free(sig);
    /* -x with a .pub file; the default file name with -P; -H requires prehashed */
    ck_assert_msg(minisign(NULL, "-V", "-Q", "-x", at("elsewhere.sig"), "-p", at("k.pub"), "-m", at("manifest.yaml"),
                           NULL) == 0, "%s", ms_err);
    char want[512];
    snprintf(want, sizeof want, "%s\n", tc);
    ck_assert_str_eq(ms_out, want);
    char b64[MINISIGN_PUBKEY_BASE64_LEN + 1];
    minisign_pubkey_base64(&pk, b64);
    ck_assert_msg(minisign(NULL, "-V", "-H", "-P", b64, "-m", at("manifest.yaml"), NULL) == 0, "%s", ms_err);
    /* and minisign, too, refuses the manifest once it changed */
    puts_file("manifest.yaml", "format: 1\nmigrations: []\n");
    ck_assert_int_ne(minisign(NULL, "-V", "-p", at("k.pub"), "-m", at("manifest.yaml"), NULL), 0);
}
END_TEST

START_TEST(module_unencrypted_key_signs_with_minisign)
{
    minisign_pubkey pk = keygen_files("u", NULL, NULL);
    puts_file("manifest.yaml", MANIFEST);
    ck_assert_msg(minisign(NULL, "-S", "-s", at("u.key"), "-m", at("manifest.yaml"), "-t", "from minisign", NULL) == 0,
                  "%s", ms_err);
    minisign_sig sig;
    del_err e;
    ck_assert_msg(verify_files("manifest.yaml", "manifest.yaml.minisig", &pk, &sig, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(sig.trusted_comment, "from minisign");
    ck_assert_msg(minisign(NULL, "-V", "-p", at("u.pub"), "-m", at("manifest.yaml"), NULL) == 0, "%s", ms_err);
    /* minisign prints the key id this module does */
    char hex[MINISIGN_KEY_ID_HEX_LEN + 1];
    minisign_key_id_hex(pk.key_id, hex);
    ck_assert_uint_eq(strtoull(hex, NULL, 16), pub_comment_id("u.pub"));
}
END_TEST

START_TEST(module_encrypted_key_with_default_cost_signs_with_minisign)
{
    minisign_pubkey pk = keygen_files("d", PASSPHRASE, NULL);
    size_t len;
    char *text = get("d.key", &len);
    minisign_seckey_file f;
    del_err e;
    ck_assert_int_eq(minisign_seckey_parse("d.key", text, len, &f, &e), 0);
    ck_assert_uint_eq(f.kdf.opslimit, MINISIGN_KDF_OPSLIMIT_DEFAULT);
    ck_assert_uint_eq(f.kdf.memlimit, MINISIGN_KDF_MEMLIMIT_DEFAULT);
    minisign_seckey_file_wipe(&f);
    minisign_free_secret(text);
    puts_file("manifest.yaml", MANIFEST);
    ck_assert_msg(minisign(PASSPHRASE "\n", "-S", "-s", at("d.key"), "-m", at("manifest.yaml"), "-t", "enc", NULL) == 0,
                  "%s", ms_err);
    minisign_sig sig;
    ck_assert_msg(verify_files("manifest.yaml", "manifest.yaml.minisig", &pk, &sig, &e) == 0, "%s", e.msg);
    ck_assert_str_eq(sig.trusted_comment, "enc");
    ck_assert_int_ne(minisign("wrong\n", "-S", "-s", at("d.key"), "-m", at("manifest.yaml"), NULL), 0);
}
END_TEST

START_TEST(module_encrypted_key_with_low_cost_signs_with_minisign)
{
    minisign_pubkey pk = keygen_files("l", PASSPHRASE, &FAST_KDF);
    puts_file("data.csv", "id,name\n1,a\n");
    ck_assert_msg(minisign(PASSPHRASE "\n", "-S", "-s", at("l.key"), "-m", at("data.csv"), "-t", "low", NULL) == 0,
                  "%s", ms_err);
    minisign_sig sig;
    del_err e;
    ck_assert_msg(verify_files("data.csv", "data.csv.minisig", &pk, &sig, &e) == 0, "%s", e.msg);
}
END_TEST

START_TEST(key_with_password_removed_by_minisign_loads_here)
{
    /* minisign -C -W keeps the checksum: an unencrypted key with one */
    minisign_pubkey pk = keygen_files("c", PASSPHRASE, &FAST_KDF);
    ck_assert_msg(minisign(PASSPHRASE "\n", "-C", "-W", "-s", at("c.key"), NULL) == 0, "%s", ms_err);
    size_t len;
    char *text = get("c.key", &len);
    minisign_seckey_file f;
    minisign_seckey sk;
    del_err e;
    ck_assert_int_eq(minisign_seckey_parse("c.key", text, len, &f, &e), 0);
    ck_assert_int_eq(f.encrypted, 0);
    ck_assert_msg(minisign_seckey_unlock("c.key", &f, NULL, &sk, &e) == 0, "%s", e.msg);
    minisign_pubkey again;
    minisign_seckey_pubkey(&sk, &again);
    ck_assert_mem_eq(&again, &pk, sizeof pk);
    minisign_seckey_wipe(&sk);
    minisign_seckey_file_wipe(&f);
    minisign_free_secret(text);
}
END_TEST

START_TEST(legacy_signature_from_minisign_verifies)
{
    minisign_pubkey pk = keygen_files("g", NULL, NULL);
    puts_file("manifest.yaml", MANIFEST);
    ck_assert_msg(minisign(NULL, "-S", "-l", "-s", at("g.key"), "-m", at("manifest.yaml"), "-t", "legacy", NULL) == 0,
                  "%s", ms_err);
    minisign_sig sig;
    del_err e;
    ck_assert_msg(verify_files("manifest.yaml", "manifest.yaml.minisig", &pk, &sig, &e) == 0, "%s", e.msg);
    ck_assert_int_eq(sig.prehashed, 0);
    char *text = get("manifest.yaml.minisig", NULL);
    ck_assert_int_eq(verify_text(text, MANIFEST, &pk, 1, NULL, NULL, &e), 0);
    ck_assert_int_eq(verify_text(text, "format: 2\n", &pk, 1, NULL, NULL, &e), MINISIGN_EBADSIG);
    free(text);
}
END_TEST

START_TEST(trusted_comment_from_minisign_changed_is_refused)
{
    minisign_pubkey pk = keygen_files("t", NULL, NULL);
    puts_file("manifest.yaml", MANIFEST);
    ck_assert_int_eq(minisign(NULL, "-S", "-s", at("t.key"), "-m", at("manifest.yaml"), "-t", "version:5", NULL), 0);
    char *text = get("manifest.yaml.minisig", NULL);
    char *p = strstr(text, "version:5");
    p[strlen("version:")] = '9';
    del_err e;
    ck_assert_int_eq(verify_text(text, MANIFEST, &pk, 1, NULL, NULL, &e), MINISIGN_EBADCOMMENT);
    puts_file("manifest.yaml.minisig", text);
    ck_assert_int_ne(minisign(NULL, "-V", "-p", at("t.pub"), "-m", at("manifest.yaml"), NULL), 0);
    free(text);
}
END_TEST

/* ---- the module on its own ---- */

START_TEST(keygen_round_trips)
{
    char *pub, *key;
    minisign_pubkey pk, parsed;
    del_err e;
    ck_assert_int_eq(minisign_keygen(NULL, NULL, &pub, &key, &pk, &e), 0);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", pub, strlen(pub), &parsed, &e), 0);
    ck_assert_mem_eq(&parsed, &pk, sizeof pk);
    char hex[MINISIGN_KEY_ID_HEX_LEN + 1], first[128];
    minisign_key_id_hex(pk.key_id, hex);
    snprintf(first, sizeof first, "untrusted comment: minisign public key %s\n", hex);
    ck_assert_int_eq(strncmp(pub, first, strlen(first)), 0);
    ck_assert_ptr_nonnull(strstr(key, "untrusted comment: "));
    /* the bare base64 key reads the same */
    char b64[MINISIGN_PUBKEY_BASE64_LEN + 1];
    minisign_pubkey_base64(&pk, b64);
    ck_assert_int_eq(minisign_pubkey_parse("--trusted-key", b64, strlen(b64), &parsed, &e), 0);
    ck_assert_mem_eq(&parsed, &pk, sizeof pk);
    minisign_seckey sk;
    ck_assert_int_eq(minisign_seckey_load("k.key", key, strlen(key), NULL, &sk, &e), 0);
    minisign_seckey_pubkey(&sk, &parsed);
    ck_assert_mem_eq(&parsed, &pk, sizeof pk);
    /* rewritten encrypted, it unlocks with the passphrase */
    char *enc;
    ck_assert_int_eq(minisign_seckey_file_text(&sk, PASSPHRASE, &FAST_KDF, &enc, &e), 0);
    minisign_seckey sk2;
    ck_assert_int_eq(minisign_seckey_load("k2.key", enc, strlen(enc), PASSPHRASE, &sk2, &e), 0);
    ck_assert_mem_eq(&sk2, &sk, sizeof sk);
    minisign_seckey_wipe(&sk);
    minisign_seckey_wipe(&sk2);
    minisign_free_secret(enc);
    free(pub);
    minisign_free_secret(key);
    /* key ids are random */
    minisign_pubkey other;
    ck_assert_int_eq(minisign_keygen(NULL, NULL, &pub, &key, &other, &e), 0);
    ck_assert_mem_ne(other.key_id, pk.key_id, MINISIGN_KEY_ID_BYTES);
    free(pub);
    minisign_free_secret(key);
}
END_TEST

START_TEST(signature_has_minisigns_four_lines)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "version:1");
    minisign_seckey_wipe(&sk);
    ck_assert_int_eq(strncmp(sig, "untrusted comment: signature from minisign secret key\n", 54), 0);
    char *l2 = strchr(sig, '\n') + 1, *l3 = strchr(l2, '\n') + 1, *l4 = strchr(l3, '\n') + 1;
    ck_assert_int_eq(l3 - l2, 101);
    ck_assert_int_eq(strncmp(l3, "trusted comment: version:1\n", 27), 0);
    ck_assert_int_eq(strlen(l4), 89);
    ck_assert_int_eq(l4[88], '\n');
    minisign_sig out;
    size_t idx = 99;
    del_err e;
    ck_assert_int_eq(verify_text(sig, MANIFEST, &pk, 1, &out, &idx, &e), 0);
    ck_assert_uint_eq(idx, 0);
    ck_assert_str_eq(out.trusted_comment, "version:1");
    ck_assert_int_eq(out.prehashed, 1); /* "ED" */
    ck_assert_mem_eq(out.key_id, pk.key_id, MINISIGN_KEY_ID_BYTES);
    free(sig);
}
END_TEST

START_TEST(streaming_agrees_with_memory)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    size_t n = 3 * 1024 * 1024 + 17;
    char *big = xmalloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + (i >> 12));
    put("big.bin", big, n);
    int fd = open(at("big.bin"), O_RDONLY);
    ck_assert_int_ge(fd, 0);
    char *sig;
    del_err e;
    ck_assert_int_eq(minisign_sign_fd(&sk, fd, "big.bin", "big", NULL, &sig, &e), 0);
    ck_assert_int_eq(lseek(fd, 0, SEEK_CUR), 0);
    ck_assert_int_eq(minisign_verify("big.minisig", sig, strlen(sig), big, n, &pk, 1, NULL, NULL, &e), 0);
    ck_assert_int_eq(minisign_verify_fd("big.minisig", sig, strlen(sig), fd, "big.bin", &pk, 1, NULL, NULL, &e), 0);
    free(sig);
    ck_assert_int_eq(minisign_sign(&sk, big, n, "big", NULL, &sig, &e), 0);
    ck_assert_int_eq(minisign_verify_fd("big.minisig", sig, strlen(sig), fd, "big.bin", &pk, 1, NULL, NULL, &e), 0);
    big[n / 2] ^= 1;
    ck_assert_int_eq(minisign_verify("big.minisig", sig, strlen(sig), big, n, &pk, 1, NULL, NULL, &e),
                     MINISIGN_EBADSIG);
    close(fd);
    free(sig);
    free(big);
    minisign_seckey_wipe(&sk);
}
END_TEST

START_TEST(manifest_changed_after_signing_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "version:1");
    minisign_seckey_wipe(&sk);
    del_err e;
    ck_assert_int_eq(verify_text(sig, "format: 1\nmigrations: []\n", &pk, 1, NULL, NULL, &e), MINISIGN_EBADSIG);
    free(sig);
}
END_TEST

START_TEST(trusted_comment_changed_after_signing_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "version:2024.1");
    minisign_seckey_wipe(&sk);
    char *p = strstr(sig, "version:2024.1");
    memcpy(p, "version:2099.1", 14);
    del_err e;
    ck_assert_int_eq(verify_text(sig, MANIFEST, &pk, 1, NULL, NULL, &e), MINISIGN_EBADCOMMENT);
    free(sig);
}
END_TEST

START_TEST(unknown_key_id_is_named)
{
    minisign_pubkey pk, other;
    minisign_seckey sk = new_key(&pk);
    minisign_seckey sk2 = new_key(&other);
    minisign_seckey_wipe(&sk2);
    char *sig = sign_text(&sk, MANIFEST, "v");
    minisign_seckey_wipe(&sk);
    del_err e;
    ck_assert_int_eq(verify_text(sig, MANIFEST, &other, 1, NULL, NULL, &e), MINISIGN_EUNKNOWNKEY);
    char hex[MINISIGN_KEY_ID_HEX_LEN + 1];
    minisign_key_id_hex(pk.key_id, hex);
    ck_assert_ptr_nonnull(strstr(e.msg, hex));
    ck_assert_ptr_null(strchr(e.msg, '\n'));
    ck_assert_int_eq(e.kind, DEL_KIND_BUNDLE);
    free(sig);
}
END_TEST

START_TEST(either_of_two_trusted_keys_verifies)
{
    minisign_pubkey keys[2];
    minisign_seckey old_key = new_key(&keys[0]), new_key_ = new_key(&keys[1]);
    char *s_old = sign_text(&old_key, MANIFEST, "old"), *s_new = sign_text(&new_key_, MANIFEST, "new");
    minisign_seckey_wipe(&old_key);
    minisign_seckey_wipe(&new_key_);
    size_t idx;
    minisign_sig out;
    del_err e;
    ck_assert_int_eq(verify_text(s_old, MANIFEST, keys, 2, &out, &idx, &e), 0);
    ck_assert_uint_eq(idx, 0);
    ck_assert_str_eq(out.trusted_comment, "old");
    ck_assert_int_eq(verify_text(s_new, MANIFEST, keys, 2, &out, &idx, &e), 0);
    ck_assert_uint_eq(idx, 1);
    ck_assert_str_eq(out.trusted_comment, "new");
    free(s_old);
    free(s_new);
}
END_TEST

START_TEST(key_claiming_a_trusted_key_id_is_refused)
{
    /* an attacker's key made to carry the trusted key's id */
    minisign_pubkey pk, forged_pk;
    minisign_seckey sk = new_key(&pk), forged = new_key(&forged_pk);
    memcpy(forged.key_id, pk.key_id, MINISIGN_KEY_ID_BYTES);
    char *sig = sign_text(&forged, MANIFEST, "v");
    minisign_seckey_wipe(&sk);
    minisign_seckey_wipe(&forged);
    del_err e;
    ck_assert_int_eq(verify_text(sig, MANIFEST, &pk, 1, NULL, NULL, &e), MINISIGN_EBADSIG);
    free(sig);
}
END_TEST

START_TEST(truncated_signature_is_refused_at_every_cut)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "version:1");
    minisign_seckey_wipe(&sk);
    size_t len = strlen(sig);
    del_err e;
    minisign_sig out;
    for (size_t cut = 0; cut < len - 1; cut++) {
        int rc = minisign_sig_parse("m.minisig", sig, cut, &out, &e);
        ck_assert_msg(rc == MINISIGN_ETRUNCATED, "cut at %zu: %d %s", cut, rc, e.msg);
        ck_assert_ptr_null(strchr(e.msg, '\n'));
    }
    /* without its last newline it is whole */
    ck_assert_int_eq(minisign_sig_parse("m.minisig", sig, len - 1, &out, &e), 0);
    free(sig);
}
END_TEST

/* sig with line 2 (or 4) replaced by base64 of the given bytes */
static char *with_line(const char *sig, int lineno, const unsigned char *bin, size_t n)
{
    char b64[256];
    sodium_bin2base64(b64, sizeof b64, bin, n, sodium_base64_VARIANT_ORIGINAL);
    const char *starts[5];
    const char *p = sig;
    for (int i = 0; i < 5; i++) {
        starts[i] = p;
        p = strchr(p, '\n');
        p = p ? p + 1 : sig + strlen(sig);
    }
    sbuf b = {0};
    sbuf_add(&b, sig, (size_t)(starts[lineno - 1] - sig));
    sbuf_puts(&b, b64);
    sbuf_puts(&b, "\n");
    sbuf_puts(&b, starts[lineno]);
    return b.s;
}

START_TEST(wrong_algorithm_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "v");
    minisign_seckey_wipe(&sk);
    minisign_sig parsed;
    del_err e;
    ck_assert_int_eq(minisign_sig_parse("m.minisig", sig, strlen(sig), &parsed, &e), 0);
    unsigned char raw[74];
    memcpy(raw, "EX", 2);
    memcpy(raw + 2, parsed.key_id, 8);
    memcpy(raw + 10, parsed.sig, 64);
    char *bad = with_line(sig, 2, raw, sizeof raw);
    ck_assert_int_eq(verify_text(bad, MANIFEST, &pk, 1, NULL, NULL, &e), MINISIGN_EALGORITHM);
    free(bad);
    /* a public key of another algorithm */
    unsigned char praw[42];
    memcpy(praw, "ED", 2);
    memcpy(praw + 2, pk.key_id, 8);
    memcpy(praw + 10, pk.key, 32);
    char b64[64];
    sodium_bin2base64(b64, sizeof b64, praw, sizeof praw, sodium_base64_VARIANT_ORIGINAL);
    minisign_pubkey out;
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", b64, strlen(b64), &out, &e), MINISIGN_EALGORITHM);
    free(sig);
}
END_TEST

START_TEST(huge_signature_file_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "v");
    minisign_seckey_wipe(&sk);
    size_t n = MINISIGN_SIG_FILE_MAX + 1;
    char *huge = xmalloc(n);
    memset(huge, '\n', n);
    memcpy(huge, sig, strlen(sig));
    del_err e;
    ck_assert_int_eq(minisign_verify("m.minisig", huge, n, MANIFEST, strlen(MANIFEST), &pk, 1, NULL, NULL, &e),
                     MINISIGN_ETOOBIG);
    /* the same with blank lines up to the limit is fine */
    ck_assert_int_eq(minisign_verify("m.minisig", huge, n - 1, MANIFEST, strlen(MANIFEST), &pk, 1, NULL, NULL, &e),
                     0);
    free(huge);
    free(sig);
}
END_TEST

START_TEST(trusted_comment_longer_than_minisign_reads_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *longest = xmalloc(MINISIGN_TRUSTED_COMMENT_MAX + 2);
    memset(longest, 'x', MINISIGN_TRUSTED_COMMENT_MAX + 1);
    longest[MINISIGN_TRUSTED_COMMENT_MAX + 1] = '\0';
    char *sig;
    del_err e;
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, longest, NULL, &sig, &e), MINISIGN_EARG);
    longest[MINISIGN_TRUSTED_COMMENT_MAX] = '\0';
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, longest, NULL, &sig, &e), 0);
    ck_assert_int_eq(minisign_verify("m.minisig", sig, strlen(sig), "m", 1, &pk, 1, NULL, NULL, &e), 0);
    /* one byte more in the file: refused when read */
    char *p = strstr(sig, "\ntrusted comment: ") + strlen("\ntrusted comment: ");
    sbuf b = {0};
    sbuf_add(&b, sig, (size_t)(p - sig));
    sbuf_puts(&b, "y");
    sbuf_puts(&b, p);
    minisign_sig out;
    ck_assert_int_eq(minisign_sig_parse("m.minisig", b.s, b.len, &out, &e), MINISIGN_ETOOBIG);
    sbuf_free(&b);
    free(sig);
    free(longest);
    minisign_seckey_wipe(&sk);
}
END_TEST

START_TEST(comments_with_newlines_are_refused_when_signing)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig;
    del_err e;
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, "v1\ntrusted comment: v9", NULL, &sig, &e), MINISIGN_EARG);
    ck_assert_ptr_null(sig);
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, "v1\r", NULL, &sig, &e), MINISIGN_EARG);
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, "v1", "a\nb", &sig, &e), MINISIGN_EARG);
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, "v1\x1b[2J", NULL, &sig, &e), MINISIGN_EARG);
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, NULL, NULL, &sig, &e), MINISIGN_EARG);
    ck_assert_int_eq(minisign_sign(&sk, "m", 1, "", "", &sig, &e), 0);
    ck_assert_int_eq(minisign_verify("m.minisig", sig, strlen(sig), "m", 1, &pk, 1, NULL, NULL, &e), 0);
    free(sig);
    minisign_seckey_wipe(&sk);
}
END_TEST

START_TEST(public_key_of_wrong_length_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    minisign_seckey_wipe(&sk);
    unsigned char raw[48];
    memcpy(raw, "Ed", 2);
    memcpy(raw + 2, pk.key_id, 8);
    memcpy(raw + 10, pk.key, 32);
    memset(raw + 42, 0, 6);
    del_err e;
    minisign_pubkey out;
    size_t lens[] = {41, 43, 45, 48, 30};
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++) {
        char b64[128];
        sodium_bin2base64(b64, sizeof b64, raw, lens[i], sodium_base64_VARIANT_ORIGINAL);
        ck_assert_msg(minisign_pubkey_parse("k.pub", b64, strlen(b64), &out, &e) == MINISIGN_ELENGTH, "%zu bytes: %s",
                      lens[i], e.msg);
    }
    /* a key cut short */
    char b64[MINISIGN_PUBKEY_BASE64_LEN + 1];
    minisign_pubkey_base64(&pk, b64);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", b64, 55, &out, &e), MINISIGN_ELENGTH);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", b64, 52, &out, &e), MINISIGN_ELENGTH);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", "", 0, &out, &e), MINISIGN_ETRUNCATED);
}
END_TEST

START_TEST(bad_base64_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "v");
    minisign_seckey_wipe(&sk);
    char b64[MINISIGN_PUBKEY_BASE64_LEN + 1];
    minisign_pubkey_base64(&pk, b64);
    minisign_pubkey out;
    del_err e;
    b64[10] = '!';
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", b64, strlen(b64), &out, &e), MINISIGN_EBASE64);
    minisign_pubkey_base64(&pk, b64);
    b64[20] = '='; /* padding in the middle */
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", b64, strlen(b64), &out, &e), MINISIGN_EBASE64);
    char *l2 = strchr(sig, '\n') + 1;
    l2[5] = '*';
    ck_assert_int_eq(verify_text(sig, MANIFEST, &pk, 1, NULL, NULL, &e), MINISIGN_EBASE64);
    free(sig);
}
END_TEST

START_TEST(junk_after_public_key_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    minisign_seckey_wipe(&sk);
    char *file = minisign_pubkey_file(&pk);
    char b64[MINISIGN_PUBKEY_BASE64_LEN + 1], buf[512];
    minisign_pubkey_base64(&pk, b64);
    minisign_pubkey out;
    del_err e;
    /* accepted: surrounding whitespace, CRLF, trailing blank lines */
    snprintf(buf, sizeof buf, "  %s \n", b64);
    ck_assert_int_eq(minisign_pubkey_parse("key", buf, strlen(buf), &out, &e), 0);
    snprintf(buf, sizeof buf, "%s\r\n\r\n\n", file);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", buf, strlen(buf), &out, &e), 0);
    ck_assert_mem_eq(&out, &pk, sizeof pk);
    /* refused */
    snprintf(buf, sizeof buf, "%s extra", b64);
    ck_assert_int_eq(minisign_pubkey_parse("key", buf, strlen(buf), &out, &e), MINISIGN_EFORMAT);
    snprintf(buf, sizeof buf, "untrusted comment: k\n%s junk\n", b64);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", buf, strlen(buf), &out, &e), MINISIGN_EFORMAT);
    snprintf(buf, sizeof buf, "%sanother line\n", file);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", buf, strlen(buf), &out, &e), MINISIGN_EFORMAT);
    snprintf(buf, sizeof buf, "%s\n%s", b64, b64);
    ck_assert_int_eq(minisign_pubkey_parse("key", buf, strlen(buf), &out, &e), MINISIGN_EFORMAT);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", file, strlen(file) + 1, &out, &e), MINISIGN_EFORMAT); /* NUL */
    snprintf(buf, sizeof buf, "untrusted comment: only a comment\n");
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", buf, strlen(buf), &out, &e), MINISIGN_ETRUNCATED);
    free(file);
}
END_TEST

START_TEST(public_key_file_too_large_is_refused)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    minisign_seckey_wipe(&sk);
    char *file = minisign_pubkey_file(&pk);
    size_t n = MINISIGN_PUBKEY_FILE_MAX + 1;
    char *big = xmalloc(n);
    memset(big, '\n', n);
    memcpy(big, file, strlen(file));
    minisign_pubkey out;
    del_err e;
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", big, n, &out, &e), MINISIGN_ETOOBIG);
    ck_assert_int_eq(minisign_pubkey_parse("k.pub", big, n - 1, &out, &e), 0);
    free(big);
    free(file);
}
END_TEST

START_TEST(signature_lines_are_checked)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "version:1");
    minisign_seckey_wipe(&sk);
    minisign_sig out;
    del_err e;
    sbuf b = {0};
    /* no trusted comment: line 3 is something else */
    char *l3 = strstr(sig, "\ntrusted comment: ") + 1;
    sbuf_add(&b, sig, (size_t)(l3 - sig));
    sbuf_puts(&b, "comment: version:1");
    sbuf_puts(&b, strchr(l3, '\n'));
    ck_assert_int_eq(minisign_sig_parse("m.minisig", b.s, b.len, &out, &e), MINISIGN_EFORMAT);
    sbuf_free(&b);
    /* the trusted comment line left out */
    char *l4 = strchr(l3, '\n') + 1;
    sbuf_add(&b, sig, (size_t)(l3 - sig));
    sbuf_puts(&b, l4);
    sbuf_puts(&b, l4);
    ck_assert_int_eq(minisign_sig_parse("m.minisig", b.s, b.len, &out, &e), MINISIGN_EFORMAT);
    sbuf_free(&b);
    /* line 1 without its prefix */
    ck_assert_int_eq(minisign_sig_parse("m.minisig", sig + 2, strlen(sig) - 2, &out, &e), MINISIGN_EFORMAT);
    /* extra lines */
    sbuf_puts(&b, sig);
    sbuf_puts(&b, "untrusted comment: more\n");
    ck_assert_int_eq(minisign_sig_parse("m.minisig", b.s, b.len, &out, &e), MINISIGN_EFORMAT);
    sbuf_free(&b);
    /* a NUL byte */
    ck_assert_int_eq(minisign_sig_parse("m.minisig", sig, strlen(sig) + 1, &out, &e), MINISIGN_EFORMAT);
    /* accepted: CRLF line ends and trailing blank lines */
    for (const char *p = sig; *p; p++) {
        if (*p == '\n')
            sbuf_puts(&b, "\r");
        sbuf_add(&b, p, 1);
    }
    sbuf_puts(&b, "\r\n\n");
    ck_assert_int_eq(minisign_verify("m.minisig", b.s, b.len, MANIFEST, strlen(MANIFEST), &pk, 1, &out, NULL, &e), 0);
    ck_assert_str_eq(out.trusted_comment, "version:1");
    sbuf_free(&b);
    /* the global signature of another length */
    unsigned char g[63] = {0};
    char *bad = with_line(sig, 4, g, sizeof g);
    ck_assert_int_eq(minisign_sig_parse("m.minisig", bad, strlen(bad), &out, &e), MINISIGN_ELENGTH);
    free(bad);
    free(sig);
}
END_TEST

START_TEST(no_trusted_key_is_a_caller_error)
{
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    char *sig = sign_text(&sk, MANIFEST, "v");
    minisign_seckey_wipe(&sk);
    del_err e;
    ck_assert_int_eq(verify_text(sig, MANIFEST, &pk, 0, NULL, NULL, &e), MINISIGN_EARG);
    free(sig);
}
END_TEST

START_TEST(wrong_passphrase_is_not_corruption)
{
    char *pub, *key;
    minisign_pubkey pk;
    del_err e;
    ck_assert_int_eq(minisign_keygen(PASSPHRASE, &FAST_KDF, &pub, &key, &pk, &e), 0);
    minisign_seckey sk;
    ck_assert_int_eq(minisign_seckey_load("v.key", key, strlen(key), "Correct horse battery staple", &sk, &e),
                     MINISIGN_EPASSPHRASE);
    ck_assert_ptr_nonnull(strstr(e.msg, "wrong passphrase"));
    ck_assert_int_eq(minisign_seckey_load("v.key", key, strlen(key), NULL, &sk, &e), MINISIGN_ENEEDPASS);
    ck_assert_int_eq(minisign_seckey_load("v.key", key, strlen(key), "", &sk, &e), MINISIGN_EPASSPHRASE);
    ck_assert_int_eq(minisign_seckey_load("v.key", key, strlen(key), PASSPHRASE, &sk, &e), 0);
    /* an empty passphrase is not written */
    char *text;
    ck_assert_int_eq(minisign_seckey_file_text(&sk, "", &FAST_KDF, &text, &e), MINISIGN_EARG);
    /* nor a cost beyond what is read back */
    minisign_kdf heavy = {MINISIGN_KDF_OPSLIMIT_DEFAULT, MINISIGN_KDF_MEMLIMIT_MAX * 2};
    ck_assert_int_eq(minisign_seckey_file_text(&sk, PASSPHRASE, &heavy, &text, &e), MINISIGN_EARG);
    minisign_seckey_wipe(&sk);
    free(pub);
    minisign_free_secret(key);
}
END_TEST

/* The decoded secret key file, changed by fn, encoded again. */
static char *reencode_key(const char *key, void (*fn)(unsigned char raw[158]))
{
    const char *l2 = strchr(key, '\n') + 1;
    unsigned char raw[158];
    size_t n;
    ck_assert_int_eq(sodium_base642bin(raw, sizeof raw, l2, strcspn(l2, "\n"), NULL, &n, NULL,
                                       sodium_base64_VARIANT_ORIGINAL), 0);
    ck_assert_uint_eq(n, sizeof raw);
    fn(raw);
    char b64[256];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    return xasprintf("untrusted comment: changed\n%s\n", b64);
}

static void flip_secret(unsigned char raw[158])
{
    raw[54 + 8 + 3] ^= 1;
}
static void flip_secret_no_checksum(unsigned char raw[158])
{
    raw[54 + 8 + 3] ^= 1;
    memset(raw + 126, 0, 32);
}
static void zero_checksum(unsigned char raw[158])
{
    memset(raw + 126, 0, 32);
}
static void unknown_kdf(unsigned char raw[158])
{
    memcpy(raw + 2, "Ar", 2);
}
static void unknown_checksum(unsigned char raw[158])
{
    memcpy(raw + 4, "S2", 2);
}
static void huge_memlimit(unsigned char raw[158])
{
    raw[46 + 4] = 1; /* 4 GiB */
}

START_TEST(damaged_secret_keys_are_refused)
{
    char *pub, *key, *bad;
    minisign_pubkey pk;
    minisign_seckey sk;
    del_err e;
    ck_assert_int_eq(minisign_keygen(NULL, NULL, &pub, &key, &pk, &e), 0);
    bad = reencode_key(key, flip_secret);
    ck_assert_int_eq(minisign_seckey_load("b.key", bad, strlen(bad), NULL, &sk, &e), MINISIGN_ECORRUPT);
    free(bad);
    bad = reencode_key(key, flip_secret_no_checksum);
    ck_assert_int_eq(minisign_seckey_load("b.key", bad, strlen(bad), NULL, &sk, &e), MINISIGN_ECORRUPT);
    free(bad);
    bad = reencode_key(key, zero_checksum); /* as minisign -G -W writes it */
    ck_assert_int_eq(minisign_seckey_load("b.key", bad, strlen(bad), NULL, &sk, &e), 0);
    minisign_seckey_wipe(&sk);
    free(bad);
    bad = reencode_key(key, unknown_kdf);
    ck_assert_int_eq(minisign_seckey_load("b.key", bad, strlen(bad), NULL, &sk, &e), MINISIGN_EALGORITHM);
    free(bad);
    bad = reencode_key(key, unknown_checksum);
    ck_assert_int_eq(minisign_seckey_load("b.key", bad, strlen(bad), NULL, &sk, &e), MINISIGN_EALGORITHM);
    free(bad);
    free(pub);
    minisign_free_secret(key);
    /* an encrypted key asking scrypt for more than minisign ever writes */
    ck_assert_int_eq(minisign_keygen(PASSPHRASE, &FAST_KDF, &pub, &key, &pk, &e), 0);
    bad = reencode_key(key, huge_memlimit);
    minisign_seckey_file f;
    ck_assert_int_eq(minisign_seckey_parse("b.key", bad, strlen(bad), &f, &e), MINISIGN_ETOOBIG);
    free(bad);
    /* the key line cut short, and a file with no key line */
    char *cut = xstrdup(key);
    cut[strlen(cut) - 10] = '\0';
    ck_assert_int_eq(minisign_seckey_parse("b.key", cut, strlen(cut), &f, &e), MINISIGN_ELENGTH);
    *(strchr(cut, '\n') + 1) = '\0';
    ck_assert_int_eq(minisign_seckey_parse("b.key", cut, strlen(cut), &f, &e), MINISIGN_ETRUNCATED);
    free(cut);
    free(pub);
    minisign_free_secret(key);
}
END_TEST

START_TEST(legacy_signature_of_a_large_file_is_refused)
{
    /* a legacy signature needs the whole message in memory; past the limit
     * it is refused instead */
    minisign_pubkey pk;
    minisign_seckey sk = new_key(&pk);
    unsigned char raw[74];
    memcpy(raw, "Ed", 2);
    memcpy(raw + 2, sk.key_id, 8);
    crypto_sign_detached(raw + 10, NULL, (const unsigned char *)"x", 1, sk.key);
    minisign_seckey_wipe(&sk);
    char b64[128];
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    unsigned char zero[64] = {0};
    char gb64[128], sig[512];
    sodium_bin2base64(gb64, sizeof gb64, zero, sizeof zero, sodium_base64_VARIANT_ORIGINAL);
    snprintf(sig, sizeof sig, "untrusted comment: x\n%s\ntrusted comment: t\n%s\n", b64, gb64);
    int fd = open(at("large.bin"), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)MINISIGN_LEGACY_MESSAGE_MAX + 1), 0);
    del_err e;
    ck_assert_int_eq(minisign_verify_fd("l.minisig", sig, strlen(sig), fd, "large.bin", &pk, 1, NULL, NULL, &e),
                     MINISIGN_ETOOBIG);
    close(fd);
    unlink(at("large.bin"));
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("minisign");
    TCase *interop = tcase_create("interop");
    tcase_add_unchecked_fixture(interop, make_dir, remove_dir);
    tcase_set_timeout(interop, MINISIGN_TIMEOUT_S);
    ADD(interop, minisign_unencrypted_key_signature_verifies_here);
    ADD(interop, minisign_encrypted_key_unlocks_here_and_signs_for_minisign);
    ADD(interop, module_signature_verifies_with_minisign);
    ADD(interop, module_unencrypted_key_signs_with_minisign);
    ADD(interop, module_encrypted_key_with_default_cost_signs_with_minisign);
    ADD(interop, module_encrypted_key_with_low_cost_signs_with_minisign);
    ADD(interop, key_with_password_removed_by_minisign_loads_here);
    ADD(interop, legacy_signature_from_minisign_verifies);
    ADD(interop, trusted_comment_from_minisign_changed_is_refused);
    suite_add_tcase(s, interop);

    TCase *tc = tcase_create("module");
    tcase_add_unchecked_fixture(tc, make_dir, remove_dir);
    tcase_set_timeout(tc, MINISIGN_TIMEOUT_S);
    ADD(tc, keygen_round_trips);
    ADD(tc, signature_has_minisigns_four_lines);
    ADD(tc, streaming_agrees_with_memory);
    ADD(tc, manifest_changed_after_signing_is_refused);
    ADD(tc, trusted_comment_changed_after_signing_is_refused);
    ADD(tc, unknown_key_id_is_named);
    ADD(tc, either_of_two_trusted_keys_verifies);
    ADD(tc, key_claiming_a_trusted_key_id_is_refused);
    ADD(tc, truncated_signature_is_refused_at_every_cut);
    ADD(tc, wrong_algorithm_is_refused);
    ADD(tc, huge_signature_file_is_refused);
    ADD(tc, trusted_comment_longer_than_minisign_reads_is_refused);
    ADD(tc, comments_with_newlines_are_refused_when_signing);
    ADD(tc, public_key_of_wrong_length_is_refused);
    ADD(tc, bad_base64_is_refused);
    ADD(tc, junk_after_public_key_is_refused);
    ADD(tc, public_key_file_too_large_is_refused);
    ADD(tc, signature_lines_are_checked);
    ADD(tc, no_trusted_key_is_a_caller_error);
    ADD(tc, wrong_passphrase_is_not_corruption);
    ADD(tc, damaged_secret_keys_are_refused);
    ADD(tc, legacy_signature_of_a_large_file_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
