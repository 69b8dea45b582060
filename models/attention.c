/* attention.c: softmax, sparse and DiagAttention, shared helpers, diagnostics (see
 * attention.h). */
#include "attention.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "fastexp.h"
#include "mat.h"

/* ---- shared helpers ---- */

/* Marks every cell of the (rows, cols) copy of P the trace shows as not computed yet, so a
 * row the loop has not reached reads as blank, not as zero weight. */
static void unset_all(double *a, size_t rows, size_t cols)
{
    for (size_t i = 0; i < rows * cols; i++)
        a[i] = TRACE_UNSET;
}

int attn_snap(trace *tr, const char *name, const double *a, size_t rows, size_t cols)
{
    if (!tr || !attn_small(rows, cols))
        return 0;
    return trace_matrix(tr, name, a, rows, cols);
}

void attn_snap_inputs(trace *tr, const double *q, const double *k, const double *v, size_t n,
                      size_t d, size_t dv)
{
    attn_snap(tr, "Q", q, n, d);
    attn_snap(tr, "K", k, n, d);
    attn_snap(tr, "V", v, n, dv);
}

void attn_phi(double *y, const double *x, size_t count, attn_fmap fmap)
{
    for (size_t i = 0; i < count; i++) {
        double t = x[i];
        if (fmap == ATTN_RELU)
            y[i] = t > 0.0 ? t : 0.0;
        else
            y[i] = t > 0.0 ? t + 1.0 : exp(t);
    }
}

void attn_row_softmax(double *p, const double *s, size_t rows, size_t cols, int causal)
{
    for (size_t i = 0; i < rows; i++) {
        const double *si = s + i * cols;
        double *pi = p + i * cols;
        size_t end = causal && i + 1 < cols ? i + 1 : cols;
        /* Subtracting the row maximum makes the largest exponent exp(0) = 1: no overflow,
         * and the sum is at least 1, so no division by an underflowed zero. */
        double m = -INFINITY;
        for (size_t j = 0; j < end; j++)
            m = si[j] > m ? si[j] : m;
        double sum = 0.0;
        for (size_t j = 0; j < end; j++) {
            pi[j] = si[j] == -INFINITY ? 0.0 : exp(si[j] - m);
            sum += pi[j];
        }
        for (size_t j = 0; j < end; j++)
            pi[j] /= sum;
        for (size_t j = end; j < cols; j++)
            pi[j] = 0.0;
    }
}

int attn_sparse_allowed(attn_pattern pattern, size_t l, size_t c, size_t i, size_t j)
{
    if (j > i)
        return 0;
    if (pattern == ATTN_STRIDED)
        return i - j < l || (i - j) % l == 0;
    return j / l == i / l || j % l >= l - c;
}

int attn_small(size_t rows, size_t cols)
{
    return !cols || rows <= ATTN_TRACE_MAX_CELLS / cols;
}

static int sizes_ok(size_t n, size_t d, size_t dv)
{
    return n && d && dv;
}

/* ---- softmax ---- */

const char *const attn_softmax_listing[] = {
    "S = Q K^T / sqrt(d)",
    "if causal: S[i][j] = -inf for j > i",
    "for each row i:",
    "    m = max_j S[i][j]",
    "    P[i][j] = exp(S[i][j] - m)",
    "    P[i][j] = P[i][j] / sum_j P[i][j]",
    "O = P V",
};
const size_t attn_softmax_listing_len =
    sizeof attn_softmax_listing / sizeof attn_softmax_listing[0];

