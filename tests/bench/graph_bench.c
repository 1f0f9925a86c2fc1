/* How long the dependency picture takes for a large project. Two shapes:
 *   streams  N migrations in STREAMS streams (each needs the one before it in
 *            its stream; every CROSS_EVERY-th also one of the neighbouring
 *            stream; every ALEMBIC_EVERY-th an Alembic revision, later
 *            migrations later revisions) over an Alembic history of A
 *            revisions (a chain with a two-branch merge every MERGE_EVERY):
 *            few runs without branches, the hard case for the layout;
 *   chain    N migrations in one chain (as tests/bench/run.sh builds), the
 *            first needing the Alembic base, over a chain of A revisions.
 * 95% of the migrations applied, some failed and changed, the rest pending.
 * Prints the time of each step (median of REPEAT runs) and the size of the
 * SVG; it asserts nothing.
 *
 *   build/tests/graph_bench [N [A [REPEAT [SHAPE [out.svg]]]]]
 *                                   (default 1000 300 3 streams) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "depgraph.h"
#include "graph_svg.h"
#include "graph_text.h"
#include "manifest.h"

#define STREAMS 8
#define CROSS_EVERY 10
#define ALEMBIC_EVERY 7
#define MERGE_EVERY 50
#define SHA "5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c5f1c"
#define MAX_REPEAT 99

static void make_manifest(manifest *mf, size_t n, size_t a, int chain)
{
    memset(mf, 0, sizeof *mf);
    mf->format = MANIFEST_FORMAT;
    mf->abi = 1;
    mf->has_alembic = 1;
    mf->path = xstrdup("bench");
    for (size_t i = 0; i < a; i++) {
        char rev[32], down[32];
        snprintf(rev, sizeof rev, "a%04zx", i);
        alnode *nd = algraph_add(&mf->graph, rev);
        if (i > 0) {
            snprintf(down, sizeof down, "a%04zx", i - 1);
            strvec_push(&nd->down, down);
        }
        if (!chain && i >= 2 && i % MERGE_EVERY == 0) { /* a merge of a side branch off i - 2 */
            char base[32];
            snprintf(down, sizeof down, "b%04zx", i);
            strvec_push(&nd->down, down);
            snprintf(base, sizeof base, "a%04zx", i - 2);
            alnode *side = algraph_add(&mf->graph, down);
            strvec_push(&side->down, base);
        }
    }
    for (size_t i = 0; i < n; i++) {
        mentry *e = manifest_add(mf);
        e->revision = xasprintf("D%05zu", i + 1);
        e->file = xasprintf("D%05zu.so", i + 1);
        e->sha256 = xstrdup(SHA);
        e->description = xasprintf("Load table %zu of stream %zu from the staging area", i + 1, i % STREAMS);
        if (chain) {
            char dep[32];
            snprintf(dep, sizeof dep, i ? "D%05zu" : "a%04zx", i);
            strvec_push(&e->depends_on, dep);
            if (!i)
                strvec_push(&e->alembic, dep);
            continue;
        }
        if (i >= STREAMS) {
            char dep[32];
            snprintf(dep, sizeof dep, "D%05zu", i + 1 - STREAMS);
            strvec_push(&e->depends_on, dep);
        }
        if (i % CROSS_EVERY == 0 && i >= STREAMS + 1) {
            char dep[32];
            snprintf(dep, sizeof dep, "D%05zu", i - STREAMS + 2);
            strvec_push(&e->depends_on, dep);
        }
        if (a > 0 && i % ALEMBIC_EVERY == 0) {
            char rev[32];
            snprintf(rev, sizeof rev, "a%04zx", i * a / (n ? n : 1));
            strvec_push(&e->depends_on, rev);
            strvec_push(&e->alembic, rev);
        }
    }
}

typedef struct counts {
    size_t n, a;
} counts;

