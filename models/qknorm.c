/* qknorm.c: multi-head attention with QK-Norm and the decoder block (see qknorm.h). */
#include "qknorm.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "attention.h"
#include "mat.h"

const char *const qknorm_listing[] = {QKNORM_LISTING_LINES};
const size_t qknorm_listing_len = sizeof qknorm_listing / sizeof qknorm_listing[0];
_Static_assert(sizeof qknorm_listing / sizeof qknorm_listing[0] == QKNORM_LISTING_COUNT,
               "QKNORM_LISTING_COUNT must count QKNORM_LISTING_LINES");

/* ---- checks ---- */

/* 1 when a is NULL (an optional array left out) or its count values are all finite. */
static int finite_or_null(const double *a, size_t count)
{
    if (!a)
        return 1;
    for (size_t i = 0; i < count; i++)
        if (!isfinite(a[i]))
            return 0;
    return 1;
}

static int finite_all(const double *a, size_t count)
{
    return a && finite_or_null(a, count);
}

int qknorm_check(const qknorm_cfg *c)
{
    if (!c || !c->n || !c->d || !c->heads || !isfinite(c->eps) || c->eps < 0)
        return TUTOR_EINVAL;
    if (c->n > QKNORM_MAX_N || c->d > QKNORM_MAX_D || c->heads > QKNORM_MAX_HEADS ||
        c->heads * c->n > QKNORM_MAX_LOGITS / c->n)
        return TUTOR_ETOOBIG;
    if (c->d % c->heads)
        return TUTOR_ESHAPE;
    return 0;
}

static double eps_of(const qknorm_cfg *c)
{
    return c->eps > 0 ? c->eps : QKNORM_EPS;
}

/* The configuration and the gains are valid and q, k, v (n, d) are finite. */
static int check_mha(const double *out, const double *q, const double *k, const double *v,
                     const qknorm_cfg *c)
{
    int rc = qknorm_check(c);
    if (rc)
        return rc;
    size_t nd = c->n * c->d;
    if (!out || !finite_all(q, nd) || !finite_all(k, nd) || !finite_all(v, nd) ||
        !finite_or_null(c->q_gain, c->d) || !finite_or_null(c->q_bias, c->d) ||
        !finite_or_null(c->k_gain, c->d) || !finite_or_null(c->k_bias, c->d))
        return TUTOR_EINVAL;
    return 0;
}

static int check_proj(const double *x, const qknorm_proj *w, const qknorm_cfg *c)
{
    size_t dd = c->d * c->d;
    if (!w || !finite_all(x, c->n * c->d) || !finite_all(w->wq, dd) || !finite_all(w->wk, dd) ||
        !finite_all(w->wv, dd) || !finite_all(w->wo, dd))
        return TUTOR_EINVAL;
    return 0;
}

/* ---- norms ---- */

void qknorm_layernorm(double *y, const double *x, size_t rows, size_t width, const double *gain,
                      const double *bias, double eps)
{
    for (size_t i = 0; i < rows; i++) {
        const double *xi = x + i * width;
        double *yi = y + i * width;
        double mean = 0.0, var = 0.0;
        for (size_t t = 0; t < width; t++)
            mean += xi[t];
        mean /= (double)width;
        /* Two passes (mean, then squared deviations): E[x^2] - mean^2 would cancel
         * catastrophically for a row far from zero, and QK-Norm exists for large rows. */
        for (size_t t = 0; t < width; t++)
            var += (xi[t] - mean) * (xi[t] - mean);
        var /= (double)width;
        double inv = 1.0 / sqrt(var + eps);
        for (size_t t = 0; t < width; t++) {
            double z = (xi[t] - mean) * inv;
            yi[t] = (gain ? gain[t] : 1.0) * z + (bias ? bias[t] : 0.0);
        }
    }
}

void qknorm_heads_norm(double *y, const double *x, size_t n, size_t d, size_t heads,
                       const double *gain, const double *bias, double eps)
{
    size_t dh = d / heads;
    /* Row i's head h is the contiguous piece x[i d + h dh ..]: one layer norm per piece. */
    for (size_t i = 0; i < n; i++)
        for (size_t h = 0; h < heads; h++) {
            size_t off = i * d + h * dh;
            qknorm_layernorm(y + off, x + off, 1, dh, gain ? gain + h * dh : NULL,
                             bias ? bias + h * dh : NULL, eps);
        }
}

