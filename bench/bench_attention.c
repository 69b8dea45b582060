/* bench_attention.c: attention at d = 64 against numpy, and where the linear-time forms
 * overtake softmax.
 *
 * Inputs: q, k, v with N(0, 1) entries, (n, 64) each, from one seed; the first n rows serve
 * every size. numpy runs on the same OpenBLAS as ours (Debian's libblas.so.3 alternative),
 * with the same thread count (OPENBLAS_NUM_THREADS, inherited by the child). Each peer
 * writes its output back and the harness checks it against ours. */
#include <math.h>
#include <stdint.h>

#include "../models/attention.h"
#include "../models/attn_gau.h"
#include "../models/attn_linear.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "bench.h"

#define D        64
#define SOFTMAX  4096
#define LINEAR   65536
#define CHUNK    256
#define PY_CHUNK 64

typedef struct run {
    double *o;
    const double *q, *k, *v;
    size_t n;
    int causal;
} run;

static int ours_softmax(void *vctx)
{
    run *r = vctx;
    return attn_softmax(r->o, r->q, r->k, r->v, r->n, D, D, r->causal, NULL);
}

static int ours_linear(void *vctx)
{
    run *r = vctx;
    return attn_linear(r->o, r->q, r->k, r->v, r->n, D, D, ATTN_ELU1, r->causal, NULL);
}

static int ours_flash(void *vctx)
{
    run *r = vctx;
    return attn_flash_core(r->o, r->q, r->k, r->v, NULL, NULL, r->n, D, D, CHUNK, r->causal, NULL);
}

/* Runs the numpy peer pycase on the first n rows and checks its output against ours (o).
 * Fills row->peer_t and row->note. check holds room for n * D doubles. */
static void numpy_row(bench_row *row, const char *pycase, const run *r, double *check,
                      const char *extra)
{
    size_t bytes = r->n * D * sizeof(double);
    const void *parts[] = {r->q, r->k, r->v};
    size_t sizes[] = {bytes, bytes, bytes};
    char *in = bench_tmp_write(parts, sizes, 3);
    char *out = bench_tmp_new();
    char nbuf[24], dbuf[8];
    snprintf(nbuf, sizeof nbuf, "%zu", r->n);
    snprintf(dbuf, sizeof dbuf, "%d", D);
    const char *args[] = {nbuf, dbuf, extra};
    bench_py py;
    static char note[176];
    bench_python(&py, pycase, in, out, 3, args, extra ? 3 : 2);
    row->peer_t = py.t;
    row->note = NULL;
    if (!py.t.n) {
        snprintf(note, sizeof note, "%.160s", py.note);
        row->note = note;
    } else if (!out || bench_read_doubles(check, r->n * D, out) != 0) {
        row->note = "no output to check";
    } else {
        double diff = bench_rel_diff(r->o, check, r->n * D);
        if (!(diff < 1e-8)) {
            snprintf(note, sizeof note, "ANSWERS DIFFER (relative %.1e)", diff);
            row->note = note;
        }
    }
    bench_tmp_drop(in);
    bench_tmp_drop(out);
}

int bench_case_attention(void)
{
    if (bench_skip_case("attention"))
        return 0;
    size_t cells = (size_t)LINEAR * D;
    double *q = mem_alloc(cells * sizeof *q), *k = mem_alloc(cells * sizeof *k);
    double *v = mem_alloc(cells * sizeof *v), *o = mem_alloc(cells * sizeof *o);
    double *check = mem_alloc(cells * sizeof *check);
    if (!q || !k || !v || !o || !check) {
        mem_free(q);
        mem_free(k);
        mem_free(v);
        mem_free(o);
        mem_free(check);
        return 1;
    }
    rng r;
    rng_seed(&r, 64);
    for (size_t i = 0; i < cells; i++) {
        q[i] = rng_gauss(&r);
        k[i] = rng_gauss(&r);
        v[i] = rng_gauss(&r);
    }

    bench_begin("attention", "d = 64: softmax and causal linear against numpy; the crossover");
    char label[32];
    run ctx = {o, q, k, v, SOFTMAX, 0};
    bench_row row = {.size = "n=4096", .n = SOFTMAX, .ours = "attn_softmax"};
    row.peer = "numpy softmax";
    row.need = 1;
    row.target = ">= 1 (no slower)";
    row.why = "profile: two 4096 x 4096 x 64 dgemm, the same OpenBLAS as numpy's, are most of "
              "either side; the Python peer is not alternated with ours (compare the minima)";
    if (bench_time(&row.ours_t, ours_softmax, &ctx, 5) == 0) {
        numpy_row(&row, "softmax", &ctx, check, NULL);
        bench_report(&row);
    }

    ctx.n = LINEAR;
    ctx.causal = 1;
    snprintf(label, sizeof label, "n=%d", LINEAR);
    bench_row lin = {.size = label, .n = LINEAR, .ours = "attn_linear causal"};
    lin.peer = "numpy cumsum";
    lin.need = 3;
    lin.target = ">= 3 (3x faster)";
    lin.why = "cost (not profiled this round): the d x d state's update and read per row "
              "(2 d^2 multiply-adds); the Python peer is not alternated with ours";
    char extra[16];
    snprintf(extra, sizeof extra, "%d", PY_CHUNK);
    if (bench_time(&lin.ours_t, ours_linear, &ctx, 5) == 0) {
        numpy_row(&lin, "linear", &ctx, check, extra);
        bench_report(&lin);
    }

    /* The sweep, all causal (the autoregressive setting where the linear forms matter):
     * softmax O(n^2 d), FLASH O(n c d + n d^2), linear O(n d^2). */
    static const size_t sizes[] = {128, 256, 512, 1024, 2048, 4096, 8192};
    size_t ns = sizeof sizes / sizeof sizes[0];
    size_t flash_from = ns, linear_from = ns;
    for (size_t i = 0; i < ns; i++) {
        run sw = {o, q, k, v, sizes[i], 1};
        snprintf(label, sizeof label, "n=%zu", sizes[i]);
        bench_row fr = {.size = label, .n = (double)sizes[i], .peer = "softmax causal"};
        fr.ours = "flash c=256";
        int flash_wins = 0, linear_wins = 0;
        if (bench_time_pair(&fr.ours_t, ours_flash, &sw, &fr.peer_t, ours_softmax, &sw, 3) == 0) {
            bench_report(&fr);
            flash_wins = fr.ours_t.median < fr.peer_t.median;
        }
        fr.ours = "linear causal";
        if (bench_time_pair(&fr.ours_t, ours_linear, &sw, &fr.peer_t, ours_softmax, &sw, 3) == 0) {
            bench_report(&fr);
            linear_wins = fr.ours_t.median < fr.peer_t.median;
        }
        /* The crossover is the first n from which the form keeps winning. */
        if (!flash_wins)
            flash_from = ns;
        else if (flash_from == ns)
            flash_from = i;
        if (!linear_wins)
            linear_from = ns;
        else if (linear_from == ns)
            linear_from = i;
    }
    if (flash_from < ns)
        bench_note("FLASH (c = 256) beats causal softmax from n = %zu on", sizes[flash_from]);
    else
        bench_note("FLASH (c = 256) does not beat causal softmax up to n = %zu", sizes[ns - 1]);
    if (linear_from < ns)
        bench_note("causal linear attention beats causal softmax from n = %zu on",
                   sizes[linear_from]);
    else
        bench_note("causal linear attention does not beat causal softmax up to n = %zu",
                   sizes[ns - 1]);
    mem_free(q);
    mem_free(k);
    mem_free(v);
    mem_free(o);
    mem_free(check);
    return bench_end();
}
