/* The command table: one row per command, its handler and its help (see
 * commands.h). Handlers are thin: they turn cli_args into the arguments of
 * the command's logic in core/cmd_*.c (and friends) and call it. */
#include "commands.h"

#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "cmd_downgrade.h"
#include "cmd_manifest.h"
#include "cmd_ops.h"
#include "cmd_sign.h"
#include "cmd_graph.h"
#include "cmd_serve.h"
#include "cmd_status.h"
#include "cmd_upgrade.h"
#include "cmd_verify.h"
#include "pipeline.h"
#include "scaffold.h"
#include "trust.h"

static int run_init(app *a, cli_args *c, del_err *err)
{
    (void)a;
    return cmd_init(c->o, c->arg, err);
}

static int run_revision(app *a, cli_args *c, del_err *err)
{
    char *path = NULL;
    int rc = cmd_revision(a, c->message, c->no_chain, &path, err);
    free(path);
    return rc;
}

static int run_build(app *a, cli_args *c, del_err *err)
{
    build_args ba = {.out_dir = c->output, .jobs = c->jobs, .bundle_version = c->bundle_version};
    build_stats st;
    minisign_seckey sk;
    sign_result sr = {0};
    char *probe = NULL;
    int rc;
    if (c->bundle_version && !c->sign_key)
        return del_fail(err, DEL_KIND_USAGE, "--bundle-version goes into the signature: give --sign KEY too (or sign later with 'delembic sign --bundle-version V KEY')");
    /* the key is unlocked (its passphrase asked) before compiling */
    if (c->sign_key && ((c->bundle_version && trust_comment(c->bundle_version, 0, &probe, err) != 0) ||
                        sign_load_key(c->sign_key, &sk, err) != 0)) {
        rc = -1;
    } else {
        ba.sign_key = c->sign_key ? &sk : NULL;
        ba.sign_out = &sr;
        rc = cmd_build(a, &ba, &st, err) != 0 ? -1 : 0;
        if (c->sign_key)
            minisign_seckey_wipe(&sk);
    }
    free(probe);
    if (rc == 0 && !c->o->quiet) {
        printf("Built %zu migration(s): %zu compiled, %zu up to date%s -> %s\n", st.sources, st.compiled,
               st.sources - st.compiled, st.removed ? ", stale removed" : "",
               c->output ? c->output : a->cfg.build_dir);
        if (c->sign_key)
            printf("Signed manifest.yaml with key id %s, bundle version %s\n", sr.key_id, sr.version);
    }
    sign_result_free(&sr);
    return rc;
}

static int run_upgrade(app *a, cli_args *c, del_err *err)
{
    upgrade_args u = {.target = c->arg, .jobs = c->jobs, .dry_run = c->dry_run, .strict = c->strict,
                      .lock_timeout = c->lock_timeout, .timeout = c->timeout,
                      .allow_older_bundle = c->allow_older};
    return cmd_upgrade(a, &u, err);
}

static int run_current(app *a, cli_args *c, del_err *err)
{
    (void)c;
    return cmd_current(a, err);
}

static int run_history(app *a, cli_args *c, del_err *err)
{
    return cmd_history(a, c->all, err);
}

static int run_verify(app *a, cli_args *c, del_err *err)
{
    verify_args v = {.strict = c->strict, .offline = c->offline};
    return cmd_verify(a, &v, err);
}

#ifdef DEL_SEE_HELPER
/* In delembic, graph, report and serve (NEEDS_SEE) are run by DEL_SEE_HELPER,
 * which main.c execs before any handler: this table, compiled without
 * DEL_SEE_HELPER, is that program's, so delembic itself links neither
 * Graphviz nor libmicrohttpd. */
static int run_in_see_helper(app *a, cli_args *c, del_err *err)
{
    (void)a;
    (void)c;
    return del_fail(err, DEL_KIND_USAGE, "this command runs in %s", DEL_SEE_HELPER);
}
#define run_graph run_in_see_helper
#define run_report run_in_see_helper
#define run_serve run_in_see_helper
#else
static int run_graph(app *a, cli_args *c, del_err *err)
{
    return cmd_graph(a, c->dot, err);
}

