/* vq.h: vector quantisation of image patches, the way image tokenisers for early-fusion
 * models (Chameleon) turn a picture into discrete tokens, at toy scale.
 *
 * Pipeline: a seeded procedural image set (vq_images) is cut into p x p patches
 * (vq_patchify); k-means (k-means++ seeding, then Lloyd iterations) learns a codebook of K
 * vectors (vq_kmeans); each patch becomes the index of its nearest code (vq_assign); the
 * codes put back in place give the reconstruction (vq_reconstruct, vq_unpatchify), whose
 * error against the bits spent is the rate-distortion trade-off (vq_rate_distortion).
 * vq_demo_run does all of it for the topic adapter; vq_vae_losses / vq_vae_grads give the
 * VQ-VAE loss terms and which side each gradient reaches.
 *
 * Shapes and orders (row-major everywhere):
 *   images  (count, side * side): image m's pixel (r, c) at [m][r * side + c], in [0, 1];
 *   patches x (n, d) with d = p * p and n = count * (side / p)^2, in this order: image by
 *           image; inside an image, patch rows top to bottom, each left to right (patch
 *           (R, C) is row m * g * g + R * g + C with g = side / p); inside a patch its pixels
 *           row-major (value (r, c) of the patch at column r * p + c);
 *   codebook (K, d); tokens (n) ints in [0, K); usage / counts (K).
 *
 * Quantisation: token_i = argmin_k ||x_i - c_k||^2 with ties to the lowest k, the distance
 * computed directly as sum_j (x_ij - c_kj)^2 in increasing j. vq_assign_slow does exactly
 * that; vq_assign gets the same tokens and the same distance bits faster (see there).
 *
 * Errors: TUTOR_EINVAL for a zero size, a patch that does not divide the side, a token out of
 * range, a bad beta; TUTOR_ETOOBIG for a size over a VQ_MAX_* cap (refused up front);
 * TUTOR_ENOMEM when an allocation fails (nothing leaks, outputs unspecified unless a function
 * says otherwise). A traced function whose recording failed returns the trace's sticky
 * error: vq_assign, vq_lloyd_step and vq_seed_pp with their outputs computed all the same,
 * vq_kmeans and vq_demo_run with their results freed like on any other error (a trace that
 * only hit its size cap is not an error: it says truncated). Inputs must be finite (the CLI's
 * loader refuses nan and inf); with non-finite values the tokens are some index in [0, K). */
#ifndef TUTOR_VQ_H
#define TUTOR_VQ_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/rng.h"
#include "../trace/trace.h"

/* Caps (TUTOR_ETOOBIG above them). */
#define VQ_MAX_K      1024              /* codebook size */
#define VQ_MAX_PATCH  16                /* patch side p */
#define VQ_MAX_SIDE   64                /* image side */
#define VQ_MAX_IMAGES 1024              /* images in a set */
#define VQ_MAX_ITERS  10000             /* Lloyd updates */
#define VQ_MAX_DIM    4096              /* vector length d (user-given patches) */
#define VQ_MAX_POINTS ((size_t)1 << 20) /* vectors n */
#define VQ_MAX_VALUES ((size_t)1 << 24) /* n * d and K * d */
#define VQ_RD_MAX     10                /* rate-distortion points: K = 2 .. 1024 */

/* Defaults (vq_opts_default). */
#define VQ_DEFAULT_K      16
#define VQ_DEFAULT_PATCH  4
#define VQ_DEFAULT_ITERS  50
#define VQ_DEFAULT_IMAGES 40
#define VQ_DEFAULT_SIDE   16
#define VQ_DEFAULT_BETA   0.25

/* Tracing caps: per-patch and per-code steps are recorded for the first VQ_TRACE_ROWS
 * patches / codes only (the rest in one summary step); the Lloyd loop passes the trace to
 * vq_assign and vq_lloyd_step for its first VQ_TRACE_ITERS rounds only (later rounds get one
 * step each); a snapshot of more than VQ_TRACE_MAX_CELLS values is not recorded. */
