/* Tests of early fusion (models/qknorm, models/fusion): QK-Norm's scale invariance, the
 * multi-head attention and block against their slow forms and hand-worked cases, H = 1
 * without QK-Norm = the attention topic's softmax, logit growth (g^2 without QK-Norm,
 * bounded with it), z-loss and softmax's translation invariance, image-only generation that
 * never emits a text token, the demo, validation, traces and allocation failures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/attention.h"
#include "../models/fusion.h"
#include "../models/mat.h"
#include "../models/qknorm.h"
#include "../models/vq.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

/* Fast and slow forms sum in different orders (BLAS blocking): they agree to rounding,
 * ~1e-15 per term; 1e-10 relative to the result's scale is far above that and far below
 * any real bug. */
#define TOL_EXACT 1e-10

static double *rand_mat(rng *r, size_t rows, size_t cols, double scale)
{
    double *a = mat_new(rows, cols);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mat_gauss(a, rows * cols, r, scale);
    return a;
}

/* max |a - b| / max(1, max |b|), with equal infinities counting as equal. */
static double rel_err(const double *a, const double *b, size_t count)
{
    double scale = 1.0, e = 0.0;
    for (size_t i = 0; i < count; i++)
        if (isfinite(b[i]))
            scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    for (size_t i = 0; i < count; i++) {
        if (a[i] == b[i])
            continue;
        double t = fabs(a[i] - b[i]);
        e = isnan(t) ? INFINITY : t > e ? t : e;
    }
    return e / scale;
}

static int close_to(const double *a, const double *b, size_t count, double tol, const char *what)
{
    double e = rel_err(a, b, count);
    if (!(e <= tol)) {
        fprintf(stderr, "\n  %s: error %.3g > %.3g\n", what, e, tol);
        return 0;
    }
    return 1;
}

/* A random attention case: sizes from r, q, k, v, gains (or NULL), outputs. */
typedef struct mcase {
    qknorm_cfg c;
    double *q, *k, *v, *gains; /* gains: q_gain, q_bias, k_gain, k_bias (4 d) */
    double *o1, *o2, *l1, *l2, *e1, *e2;
} mcase;

static void mcase_new(mcase *m, rng *r, double scale)
{
    memset(m, 0, sizeof *m);
    size_t heads = (size_t)rng_range(r, 1, 4), dh = (size_t)rng_range(r, 1, 5);
    size_t n = (size_t)rng_range(r, 1, 12), d = heads * dh;
    m->c = (qknorm_cfg){.n = n, .d = d, .heads = heads};
    m->c.causal = (int)rng_range(r, 0, 1);
    m->c.qk_norm = (int)rng_range(r, 0, 1);
    m->q = rand_mat(r, n, d, scale);
    m->k = rand_mat(r, n, d, scale);
    m->v = rand_mat(r, n, d, 1.0);
    if (rng_range(r, 0, 1)) {
        m->gains = rand_mat(r, 4, d, 0.5);
        for (size_t t = 0; t < d; t++) {
            m->gains[t] += 1.0;
            m->gains[2 * d + t] += 1.0;
        }
        m->c.q_gain = m->gains;
        m->c.q_bias = m->gains + d;
        m->c.k_gain = m->gains + 2 * d;
        m->c.k_bias = m->gains + 3 * d;
    }
    m->o1 = mat_new(n, d);
    m->o2 = mat_new(n, d);
    m->l1 = mat_new(heads * n, n);
    m->l2 = mat_new(heads * n, n);
    m->e1 = mat_new(heads, n);
    m->e2 = mat_new(heads, n);
    CU_ASSERT_FATAL(m->o1 && m->o2 && m->l1 && m->l2 && m->e1 && m->e2);
}

static void mcase_free(mcase *m)
{
    double *all[] = {m->q, m->k, m->v, m->gains, m->o1, m->o2, m->l1, m->l2, m->e1, m->e2};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        mat_free(all[i]);
}

/* ---- norms ---- */

