/* attn_gau.c: GAU and FLASH (see attn_gau.h). */
#include "attn_gau.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "attention.h"
#include "mat.h"

/* ---- weights ---- */

int attn_gau_weights_new(attn_gau_weights *w, size_t dm, size_t e, size_t s, rng *r)
{
    memset(w, 0, sizeof *w);
    if (!dm || !e || !s)
        return TUTOR_EINVAL;
    w->dm = dm;
    w->e = e;
    w->s = s;
    w->wu = mat_new(dm, e);
    w->wv = mat_new(dm, e);
    w->wz = mat_new(dm, s);
    w->wo = mat_new(e, dm);
    w->gamma = mat_new(4, s);
    w->beta = mat_new(4, s);
    if (!w->wu || !w->wv || !w->wz || !w->wo || !w->gamma || !w->beta) {
        attn_gau_weights_free(w);
        return TUTOR_ENOMEM;
    }
    mat_gauss(w->wu, dm * e, r, 1.0 / sqrt((double)dm));
    mat_gauss(w->wv, dm * e, r, 1.0 / sqrt((double)dm));
    mat_gauss(w->wz, dm * s, r, 1.0 / sqrt((double)dm));
    mat_gauss(w->wo, e * dm, r, 1.0 / sqrt((double)e));
    mat_gauss(w->gamma, 4 * s, r, 0.1);
    for (size_t i = 0; i < 4 * s; i++)
        w->gamma[i] += 1.0;
    mat_gauss(w->beta, 4 * s, r, 0.1);
    return 0;
}

void attn_gau_weights_free(attn_gau_weights *w)
{
    mat_free(w->wu);
    mat_free(w->wv);
    mat_free(w->wz);
    mat_free(w->wo);
    mat_free(w->gamma);
    mat_free(w->beta);
    memset(w, 0, sizeof *w);
}

static double silu(double x)
{
    return x / (1.0 + exp(-x));
}

static double relu2(double x)
{
    return x > 0.0 ? x * x : 0.0;
}

/* ---- GAU core ---- */

const char *const attn_gau_listing[] = {
    "S = Q K^T / n",
    "A = relu(S)^2   (causal: lower triangle)",
    "O = A V",
};
const size_t attn_gau_listing_len = sizeof attn_gau_listing / sizeof attn_gau_listing[0];

/* a (n, n) = relu(q k^T / scale_div)^2, masked when causal. */
static void relu2_scores(double *a, const double *q, const double *k, size_t n, size_t s,
                         double scale_div, int causal)
{
    mat_gemm(a, q, k, n, n, s, 0, 1, 1.0 / scale_div, 0.0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            a[i * n + j] = causal && j > i ? 0.0 : relu2(a[i * n + j]);
}

static void trace_gau_rows(trace *tr, const double *sc, size_t n, int causal)
{
    size_t rows = n < ATTN_TRACE_ROWS ? n : ATTN_TRACE_ROWS;
    for (size_t i = 0; i < rows; i++) {
        size_t end = causal ? i + 1 : n, kept = 0;
        for (size_t j = 0; j < end; j++)
            kept += sc[i * n + j] > 0.0;
        trace_step(tr, 2, "row %zu: relu keeps %zu of %zu scores, zeroes the rest", i, kept, end);
        for (size_t j = 0; j < end; j++)
            if (sc[i * n + j] <= 0.0)
                trace_mark(tr, "A", (long)i, (long)j, TRACE_PRUNED);
        trace_quiz(tr, "How many keys keep a non-zero weight for this query?", (int64_t)kept);
    }
}

int attn_gau_core(double *o, const double *q, const double *k, const double *v, size_t n, size_t s,
                  size_t e, int causal, trace *tr)
{
    if (!n || !s || !e)
        return TUTOR_EINVAL;
    int show = tr && attn_small(n, n);
    double *a = mat_new(n, n), *sc = NULL;
    if (!a)
        return TUTOR_ENOMEM;
    /* Pass 1: scores divided by n, which keeps A V's size independent of n on average. */
    mat_gemm(a, q, k, n, n, s, 0, 1, 1.0 / (double)n, 0.0);
    if (show) {
        if (!(sc = mat_dup(a, n, n))) {
            mat_free(a);
            return TUTOR_ENOMEM;
        }
        trace_step(tr, 1, "S = Q K^T / %zu", n);
        attn_snap(tr, "S", a, n, n);
        attn_snap_inputs(tr, q, k, v, n, s, e);
    }
    /* Pass 2: squared relu and the causal mask. */
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            a[i * n + j] = causal && j > i ? 0.0 : relu2(a[i * n + j]);
    if (show) {
        trace_step(tr, 2, "A = relu(S)^2%s", causal ? ", lower triangle" : "");
        attn_snap(tr, "A", a, n, n);
        trace_gau_rows(tr, sc, n, causal);
    } else if (tr) {
        trace_step(tr, 2, "A = relu(S)^2 (too large to record)");
    }
    /* Pass 3: o = A v. */
    mat_gemm(o, a, v, n, e, n, 0, 0, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 3, "O = A V");
        attn_snap(tr, "O", o, n, e);
    }
    mat_free(a);
    mat_free(sc);
    return trace_status(tr);
}

