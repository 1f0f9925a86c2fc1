/* The command table (after git's cmd_struct): every command's name, handler,
 * one-line summary, usage, options help, example, the options it takes and
 * the setup it needs. main.c parses the global options and dispatches
 * through it; `delembic --help`, `help CMD` and `CMD --help` print from it.
 * Adding a command: write its logic in core/cmd_<name>.c, a small handler
 * here, and one row in cli_commands[]. */
#ifndef DEL_CLI_COMMANDS_H
#define DEL_CLI_COMMANDS_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include "app.h"
#include "err.h"

/* which command takes which option (bit per option) */
enum {
    F_MESSAGE = 1 << 0, F_JOBS = 1 << 1, F_OUTPUT = 1 << 2, F_DRY = 1 << 3, F_STRICT = 1 << 4,
    F_LOCKT = 1 << 5, F_PRINT = 1 << 6, F_FILE = 1 << 7, F_AUTO = 1 << 8, F_DOT = 1 << 9,
    F_OFFLINE = 1 << 10, F_FORCE = 1 << 11,
    F_JSON = 1 << 12, /* prints one JSON document with --json */
    F_TIMEOUT = 1 << 13,
    F_ALL = 1 << 14,
    /* the operator commands (issue 11) */
    F_ALL_PENDING = 1 << 15, F_THROUGH = 1 << 16, F_CASCADE = 1 << 17, F_YES = 1 << 18,
    F_NO_CHAIN = 1 << 19,
    F_STEP_BACK = 1 << 20, /* downgrade -1 (read by getopt as an option) */
    /* the vendor trust chain (issue 13) */
    F_SIGN = 1 << 21, F_BVER = 1 << 22, F_NOPASS = 1 << 23, F_ALLOW_OLDER = 1 << 24, F_CHECK = 1 << 25,
    F_SERVE = 1 << 26, /* --port, --bind, --token */
};

/* the setup main does before the handler runs */
enum {
    NEEDS_NOTHING = 0,
    NEEDS_APP = 1 << 0,              /* config (if any), bundle folder, database URL */
    NEEDS_CONFIG = 1 << 1,           /* fail when no delembic.yaml is found */
    NEEDS_CONFIG_UNLESS_BUNDLE = 1 << 2, /* ... unless --bundle names the bundle */
    NEEDS_SEE = 1 << 3,              /* runs in delembic-see (Graphviz, libmicrohttpd): delembic execs it */
};

/* What the command line gave a command. */
typedef struct cli_args {
    const app_opts *o;
    const char *arg;         /* the first positional argument (REV, DIR, pipeline step), or NULL */
    char **args;             /* all of them (stamp REV...) */
    int nargs;
    const char *message, *output, *file;
    int jobs, dry_run, strict, print, autogen, dot, offline, force, all;
    int port;                /* serve --port; -1: not given */
    const char *bind, *token; /* serve --bind, --token (or DELEMBIC_SERVE_TOKEN) */
    double lock_timeout, timeout;
    int all_pending, cascade, yes, no_chain, step_back;
    const char *through;
    const char *sign_key, *bundle_version;
    int no_password, allow_older, check;
} cli_args;

typedef struct cli_command {
    const char *name;
    /* a == NULL for commands that need nothing; returns 0 or -1 with err */
    int (*run)(app *a, cli_args *args, del_err *err);
    const char *summary;     /* one line for `delembic --help` */
    const char *usage;       /* "upgrade [head|REV] [-j N] ..." */
    const char *help;        /* what it does, then its options */
    const char *example;     /* one or more example lines */
    unsigned options;        /* F_* it takes */
    unsigned needs;          /* NEEDS_* */
    int max_args;            /* positional arguments it takes (0, 1, or CLI_ARGS_ANY) */
    const char *const *subs; /* the positional argument must be one of these (NULL-terminated), or NULL */
} cli_command;

#define CLI_ARGS_ANY INT_MAX

extern const cli_command cli_commands[];
extern const size_t cli_ncommands;

const cli_command *cli_find(const char *name);
/* The command nearest to name by edit distance, when close enough to be a
 * likely typo (distance at most CLI_SUGGEST_MAX_DISTANCE), else NULL. */
#define CLI_SUGGEST_MAX_DISTANCE 2
const cli_command *cli_nearest(const char *name);
/* Edit distance (Levenshtein) of a and b. */
size_t cli_edit_distance(const char *a, const char *b);

/* The whole usage (commands with their summaries, global options). */
void cli_print_usage(FILE *f);
/* One command's usage, help and example. */
void cli_print_command_help(FILE *f, const cli_command *cmd);

#endif