static void test_layernorm_hand(void)
{
    /* [1 2 3 4]: mean 2.5, biased variance 1.25. */
    double x[4] = {1, 2, 3, 4}, y[4], g[4] = {2, 2, 2, 2}, b[4] = {1, 0, 0, 0};
    qknorm_layernorm(y, x, 1, 4, NULL, NULL, 1e-5);
    for (int t = 0; t < 4; t++) {
        CU_ASSERT_DOUBLE_EQUAL(y[t], (x[t] - 2.5) / sqrt(1.25 + 1e-5), 1e-15);
    }
    qknorm_layernorm(y, x, 1, 4, g, b, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(y[0], 2 * (-1.5) / sqrt(1.25 + 1e-5) + 1, 1e-14);
    /* A constant row maps to the bias, not to NaN. */
    double c[3] = {7, 7, 7}, z[3];
    qknorm_layernorm(z, c, 1, 3, NULL, NULL, 1e-5);
    CU_ASSERT(z[0] == 0.0 && z[1] == 0.0 && z[2] == 0.0);
    /* RMSNorm: [3 4] has mean square 12.5. */
    double r[2] = {3, 4}, ry[2];
    qknorm_rmsnorm(ry, r, 1, 2, NULL, 0.0);
    CU_ASSERT_DOUBLE_EQUAL(ry[0], 3 / sqrt(12.5), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ry[1], 4 / sqrt(12.5), 1e-15);
}

static void test_heads_norm_per_head(void)
{
    /* Two heads of 2: [1 3 | 100 300]. Per head each piece becomes [-1 1] (up to eps);
     * across the row the first head would be squashed near -0.6 instead. */
    double x[4] = {1, 3, 100, 300}, y[4], whole[4];
    qknorm_heads_norm(y, x, 1, 4, 2, NULL, NULL, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(y[0], -1 / sqrt(1 + 1e-5), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(y[1], 1 / sqrt(1 + 1e-5), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(y[2], -1.0, 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(y[3], 1.0, 1e-8);
    qknorm_layernorm(whole, x, 1, 4, NULL, NULL, 1e-5);
    CU_ASSERT(fabs(whole[0] - whole[1]) < 0.05); /* head 0 flattened by head 1's scale */
    /* Gains index by head and entry. */
    double g[4] = {1, 2, 3, 4};
    qknorm_heads_norm(y, x, 1, 4, 2, g, NULL, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(y[3], 4.0, 1e-7);
    CU_ASSERT_DOUBLE_EQUAL(y[2], -3.0, 1e-7);
}

/* ---- attention ---- */

static void test_mha_two_tokens_hand(void)
{
    /* n = 2, d = 2, one head: q = k = I, v = [[1 2] [3 4]]. S = I / sqrt(2). */
    double q[4] = {1, 0, 0, 1}, v[4] = {1, 2, 3, 4}, o[4], lg[4], ent[2];
    qknorm_cfg c = {.n = 2, .d = 2, .heads = 1};
    double a = 1 / sqrt(2.0), p = exp(a) / (exp(a) + 1), e = -p * log(p) - (1 - p) * log(1 - p);
    CU_ASSERT_EQUAL(qknorm_mha(o, lg, ent, q, q, v, &c, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(lg[0], a, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(lg[1], 0.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o[0], p * 1 + (1 - p) * 3, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[1], p * 2 + (1 - p) * 4, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[2], (1 - p) * 1 + p * 3, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(ent[0], e, 1e-14);
    /* Causal: token 0 sees itself only (entropy 0), its logit for token 1 is -inf. */
    c.causal = 1;
    CU_ASSERT_EQUAL(qknorm_mha(o, lg, ent, q, q, v, &c, NULL), 0);
    CU_ASSERT(lg[1] == -INFINITY);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 2.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(ent[0], 0.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o[2], (1 - p) * 1 + p * 3, 1e-14);
    /* QK-Norm: [1 0] -> [1 -1] s and [0 1] -> [-1 1] s, s = 0.5 / sqrt(0.25 + eps); the
     * logits become +-2 s^2 / sqrt(2). */
    c.causal = 0;
    c.qk_norm = 1;
    double s = 0.5 / sqrt(0.25 + 1e-5), b = 2 * s * s / sqrt(2.0);
    double pb = exp(b) / (exp(b) + exp(-b));
    CU_ASSERT_EQUAL(qknorm_mha(o, lg, ent, q, q, v, &c, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(lg[0], b, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(lg[1], -b, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[0], pb * 1 + (1 - pb) * 3, 1e-14);
}

static void test_mha_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 1401);
    for (int trial = 0; trial < 120; trial++) {
        mcase m;
        mcase_new(&m, &r, trial % 3 ? 1.0 : 6.0);
        size_t n = m.c.n, d = m.c.d, H = m.c.heads;
        CU_ASSERT_EQUAL(qknorm_mha(m.o1, m.l1, m.e1, m.q, m.k, m.v, &m.c, NULL), 0);
        CU_ASSERT_EQUAL(qknorm_mha_slow(m.o2, m.l2, m.e2, m.q, m.k, m.v, &m.c), 0);
        CU_ASSERT(close_to(m.o1, m.o2, n * d, TOL_EXACT, "mha out"));
        CU_ASSERT(close_to(m.l1, m.l2, H * n * n, TOL_EXACT, "mha logits"));
        CU_ASSERT(close_to(m.e1, m.e2, H * n, TOL_EXACT, "mha entropy"));
        /* Optional outputs may be left out. */
        CU_ASSERT_EQUAL(qknorm_mha(m.o2, NULL, NULL, m.q, m.k, m.v, &m.c, NULL), 0);
        CU_ASSERT(mat_max_abs_diff(m.o1, m.o2, n * d) == 0.0);
        mcase_free(&m);
    }
}

static void test_mha_h1_is_attn_softmax(void)
{
    rng r;
    rng_seed(&r, 1402);
    for (int trial = 0; trial < 40; trial++) {
        size_t n = (size_t)rng_range(&r, 1, 20), d = (size_t)rng_range(&r, 1, 8);
        int causal = trial % 2;
        double *x = rand_mat(&r, n, d, 1.0), *wq = rand_mat(&r, d, d, 1.0);
        double *wk = rand_mat(&r, d, d, 1.0), *wv = rand_mat(&r, d, d, 1.0);
        double *eye = mat_new(d, d), *q = mat_new(n, d), *k = mat_new(n, d), *v = mat_new(n, d);
        double *o1 = mat_new(n, d), *o2 = mat_new(n, d), *o3 = mat_new(n, d);
        CU_ASSERT_FATAL(eye && q && k && v && o1 && o2 && o3);
        for (size_t i = 0; i < d; i++)
            eye[i * d + i] = 1.0;
        mat_gemm(q, x, wq, n, d, d, 0, 0, 1, 0);
        mat_gemm(k, x, wk, n, d, d, 0, 0, 1, 0);
        mat_gemm(v, x, wv, n, d, d, 0, 0, 1, 0);
        qknorm_cfg c = {.n = n, .d = d, .heads = 1, .causal = causal};
        CU_ASSERT_EQUAL(attn_softmax(o1, q, k, v, n, d, d, causal, NULL), 0);
        CU_ASSERT_EQUAL(qknorm_mha(o2, NULL, NULL, q, k, v, &c, NULL), 0);
        CU_ASSERT(close_to(o2, o1, n * d, TOL_EXACT, "H = 1 mha vs attn_softmax"));
        /* With the projections, Wo = I: X Wq, X Wk, X Wv are those same Q, K, V. */
        qknorm_proj w = {wq, wk, wv, eye};
        CU_ASSERT_EQUAL(qknorm_attention(o3, NULL, NULL, x, &w, &c, NULL), 0);
        CU_ASSERT(close_to(o3, o1, n * d, TOL_EXACT, "H = 1 attention vs attn_softmax"));
        double *all[] = {x, wq, wk, wv, eye, q, k, v, o1, o2, o3};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
            mat_free(all[i]);
    }
}

static void test_attention_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 1403);
    for (int trial = 0; trial < 60; trial++) {
        mcase m;
        mcase_new(&m, &r, 1.0);
        size_t n = m.c.n, d = m.c.d, H = m.c.heads;
        double *w = rand_mat(&r, 4 * d, d, 1.0 / sqrt((double)d));
        qknorm_proj p = {w, w + d * d, w + 2 * d * d, w + 3 * d * d};
        CU_ASSERT_EQUAL(qknorm_attention(m.o1, m.l1, m.e1, m.q, &p, &m.c, NULL), 0);
        CU_ASSERT_EQUAL(qknorm_attention_slow(m.o2, m.l2, m.e2, m.q, &p, &m.c), 0);
        CU_ASSERT(close_to(m.o1, m.o2, n * d, TOL_EXACT, "attention out"));
        CU_ASSERT(close_to(m.l1, m.l2, H * n * n, TOL_EXACT, "attention logits"));
        CU_ASSERT(close_to(m.e1, m.e2, H * n, TOL_EXACT, "attention entropy"));
        mat_free(w);
        mcase_free(&m);
    }
}

/* out(g q, g k) against out(q, k), relative. */
static double scaled_change(mcase *m, double g)
{
    size_t nd = m->c.n * m->c.d;
    double *qs = mat_dup(m->q, m->c.n, m->c.d), *ks = mat_dup(m->k, m->c.n, m->c.d);
    CU_ASSERT_FATAL(qs && ks);
    for (size_t i = 0; i < nd; i++) {
        qs[i] *= g;
        ks[i] *= g;
    }
    CU_ASSERT_EQUAL(qknorm_mha(m->o1, m->l1, NULL, m->q, m->k, m->v, &m->c, NULL), 0);
    CU_ASSERT_EQUAL(qknorm_mha(m->o2, m->l2, NULL, qs, ks, m->v, &m->c, NULL), 0);
    double e = rel_err(m->o2, m->o1, nd);
    double el = rel_err(m->l2, m->l1, m->c.heads * m->c.n * m->c.n);
    mat_free(qs);
    mat_free(ks);
    return e > el ? e : el;
}

/* The smallest variance of any head's piece of any row of q or k. */
static double min_piece_var(const mcase *m)
{
    size_t dh = m->c.d / m->c.heads;
    double best = INFINITY;
    for (int which = 0; which < 2; which++) {
        const double *a = which ? m->k : m->q;
        for (size_t p = 0; p < m->c.n * m->c.heads; p++) {
            double mean = 0, var = 0;
            for (size_t t = 0; t < dh; t++)
                mean += a[p * dh + t] / (double)dh;
            for (size_t t = 0; t < dh; t++)
                var += (a[p * dh + t] - mean) * (a[p * dh + t] - mean) / (double)dh;
            best = var < best ? var : best;
        }
    }
    return best;
}

static void test_qknorm_scale_invariance(void)
{
    rng r;
    rng_seed(&r, 1404);
    const double gs[] = {1e-3, 0.1, 0.5, 2.0, 7.0, 1e3};
    for (int trial = 0; trial < 30; trial++) {
        mcase m;
        mcase_new(&m, &r, 1.0);
        while (m.c.d / m.c.heads < 2) { /* a 1-entry head normalises to its bias alone */
            mcase_free(&m);
            mcase_new(&m, &r, 1.0);
        }
        m.c.qk_norm = 1;
        /* eps tiny: invariant to rounding for every g. */
        m.c.eps = 1e-30;
        for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++) {
            CU_ASSERT(scaled_change(&m, gs[i]) < 1e-9);
        }
        /* The default eps: LN(g u) = (u - mean) / sqrt(var + eps / g^2), so each normalised
         * entry moves by a factor within eps |1 - 1/g^2| / (2 var) of 1; the logits and the
         * output by a small multiple of that (50x allows gains ~1.5 and |v| ~ 3). A piece of
         * nearly equal entries (var ~ eps) is genuinely not invariant: the bound says so. */
        m.c.eps = 0.0;
        double minvar = min_piece_var(&m);
        for (size_t i = 0; i < sizeof gs / sizeof gs[0]; i++) {
            double g = gs[i], delta = QKNORM_EPS * fabs(1 - 1 / (g * g)) / (2 * minvar);
            if (delta < 1e-3) {
                CU_ASSERT(scaled_change(&m, g) <= 50 * delta + 1e-12);
            }
        }
        /* Without QK-Norm, scaling q and k changes the logits by g^2: the test can fail. */
        m.c.qk_norm = 0;
        CU_ASSERT(scaled_change(&m, 2.0) > 0.1);
        mcase_free(&m);
    }
}

static void test_growth(void)
{
    rng r;
    rng_seed(&r, 1405);
    size_t n = 10, d = 8, H = 2, dh = 4;
    double *x = rand_mat(&r, n, d, 1.0), *w = rand_mat(&r, 3 * d, d, 1.0 / sqrt((double)d));
    qknorm_proj p = {w, w + d * d, w + 2 * d * d, NULL};
    qknorm_cfg c = {.n = n, .d = d, .heads = H, .causal = 1};
    double g[5] = {1, 2, 4, 8, 16}, ml[10], ent[20];
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    trace_set_listing(tr, fusion_listing, fusion_listing_len);
    CU_ASSERT_EQUAL(fusion_growth(ml, ent, x, &p, &c, g, 5, tr), 0);
    CU_ASSERT(ml[0] > 0);
    for (int i = 0; i < 5; i++) {
        /* Without QK-Norm: exactly g^2 times, up to rounding. */
        CU_ASSERT_DOUBLE_EQUAL(ml[i] / ml[0], g[i] * g[i], 1e-9 * g[i] * g[i]);
        /* With it: at most dh / sqrt(dh) = sqrt(dh) (unit gain: |LN(u)| = sqrt(dh)). */
        CU_ASSERT(ml[5 + i] <= sqrt((double)dh) + 1e-12);
        for (size_t h = 0; h < H; h++) {
            /* QK-Norm's entropy does not move with g (eps / var ~ 1e-5). */
            CU_ASSERT_DOUBLE_EQUAL(ent[(5 + i) * H + h], ent[5 * H + h], 1e-3);
        }
    }
    for (size_t h = 0; h < H; h++) {
        CU_ASSERT(ent[4 * H + h] < 0.5 * ent[h]); /* collapsing without QK-Norm */
        CU_ASSERT(ent[4 * H + h] < ent[(5 + 4) * H + h]);
    }
    CU_ASSERT_EQUAL(trace_len(tr), 5);
    const trace_frame *st = trace_at(tr, 4);
    CU_ASSERT(st && st->line == (int)fusion_listing_len);
    const trace_snap *sn = trace_latest(tr, 4, "max logit, no QK-Norm");
    CU_ASSERT(sn && sn->cols == 5 && sn->reals[4] == ml[4]);
    /* Bad g. */
    double bad[2] = {1, 0};
    CU_ASSERT_EQUAL(fusion_growth(ml, ent, x, &p, &c, bad, 2, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_growth(ml, ent, x, &p, &c, g, FUSION_MAX_GROWTH + 1, NULL),
                    TUTOR_ETOOBIG);
    trace_free(tr);
    mat_free(x);
    mat_free(w);
    /* The seeded form: the same law on its own inputs, and its shape checks. */
    double ml2[10], ent2[40];
    CU_ASSERT_EQUAL(fusion_growth_seeded(ml2, ent2, g, 5, FUSION_GROWTH_N, FUSION_GROWTH_D,
                                         FUSION_GROWTH_HEADS, 7, NULL),
                    0);
    CU_ASSERT_DOUBLE_EQUAL(ml2[4] / ml2[0], 256.0, 1e-9 * 256);
    CU_ASSERT(ml2[9] <= sqrt((double)FUSION_GROWTH_D / FUSION_GROWTH_HEADS) + 1e-12);
    CU_ASSERT_EQUAL(fusion_growth_seeded(ml2, ent2, g, 5, 8, 10, 4, 7, NULL), TUTOR_ESHAPE);
}

/* ---- FFN and block ---- */

static void test_swiglu_hand(void)
{
    /* d = f = 1: x = 2, Wg = 1, Wu = 3, Wd = 0.5: silu(2) * 6 * 0.5. */
    double x = 2, wg = 1, wu = 3, wd = 0.5, out;
    CU_ASSERT_EQUAL(qknorm_swiglu(&out, &x, 1, 1, 1, &wg, &wu, &wd), 0);
    CU_ASSERT_DOUBLE_EQUAL(out, 2 / (1 + exp(-2.0)) * 3, 1e-14);
    CU_ASSERT_EQUAL(qknorm_swiglu(&out, &x, 1, 1, 0, &wg, &wu, &wd), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(qknorm_swiglu(&out, &x, 1, 1, QKNORM_MAX_FFN + 1, &wg, &wu, &wd),
                    TUTOR_ETOOBIG);
}

typedef struct bcase {
    double *w; /* wq wk wv wo (d, d), gate up (d, f), down (f, d), norm1 norm2 (d) */
    qknorm_block_w bw;
} bcase;

static void bcase_new(bcase *b, rng *r, size_t d, size_t f, int gains)
{
    b->w = rand_mat(r, 4 * d * d + 3 * d * f + 2 * d, 1, 1.0 / sqrt((double)d));
    double *p = b->w;
    b->bw = (qknorm_block_w){.attn = {p, p + d * d, p + 2 * d * d, p + 3 * d * d},
                             .f = f,
                             .w_gate = p + 4 * d * d,
                             .w_up = p + 4 * d * d + d * f,
                             .w_down = p + 4 * d * d + 2 * d * f,
                             .norm1 = gains ? p + 4 * d * d + 3 * d * f : NULL,
                             .norm2 = gains ? p + 4 * d * d + 3 * d * f + d : NULL};
}

static void test_block_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 1406);
    for (int trial = 0; trial < 60; trial++) {
        mcase m;
        mcase_new(&m, &r, 1.0);
        size_t n = m.c.n, d = m.c.d, H = m.c.heads, f = (size_t)rng_range(&r, 1, 9);
        bcase b;
        bcase_new(&b, &r, d, f, trial % 2);
        b.bw.place = trial % 4 < 2 ? QKNORM_PRENORM : QKNORM_CHAMELEON;
        CU_ASSERT_EQUAL(qknorm_block(m.o1, m.l1, m.e1, m.q, &b.bw, &m.c, NULL), 0);
        CU_ASSERT_EQUAL(qknorm_block_slow(m.o2, m.l2, m.e2, m.q, &b.bw, &m.c), 0);
        CU_ASSERT(close_to(m.o1, m.o2, n * d, TOL_EXACT, "block out"));
        CU_ASSERT(close_to(m.l1, m.l2, H * n * n, TOL_EXACT, "block logits"));
        CU_ASSERT(close_to(m.e1, m.e2, H * n, TOL_EXACT, "block entropy"));
        mat_free(b.w);
        mcase_free(&m);
    }
}

static void test_block_placements(void)
{
    rng r;
    rng_seed(&r, 1407);
    size_t n = 6, d = 8, f = 5;
    double *x = rand_mat(&r, n, d, 3.0), *out = mat_new(n, d), *ref = mat_new(n, d);
    bcase b;
    bcase_new(&b, &r, d, f, 0);
    qknorm_cfg c = {.n = n, .d = d, .heads = 2, .causal = 1, .qk_norm = 1};
    CU_ASSERT_FATAL(out && ref);
    /* Chameleon: h - x = RMSNorm(attn(x)) has unit mean square per row (gain 1); check it
     * through the block with a zero FFN (W_down = 0: ffn = 0, RMSNorm(0) = 0, out = h). */
    double *down = (double *)b.bw.w_down;
    memset(down, 0, f * d * sizeof *down);
    b.bw.place = QKNORM_CHAMELEON;
    CU_ASSERT_EQUAL(qknorm_block(out, NULL, NULL, x, &b.bw, &c, NULL), 0);
    for (size_t i = 0; i < n; i++) {
        double ms = 0;
        for (size_t t = 0; t < d; t++)
            ms += (out[i * d + t] - x[i * d + t]) * (out[i * d + t] - x[i * d + t]) / (double)d;
        CU_ASSERT_DOUBLE_EQUAL(ms, 1.0, 1e-3);
    }
    /* Pre-norm with the same zero FFN: out = x + attn(RMSNorm(x)), built by hand. */
    b.bw.place = QKNORM_PRENORM;
    CU_ASSERT_EQUAL(qknorm_block(out, NULL, NULL, x, &b.bw, &c, NULL), 0);
    double *u = mat_new(n, d);
    CU_ASSERT_FATAL(u != NULL);
    qknorm_rmsnorm(u, x, n, d, NULL, QKNORM_EPS);
    CU_ASSERT_EQUAL(qknorm_attention(ref, NULL, NULL, u, &b.bw.attn, &c, NULL), 0);
    for (size_t i = 0; i < n * d; i++)
        ref[i] += x[i];
    CU_ASSERT(close_to(out, ref, n * d, 1e-13, "pre-norm by hand"));
    /* An unknown placement. */
    b.bw.place = (qknorm_place)7;
    CU_ASSERT_EQUAL(qknorm_block(out, NULL, NULL, x, &b.bw, &c, NULL), TUTOR_EINVAL);
    mat_free(u);
    mat_free(x);
    mat_free(out);
    mat_free(ref);
    mat_free(b.w);
}

/* ---- validation ---- */

static void test_validation(void)
{
    double x[64] = {0}, o[64], w[64] = {0};
    qknorm_proj p = {w, w, w, w};
    qknorm_cfg c = {.n = 2, .d = 6, .heads = 4};
    CU_ASSERT_EQUAL(qknorm_check(&c), TUTOR_ESHAPE);
    CU_ASSERT_EQUAL(qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL), TUTOR_ESHAPE);
    CU_ASSERT_EQUAL(qknorm_attention(o, NULL, NULL, x, &p, &c, NULL), TUTOR_ESHAPE);
    c.heads = 3;
    CU_ASSERT_EQUAL(qknorm_check(&c), 0);
    c.n = 0;
    CU_ASSERT_EQUAL(qknorm_check(&c), TUTOR_EINVAL);
    c.n = QKNORM_MAX_N + 1;
    CU_ASSERT_EQUAL(qknorm_check(&c), TUTOR_ETOOBIG);
    c.n = 2;
    c.heads = QKNORM_MAX_HEADS + 1;
    CU_ASSERT_EQUAL(qknorm_check(&c), TUTOR_ETOOBIG);
    c.heads = 3;
    c.eps = -1;
    CU_ASSERT_EQUAL(qknorm_check(&c), TUTOR_EINVAL);
    c.eps = NAN;
    CU_ASSERT_EQUAL(qknorm_check(&c), TUTOR_EINVAL);
    c.eps = 0;
    /* Non-finite inputs anywhere: x, q, a weight, a gain. */
    x[5] = NAN;
    CU_ASSERT_EQUAL(qknorm_mha(o, NULL, NULL, x, x + 12, x + 24, &c, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(qknorm_attention(o, NULL, NULL, x, &p, &c, NULL), TUTOR_EINVAL);
    x[5] = 0;
    w[35] = INFINITY;
    CU_ASSERT_EQUAL(qknorm_attention(o, NULL, NULL, x, &p, &c, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(qknorm_attention_slow(o, NULL, NULL, x, &p, &c), TUTOR_EINVAL);
    w[35] = 0;
    double gain[6] = {1, 1, 1, -INFINITY, 1, 1};
    c.q_gain = gain;
    CU_ASSERT_EQUAL(qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(qknorm_mha_slow(o, NULL, NULL, x, x, x, &c), TUTOR_EINVAL);
    c.q_gain = NULL;
    CU_ASSERT_EQUAL(qknorm_mha(o, NULL, NULL, x, x, x, &c, NULL), 0);
    CU_ASSERT_EQUAL(qknorm_mha(o, NULL, NULL, NULL, x, x, &c, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(qknorm_attention(o, NULL, NULL, x, NULL, &c, NULL), TUTOR_EINVAL);
    /* Block: d % heads and the FFN's size. */
    qknorm_block_w bw = {.attn = p, .f = 2, .w_gate = w, .w_up = w, .w_down = w};
    CU_ASSERT_EQUAL(qknorm_block(o, NULL, NULL, x, &bw, &c, NULL), 0);
    bw.f = 0;
    CU_ASSERT_EQUAL(qknorm_block(o, NULL, NULL, x, &bw, &c, NULL), TUTOR_EINVAL);
    bw.f = 2;
    c.heads = 4;
    CU_ASSERT_EQUAL(qknorm_block_slow(o, NULL, NULL, x, &bw, &c), TUTOR_ESHAPE);
}

/* ---- traces ---- */

static void test_trace_mha(void)
{
    rng r;
    rng_seed(&r, 1408);
    size_t n = 5, d = 6, H = 3;
    double *x = rand_mat(&r, 3 * n, d, 1.0), o1[30], o2[30], lg[75], lg2[75];
    qknorm_cfg c = {.n = n, .d = d, .heads = H, .causal = 1, .qk_norm = 1};
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    trace_set_listing(tr, qknorm_listing, qknorm_listing_len);
    CU_ASSERT_EQUAL(qknorm_mha(o1, lg, NULL, x, x + n * d, x + 2 * n * d, &c, tr), 0);
    CU_ASSERT_EQUAL(qknorm_mha(o2, lg2, NULL, x, x + n * d, x + 2 * n * d, &c, NULL), 0);
    CU_ASSERT(mat_max_abs_diff(o1, o2, n * d) == 0.0); /* tracing changes nothing */
    /* Per head: start (2), norm (3), logits (5: causal), softmax (6), output (7). */
    CU_ASSERT_EQUAL(trace_len(tr), 5 * H);
    int want[5] = {2, 3, 5, 6, 7};
    for (size_t i = 0; i < trace_len(tr); i++) {
        CU_ASSERT_EQUAL(trace_at(tr, i)->line, want[i % 5]);
    }
    /* The last head's S is its logits; the final O is the output. */
    const trace_snap *s = trace_latest(tr, trace_len(tr) - 1, "S");
    CU_ASSERT(s && s->rows == n && rel_err(s->reals, lg + 2 * n * n, n * n) == 0.0);
    const trace_snap *os = trace_latest(tr, trace_len(tr) - 1, "O");
    CU_ASSERT(os && mat_max_abs_diff(os->reals, o1, n * d) == 0.0);
    CU_ASSERT(trace_latest(tr, 0, "Q") != NULL);
    /* Qn holds every head normalised: mean 0 over each head's 2 entries. */
    const trace_snap *qn = trace_latest(tr, trace_len(tr) - 1, "Qn");
    CU_ASSERT_FATAL(qn != NULL);
    CU_ASSERT_DOUBLE_EQUAL(qn->reals[4] + qn->reals[5], 0.0, 1e-12);
    trace_free(tr);
    /* More heads than recorded: one summary step. */
    double big[3 * 2 * 10];
    mat_gauss(big, 60, &r, 1.0);
    qknorm_cfg c10 = {.n = 2, .d = 10, .heads = 10};
    tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    CU_ASSERT_EQUAL(qknorm_mha(o1, NULL, NULL, big, big + 20, big + 40, &c10, tr), 0);
    CU_ASSERT_EQUAL(trace_len(tr), 4 * QKNORM_TRACE_HEADS + 1);
    trace_free(tr);
    /* The block's steps end with h, ffn, out (lines 10, 11, 10 for Chameleon). */
    bcase b;
    bcase_new(&b, &r, d, 4, 1);
    b.bw.place = QKNORM_CHAMELEON;
    tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    CU_ASSERT_EQUAL(qknorm_block(o1, NULL, NULL, x, &b.bw, &c, tr), 0);
    size_t len = trace_len(tr);
    CU_ASSERT(len == 1 + 5 * H + 1 + 3);
    CU_ASSERT(trace_at(tr, 0)->line == 1 && trace_at(tr, len - 1)->line == 10);
    CU_ASSERT(trace_at(tr, len - 2)->line == 11 && trace_at(tr, len - 4)->line == 8);
    const trace_snap *so = trace_latest(tr, len - 1, "out");
    CU_ASSERT(so && mat_max_abs_diff(so->reals, o1, n * d) == 0.0);
    trace_free(tr);
    mat_free(b.w);
    mat_free(x);
}

/* ---- vocabulary and stream ---- */

static void test_vocab_stream(void)
{
    fusion_vocab v = {5, 3};
    CU_ASSERT_EQUAL(fusion_vocab_size(&v), 10);
    CU_ASSERT_EQUAL(fusion_boi(&v), 5);
    CU_ASSERT_EQUAL(fusion_eoi(&v), 6);
    CU_ASSERT_EQUAL(fusion_image_token(&v, 2), 9);
    CU_ASSERT_EQUAL(fusion_modality_of(&v, 4), FUSION_TEXT);
    CU_ASSERT_EQUAL(fusion_modality_of(&v, 6), FUSION_MARKER);
    CU_ASSERT_EQUAL(fusion_modality_of(&v, 7), FUSION_IMAGE);
    CU_ASSERT_EQUAL(fusion_modality_of(&v, 10), -1);
    CU_ASSERT_EQUAL(fusion_modality_of(&v, -1), -1);
    int cap[2] = {1, 2}, codes[2] = {0, 2}, tail[1] = {4}, tok[7], mod[7];
    int want_t[7] = {1, 2, 5, 7, 9, 6, 4}, want_m[7] = {0, 0, 1, 2, 2, 1, 0};
    CU_ASSERT_EQUAL(fusion_stream(tok, mod, &v, cap, 2, codes, 2, tail, 1), 0);
    CU_ASSERT(memcmp(tok, want_t, sizeof tok) == 0);
    CU_ASSERT(memcmp(mod, want_m, sizeof mod) == 0);
    /* An image alone: <boi> c <eoi>. */
    CU_ASSERT_EQUAL(fusion_stream(tok, NULL, &v, NULL, 0, codes + 1, 1, NULL, 0), 0);
    CU_ASSERT(tok[0] == 5 && tok[1] == 9 && tok[2] == 6);
    /* Out of range: a text token >= V_t, a code >= K, negative; a bad vocabulary. */
    int bad_text[1] = {5}, bad_code[1] = {3}, neg[1] = {-1};
    CU_ASSERT_EQUAL(fusion_stream(tok, mod, &v, bad_text, 1, codes, 2, tail, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_stream(tok, mod, &v, cap, 2, bad_code, 1, tail, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_stream(tok, mod, &v, cap, 2, codes, 2, neg, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_modalities(mod, bad_code, 1, &v), 0); /* 3 is text */
    int beyond[1] = {10};
    CU_ASSERT_EQUAL(fusion_modalities(mod, beyond, 1, &v), TUTOR_EINVAL);
    fusion_vocab zero = {0, 3}, huge = {FUSION_MAX_VOCAB, 1};
    CU_ASSERT_EQUAL(fusion_vocab_check(&zero), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_vocab_check(&huge), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(fusion_stream(tok, mod, &v, cap, FUSION_MAX_STREAM, codes, 2, tail, 1),
                    TUTOR_ETOOBIG);
}

/* ---- z-loss ---- */

static void test_zloss_hand(void)
{
    /* Rows [0 0] and [log 3, -inf, 0]... as two 2-column rows: [0 0], [log 3, log 1]. */
    double y[4] = {0, 0, log(3.0), 0}, z[2], loss;
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, y, 2, 2, FUSION_ZLOSS_COEF), 0);
    CU_ASSERT_DOUBLE_EQUAL(z[0], log(2.0), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(z[1], log(4.0), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(loss, 1e-5 * (log(2.0) * log(2.0) + log(4.0) * log(4.0)) / 2, 1e-20);
    /* -inf entries weigh nothing. */
    double m[3] = {0, -INFINITY, 0};
    CU_ASSERT_EQUAL(fusion_zloss(z, NULL, m, 1, 3, 1.0), 0);
    CU_ASSERT_DOUBLE_EQUAL(z[0], log(2.0), 1e-15);
    /* Errors: NaN, +inf, a row of -inf only, a bad coefficient, zero sizes. */
    double nan_row[2] = {0, NAN}, inf_row[2] = {INFINITY, 0}, dead[2] = {-INFINITY, -INFINITY};
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, nan_row, 1, 2, 1e-5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, inf_row, 1, 2, 1e-5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, dead, 1, 2, 1e-5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, y, 2, 2, -1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, y, 0, 2, 1e-5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, y, FUSION_MAX_LOGITS, 2, 1e-5), TUTOR_ETOOBIG);
}

static void test_zloss_fast_vs_slow_and_shift(void)
{
    rng r;
    rng_seed(&r, 1409);
    for (int trial = 0; trial < 40; trial++) {
        size_t rows = (size_t)rng_range(&r, 1, 9), cols = (size_t)rng_range(&r, 1, 30);
        double *y = rand_mat(&r, rows, cols, 3.0), *ys = mat_new(rows, cols);
        double *z1 = mat_new(rows, 1), *z2 = mat_new(rows, 1), *zs = mat_new(rows, 1);
        CU_ASSERT_FATAL(ys && z1 && z2 && zs);
        double l1, l2, ls, coef = trial % 2 ? FUSION_ZLOSS_COEF : 0.3;
        CU_ASSERT_EQUAL(fusion_zloss(z1, &l1, y, rows, cols, coef), 0);
        CU_ASSERT_EQUAL(fusion_zloss_slow(z2, &l2, y, rows, cols, coef), 0);
        CU_ASSERT(close_to(z1, z2, rows, 1e-13, "zloss z"));
        CU_ASSERT_DOUBLE_EQUAL(l1, l2, 1e-12 * (l2 > 1 ? l2 : 1));
        /* Shift by c: z + c per row; the loss is coef * mean (Z + c)^2. Large c too, where
         * exp(y + c) alone overflows. */
        double c = trial % 3 == 0 ? 2e3 : rng_gauss(&r) * 10;
        for (size_t i = 0; i < rows * cols; i++)
            ys[i] = y[i] + c;
        CU_ASSERT_EQUAL(fusion_zloss(zs, &ls, ys, rows, cols, coef), 0);
        double want = 0;
        for (size_t i = 0; i < rows; i++) {
            CU_ASSERT_DOUBLE_EQUAL(zs[i], z1[i] + c, 1e-12 * (1 + fabs(c)));
            want += coef * (z1[i] + c) * (z1[i] + c) / (double)rows;
        }
        CU_ASSERT_DOUBLE_EQUAL(ls, want, 1e-11 * (want > 1 ? want : 1));
        mat_free(y);
        mat_free(ys);
        mat_free(z1);
        mat_free(z2);
        mat_free(zs);
    }
    /* The demo form: probabilities unchanged, z moves by c. */
    double y[4] = {0.5, -1, 2, 0}, shifts[4] = {-100, 0, 3, 1e4}, z[4], loss[4], dp[4], z0;
    CU_ASSERT_EQUAL(fusion_zloss(&z0, NULL, y, 1, 4, 1), 0);
    CU_ASSERT_EQUAL(fusion_zloss_shift(z, loss, dp, y, 4, shifts, 4, 1e-5), 0);
    for (int s = 0; s < 4; s++) {
        CU_ASSERT_DOUBLE_EQUAL(z[s], z0 + shifts[s], 1e-12 * (1 + fabs(shifts[s])));
        CU_ASSERT_DOUBLE_EQUAL(loss[s], 1e-5 * z[s] * z[s], 1e-15 * (1 + z[s] * z[s]));
        CU_ASSERT(dp[s] < 1e-12);
    }
    double bad[1] = {NAN};
    CU_ASSERT_EQUAL(fusion_zloss_shift(z, loss, dp, y, 4, bad, 1, 1e-5), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(fusion_zloss_shift(z, loss, dp, y, 4, shifts, FUSION_MAX_SHIFTS + 1, 1e-5),
                    TUTOR_ETOOBIG);
}

/* ---- image-only generation ---- */

/* A model that prefers text: text and marker logits 50, image logits N(0, 1), from a
 * generator advanced on every call. */
typedef struct text_lover {
    rng r;
    fusion_vocab v;
    size_t calls, last_len;
} text_lover;

static int text_lover_fn(double *y, const int *stream, size_t len, void *vctx)
{
    text_lover *t = vctx;
    (void)stream;
    size_t V = fusion_vocab_size(&t->v);
    for (size_t j = 0; j < V; j++)
        y[j] = j < t->v.text + 2 ? 50.0 : rng_gauss(&t->r);
    t->calls++;
    t->last_len = len;
    return 0;
}

static void check_generated(const int *codes, const int *stream, const int *prompt, size_t np,
                            const fusion_vocab *v, size_t count)
{
    CU_ASSERT(memcmp(stream, prompt, np * sizeof *prompt) == 0);
    CU_ASSERT_EQUAL(stream[np], fusion_boi(v));
    for (size_t t = 0; t < count; t++) {
        CU_ASSERT(codes[t] >= 0 && (size_t)codes[t] < v->image);
        CU_ASSERT_EQUAL(stream[np + 1 + t], fusion_image_token(v, codes[t]));
        CU_ASSERT_EQUAL(fusion_modality_of(v, stream[np + 1 + t]), FUSION_IMAGE);
    }
    CU_ASSERT_EQUAL(stream[np + 1 + count], fusion_eoi(v));
}

static void test_image_only_never_text(void)
{
    fusion_vocab v = {12, 6};
    int prompt[3] = {3, 1, 4}, codes[20], stream[3 + 20 + 2];
    for (uint64_t seed = 1; seed <= 300; seed++) {
        text_lover t = {.v = v};
        rng_seed(&t.r, seed * 7 + 1);
        fusion_gen g = {.count = 1 + seed % 20, .greedy = seed % 5 == 0, .seed = seed};
        g.temperature = seed % 3 ? 1.0 : 4.0;
        CU_ASSERT_EQUAL(
            fusion_generate_image(codes, stream, prompt, 3, &v, text_lover_fn, &t, &g, NULL), 0);
        check_generated(codes, stream, prompt, 3, &v, g.count);
        CU_ASSERT_EQUAL(t.calls, g.count);        /* the forced <eoi> asks nothing */
        CU_ASSERT_EQUAL(t.last_len, 3 + g.count); /* prompt, <boi>, count - 1 tokens */
    }
    /* Greedy: the largest image logit, whatever the text logits; ties to the lowest. */
    double y[2 * 10];
    fusion_vocab small = {4, 4}; /* V = 10, image tokens 6..9 */
    for (int j = 0; j < 10; j++) {
        y[j] = j < 6 ? 1e6 : (double)(j % 3); /* row 0: image 0 1 2 0 -> token 8 */
        y[10 + j] = j < 6 ? -INFINITY : 0.0;  /* row 1: all tied -> token 6 */
    }
    fusion_gen gg = {.count = 2, .greedy = 1};
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 2, NULL, 0, &small, &gg, NULL), 0);
    CU_ASSERT(codes[0] == 2 && codes[1] == 0);
    CU_ASSERT(stream[0] == 4 && stream[1] == 8 && stream[2] == 6 && stream[3] == 5);
}

static void test_sampling(void)
{
    /* Two image tokens with logits 0 and log 3: the second in 3/4 of the draws. */
    fusion_vocab v = {2, 2};
    size_t count = 2000;
    double *y = mat_new(count, 6);
    int *codes = mem_calloc(count, sizeof *codes), *again = mem_calloc(count, sizeof *again);
    CU_ASSERT_FATAL(y && codes && again);
    for (size_t t = 0; t < count; t++) {
        double row[6] = {9, 9, 9, 9, 0, log(3.0)};
        memcpy(y + t * 6, row, sizeof row);
    }
    fusion_gen g = {.count = count, .seed = 77};
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, NULL, y, count, NULL, 0, &v, &g, NULL), 0);
    size_t ones = 0;
    for (size_t t = 0; t < count; t++)
        ones += codes[t] == 1;
    /* Binomial sd = sqrt(2000 * 3/16) ~ 19.4 draws: 0.04 * 2000 = 80 is over 4 sd. */
    CU_ASSERT_DOUBLE_EQUAL((double)ones / (double)count, 0.75, 0.04);
    /* The same seed draws the same tokens; temperature 2 flattens to 3^(1/2) : 1. */
    CU_ASSERT_EQUAL(fusion_generate_rows(again, NULL, y, count, NULL, 0, &v, &g, NULL), 0);
    CU_ASSERT(memcmp(codes, again, count * sizeof *codes) == 0);
    g.temperature = 2.0;
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, NULL, y, count, NULL, 0, &v, &g, NULL), 0);
    ones = 0;
    for (size_t t = 0; t < count; t++)
        ones += codes[t] == 1;
    CU_ASSERT_DOUBLE_EQUAL((double)ones / (double)count, sqrt(3.0) / (1 + sqrt(3.0)), 0.04);
    mat_free(y);
    mem_free(codes);
    mem_free(again);
}

static int failing_model(double *y, const int *stream, size_t len, void *ctx)
{
    (void)y;
    (void)stream;
    (void)len;
    (void)ctx;
    return TUTOR_ERANGE;
}

static void test_generation_errors_and_mask(void)
{
    fusion_vocab v = {2, 2};
    int codes[2], stream[8], bad_prompt[1] = {6};
    double y[12] = {0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 1, 2};
    fusion_gen g = {.count = 2, .greedy = 1};
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 1, NULL, 0, &v, &g, NULL),
                    TUTOR_EINVAL); /* fewer rows than tokens */
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 2, bad_prompt, 1, &v, &g, NULL),
                    TUTOR_EINVAL);
    CU_ASSERT_EQUAL(
        fusion_generate_image(codes, stream, NULL, 0, &v, failing_model, NULL, &g, NULL),
        TUTOR_ERANGE);
    y[7] = NAN; /* row 1, a text entry: still refused */
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 2, NULL, 0, &v, &g, NULL), TUTOR_EINVAL);
    y[7] = 0;
    y[4] = y[5] = -INFINITY; /* row 0: no image token left */
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 2, NULL, 0, &v, &g, NULL), TUTOR_EINVAL);
    g.count = 0;
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 2, NULL, 0, &v, &g, NULL), TUTOR_EINVAL);
    g.count = FUSION_MAX_STREAM;
    CU_ASSERT_EQUAL(
        fusion_generate_image(codes, stream, NULL, 0, &v, failing_model, NULL, &g, NULL),
        TUTOR_ETOOBIG);
    /* The mask itself. */
    double m[6] = {1, 2, 3, 4, 5, 6};
    fusion_mask_image(m, &v, 0);
    CU_ASSERT(m[0] == -INFINITY && m[3] == -INFINITY && m[4] == 5 && m[5] == 6);
    fusion_mask_image(m, &v, 1);
    CU_ASSERT(m[3] == 0 && m[4] == -INFINITY && m[2] == -INFINITY);
}

static void test_generation_trace(void)
{
    fusion_vocab v = {3, 4};
    double y[5 * 9];
    rng r;
    rng_seed(&r, 3);
    mat_gauss(y, 45, &r, 1.0);
    int prompt[2] = {0, 2}, codes[5], stream[9];
    fusion_gen g = {.count = 5, .seed = 9};
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    trace_set_listing(tr, fusion_listing, fusion_listing_len);
    CU_ASSERT_EQUAL(fusion_generate_rows(codes, stream, y, 5, prompt, 2, &v, &g, tr), 0);
    CU_ASSERT_EQUAL(trace_len(tr), 1 + 2 * 5 + 1);
    const trace_snap *mod = trace_latest(tr, trace_len(tr) - 1, "modality");
    CU_ASSERT_FATAL(mod != NULL && mod->cols == 9);
    int64_t want[9] = {0, 0, 1, 2, 2, 2, 2, 2, 1};
    for (int i = 0; i < 9; i++) {
        CU_ASSERT_EQUAL(mod->ints[i], want[i]);
    }
    /* The masked logits of a step: -inf outside the image tokens, the chosen token marked. */
    const trace_frame *st = trace_at(tr, 1);
    CU_ASSERT(st->line == FUSION_L_MASK);
    const trace_snap *ml = trace_find(st, "masked logits");
    CU_ASSERT(ml && ml->reals[0] == -INFINITY && ml->reals[5] == y[5]);
    CU_ASSERT(trace_at(tr, 2)->nmarks == 1 && trace_at(tr, 2)->marks[0].row == stream[3]);
    int codes2[5];
    CU_ASSERT_EQUAL(fusion_generate_rows(codes2, NULL, y, 5, prompt, 2, &v, &g, NULL), 0);
    CU_ASSERT(memcmp(codes, codes2, sizeof codes) == 0);
    trace_free(tr);
}

/* ---- demo ---- */

static void test_demo(void)
{
    fusion_demo_cfg cfg;
    fusion_demo_defaults(&cfg);
    fusion_demo a, b;
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    trace_set_listing(tr, fusion_listing, fusion_listing_len);
    CU_ASSERT_EQUAL_FATAL(fusion_demo_run(&a, &cfg, tr), 0);
    CU_ASSERT_EQUAL_FATAL(fusion_demo_run(&b, &cfg, NULL), 0);
    size_t n = a.n, V = a.V;
    CU_ASSERT_EQUAL(n, 5 + 16 + 3 + 2);
    CU_ASSERT_EQUAL(V, 24 + 2 + 16);
    /* Same seed, traced or not: the same numbers. */
    CU_ASSERT(memcmp(a.tokens, b.tokens, n * sizeof *a.tokens) == 0);
    CU_ASSERT(mat_max_abs_diff(a.out, b.out, n * a.d) == 0.0);
    CU_ASSERT(memcmp(a.codes, b.codes, 16 * sizeof *a.codes) == 0);
    /* The stream's layout and modalities. */
    CU_ASSERT_EQUAL(a.tokens[5], 24);
    CU_ASSERT_EQUAL(a.tokens[22], 25);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(a.modality[i], fusion_modality_of(&a.vocab, a.tokens[i]));
    }
    /* z and the loss agree with fusion_zloss on the logits; entropies within [0, log n]. */
    double *z = mat_new(n, 1), loss;
    CU_ASSERT_FATAL(z != NULL);
    CU_ASSERT_EQUAL(fusion_zloss(z, &loss, a.vocab_logits, n, V, cfg.coef), 0);
    CU_ASSERT(mat_max_abs_diff(z, a.z, n) == 0.0 && loss == a.zloss);
    for (size_t i = 0; i < a.heads * n; i++) {
        CU_ASSERT(a.entropy[i] >= -1e-12 && a.entropy[i] <= log((double)n) + 1e-12);
    }
    /* probs: causal rows summing to 1, whose entropy is the block's. */
    for (size_t i = 0; i < a.heads * n; i++) {
        const double *row = a.probs + i * n;
        double sum = 0, e = 0;
        for (size_t j = 0; j < n; j++) {
            sum += row[j];
            e -= row[j] > 0 ? row[j] * log(row[j]) : 0.0;
        }
        CU_ASSERT_DOUBLE_EQUAL(sum, 1.0, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(e, a.entropy[i], 1e-12);
        CU_ASSERT(i % n + 1 >= n || row[i % n + 1] == 0.0);
    }
    /* The generated image: caption, <boi>, 16 image tokens, <eoi>. */
    check_generated(a.codes, a.gen_stream, a.tokens, 5, &a.vocab, 16);
    /* The trace starts with the stream and its modalities and ends at the forced <eoi>. */
    const trace_snap *m0 = trace_find(trace_at(tr, 0), "modality");
    CU_ASSERT(m0 && m0->cols == n && m0->ints[5] == FUSION_MARKER && m0->ints[6] == FUSION_IMAGE);
    CU_ASSERT_EQUAL(trace_at(tr, trace_len(tr) - 1)->line, FUSION_L_EOI);
    CU_ASSERT_EQUAL(trace_status(tr), 0);
    /* Another seed, the user's codes, greedy. */
    int codes[16];
    for (int i = 0; i < 16; i++)
        codes[i] = i % 4;
    cfg.codes = codes;
    cfg.seed = 2;
    cfg.greedy = 1;
    fusion_demo_free(&b);
    CU_ASSERT_EQUAL_FATAL(fusion_demo_run(&b, &cfg, NULL), 0);
    CU_ASSERT_EQUAL(b.tokens[6 + 3], fusion_image_token(&b.vocab, 3));
    CU_ASSERT(memcmp(a.tokens, b.tokens, 5 * sizeof *a.tokens) != 0);
    /* Bad configurations. */
    fusion_demo c;
    cfg.heads = 3;
    CU_ASSERT_EQUAL(fusion_demo_run(&c, &cfg, NULL), TUTOR_ESHAPE);
    CU_ASSERT(c.tokens == NULL);
    cfg.heads = 4;
    codes[3] = 16;
    CU_ASSERT_EQUAL(fusion_demo_run(&c, &cfg, NULL), TUTOR_EINVAL);
    codes[3] = 0;
    cfg.image_len = FUSION_DEMO_MAX_N;
    CU_ASSERT_EQUAL(fusion_demo_run(&c, &cfg, NULL), TUTOR_ETOOBIG);
    cfg.image_len = 16;
    cfg.text = FUSION_DEMO_MAX_VOCAB;
    CU_ASSERT_EQUAL(fusion_demo_run(&c, &cfg, NULL), TUTOR_ETOOBIG);
    cfg.text = 24;
    cfg.d = 2 * FUSION_DEMO_MAX_D;
    CU_ASSERT_EQUAL(fusion_demo_run(&c, &cfg, NULL), TUTOR_ETOOBIG);
    /* At the caps it still runs, in seconds at most. */
    cfg.d = FUSION_DEMO_MAX_D;
    cfg.f = FUSION_DEMO_MAX_FFN;
    cfg.text = FUSION_DEMO_MAX_VOCAB - 2 - 16;
    cfg.codes = NULL;
    cfg.caption = FUSION_DEMO_MAX_N - 2 - 16 - 8;
    cfg.tail = 8;
    CU_ASSERT_EQUAL(fusion_demo_run(&c, &cfg, NULL), 0);
    CU_ASSERT_EQUAL(c.n, FUSION_DEMO_MAX_N);
    fusion_demo_free(&c);
    fusion_demo_free(&a);
    fusion_demo_free(&b);
    fusion_demo_free(NULL);
    mat_free(z);
    trace_free(tr);
}

/* ---- allocation failures ---- */

typedef struct sweep_ctx {
    int variant, traced;
} sweep_ctx;

static int sweep_body(void *arg)
{
    const sweep_ctx *ctx = arg;
    rng r;
    rng_seed(&r, 41);
    size_t n = 5, d = 4;
    double x[20], q[20], k[20], v[20], w[4 * 16 + 3 * 4 * 3], o[20], lg[2 * 25], ent[10];
    mat_gauss(x, 20, &r, 1);
    mat_gauss(q, 20, &r, 1);
    mat_gauss(k, 20, &r, 1);
    mat_gauss(v, 20, &r, 1);
    mat_gauss(w, sizeof w / sizeof w[0], &r, 0.5);
    qknorm_cfg c = {.n = n, .d = d, .heads = 2, .causal = 1, .qk_norm = 1};
    qknorm_proj p = {w, w + 16, w + 32, w + 48};
    qknorm_block_w bw = {.attn = p, .f = 3, .w_gate = w + 64, .w_up = w + 76, .w_down = w + 88};
    fusion_vocab voc = {3, 2};
    double y[3 * 7], g[3] = {1, 4, 16}, ml[6], ge[12];
    mat_gauss(y, 21, &r, 1);
    int codes[3], stream[6];
    fusion_gen gen = {.count = 3, .seed = 5};
    fusion_demo demo;
    fusion_demo_cfg cfg;
    fusion_demo_defaults(&cfg);
    cfg.caption = 2;
    cfg.image_len = 3;
    cfg.tail = 1;
    trace *tr = NULL;
    if (ctx->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    int rc;
    switch (ctx->variant) {
    case 0: rc = qknorm_mha(o, lg, ent, q, k, v, &c, tr); break;
    case 1: rc = qknorm_mha_slow(o, lg, ent, q, k, v, &c); break;
    case 2: rc = qknorm_attention(o, lg, ent, x, &p, &c, tr); break;
    case 3: rc = qknorm_attention_slow(o, lg, ent, x, &p, &c); break;
    case 4: rc = qknorm_block(o, lg, ent, x, &bw, &c, tr); break;
    case 5: rc = qknorm_block_slow(o, lg, ent, x, &bw, &c); break;
    case 6: rc = qknorm_swiglu(o, x, n, d, 3, w + 64, w + 76, w + 88); break;
    case 7: rc = fusion_zloss_shift(ml, ml + 3, ge, y, 7, g, 3, 1e-5); break;
    case 8: rc = fusion_generate_rows(codes, stream, y, 3, NULL, 0, &voc, &gen, tr); break;
    case 9: rc = fusion_growth(ml, ge, x, &p, &c, g, 3, tr); break;
    case 10: rc = fusion_growth_seeded(ml, ge, g, 3, 4, 4, 2, 3, tr); break;
    default:
        rc = fusion_demo_run(&demo, &cfg, tr);
        if (!rc)
            fusion_demo_free(&demo);
        else if (demo.tokens != NULL)
            rc = TUTOR_EINVAL; /* an error must leave the demo empty */
        break;
    }
    trace_free(tr);
    return rc;
}

static void test_alloc_failures(void)
{
    for (int variant = 0; variant <= 11; variant++)
        for (int traced = 0; traced < 2; traced++) {
            sweep_ctx ctx = {variant, traced};
            CU_ASSERT(th_alloc_sweep(sweep_body, &ctx, 0) >= 1);
        }
}

/* ---- the topic: CLI, JSON, bad input, figures ---- */

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;
static char tmpdir[64];

/* Writes a (rows, cols) with every digit (numpy.savetxt's format) to tmpdir/name. */
static const char *file_mat(const char *name, const double *a, size_t rows, size_t cols)
{
    strbuf sb = STRBUF_INIT;
    for (size_t i = 0; i < rows; i++)
        for (size_t j = 0; j < cols; j++)
            strbuf_printf(&sb, "%.17g%c", a[i * cols + j], j + 1 < cols ? ' ' : '\n');
    const char *p = th_write_file(tmpdir, name, strbuf_str(&sb));
    strbuf_free(&sb);
    return p;
}
/* The number of [ before the first number of the value of key: 1 list, 2 matrix... */
static int json_depth(const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(strbuf_str(&out), pat);
    if (!p)
        return -1;
    p += strlen(pat);
    int d = 0;
    while (*p == '[')
        d++, p++;
    return d;
}

static void expect_json_ok(int rc)
{
    if (rc || !th_json_valid(strbuf_str(&out)))
        fprintf(stderr, "\n  rc %d: %.300s / %s", rc, strbuf_str(&out), strbuf_str(&err));
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"topic\": \"fusion\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"result\": "));
    CU_ASSERT_EQUAL(err.len, 0);
}

