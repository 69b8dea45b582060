/* Tests of the attention family: every fast form against its slow form on seeded inputs,
 * the equivalences the issue lists (causal recurrence = masked quadratic, sparse = masked
 * dense, FLASH with c = n causal = GAU core, Diag with b = n = softmax, FAVOR+ error falling
 * with m), hand-checked small cases, softmax's shift invariance, traces, allocation
 * failures, and the `attention` CLI topic. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/attention.h"
#include "../models/attn_gau.h"
#include "../models/attn_linear.h"
#include "../models/mat.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "../tutor/cli.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

/* Tolerances. Fast and slow forms sum in different orders (BLAS blocking), so they agree
 * to rounding: 1e-10 relative to the output's scale is far above rounding (~1e-15 n) and
 * far below any real bug. */
#define TOL_EXACT 1e-10

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

/* A new rows x cols matrix of N(0, scale^2) values (asserts on failure). */
static double *rand_mat(rng *r, size_t rows, size_t cols, double scale)
{
    double *a = mat_new(rows, cols);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mat_gauss(a, rows * cols, r, scale);
    return a;
}

/* max |a - b| / max(1, max |b|): relative to the result's scale. */
static double rel_err(const double *a, const double *b, size_t count)
{
    double scale = 1.0;
    for (size_t i = 0; i < count; i++)
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    return mat_max_abs_diff(a, b, count) / scale;
}

static int check_close(const double *a, const double *b, size_t count, double tol, const char *what)
{
    double e = rel_err(a, b, count);
    if (!(e <= tol)) {
        fprintf(stderr, "\n  %s: error %.3g > %.3g\n", what, e, tol);
        return 0;
    }
    return 1;
}

/* One random case: sizes from r, fresh q, k, v. */
typedef struct rcase {
    size_t n, d, dv;
    int causal;
    double *q, *k, *v, *o1, *o2;
} rcase;

static void rcase_new(rcase *c, rng *r, size_t max_n, double scale)
{
    c->n = (size_t)rng_range(r, 1, (int64_t)max_n);
    c->d = (size_t)rng_range(r, 1, 8);
    c->dv = (size_t)rng_range(r, 1, 8);
    c->causal = (int)rng_range(r, 0, 1);
    c->q = rand_mat(r, c->n, c->d, scale);
    c->k = rand_mat(r, c->n, c->d, scale);
    c->v = rand_mat(r, c->n, c->dv, 1.0);
    c->o1 = mat_new(c->n, c->dv);
    c->o2 = mat_new(c->n, c->dv);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c->o1 && c->o2 ? c->o1 : NULL);
}

static void rcase_free(rcase *c)
{
    mat_free(c->q);
    mat_free(c->k);
    mat_free(c->v);
    mat_free(c->o1);
    mat_free(c->o2);
}

/* ---- softmax ---- */

static void test_softmax_hand(void)
{
    /* S = [[1, 0], [0, 0]]: row 0 weights e/(e+1), 1/(e+1); row 1 one half each. */
    double q[2] = {1, 0}, k[2] = {1, 0}, v[2] = {1, 0}, o[2];
    double e = exp(1.0);
    CU_ASSERT_EQUAL(attn_softmax(o, q, k, v, 2, 1, 1, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], e / (e + 1), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 0.5, 1e-15);
    CU_ASSERT_EQUAL(attn_softmax(o, q, k, v, 2, 1, 1, 1, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 1.0, 1e-15); /* row 0 sees only key 0 */
    CU_ASSERT_DOUBLE_EQUAL(o[1], 0.5, 1e-15);
    /* Scale 1/sqrt(d): d = 4, q = k = (1,1,1,1) and a zero key: scores 2 and 0. */
    double q4[8] = {1, 1, 1, 1, 0, 0, 0, 0}, v2[2] = {1, 0}, o2[2];
    CU_ASSERT_EQUAL(attn_softmax(o2, q4, q4, v2, 2, 4, 1, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o2[0], exp(2.0) / (exp(2.0) + 1), 1e-15);
}

static void test_softmax_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 101);
    for (int trial = 0; trial < 60; trial++) {
        rcase c;
        rcase_new(&c, &r, 24, 1.5);
        CU_ASSERT_EQUAL(attn_softmax(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_softmax_slow(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "softmax"));
        rcase_free(&c);
    }
}

static void test_softmax_shift_invariance(void)
{
    /* Adding 1e4 to every score of a row changes nothing; exp(1e4) alone is inf. */
    double s[6] = {0.5, -1.0, 2.0, 3.0, 0.0, -2.0}, shifted[6], p1[6], p2[6];
    for (int i = 0; i < 6; i++)
        shifted[i] = s[i] + 1e4;
    CU_ASSERT(isinf(exp(shifted[0])));
    attn_row_softmax(p1, s, 2, 3, 0);
    attn_row_softmax(p2, shifted, 2, 3, 0);
    CU_ASSERT(mat_max_abs_diff(p1, p2, 6) < 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(p1[0] + p1[1] + p1[2], 1.0, 1e-15);
    /* Whole attention: shifting every key by u adds q_i . u / sqrt(d) to row i's scores,
     * a per-row constant, here about 1e4. */
    rng r;
    rng_seed(&r, 5);
    size_t n = 9, d = 4, dv = 3;
    double *q = rand_mat(&r, n, d, 1.0), *k = rand_mat(&r, n, d, 1.0), *v = rand_mat(&r, n, dv, 1);
    double *ks = mat_dup(k, n, d), *o1 = mat_new(n, dv), *o2 = mat_new(n, dv);
    for (size_t i = 0; i < n; i++)
        q[i * d] = 1.0 + 0.1 * (double)i; /* q_i . u > 0 and different per row */
    for (size_t j = 0; j < n; j++)
        ks[j * d] += 2e4;
    for (int causal = 0; causal < 2; causal++) {
        CU_ASSERT_EQUAL(attn_softmax(o1, q, k, v, n, d, dv, causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_softmax(o2, q, ks, v, n, d, dv, causal, NULL), 0);
        CU_ASSERT(check_close(o2, o1, n * dv, 1e-8, "shifted softmax"));
    }
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(ks);
    mat_free(o1);
    mat_free(o2);
}

/* ---- sparse ---- */

static void test_sparse_patterns_hand(void)
{
    /* Strided, l = 2: query 4 sees 4, 3 (window) and 2, 0 (every 2nd back). */
    int want_s[5] = {1, 0, 1, 1, 1};
    for (size_t j = 0; j < 5; j++) {
        CU_ASSERT_EQUAL(attn_sparse_allowed(ATTN_STRIDED, 2, 0, 4, j), want_s[j]);
    }
    CU_ASSERT_FALSE(attn_sparse_allowed(ATTN_STRIDED, 2, 0, 3, 4)); /* never the future */
    /* Fixed, l = 3, c = 1: query 5 (block 3..5) sees its block and summary cell 2. */
    int want_f[6] = {0, 0, 1, 1, 1, 1};
    for (size_t j = 0; j < 6; j++) {
        CU_ASSERT_EQUAL(attn_sparse_allowed(ATTN_FIXED, 3, 1, 5, j), want_f[j]);
    }
    /* Counts: strided l = 1 is every causal pair; n = 4, l = 2: rows see 1, 2, 3, 3. */
    CU_ASSERT_EQUAL(attn_sparse_count(ATTN_STRIDED, 5, 1, 0), 15);
    CU_ASSERT_EQUAL(attn_sparse_count(ATTN_STRIDED, 4, 2, 0), 9);
    /* The cost is O(n (l + n/l)), not n^2: n = 400, l = 20: about 400 * 40 pairs. */
    size_t cnt = attn_sparse_count(ATTN_STRIDED, 400, 20, 0);
    CU_ASSERT(cnt <= 400 * (20 + 400 / 20));
    CU_ASSERT(cnt < 400 * 401 / 4);
}

static void test_sparse_vs_masked_dense(void)
{
    rng r;
    rng_seed(&r, 202);
    for (int trial = 0; trial < 80; trial++) {
        rcase c;
        rcase_new(&c, &r, 30, 1.0);
        attn_pattern pat = trial % 2 ? ATTN_FIXED : ATTN_STRIDED;
        size_t l = (size_t)rng_range(&r, 1, 9);
        size_t cc = (size_t)rng_range(&r, 1, (int64_t)l);
        CU_ASSERT_EQUAL(attn_sparse(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, pat, l, cc, NULL), 0);
        CU_ASSERT_EQUAL(attn_sparse_slow(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, pat, l, cc), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "sparse"));
        rcase_free(&c);
    }
    /* Strided with l >= n allows every causal pair: causal softmax. */
    rcase c;
    rcase_new(&c, &r, 12, 1.0);
    CU_ASSERT_EQUAL(attn_sparse(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, ATTN_STRIDED, c.n, 1, NULL),
                    0);
    CU_ASSERT_EQUAL(attn_softmax(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, 1, NULL), 0);
    CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "strided l = n"));
    CU_ASSERT_EQUAL(attn_sparse(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, ATTN_FIXED, 3, 4, NULL),
                    TUTOR_EINVAL);
    CU_ASSERT_EQUAL(attn_sparse(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, ATTN_STRIDED, 0, 1, NULL),
                    TUTOR_EINVAL);
    rcase_free(&c);
}

