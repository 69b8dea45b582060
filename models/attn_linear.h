/* attn_linear.h: kernelised attention, where a feature map replaces exp(q . k) so the
 * n x n matrix never has to exist: linear attention (Katharopoulos et al. 2020), Performer's
 * FAVOR+ (Choromanski et al. 2020) and TransNormer's NormAttention (Qin et al. 2022).
 *
 * All three share one core: with feature rows fq_i, fk_j (r values each),
 *     S = sum_j fk_j v_j^T (r x dv),  z = sum_j fk_j (r),  o_i = fq_i^T S / (fq_i . z + eps),
 * where causal attention restricts the sums to j <= i and computes them as a recurrence
 * (S and z updated once per time step): O(n r dv) time and O(r dv) state instead of
 * O(n^2) for the masked quadratic form. NormAttention drops the denominator and applies
 * RMSNorm to fq_i^T S instead.
 *
 * Shapes: q, k are (n, d), v is (n, dv), o is (n, dv). Trace names: phiQ, phiK, S, z (1, r),
 * normaliser (n, 1: fq_i . z), A (the implied n x n attention matrix, recorded only when
 * small), O; Performer adds W, P_exact, error, max_error. Per-time-step steps for the first
 * ATTN_TRACE_ROWS steps of a causal run (S's evolution), then one summary step.
 * Errors: TUTOR_EINVAL (zero size), TUTOR_ENOMEM (nothing leaks); a traced form whose
 * recording failed returns the trace's sticky error, with o computed all the same. */
#ifndef TUTOR_ATTN_LINEAR_H
#define TUTOR_ATTN_LINEAR_H

#include <stddef.h>

#include "../trace/rng.h"
#include "../trace/trace.h"
#include "attention.h"

/* The guard in linear attention's denominator (fq_i . z + ATTN_LINEAR_EPS). */
#define ATTN_LINEAR_EPS 1e-6
/* The guard in TransNormer's RMSNorm: x / (|x| / sqrt(dv) + ATTN_RMS_EPS). */
#define ATTN_RMS_EPS 1e-8

/* ---- linear attention ---- */

extern const char *const attn_linear_listing[];
extern const size_t attn_linear_listing_len;

/* Linear attention with feature map phi (elu + 1 or relu). o is (n, dv).
 * Non-causal: Pass 1: phiQ, phiK. Pass 2: S = phiK^T v, z = phiK^T 1 (dgemm).
 * Pass 3: o = phiQ S / (phiQ z + 1e-6) (dgemm, dgemv). O(n d dv) time, O(n d) memory.
 * Causal: the recurrence, O(n d dv) time, O(d dv) state (dger, dgemv per step). */
int attn_linear(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                size_t dv, attn_fmap fmap, int causal, trace *tr);

/* The implied attention matrix a (n, n): a[i][j] = phi(q_i) . phi(k_j) / (den_i + 1e-6),
 * zero for j > i when causal. Rows sum to just under 1. O(n^2 d). */
int attn_linear_probs(double *a, const double *q, const double *k, size_t n, size_t d,
                      attn_fmap fmap, int causal);

/* Slow form: the masked quadratic sums in plain loops. O(n^2 (d + dv)). */
int attn_linear_slow(double *o, const double *q, const double *k, const double *v, size_t n,
                     size_t d, size_t dv, attn_fmap fmap, int causal);

/* ---- Performer (FAVOR+) ---- */

extern const char *const attn_performer_listing[];
extern const size_t attn_performer_listing_len;

/* Draws w (m, d): orthogonal random features. Rows come in blocks of d; each block is the
 * Q of a QR of a d x d Gaussian matrix (orthonormal rows), each row then rescaled by the
 * norm of a fresh Gaussian d-vector (chi-distributed) so the rows have the lengths
 * independent Gaussian rows would have. Returns 0, TUTOR_EINVAL or TUTOR_ENOMEM. O(m d^2). */
int attn_orf(double *w, size_t m, size_t d, rng *r);

/* Positive random features: phi (n, m), x (n, d), w (m, d).
 * phi_i = exp(w x'_i - |x'_i|^2 / 2 - c) / sqrt(m) with x' = x / d^(1/4). The stabiliser c
 * is the largest exponent of the row itself when per_row (queries: a per-row constant
 * cancels in row i's ratio), else the largest over all rows (keys: one constant for every
 * key, so it cancels too); the largest feature is then exactly 1/sqrt(m).
 * Returns 0 or TUTOR_EINVAL (a zero size). O(n m d). */
int attn_favor_features(double *phi, const double *x, const double *w, size_t n, size_t d, size_t m,
                        int per_row);

/* FAVOR+ attention with features w (m, d): o = phiQ (phiK^T v) / phiQ (phiK^T 1), causal by
 * prefix sums (the recurrence). O(n m (d + dv)) time. Records also W, the approximated
 * attention matrix A, the exact softmax matrix P_exact, error = A - P_exact and max_error
 * (the matrices only when n is small). Returns TUTOR_ERANGE when a query's normaliser
 * underflows to 0 (scores far too large for the estimator; o is then unusable). */
int attn_performer(double *o, const double *q, const double *k, const double *v, const double *w,
                   size_t n, size_t d, size_t dv, size_t m, int causal, trace *tr);

/* The approximated attention matrix a (n, n) (rows sum to 1, masked when causal). */
int attn_performer_probs(double *a, const double *q, const double *k, const double *w, size_t n,
                         size_t d, size_t m, int causal);

/* Slow form: features in plain loops without stabilisers, then the masked quadratic sums. */
int attn_performer_slow(double *o, const double *q, const double *k, const double *v,
                        const double *w, size_t n, size_t d, size_t dv, size_t m, int causal);

/* ---- TransNormer NormAttention ---- */

extern const char *const attn_norm_listing[];
extern const size_t attn_norm_listing_len;

/* NormAttention: o = RMSNorm(phiQ (phiK^T v)) with phi = 1 + elu and no denominator;
 * causal in recurrent form. O(n d dv) time; O(d dv) state when causal. Records A as the
 * unnormalised phiQ phiK^T (masked), whose rows need not sum to 1. */
int attn_norm(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
              size_t dv, int causal, trace *tr);

/* Slow form: masked quadratic sums, then RMSNorm, in loops. */
int attn_norm_slow(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                   size_t dv, int causal);

#endif