#define VQ_TRACE_ROWS      16
#define VQ_TRACE_ITERS     3
#define VQ_TRACE_MAX_CELLS ((size_t)1 << 16)

/* The kinds of procedural image; image m of a set has kind m % VQ_KIND_COUNT. */
typedef enum vq_kind {
    VQ_BARS,     /* stripes, horizontal or vertical, random period, phase and contrast */
    VQ_DISC,     /* a filled disc of random centre, radius and contrast */
    VQ_CHECKER,  /* a checkerboard of random cell size and contrast */
    VQ_GRADIENT, /* a linear ramp from 0 to 1 along a random direction */
    VQ_NOISE,    /* a grey level plus Gaussian noise of level 0.05, 0.1, 0.2 or 0.3, clamped */
    VQ_KIND_COUNT
} vq_kind;

/* The pseudo-code every vq step names (1-based lines). */
extern const char *const vq_listing[];
extern const size_t vq_listing_len;

/* Returns the kind's lower-case name ("bars", "disc", "checker", "gradient", "noise"), or
 * "?" for an unknown value. */
const char *vq_kind_name(int kind);

/* ---- images and patches ---- */

/* Fills pix (count, side * side) with count procedural images from seed, values in [0, 1];
 * kinds (count) receives each image's vq_kind when not NULL. The same seed gives the same
 * set on every platform. No allocation. Returns 0, TUTOR_EINVAL (count or side 0) or
 * TUTOR_ETOOBIG (count > VQ_MAX_IMAGES, side > VQ_MAX_SIDE). O(count side^2). */
int vq_images(double *pix, int *kinds, size_t count, size_t side, uint64_t seed);

/* Cuts images (count, side * side) into patches x (n, p * p), n = count (side / p)^2, in the
 * order the top of this file gives. Returns 0, TUTOR_EINVAL (a zero size, or p does not
 * divide side) or TUTOR_ETOOBIG (side or p over its cap). O(count side^2). */
int vq_patchify(double *x, const double *images, size_t count, size_t side, size_t patch);

/* The inverse: puts patches x (n, p * p) back into images (count, side * side). Same
 * errors. O(count side^2). */
int vq_unpatchify(double *images, const double *x, size_t count, size_t side, size_t patch);

/* ---- quantisation ---- */

/* The assignment pass: tokens (n) get argmin_k ||x_i - c_k||^2 (ties: lowest k) and dist
 * (n, may be NULL) that squared distance; x is (n, d), codebook (K, d).
 * Fast form: the scores ||c_k||^2 - 2 x_i . c_k come from one dgemm per block of 256 rows
 * (||x_i||^2 is the same for every k and is left out). Expanding the square cancels: with
 * ||x||^2 = 1e16, two distances 1 apart can round to the same score or swap. So the scores
 * only shortlist: every k whose score is within 1e-9 (||x_i||^2 + max_k ||c_k||^2) of the
 * row's best (far above the expanded form's rounding error, about d * 2.2e-16 times that
 * scale) has its distance computed directly, in the slow form's order, and the smallest
 * direct distance wins with ties to the lowest k. Tokens and distances are then exactly
 * vq_assign_slow's (the tests compare bits). O(n K d) flops through BLAS plus O(n d) per
 * shortlisted code; O(256 K) extra memory.
 * Traced: for each of the first VQ_TRACE_ROWS patches a step (line 5) with `d2` (its K
 * distances, the winner marked) and a quiz (which token?); a summary step (line 4) when n is
 * larger; a last step (line 5) with `tokens` (n ints) and `dist` (n reals).
 * Returns 0, TUTOR_EINVAL (n, d or K is 0), TUTOR_ETOOBIG (n, d, K or n d, K d over a cap),
 * TUTOR_ENOMEM, or the trace's error. */
int vq_assign(int *tokens, double *dist, const double *x, const double *codebook, size_t n,
              size_t d, size_t K, trace *tr);