void qknorm_rmsnorm(double *y, const double *x, size_t rows, size_t width, const double *gain,
                    double eps)
{
    for (size_t i = 0; i < rows; i++) {
        const double *xi = x + i * width;
        double *yi = y + i * width;
        double ms = 0.0;
        for (size_t t = 0; t < width; t++)
            ms += xi[t] * xi[t];
        double inv = 1.0 / sqrt(ms / (double)width + eps);
        for (size_t t = 0; t < width; t++)
            yi[t] = (gain ? gain[t] : 1.0) * xi[t] * inv;
    }
}

/* ---- multi-head attention ---- */

/* -sum_j p_j log p_j over one row of n weights (0 log 0 = 0), in nats. */
static double row_entropy(const double *p, size_t n)
{
    double e = 0.0;
    for (size_t j = 0; j < n; j++)
        if (p[j] > 0.0)
            e -= p[j] * log(p[j]);
    return e;
}

/* dst (n, w) = columns off .. off + w - 1 of a (n, d). */
static void gather(double *dst, const double *a, size_t n, size_t d, size_t off, size_t w)
{
    for (size_t i = 0; i < n; i++)
        memcpy(dst + i * w, a + i * d + off, w * sizeof *dst);
}

/* Columns off .. off + w - 1 of a (n, d) = src (n, w). */
static void scatter(double *a, const double *src, size_t n, size_t d, size_t off, size_t w)
{
    for (size_t i = 0; i < n; i++)
        memcpy(a + i * d + off, src + i * w, w * sizeof *src);
}

/* The largest finite entry of s (n, n) and where; -inf when none. */
static double max_entry(const double *s, size_t n, size_t *bi, size_t *bj)
{
    double m = -INFINITY;
    *bi = *bj = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (s[i * n + j] > m) {
                m = s[i * n + j];
                *bi = i;
                *bj = j;
            }
    return m;
}

/* Per-head recording state: shown copies of Qn and Kn (the heads normalised so far) and of
 * O (the heads done so far, zeros after them). */
typedef struct mha_show {
    double *qn, *kn, *o;
    int on; /* n x d matrices small enough to record (the copies exist) */
} mha_show;

static void trace_head_start(trace *tr, size_t h, const double *q, const double *k, const double *v,
                             const qknorm_cfg *c)
{
    size_t dh = c->d / c->heads;
    trace_step(tr, 2, "head %zu of %zu: columns %zu..%zu", h, c->heads, h * dh, h * dh + dh - 1);
    if (h == 0)
        attn_snap_inputs(tr, q, k, v, c->n, c->d, c->d);
}

static void trace_head_norm(trace *tr, mha_show *sh, size_t h, const double *qh, const double *kh,
                            const qknorm_cfg *c)
{
    size_t dh = c->d / c->heads;
    trace_step(tr, 3, "head %zu: each row of q_h and k_h normalised over its %zu entries", h, dh);
    if (!sh->on)
        return;
    scatter(sh->qn, qh, c->n, c->d, h * dh, dh);
    scatter(sh->kn, kh, c->n, c->d, h * dh, dh);
    attn_snap(tr, "Qn", sh->qn, c->n, c->d);
    attn_snap(tr, "Kn", sh->kn, c->n, c->d);
}

static void trace_head_scores(trace *tr, size_t h, const double *s, const qknorm_cfg *c)
{
    size_t bi, bj, n = c->n;
    double m = max_entry(s, n, &bi, &bj);
    trace_step(tr, c->causal ? 5 : 4, "head %zu: logits S_h%s; the largest is S[%zu][%zu] = %.4g",
               h, c->causal ? ", future keys -inf" : "", bi, bj, m);
    if (attn_small(n, n)) {
        attn_snap(tr, "S", s, n, n);
        trace_mark(tr, "S", (long)bi, (long)bj, TRACE_WINNER);
    }
}

static void trace_head_probs(trace *tr, size_t h, const double *p, const double *ent,
                             const qknorm_cfg *c)
{
    size_t n = c->n, last = n - 1, best = 0;
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += ent[i];
    for (size_t j = 1; j < n; j++)
        if (p[last * n + j] > p[last * n + best])
            best = j;
    trace_step(tr, 6, "head %zu: softmax by rows; mean entropy %.4g nats (uniform: at most %.4g)",
               h, mean / (double)n, log((double)n));
    if (attn_small(n, n)) {
        attn_snap(tr, "P", p, n, n);
        trace_mark(tr, "P", (long)last, (long)best, TRACE_WINNER);
    }
    trace_reals(tr, "entropy", ent, n);
    trace_quiz(tr, "Which key (column) gets the last query's largest weight?", (int64_t)best);
}

