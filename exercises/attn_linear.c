/* Exercise attn_linear: linear attention (Katharopoulos et al. 2020), whose causal form is a
 * recurrence with a constant-size state: an RNN in disguise.
 *
 * Task: implement attn_linear below. Run the tests with `tutor exercise attn_linear` (or
 * `make exercise TOPIC=attn_linear`); `tutor exercise attn_linear --hint` gives hints one at a
 * time.
 *
 * Contract (models/attn_linear.h): o is (n, dv); q, k are (n, d), v is (n, dv), row-major.
 * phi is the feature map fmap (ATTN_ELU1: elu(x) + 1, ATTN_RELU: max(x, 0)); attn_phi
 * (models/attention.h) applies it.
 *   causal: the recurrence over i = 0..n-1, with S (d x dv) and z (d) starting at 0:
 *       S += phi(k_i) v_i^T,  z += phi(k_i),  o_i = phi(q_i)^T S / (phi(q_i) . z + 1e-6)
 *     (1e-6 is ATTN_LINEAR_EPS): O(n d dv) time, O(d dv) state, no n x n matrix.
 *   not causal: S and z summed over all n keys, then the same formula for every row.
 *   Returns 0; TUTOR_EINVAL when n, d or dv is 0; TUTOR_ENOMEM when an allocation fails,
 *   nothing leaked; or, when tracing, trace_status(tr).
 *   tr may be NULL. The last behaviour compares your trace with the library's (see
 *   `tutor run attention --variant linear --causal --n 5 --d 4 --trace`). Start with tr
 *   ignored. */
#include "models/attention.h"
#include "models/attn_linear.h"
#include "models/mat.h"
#include "trace/mem.h"
#include "trace/status.h"

int attn_linear(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                size_t dv, attn_fmap fmap, int causal, trace *tr)
{
    /* Replace this body with yours. */
    (void)o;
    (void)q;
    (void)k;
    (void)v;
    (void)n;
    (void)d;
    (void)dv;
    (void)fmap;
    (void)causal;
    (void)tr;
    return TUTOR_EINVAL;
}