/* Slow form: for each patch, every code's distance sum_j (x_ij - c_kj)^2 in increasing j,
 * keeping the first strictly smaller one. No allocation. Returns 0, TUTOR_EINVAL or
 * TUTOR_ETOOBIG as vq_assign. O(n K d). */
int vq_assign_slow(int *tokens, double *dist, const double *x, const double *codebook, size_t n,
                   size_t d, size_t K);

/* One Lloyd update: every code k that some patch chose (n_k > 0) moves to the mean of the
 * patches with tokens_i = k; a code nobody chose keeps its vector (a dead code this round).
 * codebook (K, d) is read and overwritten; shift (K, may be NULL) gets each code's move
 * ||c_new - c_old|| (0 for a kept code); counts (K, may be NULL) gets n_k. x is (n, d),
 * tokens (n). Traced: a step per code for the first VQ_TRACE_ROWS codes (line 7: moved by
 * how much; line 8: empty, kept), then a step (line 6) with `codebook` (K x d), `shift` (K)
 * and `counts` (K ints). Returns 0; TUTOR_EINVAL (a zero size, a token outside [0, K));
 * TUTOR_ETOOBIG (caps as vq_assign); TUTOR_ENOMEM (codebook unchanged on these three); or
 * the trace's error (codebook updated). O(n d + K d) time, O(K d) extra memory. */
int vq_lloyd_step(double *codebook, double *shift, size_t *counts, const double *x,
                  const int *tokens, size_t n, size_t d, size_t K, trace *tr);

/* ---- k-means ---- */

/* A learned codebook and the assignment it gives. Every array is owned by the fit (free with
 * vq_fit_free). */
typedef struct vq_fit {
    size_t n, d, K;
    double *codebook;    /* (K, d) */
    int *tokens;         /* (n): the assignment for the final codebook */
    double *dist;        /* (n): each patch's squared distance to its code */
    size_t *usage;       /* (K): patches per code for the final assignment */
    double *distortion;  /* (iters_run + 1): mean squared error per value, sum_i dist_i /
                          * (n d), after the seeding's assignment [0] and after each update */
    size_t iters_run;    /* Lloyd updates done */
    int converged;       /* 1 when the last update changed no token (0 when the cap stopped) */
    size_t empty_events; /* (code, update) pairs where the code was empty and kept its vector */
} vq_fit;

/* k-means++ seeding: codebook rows have .. K - 1 are chosen from the patches x (n, d), rows
 * 0 .. have - 1 being given. Each new code is patch i drawn with probability D_i^2 / sum D^2,
 * D_i the distance to the nearest code chosen so far (the first, when have = 0, uniformly);
 * when every D_i is 0 (fewer distinct patches than codes) it is drawn uniformly, a duplicate
 * that ties lose to its lower twin (a dead code). r supplies the randomness. Traced: a step
 * per code for the first VQ_TRACE_ROWS codes (line 2 or 3) with the chosen patch, its D^2
 * and its probability, then one step (line 3) with `codebook`. Returns 0, TUTOR_EINVAL (a
 * zero size, have > K), TUTOR_ETOOBIG, TUTOR_ENOMEM or the trace's error.
 * O(n (K - have) d + n have d) time, O(n) extra memory. */
int vq_seed_pp(double *codebook, size_t have, size_t K, const double *x, size_t n, size_t d, rng *r,
               trace *tr);

/* k-means on x (n, d) with K codes: k-means++ seeding from seed, the assignment, then up to
 * iters Lloyd rounds (update, assignment), stopping early when an assignment changes no
 * token. The distortion never increases from one round to the next (an update moves each
 * code to the mean of its patches, the minimiser of their squared distances; an assignment
 * picks each patch's nearest code). On success *fit is filled (free with vq_fit_free); on
 * error it is zeroed with nothing allocated. iters may be 0 (seeding only). K may exceed n
 * (duplicate codes, dead). Traced: the seeding; the first assignment; per round (the first
 * VQ_TRACE_ITERS in full through vq_lloyd_step and vq_assign) a step (line 9) with
 * `distortion` and `changed`; when more rounds ran, a last step (line 9) with the final
 * `codebook`, `tokens` and `dist`.
 * Returns 0, TUTOR_EINVAL, TUTOR_ETOOBIG (also iters > VQ_MAX_ITERS), TUTOR_ENOMEM or the
 * trace's error (fit zeroed on every error). O(iters n K d) time, O(n + K d + iters) memory. */
