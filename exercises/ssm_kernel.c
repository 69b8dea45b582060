/* Exercise ssm_kernel: the convolution kernel of a discrete state-space model, which lets S4
 * train as one long convolution instead of a recurrence.
 *
 * Task: implement ssm_kernel below. Run the tests with `tutor exercise ssm_kernel` (or
 * `make exercise TOPIC=ssm_kernel`); `tutor exercise ssm_kernel --hint` gives hints one at a
 * time.
 *
 * Contract (models/ssm.h): for x_k = Abar x_{k-1} + Bbar u_k, y_k = C x_k + D u_k, the
 * output is y = K * u + D u with
 *     K[j] = C Abar^j Bbar,   j = 0..L-1,
 * computed by repeated products: v = Bbar, then K[j] = C . v and v = Abar v. K has L values;
 * Abar is (N, N) row-major, Bbar and C are (N). Returns 0, or TUTOR_ENOMEM when an
 * allocation (mem_alloc) fails, nothing leaked. O(L N^2) time, O(N) extra memory. */
#include <string.h>

#include "models/mat.h"
#include "models/ssm.h"
#include "trace/mem.h"
#include "trace/status.h"

int ssm_kernel(double *K, const double *Abar, const double *Bbar, const double *C, size_t N,
               size_t L)
{
    /* Replace this body with yours. */
    (void)K;
    (void)Abar;
    (void)Bbar;
    (void)C;
    (void)N;
    (void)L;
    return TUTOR_EINVAL;
}
