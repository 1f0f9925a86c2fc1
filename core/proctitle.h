/* What `ps` and /proc/PID/cmdline show of this process, so that a password
 * given on the command line (--database) never shows there, not even its
 * length.
 *
 * Linux shows the block of memory where the kernel laid out argv: all of it,
 * NULs included, when its last byte is NUL; otherwise, as a title written
 * there (setproctitle style), the text from its start up to the first NUL,
 * which may run on into the environment block right after it. Masking a
 * password in place would keep its length (as '*'s, or as padding), so the
 * CLI parses heap copies of its arguments instead and writes over that block
 * one title, the command line with each password as ***, whose bytes do not
 * depend on what was hidden. Workers are forked afterwards: they show the
 * same. Called by core/cli/main.c only. */
#ifndef DEL_PROCTITLE_H
#define DEL_PROCTITLE_H

#include <stddef.h>

typedef struct proctitle {
    char **argv;      /* the process's own argv (its strings are the block) */
    int argc;
    char *block;      /* argv[0] up to the NUL of the last argument, when contiguous; else NULL */
    size_t block_len;
    size_t env_len;   /* bytes of the environment block right after it (0 when not contiguous) */
    char **orig;      /* heap copies of the arguments, in order, NULL-terminated */
    char **args;      /* the same pointers, for the CLI to parse (getopt permutes them) */
    char **shown;     /* what each argument shows instead of itself, or NULL */
} proctitle;

/* Copy the arguments; from then on the CLI parses t->args. */
void proctitle_init(proctitle *t, int argc, char **argv);
/* value points into one of t->args' strings (an optarg): show that argument
 * with value replaced by shown, and write the title now. */
void proctitle_hide(proctitle *t, const char *value, const char *shown);
void proctitle_free(proctitle *t);

/* Write title over a block of block_len bytes followed by env_len bytes that
 * may be used too, so that what Linux shows is exactly title: 0, or -1 when it
 * does not fit (nothing written). Pure; for tests. */
int proctitle_layout(char *block, size_t block_len, size_t env_len, const char *title);

#endif