int attn_gau_core_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                       size_t s, size_t e, int causal)
{
    if (!n || !s || !e)
        return TUTOR_EINVAL;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < e; t++) {
            double acc = 0.0;
            for (size_t j = 0; j < n && (!causal || j <= i); j++) {
                double dot = 0.0;
                for (size_t u = 0; u < s; u++)
                    dot += q[i * s + u] * k[j * s + u];
                acc += relu2(dot / (double)n) * v[j * e + t];
            }
            o[i * e + t] = acc;
        }
    return 0;
}

/* ---- FLASH core ---- */

const char *const attn_flash_listing[] = {
    "split the rows into chunks of c",        "for each chunk g:",
    "    A_g = relu(Q_g K_g^T / c)^2",        "    O_g = A_g V_g",
    "    O_g += Q'_g (sum_h K'_h^T V_h) / n", "    causal: O_g += Q'_g M/n; M += K'_g^T V_g",
    "A = implied n x n matrix (display)",
};
const size_t attn_flash_listing_len = sizeof attn_flash_listing / sizeof attn_flash_listing[0];

int attn_flash_matrix(double *a, const double *q, const double *k, const double *qlin,
                      const double *klin, size_t n, size_t s, size_t c, int causal)
{
    if (!n || !s || !c)
        return TUTOR_EINVAL;
    if (!qlin)
        qlin = q;
    if (!klin)
        klin = k;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            size_t gi = i / c, gj = j / c;
            double quad = 0.0, lin = 0.0, dq = 0.0, dl = 0.0;
            for (size_t u = 0; u < s; u++) {
                dq += q[i * s + u] * k[j * s + u];
                dl += qlin[i * s + u] * klin[j * s + u];
            }
            if (gi == gj && (!causal || j <= i))
                quad = relu2(dq / (double)c);
            if (!causal || gj < gi)
                lin = dl / (double)n;
            a[i * n + j] = quad + lin;
        }
    return 0;
}

static void trace_flash_implied(trace *tr, const double *q, const double *k, const double *qlin,
                                const double *klin, size_t n, size_t s, size_t c, int causal,
                                int *rc)
{
    if (!attn_small(n, n))
        return;
    double *a = mat_new(n, n);
    if (!a) {
        *rc = TUTOR_ENOMEM;
        return;
    }
    attn_flash_matrix(a, q, k, qlin, klin, n, s, c, causal);
    trace_step(tr, 7,
               "the implied n x n matrix: blocks on the diagonal are quadratic, the "
               "rest low rank");
    attn_snap(tr, "A", a, n, n);
    mat_free(a);
}