int qknorm_mha(double *out, double *logits, double *entropy, const double *q, const double *k,
               const double *v, const qknorm_cfg *c, trace *tr)
{
    int rc = check_mha(out, q, k, v, c);
    if (rc)
        return rc;
    size_t n = c->n, d = c->d, heads = c->heads, dh = d / heads;
    double eps = eps_of(c), scale = 1.0 / sqrt((double)dh);
    mha_show sh = {NULL, NULL, NULL, tr && attn_small(n, d)};
    double *qh = mat_new(n, dh), *kh = mat_new(n, dh), *vh = mat_new(n, dh);
    double *oh = mat_new(n, dh), *s = mat_new(n, n), *ent = mat_new(n, 1);
    rc = TUTOR_ENOMEM;
    if (!qh || !kh || !vh || !oh || !s || !ent)
        goto out;
    if (sh.on && (!(sh.o = mat_new(n, d)) ||
                  (c->qk_norm && (!(sh.qn = mat_dup(q, n, d)) || !(sh.kn = mat_dup(k, n, d))))))
        goto out;
    for (size_t h = 0; h < heads; h++) {
        int show = tr && h < QKNORM_TRACE_HEADS;
        if (show)
            trace_head_start(tr, h, q, k, v, c);
        /* Pass 1: the head's columns, contiguous, so that CBLAS sees plain (n, dh) blocks. */
        gather(qh, q, n, d, h * dh, dh);
        gather(kh, k, n, d, h * dh, dh);
        gather(vh, v, n, d, h * dh, dh);
        /* Pass 2: QK-Norm, per row over this head's dh entries only. */
        if (c->qk_norm) {
            qknorm_layernorm(qh, qh, n, dh, c->q_gain ? c->q_gain + h * dh : NULL,
                             c->q_bias ? c->q_bias + h * dh : NULL, eps);
            qknorm_layernorm(kh, kh, n, dh, c->k_gain ? c->k_gain + h * dh : NULL,
                             c->k_bias ? c->k_bias + h * dh : NULL, eps);
            if (show)
                trace_head_norm(tr, &sh, h, qh, kh, c);
        }
        /* Pass 3: logits, then the mask: before the softmax, so that masked keys get
         * exactly zero weight rather than a renormalised share. */
        mat_gemm(s, qh, kh, n, n, dh, 0, 1, scale, 0.0);
        if (c->causal)
            for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                    s[i * n + j] = -INFINITY;
        if (logits)
            memcpy(logits + h * n * n, s, n * n * sizeof *s);
        if (show)
            trace_head_scores(tr, h, s, c);
        /* Pass 4: stable softmax and each row's entropy. */
        attn_row_softmax(s, s, n, n, c->causal);
        for (size_t i = 0; i < n; i++)
            ent[i] = row_entropy(s + i * n, n);
        if (entropy)
            memcpy(entropy + h * n, ent, n * sizeof *ent);
        if (show)
            trace_head_probs(tr, h, s, ent, c);
        /* Pass 5: the head's output columns. */
        mat_gemm(oh, s, vh, n, dh, n, 0, 0, 1.0, 0.0);
        scatter(out, oh, n, d, h * dh, dh);
        if (show) {
            trace_step(tr, 7, "head %zu: O's columns %zu..%zu = P_h v_h", h, h * dh,
                       h * dh + dh - 1);
            if (sh.on) {
                scatter(sh.o, oh, n, d, h * dh, dh);
                attn_snap(tr, "O", sh.o, n, d);
            }
        }
    }
    if (tr && heads > QKNORM_TRACE_HEADS) {
        trace_step(tr, 2, "heads %d..%zu the same way (not recorded one by one)",
                   QKNORM_TRACE_HEADS, heads - 1);
        if (sh.on)
            attn_snap(tr, "O", out, n, d);
    }
    rc = trace_status(tr);
out:
    mat_free(qh);
    mat_free(kh);
    mat_free(vh);
    mat_free(oh);
    mat_free(s);
    mat_free(ent);
    mat_free(sh.qn);
    mat_free(sh.kn);
    mat_free(sh.o);
    return rc;
}

