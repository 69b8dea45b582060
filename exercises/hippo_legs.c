/* Exercise hippo_legs: the HiPPO-LegS matrices and one online step (Gu, Dao, Ermon, Rudra,
 * Re 2020): the N coefficients c of the best Legendre approximation of everything seen so
 * far, updated with one linear step per sample.
 *
 * Task: implement hippo_legs_matrices and hippo_legs_step_dense below. Run the tests with
 * `tutor exercise hippo_legs` (or `make exercise TOPIC=hippo_legs`);
 * `tutor exercise hippo_legs --hint` gives hints one at a time.
 *
 * Contract (models/hippo.h), with c'(t) = (1/t) A c(t) + (1/t) B f(t) and A stored negative:
 *   hippo_legs_matrices: A is (N, N) row-major, B is (N):
 *       A[n][k] = -sqrt(2n+1) sqrt(2k+1) (n > k), -(n+1) (n == k), 0 (n < k);
 *       B[n] = sqrt(2n+1). O(N^2). Cannot fail.
 *   hippo_legs_step_dense: step k >= 1 with sample f. c (N) becomes Abar c + Bbar f for the
 *     discretisation of (A/k, B/k) with step 1, using A and B as given:
 *       SSM_EULER     c + (A c + B f) / k
 *       SSM_BACKWARD  solve (I - A/k) x = c + B f / k
 *       SSM_BILINEAR  solve (I - A/(2k)) x = (I + A/(2k)) c + B f / k
 *       SSM_ZOH       exact over log-time: (Abar, Bbar) = ssm_discretize(A, B, dt = ln((k+1)/k),
 *                     SSM_ZOH), then Abar c + Bbar f
 *     I - a A is lower triangular (A is): forward substitution, O(N^2). work holds
 *     (N+1)^2 + N doubles for you to use. Returns 0; TUTOR_EINVAL for an unknown method;
 *     TUTOR_ENOMEM (zoh, from ssm_discretize). */
#include <math.h>

#include "models/hippo.h"
#include "models/ssm.h"
#include "trace/status.h"

void hippo_legs_matrices(double *A, double *B, size_t N)
{
    /* Replace this body with yours (this one writes zeros). */
    for (size_t i = 0; i < N * N; i++)
        A[i] = 0.0;
    for (size_t i = 0; i < N; i++)
        B[i] = 0.0;
}

int hippo_legs_step_dense(double *c, const double *A, const double *B, double f, size_t k, size_t N,
                          ssm_method method, double *work)
{
    /* Replace this body with yours. */
    (void)c;
    (void)A;
    (void)B;
    (void)f;
    (void)k;
    (void)N;
    (void)method;
    (void)work;
    return TUTOR_EINVAL;
}