int attn_flash_core(double *o, const double *q, const double *k, const double *v,
                    const double *qlin, const double *klin, size_t n, size_t s, size_t e, size_t c,
                    int causal, trace *tr)
{
    if (!n || !s || !e || !c)
        return TUTOR_EINVAL;
    if (!qlin)
        qlin = q;
    if (!klin)
        klin = k;
    size_t cc = c < n ? c : n;
    double *a = mat_new(cc, cc), *m = mat_new(s, e);
    if (!a || !m) {
        mat_free(a);
        mat_free(m);
        return TUTOR_ENOMEM;
    }
    memset(o, 0, n * e * sizeof *o);
    if (tr) {
        trace_step(tr, 1, "%zu chunks of %zu rows", (n + c - 1) / c, c);
        attn_snap_inputs(tr, q, k, v, n, s, e);
    }
    /* Pass 1 (non-causal): M = sum over all chunks of K'_h^T V_h = K'^T V, once. */
    if (!causal)
        mat_gemm(m, klin, v, s, e, n, 1, 0, 1.0, 0.0);
    for (size_t g0 = 0, g = 0; g0 < n; g0 += c, g++) {
        size_t len = n - g0 < c ? n - g0 : c;
        int show = tr && g < ATTN_TRACE_ROWS;
        /* Pass 2: the quadratic part inside the chunk. */
        relu2_scores(a, q + g0 * s, k + g0 * s, len, s, (double)c, causal);
        mat_gemm(o + g0 * e, a, v + g0 * e, len, e, len, 0, 0, 1.0, 0.0);
        if (show) {
            trace_step(tr, 3, "chunk %zu (rows %zu..%zu): A_g = relu(Q_g K_g^T / %zu)^2", g, g0,
                       g0 + len - 1, c);
            attn_snap(tr, "A_g", a, len, len);
            trace_step(tr, 4, "chunk %zu: O_g = A_g V_g", g);
            attn_snap(tr, "O", o, n, e);
        }
        /* Pass 3: the linear part, O(len s e): a low-rank summary of the other chunks. */
        mat_gemm(o + g0 * e, qlin + g0 * s, m, len, e, s, 0, 0, 1.0 / (double)n, 1.0);
        if (causal)
            mat_gemm(m, klin + g0 * s, v + g0 * e, s, e, len, 1, 0, 1.0, 1.0);
        if (show) {
            if (causal)
                trace_step(tr, 6,
                           "chunk %zu: add Q'_g M / n (chunks 0..%zu before it); "
                           "then fold this chunk into M",
                           g, g);
            else
                trace_step(tr, 5, "chunk %zu: add Q'_g M / n (every chunk)", g);
            attn_snap(tr, "M", m, s, e);
            attn_snap(tr, "O", o, n, e);
        }
    }
    int rc = 0;
    if (tr) {
        size_t chunks = (n + c - 1) / c;
        if (chunks > ATTN_TRACE_ROWS)
            trace_step(tr, 2, "chunks %d..%zu the same way (not recorded one by one)",
                       ATTN_TRACE_ROWS, chunks - 1);
        trace_flash_implied(tr, q, k, qlin, klin, n, s, c, causal, &rc);
        if (chunks > ATTN_TRACE_ROWS) { /* O changed since it was last recorded */
            trace_step(tr, 4, "O, every chunk done");
            attn_snap(tr, "O", o, n, e);
        }
    }
    mat_free(a);
    mat_free(m);
    return rc ? rc : trace_status(tr);
}

int attn_flash_core_slow(double *o, const double *q, const double *k, const double *v,
                         const double *qlin, const double *klin, size_t n, size_t s, size_t e,
                         size_t c, int causal)
{
    if (!n || !s || !e || !c)
        return TUTOR_EINVAL;
    double *a = mat_new(n, n);
    if (!a)
        return TUTOR_ENOMEM;
    attn_flash_matrix(a, q, k, qlin, klin, n, s, c, causal);
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < e; t++) {
            double acc = 0.0;
            for (size_t j = 0; j < n; j++)
                acc += a[i * n + j] * v[j * e + t];
            o[i * e + t] = acc;
        }
    mat_free(a);
    return 0;
}

