/* delembic: the command line. A thin layer: parse options, call the core,
 * print the error line and exit with its code. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "build.h"
#include "buildpaths.h"
#include "cmd_graph.h"
#include "cmd_serve.h"
#include "cmd_status.h"
#include "cmd_upgrade.h"
#include "cmd_verify.h"
#include "db.h"
#include "delembic/plugin.h"
#include "json.h"
#include "pipeline.h"
#include "proctitle.h"
#include "scaffold.h"
#include "term.h"

enum {
    OPT_DATABASE = 1000, OPT_BUNDLE, OPT_JSON, OPT_VERSION, OPT_DRY_RUN, OPT_STRICT,
    OPT_LOCK_TIMEOUT, OPT_PRINT, OPT_FILE, OPT_AUTO, OPT_DOT, OPT_OFFLINE, OPT_FORCE, OPT_TIMEOUT,
    OPT_PORT, OPT_BIND, OPT_TOKEN,
};

/* which command takes which option (bit per option) */
enum {
    F_MESSAGE = 1 << 0, F_JOBS = 1 << 1, F_OUTPUT = 1 << 2, F_DRY = 1 << 3, F_STRICT = 1 << 4,
    F_LOCKT = 1 << 5, F_PRINT = 1 << 6, F_FILE = 1 << 7, F_AUTO = 1 << 8, F_DOT = 1 << 9,
    F_OFFLINE = 1 << 10, F_FORCE = 1 << 11,
    F_JSON = 1 << 12, /* prints one JSON document with --json */
    F_TIMEOUT = 1 << 13,
    F_SERVE = 1 << 14, /* --port, --bind, --token */
};

typedef struct command {
    const char *name;
    unsigned flags;
    const char *usage;
    const char *help;
} command;

