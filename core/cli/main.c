/* delembic: the command line. A thin layer: parse the options, find the
 * command in the table (commands.c), set up what it needs and the renderer
 * its events go to (render_text.c or render_json.c), run it, then print the
 * error (with its hint) and exit with the code of the error's kind. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "commands.h"
#include "render.h"
#include "buildpaths.h"
#include "db.h"
#include "delembic/plugin.h"
#include "json.h"
#include "proctitle.h"

#define DEL_STR_(x) #x
#define DEL_STR(x) DEL_STR_(x)

enum {
    OPT_DATABASE = 1000, OPT_BUNDLE, OPT_JSON, OPT_VERSION, OPT_DRY_RUN, OPT_STRICT,
    OPT_LOCK_TIMEOUT, OPT_PRINT, OPT_FILE, OPT_AUTO, OPT_DOT, OPT_OFFLINE, OPT_FORCE, OPT_TIMEOUT, OPT_ALL,
    OPT_ALL_PENDING, OPT_THROUGH, OPT_CASCADE, OPT_YES, OPT_NO_CHAIN,
    OPT_SIGN, OPT_BUNDLE_VERSION, OPT_NO_PASSWORD, OPT_TRUSTED_KEY, OPT_ALLOW_OLDER, OPT_CHECK,
    OPT_PORT, OPT_BIND, OPT_TOKEN,
};

/* --trusted-key may be given this many times */
#define MAX_TRUSTED_KEY_OPTS 64

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
static void json_outcome_doc(const char *cmd_name, int code, const del_err *err, const char *key,
                             const char *text)
{
    json js = {0};
    json_obj_open(&js, NULL);
    json_str(&js, "command", cmd_name);
    if (key)
        json_str(&js, key, text);
    json_int(&js, "exit_code", code);
    json_str(&js, "error", code ? (err && err->msg[0] ? err->msg : "failed") : NULL);
    if (code && err) {
        json_str(&js, "error_kind", del_kind_name(err->kind));
        if (err->detail[0])
            json_str(&js, "detail", err->detail);
        if (err->hint[0])
            json_str(&js, "hint", err->hint);
    }
    json_obj_close(&js);
    printf("%s\n", js.b.s);
    fflush(stdout);
    sbuf_free(&js.b);
}

/* The error line, then its detail and hint on their own lines. */
static void print_error(const del_err *err)
{
    render_text_error(stderr, err);
}

/* A usage error; its hint: the nearest command, or where the help is. */
static int report_usage(int use_json, const char *cmd_name, const char *msg)
{
    del_err e;
    del_fail(&e, DEL_KIND_USAGE, "%s", msg);
    if (cmd_name)
        del_hint(&e, "see 'delembic %s --help'", cmd_name);
    else
        del_hint(&e, "see 'delembic --help'");
    if (use_json)
        json_outcome_doc(cmd_name, del_exit_code(&e), &e, NULL, NULL);
    else
        print_error(&e);
    return del_exit_code(&e);
}

/* Help (a command's, or the whole usage) on stdout, or inside the document. */
static int print_help(int use_json, const cli_command *cmd)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = use_json ? open_memstream(&text, &len) : stdout;
    if (!f)
        f = stdout;
    if (cmd)
        cli_print_command_help(f, cmd);
    else
        cli_print_usage(f);
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
    const char *urls[] = {o->database, app_env_of(o)->database_url};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        char *red = db_redact_text(err->msg, urls[i]);
        snprintf(err->msg, sizeof err->msg, "%s", red);
        free(red);
        red = db_redact_text(err->detail, urls[i]);
        snprintf(err->detail, sizeof err->detail, "%s", red);
        free(red);
    }
}

#ifdef DEL_SEE_HELPER
/* graph, report and serve (NEEDS_SEE) run in DEL_SEE_HELPER, the same command
 * line with Graphviz and libmicrohttpd linked in, installed beside this
 * program: the other commands start without loading them. argv: the
 * arguments as given. Returns only when the helper cannot be run. */
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
    del_err e;
    del_fail(&e, DEL_KIND_CONFIG, "cannot run %s (%s): it is installed beside delembic and runs '%s'", path,
             strerror(errno), cmd_name);
    del_hint(&e, "install %s beside delembic (meson install does)", DEL_SEE_HELPER);
    free(path);
    if (use_json)
        json_outcome_doc(cmd_name, del_exit_code(&e), &e, NULL, NULL);
    else
        print_error(&e);
    return del_exit_code(&e);
}
#endif