/* The stream demo: the stream is caption, <boi>, the image's vq tokens, <eoi>, text; the
 * shapes; the generated image holds image codes only and its pixels are vq's codebook
 * rows for them, put back in place. */
static void test_cli_demo(void)
{
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--json", NULL));
    enum { N = 26, H = 4, P = 16, SIDE = 16 };
    static double v[H * N * N + 1];
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "stream", v, N + 1), N);
    double stream[N];
    memcpy(stream, v, sizeof stream);
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "modality", v, N + 1), N);
    for (int i = 0; i < N; i++) {
        int want = i < 5 || i > 22 ? FUSION_TEXT : i == 5 || i == 22 ? FUSION_MARKER : FUSION_IMAGE;
        CU_ASSERT_EQUAL(v[i], want);
    }
    CU_ASSERT(stream[5] == 24 && stream[22] == 25);
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "logits", v, H * N * N + 1), H * N * N);
    CU_ASSERT_EQUAL(json_depth("logits"), 3);
    /* Causal: null above the diagonal, numbers on and below it. */
    CU_ASSERT_TRUE(isnan(v[1]) && !isnan(v[N]) && !isnan(v[N + 1]) && isnan(v[N + 2]));
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "entropy", v, H * N + 1), H * N);
    CU_ASSERT_EQUAL(json_depth("entropy"), 2);
    CU_ASSERT_EQUAL(v[0], 0.0); /* the first query sees one key */
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "z", v, N + 1), N);
    double zloss, z2 = 0;
    for (int i = 0; i < N; i++)
        z2 += v[i] * v[i];
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "zloss", &zloss, 1), 1);
    CU_ASSERT_DOUBLE_EQUAL(zloss, 1e-5 * z2 / N, 1e-12 * zloss);
    /* The image's codes are vq's tokens of image 1 on the same seed; the stream carries
     * them as V_t + 2 + code. */
    vq_opts o;
    vq_opts_default(&o);
    vq_demo vq;
    CU_ASSERT_EQUAL_FATAL(vq_demo_run(&vq, &o, NULL), 0);
    const char *img = strstr(strbuf_str(&out), "\"image\": {");
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    CU_ASSERT_EQUAL(th_json_numbers(img, "codes", v, P + 1), P);
    for (int i = 0; i < P; i++) {
        CU_ASSERT_EQUAL(v[i], vq.fit.tokens[P + i]);
        CU_ASSERT_EQUAL(stream[6 + i], 26 + v[i]);
    }
    CU_ASSERT_EQUAL(th_json_numbers(img, "pixels", v, SIDE * SIDE + 1), SIDE * SIDE);
    CU_ASSERT_EQUAL(v[0], vq.images[SIDE * SIDE]);
    /* The generated image: caption, <boi>, 16 image tokens, <eoi>; its pixels decode. */
    const char *res = strstr(strbuf_str(&out), "\"result\": {");
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    CU_ASSERT_EQUAL(th_json_numbers(res, "stream", v, 5 + P + 3), 5 + P + 2);
    for (int i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(v[i], stream[i]);
    }
    CU_ASSERT(v[5] == 24 && v[5 + P + 1] == 25);
    int codes[P];
    CU_ASSERT_EQUAL(th_json_numbers(res, "codes", v, P + 1), P);
    for (int i = 0; i < P; i++) {
        CU_ASSERT(v[i] >= 0 && v[i] < 16);
        codes[i] = (int)v[i];
    }
    double xhat[P * 16], pix[SIDE * SIDE];
    CU_ASSERT_EQUAL(vq_reconstruct(xhat, codes, vq.fit.codebook, P, 16, 16), 0);
    CU_ASSERT_EQUAL(vq_unpatchify(pix, xhat, 1, SIDE, 4), 0);
    CU_ASSERT_EQUAL(th_json_numbers(res, "pixels", v, SIDE * SIDE + 1), SIDE * SIDE);
    CU_ASSERT_EQUAL(memcmp(v, pix, sizeof pix), 0);
    vq_demo_free(&vq);
    /* The text: the stream with its markers, and the three pictures. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "fusion", "--greedy", "--K", "8", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "<boi> i"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "<eoi> t"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "generated after the caption (greedy)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "its tokens"));
    /* The trace: the listing's tokenise line first, the decoded picture last. */
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--trace", "--json", "--place", "prenorm",
                          "--no-qk-norm", "--heads", "2", NULL));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"place\": \"prenorm\", \"qk_norm\": false"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"given | generated\": [["));
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "entropy", v, H * N + 1), 2 * N);
}