static const command commands[] = {
    {"init", 0, "init [DIR]",
     "Write delembic.yaml and the migrations folder DIR (default: migrations).\n"
     "With -n NAME, add a section to an existing delembic.yaml; a section with a\n"
     "script folder of its own keeps its records apart (version_table_schema: NAME).\n"
     "Never overwrites."},
    {"revision", F_MESSAGE, "revision -m MESSAGE",
     "Write DNNN_<slug>.c in the script folder from the template: the next free\n"
     "D number, the message as description, and the database's Alembic heads as\n"
     "depends_on (empty, with a warning, when the database can't be reached)."},
    {"build", F_JOBS | F_OUTPUT, "build [-j N] [-o DIR]",
     "Compile each .c of the script folder into its own .so in the bundle folder\n"
     "(build_dir, or -o DIR), incrementally and in parallel ($CC, $CFLAGS), copy\n"
     "data/, and write manifest.yaml with checksums, identities and the Alembic\n"
     "graph. The new bundle replaces the old one whole, or not at all.\n"
     "  -j N      compile N at once (default: the number of cores)\n"
     "  -o DIR    write the bundle there"},
    {"upgrade", F_JOBS | F_DRY | F_STRICT | F_LOCKT | F_TIMEOUT | F_JSON,
     "upgrade [head|REV] [-j N] [--dry-run] [--strict] [--lock-timeout S] [--timeout S]",
     "Apply pending migrations: all (head) or REV and its pending ancestors.\n"
     "  -j N               run up to N independent migrations at once (default: jobs, 1)\n"
     "  --dry-run          print the plan (and waves, BLOCKED items); change nothing\n"
     "  --strict           an applied migration whose code changed, or (from a project)\n"
     "                     sources changed since the last build, is an error (exit 2)\n"
     "  --lock-timeout S   wait at most S seconds for another run's lock (exit 3)\n"
     "  --timeout S        stop (then kill) a migration running longer than S seconds\n"
     "                     and record it as timed out (default: the section's timeout)\n"
     "Exit codes: 0 done; 1 a migration failed, was BLOCKED or HELD; 2 usage,\n"
     "configuration or bundle error; 3 lock timeout or lock lost; 130/143 interrupted."},
    {"current", F_JSON, "current", "Show the applied heads and counts for the database."},
    {"history", F_JSON, "history",
     "List every migration: applied / failed / pending / changed (its code identity\n"
     "differs from the one applied) / missing (in the database, not the bundle), when, how long."},
    {"verify", F_STRICT | F_OFFLINE | F_JSON, "verify [--strict] [--offline]",
     "Check a bundle without running it: manifest, files, permissions, ELF machine,\n"
     "checksums, descriptors, DAG, Alembic graph; then drift against the database\n"
     "when one is configured (--offline: never). One line per problem; exit 0 or 2."},
    {"pipeline", F_OUTPUT | F_PRINT | F_FILE | F_AUTO | F_FORCE,
     "pipeline init | generate [-o F | --print] [--force] | run [--file F | --auto]",
     "Interleave 'alembic upgrade REV' with 'delembic upgrade REV' so each data\n"
     "migration runs right after the schema revision it needs.\n"
     "  init       write a starter pipeline.yaml\n"
     "  generate   write the interleaved steps (-o FILE, or --print); an existing\n"
     "             file is replaced only with --force\n"
     "  run        run pipeline.yaml (--file F) or the generated steps (--auto)"},
    {"graph", F_DOT, "graph [--dot]",
     "Print the migrations as a graph with each one's status (as git log --graph),\n"
     "or with --dot the whole picture for Graphviz: the Alembic chain, the migrations,\n"
     "descriptions and status colours. Statuses come from the database when it can\n"
     "be reached."},
    {"report", F_OUTPUT, "report -o FILE",
     "Write the history page: one self-contained HTML file (summary, the picture of\n"
     "schema and data, the timeline of attempts, failures, each migration's details)."},
    {"serve", F_SERVE, "serve [--port 8800] [--bind 127.0.0.1] [--token T]",
     "Serve the history page, live, and GET /api/status.json (read-only).\n"
     "  --port N    port (default 8800; 0: any free one)\n"
     "  --bind A    address (default 127.0.0.1); any other than loopback needs --token\n"
     "  --token T   every request must carry it (Authorization: Bearer T, or ?token=T);\n"
     "              also from DELEMBIC_SERVE_TOKEN\n"
     "SIGINT or SIGTERM stops it."},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: delembic [-c FILE] [-n NAME] [--database URL] [--bundle DIR] [--json] [-q|-v] COMMAND\n"
            "\n"
            "Data migrations for PostgreSQL, written in C, applied exactly once.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fprintf(f,
            "\n"
            "Options:\n"
            "  -c, --config FILE   delembic.yaml to use (default: found by walking up)\n"
            "  -n, --name NAME     config section (default: delembic)\n"
            "  --database URL      database (else DELEMBIC_DATABASE_URL, the section, libpq defaults)\n"
            "  --bundle DIR        bundle folder (default: the section's build_dir)\n"
            "  --json              one JSON document on stdout (upgrade, current, history, verify)\n"
            "  -q, --quiet / -v, --verbose\n"
            "  -h, --help          this help, or 'delembic COMMAND --help'\n"
            "  --version\n");
}

static int parse_int(const char *s, int min, int max, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

/* Keep the first usage error; parsing goes on so that a --json given after
 * the bad option still decides how the error is printed. */
static void note_usage(char *buf, size_t n, const char *fmt, const char *arg) __attribute__((format(printf, 3, 0)));
static void note_usage(char *buf, size_t n, const char *fmt, const char *arg)
{
    if (!buf[0])
        snprintf(buf, n, fmt, arg);
}

/* With --json, the whole stdout of a run is one document; this is it when the
 * command did not print its own (an error before or instead of it). */
static void json_outcome_doc(const char *cmd_name, int code, const char *error, const char *key,
                             const char *text)
{
    json js = {0};
    json_obj_open(&js, NULL);
    json_str(&js, "command", cmd_name);
    if (key)
        json_str(&js, key, text);
    json_int(&js, "exit_code", code);
    json_str(&js, "error", error);
    json_obj_close(&js);
    json_print(&js);
}

static int report_usage(int use_json, const char *cmd_name, const char *msg)
{
    char line[1024];
    snprintf(line, sizeof line, "%s; see 'delembic --help'", msg);
    if (use_json)
        json_outcome_doc(cmd_name, DEL_EUSAGE, line, NULL, NULL);
    else
        term_line(stderr, "delembic: %s", line);
    return DEL_EUSAGE;
}

/* Help (a command's, or the whole usage) on stdout, or inside the document. */
static int print_help(int use_json, const command *cmd)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = use_json ? open_memstream(&text, &len) : stdout;
    if (!f)
        f = stdout;
    if (cmd)
        fprintf(f, "usage: delembic %s\n\n%s\n", cmd->usage, cmd->help);
    else
        usage(f);
    if (f != stdout) {
        fclose(f);
        json_outcome_doc(cmd ? cmd->name : NULL, 0, NULL, "help", text);
    }
    free(text);
    return 0;
}