static size_t argmax_row(const double *row, size_t n)
{
    size_t best = 0;
    for (size_t j = 1; j < n; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* Records the per-row softmax steps for the first rows: where the maximum is (a quiz: which
 * key wins) and the normalised row. p holds the finished P, s the masked scores. */
static void trace_softmax_rows(trace *tr, const double *s, const double *p, size_t n, double *shown)
{
    size_t rows = n < ATTN_TRACE_ROWS ? n : ATTN_TRACE_ROWS;
    for (size_t i = 0; i < rows; i++) {
        size_t best = argmax_row(s + i * n, n);
        trace_step(tr, 4, "row %zu: the largest score is S[%zu][%zu] = %.4g", i, i, best,
                   s[i * n + best]);
        trace_mark(tr, "S", (long)i, (long)best, TRACE_WINNER);
        trace_quiz(tr, "Which key (column) gets this query's largest weight?", (int64_t)best);
        double sum = 0.0, m = s[i * n + best];
        for (size_t j = 0; j < n; j++)
            sum += s[i * n + j] == -INFINITY ? 0.0 : exp(s[i * n + j] - m);
        memcpy(shown + i * n, p + i * n, n * sizeof *shown);
        trace_step(tr, 6, "row %zu: sum of exp(S - m) = %.4g; dividing makes the row sum to 1", i,
                   sum);
        attn_snap(tr, "P", shown, n, n);
        trace_mark(tr, "P", (long)i, (long)best, TRACE_WINNER);
    }
    if (rows < n) {
        trace_step(tr, 3, "rows %zu..%zu the same way (not recorded one by one)", rows, n - 1);
        attn_snap(tr, "P", p, n, n);
    }
}

/* Fills p (n, n) with masked scaled scores; the shared first passes of softmax attention. */
static void softmax_scores(double *p, const double *q, const double *k, size_t n, size_t d,
                           int causal)
{
    mat_gemm(p, q, k, n, n, d, 0, 1, 1.0 / sqrt((double)d), 0.0);
    if (causal)
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                p[i * n + j] = -INFINITY;
}

/* Rows of S computed at a time by the untraced path: as many as fit in 8 MiB of scores
 * (256 rows at n = 4096), between 8 and 256. Fewer rows mean more, smaller products, each
 * re-packing K or V inside OpenBLAS; more rows fall out of cache. Measured at n = 4096:
 * 64, 128, 256 and 512 rows within 5 % of each other, 256 the fastest. */
#define SOFTMAX_BLOCK_BYTES ((size_t)8 << 20)
#define SOFTMAX_BLOCK_MIN   8
#define SOFTMAX_BLOCK_MAX   256

/* Returns the maximum of the n values of a, skipping NaN as attn_row_softmax does (-inf for
 * n = 0). Four running maxima keep the comparisons independent so they vectorise; the
 * maximum does not depend on the order. */
static double row_max(const double *a, size_t n)
{
    double m[4] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    size_t j = 0;
    for (; j + 4 <= n; j += 4)
        for (size_t l = 0; l < 4; l++)
            m[l] = a[j + l] > m[l] ? a[j + l] : m[l];
    for (; j < n; j++)
        m[0] = a[j] > m[0] ? a[j] : m[0];
    double m01 = m[0] > m[1] ? m[0] : m[1], m23 = m[2] > m[3] ? m[2] : m[3];
    return m01 > m23 ? m01 : m23;
}

/* The untraced softmax attention, a block of rows at a time:
 *   S_b = Q_b K^T / sqrt(d)   (b, cols)   cols = n, or only the keys up to the block's last
 *                                          row when causal (the rest are masked anyway)
 *   E_b = exp(S_b - rowmax)   in place, with the masked tail of each row set to 0
 *   O_b = E_b V / rowsum      (b, dv)     dividing the dv outputs, not the cols weights
 * O(b n) memory for b rows (8 MiB unless n > 131072) instead of the n x n matrix, whose
 * fresh pages cost as much as the exponentials. The same values as attn_row_softmax and P V
 * up to rounding: the exponentials and sums come from fastexp_shifted_sum, and the division
 * moves after the product. */
static int softmax_blocked(double *o, const double *q, const double *k, const double *v, size_t n,
                           size_t d, size_t dv, int causal)
{
    size_t b = SOFTMAX_BLOCK_BYTES / sizeof(double) / n;
    b = b < SOFTMAX_BLOCK_MIN ? SOFTMAX_BLOCK_MIN : b > SOFTMAX_BLOCK_MAX ? SOFTMAX_BLOCK_MAX : b;
    b = b < n ? b : n;
    double *s = mat_new(b, n);
    double *sums = mem_alloc(mem_mul(b, sizeof *sums));
    if (!s || !sums) {
        mat_free(s);
        mem_free(sums);
        return TUTOR_ENOMEM;
    }
    double scale = 1.0 / sqrt((double)d);
    for (size_t i0 = 0; i0 < n; i0 += b) {
        size_t rows = n - i0 < b ? n - i0 : b;
        size_t cols = causal ? i0 + rows : n;
        mat_gemm(s, q + i0 * d, k, rows, cols, d, 0, 1, scale, 0.0);
        for (size_t r = 0; r < rows; r++) {
            double *sr = s + r * cols;
            size_t end = causal ? i0 + r + 1 : cols;
            sums[r] = fastexp_shifted_sum(sr, sr, row_max(sr, end), end);
            for (size_t j = end; j < cols; j++)
                sr[j] = 0.0;
        }
        double *ob = o + i0 * dv;
        mat_gemm(ob, s, v, rows, dv, cols, 0, 0, 1.0, 0.0);
        for (size_t r = 0; r < rows; r++)
            for (size_t c = 0; c < dv; c++)
                ob[r * dv + c] /= sums[r];
    }
    mat_free(s);
    mem_free(sums);
    return 0;
}

int attn_softmax(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                 size_t dv, int causal, trace *tr)
{
    if (!sizes_ok(n, d, dv))
        return TUTOR_EINVAL;
    /* Untraced and too large to record: the blocked form. Below that size a traced and an
     * untraced run give bit-identical outputs (tests rely on "tracing changes nothing"), so
     * both take the recorded path, which is fast enough there. */
    if (!tr && !attn_small(n, n))
        return softmax_blocked(o, q, k, v, n, d, dv, causal);
    /* Traced runs of a small n keep S and a growing copy of P for the per-row steps. */
    int show = tr && attn_small(n, n);
    double *p = mat_new(n, n);
    double *shown = show ? mat_new(n, n) : NULL;
    double *s = NULL;
    if (!p || (show && !shown)) {
        mat_free(p);
        mat_free(shown);
        return TUTOR_ENOMEM;
    }
    if (shown)
        unset_all(shown, n, n);
    /* Pass 1: S = q k^T / sqrt(d). */
    mat_gemm(p, q, k, n, n, d, 0, 1, 1.0 / sqrt((double)d), 0.0);
    if (tr) {
        trace_step(tr, 1, "S = Q K^T / sqrt(%zu): %zu x %zu scores", d, n, n);
        attn_snap(tr, "S", p, n, n);
        attn_snap_inputs(tr, q, k, v, n, d, dv);
    }
    /* Pass 2: the causal mask; exp(-inf) = 0 removes future keys from the sum. */
    if (causal) {
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++)
                p[i * n + j] = -INFINITY;
        if (tr) {
            trace_step(tr, 2, "causal: %zu future scores set to -inf", n * (n - 1) / 2);
            attn_snap(tr, "S", p, n, n);
        }
    }
    /* Pass 3: stable row softmax. */
    if (show && !(s = mat_dup(p, n, n))) {
        mat_free(p);
        mat_free(shown);
        return TUTOR_ENOMEM;
    }
    attn_row_softmax(p, p, n, n, causal);
    if (show)
        trace_softmax_rows(tr, s, p, n, shown);
    else if (tr)
        trace_step(tr, 3, "stable softmax of all %zu rows (too large to record)", n);
    /* Pass 4: o = P v. */
    mat_gemm(o, p, v, n, dv, n, 0, 0, 1.0, 0.0);
    if (tr) {
        trace_step(tr, 7, "O = P V: each output row is a weighted mean of the rows of V");
        attn_snap(tr, "O", o, n, dv);
    }
    mat_free(s);
    mat_free(shown);
    mat_free(p);
    return trace_status(tr);
}

int attn_softmax_probs(double *p, const double *q, const double *k, size_t n, size_t d, int causal)
{
    if (!n || !d)
        return TUTOR_EINVAL;
    softmax_scores(p, q, k, n, d, causal);
    attn_row_softmax(p, p, n, n, causal);
    return 0;
}

/* Slow form shared by softmax, sparse and diag: allowed(i, j) decides each pair. */
typedef int (*pair_rule)(size_t i, size_t j, const size_t *params);

static int dense_masked(double *o, const double *q, const double *k, const double *v, size_t n,
                        size_t d, size_t dv, pair_rule allowed, const size_t *params)
{
    double *s = mat_new(n, 1);
    if (!s)
        return TUTOR_ENOMEM;
    double scale = 1.0 / sqrt((double)d);
    for (size_t i = 0; i < n; i++) {
        double m = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            double dot = 0.0;
            for (size_t t = 0; t < d; t++)
                dot += q[i * d + t] * k[j * d + t];
            s[j] = allowed(i, j, params) ? dot * scale : -INFINITY;
            if (s[j] > m)
                m = s[j];
        }
        double sum = 0.0;
        for (size_t j = 0; j < n; j++) {
            s[j] = s[j] == -INFINITY ? 0.0 : exp(s[j] - m);
            sum += s[j];
        }
        for (size_t t = 0; t < dv; t++) {
            double acc = 0.0;
            for (size_t j = 0; j < n; j++)
                acc += s[j] * v[j * dv + t];
            o[i * dv + t] = acc / sum;
        }
    }
    mat_free(s);
    return 0;
}