static void test_cli_demo_trace(void)
{
    const topic *t = topic_find("fusion");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    topic_args args = {NULL, 0, 3};
    trace *tr = trace_new(0);
    topic_out o = {STRBUF_INIT, STRBUF_INIT, {0}};
    CU_ASSERT_EQUAL_FATAL(t->run(&args, tr, &o), 0);
    size_t len = trace_len(tr), nl;
    CU_ASSERT_PTR_EQUAL(trace_listing(tr, &nl), fusion_listing);
    for (size_t i = 0; i < len; i++) {
        int line = trace_at(tr, i)->line;
        CU_ASSERT(line >= 1 && (size_t)line <= nl);
    }
    CU_ASSERT_EQUAL(trace_at(tr, 0)->line, FUSION_L_TOKENIZE);
    CU_ASSERT_EQUAL(trace_at(tr, 1)->line, FUSION_L_STREAM);
    CU_ASSERT_EQUAL(trace_at(tr, len - 1)->line, FUSION_L_DECODE);
    const trace_snap *m = trace_find(trace_at(tr, 1), "modality");
    CU_ASSERT(m && m->cols == 26 && m->ints[5] == FUSION_MARKER);
    const trace_snap *pair = trace_find(trace_at(tr, len - 1), "given | generated");
    CU_ASSERT(pair && pair->rows == 16 && pair->cols == 32);
    /* One P per head of the first forward pass (the plot's attention figure reads them). */
    size_t np = 0;
    for (size_t i = 0; i < len; i++)
        np += trace_find(trace_at(tr, i), "P") != NULL;
    CU_ASSERT_EQUAL(np, 4);
    topic_out_free(&o);
    trace_free(tr);
}