/* ---- the layers ---- */

const char *const attn_gau_layer_listing[] = {
    "U = silu(X W_u), V = silu(X W_v)",
    "Z = silu(X W_z)",
    "Q, K = Z * gamma + beta (per dimension)",
    "AV = relu(Q K^T / n)^2 V",
    "O = (U * AV) W_o",
};
const size_t attn_gau_layer_listing_len =
    sizeof attn_gau_layer_listing / sizeof attn_gau_layer_listing[0];

const char *const attn_flash_layer_listing[] = {
    "U = silu(X W_u), V = silu(X W_v)",
    "Z = silu(X W_z)",
    "Q, K, Q', K' = Z * gamma + beta (four)",
    "AV = mixed chunk attention, chunk c",
    "O = (U * AV) W_o",
};
const size_t attn_flash_layer_listing_len =
    sizeof attn_flash_layer_listing / sizeof attn_flash_layer_listing[0];

/* Shared by both layers; c = 0 selects the GAU core, else FLASH with chunk c. */
static int gated_layer(double *o, const double *x, const attn_gau_weights *w, size_t n, size_t c,
                       int causal, trace *tr)
{
    if (!n || !w || !w->dm || !w->e || !w->s)
        return TUTOR_EINVAL;
    size_t dm = w->dm, e = w->e, s = w->s, nqk = c ? 4 : 2;
    double *u = mat_new(n, e), *v = mat_new(n, e), *z = mat_new(n, s), *qk = mat_new(nqk * n, s),
           *av = mat_new(n, e), *a = NULL;
    int rc = TUTOR_ENOMEM;
    if (!u || !v || !z || !qk || !av)
        goto out;
    /* Pass 1: the three projections. */
    mat_gemm(u, x, w->wu, n, e, dm, 0, 0, 1.0, 0.0);
    mat_gemm(v, x, w->wv, n, e, dm, 0, 0, 1.0, 0.0);
    mat_gemm(z, x, w->wz, n, s, dm, 0, 0, 1.0, 0.0);
    for (size_t i = 0; i < n * e; i++) {
        u[i] = silu(u[i]);
        v[i] = silu(v[i]);
    }
    for (size_t i = 0; i < n * s; i++)
        z[i] = silu(z[i]);
    /* Pass 2: Q and K (and FLASH's linear Q', K') are cheap per-dimension transforms of Z. */
    for (size_t h = 0; h < nqk; h++)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < s; t++)
                qk[(h * n + i) * s + t] = z[i * s + t] * w->gamma[h * s + t] + w->beta[h * s + t];
    const double *q = qk, *k = qk + n * s;
    const double *ql = c ? qk + 2 * n * s : NULL, *kl = c ? qk + 3 * n * s : NULL;
    if (tr) {
        trace_step(tr, 1, "U and V: %zu x %zu", n, e);
        attn_snap(tr, "X", x, n, dm);
        attn_snap(tr, "U", u, n, e);
        attn_snap(tr, "V", v, n, e);
        trace_step(tr, 2, "Z: %zu x %zu", n, s);
        attn_snap(tr, "Z", z, n, s);
        trace_step(tr, 3, c ? "Q, K, Q', K' from Z" : "Q and K from Z");
        attn_snap(tr, "Q", q, n, s);
        attn_snap(tr, "K", k, n, s);
        if (c) {
            attn_snap(tr, "Q_lin", ql, n, s);
            attn_snap(tr, "K_lin", kl, n, s);
        }
    }
    /* Pass 3: the attention core. */
    rc = c ? attn_flash_core(av, q, k, v, ql, kl, n, s, e, c, causal, NULL)
           : attn_gau_core(av, q, k, v, n, s, e, causal, NULL);
    if (rc)
        goto out;
    if (tr) {
        if (attn_small(n, n)) {
            rc = TUTOR_ENOMEM;
            if (!(a = mat_new(n, n)))
                goto out;
            if (c)
                attn_flash_matrix(a, q, k, ql, kl, n, s, c, causal);
            else
                relu2_scores(a, q, k, n, s, (double)n, causal);
        }
        trace_step(tr, 4, c ? "AV = mixed chunk attention, chunk %zu" : "AV = A V", c);
        if (a)
            attn_snap(tr, "A", a, n, n);
        attn_snap(tr, "AV", av, n, e);
    }
    /* Pass 4: gate and project. */
    for (size_t i = 0; i < n * e; i++)
        av[i] *= u[i];
    mat_gemm(o, av, w->wo, n, dm, e, 0, 0, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 5, "O = (U * AV) W_o");
        attn_snap(tr, "O", o, n, dm);
    }
    rc = trace_status(tr);
