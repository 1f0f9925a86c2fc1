/* The dependency picture: the model built from a manifest (depgraph.h), the
 * text graph for a terminal (graph_text.h, golden output) and the SVG laid
 * out by Graphviz (graph_svg.h: parsed by python3's xml.etree, which also
 * checks that nothing from a bundle became markup). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cgraph.h>

#include "check_main.h"
#include "depgraph.h"
#include "graph_svg.h"
#include "graph_text.h"
#include "manifest.h"

#define SHA "5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c"
#define MIG(rev, desc, deps, al)                                                                   \
    "  - revision: " rev "\n    file: " rev ".so\n    sha256: " SHA "\n    description: " desc    \
    "\n    depends_on: " deps "\n    alembic: " al "\n"

/* A diamond (D001 -> D002, D003 -> D004), an Alembic merge (a4 of a2 and
 * a3), D001 needing a2, an old ancestor of the head a5, D003 needing the
 * head, and D005 on its own with a hostile description. */
static const char *fixture =
    "format: 1\nabi: 1\nmigrations:\n"
    MIG("D001", "Load vocabulary", "[a2]", "[a2]")
    MIG("D002", "Load person", "[D001]", "[]")
    MIG("D003", "Load visits", "[D001, a5]", "[a5]")
    MIG("D004", "Build eras", "[D002, D003]", "[]")
    MIG("D005", "'<img src=x onerror=alert(1)>'", "[]", "[]")
    "alembic:\n  version_table: alembic_version\n  graph:\n"
    "    a5: [a4]\n    a4: [a2, a3]\n    a3: [a1]\n    a2: [a1]\n    a1: []\n";

static dg_status fixture_status(void *ud, dg_kind kind, const char *rev)
{
    int *calls = ud;
    if (calls)
        (*calls)++;
    if (kind == DG_ALEMBIC)
        return strcmp(rev, "a5") ? DG_APPLIED : DG_PENDING;
    if (!strcmp(rev, "D001"))
        return DG_APPLIED;
    if (!strcmp(rev, "D002"))
        return DG_FAILED;
    if (!strcmp(rev, "D003"))
        return DG_CHANGED;
    return DG_PENDING;
}

static void load_fixture(manifest *mf, depgraph *g, int *calls)
{
    del_err e;
    ck_assert_msg(manifest_parse("manifest.yaml", fixture, strlen(fixture), mf, &e) == 0, "%s", e.msg);
    ck_assert_msg(depgraph_from_manifest(g, mf, fixture_status, calls, &e) == 0, "%s", e.msg);
}

static size_t node(const depgraph *g, dg_kind kind, const char *id)
{
    long i = depgraph_find(g, kind, id);
    ck_assert_msg(i >= 0, "no node %s", id);
    return (size_t)i;
}

static int needs(const depgraph *g, dg_kind fk, const char *from, dg_kind tk, const char *to)
{
    const dg_node *nd = &g->nodes[node(g, fk, from)];
    size_t t = node(g, tk, to);
    for (size_t d = 0; d < nd->ndeps; d++)
        if (nd->deps[d] == t)
            return 1;
    return 0;
}

/* ---- the model ----------------------------------------------------------- */