static int run_report(app *a, cli_args *c, del_err *err)
{
    return cmd_report(a, c->output, err);
}

static int run_serve(app *a, cli_args *c, del_err *err)
{
    serve_args s = {.bind = c->bind, .port = c->port, .token = c->token};
    return cmd_serve(a, &s, err);
}
#endif

static int run_pipeline(app *a, cli_args *c, del_err *err)
{
    if (!strcmp(c->arg, "init"))
        return cmd_pipeline_init(a, err);
    if (!strcmp(c->arg, "generate"))
        return cmd_pipeline_generate(a, c->output, c->print, c->force, err);
    return cmd_pipeline_run(a, c->file, c->autogen, err);
}

static ops_args ops_of(const cli_args *c)
{
    ops_args oa = {.revs = c->args, .nrevs = c->nargs, .all_pending = c->all_pending, .through = c->through,
                   .dry_run = c->dry_run, .cascade = c->cascade, .yes = c->yes,
                   .lock_timeout = c->lock_timeout};
    return oa;
}

static int run_stamp(app *a, cli_args *c, del_err *err)
{
    ops_args oa = ops_of(c);
    return cmd_stamp(a, &oa, err);
}

static int run_forget(app *a, cli_args *c, del_err *err)
{
    ops_args oa = ops_of(c);
    return cmd_forget(a, &oa, err);
}

static int run_repair(app *a, cli_args *c, del_err *err)
{
    ops_args oa = ops_of(c);
    return cmd_repair(a, &oa, err);
}

static int run_show(app *a, cli_args *c, del_err *err)
{
    return cmd_show(a, c->arg, err);
}

static int run_downgrade(app *a, cli_args *c, del_err *err)
{
    downgrade_args da = {.target = c->step_back ? "-1" : c->arg, .dry_run = c->dry_run,
                         .lock_timeout = c->lock_timeout, .timeout = c->timeout};
    return cmd_downgrade(a, &da, err);
}

static int run_keygen(app *a, cli_args *c, del_err *err)
{
    (void)a;
    keygen_args k = {.name = c->output, .no_password = c->no_password, .force = c->force,
                     .kdf_limits = app_env_of(c->o)->kdf_limits};
    keygen_result kr;
    int rc = cmd_keygen(&k, &kr, err) != 0 ? -1 : 0;
    if (rc == 0)
        keygen_print(c->o->notify, &kr);
    keygen_result_free(&kr);
    return rc;
}

static int run_sign(app *a, cli_args *c, del_err *err)
{
    sign_result sr;
    int rc = cmd_sign(a, c->arg, c->bundle_version, &sr, err) != 0 ? -1 : 0;
    if (rc == 0)
        sign_print(c->o->notify, &sr);
    sign_result_free(&sr);
    return rc;
}

static int run_manifest(app *a, cli_args *c, del_err *err)
{
    manifest_result mr;
    if (cmd_manifest(a, c->check, &mr, err) != 0)
        return -1;
    manifest_print(c->o->notify, &mr);
    return 0;
}

static const char *const pipeline_steps[] = {"init", "generate", "run", NULL};

