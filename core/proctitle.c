#include "proctitle.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

extern char **environ;

/* The environment's copy, once the title runs on into its block: environ
 * points to it (or to an array setenv made from it) for the rest of the
 * process's life, so it is never freed, and kept here so that it is still
 * reachable at exit. File scope, as environ itself is. */
static char **moved_environ;

/* The byte Linux looks at to tell a title from plain arguments: the block's
 * last one, not NUL. Never shown. */
#define TITLE_MARK ' '
/* what a value shows when even its masked form does not fit */
#define HIDDEN_VALUE "***"

void proctitle_init(proctitle *t, int argc, char **argv)
{
    memset(t, 0, sizeof *t);
    t->argv = argv;
    t->argc = argc;
    t->orig = xcalloc((size_t)argc + 1, sizeof *t->orig);
    t->args = xcalloc((size_t)argc + 1, sizeof *t->args);
    t->shown = xcalloc((size_t)argc + 1, sizeof *t->shown);
    for (int i = 0; i < argc; i++)
        t->args[i] = t->orig[i] = xstrdup(argv[i]);
    if (argc < 1)
        return;
    /* the block, as the kernel laid it out: each argument right after the
     * previous one's NUL */
    char *end = argv[0];
    for (int i = 0; i < argc; i++) {
        if (argv[i] != end)
            return;
        end = argv[i] + strlen(argv[i]) + 1;
    }
    t->block = argv[0];
    t->block_len = (size_t)(end - argv[0]);
    char *e = end;
    for (size_t i = 0; environ && environ[i] && environ[i] == e; i++)
        e = environ[i] + strlen(environ[i]) + 1;
    t->env_len = (size_t)(e - end);
}

int proctitle_layout(char *block, size_t block_len, size_t env_len, const char *title)
{
    size_t n = strlen(title);
    if (!block_len || n + 1 > block_len + env_len)
        return -1;
    memcpy(block, title, n + 1);
    if (n + 1 < block_len) {
        /* the rest is never shown: a title ends at its NUL */
        memset(block + n + 1, 0, block_len - n - 1);
        block[block_len - 1] = TITLE_MARK;
    }
    /* n + 1 == block_len: plain arguments, exactly the title and its NUL;
     * longer: the title runs on into the environment block */
    return 0;
}

/* The environment's strings to the heap, so that the title may overwrite
 * their block. */
static void move_environ(void)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **copy = xcalloc(n + 1, sizeof *copy);
    for (size_t i = 0; i < n; i++)
        copy[i] = xstrdup(environ[i]);
    environ = copy;
    moved_environ = copy;
}

static char *render(const proctitle *t)
{
    sbuf b = {0};
    for (int i = 0; i < t->argc; i++) {
        if (i)
            sbuf_add(&b, " ", 1);
        sbuf_puts(&b, t->shown[i] ? t->shown[i] : t->orig[i]);
    }
    return b.s ? b.s : xstrdup("");
}

/* No block to write a title over (arguments not laid out as the kernel
 * does): the argument itself, in place, padded with NULs. */
static void hide_in_place(char *arg, const char *shown, size_t pre)
{
    size_t len = strlen(arg), n = strlen(shown);
    if (n <= len) {
        memcpy(arg, shown, n);
        memset(arg + n, 0, len - n);
    } else {
        memset(arg + pre, '*', len - pre);
    }
}

static void write_title(proctitle *t, int k, size_t pre)
{
    if (!t->block) {
        hide_in_place(t->argv[k], t->shown[k], pre);
        return;
    }
    char *title = render(t);
    size_t n = strlen(title);
    if (n + 1 > t->block_len && n + 1 - t->block_len <= t->env_len && !moved_environ)
        move_environ();
    size_t env = moved_environ ? t->env_len : 0;
    if (proctitle_layout(t->block, t->block_len, env, title) != 0) {
        /* the environment is not there to run on into: hide the whole value */
        free(t->shown[k]);
        t->shown[k] = xasprintf("%.*s%s", (int)pre, t->orig[k], HIDDEN_VALUE);
        free(title);
        title = render(t);
        if (proctitle_layout(t->block, t->block_len, env, title) != 0) {
            title[t->block_len - 1] = '\0'; /* cut: nothing secret is left in it */
            proctitle_layout(t->block, t->block_len, env, title);
        }
    }
    free(title);
}

void proctitle_hide(proctitle *t, const char *value, const char *shown)
{
    for (int k = 0; k < t->argc; k++) {
        const char *a = t->orig[k];
        uintptr_t v = (uintptr_t)value, from = (uintptr_t)a;
        if (v < from || v > from + strlen(a))
            continue;
        size_t pre = (size_t)(value - a);
        free(t->shown[k]);
        t->shown[k] = xasprintf("%.*s%s", (int)pre, a, shown);
        write_title(t, k, pre);
        return;
    }
}

void proctitle_free(proctitle *t)
{
    for (int i = 0; i < t->argc; i++) {
        free(t->orig[i]);
        free(t->shown[i]);
    }
    free(t->orig);
    free(t->args);
    free(t->shown);
    memset(t, 0, sizeof *t);
}