static int rule_softmax(size_t i, size_t j, const size_t *params)
{
    return !params[0] || j <= i;
}

int attn_softmax_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                      size_t d, size_t dv, int causal)
{
    if (!sizes_ok(n, d, dv))
        return TUTOR_EINVAL;
    size_t params[1] = {(size_t)(causal != 0)};
    return dense_masked(o, q, k, v, n, d, dv, rule_softmax, params);
}

/* ---- sparse ---- */

const char *const attn_sparse_listing[] = {
    "for each query i:",
    "    J = allowed keys j <= i (pattern)",
    "    s_j = q_i . k_j / sqrt(d), j in J",
    "    p = softmax(s) over J",
    "    o_i = sum_{j in J} p_j v_j",
};
const size_t attn_sparse_listing_len = sizeof attn_sparse_listing / sizeof attn_sparse_listing[0];

static int sparse_params_ok(attn_pattern pattern, size_t l, size_t c)
{
    if (l < 1)
        return 0;
    return pattern == ATTN_STRIDED || (pattern == ATTN_FIXED && c >= 1 && c <= l);
}

/* Writes the allowed keys of query i into idx in increasing order and returns how many.
 * Enumerates them directly (never tests all j), which is what makes sparse attention
 * cheaper than dense: strided visits the column i mod l, i mod l + l, ... up to the local
 * window (i - l, i]; fixed visits the summary cells of earlier blocks, then i's own block. */