int vq_kmeans(vq_fit *fit, const double *x, size_t n, size_t d, size_t K, size_t iters,
              uint64_t seed, trace *tr);

/* Frees the fit's arrays (not fit) and zeroes it; NULL or a zeroed fit is fine. */
void vq_fit_free(vq_fit *fit);

/* ---- reconstruction and statistics ---- */

/* xhat (n, d): row i = codebook row tokens_i. Returns 0, TUTOR_EINVAL (a zero size, a token
 * outside [0, K)). No allocation. O(n d). */
int vq_reconstruct(double *xhat, const int *tokens, const double *codebook, size_t n, size_t d,
                   size_t K);

/* Mean of (a_i - b_i)^2 over count values (0 for count = 0). O(count). */
double vq_mse(const double *a, const double *b, size_t count);

/* mse (count): each image's mean squared error over its pixels; a and b are (count, pixels).
 * O(count pixels). */
void vq_image_mse(double *mse, const double *a, const double *b, size_t count, size_t pixels);

/* usage (K): how many of the n tokens are k. Returns 0 or TUTOR_EINVAL (K = 0, a token
 * outside [0, K)). O(n + K). */
int vq_usage(size_t *usage, const int *tokens, size_t n, size_t K);

/* exp(-sum_k p_k ln p_k) with p_k = usage_k / sum usage and 0 ln 0 = 0: the number of
 * equally used codes that would have the same entropy (K for uniform usage, 1 when one code
 * takes everything). 0 when every count is 0. O(K). */
double vq_perplexity(const size_t *usage, size_t K);

/* How many codes have usage 0. O(K). */
size_t vq_dead_codes(const size_t *usage, size_t K);

/* The VQ-VAE loss terms for encoder outputs z (n, d) and their codes e_i = codebook[t_i]
 * (van den Oord et al. 2017), each a mean over the n d values:
 *   codebook_loss = mean (sg[z] - e)^2     (its gradient reaches only the codebook)
 *   commitment    = beta mean (z - sg[e])^2 (its gradient reaches only the encoder)
 * sg = stop-gradient, the identity forwards: the values are equal up to beta, the point is
 * where each gradient goes (vq_vae_grads). Either output may be NULL. Returns 0 or
 * TUTOR_EINVAL (a zero size, a token out of range, beta negative or not finite). O(n d). */
int vq_vae_losses(double *codebook_loss, double *commitment, const double *z, const int *tokens,
                  const double *codebook, size_t n, size_t d, size_t K, double beta);

/* The gradients of a VQ-VAE step, with the straight-through estimator:
 *   grad_z (n, d) = grad_zq + 2 beta (z - e) / (n d)
 *     (the decoder's gradient grad_zq (n, d), taken at z_q = e, copied across the quantiser
 *      as if it were the identity, plus the commitment term's; grad_zq may be NULL: zero);
 *   grad_e (K, d): row k = 2 sum_{i: t_i = k} (e_k - z_i) / (n d)
 *     (the codebook term's only: the decoder's gradient never reaches the codebook, and a
 *      code no patch chose gets 0, which is why dead codes stay dead).
 * A gradient step e_k -= lr grad_e with lr = n d / (2 n_k) lands e_k on the mean of its
 * patches: the Lloyd update (the tests check it). Either output may be NULL. Returns 0 or
 * TUTOR_EINVAL as vq_vae_losses. O(n d + K d). */
int vq_vae_grads(double *grad_z, double *grad_e, const double *z, const int *tokens,
                 const double *codebook, const double *grad_zq, size_t n, size_t d, size_t K,
                 double beta);

/* The summary numbers of a quantisation (x, tokens, codebook as vq_assign; usage from
 * vq_usage; per_image patches per image, for the bits). */
