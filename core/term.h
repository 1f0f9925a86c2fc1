/* Text for a terminal. Descriptions, revisions, dm_log and dm_fail text, file
 * names and server messages come from bundles, plugins and databases: before
 * text output prints them, control characters (C0 including ESC, CR, BS and
 * newline; DEL; C1), invalid UTF-8, line separators and bidirectional
 * overrides are shown escaped (\x1b, \r, \n, \t, \x9b, \u009b, \u202e), so
 * a bundle can neither drive the terminal nor forge a line. Valid printable
 * UTF-8 is kept. Every line of text output that carries such text goes
 * through term_text in the text renderer (core/cli/render_text.c; JSON
 * output has its own escaping, in json.c). */
#ifndef DEL_TERM_H
#define DEL_TERM_H

#include <stdarg.h>
#include <stdio.h>

#include "util.h"

/* The length (1-4) of the valid UTF-8 sequence at p and its code point;
 * 0 when p does not start one (a stray byte, an overlong form, a surrogate). */
size_t utf8_seq_len(const unsigned char *p, unsigned *cp);

/* s as valid UTF-8 (malloc'd): each byte that does not start a valid
 * sequence becomes U+FFFD, so a plugin's message can always be stored in a
 * UTF-8 database. */
char *utf8_valid(const char *s);

/* Append s, escaped for a terminal. */
void sbuf_term(sbuf *b, const char *s);
/* s escaped for a terminal (malloc'd). */
char *term_text(const char *s);

#endif