/* --part attention on files: a case by hand, null for -inf, and the slow form. */
static void test_cli_attention(void)
{
    const char *X = th_write_file(tmpdir, "X.txt", "1 0\n0 1\n");
    const char *I = th_write_file(tmpdir, "I.txt", "# identity\n1 0\n0 1\n");
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--part", "attention", "--X", X, "--Wq", I,
                          "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "1", "--causal", "--json",
                          NULL));
    /* Q = K = V = I: S = I / sqrt(2) with -inf above the diagonal; row 1 weighs the keys
     * 1 : e^(1/sqrt 2), and the result is P itself. */
    double v[16], r = 1 / sqrt(2.0), p1 = exp(r) / (1 + exp(r));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"logits\": [[[0.7071067811865475, null], "
                                                    "[0, 0.7071067811865475]]]"));
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "result", v, 16), 4);
    CU_ASSERT(v[0] == 1 && v[1] == 0);
    CU_ASSERT_DOUBLE_EQUAL(v[2], 1 - p1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(v[3], p1, 1e-15);
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "entropy", v, 16), 2);
    CU_ASSERT_EQUAL(v[0], 0.0);
    CU_ASSERT_DOUBLE_EQUAL(v[1], -(p1 * log(p1) + (1 - p1) * log(1 - p1)), 1e-15);
    /* With QK-Norm each row (1, 0) becomes (1, -1) / sqrt(1 + 4 eps): logits +-2 / sqrt(2)
     * over (1 + 4 eps). */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "fusion", "--part", "attention", "--X", X, "--Wq", I,
                           "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "1", "--qk-norm", "--json",
                           NULL),
                    0);
    double s = 2 / sqrt(2.0) / (1 + 4e-5);
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "logits", v, 16), 4);
    CU_ASSERT_DOUBLE_EQUAL(v[0], s, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(v[1], -s, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(v[2], -s, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(v[3], s, 1e-12);
    /* Seeded 5 x 6 inputs, 3 heads: the CLI equals qknorm_attention_slow. */
    enum { n = 5, d = 6, H = 3 };
    rng g;
    rng_seed(&g, 17);
    double x[n * d], w[4][d * d];
    mat_gauss(x, n * d, &g, 1.0);
    mat_gauss(&w[0][0], 4 * d * d, &g, 0.7);
    const char *fx = file_mat("rx.txt", x, n, d), *fq = file_mat("rq.txt", w[0], d, d),
               *fk = file_mat("rk.txt", w[1], d, d), *fv = file_mat("rv.txt", w[2], d, d),
               *fo = file_mat("ro.txt", w[3], d, d);
    for (int mode = 0; mode < 4; mode++) {
        int norm = mode & 1, causal = mode >> 1;
        CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "fusion", "--part", "attention", "--X", fx,
                               "--Wq", fq, "--Wk", fk, "--Wv", fv, "--Wo", fo, "--heads", "3",
                               "--json", norm ? "--qk-norm" : "--json",
                               causal ? "--causal" : "--json", NULL),
                        0);
        qknorm_cfg c = {.n = n, .d = d, .heads = H, .causal = causal, .qk_norm = norm};
        qknorm_proj p = {w[0], w[1], w[2], w[3]};
        double res[n * d], lg[H * n * n], ent[H * n], got[H * n * n];
        CU_ASSERT_EQUAL_FATAL(qknorm_attention_slow(res, lg, ent, x, &p, &c), 0);
        CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "result", got, H * n * n), n * d);
        CU_ASSERT(rel_err(got, res, n * d) < TOL_EXACT);
        CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "logits", got, H * n * n), H * n * n);
        CU_ASSERT_EQUAL(json_depth("logits"), 3);
        for (int i = 0; i < H * n * n; i++) {
            if (isinf(lg[i])) {
                CU_ASSERT_TRUE(isnan(got[i]));
                got[i] = lg[i];
            }
        }
        CU_ASSERT(rel_err(got, lg, H * n * n) < TOL_EXACT);
        CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "entropy", got, H * n * n), H * n);
        CU_ASSERT(rel_err(got, ent, H * n) < TOL_EXACT);
    }
    /* The text names the sizes and shows -inf. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "fusion", "--part", "attention", "--X", X, "--Wq", I,
                           "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "2", "--causal", NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "H = 2 (d_h = 1), QK-Norm off, causal"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "-inf"));
}

/* --part zloss on a file by hand, and the shift table; --part growth's table. */
static void test_cli_zloss_growth(void)
{
    const char *y = th_write_file(tmpdir, "y.txt", "0 0\n1000 1000\n1 2\n");
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--part", "zloss", "--logits", y, "--coef",
                          "0.5", "--json", NULL));
    double v[64], z[3] = {log(2.0), 1000 + log(2.0), 2 + log1p(exp(-1.0))};
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "z", v, 64), 3);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_DOUBLE_EQUAL(v[i], z[i], 1e-12);
    }
    double loss;
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "loss", &loss, 1), 1);
    CU_ASSERT_DOUBLE_EQUAL(loss, 0.5 * (z[0] * z[0] + z[1] * z[1] + z[2] * z[2]) / 3, 1e-9);
    /* Row 0 shifted by c: Z = log 2 + c, the probabilities unchanged. */
    const char *sh = strstr(strbuf_str(&out), "\"shift\": {");
    CU_ASSERT_PTR_NOT_NULL_FATAL(sh);
    double c[64], zs[64], dp[64];
    CU_ASSERT_EQUAL(th_json_numbers(sh, "c", c, 64), 41);
    CU_ASSERT_EQUAL(th_json_numbers(sh, "z", zs, 64), 41);
    CU_ASSERT_EQUAL(th_json_numbers(sh, "prob_change", dp, 64), 41);
    for (int i = 0; i < 41; i++) {
        CU_ASSERT_DOUBLE_EQUAL(zs[i], log(2.0) + c[i], 1e-12);
        CU_ASSERT(dp[i] < 1e-15);
    }
    /* Without --logits: seeded, 4 rows. */
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--part", "zloss", "--json", NULL));
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "z", v, 64), 4);
    /* Growth: g^2 without QK-Norm, at most sqrt(d_h) with it. */
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--g", "1, 3 0.5",
                          "--heads", "2", "--json", NULL));
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "g", v, 64), 3);
    const char *ml = strstr(strbuf_str(&out), "\"max_logit\": {");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ml);
    double plain[8], qk[8], ent[64];
    CU_ASSERT_EQUAL(th_json_numbers(ml, "plain", plain, 8), 3);
    CU_ASSERT_EQUAL(th_json_numbers(ml, "qk_norm", qk, 8), 3);
    CU_ASSERT_DOUBLE_EQUAL(plain[1], 9 * plain[0], 1e-12 * plain[1]);
    CU_ASSERT_DOUBLE_EQUAL(plain[2], 0.25 * plain[0], 1e-12 * plain[0]);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT(qk[i] <= sqrt(8.0) + 1e-12);
    }
    const char *en = strstr(strbuf_str(&out), "\"entropy\": {");
    CU_ASSERT_PTR_NOT_NULL_FATAL(en);
    CU_ASSERT_EQUAL(th_json_numbers(en, "plain", ent, 64), 3 * 2);
    /* The list from a file, as every list option takes it. */
    char at[160];
    snprintf(at, sizeof at, "@%s", th_write_file(tmpdir, "g.txt", "1\n3\n0.5\n"));
    expect_json_ok(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--g", at, "--heads",
                          "2", "--json", NULL));
    double plain2[8];
    CU_ASSERT_EQUAL(
        th_json_numbers(strstr(strbuf_str(&out), "\"max_logit\": {"), "plain", plain2, 8), 3);
    CU_ASSERT_EQUAL(memcmp(plain, plain2, sizeof plain[0] * 3), 0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "fusion", "--part", "growth", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "max logit"));
}

