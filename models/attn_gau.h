/* attn_gau.h: the gated attention unit and FLASH's mixed chunk attention (Hua et al. 2022,
 * "Transformer Quality in Linear Time").
 *
 * GAU replaces softmax by a squared ReLU, A = relu(Q K^T / n)^2, and gates the result with
 * a second branch U: O = (U * (A V)) W_o. Its single head is cheap because Q and K are
 * per-dimension scale-and-offset copies of one shared Z. FLASH makes it linear in n: inside
 * each chunk of c rows the quadratic GAU core, across chunks a linear-attention term whose
 * state (s x e) summarises the other chunks.
 *
 * Shapes: the cores take q, k (n, s) and v (n, e) and give o (n, e); the layers take x
 * (n, dm) and give o (n, dm) with weights from attn_gau_weights_new. Trace names: S, A, O
 * (core); U, V, Z, Q, K, A, AV, O (layer); A_g, M, O, A (flash). Errors: TUTOR_EINVAL (zero
 * size), TUTOR_ENOMEM (nothing leaks); a traced form whose recording failed returns the
 * trace's sticky error, with o computed all the same. */
#ifndef TUTOR_ATTN_GAU_H
#define TUTOR_ATTN_GAU_H

#include <stddef.h>

#include "../trace/rng.h"
#include "../trace/trace.h"

/* Weights of a GAU or FLASH layer: dm model width, e expanded width, s shared width.
 * gamma and beta are (4, s): the per-dimension scale and offset making Q and K from Z
 * (GAU uses rows 0 and 1; FLASH all four: quadratic Q, quadratic K, linear Q, linear K). */
typedef struct attn_gau_weights {
    size_t dm, e, s;
    double *wu;    /* (dm, e) */
    double *wv;    /* (dm, e) */
    double *wz;    /* (dm, s) */
    double *wo;    /* (e, dm) */
    double *gamma; /* (4, s) */
    double *beta;  /* (4, s) */
} attn_gau_weights;

/* Draws the weights from r: W_u, W_v, W_z ~ N(0, 1/dm), W_o ~ N(0, 1/e) (variance-preserving
 * products), gamma ~ 1 + N(0, 0.1^2), beta ~ N(0, 0.1^2). Returns 0, TUTOR_EINVAL (a zero
 * size) or TUTOR_ENOMEM (w is then left empty). Free with attn_gau_weights_free. */
int attn_gau_weights_new(attn_gau_weights *w, size_t dm, size_t e, size_t s, rng *r);

/* Frees the arrays of w (not w itself) and zeroes it. */
void attn_gau_weights_free(attn_gau_weights *w);

/* ---- GAU ---- */

extern const char *const attn_gau_listing[];
extern const size_t attn_gau_listing_len;

/* The GAU attention core. o is (n, e); q, k are (n, s); v is (n, e).
 * Pass 1: S = q k^T / n (dgemm). Pass 2: A = relu(S)^2, zero above the diagonal when causal.
 * Pass 3: o = A v (dgemm). O(n^2 (s + e)) time, O(n^2) memory. Records S, A, O; per row
 * (first ATTN_TRACE_ROWS) a quiz on how many keys the relu keeps. */
int attn_gau_core(double *o, const double *q, const double *k, const double *v, size_t n, size_t s,
                  size_t e, int causal, trace *tr);

/* Slow form: loops. */
int attn_gau_core_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                       size_t s, size_t e, int causal);

extern const char *const attn_gau_layer_listing[];
extern const size_t attn_gau_layer_listing_len;

/* The full GAU layer. o is (n, dm), x is (n, dm).
 * Pass 1: U = silu(x W_u), V = silu(x W_v) (n, e); Z = silu(x W_z) (n, s).
 * Pass 2: Q = Z gamma_0 + beta_0, K = Z gamma_1 + beta_1. Pass 3: AV = core(Q, K, V).
 * Pass 4: o = (U * AV) W_o. O(n dm (e + s) + n^2 (s + e)) time. */
int attn_gau_layer(double *o, const double *x, const attn_gau_weights *w, size_t n, int causal,
                   trace *tr);

/* Slow form: loops (the same algebra). */
int attn_gau_layer_slow(double *o, const double *x, const attn_gau_weights *w, size_t n,
                        int causal);

/* ---- FLASH (mixed chunk attention) ---- */

extern const char *const attn_flash_listing[];
extern const size_t attn_flash_listing_len;

/* Mixed chunk attention. o is (n, e); q, k (n, s) feed the quadratic part, qlin, klin
 * (n, s) the linear part (NULL: q and k again); v is (n, e); c is the chunk length (the
 * last chunk may be shorter).
 * Quadratic: inside chunk g, relu(Q_g K_g^T / c)^2 V_g (causal: lower triangle).
 * Linear: Q_g (sum_h K_h^T V_h) / n over all chunks h, causal over h < g only (a running
 * s x e state M). O(n c (s + e) + n s e) time, O(c^2 + s e) extra memory.
 * Records per chunk (first ATTN_TRACE_ROWS) A_g, M, O, then the implied n x n matrix A. */
int attn_flash_core(double *o, const double *q, const double *k, const double *v,
                    const double *qlin, const double *klin, size_t n, size_t s, size_t e, size_t c,
                    int causal, trace *tr);

/* The implied n x n matrix of mixed chunk attention (a is (n, n)): o = a v. */
int attn_flash_matrix(double *a, const double *q, const double *k, const double *qlin,
                      const double *klin, size_t n, size_t s, size_t c, int causal);

/* Slow form: the implied n x n matrix built pair by pair, then o = a v in loops. */
int attn_flash_core_slow(double *o, const double *q, const double *k, const double *v,
                         const double *qlin, const double *klin, size_t n, size_t s, size_t e,
                         size_t c, int causal);

extern const char *const attn_flash_layer_listing[];
extern const size_t attn_flash_layer_listing_len;

/* The full FLASH layer: as attn_gau_layer with the four scale-offsets of Z (quadratic and
 * linear Q and K) and mixed chunk attention (chunk c) as the core. o, x are (n, dm). */
int attn_flash_layer(double *o, const double *x, const attn_gau_weights *w, size_t n, size_t c,
                     int causal, trace *tr);

/* Slow form: loops and attn_flash_core_slow. */
int attn_flash_layer_slow(double *o, const double *x, const attn_gau_weights *w, size_t n, size_t c,
                          int causal);

#endif