static size_t sparse_keys(size_t *idx, attn_pattern pattern, size_t l, size_t c, size_t i)
{
    size_t cnt = 0;
    if (pattern == ATTN_STRIDED) {
        size_t window = i + 1 > l ? i + 1 - l : 0; /* first key of the local window */
        for (size_t j = i % l; j < window; j += l)
            idx[cnt++] = j;
        for (size_t j = window; j <= i; j++)
            idx[cnt++] = j;
    } else {
        size_t own = i / l * l;
        for (size_t b = 0; b < own; b += l)
            for (size_t j = b + l - c; j < b + l; j++)
                idx[cnt++] = j;
        for (size_t j = own; j <= i; j++)
            idx[cnt++] = j;
    }
    return cnt;
}

size_t attn_sparse_count(attn_pattern pattern, size_t n, size_t l, size_t c)
{
    size_t cnt = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j <= i; j++)
            cnt += (size_t)attn_sparse_allowed(pattern, l, c, i, j);
    return cnt;
}

static void trace_sparse_start(trace *tr, attn_pattern pattern, size_t n, size_t l, size_t c,
                               double *pattern_m)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            pattern_m[i * n + j] = attn_sparse_allowed(pattern, l, c, i, j);
    size_t allowed = attn_sparse_count(pattern, n, l, c);
    if (pattern == ATTN_STRIDED)
        trace_step(tr, 1, "strided pattern, stride %zu: %zu of %zu pairs allowed", l, allowed,
                   n * n);
    else
        trace_step(tr, 1, "fixed pattern, block %zu, %zu summary cells: %zu of %zu pairs allowed",
                   l, c, allowed, n * n);
    attn_snap(tr, "pattern", pattern_m, n, n);
    trace_real(tr, "density", (double)allowed / ((double)n * (double)n));
}