/* argv: the arguments' copies in title (what ps shows is written there) */
static int run_cli(int argc, char **argv, proctitle *title)
{
    app_opts o = {0};
    app_env env; /* the one place environment variables are read */
    app_env_read(&env);
    o.env = &env;
    const char *message = NULL, *output = NULL, *file = NULL;
    int jobs = 0, dry_run = 0, strict = 0, print = 0, autogen = 0, dot = 0, offline = 0, force = 0, all = 0;
    const char *sign_key = NULL, *bundle_version = NULL;
    const char *trusted_keys[MAX_TRUSTED_KEY_OPTS];
    int no_password = 0, allow_older = 0, check = 0;
    int help = 0, version = 0;
    int all_pending = 0, cascade = 0, yes = 0, no_chain = 0, step_back = 0;
    const char *through = NULL;
    int port = -1;
    const char *bind = NULL, *token = NULL;
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
        {"all", no_argument, NULL, OPT_ALL},
        {"all-pending", no_argument, NULL, OPT_ALL_PENDING},
        {"through", required_argument, NULL, OPT_THROUGH},
        {"cascade", no_argument, NULL, OPT_CASCADE},
        {"yes", no_argument, NULL, OPT_YES},
        {"no-chain", no_argument, NULL, OPT_NO_CHAIN},
        {"sign", required_argument, NULL, OPT_SIGN},
        {"bundle-version", required_argument, NULL, OPT_BUNDLE_VERSION},
        {"no-password", no_argument, NULL, OPT_NO_PASSWORD},
        {"trusted-key", required_argument, NULL, OPT_TRUSTED_KEY},
        {"allow-older-bundle", no_argument, NULL, OPT_ALLOW_OLDER},
        {"check", no_argument, NULL, OPT_CHECK},
        {"port", required_argument, NULL, OPT_PORT},
        {"bind", required_argument, NULL, OPT_BIND},
        {"token", required_argument, NULL, OPT_TOKEN},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":c:n:qvhm:j:o:y1", longopts, NULL)) != -1) {
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
        case OPT_ALL: all = 1; used |= F_ALL; break;
        case OPT_ALL_PENDING: all_pending = 1; used |= F_ALL_PENDING; break;
        case OPT_THROUGH: through = optarg; used |= F_THROUGH; break;
        case OPT_CASCADE: cascade = 1; used |= F_CASCADE; break;
        case 'y':
        case OPT_YES: yes = 1; used |= F_YES; break;
        case OPT_NO_CHAIN: no_chain = 1; used |= F_NO_CHAIN; break;
        case '1': step_back = 1; used |= F_STEP_BACK; break;
        case OPT_SIGN: sign_key = optarg; used |= F_SIGN; break;
        case OPT_BUNDLE_VERSION: bundle_version = optarg; used |= F_BVER; break;
        case OPT_NO_PASSWORD: no_password = 1; used |= F_NOPASS; break;
        case OPT_ALLOW_OLDER: allow_older = 1; used |= F_ALLOW_OLDER; break;
        case OPT_CHECK: check = 1; used |= F_CHECK; break;
        case OPT_TRUSTED_KEY:
            if (o.ntrusted_keys < MAX_TRUSTED_KEY_OPTS)
                trusted_keys[o.ntrusted_keys++] = optarg;
            else
                note_usage(bad, sizeof bad, "--trusted-key is given more than " DEL_STR(MAX_TRUSTED_KEY_OPTS) " times at '%s'", optarg);
            o.trusted_keys = trusted_keys;
            break;
        case OPT_PORT:
            if (parse_int(optarg, 0, 65535, &port) != 0)
                note_usage(bad, sizeof bad, "--port takes a number from 0 to 65535, not '%s'", optarg);
            used |= F_SERVE;
            break;
        case OPT_BIND: bind = optarg; used |= F_SERVE; break;
        case OPT_TOKEN:
            token = optarg; /* kept out of ps, as a password */
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
    /* delembic help [CMD] */
    if (name && !strcmp(name, "help") && !bad[0]) {
        const char *topic = optind + 1 < argc ? argv[optind + 1] : NULL;
        if (!topic)
            return print_help(o.json, NULL);
        const cli_command *t = cli_find(topic);
        if (t)
            return print_help(o.json, t);
        help = 0;
        name = topic;
    }
    const cli_command *cmd = cli_find(name);
    if (bad[0])
        return report_usage(o.json, cmd ? cmd->name : NULL, bad);
    if (!name) {
        if (help)
            return print_help(o.json, NULL);
        if (o.json)
            return report_usage(1, NULL, "a command is needed");
        cli_print_usage(stderr);
        return DEL_EXIT_USAGE;
    }
    if (!cmd) {
        const cli_command *near = cli_nearest(name);
        snprintf(bad, sizeof bad, "unknown command '%s'%s%s%s", name, near ? " (did you mean '" : "",
                 near ? near->name : "", near ? "'?)" : "");
        return report_usage(o.json, NULL, bad);
    }
    if (help)
        return print_help(o.json, cmd);
    if (o.json && !(cmd->options & F_JSON))
        return report_usage(1, cmd->name, "--json is for upgrade, current, history, verify, stamp, forget, repair, show and downgrade; this command prints text only");
    if (used & ~cmd->options) {
        note_usage(bad, sizeof bad, "an option given is not one that '%s' takes", name);
        return report_usage(o.json, cmd->name, bad);
    }
    int nargs = argc - optind - 1;
    char **args = argv + optind + 1;
    const char *sub = nargs > 0 ? args[0] : NULL;
    int max_args = step_back ? 0 : cmd->max_args; /* downgrade -1 names its target */
    if (nargs > max_args) {
        note_usage(bad, sizeof bad, "unexpected argument '%s'", args[max_args]);
        return report_usage(o.json, cmd->name, bad);
    }
    if (cmd->subs) {
        int known = 0;
        sbuf list = {0};
        for (size_t k = 0; cmd->subs[k]; k++) {
            known |= sub && !strcmp(sub, cmd->subs[k]);
            sbuf_printf(&list, "%s%s", k ? (cmd->subs[k + 1] ? ", " : " or ") : "", cmd->subs[k]);
        }
        if (!known) {
            char line[sizeof bad];
            if (sub)
                snprintf(line, sizeof line, "unknown %s step '%s' (%s)", cmd->name, sub, list.s);
            else
                snprintf(line, sizeof line, "%s needs %s", cmd->name, list.s);
            sbuf_free(&list);
            return report_usage(o.json, cmd->name, line);
        }
        sbuf_free(&list);
    }
#ifdef DEL_SEE_HELPER
    if (cmd->needs & NEEDS_SEE)
        return run_see_helper(o.json, cmd->name, argv);
#endif

    cli_args ca = {.o = &o, .arg = sub, .message = message, .output = output, .file = file,
                   .jobs = jobs, .dry_run = dry_run, .strict = strict, .print = print,
                   .autogen = autogen, .dot = dot, .offline = offline, .force = force, .all = all,
                   .lock_timeout = lock_timeout, .timeout = timeout,
                   .args = args, .nargs = nargs, .all_pending = all_pending, .through = through,
                   .cascade = cascade, .yes = yes, .no_chain = no_chain, .step_back = step_back,
                   .sign_key = sign_key, .bundle_version = bundle_version, .no_password = no_password,
                   .allow_older = allow_older, .check = check,
                   .port = port, .bind = bind, .token = token ? token : env.serve_token};
    /* the renderer everything the command reports goes to */
    render_text rt;
    render_json rj;
    del_notify notify = DEL_NOTIFY_INIT;
    if (o.json) {
        render_json_init(&rj, o.verbose);
        notify.event_cb = render_json_event;
        notify.payload = &rj;
    } else {
        const char *pi = env.progress_seconds;
        render_text_init(&rt, o.quiet, o.verbose, pi ? atof(pi) : 0);
        notify.event_cb = render_text_event;
        notify.progress_cb = render_text_progress;
        notify.payload = &rt;
    }
    o.notify = &notify;
    del_err err;
    del_err_clear(&err);
    int code = 0;
    if (!(cmd->needs & NEEDS_APP)) {
        code = cmd->run(NULL, &ca, &err);
    } else {
        int need_config = (cmd->needs & NEEDS_CONFIG) ||
                          ((cmd->needs & NEEDS_CONFIG_UNLESS_BUNDLE) && !o.bundle);
        app a;
        if (app_open(&o, need_config, &a, &err) != 0) {
            code = -1;
        } else {
            code = cmd->run(&a, &ca, &err);
            app_close(&a);
        }
    }
    int documented = o.json && rj.documented; /* the command printed its own document */
    redact_message(&err, &o);
    if (code != 0 && !del_failed(&err))
        err.kind = DEL_KIND_USAGE; /* a command that failed without saying why */
    int exit_code = code != 0 ? del_exit_code(&err) : 0;
    if (o.json && !documented)
        json_outcome_doc(name, exit_code, &err, NULL, NULL);
    else if (!o.json && exit_code != 0 && err.msg[0] && !err.reported)
        print_error(&err);
    if (o.json)
        render_json_free(&rj);
    return exit_code;
}

int main(int argc, char **argv)
{
    proctitle title;
    proctitle_init(&title, argc, argv);
    int code = run_cli(argc, title.args, &title);
    proctitle_free(&title);
    return code;
}