START_TEST(model_has_every_revision_in_stable_order)
{
    manifest mf;
    depgraph g;
    int calls = 0;
    load_fixture(&mf, &g, &calls);
    ck_assert_int_eq(g.n, 10);
    ck_assert_int_eq(calls, 10); /* one status per node */
    const char *order[] = {"a1", "a2", "a3", "a4", "a5", "D001", "D002", "D003", "D004", "D005"};
    for (size_t i = 0; i < 10; i++) {
        ck_assert_str_eq(g.nodes[i].id, order[i]);
        ck_assert_int_eq(g.nodes[i].kind, i < 5 ? DG_ALEMBIC : DG_MIGRATION);
    }
    ck_assert_str_eq(g.nodes[node(&g, DG_MIGRATION, "D002")].label, "Load person");
    ck_assert_str_eq(g.nodes[node(&g, DG_ALEMBIC, "a3")].label, "");
    ck_assert_int_eq(g.nodes[node(&g, DG_MIGRATION, "D002")].status, DG_FAILED);
    ck_assert_int_eq(g.nodes[node(&g, DG_MIGRATION, "D003")].status, DG_CHANGED);
    ck_assert_int_eq(g.nodes[node(&g, DG_ALEMBIC, "a5")].status, DG_PENDING);
    ck_assert_int_eq(g.nodes[node(&g, DG_ALEMBIC, "a1")].status, DG_APPLIED);
    /* src points back into the manifest */
    const dg_node *d3 = &g.nodes[node(&g, DG_MIGRATION, "D003")];
    ck_assert_str_eq(mf.m[d3->src].revision, "D003");
    const dg_node *a4 = &g.nodes[node(&g, DG_ALEMBIC, "a4")];
    ck_assert_str_eq(mf.graph.nodes[a4->src].rev, "a4");
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(model_edges_diamond_merge_and_old_ancestor)
{
    manifest mf;
    depgraph g;
    load_fixture(&mf, &g, NULL);
    /* the diamond */
    ck_assert(needs(&g, DG_MIGRATION, "D002", DG_MIGRATION, "D001"));
    ck_assert(needs(&g, DG_MIGRATION, "D003", DG_MIGRATION, "D001"));
    ck_assert(needs(&g, DG_MIGRATION, "D004", DG_MIGRATION, "D002"));
    ck_assert(needs(&g, DG_MIGRATION, "D004", DG_MIGRATION, "D003"));
    /* the Alembic revisions migrations need: an old ancestor and the head */
    ck_assert(needs(&g, DG_MIGRATION, "D001", DG_ALEMBIC, "a2"));
    ck_assert(needs(&g, DG_MIGRATION, "D003", DG_ALEMBIC, "a5"));
    /* the merge and the rest of the Alembic graph */
    ck_assert(needs(&g, DG_ALEMBIC, "a4", DG_ALEMBIC, "a2"));
    ck_assert(needs(&g, DG_ALEMBIC, "a4", DG_ALEMBIC, "a3"));
    ck_assert(needs(&g, DG_ALEMBIC, "a5", DG_ALEMBIC, "a4"));
    ck_assert(needs(&g, DG_ALEMBIC, "a2", DG_ALEMBIC, "a1"));
    ck_assert(needs(&g, DG_ALEMBIC, "a3", DG_ALEMBIC, "a1"));
    ck_assert_int_eq(g.nedges, 11); /* depends_on and alembic name a2 and a5 once each */
    ck_assert_int_eq(g.nodes[node(&g, DG_MIGRATION, "D005")].ndeps, 0);
    size_t *nr = depgraph_dependents(&g);
    ck_assert_int_eq(nr[node(&g, DG_MIGRATION, "D001")], 2);
    ck_assert_int_eq(nr[node(&g, DG_ALEMBIC, "a1")], 2);
    ck_assert_int_eq(nr[node(&g, DG_ALEMBIC, "a2")], 2); /* a4 and D001 */
    ck_assert_int_eq(nr[node(&g, DG_MIGRATION, "D004")], 0);
    free(nr);
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(model_without_statuses_is_unknown)
{
    manifest mf;
    depgraph g;
    del_err e;
    ck_assert_int_eq(manifest_parse("m", fixture, strlen(fixture), &mf, &e), 0);
    ck_assert_int_eq(depgraph_from_manifest(&g, &mf, NULL, NULL, &e), 0);
    for (size_t i = 0; i < g.n; i++)
        ck_assert_int_eq(g.nodes[i].status, DG_UNKNOWN);
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(model_alembic_need_outside_the_graph_is_a_node)
{
    /* a bundle built without alembic_config: no graph, the need stays */
    static const char *text = "format: 1\nabi: 1\nmigrations:\n"
        MIG("D1", "x", "[3d1e3e6abc12]", "[3d1e3e6abc12]");
    manifest mf;
    depgraph g;
    del_err e;
    ck_assert_int_eq(manifest_parse("m", text, strlen(text), &mf, &e), 0);
    ck_assert_int_eq(depgraph_from_manifest(&g, &mf, fixture_status, NULL, &e), 0);
    ck_assert_int_eq(g.n, 2);
    size_t a = node(&g, DG_ALEMBIC, "3d1e3e6abc12");
    ck_assert_int_eq(g.nodes[a].src, -1);
    ck_assert_int_eq(g.nodes[a].status, DG_APPLIED);
    ck_assert(needs(&g, DG_MIGRATION, "D1", DG_ALEMBIC, "3d1e3e6abc12"));
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(model_refuses_a_cycle_naming_it)
{
    manifest mf = {0};
    const char *revs[] = {"D1", "D2", "D3"}, *deps[] = {"D3", "D1", "D2"};
    for (int i = 0; i < 3; i++) {
        mentry *m = manifest_add(&mf);
        m->revision = xstrdup(revs[i]);
        m->description = xstrdup("");
        strvec_push(&m->depends_on, deps[i]);
    }
    depgraph g;
    del_err e;
    ck_assert_int_eq(depgraph_from_manifest(&g, &mf, NULL, NULL, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "cycle"));
    ck_assert_ptr_nonnull(strstr(e.msg, "D1"));
    ck_assert_ptr_nonnull(strstr(e.msg, "D3"));
    ck_assert_int_eq(g.n, 0);
    depgraph_free(&g); /* harmless on an empty graph */
    manifest_free(&mf);
}
END_TEST

START_TEST(model_add_refuses_duplicates_and_bad_edges)
{
    depgraph g = DEPGRAPH_INIT;
    ck_assert_int_eq(depgraph_add(&g, DG_MIGRATION, "D1", NULL, DG_APPLIED), 0);
    ck_assert_int_eq(depgraph_add(&g, DG_MIGRATION, "D1", "again", DG_APPLIED), -1);
    /* the same id in the other kind is another node */
    ck_assert_int_eq(depgraph_add(&g, DG_ALEMBIC, "D1", NULL, DG_APPLIED), 1);
    ck_assert_int_eq(depgraph_add(&g, DG_MIGRATION, "gone", "recorded only", DG_MISSING), 2);
    ck_assert_int_eq(depgraph_add(&g, DG_MIGRATION, "x", NULL, (dg_status)99), 3);
    ck_assert_int_eq(g.nodes[3].status, DG_UNKNOWN);
    ck_assert_int_eq(depgraph_add_edge(&g, 0, 1), 0);
    ck_assert_int_eq(depgraph_add_edge(&g, 0, 1), 0); /* kept once */
    ck_assert_int_eq(g.nedges, 1);
    ck_assert_int_eq(depgraph_add_edge(&g, 0, 0), -1);
    ck_assert_int_eq(depgraph_add_edge(&g, 0, 9), -1);
    ck_assert_int_eq(depgraph_find(&g, DG_MIGRATION, "gone"), 2);
    ck_assert_int_eq(depgraph_find(&g, DG_ALEMBIC, "gone"), -1);
    depgraph_free(&g);
}
END_TEST

START_TEST(status_names_round_trip)
{
    for (int i = 0; i < DG_NSTATUS; i++) {
        dg_status s;
        ck_assert_int_eq(dg_status_parse(dg_status_name((dg_status)i), &s), 0);
        ck_assert_int_eq(s, i);
    }
    dg_status s;
    ck_assert_int_eq(dg_status_parse("success", &s), -1);
    ck_assert_int_eq(dg_status_parse(NULL, &s), -1);
    ck_assert_str_eq(dg_status_name(DG_ORPHANED), "orphaned");
    ck_assert_str_eq(dg_status_name((dg_status)42), "unknown");
    ck_assert_str_eq(dg_kind_name(DG_ALEMBIC), "alembic");
}
END_TEST

/* A chain of n migrations M1..Mn (applied unless listed in odd), each
 * needing the one before, returned as a depgraph. */
static void chain_graph(depgraph *g, size_t n, const char *odd)
{
    memset(g, 0, sizeof *g);
    for (size_t i = 1; i <= n; i++) {
        char rev[16], key[18];
        snprintf(rev, sizeof rev, "M%zu", i);
        snprintf(key, sizeof key, ",%s,", rev);
        int pending = odd && strstr(odd, key);
        long k = depgraph_add(g, DG_MIGRATION, rev, "step", pending ? DG_PENDING : DG_APPLIED);
        if (i > 1)
            depgraph_add_edge(g, (size_t)k, (size_t)k - 1);
    }
}

START_TEST(chains_are_runs_of_one_status_without_branches)
{
    depgraph g;
    chain_graph(&g, 10, ",M7,"); /* M1..M6 applied, M7 pending, M8..M10 applied */
    /* a branch: M11 also needs M3, so M3 has two dependents */
    long b = depgraph_add(&g, DG_MIGRATION, "M11", NULL, DG_APPLIED);
    depgraph_add_edge(&g, (size_t)b, 2);
    dg_chain *c;
    size_t nc;
    depgraph_chains(&g, 2, &c, &nc);
    ck_assert_int_eq(nc, 3);
    /* M3 may end a run (two need it), but M4 cannot go on from it; M7 is pending */
    const char *first[] = {"M1", "M4", "M8"}, *last[] = {"M3", "M6", "M10"};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_int_eq(c[i].n, 3);
        ck_assert_str_eq(g.nodes[c[i].members[0]].id, first[i]);
        ck_assert_str_eq(g.nodes[c[i].members[2]].id, last[i]);
    }
    dg_chains_free(c, nc);
    depgraph_chains(&g, 3, &c, &nc); /* runs of more than 3: none */
    ck_assert_int_eq(nc, 0);
    dg_chains_free(c, nc);
    depgraph_chains(&g, 0, &c, &nc); /* 0: never */
    ck_assert_int_eq(nc, 0);
    depgraph_free(&g);
}
END_TEST

/* ---- the text graph ------------------------------------------------------ */

static char *text_of(const depgraph *g, int utf8, int newest_first)
{
    strvec lines = {0};
    graph_text_opts o = {utf8, newest_first};
    del_err e;
    ck_assert_msg(graph_text(g, &o, &lines, &e) == 0, "%s", e.msg);
    sbuf b = {0};
    for (size_t i = 0; i < lines.n; i++)
        sbuf_printf(&b, "%s\n", lines.v[i]);
    strvec_clear(&lines);
    return b.s ? b.s : xstrdup("");
}

/* migrations named in revs, each needing those listed in deps ("D1 D2") */
static void dag_graph(depgraph *g, size_t n, const char *const *revs, const char *const *deps)
{
    memset(g, 0, sizeof *g);
    for (size_t i = 0; i < n; i++)
        depgraph_add(g, DG_MIGRATION, revs[i], "", DG_APPLIED);
    for (size_t i = 0; i < n; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", deps[i]);
        for (char *t = strtok(buf, " "); t; t = strtok(NULL, " "))
            depgraph_add_edge(g, i, (size_t)depgraph_find(g, DG_MIGRATION, t));
    }
}

#define GOLDEN(g, utf8, newest, want)                                                              \
    do {                                                                                           \
        char *got_ = text_of(g, utf8, newest);                                                     \
        ck_assert_msg(!strcmp(got_, want), "got:\n%s\nwant:\n%s", got_, want);                     \
        free(got_);                                                                                \
    } while (0)

START_TEST(text_chain)
{
    depgraph g;
    const char *revs[] = {"D3", "D1", "D2"}, *deps[] = {"D2", "", "D1"};
    dag_graph(&g, 3, revs, deps);
    GOLDEN(&g, 0, 0,
           "* applied  D1\n"
           "* applied  D2\n"
           "* applied  D3\n");
    depgraph_free(&g);
}
END_TEST

START_TEST(text_diamond)
{
    manifest mf;
    depgraph g;
    load_fixture(&mf, &g, NULL);
    GOLDEN(&g, 0, 0,
           "* applied  D001 Load vocabulary  needs alembic a2\n"
           "|\\\n"
           "| * failed   D002 Load person\n"
           "* | changed  D003 Load visits  needs alembic a5 (not applied)\n"
           "|/\n"
           "* pending  D004 Build eras\n"
           "\n"
           "* pending  D005 <img src=x onerror=alert(1)>\n");
    GOLDEN(&g, 0, 1,
           "* pending  D005 <img src=x onerror=alert(1)>\n"
           "\n"
           "* pending  D004 Build eras\n"
           "|\\\n"
           "| * changed  D003 Load visits  needs alembic a5 (not applied)\n"
           "* | failed   D002 Load person\n"
           "|/\n"
           "* applied  D001 Load vocabulary  needs alembic a2\n");
    GOLDEN(&g, 1, 0,
           "\xe2\x97\x8f applied  D001 Load vocabulary  needs alembic a2\n"
           "\xe2\x94\x82\xe2\x95\xb2\n"
           "\xe2\x94\x82 \xe2\x97\x8f failed   D002 Load person\n"
           "\xe2\x97\x8f \xe2\x94\x82 changed  D003 Load visits  needs alembic a5 (not applied)\n"
           "\xe2\x94\x82\xe2\x95\xb1\n"
           "\xe2\x97\x8f pending  D004 Build eras\n"
           "\n"
           "\xe2\x97\x8f pending  D005 <img src=x onerror=alert(1)>\n");
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(text_two_independent_chains)
{
    depgraph g;
    const char *revs[] = {"A1", "A2", "B1", "B2"}, *deps[] = {"", "A1", "", "B1"};
    dag_graph(&g, 4, revs, deps);
    GOLDEN(&g, 0, 0,
           "* applied  A1\n"
           "* applied  A2\n"
           "\n"
           "* applied  B1\n"
           "* applied  B2\n");
    depgraph_free(&g);
    /* interleaved by natural order: D1 -> D3, D2 -> D4 */
    const char *revs2[] = {"D1", "D2", "D3", "D4"}, *deps2[] = {"", "", "D1", "D2"};
    dag_graph(&g, 4, revs2, deps2);
    GOLDEN(&g, 0, 0,
           "* applied  D1\n"
           "| * applied  D2\n"
           "* | applied  D3\n"
           " /\n"
           "* applied  D4\n");
    depgraph_free(&g);
}
END_TEST

START_TEST(text_node_with_three_parents)
{
    depgraph g;
    const char *revs[] = {"D1", "D2", "D3", "D4"}, *deps[] = {"", "", "", "D1 D2 D3"};
    dag_graph(&g, 4, revs, deps);
    GOLDEN(&g, 0, 0,
           "* applied  D1\n"
           "| * applied  D2\n"
           "| | * applied  D3\n"
           "|/ /\n"
           "|/\n"
           "* applied  D4\n");
    /* newest first, the three are dependencies branching off one by one */
    GOLDEN(&g, 0, 1,
           "* applied  D4\n"
           "|\\\n"
           "| * applied  D3\n"
           "|\\\n"
           "| * applied  D2\n"
           "* applied  D1\n");
    depgraph_free(&g);
}
END_TEST

START_TEST(text_branches_merges_and_shifts)
{
    /* C needs A and B, D needs A, E needs B, F needs C, D and E, G needs A */
    depgraph g;
    const char *revs[] = {"A", "B", "C", "D", "E", "F", "G"};
    const char *deps[] = {"", "", "A B", "A", "B", "C D E", "A"};
    dag_graph(&g, 7, revs, deps);
    GOLDEN(&g, 0, 0,
           "* applied  A\n"
           "| * applied  B\n"
           "|\\|\\\n"
           "| * | applied  C\n"
           "|\\ \\ \\\n"
           "| * | | applied  D\n"
           "| | | * applied  E\n"
           "| |/ /\n"
           "| |/\n"
           "| * applied  F\n"
           "* applied  G\n");
    GOLDEN(&g, 0, 1,
           "* applied  G\n"
           "| * applied  F\n"
           "| |\\\n"
           "| | * applied  E\n"
           "| |\\ \\\n"
           "| | * | applied  D\n"
           "| * | | applied  C\n"
           "| |\\| |\n"
           "| | |\\|\n"
           "| | | * applied  B\n"
           "|/ /\n"
           "|/\n"
           "* applied  A\n");
    depgraph_free(&g);
}
END_TEST

START_TEST(text_escapes_what_a_bundle_wrote)
{
    depgraph g = DEPGRAPH_INIT;
    long m = depgraph_add(&g, DG_MIGRATION, "D1", "clear\x1b[2Jscreen\nforged line \xff", DG_HELD);
    long a = depgraph_add(&g, DG_ALEMBIC, "abc\x1b", NULL, DG_APPLIED);
    depgraph_add_edge(&g, (size_t)m, (size_t)a);
    GOLDEN(&g, 0, 0, "* held     D1 clear\\x1b[2Jscreen\\nforged line \\xff  needs alembic abc\\x1b\n");
    depgraph_free(&g);
}
END_TEST

START_TEST(text_refuses_a_cycle)
{
    depgraph g;
    const char *revs[] = {"D1", "D2"}, *deps[] = {"D2", "D1"};
    dag_graph(&g, 2, revs, deps);
    strvec lines = {0};
    del_err e;
    ck_assert_int_eq(graph_text(&g, NULL, &lines, &e), -1);
    ck_assert_ptr_nonnull(strstr(e.msg, "cycle"));
    ck_assert_int_eq(lines.n, 0);
    depgraph_free(&g);
}
END_TEST

/* ---- the SVG ------------------------------------------------------------- */

/* Render with stderr captured: Graphviz must print nothing. */
static char *svg_of(const depgraph *g, const graph_svg_opts *o)
{
    char errpath[] = "/tmp/delembic-graph-err.XXXXXX";
    int efd = mkstemp(errpath);
    ck_assert_int_ge(efd, 0);
    fflush(stderr);
    int saved = dup(2);
    dup2(efd, 2);
    sbuf svg = {0};
    del_err e;
    int rc = graph_svg(g, o, &svg, &e);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    fstat(efd, &st);
    close(efd);
    unlink(errpath);
    ck_assert_msg(rc == 0, "%s", e.msg);
    ck_assert_msg(st.st_size == 0, "graph_svg wrote %lld bytes to stderr", (long long)st.st_size);
    return svg.s;
}

/* What python3's XML parser makes of an SVG: "ERROR ..." when it is not
 * well-formed or holds anything active; else one line per node group, "node
 * <id> <class> <fill> <stroke> | <title> | <label lines joined by />", and a
 * line "edges <n>". */
static const char *inspect_py =
    "import sys, xml.etree.ElementTree as ET\n"
    "NS = '{http://www.w3.org/2000/svg}'\n"
    "try:\n"
    "    root = ET.parse(sys.argv[1]).getroot()\n"
    "except Exception as e:\n"
    "    print('ERROR not XML:', e); sys.exit(0)\n"
    "for el in root.iter():\n"
    "    tag = el.tag.replace(NS, '')\n"
    "    if tag in ('script', 'a', 'image', 'foreignObject', 'use', 'style', 'iframe', 'img'):\n"
    "        print('ERROR element', tag)\n"
    "    for k, v in el.attrib.items():\n"
    "        k = k.split('}')[-1]\n"
    "        if k.lower().startswith('on') or k == 'href' or 'url(' in v or 'javascript:' in v:\n"
    "            print('ERROR attribute', k, v)\n"
    "edges = 0\n"
    "for g in root.iter(NS + 'g'):\n"
    "    cls = g.get('class', '').split()\n"
    "    if 'edge' in cls: edges += 1\n"
    "    if 'node' not in cls: continue\n"
    "    title = g.find(NS + 'title').text or ''\n"
    "    shape = [c for c in g if c.tag.replace(NS, '') in ('polygon', 'ellipse', 'path')][0]\n"
    "    label = '/'.join((t.text or '') for t in g.iter(NS + 'text'))\n"
    "    print('node', g.get('id'), ' '.join(cls), shape.get('fill'), shape.get('stroke'), '|', title, '|', label)\n"
    "print('edges', edges)\n";

static char *inspect(const char *svg)
{
    char path[] = "/tmp/delembic-graph-svg.XXXXXX", py[] = "/tmp/delembic-graph-py.XXXXXX";
    int fd = mkstemp(path), pfd = mkstemp(py);
    ck_assert(fd >= 0 && pfd >= 0);
    ck_assert_int_eq(write(fd, svg, strlen(svg)), (ssize_t)strlen(svg));
    ck_assert_int_eq(write(pfd, inspect_py, strlen(inspect_py)), (ssize_t)strlen(inspect_py));
    close(fd);
    close(pfd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "python3 %s %s", py, path);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    sbuf out = {0};
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0)
        sbuf_add(&out, buf, n);
    ck_assert_int_eq(pclose(p), 0);
    unlink(path);
    unlink(py);
    ck_assert_ptr_nonnull(out.s);
    ck_assert_msg(!strstr(out.s, "ERROR"), "%s", out.s);
    return out.s;
}

static const char *line_of(const char *report, const char *id)
{
    char needle[256];
    snprintf(needle, sizeof needle, "node %s ", id);
    const char *l = strstr(report, needle);
    ck_assert_msg(l != NULL, "no node %s in:\n%s", id, report);
    return l;
}

/* the line of node id in report has text (before its end of line) */
static int line_has(const char *report, const char *id, const char *text)
{
    const char *l = line_of(report, id), *e = strchr(l, '\n');
    char *line = xstrndup(l, e ? (size_t)(e - l) : strlen(l));
    int has = strstr(line, text) != NULL;
    free(line);
    return has;
}

START_TEST(svg_is_xml_with_every_revision_and_its_status)
{
    manifest mf;
    depgraph g;
    load_fixture(&mf, &g, NULL);
    char *svg = svg_of(&g, NULL);
    ck_assert_msg(!strncmp(svg, "<svg", 4), "starts with %.40s", svg);
    ck_assert_ptr_null(strstr(svg, "<?xml"));
    ck_assert_ptr_null(strstr(svg, "<!DOCTYPE"));
    ck_assert_ptr_null(strstr(svg, "<!--"));
    char *r = inspect(svg);
    const char *ids[] = {"a-a1", "a-a2", "a-a3", "a-a4", "a-a5", "m-D001", "m-D002", "m-D003", "m-D004", "m-D005"};
    for (size_t i = 0; i < 10; i++)
        line_of(r, ids[i]);
    ck_assert(line_has(r, "m-D001", "node migration status-applied #d5f0e5 #009e73"));
    ck_assert(line_has(r, "m-D002", "node migration status-failed #f8d3bf #d55e00"));
    ck_assert(line_has(r, "m-D003", "node migration status-changed #fbe6b8 #b57d00"));
    ck_assert(line_has(r, "m-D004", "node migration status-pending #ffffff #595959"));
    ck_assert(line_has(r, "a-a5", "node alembic status-pending"));
    ck_assert(line_has(r, "a-a1", "node alembic status-applied #d5f0e5 #009e73"));
    /* titles carry the whole description, labels the revision and status in words */
    ck_assert(line_has(r, "m-D002", "| D002 (failed): Load person | D002 \xc2\xb7 failed/Load person"));
    ck_assert(line_has(r, "a-a4", "| Alembic a4 (applied) | a4 \xc2\xb7 applied"));
    ck_assert_ptr_nonnull(strstr(r, "edges 11\n"));
    /* the clusters */
    ck_assert_ptr_nonnull(strstr(svg, "<title>Alembic revisions (schema)</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>Delembic migrations (data)</title>"));
    ck_assert_ptr_nonnull(strstr(svg, "<title>D003 needs Alembic a5</title>"));
    /* the same graph gives the same bytes, whatever ran before and
     * wherever malloc puts things */
    void *hold[64];
    for (size_t i = 0; i < 64; i++)
        hold[i] = xmalloc(1 + (i * 37) % 200);
    depgraph other;
    chain_graph(&other, 40, ",M3,");
    char *junk = svg_of(&other, NULL);
    depgraph_free(&other);
    for (size_t i = 0; i < 64; i += 2)
        free(hold[i]);
    char *again = svg_of(&g, NULL);
    for (size_t i = 1; i < 64; i += 2)
        free(hold[i]);
    free(junk);
    ck_assert_msg(!strcmp(svg, again), "two renderings of one graph differ");
    free(again);
    free(r);
    free(svg);
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(svg_shows_hostile_text_as_text)
{
    depgraph g = DEPGRAPH_INIT;
    /* descriptions and revisions come from bundles */
    depgraph_add(&g, DG_MIGRATION, "D1", "<img src=x onerror=alert(1)>", DG_FAILED);
    depgraph_add(&g, DG_MIGRATION, "D2", "\"><script>alert(1)</script><!-- --> & &lt; \\N \\G \\n x", DG_APPLIED);
    depgraph_add(&g, DG_MIGRATION, "<svg/onload=alert(1)>&\"'", "esc\x1b[31m bad\xff\xfe nonchar\xef\xbf\xbe", DG_RUNNING);
    depgraph_add_edge(&g, 1, 0);
    depgraph_add_edge(&g, 2, 1);
    graph_svg_opts o = GRAPH_SVG_OPTS_INIT;
    o.label_max = 100;
    char *svg = svg_of(&g, &o);
    char *r = inspect(svg); /* fails on any element or attribute that would act */
    ck_assert(line_has(r, "m-D1", "| D1 (failed): <img src=x onerror=alert(1)> | D1 \xc2\xb7 failed/<img src=x onerror=alert(1)>"));
    ck_assert(line_has(r, "m-D2", "| D2 (applied): \"><script>alert(1)</script><!-- --> & &lt; \\N \\G \\n x |"));
    ck_assert(line_has(r, "m-D2", "/\"><script>alert(1)</script><!-- --> & &lt; \\N \\G \\n x"));
    /* the odd revision: an id of safe characters, its text escaped */
    const char *odd = "m-.3csvg.2fonload.3dalert.281.29.3e.26.22.27";
    ck_assert(line_has(r, odd, "(running): esc\\x1b[31m bad\\xff\\xfe nonchar\\ufffe |"));
    ck_assert(line_has(r, odd, "| <svg/onload=alert(1)>&\"' \xc2\xb7 running/"));
    ck_assert_ptr_null(strstr(svg, "<img"));
    ck_assert_ptr_null(strstr(svg, "<script"));
    free(r);
    free(svg);
    depgraph_free(&g);
}
END_TEST

START_TEST(svg_ids_are_injective_and_safe)
{
    depgraph g = DEPGRAPH_INIT;
    const char *revs[] = {"a.b", "a_2eb", "a-b", "D\xc3\xa9", "x"};
    for (int i = 0; i < 5; i++)
        depgraph_add(&g, DG_MIGRATION, revs[i], NULL, DG_PENDING);
    depgraph_add(&g, DG_ALEMBIC, "x", NULL, DG_APPLIED);
    const char *want[] = {"m-a.2eb", "m-a_2eb", "m-a-b", "m-D.c3.a9", "m-x", "a-x"};
    for (size_t i = 0; i < 6; i++) {
        sbuf b = {0};
        graph_svg_node_id(&g, i, &b);
        ck_assert_str_eq(b.s, want[i]);
        sbuf_free(&b);
    }
    char *svg = svg_of(&g, NULL);
    char *r = inspect(svg);
    for (size_t i = 0; i < 6; i++)
        line_of(r, want[i]);
    free(r);
    free(svg);
    depgraph_free(&g);
}
END_TEST

START_TEST(svg_collapses_long_runs_and_lists_them)
{
    depgraph g;
    chain_graph(&g, 30, ",M30,");
    graph_svg_opts o = GRAPH_SVG_OPTS_INIT;
    o.collapse_over = 5;
    char *svg = svg_of(&g, &o);
    char *r = inspect(svg);
    /* M1..M29 applied: M1, then M2..M28 as one node, then M29; M30 pending */
    line_of(r, "m-M1");
    line_of(r, "m-M29");
    line_of(r, "m-M30");
    ck_assert_ptr_null(strstr(r, "node m-M2 "));
    ck_assert_ptr_null(strstr(r, "node m-M15 "));
    ck_assert(line_has(r, "chain-m-M2", "node migration collapsed status-applied"));
    ck_assert(line_has(r, "chain-m-M2", "| 27 migrations (applied): M2, M3, M4, M5, M6, M7, M8, M9, M10, "
                                        "M11, M12, M13, M14, M15, M16, M17, M18, M19, M20, M21, M22, M23, "
                                        "M24, M25, M26, M27, M28 |"));
    ck_assert(line_has(r, "chain-m-M2", "27 migrations \xc2\xb7 applied/M2 \xe2\x80\xa6 M28"));
    ck_assert_ptr_nonnull(strstr(r, "edges 3\n"));
    free(r);
    free(svg);
    /* 0: nothing collapsed */
    o.collapse_over = 0;
    svg = svg_of(&g, &o);
    r = inspect(svg);
    line_of(r, "m-M15");
    ck_assert_ptr_nonnull(strstr(r, "edges 29\n"));
    free(r);
    free(svg);
    depgraph_free(&g);
}
END_TEST

START_TEST(svg_standalone_and_left_to_right)
{
    manifest mf;
    depgraph g;
    load_fixture(&mf, &g, NULL);
    graph_svg_opts o = GRAPH_SVG_OPTS_INIT;
    o.standalone = 1;
    o.left_to_right = 1;
    o.label_max = 4;
    char *svg = svg_of(&g, &o);
    ck_assert(!strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg", 43));
    ck_assert_ptr_null(strstr(svg, "<!DOCTYPE"));
    char *r = inspect(svg);
    /* labels cut at 4 characters, titles whole */
    ck_assert(line_has(r, "m-D002", "| D002 (failed): Load person | D002 \xc2\xb7 failed/Load\xe2\x80\xa6"));
    free(r);
    free(svg);
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

START_TEST(svg_in_process_is_the_same)
{
    /* one kind of node: no clusters, whose layout leaks in Graphviz 2.42 */
    depgraph g;
    chain_graph(&g, 20, ",M20,");
    graph_svg_opts o = GRAPH_SVG_OPTS_INIT;
    o.collapse_over = 4;
    char *child = svg_of(&g, &o);
    o.in_process = 1;
    char *here = svg_of(&g, &o);
    ck_assert_msg(!strcmp(child, here), "the SVG made here differs from the child's");
    ck_assert_ptr_null(strstr(here, "cluster"));
    free(child);
    free(here);
    depgraph_free(&g);
}
END_TEST

START_TEST(svg_of_an_empty_graph)
{
    depgraph g = DEPGRAPH_INIT;
    char *svg = svg_of(&g, NULL);
    char *r = inspect(svg);
    ck_assert_str_eq(r, "edges 0\n");
    free(r);
    free(svg);
}
END_TEST

START_TEST(dot_text_reads_back_with_the_same_graph)
{
    manifest mf;
    depgraph g;
    load_fixture(&mf, &g, NULL);
    sbuf dot = {0};
    del_err e;
    ck_assert_msg(graph_dot(&g, NULL, &dot, &e) == 0, "%s", e.msg);
    ck_assert_ptr_nonnull(strstr(dot.s, "subgraph cluster_alembic"));
    ck_assert_ptr_nonnull(strstr(dot.s, "fillcolor=\"#f8d3bf\""));
    ck_assert_ptr_nonnull(strstr(dot.s, "Load person"));
    Agraph_t *back = agmemread(dot.s);
    ck_assert_ptr_nonnull(back);
    ck_assert_int_eq(agnnodes(back), 10);
    ck_assert_int_eq(agnedges(back), 11);
    Agnode_t *n = agnode(back, (char *)"m-D005", 0);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(agget(n, (char *)"label"), "D005 \xc2\xb7 pending\\n<img src=x onerror=alert(1)>");
    ck_assert_str_eq(agget(n, (char *)"tooltip"), "D005 (pending): <img src=x onerror=alert(1)>");
    agclose(back);
    sbuf_free(&dot);
    depgraph_free(&g);
    manifest_free(&mf);
}
END_TEST

Suite *make_suite(void)
{
    Suite *s = suite_create("graph");
    TCase *m = tcase_create("model");
    ADD(m, model_has_every_revision_in_stable_order);
    ADD(m, model_edges_diamond_merge_and_old_ancestor);
    ADD(m, model_without_statuses_is_unknown);
    ADD(m, model_alembic_need_outside_the_graph_is_a_node);
    ADD(m, model_refuses_a_cycle_naming_it);
    ADD(m, model_add_refuses_duplicates_and_bad_edges);
    ADD(m, status_names_round_trip);
    ADD(m, chains_are_runs_of_one_status_without_branches);
    suite_add_tcase(s, m);
    TCase *t = tcase_create("text");
    ADD(t, text_chain);
    ADD(t, text_diamond);
    ADD(t, text_two_independent_chains);
    ADD(t, text_node_with_three_parents);
    ADD(t, text_branches_merges_and_shifts);
    ADD(t, text_escapes_what_a_bundle_wrote);
    ADD(t, text_refuses_a_cycle);
    suite_add_tcase(s, t);
    TCase *v = tcase_create("svg");
    ADD(v, svg_is_xml_with_every_revision_and_its_status);
    ADD(v, svg_shows_hostile_text_as_text);
    ADD(v, svg_ids_are_injective_and_safe);
    ADD(v, svg_collapses_long_runs_and_lists_them);
    ADD(v, svg_standalone_and_left_to_right);
    ADD(v, svg_in_process_is_the_same);
    ADD(v, svg_of_an_empty_graph);
    ADD(v, dot_text_reads_back_with_the_same_graph);
    suite_add_tcase(s, v);
    return s;
}