/* Slow QK-Norm of one piece: u (dh entries at stride 1) into z. */
static void slow_norm(double *z, const double *u, size_t dh, const double *gain, const double *bias,
                      double eps)
{
    double mean = 0.0, var = 0.0;
    for (size_t t = 0; t < dh; t++)
        mean += u[t] / (double)dh;
    for (size_t t = 0; t < dh; t++)
        var += (u[t] - mean) * (u[t] - mean) / (double)dh;
    for (size_t t = 0; t < dh; t++)
        z[t] = (u[t] - mean) / sqrt(var + eps) * (gain ? gain[t] : 1.0) + (bias ? bias[t] : 0.0);
}

int qknorm_mha_slow(double *out, double *logits, double *entropy, const double *q, const double *k,
                    const double *v, const qknorm_cfg *c)
{
    int rc = check_mha(out, q, k, v, c);
    if (rc)
        return rc;
    size_t n = c->n, d = c->d, heads = c->heads, dh = d / heads;
    double eps = eps_of(c);
    double *row = mat_new(n, 1), *zq = mat_new(dh, 1), *zk = mat_new(dh, 1);
    if (!row || !zq || !zk) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    for (size_t h = 0; h < heads; h++) {
        size_t off = h * dh;
        for (size_t i = 0; i < n; i++) {
            if (c->qk_norm)
                slow_norm(zq, q + i * d + off, dh, c->q_gain ? c->q_gain + off : NULL,
                          c->q_bias ? c->q_bias + off : NULL, eps);
            else
                memcpy(zq, q + i * d + off, dh * sizeof *zq);
            double m = -INFINITY;
            for (size_t j = 0; j < n; j++) {
                if (c->causal && j > i) {
                    row[j] = -INFINITY;
                } else {
                    if (c->qk_norm)
                        slow_norm(zk, k + j * d + off, dh, c->k_gain ? c->k_gain + off : NULL,
                                  c->k_bias ? c->k_bias + off : NULL, eps);
                    else
                        memcpy(zk, k + j * d + off, dh * sizeof *zk);
                    double dot = 0.0;
                    for (size_t t = 0; t < dh; t++)
                        dot += zq[t] * zk[t];
                    row[j] = dot / sqrt((double)dh);
                }
                if (logits)
                    logits[(h * n + i) * n + j] = row[j];
                m = row[j] > m ? row[j] : m;
            }
            double sum = 0.0;
            for (size_t j = 0; j < n; j++) {
                row[j] = row[j] == -INFINITY ? 0.0 : exp(row[j] - m);
                sum += row[j];
            }
            double e = 0.0;
            for (size_t j = 0; j < n; j++) {
                row[j] /= sum;
                if (row[j] > 0.0)
                    e -= row[j] * log(row[j]);
            }
            if (entropy)
                entropy[h * n + i] = e;
            for (size_t t = 0; t < dh; t++) {
                double acc = 0.0;
                for (size_t j = 0; j < n; j++)
                    acc += row[j] * v[j * d + off + t];
                out[i * d + off + t] = acc;
            }
        }
    }
    rc = 0;
out:
    mat_free(row);
    mat_free(zq);
    mat_free(zk);
    return rc;
}

/* ---- attention with projections ---- */

int qknorm_attention(double *result, double *logits, double *entropy, const double *x,
                     const qknorm_proj *w, const qknorm_cfg *c, trace *tr)
{
    int rc = qknorm_check(c);
    if (rc)
        return rc;
    if (!result || (rc = check_proj(x, w, c)))
        return rc ? rc : TUTOR_EINVAL;
    size_t n = c->n, d = c->d;
    double *q = mat_new(n, d), *k = mat_new(n, d), *v = mat_new(n, d), *o = mat_new(n, d);
    rc = TUTOR_ENOMEM;
    if (!q || !k || !v || !o)
        goto out;
    mat_gemm(q, x, w->wq, n, d, d, 0, 0, 1.0, 0.0);
    mat_gemm(k, x, w->wk, n, d, d, 0, 0, 1.0, 0.0);
    mat_gemm(v, x, w->wv, n, d, d, 0, 0, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 1, "projections: Q, K, V are %zu x %zu, %zu heads of %zu columns", n, d,
                   c->heads, d / c->heads);
        attn_snap(tr, "X", x, n, d);
    }
    if ((rc = qknorm_mha(o, logits, entropy, q, k, v, c, tr)) != 0 && rc != trace_status(tr))
        goto out;
    mat_gemm(result, o, w->wo, n, d, d, 0, 0, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 8, "result = O Wo: the heads mixed back into %zu columns", d);
        attn_snap(tr, "result", result, n, d);
    }
    rc = trace_status(tr);
