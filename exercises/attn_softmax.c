/* Exercise attn_softmax: the numerically stable row softmax, and softmax attention built on
 * it (Vaswani et al. 2017).
 *
 * Task: implement attn_row_softmax and attn_softmax below. Run the tests with
 * `tutor exercise attn_softmax` (or `make exercise TOPIC=attn_softmax`);
 * `tutor exercise attn_softmax --hint` gives hints one at a time.
 *
 * Contract (models/attention.h); matrices are row-major:
 *   attn_row_softmax: p is (rows, cols), s is (rows, cols), p may equal s. Each row of p is
 *     the softmax of that row of s, computed stably (subtract the row's maximum before exp,
 *     so adding a constant to a row changes nothing and large scores do not overflow).
 *     causal: entries with j > i get weight 0 (and are not read). -inf entries get weight 0;
 *     a row keeps at least one finite entry. O(rows cols).
 *   attn_softmax: o is (n, dv); q is (n, d), k is (n, d), v is (n, dv).
 *     Pass 1: S = q k^T / sqrt(d). Pass 2 (causal): S[i][j] = -inf for j > i.
 *     Pass 3: P = stable row softmax of S. Pass 4: o = P v.
 *     Returns 0; TUTOR_EINVAL when n, d or dv is 0; TUTOR_ENOMEM when an allocation
 *     (mem_alloc, or mat_new from models/mat.h) fails, nothing leaked; or, when tracing,
 *     trace_status(tr). O(n^2 (d + dv)) time, O(n^2) memory. Loops are fine; mat_gemm
 *     (models/mat.h) is there if you want CBLAS.
 *   tr may be NULL. The last behaviour compares your trace with the library's (see
 *   `tutor run attention --n 5 --d 4 --trace`). Start with tr ignored. In the trace's
 *   copies of P, a row not computed yet holds TRACE_UNSET (NAN; `-` in the text trace,
 *   null in JSON), never 0, which would read as zero weight. */
#include <math.h>

#include "models/attention.h"
#include "models/mat.h"
#include "trace/mem.h"
#include "trace/status.h"

void attn_row_softmax(double *p, const double *s, size_t rows, size_t cols, int causal)
{
    /* Replace this body with yours (this one writes zeros, which no softmax row is). */
    (void)s;
    (void)causal;
    for (size_t i = 0; i < rows * cols; i++)
        p[i] = 0.0;
}

int attn_softmax(double *o, const double *q, const double *k, const double *v, size_t n, size_t d,
                 size_t dv, int causal, trace *tr)
{
    /* Replace this body with yours. */
    (void)o;
    (void)q;
    (void)k;
    (void)v;
    (void)n;
    (void)d;
    (void)dv;
    (void)causal;
    (void)tr;
    return TUTOR_EINVAL;
}