out:
    mat_free(u);
    mat_free(v);
    mat_free(z);
    mat_free(qk);
    mat_free(av);
    mat_free(a);
    return rc;
}

int attn_gau_layer(double *o, const double *x, const attn_gau_weights *w, size_t n, int causal,
                   trace *tr)
{
    return gated_layer(o, x, w, n, 0, causal, tr);
}

int attn_flash_layer(double *o, const double *x, const attn_gau_weights *w, size_t n, size_t c,
                     int causal, trace *tr)
{
    if (!c)
        return TUTOR_EINVAL;
    return gated_layer(o, x, w, n, c, causal, tr);
}

/* out (n, cols) = act(x w) in loops; act = silu. */
static void slow_proj(double *out, const double *x, const double *w, size_t n, size_t dm,
                      size_t cols)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < cols; j++) {
            double acc = 0.0;
            for (size_t t = 0; t < dm; t++)
                acc += x[i * dm + t] * w[t * cols + j];
            out[i * cols + j] = silu(acc);
        }
}

static int gated_layer_slow(double *o, const double *x, const attn_gau_weights *w, size_t n,
                            size_t c, int causal)
{
    if (!n || !w || !w->dm || !w->e || !w->s)
        return TUTOR_EINVAL;
    size_t dm = w->dm, e = w->e, s = w->s;
    double *u = mat_new(n, e), *v = mat_new(n, e), *z = mat_new(n, s), *qk = mat_new(4 * n, s),
           *av = mat_new(n, e);
    int rc = TUTOR_ENOMEM;
    if (!u || !v || !z || !qk || !av)
        goto out;
    slow_proj(u, x, w->wu, n, dm, e);
    slow_proj(v, x, w->wv, n, dm, e);
    slow_proj(z, x, w->wz, n, dm, s);
    for (size_t h = 0; h < 4; h++)
        for (size_t i = 0; i < n; i++)
            for (size_t t = 0; t < s; t++)
                qk[(h * n + i) * s + t] = z[i * s + t] * w->gamma[h * s + t] + w->beta[h * s + t];
    double *q = qk, *k = qk + n * s, *ql = qk + 2 * n * s, *kl = qk + 3 * n * s;
    rc = c ? attn_flash_core_slow(av, q, k, v, ql, kl, n, s, e, c, causal)
           : attn_gau_core_slow(av, q, k, v, n, s, e, causal);
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dm; j++) {
            double acc = 0.0;
            for (size_t t = 0; t < e; t++)
                acc += u[i * e + t] * av[i * e + t] * w->wo[t * dm + j];
            o[i * dm + j] = acc;
        }
out:
    mat_free(u);
    mat_free(v);
    mat_free(z);
    mat_free(qk);
    mat_free(av);
    return rc;
}

int attn_gau_layer_slow(double *o, const double *x, const attn_gau_weights *w, size_t n, int causal)
{
    return gated_layer_slow(o, x, w, n, 0, causal);
}

int attn_flash_layer_slow(double *o, const double *x, const attn_gau_weights *w, size_t n, size_t c,
                          int causal)
{
    if (!c)
        return TUTOR_EINVAL;
    return gated_layer_slow(o, x, w, n, c, causal);
}
