/* Exercise flow: the exact velocity field of rectified flow on a Gaussian mixture, and one
 * Euler step of the sampler that follows it (Liu et al. 2022; Lipman et al. 2022).
 *
 * Task: implement flow_velocity and flow_euler_step below. Run the tests with
 * `tutor exercise flow` (or `make exercise TOPIC=flow`); `tutor exercise flow --hint` gives
 * hints one at a time. The notes (docs/flow.md) derive the formula.
 *
 * Convention: x_t = (1 - t) x0 + t x1, x0 ~ N(0, I) noise, x1 data; the mixture m has m->k
 * components in m->d dimensions: weights m->weight[j] (sum 1), means m->mean (k, d)
 * row-major, standard deviations m->sigma[j] > 0.
 *
 * Contract (models/flow.h):
 *   flow_velocity: v (d values) = E[x1 - x0 | x_t = x] at one point x (d values):
 *       s2_j = t^2 sigma_j^2 + (1 - t)^2
 *       logw_j = log pi_j - d/2 log(2 pi s2_j) - |x - t mu_j|^2 / (2 s2_j)
 *       w = softmax(logw), computed stably (subtract the maximum before exp)
 *       v = sum_j w_j (mu_j + (t sigma_j^2 - (1 - t)) (x - t mu_j) / s2_j)
 *     post (k values, may be NULL) gets w. Allocates nothing (k <= FLOW_MAX_COMPONENTS, so
 *     arrays of that size on the stack are fine). Returns 0; TUTOR_EINVAL when t is outside
 *     [0, 1] (or NaN) or a value of x is not finite (check before writing anything); when
 *     tr is not NULL, trace_status(tr). O(k d).
 *   flow_euler_step: x (n, d) in place: x_p = x_p + h v(x_p, t) for every particle p.
 *     Returns 0; TUTOR_EINVAL when n is 0, t or t + h is outside [0, 1], h is not finite or
 *     a value of x is not finite; TUTOR_ENOMEM when an allocation (mem_alloc) fails, nothing
 *     leaked; trace_status(tr) when tracing. O(n k d).
 *   tr may be NULL. The last behaviours compare your traces with the library's (see the
 *   recording notes in models/flow.h, and flow_velocity_listing / flow_euler_listing).
 *   Start with tr ignored. */
#include <math.h>

#include "models/flow.h"
#include "models/mat.h"
#include "trace/mem.h"
#include "trace/status.h"

int flow_velocity(double *v, double *post, const flow_mixture *m, const double *x, double t,
                  trace *tr)
{
    /* Replace this body with yours (this one writes zeros: no field is zero everywhere). */
    (void)post;
    (void)x;
    (void)t;
    (void)tr;
    for (size_t i = 0; i < m->d; i++)
        v[i] = 0.0;
    return TUTOR_EINVAL;
}

int flow_euler_step(double *x, const flow_mixture *m, size_t n, double t, double h, trace *tr)
{
    /* Replace this body with yours. */
    (void)x;
    (void)m;
    (void)n;
    (void)t;
    (void)h;
    (void)tr;
    return TUTOR_EINVAL;
}
