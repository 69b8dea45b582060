/* The mot exercise: the generalised causal mask and the routed layer against the
 * library's. */
#include <stdio.h>
#include <string.h>

#include "../../models/mat.h"
#include "../../models/mot.h"
#include "../../trace/mem.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(mot_mask);
EX_REF(mot_forward);

#define TOL 1e-10

/* ---- the mask ---- */

static void mask_case(const char *spec)
{
    mot_seq seq;
    char err[128];
    ex_input("segments \"%s\"", spec);
    if (mot_seq_parse(&seq, spec, err, sizeof err)) {
        ex_fail("the test's own segments did not parse: %s", err);
        return;
    }
    size_t nn = seq.n * seq.n;
    int *want = mem_calloc(nn, sizeof *want), *got = mem_calloc(nn, sizeof *got);
    if (!want || !got) {
        ex_fail("out of memory for the masks");
    } else {
        for (size_t i = 0; i < nn; i++)
            got[i] = -7;
        int rc_want = exref_mot_mask(want, &seq), rc = mot_mask(got, &seq);
        if (ex_status("return value", rc_want, rc))
            ex_ints("mask (row by row)", want, nn, got, nn);
    }
    mem_free(want);
    mem_free(got);
    mot_seq_free(&seq);
}

static void mask_text(void)
{
    mask_case("text:4");
}

static void mask_image(void)
{
    mask_case("text:2 image:3 text:1");
    if (!ex_failed())
        mask_case("image:4");
}

static void mask_two_images(void)
{
    mask_case("image:2 image:2 text:1");
    if (!ex_failed())
        mask_case("text:1 image:3 text:2 image:2 text:1");
}

static void mask_bad(void)
{
    int mod[3] = {0, 2, 0}, seg[3] = {0, 1, 2}, mask[9];
    mot_seq bad = {3, 3, mod, seg};
    ex_input("modality = [0 2 0] (2 is no modality), segment = [0 1 2]");
    if (ex_status("return value", TUTOR_EINVAL, mot_mask(mask, &bad))) {
        int mixed_mod[2] = {0, 1}, one_seg[2] = {0, 0};
        mot_seq mixed = {2, 1, mixed_mod, one_seg};
        ex_input("modality = [0 1], segment = [0 0] (one segment, two modalities)");
        ex_status("return value", TUTOR_EINVAL, mot_mask(mask, &mixed));
    }
}

/* ---- the layer ---- */

typedef struct lcase {
    mot_seq seq;
    mot_layer L;
    double *x, *want, *got;
} lcase;

/* Sets up a case; 1, or 0 after recording the failure with nothing to free. */
static int lcase_new(lcase *c, const char *spec, size_t d, size_t heads, size_t f, uint64_t seed)
{
    char err[128];
    memset(c, 0, sizeof *c);
    ex_input("segments \"%s\", d = %zu, heads = %zu, ffn = %zu, weights and X from seed %llu", spec,
             d, heads, f, (unsigned long long)seed);
    if (mot_seq_parse(&c->seq, spec, err, sizeof err)) {
        ex_fail("the test's own segments did not parse: %s", err);
        return 0;
    }
    size_t n = c->seq.n;
    c->x = mat_new(n, d);
    c->want = mat_new(n, d);
    c->got = mat_new(n, d);
    if (mot_layer_init(&c->L, d, heads, f, seed, 0) || !c->x || !c->want || !c->got) {
        ex_fail("out of memory for the inputs");
        mot_seq_free(&c->seq);
        mot_layer_free(&c->L);
        mat_free(c->x);
        mat_free(c->want);
        mat_free(c->got);
        return 0;
    }
    mot_input(c->x, n, d, seed);
    return 1;
}

static void lcase_free(lcase *c)
{
    mot_seq_free(&c->seq);
    mot_layer_free(&c->L);
    mat_free(c->x);
    mat_free(c->want);
    mat_free(c->got);
}

static void layer_case(const char *spec, size_t d, size_t heads, size_t f, uint64_t seed)
{
    lcase c;
    if (!lcase_new(&c, spec, d, heads, f, seed))
        return;
    int rc_want = exref_mot_forward(c.want, c.x, &c.L, &c.seq, NULL, NULL);
    int rc = mot_forward(c.got, c.x, &c.L, &c.seq, NULL, NULL);
    if (ex_status("return value", rc_want, rc))
        ex_reals("y", c.want, c.got, c.seq.n * d, TOL);
    lcase_free(&c);
}