/* ---- linear ---- */

static void test_linear_hand(void)
{
    /* phi(0) = 1, phi(1) = 2 (elu + 1). q = 0, k = (0, 1), v = (1, 3):
     * non-causal o = (1*1 + 2*3) / (1 + 2 + 1e-6); causal row 0 = 1 / (1 + 1e-6). */
    double q[2] = {0, 0}, k[2] = {0, 1}, v[2] = {1, 3}, o[2];
    CU_ASSERT_EQUAL(attn_linear(o, q, k, v, 2, 1, 1, ATTN_ELU1, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 7.0 / (3.0 + 1e-6), 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 7.0 / (3.0 + 1e-6), 1e-14);
    CU_ASSERT_EQUAL(attn_linear(o, q, k, v, 2, 1, 1, ATTN_ELU1, 1, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 1.0 / (1.0 + 1e-6), 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 7.0 / (3.0 + 1e-6), 1e-14);
    /* relu: phi(0) = 0 everywhere for q: the 1e-6 guard keeps o = 0 instead of 0/0. */
    CU_ASSERT_EQUAL(attn_linear(o, q, k, v, 2, 1, 1, ATTN_RELU, 0, NULL), 0);
    CU_ASSERT_EQUAL(o[0], 0.0);
    double neg[1] = {-1.0}, phi[1];
    attn_phi(phi, neg, 1, ATTN_ELU1);
    CU_ASSERT_DOUBLE_EQUAL(phi[0], exp(-1.0), 1e-16);
}

static void test_linear_recurrence_vs_quadratic(void)
{
    rng r;
    rng_seed(&r, 303);
    for (int trial = 0; trial < 60; trial++) {
        rcase c;
        rcase_new(&c, &r, 40, 1.0);
        attn_fmap f = trial % 2 ? ATTN_RELU : ATTN_ELU1;
        CU_ASSERT_EQUAL(attn_linear(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, f, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_linear_slow(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, f, c.causal), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "linear"));
        /* The implied matrix times V is the output too. */
        double *a = mat_new(c.n, c.n);
        CU_ASSERT_EQUAL(attn_linear_probs(a, c.q, c.k, c.n, c.d, f, c.causal), 0);
        mat_gemm(c.o2, a, c.v, c.n, c.dv, c.n, 0, 0, 1.0, 0.0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "linear A V"));
        mat_free(a);
        rcase_free(&c);
    }
}

/* ---- performer ---- */

static void test_orf(void)
{
    rng r;
    rng_seed(&r, 9);
    size_t m = 10, d = 4;
    double *w = mat_new(m, d);
    CU_ASSERT_EQUAL_FATAL(attn_orf(w, m, d, &r), 0);
    /* Rows inside a block of d are orthogonal; lengths vary (chi-distributed). */
    for (size_t b = 0; b < m; b += d)
        for (size_t i = b; i < b + d && i < m; i++)
            for (size_t j = b; j < i; j++) {
                CU_ASSERT(fabs(mat_dot(w + i * d, w + j * d, d)) < 1e-12);
            }
    CU_ASSERT(fabs(mat_dot(w, w, d) - mat_dot(w + d, w + d, d)) > 1e-6);
    /* The same seed gives the same features. */
    double *w2 = mat_new(m, d);
    rng_seed(&r, 9);
    CU_ASSERT_EQUAL(attn_orf(w2, m, d, &r), 0);
    CU_ASSERT_EQUAL(mat_max_abs_diff(w, w2, m * d), 0.0);
    mat_free(w);
    mat_free(w2);
}

static void test_performer_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 404);
    for (int trial = 0; trial < 40; trial++) {
        rcase c;
        rcase_new(&c, &r, 24, 0.7);
        size_t m = (size_t)rng_range(&r, 1, 40);
        double *w = mat_new(m, c.d);
        CU_ASSERT_EQUAL(attn_orf(w, m, c.d, &r), 0);
        CU_ASSERT_EQUAL(attn_performer(c.o1, c.q, c.k, c.v, w, c.n, c.d, c.dv, m, c.causal, NULL),
                        0);
        CU_ASSERT_EQUAL(attn_performer_slow(c.o2, c.q, c.k, c.v, w, c.n, c.d, c.dv, m, c.causal),
                        0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "performer"));
        mat_free(w);
        rcase_free(&c);
    }
}

static void test_performer_extremes(void)
{
    /* Large inputs: |x'|^2 / 2 = 1800 alone would make exp underflow to 0; stabilising the
     * whole exponent keeps every row finite, and o stays a mean of the values. */
    size_t n = 3, d = 1, m = 8;
    double q[3] = {60, -60, 60}, k[3] = {60, -60, 60}, v[3] = {1, 2, 3}, o[3], w[8];
    rng r;
    rng_seed(&r, 77);
    CU_ASSERT_EQUAL(attn_orf(w, m, d, &r), 0);
    for (int causal = 0; causal < 2; causal++) {
        CU_ASSERT_EQUAL(attn_performer(o, q, k, v, w, n, d, 1, m, causal, NULL), 0);
        for (size_t i = 0; i < n; i++) {
            CU_ASSERT(isfinite(o[i]) && o[i] >= 1.0 - 1e-12 && o[i] <= 3.0 + 1e-12);
        }
    }
    /* Opposite query and key, far apart: every product underflows: TUTOR_ERANGE. */
    double q1[1] = {800}, k1[1] = {-800}, v1[1] = {5}, o1[1];
    double w2[2] = {1.0, -1.0};
    CU_ASSERT_EQUAL(attn_performer(o1, q1, k1, v1, w2, 1, 1, 1, 2, 1, NULL), TUTOR_ERANGE);
}