static void expect_bad(int rc, const char *words)
{
    th_refused(rc, &out, &err, words);
}

static void test_cli_bad_input(void)
{
    const char *X = th_write_file(tmpdir, "bx.txt", "1 0\n0 1\n");
    const char *I = th_write_file(tmpdir, "bi.txt", "1 0\n0 1\n");
    const char *W3 = th_write_file(tmpdir, "w3.txt", "1 2 3\n4 5 6\n");
    const char *nan = th_write_file(tmpdir, "nan.txt", "1 0\n0 nan\n");
    const char *inf = th_write_file(tmpdir, "inf.txt", "# logits\n1 2\ninf 3\n");
#define ATT(...) th_cli(&out, &err, "run", "fusion", "--part", "attention", __VA_ARGS__, NULL)
    expect_bad(ATT("--X", X, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "3"),
               "--heads 3 does not divide d = 2");
    expect_bad(ATT("--X", X, "--Wq", I, "--Wk", W3, "--Wv", I, "--Wo", I, "--heads", "1"),
               "--Wk: expected 2 x 2 (d x d, d = the columns of --X), got 2 x 3");
    expect_bad(ATT("--X", nan, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "1"),
               "nan.txt:2: 'nan' is not a finite number");
    expect_bad(ATT("--X", X, "--Wq", I, "--Wk", I, "--Wv", I, "--heads", "1"), "missing --Wo");
    expect_bad(ATT("--X", X, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I), "needs --heads");
    expect_bad(ATT("--X", X, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "0"),
               "--heads");
    expect_bad(ATT("--X", "/nonexistent/x.txt", "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I,
                   "--heads", "1"),
               "--X: /nonexistent/x.txt: no such file");
    /* Caps: too many rows, too many logits for the JSON. */
    strbuf big = STRBUF_INIT;
    for (int i = 0; i < 1025; i++)
        strbuf_puts(&big, "1 2\n");
    const char *X1025 = th_write_file(tmpdir, "x1025.txt", strbuf_str(&big));
    big.len = 0;
    for (int i = 0; i < 1024; i++)
        strbuf_puts(&big, "1 2\n");
    const char *X1024 = th_write_file(tmpdir, "x1024.txt", strbuf_str(&big));
    strbuf_free(&big);
    expect_bad(ATT("--X", X1025, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "1"),
               "--X: 1025 x 2 is too big");
    expect_bad(ATT("--X", X1024, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "2"),
               "is over the cap");
#undef ATT
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "zloss", "--logits", inf, NULL),
               "inf.txt:3:");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "zloss", "--coef", "-1", NULL),
               "--coef");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "mix", NULL),
               "--part: unknown part 'mix'");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--g", "1 2", NULL),
               "--g does not apply to --part demo");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--K", "8", NULL),
               "--K does not apply to --part growth");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--g", "1 -2", NULL),
               "--g: -2 is outside (0, 1e+06]");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--g", "1 x", NULL),
               "--g: 'x' is not a finite number");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--g", "nan", NULL),
               "--g: 'nan'");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--g", " ", NULL),
               "at least one");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--part", "growth", "--heads", "3", NULL),
               "--heads 3 does not divide d = 16");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--K", "1", NULL), "--K");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--K", "100000", NULL),
               "--K: 100000 is too big (at most 256)");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--image", "40", NULL), "--image");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--place", "post", NULL),
               "--place: expected chameleon or prenorm");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--greedy", "--temperature", "2", NULL),
               "--temperature applies to sampling");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--temperature", "0", NULL), "--temperature");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--heads", "5", NULL),
               "--heads 5 does not divide d = 16");
    expect_bad(th_cli(&out, &err, "run", "fusion", "--qk-norm", NULL),
               "--qk-norm does not apply to --part demo");
}