int attn_sparse(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                size_t dv, attn_pattern pattern, size_t l, size_t c, trace *tr)
{
    if (!sizes_ok(n, d, dv) || !sparse_params_ok(pattern, l, c))
        return TUTOR_EINVAL;
    size_t *idx = mem_calloc(n, sizeof *idx);
    double *s = mat_new(n, 1);
    double *shown = tr && attn_small(n, n) ? mat_new(n, n) : NULL;
    int rc = TUTOR_ENOMEM;
    if (!idx || !s || (tr && attn_small(n, n) && !shown))
        goto out;
    if (shown) {
        trace_sparse_start(tr, pattern, n, l, c, shown);
        attn_snap_inputs(tr, q, k, v, n, d, dv);
        unset_all(shown, n, n); /* from here on it shows P, row by row */
    } else if (tr) {
        trace_step(tr, 1, "sparse attention over %zu queries (too large to record)", n);
        trace_real(tr, "density",
                   (double)attn_sparse_count(pattern, n, l, c) / ((double)n * (double)n));
    }
    double scale = 1.0 / sqrt((double)d);
    for (size_t i = 0; i < n; i++) {
        /* Pass 1: the allowed keys, enumerated. */
        size_t cnt = sparse_keys(idx, pattern, l, c, i);
        int show = shown && i < ATTN_TRACE_ROWS;
        if (show) {
            trace_step(tr, 2, "query %zu may see %zu keys", i, cnt);
            for (size_t t = 0; t < cnt; t++)
                trace_mark(tr, "pattern", (long)i, (long)idx[t], TRACE_SOURCE);
            trace_quiz(tr, "How many keys may this query see?", (int64_t)cnt);
        }
        /* Pass 2: scores for those pairs only. */
        double m = -INFINITY;
        for (size_t t = 0; t < cnt; t++) {
            s[t] = scale * mat_dot(q + i * d, k + idx[t] * d, d);
            m = s[t] > m ? s[t] : m;
        }
        /* Pass 3: stable softmax over J. */
        double sum = 0.0;
        for (size_t t = 0; t < cnt; t++) {
            s[t] = exp(s[t] - m);
            sum += s[t];
        }
        /* Pass 4: o_i = sum_t p_t v_{j_t}. */
        memset(o + i * dv, 0, dv * sizeof *o);
        if (shown) /* the keys outside the pattern: weight 0, now that the row is done */
            for (size_t j = 0; j < n; j++)
                shown[i * n + j] = 0.0;
        for (size_t t = 0; t < cnt; t++) {
            s[t] /= sum;
            mat_axpy(o + i * dv, s[t], v + idx[t] * dv, dv);
            if (shown)
                shown[i * n + idx[t]] = s[t];
        }
        if (show) {
            trace_step(tr, 4, "query %zu: softmax over its %zu keys", i, cnt);
            attn_snap(tr, "P", shown, n, n);
            trace_step(tr, 5, "o_%zu = weighted sum of %zu rows of V", i, cnt);
            trace_mark(tr, "P", (long)i, (long)i, TRACE_CURRENT);
        }
    }
    if (tr) {
        if (shown && n > ATTN_TRACE_ROWS) {
            trace_step(tr, 1, "queries %d..%zu the same way (not recorded one by one)",
                       ATTN_TRACE_ROWS, n - 1);
            attn_snap(tr, "P", shown, n, n);
        }
        trace_step(tr, 5, "O: every row done");
        attn_snap(tr, "O", o, n, dv);
    }
    rc = trace_status(tr);
out:
    mem_free(idx);
    mat_free(s);
    mat_free(shown);
    return rc;
}

static int rule_sparse(size_t i, size_t j, const size_t *params)
{
    return attn_sparse_allowed((attn_pattern)params[0], params[1], params[2], i, j);
}

int attn_sparse_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                     size_t d, size_t dv, attn_pattern pattern, size_t l, size_t c)
{
    if (!sizes_ok(n, d, dv) || !sparse_params_ok(pattern, l, c))
        return TUTOR_EINVAL;
    size_t params[3] = {(size_t)pattern, l, c};
    return dense_masked(o, q, k, v, n, d, dv, rule_sparse, params);
}

/* ---- DiagAttention ---- */

const char *const attn_diag_listing[] = {
    "for each block g of b rows:",
    "    S_g = Q_g K_g^T / sqrt(d)  (+ mask)",
    "    P_g = softmax(S_g) by rows",
    "    O_g = P_g V_g",
};
const size_t attn_diag_listing_len = sizeof attn_diag_listing / sizeof attn_diag_listing[0];

