/* Exercise mot: the routed layer of a mixture of transformer experts (BAGEL, Deng et al.
 * 2025): every modality has its own weights, every token uses its own modality's, and all
 * tokens share one attention under the generalised causal mask.
 *
 * Task: implement mot_mask and mot_forward below. Run the tests with
 * `tutor exercise mot` (or `make exercise TOPIC=mot`); `tutor exercise mot --hint` gives
 * hints one at a time.
 *
 * Contract (models/mot.h); matrices are row-major:
 *   mot_mask: mask is (n, n) with n = seq->n; mask[i][j] = 1 when token i may attend to
 *     token j: j <= i, or i and j are in the same image segment
 *     (seq->segment[i] == seq->segment[j] and seq->modality[i] == MOT_IMAGE); else 0.
 *     Returns 0, or what mot_seq_check(seq) returns when seq breaks its contract
 *     (TUTOR_EINVAL, TUTOR_ETOOBIG). O(n^2).
 *   mot_forward: y is (n, d), x is (n, d); L holds d, heads, ffn = f and the two experts
 *     L->ex[MOT_TEXT], L->ex[MOT_IMAGE] (gains (d), Wq/Wk/Wv/Wo (d, d), Wg/Wu (d, f),
 *     Wd (f, d), each stored d_in x d_out: a row vector times W). For token i of modality
 *     m = seq->modality[i], with e = L->ex[m]:
 *       A_i = mot_rmsnorm(X_i, e.g_attn); Q_i = A_i Wq, K_i = A_i Wk, V_i = A_i Wv
 *       per head h (columns h d_h .. (h+1) d_h - 1, d_h = d / heads), over ALL tokens:
 *         P_h = row softmax of Q_h K_h^T / sqrt(d_h) with -inf where the mask is 0
 *         Z_h = P_h V_h
 *       H_i = X_i + Z_i Wo;  B_i = mot_rmsnorm(H_i, e.g_ffn)
 *       Y_i = H_i + (mot_silu(B_i Wg) * (B_i Wu)) Wd      (* elementwise)
 *     parts (may be NULL; each field may be NULL): attn = Z Wo (n, d), ffn = the FFN's
 *     output (n, d), probs = P of every head (heads, n, n).
 *     Returns 0; TUTOR_EINVAL when L has no weights, a zero size or d % heads != 0, or seq
 *     breaks its contract (mot_seq_check); TUTOR_ETOOBIG past the caps (n > MOT_MAX_N,
 *     d > MOT_MAX_D, ffn > MOT_MAX_FFN, heads > MOT_MAX_HEADS); TUTOR_ENOMEM when an
 *     allocation (mem_alloc, mat_new) fails, nothing leaked; or, when tracing,
 *     trace_status(tr). O(n d^2 + n d f + n^2 d).
 *   Loops are fine; mat_gemm (models/mat.h) is there if you want CBLAS, attn_row_softmax
 *   (models/attention.h) for the masked softmax, mot_rmsnorm and mot_silu (models/mot.h)
 *   for the pieces.
 *   tr may be NULL. The last behaviour compares your trace with the library's (see
 *   `tutor run mot --segments "text:2 image:3 text:1" --d 4 --heads 2 --trace`; its last two
 *   steps, the outputs by modality and dY, are the topic's own, not mot_forward's). Start
 *   with tr ignored. */
#include <math.h>
#include <string.h>

#include "models/attention.h"
#include "models/mat.h"
#include "models/mot.h"
#include "trace/mem.h"
#include "trace/status.h"

int mot_mask(int *mask, const mot_seq *seq)
{
    /* Replace this body with yours (this one writes an all-zero mask). */
    if (seq && seq->n <= MOT_MAX_N)
        for (size_t i = 0; i < seq->n * seq->n; i++)
            mask[i] = 0;
    return TUTOR_EINVAL;
}

int mot_forward(double *y, const double *x, const mot_layer *L, const mot_seq *seq,
                mot_parts *parts, trace *tr)
{
    /* Replace this body with yours. */
    (void)y;
    (void)x;
    (void)L;
    (void)seq;
    (void)parts;
    (void)tr;
    return TUTOR_EINVAL;
}
