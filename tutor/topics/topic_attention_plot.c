/* topic_attention_plot.c: the attention family's figures.
 *   matrices:    the attention matrix of every variant on one input, side by side (each
 *                variant run through the topic itself, so files and options work);
 *   time:        running time against n for softmax (O(n^2 d)), linear (O(n d^2)) and
 *                FLASH's mixed chunks (O(n c d)), where the lines cross;
 *   performer:   FAVOR+'s error against the number of random features m;
 *   dilution:    how much of each row's attention stays local, for softmax, linear and
 *                TransNormer's DiagAttention, on inputs with positional structure. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/attention.h"
#include "../../models/attn_gau.h"
#include "../../models/attn_linear.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "plot.h"

#define NVARIANTS 8
static const char *const variants[NVARIANTS] = {"softmax", "sparse",      "linear", "performer",
                                                "gau",     "transnormer", "flash",  "diag"};

/* Options only some variants accept: dropped when the figure runs every variant. */
static const char *const variant_opts[] = {"variant",     "features", "m",       "pattern",
                                           "stride",      "block",    "summary", "chunk",
                                           "feature-map", "X",        NULL};

static int fail(char *err, size_t errlen, int rc)
{
    if (rc == TUTOR_ENOMEM)
        snprintf(err, errlen, "out of memory");
    return rc;
}

/* The variant's attention matrix from its traced run: A (the approximated or implied
 * matrix) when recorded, else P; square only. */
static const trace_snap *attention_matrix(const trace *tr)
{
    size_t len = trace_len(tr);
    if (!len)
        return NULL;
    const trace_snap *s = trace_latest(tr, len - 1, "A");
    if (!s || s->rows != s->cols || !s->reals)
        s = trace_latest(tr, len - 1, "P");
    return s && s->rows == s->cols && s->reals ? s : NULL;
}

static int matrices_figure(fig_ctx *c, const plot_request *req, char *err, size_t errlen)
{
    topic_args base = {0}, args = {0};
    trace *traces[NVARIANTS] = {0};
    const trace_snap *mats[NVARIANTS] = {0};
    int rc = plot_args_without(&base, req->args, variant_opts);
    topic_opt *opts = rc ? NULL : mem_calloc(base.n + 1, sizeof *opts);
    if (!opts) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    memcpy(opts, base.opts, base.n * sizeof *opts);
    args.opts = opts;
    args.n = base.n + 1;
    args.seed = base.seed;
    size_t shown = 0;
    for (int v = 0; v < NVARIANTS; v++) {
        opts[base.n] = (topic_opt){"variant", variants[v]};
        rc = plot_run(req, &args, &traces[v], err, errlen);
        if (rc)
            goto out;
        mats[v] = attention_matrix(traces[v]);
        shown += mats[v] != NULL;
    }
    if (!shown) {
        snprintf(err, errlen,
                 "--n: the attention matrices are recorded only up to %zu x %zu; "
                 "use a smaller n for this figure",
                 (size_t)sqrt((double)ATTN_TRACE_MAX_CELLS),
                 (size_t)sqrt((double)ATTN_TRACE_MAX_CELLS));
        rc = TUTOR_ETOOBIG;
        goto out;
    }
    gp g;
    if (fig_begin(c, &g, NULL))
        goto out;
    fig_multiplot(c, &g, 2, 4,
                  "Attention matrices of every variant on one input (row i: query, column j: "
                  "key; each panel on its own scale)");
    gp_raw(&g, "unset colorbox\nset grid noxtics noytics\nset bmargin 2\n"
               "set lmargin 4\nset rmargin 1\nunset key\nunset xlabel\nunset ylabel\n"
               "set format x \"\"\nset format y \"\"\n");
    fig_palette(&g, 0, 0);
    for (int v = 0; v < NVARIANTS; v++) {
        const trace_snap *m = mats[v];
        gp_raw(&g, "set title ");
        gp_text(&g, variants[v]);
        gp_raw(&g, "\n");
        if (!m) {
            gp_raw(&g, "set label 901 \"(not recorded)\" at graph 0.5, 0.5 center\n"
                       "plot [0:1][0:1] -1 notitle\nunset label 901\n");
            continue;
        }
        char block[16];
        snprintf(block, sizeof block, "M%d", v);
        gp_data_matrix(&g, block, m->reals, m->rows, m->cols);
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < m->rows * m->cols; i++)
            if (isfinite(m->reals[i])) {
                lo = m->reals[i] < lo ? m->reals[i] : lo;
                hi = m->reals[i] > hi ? m->reals[i] : hi;
            }
        if (!isfinite(lo))
            lo = 0, hi = 1;
        gp_raw(&g,
               "set xrange [-0.5:%zu.5]\nset yrange [%zu.5:-0.5]\nset cbrange [%.10g:%.10g]\nplot ",
               m->cols - 1, m->rows - 1, lo, hi > lo ? hi : lo + 1);
        fig_image(&g, block, lo, hi);
        gp_raw(&g, "\n");
    }
    gp_raw(&g, "unset multiplot\n");
    fig_end(c, &g, "matrices");