/* The last guard before anything is printed: mask what still looks like a
 * password, and the passwords of --database and DELEMBIC_DATABASE_URL. */
static void redact_message(del_err *err, const app_opts *o)
{
    const char *urls[] = {o->database, getenv("DELEMBIC_DATABASE_URL")};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *red = db_redact_text(err->msg, urls[i]);
        snprintf(err->msg, sizeof err->msg, "%s", red);
        free(red);
    }
}

#ifdef DEL_SEE_HELPER
/* graph, report and serve run in DEL_SEE_HELPER, the same command line with
 * Graphviz and libmicrohttpd linked in, installed beside this program: the
 * other commands start without loading them. argv: the arguments as given. */
static int run_see_helper(int use_json, const char *cmd_name, char **argv)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return report_usage(use_json, cmd_name, "cannot find where delembic is installed (/proc/self/exe)");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    char *path = xasprintf("%.*s/%s", slash ? (int)(slash - self) : 1, slash ? self : ".", DEL_SEE_HELPER);
    fflush(stdout);
    fflush(stderr);
    execv(path, argv);
    char line[PATH_MAX + 256];
    snprintf(line, sizeof line, "cannot run %s (%s): it is installed beside delembic and runs '%s'", path,
             strerror(errno), cmd_name);
    free(path);
    term_line(stderr, "delembic: %s", line);
    return DEL_EUSAGE;
}
#endif