static dg_status status(void *ud, dg_kind kind, const char *rev)
{
    size_t n = ((counts *)ud)->n, a = ((counts *)ud)->a;
    if (kind == DG_ALEMBIC)
        return strtoul(rev + 1, NULL, 16) > a * 97 / 100 ? DG_PENDING : DG_APPLIED;
    size_t i = strtoul(rev + 1, NULL, 10);
    if (i == n * 95 / 100)
        return DG_FAILED;
    if (i % 97 == 0 && i < n * 95 / 100)
        return DG_CHANGED;
    return i < n * 95 / 100 ? DG_APPLIED : DG_PENDING;
}

static int by_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
    size_t a = argc > 2 ? strtoul(argv[2], NULL, 10) : 300;
    int repeat = argc > 3 ? atoi(argv[3]) : 3;
    if (repeat < 1 || repeat > MAX_REPEAT)
        repeat = 3;
    const char *shape = argc > 4 ? argv[4] : "streams";
    int chain = !strcmp(shape, "chain");
    if (!chain && strcmp(shape, "streams")) {
        fprintf(stderr, "graph_bench: shape is streams or chain, not %s\n", shape);
        return 2;
    }
    if (chain && a == 0) {
        fprintf(stderr, "graph_bench: the chain shape needs at least one Alembic revision\n");
        return 2;
    }
    manifest mf;
    make_manifest(&mf, n, a, chain);
    counts c = {n, a};
    double t_model[MAX_REPEAT], t_text[MAX_REPEAT], t_svg[MAX_REPEAT], t_full[MAX_REPEAT];
    size_t svg_len = 0, full_len = 0, lines_n = 0, nodes = 0, edges = 0;
    for (int r = 0; r < repeat; r++) {
        del_err err;
        depgraph g;
        double t0 = monotonic_seconds();
        if (depgraph_from_manifest(&g, &mf, status, &c, &err) != 0) {
            fprintf(stderr, "graph_bench: %s\n", err.msg);
            return 1;
        }
        t_model[r] = monotonic_seconds() - t0;
        nodes = g.n;
        edges = g.nedges;

        strvec lines = {0};
        t0 = monotonic_seconds();
        graph_text(&g, NULL, &lines, &err);
        t_text[r] = monotonic_seconds() - t0;
        lines_n = lines.n;
        strvec_clear(&lines);

        sbuf svg = {0};
        t0 = monotonic_seconds();
        if (graph_svg(&g, NULL, &svg, &err) != 0) {
            fprintf(stderr, "graph_bench: %s\n", err.msg);
            return 1;
        }
        t_svg[r] = monotonic_seconds() - t0;
        svg_len = svg.len;
        if (argc > 5 && r == 0) {
            FILE *f = fopen(argv[5], "w");
            if (f) {
                fwrite(svg.s, 1, svg.len, f);
                fclose(f);
            }
        }
        sbuf_free(&svg);

        /* the same without collapsing runs, when it stays affordable */
        t_full[r] = -1;
        if (n <= 1000) {
            graph_svg_opts o = GRAPH_SVG_OPTS_INIT;
            o.collapse_over = 0;
            t0 = monotonic_seconds();
            if (graph_svg(&g, &o, &svg, &err) != 0) {
                fprintf(stderr, "graph_bench: %s\n", err.msg);
                return 1;
            }
            t_full[r] = monotonic_seconds() - t0;
            full_len = svg.len;
            sbuf_free(&svg);
        }
        depgraph_free(&g);
    }
    printf("%s: %zu migrations and %zu Alembic revisions: %zu nodes, %zu edges (median of %d runs)\n",
           shape, n, mf.graph.n, nodes, edges, repeat);
    printf("  model from the manifest: %.4f s\n", median(t_model, repeat));
    printf("  text graph (%zu lines): %.4f s\n", lines_n, median(t_text, repeat));
    printf("  SVG, runs of more than %d collapsed: %.3f s (%zu bytes)\n", GRAPH_SVG_COLLAPSE_OVER,
           median(t_svg, repeat), svg_len);
    if (t_full[0] >= 0)
        printf("  SVG, nothing collapsed: %.3f s (%zu bytes)\n", median(t_full, repeat), full_len);
    manifest_free(&mf);
    return 0;
}
