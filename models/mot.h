/* mot.h: BAGEL's mixture of transformer experts (MoT), one layer.
 *
 * A sequence of n tokens, each tagged with a modality (MOT_TEXT: text and understanding,
 * MOT_IMAGE: image generation) and grouped into segments ("text:5 image:4 text:3" is three
 * segments). Every modality has its own copy of every weight of a pre-norm transformer
 * layer: RMSNorm gains, the q/k/v/o projections and a SwiGLU FFN. A token always uses its own
 * modality's copy (hard routing by tag: nothing is learned, nothing is mixed). Attention is
 * the one shared part: every token's query meets the keys of every token the mask allows,
 * whatever their modality. The mask is BAGEL's generalised causal mask: causal between
 * segments, full (bidirectional) inside one image segment.
 *
 * The layer, for token i of modality m (x is (n, d), y is (n, d)):
 *   a_i = rmsnorm(x_i) * g_attn[m]
 *   q_i = a_i Wq[m], k_i = a_i Wk[m], v_i = a_i Wv[m]          each (d), W (d, d)
 *   head h uses columns h d_h .. (h + 1) d_h - 1, d_h = d / H:
 *   z_i,h = sum_j P_h[i][j] v_j,h,  P_h = softmax over allowed j of q_i,h . k_j,h / sqrt(d_h)
 *   h_i = x_i + z_i Wo[m]
 *   b_i = rmsnorm(h_i) * g_ffn[m]
 *   y_i = h_i + (silu(b_i Wg[m]) * (b_i Wu[m])) Wd[m]         Wg, Wu (d, f), Wd (f, d)
 * Projections are X W with W stored row-major d_in x d_out (the fusion topic's convention).
 * rmsnorm(x) = x / sqrt(mean(x^2) + MOT_EPS); silu(u) = u / (1 + exp(-u)).
 * No biases, no rotary positions, no q/k norms: the routing is the lesson (docs/mot.md).
 *
 * Errors: TUTOR_EINVAL for a zero size, d not divisible by the heads, a bad tag or segment
 * layout; TUTOR_ETOOBIG past the caps below; TUTOR_ENOMEM when an allocation fails (nothing
 * leaks, outputs are then unspecified). A traced run whose recording failed returns the
 * trace's sticky error, with the outputs computed all the same. */
#ifndef TUTOR_MOT_H
#define TUTOR_MOT_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

#define MOT_TEXT       0
#define MOT_IMAGE      1
#define MOT_MODALITIES 2

/* Caps: tokens, model width, FFN width, heads, and the segment string's length. */
#define MOT_MAX_N       1024
#define MOT_MAX_D       512
#define MOT_MAX_FFN     2048
#define MOT_MAX_HEADS   64
#define MOT_MAX_SPEC    4096
#define MOT_EPS         1e-6
#define MOT_FFN_DEFAULT 2 /* f = 2 d when a caller has no FFN width of its own */

/* Recording caps: per-token routing steps for the first MOT_TRACE_TOKENS tokens, per-head
 * steps for the first MOT_TRACE_HEADS heads; matrices above ATTN_TRACE_MAX_CELLS values
 * (models/attention.h) are not recorded. */
#define MOT_TRACE_TOKENS 16
#define MOT_TRACE_HEADS  4

/* A tagged sequence. modality[i] is MOT_TEXT or MOT_IMAGE; segment[i] is the 0-based
 * segment of token i: segment[0] = 0, each next token has the same segment or the next one,
 * and one segment holds one modality. From mot_seq_parse / mot_seq_default (free with
 * mot_seq_free), or pointing at caller-owned arrays (then not freed here). */
typedef struct mot_seq {
    size_t n;         /* tokens */
    size_t nsegments; /* segment[n - 1] + 1 */
    int *modality;    /* n tags */
    int *segment;     /* n segment ids */
} mot_seq;

/* One modality's weights (all pointing into the layer's block). */
typedef struct mot_expert {
    double *g_attn;        /* (d) RMSNorm gain before attention */
    double *wq, *wk, *wv;  /* (d, d) */
    double *wo;            /* (d, d) */
    double *g_ffn;         /* (d) RMSNorm gain before the FFN */
    double *w_gate, *w_up; /* (d, f) */
    double *w_down;        /* (f, d) */
} mot_expert;