/* Mean over seeds of max |A_favor - P_softmax| for m features. */
static double favor_error(size_t m, int causal)
{
    size_t n = 12, d = 4;
    double total = 0.0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        rng r;
        rng_seed(&r, 1000 + seed);
        /* Small scores: the estimator's variance grows like exp(|q' + k'|^2). */
        double *q = rand_mat(&r, n, d, 0.3), *k = rand_mat(&r, n, d, 0.3);
        double *w = mat_new(m, d), *a = mat_new(n, n), *p = mat_new(n, n);
        CU_ASSERT_EQUAL(attn_orf(w, m, d, &r), 0);
        CU_ASSERT_EQUAL(attn_performer_probs(a, q, k, w, n, d, m, causal), 0);
        CU_ASSERT_EQUAL(attn_softmax_probs(p, q, k, n, d, causal), 0);
        total += mat_max_abs_diff(a, p, n * n);
        mat_free(q);
        mat_free(k);
        mat_free(w);
        mat_free(a);
        mat_free(p);
    }
    return total / 6;
}

static void test_favor_error_falls(void)
{
    for (int causal = 0; causal < 2; causal++) {
        double e4 = favor_error(4, causal), e64 = favor_error(64, causal),
               e1024 = favor_error(1024, causal);
        /* Monte Carlo: error ~ 1/sqrt(m), a factor 4 per 16x features. */
        CU_ASSERT(e64 < e4);
        CU_ASSERT(e1024 < e64);
        CU_ASSERT(e1024 < 0.01);
        if (!(e1024 < e64 && e64 < e4))
            fprintf(stderr, "\n  favor errors %.3g %.3g %.3g\n", e4, e64, e1024);
    }
}

/* ---- GAU and FLASH ---- */