const cli_command cli_commands[] = {
    {"init", run_init, "write delembic.yaml and the migrations folder", "init [DIR]",
     "Write delembic.yaml and the migrations folder DIR (default: migrations).\n"
     "With -n NAME, add a section to an existing delembic.yaml; a section with a\n"
     "script folder of its own keeps its records apart (version_table_schema: NAME).\n"
     "Never overwrites.",
     "delembic init\n"
     "delembic -n reporting init reporting_migrations",
     0, NEEDS_NOTHING, 1, NULL},
    {"revision", run_revision, "write a new data migration from the template", "revision -m MESSAGE [--no-chain]",
     "Write DNNN_<slug>.c in the script folder from the template: the next free\n"
     "D number, the message as description, and as depends_on the project's\n"
     "Delembic heads (the sources no other source depends on; not with --no-chain)\n"
     "and the database's Alembic heads (none, with a warning, when the database\n"
     "can't be reached or has no Alembic version table).\n"
     "  -m, --message MESSAGE   the migration's description\n"
     "  --no-chain              do not depend on the project's Delembic heads",
     "delembic revision -m \"backfill customer country codes\"\n"
     "delembic revision -m \"independent cleanup\" --no-chain",
     F_MESSAGE | F_NO_CHAIN, NEEDS_APP | NEEDS_CONFIG, 0, NULL},
    {"build", run_build, "compile the migrations into a bundle",
     "build [-j N] [-o DIR] [--sign NAME.key [--bundle-version V]]",
     "Compile each .c of the script folder into its own .so in the bundle folder\n"
     "(build_dir, or -o DIR), incrementally and in parallel ($CC, $CFLAGS), copy\n"
     "data/, and write manifest.yaml with checksums, identities and the Alembic\n"
     "graph. The new bundle replaces the old one whole, or not at all.\n"
     "  -j N      compile N at once (default: the number of cores)\n"
     "  -o DIR    write the bundle there\n"
     "  --sign NAME.key        sign the new manifest (manifest.yaml.minisig) before it\n"
     "                         replaces the old bundle\n"
     "  --bundle-version V     the version the signature carries (default: the\n"
     "                         signing time in UTC); later bundles must order after it",
     "delembic build\n"
     "delembic build -j 4 -o /srv/bundles/release-42\n"
     "delembic build --sign vendor.key --bundle-version 2026.11.1",
     F_JOBS | F_OUTPUT | F_SIGN | F_BVER, NEEDS_APP | NEEDS_CONFIG, 0, NULL},
    {"upgrade", run_upgrade, "apply pending migrations, each exactly once",
     "upgrade [head|REV] [-j N] [--dry-run] [--strict] [--lock-timeout S] [--timeout S] [--allow-older-bundle]",
     "Apply pending migrations: all (head) or REV and its pending ancestors.\n"
     "  -j N               run up to N independent migrations at once (default: jobs, 1)\n"
     "  --dry-run          print the plan (and waves, BLOCKED items); change nothing\n"
     "  --strict           an applied migration whose code changed, or (from a project)\n"
     "                     sources changed since the last build, is an error (exit 2)\n"
     "  --lock-timeout S   wait at most S seconds for another run's lock (exit 3)\n"
     "  --timeout S        stop (then kill) a migration running longer than S seconds\n"
     "                     and record it as timed out (default: the section's timeout)\n"
     "  --allow-older-bundle  run a signed bundle older than the newest one already\n"
     "                     applied to this database (refused otherwise: a rollback)\n"
     "Exit codes: 0 done; 1 a migration failed, was BLOCKED or HELD; 2 usage,\n"
     "configuration or bundle error; 3 lock timeout or lock lost; 130/143 interrupted.",
     "delembic upgrade\n"
     "delembic upgrade D004 --dry-run -j 4\n"
     "delembic --database postgresql://app@db/prod upgrade head --lock-timeout 60",
     F_JOBS | F_DRY | F_STRICT | F_LOCKT | F_TIMEOUT | F_JSON | F_ALLOW_OLDER, NEEDS_APP, 1, NULL},
    {"current", run_current, "show the applied heads and counts", "current",
     "Show the applied heads and counts for the database.",
     "delembic current\n"
     "delembic --json current",
     F_JSON, NEEDS_APP, 0, NULL},
    {"history", run_history, "list every migration and its state", "history [--all]",
     "List every migration: applied / failed / pending / changed (its code identity\n"
     "differs from the one applied) / missing (in the database, not the bundle), when\n"
     "(with its time zone), how long.\n"
     "  --all   every attempt instead: each run of each migration, oldest first, with\n"
     "          its status, start, duration, who ran it and its error",
     "delembic history\n"
     "delembic history --all\n"
     "delembic --json history",
     F_JSON | F_ALL, NEEDS_APP, 0, NULL},
    {"verify", run_verify, "check a bundle without running it", "verify [--strict] [--offline]",
     "Check a bundle without running it: manifest, files, permissions, ELF machine,\n"
     "checksums, descriptors, DAG, Alembic graph; then drift against the database\n"
     "when one is configured (--offline: never). One line per problem; exit 0 or 2.\n"
     "  --strict    drift (changed or missing migrations) counts as a problem\n"
     "  --offline   never connect to the database",
     "delembic verify\n"
     "delembic --bundle /srv/bundles/release-42 verify --offline",
     F_STRICT | F_OFFLINE | F_JSON, NEEDS_APP, 0, NULL},
    {"pipeline", run_pipeline, "interleave Alembic and delembic upgrades",
     "pipeline init | generate [-o F | --print] [--force] | run [--file F | --auto]",
     "Interleave 'alembic upgrade REV' with 'delembic upgrade REV' so each data\n"
     "migration runs right after the schema revision it needs.\n"
     "  init       write a starter pipeline.yaml\n"
     "  generate   write the interleaved steps (-o FILE, or --print); an existing\n"
     "             file is replaced only with --force\n"
     "  run        run pipeline.yaml (--file F) or the generated steps (--auto)",
     "delembic pipeline generate --print\n"
     "delembic pipeline run --auto",
     F_OUTPUT | F_PRINT | F_FILE | F_AUTO | F_FORCE, NEEDS_APP | NEEDS_CONFIG_UNLESS_BUNDLE, 1,
     pipeline_steps},
    {"graph", run_graph, "print the migrations as a graph with their statuses", "graph [--dot]",
     "Print the migrations as a graph with each one's status (as git log --graph),\n"
     "or with --dot the whole picture for Graphviz: the Alembic chain, the migrations,\n"
     "descriptions and status colours. Statuses come from the database when it can\n"
     "be reached.\n"
     "  --dot   Graphviz dot text instead of the text graph",
     "delembic graph\n"
     "delembic graph --dot | dot -Tsvg > graph.svg",
     F_DOT, NEEDS_APP | NEEDS_SEE, 0, NULL},
    {"report", run_report, "write the history page, one self-contained HTML file", "report -o FILE",
     "Write the history page: one self-contained HTML file (summary, the picture of\n"
     "schema and data, the timeline of attempts, failures, each migration's details).\n"
     "  -o, --output FILE   the HTML file to write (replaced whole)",
     "delembic report -o report.html",
     F_OUTPUT, NEEDS_APP | NEEDS_SEE, 0, NULL},
    {"serve", run_serve, "serve the history page, live, over HTTP",
     "serve [--port 8800] [--bind 127.0.0.1] [--token T]",
     "Serve the history page, live, and GET /api/status.json (read-only).\n"
     "  --port N    port (default 8800; 0: any free one)\n"
     "  --bind A    address (default 127.0.0.1); any other than loopback needs --token\n"
     "  --token T   every request must carry it (Authorization: Bearer T, or ?token=T);\n"
     "              also from DELEMBIC_SERVE_TOKEN\n"
     "SIGINT or SIGTERM stops it.",
     "delembic serve\n"
     "DELEMBIC_SERVE_TOKEN=$(openssl rand -hex 16) delembic serve --bind 0.0.0.0 --port 8080",
     F_SERVE, NEEDS_APP | NEEDS_SEE, 0, NULL},
    {"stamp", run_stamp, "mark migrations applied without running them",
     "stamp REV... | --all-pending [--through REV] [--dry-run]",
     "Mark migrations applied without running them (a database loaded another way,\n"
     "a baseline): status 'success' in delembic_version, 'stamped' in the history,\n"
     "with who, when and from which host. Their Delembic dependencies must be\n"
     "applied or stamped in the same call, their Alembic ones applied.\n"
     "  --all-pending      every pending migration (with --through REV: REV and its\n"
     "                     pending ancestors only)\n"
     "  --dry-run          print what it would mark; change nothing\n"
     "  --lock-timeout S   wait at most S seconds for another run's lock (exit 3)",
     "delembic stamp D001 D002\n"
     "delembic stamp --all-pending --through D004 --dry-run",
     F_ALL_PENDING | F_THROUGH | F_DRY | F_LOCKT | F_JSON, NEEDS_APP, CLI_ARGS_ANY, NULL},
    {"forget", run_forget, "make a migration pending again", "forget REV [--cascade] [--dry-run]",
     "Make an applied, failed (or held) or missing migration pending again: its\n"
     "version row goes, a 'forgotten' history row says who did it. Nothing is undone\n"
     "in the data (see downgrade). Refused while a migration that depends on it is\n"
     "applied, unless --cascade, which forgets those too and lists them.\n"
     "  --cascade          forget the applied migrations that depend on it too\n"
     "  --dry-run          print what it would forget; change nothing\n"
     "  --lock-timeout S   wait at most S seconds for another run's lock (exit 3)",
     "delembic forget D003\n"
     "delembic forget D002 --cascade --dry-run",
     F_CASCADE | F_DRY | F_LOCKT | F_JSON, NEEDS_APP, 1, NULL},
    {"repair", run_repair, "accept the bundle as the truth for drift", "repair [--yes] [--dry-run]",
     "Accept the bundle as the truth for drift: a 'changed' migration's record gets\n"
     "the bundle's code identity; 'missing' records (in the database, not in the\n"
     "bundle) are listed and dropped after you confirm, or with --yes. Each change\n"
     "gets a 'repaired' history row. After it, 'verify --strict' passes.\n"
     "  -y, --yes          drop missing records without asking\n"
     "  --dry-run          print what it would change; change nothing\n"
     "  --lock-timeout S   wait at most S seconds for another run's lock (exit 3)",
     "delembic repair --dry-run\n"
     "delembic repair --yes",
     F_YES | F_DRY | F_LOCKT | F_JSON, NEEDS_APP, 0, NULL},
    {"show", run_show, "everything about one migration", "show REV",
     "Everything about one migration: description, file, code identity, Delembic and\n"
     "Alembic dependencies (applied now or not), dependents, status, and every\n"
     "attempt with its time, duration, user, host and error.",
     "delembic show D003\n"
     "delembic --json show D003",
     F_JSON, NEEDS_APP, 1, NULL},
    {"downgrade", run_downgrade, "undo applied migrations with their downgrade callbacks",
     "downgrade REV | -1 | base [--dry-run] [--lock-timeout S] [--timeout S]",
     "Undo applied migrations with their downgrade callbacks: REV and, first, the\n"
     "applied migrations that depend on it, latest first; -1 the head applied last;\n"
     "base everything. Each step runs in a worker, in one transaction with the\n"
     "removal of its version row and a 'downgraded' history row. A migration\n"
     "without a downgrade callback stops the plan before anything runs, named.\n"
     "  --dry-run          print the plan; change nothing\n"
     "  --lock-timeout S   wait at most S seconds for another run's lock (exit 3)\n"
     "  --timeout S        stop (then kill) a step running longer than S seconds\n"
     "Exit codes as upgrade's.",
     "delembic downgrade -1\n"
     "delembic downgrade D002 --dry-run\n"
     "delembic downgrade base",
     F_DRY | F_LOCKT | F_TIMEOUT | F_JSON | F_STEP_BACK, NEEDS_APP, 1, NULL},
    {"keygen", run_keygen, "write a minisign key pair to sign bundles",
     "keygen -o NAME [--no-password] [--force]",
     "Write a minisign key pair: NAME.pub (give it to customers) and NAME.key (keep\n"
     "it: it signs bundles), encrypted with a passphrase read from the terminal\n"
     "(or the first line of stdin when it is not one).\n"
     "  -o NAME         the key pair's path without .pub / .key\n"
     "  --no-password   leave the secret key unencrypted (CI keys)\n"
     "  --force         replace existing NAME.pub and NAME.key",
     "delembic keygen -o vendor\n"
     "delembic keygen -o ci --no-password",
     F_OUTPUT | F_NOPASS | F_FORCE, NEEDS_NOTHING, 0, NULL},
    {"sign", run_sign, "sign a bundle's manifest", "sign [--bundle DIR] [--bundle-version V] NAME.key",
     "Sign the bundle's manifest.yaml (after checking every file it lists):\n"
     "manifest.yaml.minisig, readable by minisign -V. The trusted comment carries\n"
     "the bundle version (--bundle-version V, default: the signing time in UTC).\n"
     "  --bundle-version V   the version the signature carries",
     "delembic sign vendor.key\n"
     "delembic --bundle /srv/bundles/release-42 sign --bundle-version 2026.11.1 vendor.key",
     F_BVER, NEEDS_APP, 1, NULL},
    {"manifest", run_manifest, "write manifest.yaml for plugins built elsewhere", "manifest --bundle DIR [--check]",
     "Write manifest.yaml for .so files built outside 'delembic build' (each\n"
     "checked and its descriptor read in a child process, as build does), with\n"
     "data/. --check writes nothing: exit 2 naming the first file that differs.\n"
     "  --check   compare with the manifest.yaml there; write nothing",
     "delembic --bundle dist/bundle manifest\n"
     "delembic --bundle dist/bundle manifest --check",
     F_CHECK, NEEDS_APP, 0, NULL},
};
const size_t cli_ncommands = sizeof cli_commands / sizeof cli_commands[0];