static void test_cli_plot_random_help(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "plot", "fusion", "--format", "dumb", NULL), 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "head 0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "head 3"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "|i ii")); /* the modality band: <boi>, then image */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "largest attention logit"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "Z(y + c) = Z(y) + c"));
    const char *X = th_write_file(tmpdir, "px.txt", "1 0\n0 1\n1 1\n");
    const char *I = th_write_file(tmpdir, "pi.txt", "1 0\n0 1\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "plot", "fusion", "--format", "dumb", "--part", "attention",
                           "--X", X, "--Wq", I, "--Wk", I, "--Wv", I, "--Wo", I, "--heads", "2",
                           "--causal", NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "head 1"));
    th_refused(th_cli(&out, &err, "plot", "fusion", "--format", "dumb", "--heads", "3", NULL), &out,
               &err, "--heads 3 does not divide");
    const topic *t = topic_find("fusion");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (uint64_t seed = 1; seed <= 10; seed++) {
        strbuf sb = STRBUF_INIT;
        CU_ASSERT_EQUAL(t->random_input(seed, &sb), 0);
        char **words;
        int n;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&sb), &words, &n, msg, sizeof msg), 0);
        char *argv[16] = {"run", "fusion"};
        for (int i = 0; i < n && i < 12; i++)
            argv[2 + i] = words[i];
        argv[2 + (n < 12 ? n : 12)] = "--json";
        int rc = th_cli_argv(&out, &err, 3 + (n < 12 ? n : 12), argv);
        if (rc)
            fprintf(stderr, "\n  random input '%s': %s", strbuf_str(&sb), strbuf_str(&err));
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
        parse_free_words(words);
        strbuf_free(&sb);
    }
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "fusion", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "--qk-norm"));
}