static void test_gau_hand(void)
{
    /* S = q k^T / 2 = [[0.5, -0.5], [1, -1]]; A = [[0.25, 0], [1, 0]]; v = 1: o = rows of A
     * summed. */
    double q[2] = {1, 2}, k[2] = {1, -1}, v[2] = {1, 1}, o[2];
    CU_ASSERT_EQUAL(attn_gau_core(o, q, k, v, 2, 1, 1, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 0.25, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 1.0, 1e-15);
    /* Causal with k = (1, 1): S = [[0.5, 0.5], [1, 1]], row 0 keeps key 0 only. */
    double k2[2] = {1, 1};
    CU_ASSERT_EQUAL(attn_gau_core(o, q, k2, v, 2, 1, 1, 1, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 0.25, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 2.0, 1e-15);
}

static void test_flash_and_norm_hand(void)
{
    /* FLASH, chunks of 1: q = (1, 2), k = (1, 1), v = (1, 10), n = 2.
     * Quadratic: relu(1)^2 * 1 = 1 and relu(2)^2 * 10 = 40. Linear, non-causal:
     * M = 1*1 + 1*10 = 11, adds q_i * 11 / 2: 5.5 and 11. Causal: row 0 gets nothing,
     * row 1 gets 2 * (1*1) / 2 = 1. */
    double q[2] = {1, 2}, k[2] = {1, 1}, v[2] = {1, 10}, o[2];
    CU_ASSERT_EQUAL(attn_flash_core(o, q, k, v, NULL, NULL, 2, 1, 1, 1, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 6.5, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 51.0, 1e-14);
    CU_ASSERT_EQUAL(attn_flash_core(o, q, k, v, NULL, NULL, 2, 1, 1, 1, 1, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o[0], 1.0, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o[1], 41.0, 1e-14);
    /* NormAttention, n = 1: phi(0) = 1, so o = RMSNorm(v) = v / (|v| / sqrt(2) + 1e-8):
     * v = (3, 4) gives (3, 4) / 3.5355... */
    double z[1] = {0}, v2[2] = {3, 4}, o2[2];
    CU_ASSERT_EQUAL(attn_norm(o2, z, z, v2, 1, 1, 2, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o2[0], 3.0 / (5.0 / sqrt(2.0) + 1e-8), 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(o2[1], 4.0 / (5.0 / sqrt(2.0) + 1e-8), 1e-14);
    /* DiagAttention, blocks of 2 over n = 3 with q = 0: uniform inside each block. */
    double q3[3] = {0, 0, 0}, v3[3] = {1, 3, 7}, o3[3];
    CU_ASSERT_EQUAL(attn_diag(o3, q3, q3, v3, 3, 1, 1, 2, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(o3[0], 2.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o3[1], 2.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(o3[2], 7.0, 1e-15);
}

static void test_gau_flash_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 505);
    for (int trial = 0; trial < 60; trial++) {
        rcase c;
        rcase_new(&c, &r, 30, 1.5);
        CU_ASSERT_EQUAL(attn_gau_core(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_gau_core_slow(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "gau core"));
        size_t chunk = (size_t)rng_range(&r, 1, (int64_t)c.n + 2);
        double *ql = trial % 3 ? NULL : rand_mat(&r, c.n, c.d, 1.0);
        double *kl = trial % 3 ? NULL : rand_mat(&r, c.n, c.d, 1.0);
        CU_ASSERT_EQUAL(
            attn_flash_core(c.o1, c.q, c.k, c.v, ql, kl, c.n, c.d, c.dv, chunk, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(
            attn_flash_core_slow(c.o2, c.q, c.k, c.v, ql, kl, c.n, c.d, c.dv, chunk, c.causal), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "flash core"));
        mat_free(ql);
        mat_free(kl);
        rcase_free(&c);
    }
}

static void test_flash_full_chunk_is_gau(void)
{
    rng r;
    rng_seed(&r, 606);
    for (int trial = 0; trial < 20; trial++) {
        rcase c;
        rcase_new(&c, &r, 25, 1.5);
        CU_ASSERT_EQUAL(
            attn_flash_core(c.o1, c.q, c.k, c.v, NULL, NULL, c.n, c.d, c.dv, c.n, 1, NULL), 0);
        CU_ASSERT_EQUAL(attn_gau_core(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, 1, NULL), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "flash c = n"));
        rcase_free(&c);
    }
}

static void test_layers_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 707);
    for (int trial = 0; trial < 16; trial++) {
        size_t n = (size_t)rng_range(&r, 1, 20), dm = (size_t)rng_range(&r, 1, 6);
        int causal = trial % 2;
        attn_gau_weights w;
        CU_ASSERT_EQUAL_FATAL(attn_gau_weights_new(&w, dm, 2 * dm, dm, &r), 0);
        double *x = rand_mat(&r, n, dm, 1.0), *o1 = mat_new(n, dm), *o2 = mat_new(n, dm);
        CU_ASSERT_EQUAL(attn_gau_layer(o1, x, &w, n, causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_gau_layer_slow(o2, x, &w, n, causal), 0);
        CU_ASSERT(check_close(o1, o2, n * dm, TOL_EXACT, "gau layer"));
        size_t c = (size_t)rng_range(&r, 1, (int64_t)n);
        CU_ASSERT_EQUAL(attn_flash_layer(o1, x, &w, n, c, causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_flash_layer_slow(o2, x, &w, n, c, causal), 0);
        CU_ASSERT(check_close(o1, o2, n * dm, TOL_EXACT, "flash layer"));
        attn_gau_weights_free(&w);
        mat_free(x);
        mat_free(o1);
        mat_free(o2);
    }
}

/* ---- TransNormer ---- */

static void test_norm_recurrence_vs_quadratic(void)
{
    rng r;
    rng_seed(&r, 808);
    for (int trial = 0; trial < 60; trial++) {
        rcase c;
        rcase_new(&c, &r, 40, 1.0);
        CU_ASSERT_EQUAL(attn_norm(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_norm_slow(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "norm attention"));
        /* RMSNorm: every row has root-mean-square 1 (up to the 1e-8 guard). */
        for (size_t i = 0; i < c.n; i++) {
            double sq = mat_dot(c.o1 + i * c.dv, c.o1 + i * c.dv, c.dv);
            CU_ASSERT_DOUBLE_EQUAL(sqrt(sq / (double)c.dv), 1.0, 1e-6);
        }
        rcase_free(&c);
    }
}

static void test_diag(void)
{
    rng r;
    rng_seed(&r, 909);
    for (int trial = 0; trial < 60; trial++) {
        rcase c;
        rcase_new(&c, &r, 30, 1.5);
        size_t b = (size_t)rng_range(&r, 1, (int64_t)c.n + 3);
        CU_ASSERT_EQUAL(attn_diag(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, b, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_diag_slow(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, b, c.causal), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "diag"));
        /* b = n is softmax attention. */
        CU_ASSERT_EQUAL(attn_diag(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, c.n, c.causal, NULL), 0);
        CU_ASSERT_EQUAL(attn_softmax(c.o2, c.q, c.k, c.v, c.n, c.d, c.dv, c.causal, NULL), 0);
        CU_ASSERT(check_close(c.o1, c.o2, c.n * c.dv, TOL_EXACT, "diag b = n"));
        /* b = 1: each row sees itself only, o = v. */
        CU_ASSERT_EQUAL(attn_diag(c.o1, c.q, c.k, c.v, c.n, c.d, c.dv, 1, c.causal, NULL), 0);
        CU_ASSERT(check_close(c.o1, c.v, c.n * c.dv, 1e-15, "diag b = 1"));
        rcase_free(&c);
    }
}

static void test_diagnostics(void)
{
    /* Identity attention keeps all its mass at radius 0. */
    double eye[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, mass[3];
    attn_dilution(mass, eye, 3, 0);
    CU_ASSERT_DOUBLE_EQUAL(mass[1], 1.0, 0);
    rng r;
    rng_seed(&r, 11);
    size_t n = 32, d = 4;
    double *q = rand_mat(&r, n, d, 1.0), *k = rand_mat(&r, n, d, 1.0);
    double *p = mat_new(n, n), *a = mat_new(n, n), *m1 = mat_new(n, 1), *m2 = mat_new(n, 1);
    CU_ASSERT_EQUAL(attn_softmax_probs(p, q, k, n, d, 0), 0);
    attn_dilution(m1, p, n, n);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(m1[i], 1.0, 1e-12); /* the whole row */
    }
    /* DiagAttention with blocks of 4 keeps every bit of mass within radius 3. */
    CU_ASSERT_EQUAL(attn_diag_probs(a, q, k, n, d, 4, 0), 0);
    attn_dilution(m2, a, n, 3);
    for (size_t i = 0; i < n; i++) {
        CU_ASSERT_DOUBLE_EQUAL(m2[i], 1.0, 1e-12);
    }
    /* Linear attention's implied matrix: rows sum to about 1, mass spread far. */
    CU_ASSERT_EQUAL(attn_linear_probs(a, q, k, n, d, ATTN_ELU1, 0), 0);
    attn_dilution(m2, a, n, 3);
    double mean = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += m2[i] / (double)n;
    CU_ASSERT(mean < 0.5);
    /* The normaliser with q = k = 0 (phi = 1): d (i + 1) causal, d n otherwise. */
    double zq[12] = {0}, den[4];
    CU_ASSERT_EQUAL(attn_normaliser(den, zq, zq, 4, 3, ATTN_ELU1, 1), 0);
    CU_ASSERT_DOUBLE_EQUAL(den[0], 3.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(den[3], 12.0, 1e-15);
    CU_ASSERT_EQUAL(attn_normaliser(den, zq, zq, 4, 3, ATTN_ELU1, 0), 0);
    CU_ASSERT_DOUBLE_EQUAL(den[0], 12.0, 1e-15);
    mat_free(q);
    mat_free(k);
    mat_free(p);
    mat_free(a);
    mat_free(m1);
    mat_free(m2);
}

static void test_invalid_sizes(void)
{
    double x[4] = {0}, o[4];
    CU_ASSERT_EQUAL(attn_softmax(o, x, x, x, 0, 1, 1, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(attn_linear(o, x, x, x, 2, 0, 1, ATTN_ELU1, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(attn_performer(o, x, x, x, x, 2, 1, 1, 0, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(attn_flash_core(o, x, x, x, NULL, NULL, 2, 1, 1, 0, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(attn_diag(o, x, x, x, 2, 1, 1, 0, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(attn_norm(o, x, x, x, 2, 1, 0, 0, NULL), TUTOR_EINVAL);
}

/* ---- traces ---- */

/* Every step names a line of the listing; returns the number of steps. */
static size_t check_lines(const trace *tr, size_t listing_len)
{
    size_t len = trace_len(tr);
    for (size_t i = 0; i < len; i++) {
        int line = trace_at(tr, i)->line;
        CU_ASSERT(line >= 1 && (size_t)line <= listing_len);
    }
    return len;
}

static const trace_snap *final_snap(const trace *tr, const char *name)
{
    size_t len = trace_len(tr);
    return len ? trace_latest(tr, len - 1, name) : NULL;
}

static void test_trace_softmax(void)
{
    rng r;
    rng_seed(&r, 21);
    size_t n = 6, d = 4, dv = 3;
    double *q = rand_mat(&r, n, d, 1), *k = rand_mat(&r, n, d, 1), *v = rand_mat(&r, n, dv, 1);
    double *o1 = mat_new(n, dv), *o2 = mat_new(n, dv), *p = mat_new(n, n);
    trace *tr = trace_new(0);
    trace_set_listing(tr, attn_softmax_listing, attn_softmax_listing_len);
    CU_ASSERT_EQUAL(attn_softmax(o1, q, k, v, n, d, dv, 1, tr), 0);
    CU_ASSERT_EQUAL(attn_softmax(o2, q, k, v, n, d, dv, 1, NULL), 0);
    CU_ASSERT_EQUAL(mat_max_abs_diff(o1, o2, n * dv), 0.0); /* tracing changes nothing */
    CU_ASSERT(check_lines(tr, attn_softmax_listing_len) >= 2 * n);
    const trace_snap *s = final_snap(tr, "S"), *ps = final_snap(tr, "P"), *os = final_snap(tr, "O");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
    CU_ASSERT_PTR_NOT_NULL_FATAL(os);
    CU_ASSERT_EQUAL(s->kind, TRACE_MATRIX);
    CU_ASSERT_EQUAL(s->rows, n);
    CU_ASSERT(isinf(s->reals[1])); /* masked */
    CU_ASSERT_EQUAL(attn_softmax_probs(p, q, k, n, d, 1), 0);
    CU_ASSERT(mat_max_abs_diff(ps->reals, p, n * n) < 1e-15);
    CU_ASSERT_EQUAL(mat_max_abs_diff(os->reals, o1, n * dv), 0.0);
    /* The per-row quiz answers the argmax of P's row. */
    int quizzes = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        if (!st->quiz)
            continue;
        size_t row = (size_t)quizzes++;
        size_t best = 0;
        for (size_t j = 1; j < n; j++)
            if (p[row * n + j] > p[row * n + best])
                best = j;
        CU_ASSERT_EQUAL(st->quiz_answer, (int64_t)best);
    }
    CU_ASSERT_EQUAL(quizzes, (int)n);
    strbuf sb = STRBUF_INIT;
    CU_ASSERT_EQUAL(trace_json(tr, &sb), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&sb)));
    strbuf_free(&sb);
    trace_free(tr);
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o1);
    mat_free(o2);
    mat_free(p);
}

/* In every traced copy of P, the rows the loop has not reached are TRACE_UNSET (blank in
 * the UI, - in the text trace, null in JSON), never 0, which would read as zero weight;
 * the rows done are the final P's (with 0 for the keys a row may not see). */
static void check_rows_unset(const trace *tr, const double *p, size_t n, const char *variant)
{
    size_t copies = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_snap *ps = trace_find(trace_at(tr, i), "P");
        if (!ps || ps->kind != TRACE_MATRIX)
            continue;
        copies++;
        for (size_t r = 0; r < n; r++) {
            int unset = isnan(ps->reals[r * n]);
            for (size_t j = 0; j < n; j++) {
                double x = ps->reals[r * n + j];
                if (unset ? !isnan(x) : fabs(x - p[r * n + j]) > 1e-12) {
                    CU_FAIL("a row of P is partly computed, or wrong");
                    fprintf(stderr, "\n  %s: step %zu, P[%zu][%zu] = %g (final %g)\n", variant,
                            i + 1, r, j, x, p[r * n + j]);
                    return;
                }
            }
        }
        if (copies == 1) {
            CU_ASSERT(isnan(ps->reals[(n - 1) * n])); /* the last row is not done at first */
        }
    }
    CU_ASSERT(copies >= 2);
    strbuf sb = STRBUF_INIT;
    CU_ASSERT_EQUAL(trace_json(tr, &sb), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&sb)));
    CU_ASSERT_PTR_NULL(strstr(strbuf_str(&sb), "nan"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&sb), "null"));
    strbuf_clear(&sb);
    CU_ASSERT_EQUAL(trace_text(tr, &sb), 0);
    CU_ASSERT_PTR_NULL(strstr(strbuf_str(&sb), "nan"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&sb), " - - -"));
    strbuf_free(&sb);
}

static void test_trace_rows_not_computed(void)
{
    rng r;
    rng_seed(&r, 22);
    size_t n = 8, d = 4, dv = 3;
    double *q = rand_mat(&r, n, d, 1), *k = rand_mat(&r, n, d, 1), *v = rand_mat(&r, n, dv, 1);
    double *o = mat_new(n, dv), *p = mat_new(n, n), *ps = mat_new(n, n);
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_softmax(o, q, k, v, n, d, dv, 1, tr), 0);
    CU_ASSERT_EQUAL(attn_softmax_probs(p, q, k, n, d, 1), 0);
    check_rows_unset(tr, p, n, "softmax");
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_diag(o, q, k, v, n, d, dv, 3, 1, tr), 0);
    CU_ASSERT_EQUAL(attn_diag_probs(p, q, k, n, d, 3, 1), 0);
    check_rows_unset(tr, p, n, "diag");
    trace_free(tr);
    /* Sparse: the final P is the last copy (every row done). */
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_sparse(o, q, k, v, n, d, dv, ATTN_STRIDED, 3, 1, tr), 0);
    const trace_snap *last = final_snap(tr, "P");
    CU_ASSERT_PTR_NOT_NULL_FATAL(last);
    for (size_t i = 0; i < n * n; i++)
        ps[i] = last->reals[i];
    int all_done = 1;
    for (size_t i = 0; i < n * n; i++)
        all_done &= !isnan(ps[i]);
    CU_ASSERT(all_done);
    check_rows_unset(tr, ps, n, "sparse");
    trace_free(tr);
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o);
    mat_free(p);
    mat_free(ps);
}

/* Counts the steps that recorded snapshot `name` themselves. */
static size_t count_snaps(const trace *tr, const char *name)
{
    size_t cnt = 0;
    for (size_t i = 0; i < trace_len(tr); i++)
        cnt += trace_find(trace_at(tr, i), name) != NULL;
    return cnt;
}

static void test_trace_linear_steps(void)
{
    rng r;
    rng_seed(&r, 22);
    for (size_t n = 5; n <= 40; n += 35) {
        size_t d = 3, dv = 2;
        double *q = rand_mat(&r, n, d, 1), *k = rand_mat(&r, n, d, 1), *v = rand_mat(&r, n, dv, 1),
               *o = mat_new(n, dv);
        trace *tr = trace_new(0);
        CU_ASSERT_EQUAL(attn_linear(o, q, k, v, n, d, dv, ATTN_ELU1, 1, tr), 0);
        check_lines(tr, attn_linear_listing_len);
        /* S's evolution: the initial zero state, one per recorded step, and the final one
         * when steps went unrecorded (state is inherited, so never an unchanged copy). */
        size_t steps = n < ATTN_TRACE_ROWS ? n : ATTN_TRACE_ROWS;
        CU_ASSERT_EQUAL(count_snaps(tr, "S"), steps + 1 + (n > ATTN_TRACE_ROWS));
        const trace_snap *a = final_snap(tr, "A"), *den = final_snap(tr, "normaliser");
        CU_ASSERT_PTR_NOT_NULL_FATAL(a);
        CU_ASSERT_PTR_NOT_NULL_FATAL(den);
        CU_ASSERT_EQUAL(den->rows, n);     /* one per query, a column beside O */
        CU_ASSERT_EQUAL(a->reals[1], 0.0); /* causal */
        /* Each recorded step's quiz: the key with the largest weight in A's row. */
        size_t row = 0;
        for (size_t i = 0; i < trace_len(tr); i++) {
            const trace_frame *st = trace_at(tr, i);
            if (!st->quiz)
                continue;
            size_t best = 0;
            for (size_t j = 1; j <= row; j++)
                if (a->reals[row * n + j] > a->reals[row * n + best])
                    best = j;
            CU_ASSERT_EQUAL(st->quiz_answer, (int64_t)best);
            row++;
        }
        CU_ASSERT_EQUAL(row, steps);
        trace_free(tr);
        mat_free(q);
        mat_free(k);
        mat_free(v);
        mat_free(o);
    }
}

static void test_trace_caps_large_n(void)
{
    /* n = 300: no n x n snapshot (90 000 cells > the cap), the output still recorded. */
    rng r;
    rng_seed(&r, 23);
    size_t n = 300, d = 2, dv = 2;
    double *q = rand_mat(&r, n, d, 1), *k = rand_mat(&r, n, d, 1), *v = rand_mat(&r, n, dv, 1),
           *o = mat_new(n, dv);
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_softmax(o, q, k, v, n, d, dv, 0, tr), 0);
    CU_ASSERT_PTR_NULL(final_snap(tr, "P"));
    CU_ASSERT_PTR_NOT_NULL(final_snap(tr, "O"));
    CU_ASSERT(trace_len(tr) < 10);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_linear(o, q, k, v, n, d, dv, ATTN_ELU1, 1, tr), 0);
    CU_ASSERT(trace_len(tr) < 2 * ATTN_TRACE_ROWS + 6);
    CU_ASSERT_PTR_NULL(final_snap(tr, "A"));
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_sparse(o, q, k, v, n, d, dv, ATTN_STRIDED, 17, 1, tr), 0);
    CU_ASSERT_PTR_NOT_NULL(final_snap(tr, "density"));
    CU_ASSERT_PTR_NULL(final_snap(tr, "pattern"));
    trace_free(tr);
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o);
}

static void test_trace_names(void)
{
    /* The names the issue asks for, per variant. */
    rng r;
    rng_seed(&r, 24);
    size_t n = 8, d = 4, dv = 4, m = 16;
    double *q = rand_mat(&r, n, d, 0.5), *k = rand_mat(&r, n, d, 0.5), *v = rand_mat(&r, n, dv, 1),
           *o = mat_new(n, dv), *w = mat_new(m, d);
    CU_ASSERT_EQUAL(attn_orf(w, m, d, &r), 0);
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_sparse(o, q, k, v, n, d, dv, ATTN_FIXED, 4, 2, tr), 0);
    const char *sparse_names[] = {"pattern", "density", "P", "O"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_PTR_NOT_NULL(final_snap(tr, sparse_names[i]));
    }
    CU_ASSERT_DOUBLE_EQUAL(final_snap(tr, "density")->reals[0],
                           (double)attn_sparse_count(ATTN_FIXED, n, 4, 2) / 64.0, 1e-15);
    check_lines(tr, attn_sparse_listing_len);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_performer(o, q, k, v, w, n, d, dv, m, 1, tr), 0);
    const char *perf_names[] = {"W", "phiQ",    "phiK",  "S",         "z",
                                "A", "P_exact", "error", "max_error", "O"};
    for (int i = 0; i < 10; i++) {
        CU_ASSERT_PTR_NOT_NULL(final_snap(tr, perf_names[i]));
    }
    check_lines(tr, attn_performer_listing_len);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_flash_core(o, q, k, v, NULL, NULL, n, d, dv, 3, 1, tr), 0);
    const char *flash_names[] = {"A_g", "M", "A", "O"};
    for (int i = 0; i < 4; i++) {
        CU_ASSERT_PTR_NOT_NULL(final_snap(tr, flash_names[i]));
    }
    check_lines(tr, attn_flash_listing_len);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_norm(o, q, k, v, n, d, dv, 1, tr), 0);
    CU_ASSERT_PTR_NOT_NULL(final_snap(tr, "A"));
    CU_ASSERT_PTR_NULL(final_snap(tr, "z")); /* no denominator */
    check_lines(tr, attn_norm_listing_len);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_diag(o, q, k, v, n, d, dv, 3, 0, tr), 0);
    const trace_snap *dp = final_snap(tr, "P");
    CU_ASSERT_EQUAL(dp->reals[3], 0.0); /* (0, 3): another block */
    for (size_t i = 0, block = 0; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        if (!st->quiz)
            continue;
        size_t g = 3 * block++, best = g;
        for (size_t j = g; j < g + 3 && j < n; j++)
            if (dp->reals[g * n + j] > dp->reals[g * n + best])
                best = j;
        CU_ASSERT_EQUAL(st->quiz_answer, (int64_t)best);
    }
    check_lines(tr, attn_diag_listing_len);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(attn_gau_core(o, q, k, v, n, d, dv, 0, tr), 0);
    CU_ASSERT_PTR_NOT_NULL(final_snap(tr, "A"));
    check_lines(tr, attn_gau_listing_len);
    trace_free(tr);
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o);
    mat_free(w);
}