static void layer_text(void)
{
    layer_case("text:5", 4, 1, 8, 1);
}

static void layer_routing(void)
{
    layer_case("image:3", 4, 1, 8, 2);
    if (!ex_failed())
        layer_case("text:2 image:3 text:2", 4, 1, 8, 3);
}

static void layer_heads(void)
{
    layer_case("text:2 image:3 text:2", 8, 2, 8, 4);
    if (!ex_failed())
        layer_case("text:3 image:4 text:1", 8, 4, 12, 5);
}

static void layer_random(void)
{
    static const char *const specs[] = {"text:1",
                                        "image:1",
                                        "image:2 image:3",
                                        "text:4 image:4 text:4",
                                        "image:3 text:2 image:5 text:1",
                                        "text:1 image:1 text:1 image:1 text:1"};
    for (uint64_t seed = 1; seed <= 18 && !ex_failed(); seed++) {
        size_t heads = 1 + seed % 3, d = heads * (1 + seed % 4), f = 1 + seed % 7;
        layer_case(specs[seed % 6], d, heads, f, 100 + seed);
    }
}

static void layer_parts(void)
{
    lcase c;
    if (!lcase_new(&c, "text:2 image:3 text:1", 4, 2, 6, 7))
        return;
    size_t n = c.seq.n, nd = n * 4;
    double *w = mem_calloc(2 * (2 * nd + 2 * n * n), sizeof *w);
    if (!w) {
        ex_fail("out of memory for the parts");
        lcase_free(&c);
        return;
    }
    double *g = w + 2 * nd + 2 * n * n;
    mot_parts pw = {w, w + nd, w + 2 * nd}, pg = {g, g + nd, g + 2 * nd};
    int rc_want = exref_mot_forward(c.want, c.x, &c.L, &c.seq, &pw, NULL);
    int rc = mot_forward(c.got, c.x, &c.L, &c.seq, &pg, NULL);
    if (ex_status("return value", rc_want, rc) && ex_reals("y", c.want, c.got, nd, TOL) &&
        ex_reals("parts->attn (Z Wo)", pw.attn, pg.attn, nd, TOL) &&
        ex_reals("parts->ffn", pw.ffn, pg.ffn, nd, TOL))
        ex_reals("parts->probs (heads x n x n)", pw.probs, pg.probs, 2 * n * n, TOL);
    /* NULL fields are allowed one by one. */
    mot_parts only = {NULL, g, NULL};
    if (!ex_failed())
        ex_status("return value with only parts->ffn", 0,
                  mot_forward(c.got, c.x, &c.L, &c.seq, &only, NULL));
    mem_free(w);
    lcase_free(&c);
}

static void sizes(void)
{
    lcase c;
    if (!lcase_new(&c, "text:1 image:2", 4, 2, 4, 8))
        return;
    ex_input("d = 4 with heads = 3 (4 %% 3 != 0)");
    c.L.heads = 3;
    if (ex_status("return value", TUTOR_EINVAL,
                  mot_forward(c.got, c.x, &c.L, &c.seq, NULL, NULL))) {
        mot_layer empty = {0};
        ex_input("a layer with no weights (mot_layer all zero)");
        if (ex_status("return value", TUTOR_EINVAL,
                      mot_forward(c.got, c.x, &empty, &c.seq, NULL, NULL))) {
            int mod[2] = {0, 1}, seg[2] = {0, 0};
            mot_seq bad = {2, 1, mod, seg};
            c.L.heads = 2;
            ex_input("modality = [0 1], segment = [0 0] (one segment, two modalities)");
            ex_status("return value", TUTOR_EINVAL,
                      mot_forward(c.got, c.x, &c.L, &bad, NULL, NULL));
        }
    }
    lcase_free(&c);
}

static int sweep_body(void *ctx)
{
    lcase *c = ctx;
    return mot_forward(c->got, c->x, &c->L, &c->seq, NULL, NULL);
}