typedef struct mot_layer {
    size_t d, heads, ffn;          /* width, heads (d % heads == 0), FFN width f */
    mot_expert ex[MOT_MODALITIES]; /* ex[MOT_TEXT], ex[MOT_IMAGE] */
    double *block;                 /* owns every weight */
} mot_layer;

/* Optional intermediates of mot_forward; any pointer may be NULL (not wanted).
 * attn is (n, d): Z Wo, the attention sublayer's output (computed as H - X, so that asking
 *   for parts changes no rounding of y).
 * ffn is (n, d): the FFN sublayer's output (y = h + ffn).
 * probs is (heads, n, n): P of each head, masked entries 0. */
typedef struct mot_parts {
    double *attn;
    double *ffn;
    double *probs;
} mot_parts;

/* The cost of one layer: parameter counts, and matrix-product flops (2 per multiply-add)
 * per token averaged over the sequence (norms and activations left out: O(d) per token). */
typedef struct mot_cost {
    size_t params_expert; /* one modality's weights: 2 d + 4 d^2 + 3 d f */
    size_t params_total;  /* MOT_MODALITIES * params_expert */
    size_t params_active; /* what one token touches: params_expert */
    size_t params_dense;  /* the same layer without experts: params_expert */
    double flops_token;   /* MoT: 2 (4 d^2 + 3 d f) + 4 d keys_visible, averaged */
    double flops_dense;   /* the dense layer on the same mask: equal to flops_token */
    double keys_mean;     /* mean number of keys a token may see */
} mot_cost;

/* ---- the sequence ---- */

/* Parses spec, segments "MODALITY:LENGTH" separated by spaces, tabs or line breaks, MODALITY being
 * text or image and LENGTH a whole number >= 1, into *seq (free with mot_seq_free). "text:5 image:4
 * text:3" gives n = 12, modality 0 0 0 0 0 1 1 1 1 0 0 0, segments 0 0 0 0 0 1 1 1 1 2 2 2. Two
 * image segments in a row are two images. Returns 0; on error *seq is left empty (nothing to free)
 * and err (errlen bytes, always NUL-terminated when errlen > 0) gets one line naming the segment
 * and what was expected: TUTOR_EEMPTY   no segments at all TUTOR_EFORMAT  a segment not
 * MODALITY:LENGTH, an unknown modality, a length not >= 1 TUTOR_ETOOBIG  more than MOT_MAX_N
 * tokens, or spec longer than MOT_MAX_SPEC TUTOR_ENOMEM   out of memory O(len(spec) + n). */
int mot_seq_parse(mot_seq *seq, const char *spec, char *err, size_t errlen);

/* The default sequence for n tokens: text, then one image of n / 3 tokens, then text
 * (n = 12: "text:4 image:4 text:4"; n = 1: "text:1"; n = 2: "text:1 image:1").
 * Returns 0, TUTOR_EINVAL (n = 0), TUTOR_ETOOBIG (n > MOT_MAX_N) or TUTOR_ENOMEM. O(n). */
int mot_seq_default(mot_seq *seq, size_t n);

/* Frees what mot_seq_parse / mot_seq_default allocated and empties seq (NULL is fine). */
void mot_seq_free(mot_seq *seq);

/* Checks seq's contract (above). Returns 0, TUTOR_EINVAL or TUTOR_ETOOBIG (n > MOT_MAX_N).
 * O(n). */
int mot_seq_check(const mot_seq *seq);

/* Writes seq as the string mot_seq_parse reads ("text:5 image:4 text:3") into out (cap
 * bytes, NUL-terminated). Returns 0, TUTOR_EINVAL (bad seq) or TUTOR_ERANGE (cap too small:
 * out then holds a cut prefix). O(n). */
int mot_seq_format(char *out, size_t cap, const mot_seq *seq);

/* ---- the mask ---- */

/* The generalised causal mask: mask is (n, n), mask[i][j] = 1 when token i may attend to
 * token j, i.e. j <= i, or i and j lie in the same image segment; else 0.
 * Returns 0 or TUTOR_EINVAL (mot_seq_check). O(n^2). */
int mot_mask(int *mask, const mot_seq *seq);

/* ---- the layer ---- */