/* argv: the arguments' copies in title (what ps shows is written there) */
static int run_cli(int argc, char **argv, proctitle *title)
{
    app_opts o = {0};
    const char *message = NULL, *output = NULL, *file = NULL;
    int jobs = 0, dry_run = 0, strict = 0, print = 0, autogen = 0, dot = 0, offline = 0, force = 0;
    int help = 0, version = 0;
    serve_args serve = {.bind = NULL, .port = -1, .token = NULL};
    double lock_timeout = -1, timeout = 0;
    unsigned used = 0;
    char bad[512] = "";
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, 'n'},
        {"database", required_argument, NULL, OPT_DATABASE},
        {"bundle", required_argument, NULL, OPT_BUNDLE},
        {"json", no_argument, NULL, OPT_JSON},
        {"quiet", no_argument, NULL, 'q'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, OPT_VERSION},
        {"message", required_argument, NULL, 'm'},
        {"jobs", required_argument, NULL, 'j'},
        {"output", required_argument, NULL, 'o'},
        {"dry-run", no_argument, NULL, OPT_DRY_RUN},
        {"strict", no_argument, NULL, OPT_STRICT},
        {"lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"print", no_argument, NULL, OPT_PRINT},
        {"file", required_argument, NULL, OPT_FILE},
        {"auto", no_argument, NULL, OPT_AUTO},
        {"dot", no_argument, NULL, OPT_DOT},
        {"offline", no_argument, NULL, OPT_OFFLINE},
        {"force", no_argument, NULL, OPT_FORCE},
        {"port", required_argument, NULL, OPT_PORT},
        {"bind", required_argument, NULL, OPT_BIND},
        {"token", required_argument, NULL, OPT_TOKEN},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:n:qvhm:j:o:", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config_path = optarg; break;
        case 'n': o.section = optarg; break;
        case OPT_DATABASE: {
            /* hide the password from ps and /proc/PID/cmdline, as a fixed ***
             * (workers are forked later, so they show the same) */
            o.database = optarg;
            char *shown = db_redact_text(optarg, NULL);
            if (strcmp(shown, optarg) != 0)
                proctitle_hide(title, optarg, shown);
            free(shown);
            break;
        }
        case OPT_BUNDLE: o.bundle = optarg; break;
        case OPT_JSON: o.json = 1; break;
        case 'q': o.quiet = 1; break;
        case 'v': o.verbose = 1; break;
        case 'h': help = 1; break;
        case OPT_VERSION: version = 1; break;
        case 'm': message = optarg; used |= F_MESSAGE; break;
        case 'j':
            if (parse_int(optarg, 1, 256, &jobs) != 0)
                note_usage(bad, sizeof bad, "-j takes a number from 1 to 256, not '%s'", optarg);
            used |= F_JOBS;
            break;
        case 'o': output = optarg; used |= F_OUTPUT; break;
        case OPT_DRY_RUN: dry_run = 1; used |= F_DRY; break;
        case OPT_STRICT: strict = 1; used |= F_STRICT; break;
        case OPT_LOCK_TIMEOUT: {
            char *end;
            lock_timeout = strtod(optarg, &end);
            if (!*optarg || *end || lock_timeout < 0 || lock_timeout > 1e7)
                note_usage(bad, sizeof bad, "--lock-timeout takes seconds (0 or more), not '%s'", optarg);
            used |= F_LOCKT;
            break;
        }
        case OPT_TIMEOUT: {
            char *end;
            timeout = strtod(optarg, &end);
            if (!*optarg || *end || !(timeout > 0) || timeout > 1e7)
                note_usage(bad, sizeof bad, "--timeout takes seconds (more than 0), not '%s'", optarg);
            used |= F_TIMEOUT;
            break;
        }
        case OPT_PRINT: print = 1; used |= F_PRINT; break;
        case OPT_FILE: file = optarg; used |= F_FILE; break;
        case OPT_AUTO: autogen = 1; used |= F_AUTO; break;
        case OPT_DOT: dot = 1; used |= F_DOT; break;
        case OPT_OFFLINE: offline = 1; used |= F_OFFLINE; break;
        case OPT_FORCE: force = 1; used |= F_FORCE; break;
        case OPT_PORT:
            if (parse_int(optarg, 0, 65535, &serve.port) != 0)
                note_usage(bad, sizeof bad, "--port takes a number from 0 to 65535, not '%s'", optarg);
            used |= F_SERVE;
            break;
        case OPT_BIND: serve.bind = optarg; used |= F_SERVE; break;
        case OPT_TOKEN:
            serve.token = optarg; /* kept out of ps, as a password */
            proctitle_hide(title, optarg, "***");
            used |= F_SERVE;
            break;
        case ':':
            note_usage(bad, sizeof bad, "option '%s' needs a value", argv[optind - 1]);
            break;
        default:
            note_usage(bad, sizeof bad, "unknown option '%s'", argv[optind - 1]);
            break;
        }
    }
    if (version) {
        if (o.json) {
            char v[128];
            snprintf(v, sizeof v, "%s (plugin ABI %u)", DEL_VERSION, DM_ABI_VERSION);
            json_outcome_doc("version", 0, NULL, "version", v);
        } else {
            printf("delembic %s (plugin ABI %u)\n", DEL_VERSION, DM_ABI_VERSION);
        }
        return 0;
    }
    const char *name = optind < argc ? argv[optind] : NULL;
    const command *cmd = NULL;
    for (size_t i = 0; name && i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name))
            cmd = &commands[i];
    if (bad[0])
        return report_usage(o.json, cmd ? cmd->name : NULL, bad);
    if (!name) {
        if (help)
            return print_help(o.json, NULL);
        if (o.json)
            return report_usage(1, NULL, "a command is needed");
        usage(stderr);
        return DEL_EUSAGE;
    }
    if (!cmd) {
        note_usage(bad, sizeof bad, "unknown command '%s'", name);
        return report_usage(o.json, NULL, bad);
    }
    if (help)
        return print_help(o.json, cmd);
    if (o.json && !(cmd->flags & F_JSON))
        return report_usage(1, cmd->name, "--json is for upgrade, current, history and verify; this command prints text only");
    if (used & ~cmd->flags) {
        note_usage(bad, sizeof bad, "an option given is not one that '%s' takes", name);
        return report_usage(o.json, cmd->name, bad);
    }
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    const char *sub = nargs > 0 ? args[0] : NULL;
    int max_args = !strcmp(name, "init") || !strcmp(name, "upgrade") || !strcmp(name, "pipeline") ? 1 : 0;
    if (nargs > max_args) {
        note_usage(bad, sizeof bad, "unexpected argument '%s'", args[max_args]);
        return report_usage(o.json, cmd->name, bad);
    }
