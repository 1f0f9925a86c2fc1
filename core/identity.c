#include "identity.h"

#include <stdio.h>
#include <string.h>

/* flags whose value (joined or the next argument) is a path the unit already covers */
static const char *const path_flags[] = {"-I", "-isystem", "-iquote", "-idirafter", "-include", "-imacros",
                                         "-MF", "-MT", "-MQ", "-o", NULL};
static const char *const map_flags[] = {"-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=",
                                        "-fprofile-prefix-map=", NULL};

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Flags that only change what the compiler says, never the code: warnings
 * (-W..., but -Wl, -Wa, -Wp, pass options on), -w, -pedantic..., and how
 * diagnostics look. */
static const char *const diagnostic_flags[] = {"-pedantic", "--pedantic", "-fdiagnostics-", "-fno-diagnostics-",
                                               "-fmax-errors=", "-fmessage-length=", "-fshow-column",
                                               "-fno-show-column", NULL};

static int diagnostic_only(const char *a)
{
    if (a[0] == '-' && a[1] == 'W')
        return !(starts_with(a, "-Wl,") || starts_with(a, "-Wa,") || starts_with(a, "-Wp,"));
    if (!strcmp(a, "-w"))
        return 1;
    for (const char *const *f = diagnostic_flags; *f; f++)
        if (starts_with(a, *f))
            return 1;
    return 0;
}

/* 0: keep; 1: drop this argument; 2: drop it and the next */
static int dropped(const char *a)
{
    /* -g, -g3, -ggdb, -gdwarf-4, -gsplit-dwarf, ...: debug information only */
    if (a[0] == '-' && a[1] == 'g')
        return 1;
    if (diagnostic_only(a))
        return 1;
    for (const char *const *f = path_flags; *f; f++)
        if (starts_with(a, *f))
            return strcmp(a, *f) == 0 ? 2 : 1;
    for (const char *const *f = map_flags; *f; f++)
        if (starts_with(a, *f))
            return 1;
    /* -MD, -MMD, -MP, -MG, ...: dependency output only */
    if (a[0] == '-' && a[1] == 'M')
        return 1;
    return 0;
}

static void add_mapped(sbuf *out, const char *a, const identity_root *roots, size_t nroots)
{
    while (*a) {
        size_t best = 0, blen = 0;
        for (size_t r = 0; r < nroots; r++) {
            size_t l = roots[r].path ? strlen(roots[r].path) : 0;
            if (l > blen && strncmp(a, roots[r].path, l) == 0) {
                best = r;
                blen = l;
            }
        }
        if (blen) {
            sbuf_puts(out, roots[best].name);
            a += blen;
        } else {
            sbuf_add(out, a, 1);
            a++;
        }
    }
}

void identity_flags(char *const *args, size_t n, const identity_root *roots, size_t nroots, sbuf *out)
{
    for (size_t i = 0; i < n; i++) {
        int d = dropped(args[i]);
        if (d) {
            i += (size_t)(d - 1);
            continue;
        }
        add_mapped(out, args[i], roots, nroots);
        sbuf_add(out, "\n", 1);
    }
    if (!out->s)
        sbuf_puts(out, "");
}

int identity_digest(const char *sdk_source, const char *flags, const char *unit, size_t unit_len,
                    char hex[SHA256_HEX_LEN + 1], del_err *err)
{
    char head[256];
    int hl = snprintf(head, sizeof head, "delembic-identity %d\nsdk-source %s\nflags %zu\n", IDENTITY_VERSION,
                      sdk_source, strlen(flags));
    char mid[64];
    int ml = snprintf(mid, sizeof mid, "unit %zu\n", unit_len);
    const void *parts[] = {head, flags, mid, unit};
    size_t lens[] = {(size_t)hl, strlen(flags), (size_t)ml, unit_len};
    return sha256_parts(parts, lens, 4, hex, err);
}
