/* Exercise vq: the two halves of one k-means (Lloyd) round, the step that turns image patches
 * into tokens and learns the codebook they point into (van den Oord et al. 2017; Chameleon's
 * image tokeniser is a VQ model of this kind).
 *
 * Task: implement vq_assign and vq_lloyd_step below. Run the tests with
 * `tutor exercise vq` (or `make exercise TOPIC=vq`); `tutor exercise vq --hint` gives hints
 * one at a time. The library's vq_kmeans calls YOUR two functions, and a behaviour checks it.
 *
 * Contract (models/vq.h); matrices are row-major:
 *   vq_assign: x is (n, d), codebook (K, d); tokens (n) and dist (n, may be NULL).
 *     tokens[i] = argmin_k ||x_i - c_k||^2, ties to the LOWEST k; dist[i] = that squared
 *     distance, computed directly as sum_j (x[i][j] - c[k][j])^2 in increasing j (expanding
 *     the square into ||x||^2 - 2 x.c + ||c||^2 loses the answer when the values are large).
 *     Returns 0; TUTOR_EINVAL when n, d or K is 0; TUTOR_ETOOBIG when n > VQ_MAX_POINTS,
 *     d > VQ_MAX_DIM or K > VQ_MAX_K; TUTOR_ENOMEM if an allocation of yours fails (nothing
 *     leaked); or, when tracing, trace_status(tr). O(n K d).
 *   vq_lloyd_step: x (n, d), tokens (n); codebook (K, d) is read and overwritten: every code
 *     k chosen by n_k > 0 patches becomes the mean of those patches; a code nobody chose
 *     keeps its vector. shift (K, may be NULL) gets ||c_new - c_old|| per code (0 for a kept
 *     code), counts (K, may be NULL) gets n_k. Returns 0; TUTOR_EINVAL (n, d or K is 0, or a
 *     token outside [0, K): then the codebook is unchanged); TUTOR_ETOOBIG (caps as above);
 *     TUTOR_ENOMEM (allocate the sums with mem_alloc / mat_new; nothing leaked, codebook
 *     unchanged); or trace_status(tr). O(n d + K d).
 *   tr may be NULL. The last behaviours compare your trace with the library's, step by step
 *   (listing lines of vq_listing, 1-based, and snapshots; messages are free):
 *     vq_assign: for each patch i < VQ_TRACE_ROWS a step on line 5 with trace_reals "d2"
 *       (its K squared distances); if n > VQ_TRACE_ROWS one step on line 4 (the rest "the
 *       same way"); then a step on line 5 with trace_ints "tokens" (n) and trace_reals
 *       "dist" (n), those two only when n <= VQ_TRACE_MAX_CELLS.
 *     vq_lloyd_step: for each code k < VQ_TRACE_ROWS a step on line 7 (moved) or line 8
 *       (empty, kept), no snapshot; if K > VQ_TRACE_ROWS one step on line 6; then a step on
 *       line 6 with trace_matrix "codebook" (K x d, only when K d <= VQ_TRACE_MAX_CELLS),
 *       trace_reals "shift" (K) and trace_ints or trace_int64s "counts" (K).
 *   See `tutor run vq --images 2 --K 4 --trace`. Start with tr ignored. */
#include <math.h>
#include <string.h>

#include "models/mat.h"
#include "models/vq.h"
#include "trace/mem.h"
#include "trace/status.h"

int vq_assign(int *tokens, double *dist, const double *x, const double *codebook, size_t n,
              size_t d, size_t K, trace *tr)
{
    /* Replace this body with yours. */
    (void)tokens;
    (void)dist;
    (void)x;
    (void)codebook;
    (void)n;
    (void)d;
    (void)K;
    (void)tr;
    return TUTOR_EINVAL;
}

int vq_lloyd_step(double *codebook, double *shift, size_t *counts, const double *x,
                  const int *tokens, size_t n, size_t d, size_t K, trace *tr)
{
    /* Replace this body with yours. */
    (void)codebook;
    (void)shift;
    (void)counts;
    (void)x;
    (void)tokens;
    (void)n;
    (void)d;
    (void)K;
    (void)tr;
    return TUTOR_EINVAL;
}