/* Allocates *L (free with mot_layer_free) with width d, heads and FFN width ffn, its
 * weights drawn from seed (trace/rng.h): W ~ N(0, 1 / d_in), gains 1 + N(0, 0.1^2); the
 * text expert first, then the image expert. tie: the image expert is a copy of the text
 * expert (the text weights are the same as with tie = 0 and the same seed).
 * Returns 0; TUTOR_EINVAL (a zero size, d % heads != 0); TUTOR_ETOOBIG (d > MOT_MAX_D,
 * ffn > MOT_MAX_FFN, heads > MOT_MAX_HEADS); TUTOR_ENOMEM (*L then empty).
 * O(d^2 + d f). */
int mot_layer_init(mot_layer *L, size_t d, size_t heads, size_t ffn, uint64_t seed, int tie);

/* Frees the weights and empties L (NULL is fine). */
void mot_layer_free(mot_layer *L);

/* Copies modality from's weights over modality to's (both < MOT_MODALITIES). After
 * mot_layer_copy_expert(L, MOT_IMAGE, MOT_TEXT) the layer is tied. O(d^2 + d f). */
void mot_layer_copy_expert(mot_layer *L, int to, int from);

/* Fills x (n, d) with N(0, 1) values from a stream derived from seed (not the weights'
 * stream, so the same seed gives unrelated weights and inputs). O(n d). */
void mot_input(double *x, size_t n, size_t d, uint64_t seed);

/* One row of RMSNorm: out = x / sqrt(mean(x^2) + MOT_EPS) * gain, over d values (out may
 * equal x). O(d). */
void mot_rmsnorm(double *out, const double *x, const double *gain, size_t d);

/* silu(u) = u sigmoid(u), stable for large |u|. */
double mot_silu(double u);

extern const char *const mot_listing[];
extern const size_t mot_listing_len;

/* The routed layer (fast form). y is (n, d), x is (n, d), seq has n = seq->n tokens; parts
 * may be NULL. Every run of consecutive tokens of one modality is one block of rows, so the
 * routing needs no gathering: each projection is one dgemm per run with that run's expert.
 * Pass 1: the mask. Pass 2: A = rmsnorm rows, gains by tag. Pass 3: Q, K, V per run.
 * Pass 4: per head, S = Q_h K_h^T / sqrt(d_h), masked, row softmax, Z_h = P V_h.
 * Pass 5: H = X + Z Wo per run. Pass 6: B = rmsnorm rows. Pass 7: Y = H + SwiGLU(B) per run.
 * O(n d^2 + n d f + n^2 d) time, O(n^2 + n (d + f)) memory.
 * Records (first MOT_TRACE_* tokens/heads as said above): modality, segment, M (the 0/1
 * mask), X, A, Q, K, V, P (per head), Z, H, B, FFN, Y, Y_text, Y_image (the rows of each
 * modality). Returns 0 or an error above. */
int mot_forward(double *y, const double *x, const mot_layer *L, const mot_seq *seq,
                mot_parts *parts, trace *tr);

/* Slow form: the same layer token by token with plain loops (no BLAS, no runs), each token
 * looking its expert up by its tag. Same returns; O(n^2 d + n d^2 + n d f). */
int mot_forward_slow(double *y, const double *x, const mot_layer *L, const mot_seq *seq);

/* The dense layer the tied MoT must equal: every token through the one weight set
 * L->ex[expert] (MOT_TEXT or MOT_IMAGE), whatever its tag, under the same mask (which still
 * reads the tags: an image segment stays bidirectional). Each projection is one product
 * over all n rows, with no runs. y is (n, d), x is (n, d). Returns 0, TUTOR_EINVAL (a bad
 * expert, or as mot_forward), TUTOR_ETOOBIG or TUTOR_ENOMEM. Same cost as mot_forward. */
int mot_dense_forward(double *y, const double *x, const mot_layer *L, int expert,
                      const mot_seq *seq);

/* ---- the facts ---- */

/* Parameters of one expert: 2 d + 4 d^2 + 3 d f (saturates at SIZE_MAX). */
size_t mot_params_expert(size_t d, size_t ffn);

/* Total over both modalities, and active per token (one expert). */
size_t mot_params_total(size_t d, size_t ffn);
size_t mot_params_active(size_t d, size_t ffn);

/* Fills *c for width d, FFN width ffn over seq (keys counted from its mask).
 * Returns 0, TUTOR_EINVAL (zero size, bad seq). O(n^2). */
int mot_cost_of(mot_cost *c, size_t d, size_t ffn, const mot_seq *seq);

#endif
