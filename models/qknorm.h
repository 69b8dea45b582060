/* qknorm.h: multi-head attention with optional QK-Norm, and the decoder block around it in
 * the two norm placements Chameleon (2024) compares.
 *
 * Conventions (numpy's X @ W): a projection is X W with W stored (d_in, d_out); every
 * matrix is row-major (models/mat.h). x is (n, d); the heads split the d columns of q, k
 * and v: head h owns columns h dh .. (h + 1) dh - 1, dh = d / heads. QK-Norm is a layer
 * norm over each head's dh entries of each row of q and of k, before the dot product:
 *   LN(u) = gain * (u - mean(u)) / sqrt(var(u) + eps) + bias   (biased variance)
 * with gain and bias of d values (one per head and entry, as Chameleon's code keeps them;
 * NULL means 1 and 0). The logits of head h are S_h = q_h k_h^T / sqrt(dh), with -inf
 * above the diagonal when causal; P_h is their row softmax and entropy_h[i] =
 * -sum_j P_h[i][j] log P_h[i][j] in nats (0 log 0 = 0).
 *
 * The block's norms are RMSNorm (Chameleon keeps Llama's): y = gain * x / sqrt(mean(x^2) +
 * eps). Its FFN is SwiGLU: ffn(x) = (silu(x W_gate) * (x W_up)) W_down, silu(a) =
 * a / (1 + e^-a), * elementwise; W_gate and W_up are (d, f), W_down is (f, d).
 *
 * Fast forms take products through CBLAS and a trace (NULL = off); the *_slow forms are
 * plain loops the tests compare them with. Errors, for every function returning int:
 *   TUTOR_EINVAL  a zero size, a NULL input, eps negative or not finite, a non-finite value
 *                 in x (or q, k, v), the weights, gains or biases
 *   TUTOR_ESHAPE  d not divisible by heads
 *   TUTOR_ETOOBIG a size over its cap (below)
 *   TUTOR_ENOMEM  an allocation failed (nothing leaks; outputs are then unspecified)
 * or the trace's sticky error (outputs computed all the same). */
#ifndef TUTOR_QKNORM_H
#define TUTOR_QKNORM_H

#include <stddef.h>

#include "../trace/trace.h"

/* The layer norm's epsilon (cfg.eps = 0 selects it). */
#define QKNORM_EPS 1e-5

/* Caps, refused with TUTOR_ETOOBIG before anything is allocated. */
#define QKNORM_MAX_N      2048              /* tokens */
#define QKNORM_MAX_D      1024              /* model width */
#define QKNORM_MAX_HEADS  64                /* heads */
#define QKNORM_MAX_FFN    4096              /* FFN width f */
#define QKNORM_MAX_LOGITS ((size_t)1 << 22) /* heads * n * n */

/* Steps per head and row are recorded for the first QKNORM_TRACE_HEADS heads only. */
#define QKNORM_TRACE_HEADS 8

/* The listing's lines (N is RMSNorm; at most 33 columns, the width of the UI's listing
 * pane at 80x24), as a macro so that fusion.c can start its own listing with them
 * (one listing for the whole topic; line numbers of this module stay valid in it). */
/* clang-format off */
#define QKNORM_LISTING_LINES                                                                 \
    "Q, K, V = X Wq, X Wk, X Wv",                                                             \
    "for each head h (dh = d / H):",                                                          \
    "  if qk_norm: q, k = LN(q), LN(k)",                                                      \
    "  S = q k^T / sqrt(dh)",                                                                 \
    "  if causal: S[i][j > i] = -inf",                                                        \
    "  P = softmax(S); entropy of P",                                                         \
    "  O[:, head h] = P v",                                                                   \
    "result = O Wo",                                                                          \
    "pre:  x+attn(N(x)), h+ffn(N(h))",                                                        \
    "Cham: x+N(attn(x)), h+N(ffn(h))",                                                        \
    "ffn(u) = (silu(u Wg) * u Wu) Wd"
/* clang-format on */
#define QKNORM_LISTING_COUNT 11

extern const char *const qknorm_listing[];
extern const size_t qknorm_listing_len;

/* The attention's sizes and switches. */
typedef struct qknorm_cfg {
    size_t n, d, heads; /* tokens, width, heads (d % heads == 0) */
    int causal;         /* mask j > i */
    int qk_norm;        /* layer-normalise each head's q and k rows */
    double eps;         /* layer norm (and RMSNorm) epsilon; 0 selects QKNORM_EPS */
    const double *q_gain, *q_bias, *k_gain, *k_bias; /* (d) each, or NULL: 1 and 0 */
} qknorm_cfg;

/* The attention's projections, (d, d) each. */
typedef struct qknorm_proj {
    const double *wq, *wk, *wv, *wo;
} qknorm_proj;