/* ---- allocation failures: every variant, traced and not ---- */

typedef struct sweep_ctx {
    int variant, traced;
} sweep_ctx;

static int sweep_body(void *arg)
{
    const sweep_ctx *ctx = arg;
    rng r;
    rng_seed(&r, 31);
    size_t n = 7, d = 3, dv = 2, m = 5;
    double q[21], k[21], v[14], o[14], x[21], w[15];
    mat_gauss(q, 21, &r, 1);
    mat_gauss(k, 21, &r, 1);
    mat_gauss(v, 14, &r, 1);
    mat_gauss(x, 21, &r, 1);
    mat_gauss(w, 15, &r, 1);
    trace *tr = NULL;
    if (ctx->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    int rc = 0;
    attn_gau_weights gw = {0};
    double ox[21];
    switch (ctx->variant) {
    case 0: rc = attn_softmax(o, q, k, v, n, d, dv, 1, tr); break;
    case 1: rc = attn_sparse(o, q, k, v, n, d, dv, ATTN_FIXED, 3, 1, tr); break;
    case 2: rc = attn_linear(o, q, k, v, n, d, dv, ATTN_ELU1, 1, tr); break;
    case 3: rc = attn_linear(o, q, k, v, n, d, dv, ATTN_RELU, 0, tr); break;
    case 4: rc = attn_performer(o, q, k, v, w, n, d, dv, m, 1, tr); break;
    case 5: rc = attn_orf(w, m, d, &r); break;
    case 6: rc = attn_gau_core(o, q, k, v, n, d, dv, 1, tr); break;
    case 7: rc = attn_flash_core(o, q, k, v, NULL, NULL, n, d, dv, 3, 1, tr); break;
    case 8: rc = attn_norm(o, q, k, v, n, d, dv, 1, tr); break;
    case 9: rc = attn_diag(o, q, k, v, n, d, dv, 3, 1, tr); break;
    case 10:
    case 11:
        rc = attn_gau_weights_new(&gw, 3, 6, 3, &r);
        if (!rc)
            rc = ctx->variant == 10 ? attn_gau_layer(ox, x, &gw, n, 1, tr)
                                    : attn_flash_layer(ox, x, &gw, n, 2, 0, tr);
        attn_gau_weights_free(&gw);
        break;
    case 12: rc = attn_performer_slow(o, q, k, v, w, n, d, dv, m, 0); break;
    case 13: rc = attn_normaliser(o, q, k, n, d, ATTN_ELU1, 1); break;
    case 14: rc = attn_linear_probs(o, q, k, 3, d, ATTN_ELU1, 1); break;
    case 15: rc = attn_performer_probs(o, q, k, w, 3, d, m, 1); break;
    default: rc = attn_diag_probs(o, q, k, 3, d, 2, 1); break;
    }
    trace_free(tr);
    return rc;
}

static void test_alloc_failures(void)
{
    for (int variant = 0; variant <= 16; variant++)
        for (int traced = 0; traced < 2; traced++) {
            sweep_ctx ctx = {variant, traced};
            CU_ASSERT(th_alloc_sweep(sweep_body, &ctx, 0) >= 1);
        }
}

/* ---- the CLI topic ---- */

/* Writes text to a new temp file named into path (64 bytes). */
static void write_temp(char *path, const char *text)
{
    strcpy(path, "/tmp/tutor_attn_XXXXXX");
    int fd = mkstemp(path);
    CU_ASSERT_FATAL(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
}

/* Parses the first number after `key` in s (NAN when absent). */
static double json_first_number(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    if (!p)
        return NAN;
    p += strlen(key);
    while (*p == '[' || *p == ' ')
        p++;
    return strtod(p, NULL);
}

/* Counts the rows of the "result" matrix: the "], [" separators before "intermediates". */
static size_t result_rows(const char *s)
{
    const char *p = strstr(s, "\"result\": [[");
    const char *end = strstr(s, "\"intermediates\"");
    if (!p || !end)
        return 0;
    size_t rows = 1;
    for (; p < end; p++)
        rows += strncmp(p, "], [", 4) == 0;
    return rows;
}

static void expect_bad(const char *want, ...)
{
    /* Up to 24 arguments after `run attention`, NULL-terminated. */
    char *argv[32] = {"run", "attention"};
    int argc = 2;
    va_list ap;
    va_start(ap, want);
    for (char *a; argc < 30 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    th_refused(th_cli_argv(&out, &err, argc, argv), &out, &err, want);
}

static void test_cli_example_and_variants(void)
{
    /* The topic's example: softmax, n = 6, d = 4. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "softmax", "--n", "6",
                           "--d", "4", "--seed", "1", "--json", NULL),
                    0);
    const char *js = strbuf_str(&out);
    CU_ASSERT_TRUE(th_json_valid(js));
    CU_ASSERT_PTR_NOT_NULL(strstr(js, "{\"topic\": \"attention\", \"variant\": \"softmax\""));
    CU_ASSERT_EQUAL(result_rows(js), 6);
    const char *names[] = {"\"S\": [[", "\"P\": [[", "\"O\": [["};
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_PTR_NOT_NULL(strstr(js, names[i]));
    }
    /* The result is the library's on the same draw. */
    rng r;
    rng_seed(&r, 1);
    double *q = rand_mat(&r, 6, 4, 1), *k = rand_mat(&r, 6, 4, 1), *v = rand_mat(&r, 6, 4, 1),
           *o = mat_new(6, 4);
    CU_ASSERT_EQUAL(attn_softmax(o, q, k, v, 6, 4, 4, 0, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(json_first_number(js, "\"result\": "), o[0], 1e-15);
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(o);
    /* Every variant, causal or not, with and without the trace. */
    const char *variants[] = {"softmax", "sparse", "linear",      "performer",
                              "gau",     "flash",  "transnormer", "diag"};
    for (int i = 0; i < 8; i++)
        for (int causal = 0; causal < 2; causal++) {
            const char *c = causal ? "--causal" : "--json";
            CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", variants[i], "--n",
                                   "7", "--d", "3", "--json", c, NULL),
                            0);
            CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
            CU_ASSERT_EQUAL(result_rows(strbuf_str(&out)), 7);
            CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", variants[i], "--n",
                                   "7", "--d", "3", "--json", "--trace", c, NULL),
                            0);
            CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
            CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": [{"));
            CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", variants[i], "--n",
                                   "7", "--d", "3", causal ? "--causal" : NULL, NULL),
                            0);
            CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "O (7 x 3):"));
            CU_ASSERT_EQUAL(err.len, 0);
        }
    /* Options of one variant. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "sparse", "--pattern",
                           "fixed", "--block", "3", "--summary", "2", "--n", "9", "--d", "2",
                           "--json", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_DOUBLE_EQUAL(json_first_number(strbuf_str(&out), "\"density\": "),
                           (double)attn_sparse_count(ATTN_FIXED, 9, 3, 2) / 81.0, 1e-15);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "linear", "--feature-map",
                           "relu", "--n", "5", "--d", "2", NULL),
                    0);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "performer", "--m", "64",
                           "--n", "5", "--d", "2", "--json", NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"max_error\": "));
    /* Big n: matrices summarised in text, no n x n intermediates in JSON. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--n", "300", "--d", "2", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "(300 x 2, min "));
    CU_ASSERT(th_count_lines(strbuf_str(&out)) < 80);
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "attention", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "transnormer"));
}

static void test_cli_files(void)
{
    char qp[64], kp[64], vp[64], wp[64], xp[64];
    /* The hand-checked softmax case, in numpy.savetxt's format. */
    write_temp(qp, "# Q\n1.000000000000000000e+00\n0.000000000000000000e+00\n");
    write_temp(kp, "1\n0\n");
    write_temp(vp, "1\n0\n");
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "attention", "--Q", qp, "--K", kp, "--V", vp, "--json", NULL), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_DOUBLE_EQUAL(json_first_number(strbuf_str(&out), "\"result\": "),
                           exp(1.0) / (exp(1.0) + 1), 1e-15);
    unlink(qp);
    unlink(kp);
    unlink(vp);
    /* Performer features from a file (m = 3, d = 2); X for the full layers. */
    write_temp(qp, "0.1 0.2\n-0.3 0.4\n0.5 -0.6\n");
    write_temp(wp, "1 0\n0 1\n0.5 0.5\n");
    write_temp(xp, "0.1 0.2 0.3\n0.4 0.5 0.6\n-1 0 1\n0 0 0\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "performer", "--Q", qp,
                           "--K", qp, "--V", qp, "--features", wp, "--json", NULL),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"W\": [[1, 0], [0, 1], [0.5, 0.5]]"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "gau", "--X", xp,
                           "--causal", "--json", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_EQUAL(result_rows(strbuf_str(&out)), 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"U\": [["));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "attention", "--variant", "flash", "--X", xp,
                           "--chunk", "2", "--json", "--trace", NULL),
                    0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"Q_lin\": [["));
    unlink(qp);
    unlink(wp);
    unlink(xp);
}