/* The runner under allocation failures, each part, traced. */
static const char *const sweep_cases[][6] = {
    {"K", "4", "heads", "2", NULL, NULL},
    {"part", "growth", "g", "1 2", NULL, NULL},
    {"part", "zloss", NULL, NULL, NULL, NULL},
    {"part", "attention", "heads", "1", "X", NULL},
};

static int sweep_topic(void *ctx)
{
    const char *const *kv = ctx;
    topic_opt opts[8];
    size_t n = 0;
    for (; n < 3 && kv[2 * n]; n++)
        opts[n] = (topic_opt){kv[2 * n], kv[2 * n + 1]};
    if (n == 3) { /* the attention case: every file is the identity */
        static const char *const names[] = {"X", "Wq", "Wk", "Wv", "Wo"};
        char path[128];
        snprintf(path, sizeof path, "%s/I.txt", tmpdir);
        static char keep[128];
        memcpy(keep, path, sizeof keep);
        n = 2;
        for (int i = 0; i < 5; i++)
            opts[n++] = (topic_opt){names[i], keep};
    }
    topic_args args = {opts, n, 1};
    trace *tr = trace_new(0);
    if (!tr)
        return TUTOR_ENOMEM;
    topic_out o = {STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = topic_find("fusion")->run(&args, tr, &o);
    if (!rc)
        rc = trace_status(tr);
    topic_out_free(&o);
    trace_free(tr);
    return rc;
}

static void test_cli_alloc_failures(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(topic_find("fusion"));
    th_write_file(tmpdir, "I.txt", "1 0\n0 1\n");
    for (size_t i = 0; i < sizeof sweep_cases / sizeof sweep_cases[0]; i++)
        CU_ASSERT_TRUE(th_alloc_sweep(sweep_topic, (void *)sweep_cases[i], 0) > 5);
}

static int cli_init(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tutor-fusion-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : 1;
}

static int cli_clean(void)
{
    th_remove_tree(tmpdir);
    strbuf_free(&out);
    strbuf_free(&err);
    return 0;
}

void tests_register(void)
{
    static const th_test models[] = {
        {"norms: layer norm, RMSNorm by hand", test_layernorm_hand},
        {"QK-Norm normalises per head, not across heads", test_heads_norm_per_head},
        {"attention: hand-worked 2-token case", test_mha_two_tokens_hand},
        {"attention: fast = slow", test_mha_fast_vs_slow},
        {"attention: H = 1 without QK-Norm = attn_softmax", test_mha_h1_is_attn_softmax},
        {"attention with projections: fast = slow", test_attention_fast_vs_slow},
        {"QK-Norm: unchanged when q and k are scaled by g > 0", test_qknorm_scale_invariance},
        {"growth: max logit ~ g^2 without QK-Norm, bounded with", test_growth},
        {"swiglu by hand", test_swiglu_hand},
        {"block: fast = slow, both placements", test_block_fast_vs_slow},
        {"block: what each placement normalises", test_block_placements},
        {"validation: shapes, non-finite values, caps", test_validation},
        {"trace: heads, block", test_trace_mha},
        {NULL, NULL},
    };
    th_suite("qknorm", models);
    static const th_test fusion[] = {
        {"vocabulary and stream", test_vocab_stream},
        {"z-loss by hand, errors", test_zloss_hand},
        {"z-loss: fast = slow, shift by c gives (Z + c)^2", test_zloss_fast_vs_slow_and_shift},
        {"image-only generation never emits a text token", test_image_only_never_text},
        {"sampling follows the softmax, seeded", test_sampling},
        {"generation: errors and the mask", test_generation_errors_and_mask},
        {"generation: trace", test_generation_trace},
        {"demo: the whole stream", test_demo},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("fusion", fusion);
    CU_pSuite s = CU_add_suite("fusion topic (CLI)", cli_init, cli_clean);
    CU_add_test(s, "demo: stream of vq tokens, shapes, decoded image", test_cli_demo);
    CU_add_test(s, "demo: trace", test_cli_demo_trace);
    CU_add_test(s, "attention part: by hand, null for -inf, = slow form", test_cli_attention);
    CU_add_test(s, "zloss and growth parts", test_cli_zloss_growth);
    CU_add_test(s, "bad input: one line, exit 2", test_cli_bad_input);
    CU_add_test(s, "plot dumb, random inputs, help", test_cli_plot_random_help);
    CU_add_test(s, "allocation failures (topic)", test_cli_alloc_failures);
}