/* Norm placement in the block. */
typedef enum qknorm_place {
    QKNORM_PRENORM,  /* h = x + attn(norm(x)), out = h + ffn(norm(h)) */
    QKNORM_CHAMELEON /* h = x + norm(attn(x)), out = h + norm(ffn(h)) */
} qknorm_place;

/* The block's weights. */
typedef struct qknorm_block_w {
    qknorm_proj attn;
    size_t f;                    /* FFN width */
    const double *w_gate, *w_up; /* (d, f) */
    const double *w_down;        /* (f, d) */
    const double *norm1, *norm2; /* RMSNorm gains (d) each, or NULL: 1 */
    qknorm_place place;
} qknorm_block_w;

/* Checks a configuration: 0; TUTOR_EINVAL (zero size, bad eps); TUTOR_ESHAPE (d % heads);
 * TUTOR_ETOOBIG (a cap). Does not read the arrays. O(1). */
int qknorm_check(const qknorm_cfg *c);

/* Layer norm of each of the rows of x (rows, width) into y (same shape; y may equal x):
 * gain (width) and bias (width) may be NULL (1 and 0); biased variance; eps > 0 keeps a
 * constant row finite (it maps to bias). O(rows width). */
void qknorm_layernorm(double *y, const double *x, size_t rows, size_t width, const double *gain,
                      const double *bias, double eps);

/* QK-Norm proper: x is (n, d), each row cut into heads pieces of dh = d / heads entries and
 * each piece layer-normalised on its own, with gain[h dh + t] and bias[h dh + t] (either
 * may be NULL). y may equal x. Normalising the whole row instead would let one head's scale
 * leak into another's: the pitfall this function exists to avoid. Requires d % heads == 0.
 * O(n d). */
void qknorm_heads_norm(double *y, const double *x, size_t n, size_t d, size_t heads,
                       const double *gain, const double *bias, double eps);

/* RMSNorm of each row: y = gain * x / sqrt(mean(x^2) + eps); gain (width) may be NULL.
 * y may equal x. O(rows width). */
void qknorm_rmsnorm(double *y, const double *x, size_t rows, size_t width, const double *gain,
                    double eps);

/* Multi-head attention on given q, k, v (n, d each, already projected): out (n, d) is the
 * heads' outputs side by side (no output projection); logits (heads, n, n) and entropy
 * (heads, n) receive S_h and each row's entropy when not NULL. Masked logits are -inf.
 * Records Q, K, V; per head (first QKNORM_TRACE_HEADS) the normalised Qn, Kn, the head's
 * S and P, entropy, and O so far (lines 2-7). O(n d (n + 1)) time, O(n^2 + n d) memory. */
int qknorm_mha(double *out, double *logits, double *entropy, const double *q, const double *k,
               const double *v, const qknorm_cfg *c, trace *tr);

/* Slow form of qknorm_mha: loops over heads, rows and keys straight on the strided
 * columns, the norm inline. Same outputs to rounding. O(n^2 d). */
int qknorm_mha_slow(double *out, double *logits, double *entropy, const double *q, const double *k,
                    const double *v, const qknorm_cfg *c);

/* Attention with its projections: Q = x Wq, K = x Wk, V = x Wv, qknorm_mha, result = O Wo.
 * result (n, d); logits, entropy as qknorm_mha (may be NULL). result may not overlap x.
 * Records X, Q, K, V (line 1), the heads, the result (line 8). O(n d (n + d)). */
int qknorm_attention(double *result, double *logits, double *entropy, const double *x,
                     const qknorm_proj *w, const qknorm_cfg *c, trace *tr);

/* Slow form: loop products, then qknorm_mha_slow. */
int qknorm_attention_slow(double *result, double *logits, double *entropy, const double *x,
                          const qknorm_proj *w, const qknorm_cfg *c);

/* SwiGLU FFN: out (n, d) = (silu(x Wg) * (x Wu)) Wd, x (n, d). out may not overlap x.
 * f in 1..QKNORM_MAX_FFN. O(n d f). */
int qknorm_swiglu(double *out, const double *x, size_t n, size_t d, size_t f, const double *w_gate,
                  const double *w_up, const double *w_down);

/* One decoder block over x (n, d) into out (n, d) (no overlap), norm placement w->place,
 * attention per c (its logits and entropy out as above, may be NULL). Records the
 * attention's steps, then h and out (lines 9 or 10, and 11). O(n d (n + d + f)). */
int qknorm_block(double *out, double *logits, double *entropy, const double *x,
                 const qknorm_block_w *w, const qknorm_cfg *c, trace *tr);

/* Slow form of the block: loops throughout. */
int qknorm_block_slow(double *out, double *logits, double *entropy, const double *x,
                      const qknorm_block_w *w, const qknorm_cfg *c);

#endif
