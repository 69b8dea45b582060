/* hippo.h: HiPPO projections (Gu, Dao, Ermon, Rudra, Re 2020): online compression of a
 * signal's whole history into N coefficients of an orthogonal polynomial basis, updated
 * with one linear step per sample.
 *
 * Convention: c'(t) = A c(t) + B f(t) with A already negative (the paper writes -A).
 *   LegS  (scaled Legendre, uniform measure on [0, t]): c' = (1/t) A c + (1/t) B f,
 *         A[n][k] = -sqrt(2n+1) sqrt(2k+1) (n > k), -(n+1) (n = k), 0 (n < k);
 *         B[n] = sqrt(2n+1). Time-varying, so it has its own online loop: step k = 1..L
 *         discretises (A/k, B/k) with step 1; zoh works over log-time instead, with
 *         Abar = exp(A ln((k+1)/k)).
 *   LegT  (translated Legendre, uniform measure on the window [t - theta, t]),
 *   LagT  (Laguerre, exponentially decaying measure e^{-(t-x)} on (-inf, t]): time-invariant,
 *         discretised once with step dt by ssm_discretize.
 * Coefficients start at 0 before the first sample. Reconstructions:
 *   LegS  f(s L) ~ sum_n c_n sqrt(2n+1) P_n(2s - 1), s in [0, 1]
 *   LegT  f(t - theta + s theta) ~ sum_n c_n sqrt(2n+1) P_n(2s - 1)
 *   LagT  f(t - tau) ~ sum_n c_n L_n(tau), tau >= 0 */
#ifndef TUTOR_HIPPO_H
#define TUTOR_HIPPO_H

#include <stddef.h>

#include "../trace/trace.h"
#include "ssm.h"

typedef enum hippo_measure { HIPPO_LEGS, HIPPO_LEGT, HIPPO_LAGT } hippo_measure;

/* The measure's CLI name ("legs", "legt", "lagt"), and the reverse (0 or TUTOR_EINVAL). */
const char *hippo_measure_name(hippo_measure m);
int hippo_measure_parse(const char *name, hippo_measure *m);

/* The measures' matrices. A is (N, N), B is (N). theta > 0 is LegT's window. O(N^2). */
void hippo_legs_matrices(double *A, double *B, size_t N);
void hippo_legt_matrices(double *A, double *B, size_t N, double theta);
void hippo_lagt_matrices(double *A, double *B, size_t N);

/* One LegS step k >= 1 with sample f, dense: c (N) becomes Abar c + Bbar f for the
 * discretisation of (A/k, B/k) with step 1, using the matrices A (N, N) and B (N) as given:
 * euler by a product, backward and bilinear by a triangular solve (LegS's A is lower
 * triangular), both O(N^2); zoh by the matrix exponential of the (N+1) block over log-time,
 * O(N^3). work holds (N+1)^2 + N doubles. Returns 0, TUTOR_ENOMEM (zoh) or TUTOR_EINVAL. */
int hippo_legs_step_dense(double *c, const double *A, const double *B, double f, size_t k, size_t N,
                          ssm_method method, double *work);

/* The same step in O(N) for euler, backward and bilinear, without any matrix: LegS's A is
 * -r r^T on and below the diagonal plus diag(n), with r_n = sqrt(2n+1), so A c needs one
 * running sum of r_j c_j, and (I - d A) x = y is a forward substitution carrying the same
 * kind of sum. Returns 0, or TUTOR_EINVAL for zoh (no O(N) form). */
int hippo_legs_step_fast(double *c, double f, size_t k, size_t N, ssm_method method);

/* A HiPPO run's configuration. */
typedef struct hippo_cfg {
    hippo_measure measure;
    ssm_method method;
    size_t N;     /* number of coefficients, >= 1 */
    double dt;    /* LegT and LagT: the time between samples, > 0 (LegS ignores it) */
    double theta; /* LegT: the window length in time units, > 0 */
    int dense;    /* LegS: 1 runs the dense O(N^2) step, 0 the O(N) one (zoh is dense) */
} hippo_cfg;

/* What a run produces; every array is owned by the result (hippo_result_free). */
typedef struct hippo_result {
    size_t N, L;
    double *A, *B;       /* (N, N), (N): the continuous matrices */
    double *Abar, *Bbar; /* (N, N), (N): LegT and LagT only (LegS's change every step): NULL */
    double *coefs;       /* (L, N): the coefficients after each sample */
    double *recon;       /* (L): the reconstruction at each sample's position from the final
                            coefficients; NaN where the measure has no support (LegT's
                            samples older than the window) */
} hippo_result;

/* Runs HiPPO over the signal f (L samples, L >= 1) and reconstructs it. On success res holds
 * new arrays (free with hippo_result_free); on error it holds none. tr may be NULL; its
 * steps name lines of hippo_legs_listing (LegS) or hippo_lti_listing (LegT, LagT), which
 * the caller sets; samples are traced as ssm_trace_this says. Returns 0, TUTOR_EINVAL (N = 0,
 * dt or theta <= 0 or not finite, non-finite f), TUTOR_ENOMEM, or the trace's error.
 * O(L N) for LegS fast, O(L N^2) dense or LTI, O(L N^3) LegS zoh; plus O(L N) to rebuild. */
int hippo_run(hippo_result *res, const hippo_cfg *cfg, const double *f, size_t L, trace *tr);

/* Frees the arrays of res (not res) and zeroes it. */
void hippo_result_free(hippo_result *res);

/* out[i] = the reconstruction at sample i+1 (i < L) from the coefficients c (N) after L
 * samples, as the header says; NaN outside the measure's support. work holds N doubles.
 * O(L N). */
void hippo_reconstruct(double *out, const double *c, const hippo_cfg *cfg, size_t L, double *work);

/* The exact LegS projection of g on [0, 1]: c_n = int_0^1 g(s) sqrt(2n+1) P_n(2s - 1) ds by
 * m-point Gauss-Legendre quadrature: the slow, obvious reference the online coefficients
 * approach as L grows. c has N values. Returns 0 or TUTOR_ENOMEM. O(m N + m^2). */
int hippo_legs_exact(double *c, double (*g)(double s, void *ctx), void *ctx, size_t N, size_t m);

extern const char *const hippo_legs_listing[];
extern const size_t hippo_legs_listing_len;
extern const char *const hippo_lti_listing[];
extern const size_t hippo_lti_listing_len;

#endif