static void test_cli_bad_input(void)
{
    char good[64], bad[64], nanf[64], rag[64], three[64], wide[64];
    write_temp(good, "1 2\n3 4\n");
    write_temp(bad, "# header\n1 2\n\n3 abc\n");
    write_temp(nanf, "1 2\n3 inf\n");
    write_temp(rag, "1 2 3\n4 5\n");
    write_temp(three, "1 2\n3 4\n5 6\n");
    strbuf big = STRBUF_INIT;
    for (int i = 0; i < 300; i++)
        strbuf_puts(&big, "1 ");
    strbuf_putc(&big, '\n');
    write_temp(wide, strbuf_str(&big));
    strbuf_free(&big);
    char want[128];
    snprintf(want, sizeof want, "%s:4: 'abc' is not a number", bad);
    expect_bad(want, "--Q", bad, "--K", good, "--V", good, NULL);
    snprintf(want, sizeof want, "%s:2: 'inf' is not a finite number", nanf);
    expect_bad(want, "--Q", good, "--K", nanf, "--V", good, NULL);
    snprintf(want, sizeof want, "%s:2: row has 2 values, expected 3", rag);
    expect_bad(want, "--Q", good, "--K", good, "--V", rag, NULL);
    expect_bad("/tmp/no/such/file.txt: no such file", "--Q", "/tmp/no/such/file.txt", "--K", good,
               "--V", good, NULL);
    expect_bad("--K is 3 x 2 but --Q is 2 x 2", "--Q", good, "--K", three, "--V", good, NULL);
    expect_bad("--V has 3 rows but --Q has 2", "--Q", good, "--K", good, "--V", three, NULL);
    expect_bad("--features has 2 columns but Q and K have d = 3", "--variant", "performer", "--n",
               "4", "--d", "3", "--features", good, NULL);
    expect_bad("at most 2048 x 256", "--variant", "gau", "--X", wide, NULL);
    expect_bad("--n: ", "--n", "100000", "--d", "2", NULL);
    expect_bad("--d: ", "--n", "4", "--d", "0", NULL);
    expect_bad("--m: ", "--variant", "performer", "--n", "4", "--d", "2", "--m", "99999", NULL);
    expect_bad("unknown variant 'nope'", "--variant", "nope", "--n", "4", "--d", "2", NULL);
    expect_bad("--pattern: expected strided or fixed", "--variant", "sparse", "--pattern", "x",
               "--n", "4", "--d", "2", NULL);
    expect_bad("--chunk does not apply to --variant softmax", "--chunk", "2", "--n", "4", "--d",
               "2", NULL);
    expect_bad("--X does not apply to --variant linear", "--variant", "linear", "--X", good, NULL);
    expect_bad("--m does not apply", "--variant", "linear", "--m", "4", "--n", "4", "--d", "2",
               NULL);
    expect_bad("--feature-map does not apply", "--variant", "transnormer", "--feature-map", "relu",
               "--n", "4", "--d", "2", NULL);
    expect_bad("--stride does not apply to --variant sparse", "--variant", "sparse", "--pattern",
               "fixed", "--stride", "2", "--n", "4", "--d", "2", NULL);
    expect_bad("--summary 4 is larger than the block 3", "--variant", "sparse", "--pattern",
               "fixed", "--block", "3", "--summary", "4", "--n", "4", "--d", "2", NULL);
    expect_bad("--Q, --K and --V go together (missing --V)", "--Q", good, "--K", good, NULL);
    expect_bad("--n and --d go together", "--n", "4", NULL);
    expect_bad("give one input", "--n", "4", "--d", "2", "--Q", good, "--K", good, "--V", good,
               NULL);
    expect_bad("no input", "--variant", "diag", NULL);
    expect_bad("--features and --m exclude each other", "--variant", "performer", "--n", "2", "--d",
               "2", "--m", "3", "--features", good, NULL);
    expect_bad("unknown option '--bogus'", "--bogus", "1", NULL);
    /* Finite inputs whose products overflow. */
    char huge[64];
    write_temp(huge, "1e200 1e200\n-1e200 1e200\n");
    expect_bad("--variant gau: the result overflowed", "--variant", "gau", "--Q", huge, "--K", huge,
               "--V", huge, NULL);
    expect_bad("--variant softmax: the result overflowed", "--Q", huge, "--K", huge, "--V", huge,
               NULL);
    unlink(huge);
    /* FAVOR+ on scores far too large: the normaliser underflows. */
    char q800[64], k800[64], w2[64];
    write_temp(q800, "800\n");
    write_temp(k800, "-800\n");
    write_temp(w2, "1\n-1\n");
    expect_bad("performer: a query's normaliser underflowed", "--variant", "performer", "--Q", q800,
               "--K", k800, "--V", q800, "--features", w2, NULL);
    unlink(q800);
    unlink(k800);
    unlink(w2);
    unlink(good);
    unlink(bad);
    unlink(nanf);
    unlink(rag);
    unlink(three);
    unlink(wide);
}