out:
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o);
    return rc;
}

/* c (m, p) = a (m, r) b (r, p) with three loops. */
static void slow_product(double *c, const double *a, const double *b, size_t m, size_t r, size_t p)
{
    for (size_t i = 0; i < m; i++)
        for (size_t j = 0; j < p; j++) {
            double acc = 0.0;
            for (size_t t = 0; t < r; t++)
                acc += a[i * r + t] * b[t * p + j];
            c[i * p + j] = acc;
        }
}

int qknorm_attention_slow(double *result, double *logits, double *entropy, const double *x,
                          const qknorm_proj *w, const qknorm_cfg *c)
{
    int rc = qknorm_check(c);
    if (rc)
        return rc;
    if (!result || (rc = check_proj(x, w, c)))
        return rc ? rc : TUTOR_EINVAL;
    size_t n = c->n, d = c->d;
    double *q = mat_new(n, d), *k = mat_new(n, d), *v = mat_new(n, d), *o = mat_new(n, d);
    rc = TUTOR_ENOMEM;
    if (q && k && v && o) {
        slow_product(q, x, w->wq, n, d, d);
        slow_product(k, x, w->wk, n, d, d);
        slow_product(v, x, w->wv, n, d, d);
        rc = qknorm_mha_slow(o, logits, entropy, q, k, v, c);
        if (!rc)
            slow_product(result, o, w->wo, n, d, d);
    }
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o);
    return rc;
}

/* ---- FFN and block ---- */

static double silu(double a)
{
    return a / (1.0 + exp(-a));
}

static int check_ffn(const double *x, size_t n, size_t d, size_t f, const double *w_gate,
                     const double *w_up, const double *w_down)
{
    if (!n || !d || !f)
        return TUTOR_EINVAL;
    if (n > QKNORM_MAX_N || d > QKNORM_MAX_D || f > QKNORM_MAX_FFN)
        return TUTOR_ETOOBIG;
    if (!finite_all(x, n * d) || !finite_all(w_gate, d * f) || !finite_all(w_up, d * f) ||
        !finite_all(w_down, f * d))
        return TUTOR_EINVAL;
    return 0;
}

int qknorm_swiglu(double *out, const double *x, size_t n, size_t d, size_t f, const double *w_gate,
                  const double *w_up, const double *w_down)
{
    int rc = check_ffn(x, n, d, f, w_gate, w_up, w_down);
    if (rc || !out)
        return rc ? rc : TUTOR_EINVAL;
    double *a = mat_new(n, f), *b = mat_new(n, f);
    if (!a || !b) {
        mat_free(a);
        mat_free(b);
        return TUTOR_ENOMEM;
    }
    mat_gemm(a, x, w_gate, n, f, d, 0, 0, 1.0, 0.0);
    mat_gemm(b, x, w_up, n, f, d, 0, 0, 1.0, 0.0);
    /* The gate: silu(x Wg) decides, entry by entry, how much of x Wu passes. */
    for (size_t i = 0; i < n * f; i++)
        a[i] = silu(a[i]) * b[i];
    mat_gemm(out, a, w_down, n, d, f, 0, 0, 1.0, 0.0);
    mat_free(a);
    mat_free(b);
    return 0;
}

static int swiglu_slow(double *out, const double *x, size_t n, size_t d, size_t f,
                       const double *w_gate, const double *w_up, const double *w_down)
{
    double *a = mat_new(f, 1);
    if (!a)
        return TUTOR_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < f; j++) {
            double g = 0.0, u = 0.0;
            for (size_t t = 0; t < d; t++) {
                g += x[i * d + t] * w_gate[t * f + j];
                u += x[i * d + t] * w_up[t * f + j];
            }
            a[j] = g / (1.0 + exp(-g)) * u;
        }
        for (size_t t = 0; t < d; t++) {
            double acc = 0.0;
            for (size_t j = 0; j < f; j++)
                acc += a[j] * w_down[j * d + t];
            out[i * d + t] = acc;
        }
    }
    mat_free(a);
    return 0;
}

