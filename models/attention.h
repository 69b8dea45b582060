/* attention.h: the quadratic attention variants (softmax, sparse, DiagAttention), the
 * helpers every attention module shares, and TransNormer's two diagnostics.
 *
 * Shapes: q and k are (n, d), v is (n, dv), the output o is (n, dv); every matrix is
 * row-major (models/mat.h). Each variant comes twice: the fast form (products through
 * CBLAS, no more work or memory than the variant needs) and, named *_slow, the obvious form
 * the tests compare it with (dense matrices, plain loops). The fast forms take a trace (NULL
 * = off) and record their intermediate matrices under the names listed with each function;
 * the listing their steps name is exported beside them.
 *
 * Errors: TUTOR_EINVAL for a zero size or a parameter outside its range, TUTOR_ENOMEM when
 * an allocation fails (nothing leaks, o is then unspecified). A traced fast form whose
 * recording failed returns the trace's sticky error, with o computed all the same. */
#ifndef TUTOR_ATTENTION_H
#define TUTOR_ATTENTION_H

#include <stddef.h>

#include "../trace/trace.h"

/* Recording caps: per-row and per-time-step steps are recorded for the first
 * ATTN_TRACE_ROWS rows only (later rows are summarised in one step), and an n x n matrix
 * (or any snapshot of more than ATTN_TRACE_MAX_CELLS values) is not recorded at all, so a
 * large n costs no more than its result. */
#define ATTN_TRACE_ROWS      16
#define ATTN_TRACE_MAX_CELLS ((size_t)256 * 256)

/* Feature maps of the linear family. */
typedef enum attn_fmap {
    ATTN_ELU1, /* elu(x) + 1: x + 1 for x > 0, exp(x) otherwise; always positive */
    ATTN_RELU  /* max(x, 0): may give all-zero rows, which the 1e-6 guards */
} attn_fmap;

/* Sparse patterns of Child et al. (2019). */
typedef enum attn_pattern {
    ATTN_STRIDED, /* j <= i and (i - j < l or (i - j) mod l == 0) */
    ATTN_FIXED    /* j <= i and (j / l == i / l or j mod l >= l - c) */
} attn_pattern;

/* ---- shared helpers ---- */

/* 1 when a (rows, cols) snapshot is small enough to record (ATTN_TRACE_MAX_CELLS). */
int attn_small(size_t rows, size_t cols);

/* Records a (rows, cols) under name in the current step when it has at most
 * ATTN_TRACE_MAX_CELLS values; else records nothing. Returns trace_matrix's code or 0. */
int attn_snap(trace *tr, const char *name, const double *a, size_t rows, size_t cols);

/* Records the inputs q, k (n, d) and v (n, dv) as Q, K, V (when small) in the current step. */
void attn_snap_inputs(trace *tr, const double *q, const double *k, const double *v, size_t n,
                      size_t d, size_t dv);

/* y = phi(x) elementwise over count values (y may equal x). */
void attn_phi(double *y, const double *x, size_t count, attn_fmap fmap);

/* Row softmax, stable: p is (rows, cols), s is (rows, cols) (p may equal s). Each row's
 * maximum is subtracted before exp, so adding a constant to a row changes nothing and large
 * scores do not overflow. causal: entries with j > i get weight 0. -inf entries get weight
 * 0; a row must keep at least one finite entry. O(rows cols). */
void attn_row_softmax(double *p, const double *s, size_t rows, size_t cols, int causal);

/* 1 when key j may be seen by query i under the sparse pattern (l >= 1, 1 <= c <= l). */
int attn_sparse_allowed(attn_pattern pattern, size_t l, size_t c, size_t i, size_t j);

/* ---- softmax ---- */

extern const char *const attn_softmax_listing[];
extern const size_t attn_softmax_listing_len;

/* Softmax attention. o is (n, dv); q is (n, d), k is (n, d), v is (n, dv).
 * Pass 1: S = q k^T / sqrt(d) (dgemm). Pass 2: causal mask. Pass 3: stable row softmax P.
 * Pass 4: o = P v (dgemm). O(n^2 (d + dv)) time, O(n^2) memory.
 * Records Q, K, V, S, P, O; per row (first ATTN_TRACE_ROWS) the max and a quiz. */
int attn_softmax(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                 size_t dv, int causal, trace *tr);

/* The attention matrix alone: p is (n, n) = softmax(q k^T / sqrt(d)), masked when causal. */
int attn_softmax_probs(double *p, const double *q, const double *k, size_t n, size_t d, int causal);

/* Slow form: loops, one row at a time. */
int attn_softmax_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                      size_t d, size_t dv, int causal);

/* ---- sparse ---- */

extern const char *const attn_sparse_listing[];
extern const size_t attn_sparse_listing_len;

/* Sparse (autoregressive) attention: softmax with scale 1/sqrt(d) over the keys the pattern
 * allows (strided: stride l; fixed: block l with c summary cells, 1 <= c <= l). Only allowed
 * pairs are visited: O(n (l + n/l) (d + dv)) time for strided, O(n (l + c n/l) (d + dv)) for
 * fixed, O(n) extra memory. Records pattern (0/1), density (allowed pairs / n^2), P, O. */
int attn_sparse(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                size_t dv, attn_pattern pattern, size_t l, size_t c, trace *tr);

/* Slow form: dense n x n scores with disallowed pairs set to -inf. */
int attn_sparse_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                     size_t d, size_t dv, attn_pattern pattern, size_t l, size_t c);

/* Returns how many pairs (i, j) the pattern allows for n queries (for the density). O(n^2). */
size_t attn_sparse_count(attn_pattern pattern, size_t n, size_t l, size_t c);

/* ---- DiagAttention (TransNormer) ---- */

extern const char *const attn_diag_listing[];
extern const size_t attn_diag_listing_len;

/* DiagAttention: softmax attention with scale 1/sqrt(d) inside non-overlapping blocks of b
 * rows (the last block may be shorter); causal also masks j > i inside a block.
 * O(n b (d + dv)) time, O(b^2) extra memory. Records P (block-diagonal, as n x n), O. */
int attn_diag(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
              size_t dv, size_t b, int causal, trace *tr);

/* The n x n block-diagonal attention matrix of attn_diag (p is (n, n)). */
int attn_diag_probs(double *p, const double *q, const double *k, size_t n, size_t d, size_t b,
                    int causal);

/* Slow form: dense scores with pairs in different blocks set to -inf. */
int attn_diag_slow(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                   size_t dv, size_t b, int causal);

/* ---- diagnostics (TransNormer, Qin et al. 2022) ---- */

/* Attention dilution: mass[i] = sum of a[i][j] over |i - j| <= radius, the share of row i's
 * attention that stays local. a is (n, n) with rows summing to 1 (softmax P, linear
 * attention's implied matrix, DiagAttention's P). Softmax concentrates near the diagonal;
 * linear attention spreads ("dilutes") its mass over far tokens. O(n radius). */
void attn_dilution(double *mass, const double *a, size_t n, size_t radius);

/* The normaliser's scale: den[i] = phi(q_i) . sum_j phi(k_j) over j <= i when causal, over
 * all j otherwise; q, k are (n, d). Linear attention divides by it; its size grows with the
 * number of keys summed, which TransNormer blames for unbounded gradients. O(n d). */
int attn_normaliser(double *den, const double *q, const double *k, size_t n, size_t d,
                    attn_fmap fmap, int causal);

#endif