out:
    for (int v = 0; v < NVARIANTS; v++)
        trace_free(traces[v]);
    mem_free(opts);
    mem_free((void *)base.opts);
    return fail(err, errlen, rc);
}

static void gaussian(double *x, size_t len, rng *r)
{
    for (size_t i = 0; i < len; i++)
        x[i] = rng_gauss(r);
}

/* Best of a few runs of one variant at size n, in ms; negative on error. */
static double time_variant(int which, double *o, const double *q, const double *k, const double *v,
                           size_t n, size_t d, size_t chunk)
{
    double best = INFINITY;
    int reps = n <= 256 ? 5 : 2;
    for (int rep = 0; rep < reps; rep++) {
        double t0 = plot_now_ms();
        int rc = which == 0   ? attn_softmax(o, q, k, v, n, d, d, 0, NULL)
                 : which == 1 ? attn_linear(o, q, k, v, n, d, d, ATTN_ELU1, 0, NULL)
                              : attn_flash_core(o, q, k, v, NULL, NULL, n, d, d, chunk, 0, NULL);
        double t = plot_now_ms() - t0;
        if (rc)
            return rc;
        best = t < best ? t : best;
    }
    return best;
}

enum { TIME_LOG_MIN = 5, TIME_LOG_MAX = 11, TIME_D = 64, CHUNK = 64 };

static int time_figure(fig_ctx *c, uint64_t seed, char *err, size_t errlen)
{
    enum { POINTS = TIME_LOG_MAX - TIME_LOG_MIN + 1 };
    size_t nmax = (size_t)1 << TIME_LOG_MAX, d = TIME_D;
    double *buf = mem_alloc(4 * nmax * d * sizeof *buf);
    if (!buf)
        return fail(err, errlen, TUTOR_ENOMEM);
    double *q = buf, *k = q + nmax * d, *v = k + nmax * d, *o = v + nmax * d;
    rng r;
    rng_seed(&r, seed);
    gaussian(buf, 3 * nmax * d, &r);
    double ns[POINTS], t[3][POINTS];
    int rc = 0;
    for (int p = 0; p < POINTS && !rc; p++) {
        size_t n = (size_t)1 << (TIME_LOG_MIN + p);
        ns[p] = (double)n;
        for (int w = 0; w < 3 && !rc; w++) {
            t[w][p] = time_variant(w, o, q, k, v, n, d, CHUNK < n ? CHUNK : n);
            if (t[w][p] < 0)
                rc = (int)t[w][p];
        }
    }
    mem_free(buf);
    if (rc)
        return fail(err, errlen, rc);
    fig_series s[] = {
        {"softmax, O(n^2 d)", ns, t[0], POINTS, NULL, 0, 0},
        {"linear (elu + 1), O(n d^2)", ns, t[1], POINTS, NULL, 1, 0},
        {"FLASH mixed chunks (c = 64), O(n c d)", ns, t[2], POINTS, NULL, 2, 0},
    };
    fig_lines(c, "time", "Attention: running time against n (d = d_v = 64, non-causal)",
              "n (tokens)", "time per call (ms)", s, 3, FIG_LOGX | FIG_LOGY);
    return 0;
}

enum { PERF_N = 64, PERF_D = 16, PERF_DRAWS = 5, PERF_LOG_MIN = 2, PERF_LOG_MAX = 10 };