typedef struct vq_stats {
    double mse;            /* mean over the n d values of (x - xhat)^2 */
    double perplexity;     /* vq_perplexity(usage) */
    size_t dead;           /* vq_dead_codes(usage) */
    double bits_per_image; /* per_image log2 K: the rate of a fixed-length code */
    double entropy_bits;   /* per_image log2 perplexity: what an ideal entropy coder pays */
    double codebook_loss;  /* vq_vae_losses with z = x */
    double commitment;
} vq_stats;

/* Fills st. Returns 0 or TUTOR_EINVAL (as vq_vae_losses, or per_image = 0). O(n d + K). */
int vq_stats_of(vq_stats *st, const double *x, const int *tokens, const double *codebook,
                const size_t *usage, size_t n, size_t d, size_t K, size_t per_image, double beta);

/* ---- rate-distortion ---- */

typedef struct vq_rd_point {
    size_t K;
    double bits_per_image; /* per_image log2 K */
    double entropy_bits;   /* per_image log2 perplexity */
    double mse;            /* per value, after k-means */
    double perplexity;
    size_t dead;
    size_t iters_run;
} vq_rd_point;

/* The rate-distortion curve of x (n, d): k-means for K = 2, 4, ..., K_max (a power of two,
 * 2 <= K_max <= VQ_MAX_K), one point each into pts (room for log2 K_max points, at most
 * VQ_RD_MAX); *npts gets their number. The codebooks are nested: the run for 2K starts from
 * the K run's final codebook plus K codes added by k-means++ seeding (one rng from seed), so
 * its first distortion is at most the K run's last and, Lloyd never increasing it, the MSE is
 * non-increasing in K by construction (independent runs would not promise that). per_image:
 * patches per image. Untraced. Returns 0, TUTOR_EINVAL (K_max not a power of two >= 2, a zero
 * size), TUTOR_ETOOBIG, TUTOR_ENOMEM. O(iters n K_max d) time. */
int vq_rate_distortion(vq_rd_point *pts, size_t *npts, const double *x, size_t n, size_t d,
                       size_t per_image, size_t K_max, size_t iters, uint64_t seed);

/* ---- the whole topic ---- */

typedef struct vq_opts {
    size_t K, patch, iters, images, side;
    uint64_t seed;
    double beta;
} vq_opts;

/* Sets the defaults: K 16, patch 4, iters 50, images 40, side 16, seed 1, beta 0.25. */
void vq_opts_default(vq_opts *o);

/* A run of vq_demo_run; every array owned by it (vq_demo_free). */
typedef struct vq_demo {
    vq_opts opts;
    size_t n, d, per_image; /* patches, values per patch, patches per image */
    double *images;         /* (images, side * side) */
    int *kinds;             /* (images) */
    double *patches;        /* (n, d) */
    vq_fit fit;             /* codebook, tokens, usage, distortion history */
    double *recon;          /* (images, side * side): the images rebuilt from their tokens */
    double *image_mse;      /* (images) */
    vq_stats stats;
} vq_demo;

/* The topic's run: the image set from o->seed, its patches, k-means (vq_kmeans with
 * o->seed), the reconstruction, per-image MSE and the statistics. Traced: the set (line 1,
 * `image` of image 0 and `patches` when small), the k-means steps, then per image (the first
 * VQ_TRACE_ROWS) a step (line 10) with `side_by_side` (side x (2 side + 1): the image, a
 * column of NaN, then its reconstruction, for one heatmap on one scale), then
 * one (line 11) with `usage`, `perplexity`, `mse`. On error *demo is zeroed with nothing
 * allocated. Returns 0, TUTOR_EINVAL (a zero size, patch not dividing side, beta < 0),
 * TUTOR_ETOOBIG (a cap), TUTOR_ENOMEM or the trace's error. */
int vq_demo_run(vq_demo *demo, const vq_opts *o, trace *tr);

/* Frees the demo's arrays (not demo) and zeroes it; NULL or a zeroed demo is fine. */
void vq_demo_free(vq_demo *demo);

#endif