static void alloc(void)
{
    lcase c;
    if (!lcase_new(&c, "text:2 image:3 text:1", 4, 2, 6, 9))
        return;
    ex_input("segments \"text:2 image:3 text:1\", d = 4, heads = 2, ffn = 6, every "
             "allocation failing in turn");
    ex_alloc_sweep(sweep_body, &c);
    lcase_free(&c);
}

static void traced(void)
{
    static const char *const specs[] = {"text:2 image:3 text:1", "image:2 image:2"};
    for (int t = 0; t < 2 && !ex_failed(); t++) {
        lcase c;
        trace *ref, *got;
        if (!lcase_new(&c, specs[t], 4, 2, 8, 2))
            return;
        if (!ex_trace_pair(&ref, &got, mot_listing, mot_listing_len)) {
            lcase_free(&c);
            return;
        }
        exref_mot_forward(c.want, c.x, &c.L, &c.seq, NULL, ref);
        int rc = mot_forward(c.got, c.x, &c.L, &c.seq, NULL, got);
        if (ex_status("return value", 0, rc))
            ex_trace(ref, got, 1e-9);
        trace_free(ref);
        trace_free(got);
        lcase_free(&c);
    }
}

static const ex_behaviour behaviours[] = {
    {"mask: text alone is causal",
     "mask[i][j] = 1 for j <= i: a text token sees itself and everything before it.", mask_text},
    {"mask: an image sees all of itself",
     "Inside one image segment attention is full: for an image token i, mask[i][j] = 1 also "
     "for a later j with segment[j] == segment[i]. Text stays causal.",
     mask_image},
    {"mask: two images in a row stay apart",
     "Compare segment ids, not modalities: \"image:2 image:2\" is two images (segments 0 and 1), "
     "and the first never sees the second.",
     mask_two_images},
    {"mask: a bad sequence returns TUTOR_EINVAL",
     "Call mot_seq_check(seq) first and return its code when it is not 0.", mask_bad},
    {"layer: one text segment (a plain causal pre-norm layer)",
     "rmsnorm, Q K V, masked softmax attention, Wo plus the residual X, rmsnorm, SwiGLU plus the "
     "residual H. With one head, P = softmax(Q K^T / sqrt(d)) with -inf where the mask is 0.",
     layer_text},
    {"layer: each token uses its own modality's weights",
     "Pick e = L->ex[seq->modality[i]] for token i in EVERY routed step: both gains (g_attn, "
     "g_ffn), Wq, Wk, Wv, Wo, Wg, Wu, Wd. Only the attention itself mixes tokens.",
     layer_routing},
    {"layer: heads split the columns",
     "Head h uses columns h*d_h .. (h+1)*d_h - 1 of Q, K and V and writes those columns of Z; "
     "scale by 1/sqrt(d_h), not 1/sqrt(d). Wo is applied once, to the whole row of Z.",
     layer_heads},
    {"layer: random segmentations agree",
     "Check the single-token cases (text:1, image:1) and images at the very start or end.",
     layer_random},
    {"layer: parts (attn, ffn, probs) when asked for",
     "parts->attn = Z Wo (before adding X), parts->ffn = the SwiGLU output (before adding H), "
     "parts->probs = P of head h at h*n*n. Each field may be NULL on its own.",
     layer_parts},
    {"bad sizes and sequences return TUTOR_EINVAL",
     "Check before allocating: L->block not NULL, d, heads, ffn not 0, d % heads == 0, the caps "
     "(TUTOR_ETOOBIG), and mot_seq_check(seq).",
     sizes},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate with mem_alloc or mat_new and return TUTOR_ENOMEM when one gives NULL, freeing "
     "what you already have (one block for all the work buffers keeps this simple).",
     alloc},
    {"trace: the same steps as the reference",
     "Compare with `tutor run mot --segments \"text:2 image:3 text:1\" --d 4 --heads 2 --trace`: "
     "line 1 records modality, segment, M (the mask as an int64 table) and X, then one line-2 "
     "step per token (first 16); lines 3, 4 record A and Q, K, V; per head (first 4) line 6 "
     "records P and line 7 Z; then H (8), B (9), and FFN, Y, Y_text, Y_image (10). The two "
     "steps after that in `--trace` (outputs by modality, dY) are the topic's, not yours.",
     traced},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("mot", behaviours);
}
