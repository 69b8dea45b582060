/* Exercise fusion: QK-normed causal attention, the trick that kept Chameleon's early-fusion
 * training stable (Chameleon Team 2024; QK-Norm from Dehghani et al. 2023).
 *
 * Task: implement qknorm_heads_norm and qknorm_mha below. Run the tests with
 * `tutor exercise fusion` (or `make exercise TOPIC=fusion`); `tutor exercise fusion --hint`
 * gives hints one at a time.
 *
 * Contract (models/qknorm.h); matrices are row-major, head h owns columns h dh .. (h+1) dh - 1
 * of q, k, v and out, dh = d / heads:
 *   qknorm_heads_norm: y and x are (n, d), y may equal x. Each row's piece of each head (dh
 *     entries) is layer-normalised on its own: (u - mean) / sqrt(var + eps), biased variance
 *     (divide by dh), then times gain[h dh + t] plus bias[h dh + t] (gain NULL: 1, bias
 *     NULL: 0). Not over the whole row: one head's scale must not reach another. O(n d).
 *   qknorm_mha: out (n, d); logits (heads, n, n) and entropy (heads, n) when not NULL;
 *     q, k, v (n, d); c gives n, d, heads, causal, qk_norm, eps (0 means QKNORM_EPS) and the
 *     gains and biases of q and of k (c->q_gain ... c->k_bias, d values each, or NULL).
 *     Per head h:
 *       q_h, k_h = the head's columns, layer-normalised per row when c->qk_norm
 *       S_h = q_h k_h^T / sqrt(dh); when causal S_h[i][j] = -INFINITY for j > i
 *       logits[h][i][j] = S_h[i][j] (after the scale and the mask)
 *       P_h = stable row softmax of S_h (attn_row_softmax in models/attention.h does it)
 *       entropy[h][i] = -sum_j P log P, in nats, with 0 log 0 = 0
 *       out's columns of head h = P_h v_h
 *     Returns 0; qknorm_check(c)'s code when it is not 0 (TUTOR_EINVAL, TUTOR_ESHAPE for
 *     d % heads, TUTOR_ETOOBIG); TUTOR_EINVAL when out, q, k or v is NULL or a value of
 *     q, k, v or a given gain or bias is not finite; TUTOR_ENOMEM when an allocation
 *     (mem_alloc, mat_new) fails, nothing leaked; or, when tracing, trace_status(tr).
 *     O(heads n^2 dh) time; O(n^2 + n d) memory.
 *   Trace (tr may be NULL; start with it ignored). For each head h < QKNORM_TRACE_HEADS:
 *     line 2, a step; for h = 0 it also records attn_snap_inputs(tr, q, k, v, n, d, d);
 *     line 3 (only when qk_norm): snapshots "Qn" and "Kn" (n x d): q and k with heads
 *       0..h normalised and the later heads as given;
 *     line 4 (5 when causal): snapshot "S", the head's n x n logits after the mask;
 *     line 6: snapshot "P" (n x n) and trace_reals "entropy" (n);
 *     line 7: snapshot "O" (n x d): heads 0..h's columns of out, zeros after them.
 *     Then, when heads > QKNORM_TRACE_HEADS, one more step at line 2 with snapshot "O".
 *     Matrices go through attn_snap (it skips the ones too large to record). */
#include <math.h>
#include <string.h>

#include "models/attention.h"
#include "models/mat.h"
#include "models/qknorm.h"
#include "trace/mem.h"
#include "trace/status.h"

void qknorm_heads_norm(double *y, const double *x, size_t n, size_t d, size_t heads,
                       const double *gain, const double *bias, double eps)
{
    /* Replace this body with yours (this one writes zeros). */
    (void)x;
    (void)heads;
    (void)gain;
    (void)bias;
    (void)eps;
    for (size_t i = 0; i < n * d; i++)
        y[i] = 0.0;
}

int qknorm_mha(double *out, double *logits, double *entropy, const double *q, const double *k,
               const double *v, const qknorm_cfg *c, trace *tr)
{
    /* Replace this body with yours. */
    (void)out;
    (void)logits;
    (void)entropy;
    (void)q;
    (void)k;
    (void)v;
    (void)c;
    (void)tr;
    return TUTOR_EINVAL;
}