const cli_command *cli_find(const char *name)
{
    for (size_t i = 0; name && i < cli_ncommands; i++)
        if (!strcmp(cli_commands[i].name, name))
            return &cli_commands[i];
    return NULL;
}

size_t cli_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t *row = calloc(lb + 1, sizeof *row);
    if (!row)
        return (size_t)-1;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    size_t d = row[lb];
    free(row);
    return d;
}

const cli_command *cli_nearest(const char *name)
{
    const cli_command *best = NULL;
    size_t bestd = CLI_SUGGEST_MAX_DISTANCE + 1;
    for (size_t i = 0; name && i < cli_ncommands; i++) {
        size_t d = cli_edit_distance(name, cli_commands[i].name);
        /* a prefix of a command ("upgr") is as likely as a typo */
        if (*name && !strncmp(cli_commands[i].name, name, strlen(name)))
            d = 1;
        if (d < bestd) {
            bestd = d;
            best = &cli_commands[i];
        }
    }
    return best;
}

void cli_print_usage(FILE *f)
{
    fprintf(f,
            "usage: delembic [-c FILE] [-n NAME] [--database URL] [--bundle DIR] [--json] [-q|-v] COMMAND\n"
            "\n"
            "Data migrations for PostgreSQL, written in C, applied exactly once.\n"
            "\n"
            "Commands:\n");
    for (size_t i = 0; i < cli_ncommands; i++)
        fprintf(f, "  %-10s %s\n", cli_commands[i].name, cli_commands[i].summary);
    fprintf(f,
            "\n"
            "Options:\n"
            "  -c, --config FILE   delembic.yaml to use (default: found by walking up)\n"
            "  -n, --name NAME     config section (default: delembic)\n"
            "  --database URL      database (else DELEMBIC_DATABASE_URL, the section, libpq defaults)\n"
            "  --bundle DIR        bundle folder (default: the section's build_dir)\n"
            "  --trusted-key KEY   trust bundles signed by KEY (a .pub file or key string;\n"
            "                      repeatable; also trusted_keys: and DELEMBIC_TRUSTED_KEYS)\n"
            "  --json              one JSON document on stdout (upgrade, current, history, verify,\n"
            "                      stamp, forget, repair, show, downgrade)\n"
            "  -q, --quiet         only errors and warnings\n"
            "  -v, --verbose       also the host's SQL and the timings of its phases (stderr)\n"
            "  -h, --help          this help; 'delembic help COMMAND' or 'delembic COMMAND --help'\n"
            "                      for a command's usage, options and an example\n"
            "  --version\n");
}

void cli_print_command_help(FILE *f, const cli_command *cmd)
{
    fprintf(f, "usage: delembic %s\n\n%s\n", cmd->usage, cmd->help);
    if (cmd->example) {
        fprintf(f, "\nExample%s:\n", strchr(cmd->example, '\n') ? "s" : "");
        for (const char *p = cmd->example; *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            fprintf(f, "  %.*s\n", (int)n, p);
            p += n + (nl != NULL);
        }
    }
}