static int performer_figure(fig_ctx *c, uint64_t seed, char *err, size_t errlen)
{
    enum { POINTS = PERF_LOG_MAX - PERF_LOG_MIN + 1 };
    size_t n = PERF_N, d = PERF_D, mmax = (size_t)1 << PERF_LOG_MAX;
    double *buf = mem_alloc((2 * n * d + 2 * n * n + mmax * d) * sizeof *buf);
    if (!buf)
        return fail(err, errlen, TUTOR_ENOMEM);
    double *q = buf, *k = q + n * d, *exact = k + n * d, *approx = exact + n * n;
    double *w = approx + n * n;
    rng r;
    rng_seed(&r, seed);
    /* Scaled down so the softmax is not nearly one-hot: random features approximate a
     * kernel whose values spread over many keys best, as in the paper's experiments. */
    gaussian(q, 2 * n * d, &r);
    for (size_t i = 0; i < 2 * n * d; i++)
        q[i] *= 0.5;
    int rc = attn_softmax_probs(exact, q, k, n, d, 0);
    double norm = 0;
    for (size_t i = 0; i < n * n; i++)
        norm += exact[i] * exact[i];
    norm = sqrt(norm);
    double ms[POINTS], error[POINTS], ref[POINTS];
    for (int p = 0; p < POINTS && !rc; p++) {
        size_t m = (size_t)1 << (PERF_LOG_MIN + p);
        double sum = 0;
        for (int draw = 0; draw < PERF_DRAWS && !rc; draw++) {
            rc = attn_orf(w, m, d, &r);
            if (!rc)
                rc = attn_performer_probs(approx, q, k, w, n, d, m, 0);
            double e = 0;
            for (size_t i = 0; i < n * n; i++)
                e += (approx[i] - exact[i]) * (approx[i] - exact[i]);
            sum += sqrt(e) / norm;
        }
        ms[p] = (double)m;
        error[p] = sum / PERF_DRAWS;
    }
    for (int p = 0; p < POINTS; p++)
        ref[p] = error[0] * sqrt(ms[0] / ms[p]);
    mem_free(buf);
    if (rc)
        return fail(err, errlen, rc);
    fig_series s[] = {
        {"FAVOR+ (orthogonal random features), mean of 5 draws", ms, error, POINTS, NULL, 0, 0},
        {"proportional to 1 / sqrt(m)", ms, ref, POINTS, "lines", 7, 1},
    };
    fig_lines(c, "performer",
              "Performer: error of the approximated attention matrix (n = 64, d = 16)",
              "m (random features)", "relative error ||A - P||_F / ||P||_F", s, 2,
              FIG_LOGX | FIG_LOGY | FIG_KEY_BOTTOM);
    return 0;
}

enum { DIL_N = 128, DIL_D = 32, DIL_RADIUS = 8, DIL_BLOCK = 16 };

static int dilution_figure(fig_ctx *c, char *err, size_t errlen)
{
    size_t n = DIL_N, d = DIL_D;
    double *buf = mem_alloc((n * d + 3 * n * n + 3 * n) * sizeof *buf);
    if (!buf)
        return fail(err, errlen, TUTOR_ENOMEM);
    double *x = buf, *p = x + n * d, *lin = p + n * n, *diag = lin + n * n;
    double *mass = diag + n * n;
    /* Sinusoidal positions (Vaswani et al.) as both queries and keys: q_i . k_j depends on
     * i - j only and peaks at i = j, the locality trained models show, which linear
     * attention's kernel spreads out. Scaled so softmax's 1/sqrt(d) leaves a clear peak. */
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d / 2; t++) {
            double freq = pow(1000.0, -2.0 * (double)t / (double)d);
            x[i * d + 2 * t] = 2.0 * sin((double)i * freq);
            x[i * d + 2 * t + 1] = 2.0 * cos((double)i * freq);
        }
    int rc = attn_softmax_probs(p, x, x, n, d, 0);
    if (!rc)
        rc = attn_linear_probs(lin, x, x, n, d, ATTN_ELU1, 0);
    if (!rc)
        rc = attn_diag_probs(diag, x, x, n, d, DIL_BLOCK, 0);
    if (!rc) {
        attn_dilution(mass, p, n, DIL_RADIUS);
        attn_dilution(mass + n, lin, n, DIL_RADIUS);
        attn_dilution(mass + 2 * n, diag, n, DIL_RADIUS);
    }
    double rows[DIL_N];
    for (size_t i = 0; i < n; i++)
        rows[i] = (double)i;
    if (!rc) {
        fig_series s[] = {
            {"softmax", rows, mass, n, "lines", 0, 0},
            {"linear (elu + 1)", rows, mass + n, n, "lines", 1, 0},
            {"TransNormer DiagAttention (blocks of 16)", rows, mass + 2 * n, n, "lines", 2, 0},
        };
        fig_lines(c, "dilution",
                  "Attention dilution: share of each row's attention within 8 tokens "
                  "(sinusoidal positions, n = 128)",
                  "query position i", "local attention mass (0 to 1)", s, 3, FIG_KEY_CENTER);
    }
    mem_free(buf);
    return fail(err, errlen, rc);
}

int topic_attention_plot(const plot_request *req, strbuf *out, char *err, size_t errlen)
{
    int rc = plot_check(req, err, errlen);
    if (rc)
        return rc;
    fig_ctx c;
    strbuf caption = STRBUF_INIT;
    if (plot_ctx(&c, req, out, &caption)) {
        strbuf_free(&caption);
        return fail(err, errlen, TUTOR_ENOMEM);
    }
    rc = matrices_figure(&c, req, err, errlen);
    if (!rc)
        rc = time_figure(&c, req->args->seed, err, errlen);
    if (!rc)
        rc = performer_figure(&c, req->args->seed, err, errlen);
    if (!rc)
        rc = dilution_figure(&c, err, errlen);
    if (!rc)
        rc = fig_result(&c, err, errlen);
    strbuf_free(&caption);
    return rc;
}