static void test_cli_random_inputs(void)
{
    const topic *t = topic_find("attention");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t->random_input);
    for (uint64_t seed = 1; seed <= 40; seed++) {
        strbuf sb = STRBUF_INIT;
        CU_ASSERT_EQUAL(t->random_input(seed, &sb), 0);
        strbuf_printf(&sb, " --json");
        char **words = NULL;
        int nw = 0;
        char msg[128];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&sb), &words, &nw, msg, sizeof msg), 0);
        char *argv[40] = {"tutor", "run", "attention"};
        int argc = 3;
        for (int i = 0; i < nw && argc < 39; i++)
            argv[argc++] = words[i];
        argv[argc] = NULL;
        char *ob = NULL, *eb = NULL;
        size_t ol = 0, el = 0;
        FILE *fo = open_memstream(&ob, &ol), *fe = open_memstream(&eb, &el);
        int rc = cli_main(argc, argv, fo, fe);
        fclose(fo);
        fclose(fe);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(th_json_valid(ob));
        if (rc)
            fprintf(stderr, "\n  %s: %s\n", strbuf_str(&sb), eb);
        free(ob);
        free(eb);
        parse_free_words(words);
        strbuf_free(&sb);
    }
}

static int cli_body(void *ctx)
{
    const char *variant = ctx;
    strbuf o = STRBUF_INIT, e = STRBUF_INIT;
    int rc = th_cli(&o, &e, "run", "attention", "--variant", variant, "--n", "5", "--d", "2",
                    "--causal", "--json", NULL);
    strbuf_free(&o);
    strbuf_free(&e);
    return rc == 0 ? 0 : rc == 1 ? TUTOR_ENOMEM : rc;
}