int attn_diag(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
              size_t dv, size_t b, int causal, trace *tr)
{
    if (!sizes_ok(n, d, dv) || !b)
        return TUTOR_EINVAL;
    if (b > n)
        b = n;
    double *p = mat_new(b, b);
    int show = tr && attn_small(n, n);
    double *shown = show ? mat_new(n, n) : NULL;
    if (!p || (show && !shown)) {
        mat_free(p);
        mat_free(shown);
        return TUTOR_ENOMEM;
    }
    if (shown)
        unset_all(shown, n, n);
    if (tr) {
        trace_step(tr, 1, "%zu blocks of %zu rows", (n + b - 1) / b, b);
        attn_snap_inputs(tr, q, k, v, n, d, dv);
    }
    for (size_t g = 0, block = 0; g < n; g += b, block++) {
        size_t len = n - g < b ? n - g : b;
        /* Pass 1: the block's scores. Pass 2: its softmax. Pass 3: its output rows. */
        softmax_scores(p, q + g * d, k + g * d, len, d, causal);
        attn_row_softmax(p, p, len, len, causal);
        mat_gemm(o + g * dv, p, v + g * dv, len, dv, len, 0, 0, 1.0, 0.0);
        if (show) {
            for (size_t i = 0; i < len; i++) {
                /* Keys outside the block get weight 0 once the row is done. */
                for (size_t j = 0; j < n; j++)
                    shown[(g + i) * n + j] = 0.0;
                memcpy(shown + (g + i) * n + g, p + i * len, len * sizeof *p);
            }
            if (block < ATTN_TRACE_ROWS) {
                trace_step(
                    tr, 3,
                    "block %zu (rows %zu..%zu): softmax inside the block; row %zu's top key is %zu",
                    block, g, g + len - 1, g, g + argmax_row(p, len));
                attn_snap(tr, "P", shown, n, n);
                size_t best = g + argmax_row(p, len);
                trace_mark(tr, "P", (long)g, (long)best, TRACE_WINNER);
                trace_quiz(tr, "Which key (column) gets the block's first row's largest weight?",
                           (int64_t)best);
            }
        }
    }
    if (tr) {
        trace_step(tr, 4, "O = blockwise P V");
        if (show && (n + b - 1) / b > ATTN_TRACE_ROWS) /* blocks were left unrecorded */
            attn_snap(tr, "P", shown, n, n);
        attn_snap(tr, "O", o, n, dv);
    }
    mat_free(p);
    mat_free(shown);
    return trace_status(tr);
}

int attn_diag_probs(double *p, const double *q, const double *k, size_t n, size_t d, size_t b,
                    int causal)
{
    if (!n || !d || !b)
        return TUTOR_EINVAL;
    if (b > n)
        b = n;
    memset(p, 0, n * n * sizeof *p);
    double *blk = mat_new(b, b);
    if (!blk)
        return TUTOR_ENOMEM;
    for (size_t g = 0; g < n; g += b) {
        size_t len = n - g < b ? n - g : b;
        softmax_scores(blk, q + g * d, k + g * d, len, d, causal);
        attn_row_softmax(blk, blk, len, len, causal);
        for (size_t i = 0; i < len; i++)
            memcpy(p + (g + i) * n + g, blk + i * len, len * sizeof *p);
    }
    mat_free(blk);
    return 0;
}

static int rule_diag(size_t i, size_t j, const size_t *params)
{
    return i / params[0] == j / params[0] && (!params[1] || j <= i);
}

int attn_diag_slow(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                   size_t dv, size_t b, int causal)
{
    if (!sizes_ok(n, d, dv) || !b)
        return TUTOR_EINVAL;
    size_t params[2] = {b, (size_t)(causal != 0)};
    return dense_masked(o, q, k, v, n, d, dv, rule_diag, params);
}

/* ---- diagnostics ---- */

void attn_dilution(double *mass, const double *a, size_t n, size_t radius)
{
    for (size_t i = 0; i < n; i++) {
        size_t lo = i > radius ? i - radius : 0;
        size_t hi = n - 1 - i > radius ? i + radius : n - 1;
        double sum = 0.0;
        for (size_t j = lo; j <= hi; j++)
            sum += a[i * n + j];
        mass[i] = sum;
    }
}

int attn_normaliser(double *den, const double *q, const double *k, size_t n, size_t d,
                    attn_fmap fmap, int causal)
{
    if (!n || !d)
        return TUTOR_EINVAL;
    double *z = mat_new(d, 1), *fq = mat_new(d, 1), *fk = mat_new(d, 1);
    int rc = TUTOR_ENOMEM;
    if (!z || !fq || !fk)
        goto out;
    if (!causal)
        for (size_t j = 0; j < n; j++) {
            attn_phi(fk, k + j * d, d, fmap);
            mat_axpy(z, 1.0, fk, d);
        }
    for (size_t i = 0; i < n; i++) {
        if (causal) {
            attn_phi(fk, k + i * d, d, fmap);
            mat_axpy(z, 1.0, fk, d);
        }
        attn_phi(fq, q + i * d, d, fmap);
        den[i] = mat_dot(fq, z, d);
    }
    rc = 0;
out:
    mat_free(z);
    mat_free(fq);
    mat_free(fk);
    return rc;
}
