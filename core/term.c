#include "term.h"

#include <stdlib.h>
#include <string.h>

size_t utf8_seq_len(const unsigned char *p, unsigned *cp)
{
    unsigned c = p[0], min;
    size_t n;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if ((c & 0xE0) == 0xC0) {
        n = 2, min = 0x80, *cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
        n = 3, min = 0x800, *cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
        n = 4, min = 0x10000, *cp = c & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) /* also stops at the terminating NUL */
            return 0;
        *cp = (*cp << 6) | (p[i] & 0x3F);
    }
    if (*cp < min || *cp > 0x10FFFF || (*cp >= 0xD800 && *cp <= 0xDFFF))
        return 0;
    return n;
}

char *utf8_valid(const char *s)
{
    sbuf b = {0};
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned cp;
        size_t n = utf8_seq_len(p, &cp);
        if (n == 0) {
            sbuf_puts(&b, "\xef\xbf\xbd"); /* U+FFFD */
            p++;
        } else {
            sbuf_add(&b, (const char *)p, n);
            p += n;
        }
    }
    return b.s ? b.s : xstrdup("");
}

/* Code points a terminal acts on, or that reorder or break what is shown. */
static int unsafe_code_point(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9F) ||       /* C1 controls, CSI among them */
           cp == 0x2028 || cp == 0x2029 ||     /* line and paragraph separators */
           (cp >= 0x202A && cp <= 0x202E) ||   /* bidirectional embeddings, overrides */
           (cp >= 0x2066 && cp <= 0x2069);     /* bidirectional isolates */
}

void sbuf_term(sbuf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned cp;
        size_t n = utf8_seq_len(p, &cp);
        if (n == 0) {
            sbuf_printf(b, "\\x%02x", *p);
            p++;
        } else if (cp == '\n') {
            sbuf_puts(b, "\\n");
            p++;
        } else if (cp == '\r') {
            sbuf_puts(b, "\\r");
            p++;
        } else if (cp == '\t') {
            sbuf_puts(b, "\\t");
            p++;
        } else if (cp < 0x20 || cp == 0x7F) {
            sbuf_printf(b, "\\x%02x", cp);
            p++;
        } else if (unsafe_code_point(cp)) {
            sbuf_printf(b, "\\u%04x", cp);
            p += n;
        } else {
            sbuf_add(b, (const char *)p, n);
            p += n;
        }
    }
}

char *term_text(const char *s)
{
    sbuf b = {0};
    sbuf_term(&b, s);
    return b.s ? b.s : xstrdup("");
}