static void test_cli_alloc_failures(void)
{
    /* The CLI reports an allocation failure as exit 1 (never a crash or a leak). */
    const char *variants[] = {"softmax", "performer", "flash", "transnormer"};
    for (int i = 0; i < 4; i++)
        CU_ASSERT(th_alloc_sweep(cli_body, (void *)variants[i], 0) > 0);
}

void tests_register(void)
{
    static const th_test models[] = {
        {"softmax: hand-checked", test_softmax_hand},
        {"softmax: fast = slow", test_softmax_fast_vs_slow},
        {"softmax: shift invariance (+1e4)", test_softmax_shift_invariance},
        {"sparse: patterns by hand", test_sparse_patterns_hand},
        {"sparse = masked dense", test_sparse_vs_masked_dense},
        {"linear: hand-checked", test_linear_hand},
        {"linear: recurrence = masked quadratic", test_linear_recurrence_vs_quadratic},
        {"performer: orthogonal random features", test_orf},
        {"performer: fast = slow", test_performer_fast_vs_slow},
        {"performer: error falls as m grows", test_favor_error_falls},
        {"performer: large scores", test_performer_extremes},
        {"gau: hand-checked", test_gau_hand},
        {"flash, transnormer, diag: hand-checked", test_flash_and_norm_hand},
        {"gau and flash cores: fast = slow", test_gau_flash_fast_vs_slow},
        {"flash with c = n, causal = gau core", test_flash_full_chunk_is_gau},
        {"gau and flash layers: fast = slow", test_layers_fast_vs_slow},
        {"transnormer: recurrence = masked quadratic", test_norm_recurrence_vs_quadratic},
        {"diag: fast = slow, b = n is softmax", test_diag},
        {"diagnostics: dilution and normaliser", test_diagnostics},
        {"invalid sizes", test_invalid_sizes},
        {"trace: softmax", test_trace_softmax},
        {"trace: rows of P not computed yet are unset, not 0", test_trace_rows_not_computed},
        {"trace: linear's per-step state", test_trace_linear_steps},
        {"trace: caps for large n", test_trace_caps_large_n},
        {"trace: intermediate names", test_trace_names},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("attention models", models);
    static const th_test cli[] = {
        {"example and every variant", test_cli_example_and_variants},
        {"input files", test_cli_files},
        {"bad input: one line, exit 2", test_cli_bad_input},
        {"random inputs run", test_cli_random_inputs},
        {"allocation failures", test_cli_alloc_failures},
        {NULL, NULL},
    };
    th_suite("attention cli", cli);
}