static int check_block(const double *out, const double *x, const qknorm_block_w *w,
                       const qknorm_cfg *c)
{
    int rc = qknorm_check(c);
    if (rc)
        return rc;
    if (!out || !w || (w->place != QKNORM_PRENORM && w->place != QKNORM_CHAMELEON))
        return TUTOR_EINVAL;
    if ((rc = check_ffn(x, c->n, c->d, w->f, w->w_gate, w->w_up, w->w_down)) != 0)
        return rc;
    if (!finite_or_null(w->norm1, c->d) || !finite_or_null(w->norm2, c->d))
        return TUTOR_EINVAL;
    return check_proj(x, &w->attn, c);
}

/* The block from its parts; slow selects the loop forms. Both placements:
 *   pre-norm:  h = x + attn(norm1(x));   out = h + ffn(norm2(h))
 *   Chameleon: h = x + norm1(attn(x));   out = h + norm2(ffn(h))
 * Pre-norm leaves the residual stream un-normalised, so its size can grow layer by layer;
 * Chameleon's placement normalises what each branch adds instead. */
static int block(double *out, double *logits, double *entropy, const double *x,
                 const qknorm_block_w *w, const qknorm_cfg *c, trace *tr, int slow)
{
    int rc = check_block(out, x, w, c);
    if (rc)
        return rc;
    size_t n = c->n, d = c->d;
    int pre = w->place == QKNORM_PRENORM;
    double eps = eps_of(c);
    double *u = mat_new(n, d), *a = mat_new(n, d), *h = mat_new(n, d);
    rc = TUTOR_ENOMEM;
    if (!u || !a || !h)
        goto out;
    /* Pass 1: the attention branch and the first residual. */
    if (pre)
        qknorm_rmsnorm(u, x, n, d, w->norm1, eps);
    const double *ain = pre ? u : x;
    rc = slow ? qknorm_attention_slow(a, logits, entropy, ain, &w->attn, c)
              : qknorm_attention(a, logits, entropy, ain, &w->attn, c, tr);
    if (rc && rc != trace_status(tr))
        goto out;
    if (!pre)
        qknorm_rmsnorm(a, a, n, d, w->norm1, eps);
    for (size_t i = 0; i < n * d; i++)
        h[i] = x[i] + a[i];
    if (tr) {
        trace_step(tr, pre ? 9 : 10, "h = x + %s: the first residual",
                   pre ? "attn(RMSNorm(x))" : "RMSNorm(attn(x))");
        attn_snap(tr, "h", h, n, d);
    }
    /* Pass 2: the FFN branch and the second residual. */
    if (pre)
        qknorm_rmsnorm(u, h, n, d, w->norm2, eps);
    const double *fin = pre ? u : h;
    rc = slow ? swiglu_slow(a, fin, n, d, w->f, w->w_gate, w->w_up, w->w_down)
              : qknorm_swiglu(a, fin, n, d, w->f, w->w_gate, w->w_up, w->w_down);
    if (rc)
        goto out;
    if (tr) {
        trace_step(tr, 11, "ffn: SwiGLU with %zu hidden units", w->f);
        attn_snap(tr, "ffn", a, n, d);
    }
    if (!pre)
        qknorm_rmsnorm(a, a, n, d, w->norm2, eps);
    for (size_t i = 0; i < n * d; i++)
        out[i] = h[i] + a[i];
    if (tr) {
        trace_step(tr, pre ? 9 : 10, "out = h + %s: the block's output",
                   pre ? "ffn(RMSNorm(h))" : "RMSNorm(ffn(h))");
        attn_snap(tr, "out", out, n, d);
    }
    rc = trace_status(tr);
out:
    mat_free(u);
    mat_free(a);
    mat_free(h);
    return rc;
}

int qknorm_block(double *out, double *logits, double *entropy, const double *x,
                 const qknorm_block_w *w, const qknorm_cfg *c, trace *tr)
{
    return block(out, logits, entropy, x, w, c, tr, 0);
}

int qknorm_block_slow(double *out, double *logits, double *entropy, const double *x,
                      const qknorm_block_w *w, const qknorm_cfg *c)
{
    return block(out, logits, entropy, x, w, c, NULL, 1);
}