#ifdef DEL_SEE_HELPER
    if (!strcmp(name, "graph") || !strcmp(name, "report") || !strcmp(name, "serve"))
        return run_see_helper(o.json, cmd->name, argv);
    (void)dot;
#endif
    if (!strcmp(name, "pipeline") && (!sub || (strcmp(sub, "init") && strcmp(sub, "generate") && strcmp(sub, "run")))) {
        if (sub)
            note_usage(bad, sizeof bad, "unknown pipeline step '%s' (init, generate or run)", sub);
        return report_usage(o.json, cmd->name, sub ? bad : "pipeline needs init, generate or run");
    }

    del_err err;
    del_err_clear(&err);
    int code = 0;
    int documented = 0; /* the command printed its own JSON document */
    if (!strcmp(name, "init")) {
        code = cmd_init(&o, sub, &err) == 0 ? 0 : err.code;
    } else {
        int need_config = !strcmp(name, "revision") || !strcmp(name, "build") ||
                          (!strcmp(name, "pipeline") && !o.bundle);
        app a;
        if (app_open(&o, need_config, &a, &err) != 0) {
            code = err.code;
        } else {
            if (!strcmp(name, "revision")) {
                char *path = NULL;
                code = cmd_revision(&a, message, &path, &err) == 0 ? 0 : err.code;
                free(path);
            } else if (!strcmp(name, "build")) {
                build_args ba = {.out_dir = output, .jobs = jobs};
                build_stats st;
                code = cmd_build(&a, &ba, &st, &err);
                if (code == 0 && !o.quiet)
                    printf("Built %zu migration(s): %zu compiled, %zu up to date%s -> %s\n", st.sources,
                           st.compiled, st.sources - st.compiled,
                           st.removed ? ", stale removed" : "", output ? output : a.cfg.build_dir);
            } else if (!strcmp(name, "upgrade")) {
                upgrade_args u = {.target = sub, .jobs = jobs, .dry_run = dry_run, .strict = strict,
                                  .lock_timeout = lock_timeout, .timeout = timeout};
                code = cmd_upgrade(&a, &u, &err);
                documented = 1;
            } else if (!strcmp(name, "current")) {
                code = cmd_current(&a, &err);
                documented = code == 0;
            } else if (!strcmp(name, "history")) {
                code = cmd_history(&a, &err);
                documented = code == 0;
            } else if (!strcmp(name, "verify")) {
                verify_args v = {.strict = strict, .offline = offline};
                code = cmd_verify(&a, &v, &err);
                documented = 1;
#ifndef DEL_SEE_HELPER
            } else if (!strcmp(name, "graph")) {
                code = cmd_graph(&a, dot, &err);
            } else if (!strcmp(name, "report")) {
                code = cmd_report(&a, output, &err);
            } else if (!strcmp(name, "serve")) {
                code = cmd_serve(&a, &serve, &err);
#endif
            } else if (!strcmp(sub, "init")) {
                code = cmd_pipeline_init(&a, &err) == 0 ? 0 : err.code;
            } else if (!strcmp(sub, "generate")) {
                code = cmd_pipeline_generate(&a, output, print, force, &err) == 0 ? 0 : err.code;
            } else {
                code = cmd_pipeline_run(&a, file, autogen, &err);
            }
            app_close(&a);
        }
    }
    redact_message(&err, &o);
    if (o.json && !documented)
        json_outcome_doc(name, code, code && err.msg[0] ? err.msg : code ? "failed" : NULL, NULL, NULL);
    else if (!o.json && code != 0 && err.msg[0])
        term_line(stderr, "delembic: %s", err.msg);
    return code;
}

int main(int argc, char **argv)
{
    proctitle title;
    proctitle_init(&title, argc, argv);
    int code = run_cli(argc, title.args, &title);
    proctitle_free(&title);
    return code;
}
