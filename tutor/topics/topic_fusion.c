/* topic_fusion.c: the fusion topic, Chameleon's early fusion at toy scale. `tutor run fusion`
 * runs the whole stream demo: an image of vq's procedural set tokenised by vq's k-means
 * codebook, put inside a caption's text stream, one seeded decoder block over it with
 * z-loss, then an image generated with image tokens only and decoded to pixels by the same
 * codebook. `--part attention|zloss|growth` checks one piece on the user's numbers. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../../models/fusion.h"
#include "../../models/mat.h"
#include "../../models/qknorm.h"
#include "../../models/vq.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "../core/parse.h"
#include "ssmio.h"
#include "topic.h"

/* Caps of the attention part, refused up front: its JSON holds H n^2 logits, so 2^20 of
 * them is some 20 MB of text; n and d stay within what a hand-made file would hold. */
#define FT_MAX_N      1024
#define FT_MAX_D      512
#define FT_MAX_LOGITS ((size_t)1 << 20)
/* The demo: vq's default image set (40 images of 16 x 16, 4 x 4 patches: 16 tokens each),
 * codebooks up to 256 codes, a block of width 16. */
#define FT_DEMO_D     16
#define FT_DEMO_MAX_K 256
/* Growth's scale factors: g^2 times a logit of a few units stays far from overflow. */
#define FT_MAX_G 1e6
/* z-loss without --logits: rows x cols seeded logits. */
#define FT_Z_ROWS 4
#define FT_Z_COLS 32
/* The shifts c of the translation table: C_LO .. C_HI in steps of C_STEP. */
#define FT_C_LO    (-10.0)
#define FT_C_STEP  0.5
#define FT_C_COUNT 41
/* z-loss steps recorded row by row for the first rows only. */
#define FT_TRACE_ROWS 16
/* Text output shows matrices up to this size in full. */
#define FT_SHOW 8

enum part { P_DEMO, P_ATTN, P_ZLOSS, P_GROWTH };
static const char *const part_names[] = {"demo", "attention", "zloss", "growth"};

static const topic_optspec fusion_opts[] = {
    {"part", 1, "demo (default) | attention | zloss | growth"},
    {"X", 1, "attention: inputs, text file of n rows of d numbers"},
    {"Wq", 1, "attention: query projection, d x d (Q = X Wq)"},
    {"Wk", 1, "attention: key projection, d x d"},
    {"Wv", 1, "attention: value projection, d x d"},
    {"Wo", 1, "attention: output projection, d x d"},
    {"heads", 1, "heads H dividing d (attention: required; else 4)"},
    {"qk-norm", 0, "attention: layer-normalise each head's q and k rows"},
    {"causal", 0, "attention: mask keys j > i"},
    {"logits", 1, "zloss: logits file, a row per position (or seeded)"},
    {"coef", 1, "zloss, demo: z-loss coefficient >= 0 (1e-5)"},
    {"g", TOPIC_LIST, "growth: factors g > 0 of Wq, Wk (\"1 2 4 8 16\")"},
    {"K", 1, "demo: codebook size of the tokeniser, 2..256 (16)"},
    {"image", 1, "demo: the image of vq's set in the stream, 0..39 (1)"},
    {"place", 1, "demo: norm placement, chameleon (default) | prenorm"},
    {"no-qk-norm", 0, "demo: the block without QK-Norm"},
    {"greedy", 0, "demo: generate by argmax instead of sampling"},
    {"temperature", 1, "demo: sampling temperature in (0, 100] (1)"},
    {NULL, 0, NULL},
};

/* Which parts each option applies to (bit per part). */
static const struct {
    const char *name;
    unsigned parts;
} applies[] = {
    {"X", 1u << P_ATTN},           {"Wq", 1u << P_ATTN},
    {"Wk", 1u << P_ATTN},          {"Wv", 1u << P_ATTN},
    {"Wo", 1u << P_ATTN},          {"heads", 1u << P_ATTN | 1u << P_DEMO | 1u << P_GROWTH},
    {"qk-norm", 1u << P_ATTN},     {"causal", 1u << P_ATTN},
    {"logits", 1u << P_ZLOSS},     {"coef", 1u << P_ZLOSS | 1u << P_DEMO},
    {"g", 1u << P_GROWTH},         {"K", 1u << P_DEMO},
    {"image", 1u << P_DEMO},       {"place", 1u << P_DEMO},
    {"no-qk-norm", 1u << P_DEMO},  {"greedy", 1u << P_DEMO},
    {"temperature", 1u << P_DEMO},
};

static int check_applies(const topic_args *args, enum part p, topic_out *out)
{
    for (size_t i = 0; i < sizeof applies / sizeof applies[0]; i++)
        if (topic_opt_has(args, applies[i].name) && !(applies[i].parts & (1u << p)))
            return topic_fail(out, TUTOR_EINVAL,
                              "--%s does not apply to --part %s (see 'tutor help fusion')",
                              applies[i].name, part_names[p]);
    return 0;
}

/* ---- small writers ---- */

static void json_key(strbuf *sb, const char *name)
{
    strbuf_puts(sb, ", ");
    strbuf_json_str(sb, name);
    strbuf_puts(sb, ": ");
}

static void json_ints(strbuf *sb, const int *v, size_t n)
{
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < n; i++)
        strbuf_printf(sb, i ? ", %d" : "%d", v[i]);
    strbuf_putc(sb, ']');
}

/* heads matrices of (rows, cols) one after another, as [[[...]...]...]. */
static void json_stack(strbuf *sb, const double *a, size_t heads, size_t rows, size_t cols)
{
    strbuf_putc(sb, '[');
    for (size_t h = 0; h < heads; h++) {
        strbuf_puts(sb, h ? ", " : "");
        mat_json(sb, a + h * rows * cols, rows, cols);
    }
    strbuf_putc(sb, ']');
}

/* A grey image (rows, cols) in [0, 1] as characters, one per pixel, dark to light. */
static char shade(double v)
{
    static const char ramp[] = " .:-=+*#%@";
    int k = (int)(v * 9.0 + 0.5);
    return ramp[k < 0 ? 0 : k > 9 ? 9 : k];
}

/* ---- --part attention ---- */

/* Loads square-or-not matrix --name with at most FT_MAX_N x FT_MAX_D values. */
static int load_opt(const topic_args *args, const char *name, double **a, size_t *rows,
                    size_t *cols, topic_out *out)
{
    return ssmio_load(args, name, (size_t)FT_MAX_N * FT_MAX_D, a, rows, cols, out->err,
                      sizeof out->err);
}

static int heads_opt(const topic_args *args, size_t def, size_t d, const char *whose, size_t *heads,
                     topic_out *out)
{
    int rc = ssmio_size(args, "heads", def, 1, QKNORM_MAX_HEADS, heads, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (d % *heads)
        return topic_fail(out, TUTOR_ESHAPE, "--heads %zu does not divide d = %zu (%s)", *heads, d,
                          whose);
    return 0;
}

static int run_attention(const topic_args *args, trace *tr, topic_out *out)
{
    static const char *const files[] = {"X", "Wq", "Wk", "Wv", "Wo"};
    for (size_t i = 0; i < 5; i++)
        if (!topic_opt_has(args, files[i]))
            return topic_fail(out, TUTOR_EINVAL,
                              "--part attention needs --X, --Wq, --Wk, --Wv, --Wo and --heads "
                              "(missing --%s)",
                              files[i]);
    if (!topic_opt_has(args, "heads"))
        return topic_fail(out, TUTOR_EINVAL,
                          "--part attention needs --heads H (H divides the columns of --X)");
    double *m[5] = {0}, *result = NULL, *logits = NULL, *entropy = NULL;
    size_t n, d, r, c, H;
    int rc = load_opt(args, "X", &m[0], &n, &d, out);
    if (rc)
        goto out;
    if (n > FT_MAX_N || d > FT_MAX_D) {
        rc = topic_fail(out, TUTOR_ETOOBIG, "--X: %zu x %zu is too big (at most %d x %d)", n, d,
                        FT_MAX_N, FT_MAX_D);
        goto out;
    }
    for (size_t i = 1; i < 5; i++) {
        if ((rc = load_opt(args, files[i], &m[i], &r, &c, out)))
            goto out;
        if (r != d || c != d) {
            rc = topic_fail(
                out, TUTOR_ESHAPE,
                "--%s: expected %zu x %zu (d x d, d = the columns of --X), got %zu x %zu", files[i],
                d, d, r, c);
            goto out;
        }
    }
    if ((rc = heads_opt(args, 1, d, "the columns of --X", &H, out)))
        goto out;
    if ((double)H * (double)n * (double)n > (double)FT_MAX_LOGITS) {
        rc = topic_fail(out, TUTOR_ETOOBIG,
                        "H n^2 = %zu x %zu^2 logits is over the cap %zu (fewer rows or heads)", H,
                        n, FT_MAX_LOGITS);
        goto out;
    }
    qknorm_cfg cfg = {.n = n,
                      .d = d,
                      .heads = H,
                      .causal = topic_opt_has(args, "causal"),
                      .qk_norm = topic_opt_has(args, "qk-norm")};
    qknorm_proj w = {m[1], m[2], m[3], m[4]};
    rc = TUTOR_ENOMEM;
    if (!(result = mat_new(n, d)) || !(logits = mat_new(H * n, n)) || !(entropy = mat_new(H, n)))
        goto out;
    trace_set_listing(tr, qknorm_listing, qknorm_listing_len);
    if ((rc = qknorm_attention(result, logits, entropy, m[0], &w, &cfg, tr)))
        goto out;
    /* Finite inputs can still overflow a product (1e200 * 1e200): say so, not NaN. */
    for (size_t i = 0; i < n * d; i++)
        if (!isfinite(result[i])) {
            rc = topic_fail(out, TUTOR_ERANGE,
                            "--part attention: the result overflowed (inputs too large); scale "
                            "them down");
            goto out;
        }
    strbuf *sb = &out->json;
    strbuf_printf(sb, "\"part\": \"attention\", \"n\": %zu, \"d\": %zu, \"heads\": %zu", n, d, H);
    strbuf_printf(sb, ", \"qk_norm\": %s, \"causal\": %s", cfg.qk_norm ? "true" : "false",
                  cfg.causal ? "true" : "false");
    json_key(sb, "result");
    mat_json(sb, result, n, d);
    json_key(sb, "logits");
    json_stack(sb, logits, H, n, n);
    json_key(sb, "entropy");
    mat_json(sb, entropy, H, n);
    strbuf *t = &out->text;
    strbuf_printf(t, "multi-head attention: n = %zu, d = %zu, H = %zu (d_h = %zu), QK-Norm %s%s\n",
                  n, d, H, d / H, cfg.qk_norm ? "on" : "off", cfg.causal ? ", causal" : "");
    strbuf_printf(t, "result = O Wo (%zu x %zu):\n", n, d);
    mat_text(t, result, n, d, FT_SHOW, "  ");
    size_t shown = H < 4 ? H : 4;
    for (size_t h = 0; h < shown; h++) {
        strbuf_printf(t, "logits of head %zu (q k^T / sqrt(%zu)%s):\n", h, d / H,
                      cfg.causal ? ", -inf above the diagonal" : "");
        mat_text(t, logits + h * n * n, n, n, FT_SHOW, "  ");
    }
    if (shown < H)
        strbuf_printf(t, "(logits of heads %zu..%zu in --json)\n", shown, H - 1);
    strbuf_puts(t, "entropy of each row's attention, nats (one row per head):\n");
    mat_text(t, entropy, H, n, FT_SHOW, "  ");
    rc = 0;
out:
    for (size_t i = 0; i < 5; i++)
        mat_free(m[i]);
    mat_free(result);
    mat_free(logits);
    mat_free(entropy);
    return rc;
}

/* ---- --part zloss ---- */

static int run_zloss(const topic_args *args, trace *tr, topic_out *out)
{
    double coef, *y = NULL, *z = NULL, c[FT_C_COUNT], zs[FT_C_COUNT], ls[FT_C_COUNT],
                 dp[FT_C_COUNT];
    size_t rows, cols;
    int rc =
        ssmio_real(args, "coef", FUSION_ZLOSS_COEF, 0, 0, 1e6, &coef, out->err, sizeof out->err);
    if (rc)
        return rc;
    const char *path = topic_opt_get(args, "logits");
    if (path) {
        if ((rc = ssmio_load(args, "logits", MAT_LOAD_DEFAULT_CAP, &y, &rows, &cols, out->err,
                             sizeof out->err)))
            return rc;
    } else {
        rows = FT_Z_ROWS;
        cols = FT_Z_COLS;
        if (!(y = mat_new(rows, cols)))
            return TUTOR_ENOMEM;
        rng r;
        rng_seed(&r, args->seed);
        mat_gauss(y, rows * cols, &r, 2.0);
    }
    for (size_t s = 0; s < FT_C_COUNT; s++)
        c[s] = FT_C_LO + FT_C_STEP * (double)s;
    rc = TUTOR_ENOMEM;
    if (!(z = mat_new(rows, 1)))
        goto out;
    double loss;
    if ((rc = fusion_zloss(z, &loss, y, rows, cols, coef)) ||
        (rc = fusion_zloss_shift(zs, ls, dp, y, cols, c, FT_C_COUNT, coef)))
        goto out;
    trace_set_listing(tr, fusion_listing, fusion_listing_len);
    if (tr) {
        size_t shown = rows < FT_TRACE_ROWS ? rows : FT_TRACE_ROWS;
        for (size_t i = 0; i < shown; i++) {
            double mx = -INFINITY;
            size_t at = 0;
            for (size_t j = 0; j < cols; j++)
                if (y[i * cols + j] > mx)
                    mx = y[i * cols + j], at = j;
            trace_step(tr, FUSION_L_ZLOSS, "row %zu: Z = m + log sum e^(y - m) = %.4g (m = %.4g)",
                       i, z[i], mx);
            trace_reals(tr, "y", y + i * cols, cols);
            trace_mark(tr, "y", (long)at, -1, TRACE_WINNER);
            trace_reals(tr, "z", z, i + 1);
        }
        if (shown < rows) {
            trace_step(tr, FUSION_L_ZLOSS, "rows %zu..%zu the same way", shown, rows - 1);
            trace_reals(tr, "z", z, rows);
        }
        trace_step(tr, FUSION_L_ZLOSS, "z-loss = %g x mean Z^2 = %.4g", coef, loss);
        trace_real(tr, "loss", loss);
        static const size_t picks[] = {0, 10, 20, 30, 40};
        for (size_t k = 0; k < 5; k++) {
            size_t s = picks[k];
            trace_step(tr, FUSION_L_ZLOSS,
                       "c = %g: Z(y + c) = %.4g, z-loss %.3g, max |p change| %.0e", c[s], zs[s],
                       ls[s], dp[s]);
            trace_reals(tr, "c", c, s + 1);
            trace_reals(tr, "Z(y + c)", zs, s + 1);
        }
        trace_step(tr, FUSION_L_ZLOSS,
                   "Z(y + c) = Z(y) + c: softmax cannot see the level; the z-loss pins it");
        trace_reals(tr, "c", c, FT_C_COUNT);
        trace_reals(tr, "Z(y + c)", zs, FT_C_COUNT);
        trace_reals(tr, "z-loss(y + c)", ls, FT_C_COUNT);
        trace_reals(tr, "max prob change", dp, FT_C_COUNT);
        if ((rc = trace_status(tr)))
            goto out;
    }
    strbuf *sb = &out->json;
    strbuf_printf(sb, "\"part\": \"zloss\", \"rows\": %zu, \"cols\": %zu, \"coef\": ", rows, cols);
    strbuf_json_double(sb, coef);
    json_key(sb, "result");
    strbuf_json_double(sb, loss);
    json_key(sb, "z");
    ssmio_json_list(sb, z, rows);
    json_key(sb, "loss");
    strbuf_json_double(sb, loss);
    strbuf_puts(sb, ", \"shift\": {\"c\": ");
    ssmio_json_list(sb, c, FT_C_COUNT);
    json_key(sb, "z");
    ssmio_json_list(sb, zs, FT_C_COUNT);
    json_key(sb, "loss");
    ssmio_json_list(sb, ls, FT_C_COUNT);
    json_key(sb, "prob_change");
    ssmio_json_list(sb, dp, FT_C_COUNT);
    strbuf_putc(sb, '}');
    strbuf *t = &out->text;
    strbuf_printf(t, "z-loss of %s%zu x %zu logits: Z = logsumexp of each row\n",
                  path ? "" : "seeded ", rows, cols);
    strbuf_puts(t, "Z:\n");
    mat_text(t, z, 1, rows, 16, "  ");
    strbuf_printf(t, "loss = %g x mean Z^2 = %.6g\n", coef, loss);
    strbuf_printf(t, "row 0 shifted by c: Z(y + c) = Z(y) + c, the probabilities unchanged\n"
                     "       c          Z     z-loss   max |dp|\n");
    for (size_t s = 0; s < FT_C_COUNT; s += 10)
        strbuf_printf(t, "  %6g  %9.4f  %9.3g  %9.2g\n", c[s], zs[s], ls[s], dp[s]);
    rc = 0;
out:
    mat_free(y);
    mat_free(z);
    return rc;
}

/* ---- --part growth ---- */

/* Parses the --g list (parse_reals: also @FILE and -) into g: finite numbers in
 * (0, FT_MAX_G], at least one and at most FUSION_MAX_GROWTH. */
static int parse_g(const char *s, double *g, size_t *ng, topic_out *out)
{
    double *v;
    int rc = parse_reals(s, "--g", FUSION_MAX_GROWTH, &v, ng, out->err, sizeof out->err);
    if (rc)
        return rc;
    if (!*ng)
        return topic_fail(out, TUTOR_EINVAL, "--g: expected at least one scale factor");
    for (size_t i = 0; i < *ng; i++) {
        if (!(v[i] > 0) || v[i] > FT_MAX_G) {
            rc = topic_fail(out, TUTOR_ERANGE, "--g: %g is outside (0, %g]", v[i], FT_MAX_G);
            break;
        }
        g[i] = v[i];
    }
    mem_free(v);
    return rc;
}

static int run_growth(const topic_args *args, trace *tr, topic_out *out)
{
    double g[FUSION_MAX_GROWTH];
    size_t ng, H, n = FUSION_GROWTH_N, d = FUSION_GROWTH_D;
    const char *gs = topic_opt_get(args, "g");
    int rc = parse_g(gs ? gs : "1 2 4 8 16", g, &ng, out);
    if (rc || (rc = heads_opt(args, FUSION_GROWTH_HEADS, d, "the growth inputs' width", &H, out)))
        return rc;
    double *ml = mat_new(2, ng), *ent = mat_new(2 * ng, H);
    rc = TUTOR_ENOMEM;
    if (!ml || !ent)
        goto out;
    trace_set_listing(tr, fusion_listing, fusion_listing_len);
    if ((rc = fusion_growth_seeded(ml, ent, g, ng, n, d, H, args->seed, tr)))
        goto out;
    strbuf *sb = &out->json;
    strbuf_printf(sb, "\"part\": \"growth\", \"n\": %zu, \"d\": %zu, \"heads\": %zu", n, d, H);
    json_key(sb, "g");
    ssmio_json_list(sb, g, ng);
    strbuf_puts(sb, ", \"result\": {\"max_logit\": {\"plain\": ");
    ssmio_json_list(sb, ml, ng);
    json_key(sb, "qk_norm");
    ssmio_json_list(sb, ml + ng, ng);
    strbuf_puts(sb, "}, \"entropy\": {\"plain\": ");
    mat_json(sb, ent, ng, H);
    json_key(sb, "qk_norm");
    mat_json(sb, ent + ng * H, ng, H);
    strbuf_puts(sb, "}}");
    strbuf *t = &out->text;
    strbuf_printf(t,
                  "logit growth: q and k scaled by g (seeded x %zu x %zu, %zu heads, causal)\n"
                  "the logits grow like g^2 without QK-Norm; with it they stay bounded\n"
                  "        g    max logit         mean entropy (nats)\n"
                  "             plain   QK-Norm   plain   QK-Norm\n",
                  n, d, H);
    for (size_t i = 0; i < ng; i++) {
        double e0 = 0, e1 = 0;
        for (size_t h = 0; h < H; h++) {
            e0 += ent[i * H + h];
            e1 += ent[(ng + i) * H + h];
        }
        strbuf_printf(t, "  %7g  %9.4g %9.4g  %7.4f %7.4f\n", g[i], ml[i], ml[ng + i],
                      e0 / (double)H, e1 / (double)H);
    }
    strbuf_puts(t, "entropy per head, plain (one row per g):\n");
    mat_text(t, ent, ng, H, 16, "  ");
    strbuf_puts(t, "entropy per head, QK-Norm:\n");
    mat_text(t, ent + ng * H, ng, H, 16, "  ");
    rc = 0;
out:
    mat_free(ml);
    mat_free(ent);
    return rc;
}

/* ---- the demo ---- */

typedef struct demo_state {
    vq_demo vq;
    fusion_demo fd;
    double *xhat; /* (per_image, patch^2): the generated codes' codebook rows */
    double *gen;  /* (side, side): the generated image */
    double *pair; /* (side, 2 side): the image from its tokens | the generated one */
    int *gen_mod; /* the generated stream's modalities */
} demo_state;

static void demo_state_free(demo_state *s)
{
    vq_demo_free(&s->vq);
    fusion_demo_free(&s->fd);
    mat_free(s->xhat);
    mat_free(s->gen);
    mat_free(s->pair);
    mem_free(s->gen_mod);
}

static int demo_options(const topic_args *args, vq_opts *vo, fusion_demo_cfg *cfg, size_t *image,
                        topic_out *out)
{
    int rc;
    vq_opts_default(vo);
    vo->seed = args->seed;
    fusion_demo_defaults(cfg);
    cfg->seed = args->seed;
    cfg->d = FT_DEMO_D;
    if ((rc = ssmio_size(args, "K", VQ_DEFAULT_K, 2, FT_DEMO_MAX_K, &vo->K, out->err,
                         sizeof out->err)) ||
        (rc = ssmio_size(args, "image", 1, 0, vo->images - 1, image, out->err, sizeof out->err)) ||
        (rc = heads_opt(args, cfg->heads, cfg->d, "the demo's width", &cfg->heads, out)) ||
        (rc = ssmio_real(args, "coef", FUSION_ZLOSS_COEF, 0, 0, 1e6, &cfg->coef, out->err,
                         sizeof out->err)) ||
        (rc = ssmio_real(args, "temperature", 1, 0, 1, 100, &cfg->temperature, out->err,
                         sizeof out->err)))
        return rc;
    const char *place = topic_opt_get(args, "place");
    if (place && strcmp(place, "chameleon") != 0 && strcmp(place, "prenorm") != 0)
        return topic_fail(out, TUTOR_EINVAL, "--place: expected chameleon or prenorm, got '%.30s'",
                          place);
    cfg->place = place && strcmp(place, "prenorm") == 0 ? QKNORM_PRENORM : QKNORM_CHAMELEON;
    cfg->qk_norm = !topic_opt_has(args, "no-qk-norm");
    cfg->greedy = topic_opt_has(args, "greedy");
    if (cfg->greedy && topic_opt_has(args, "temperature"))
        return topic_fail(out, TUTOR_EINVAL, "--temperature applies to sampling, not --greedy");
    cfg->image = vo->K;
    return 0;
}

static void text_stream(strbuf *t, const int *tokens, const int *mod, size_t n,
                        const fusion_vocab *v)
{
    strbuf_puts(t, "  ");
    size_t col = 2;
    for (size_t i = 0; i < n; i++) {
        char word[16];
        if (mod[i] == FUSION_MARKER)
            snprintf(word, sizeof word, "%s", tokens[i] == fusion_boi(v) ? "<boi>" : "<eoi>");
        else if (mod[i] == FUSION_IMAGE)
            snprintf(word, sizeof word, "i%d", tokens[i] - (int)v->text - 2);
        else
            snprintf(word, sizeof word, "t%d", tokens[i]);
        if (col + strlen(word) + 1 > 78) {
            strbuf_puts(t, "\n  ");
            col = 2;
        } else if (i) {
            strbuf_putc(t, ' ');
        }
        strbuf_puts(t, word);
        col += strlen(word) + 1;
    }
    strbuf_putc(t, '\n');
}

static int run_demo(const topic_args *args, trace *tr, topic_out *out)
{
    vq_opts vo;
    fusion_demo_cfg cfg;
    size_t m;
    int rc = demo_options(args, &vo, &cfg, &m, out);
    if (rc)
        return rc;
    demo_state s = {0};
    /* Pass 1: vq learns its codebook on the whole set (untraced: the vq topic walks through
     * k-means), and image m becomes the stream's image tokens. */
    if ((rc = vq_demo_run(&s.vq, &vo, NULL)))
        goto out;
    size_t side = vo.side, p = vo.patch, per = s.vq.per_image, dd = s.vq.d;
    const int *codes = s.vq.fit.tokens + m * per;
    const double *image = s.vq.images + m * side * side, *recon = s.vq.recon + m * side * side;
    cfg.image_len = per;
    cfg.codes = codes;
    rc = TUTOR_ENOMEM;
    if (!(s.xhat = mat_new(per, dd)) || !(s.gen = mat_new(side, side)) ||
        !(s.pair = mat_new(side, 2 * side)) ||
        !(s.gen_mod = mem_calloc(cfg.caption + per + 2, sizeof *s.gen_mod)))
        goto out;
    trace_set_listing(tr, fusion_listing, fusion_listing_len);
    if (tr) {
        trace_step(tr, FUSION_L_TOKENIZE,
                   "vq: K = %zu codes by k-means on %zu images; image %zu (%s) -> %zu tokens", vo.K,
                   vo.images, m, vq_kind_name(s.vq.kinds[m]), per);
        /* One heatmap, the picture beside what its tokens keep of it (the codes themselves
         * show up in the stream next). */
        for (size_t r = 0; r < side; r++) {
            memcpy(s.pair + r * 2 * side, image + r * side, side * sizeof *s.pair);
            memcpy(s.pair + r * 2 * side + side, recon + r * side, side * sizeof *s.pair);
        }
        trace_matrix(tr, "image | its tokens", s.pair, side, 2 * side);
    }
    /* Pass 2: the stream through the block, z-loss, the generated image. */
    if ((rc = fusion_demo_run(&s.fd, &cfg, tr)))
        goto out;
    /* Pass 3: vq decodes the generated codes. */
    if ((rc = vq_reconstruct(s.xhat, s.fd.codes, s.vq.fit.codebook, per, dd, vo.K)) ||
        (rc = vq_unpatchify(s.gen, s.xhat, 1, side, p)))
        goto out;
    for (size_t r = 0; r < side; r++) {
        memcpy(s.pair + r * 2 * side, recon + r * side, side * sizeof *s.pair);
        memcpy(s.pair + r * 2 * side + side, s.gen + r * side, side * sizeof *s.pair);
    }
    if (tr) {
        trace_step(tr, FUSION_L_DECODE,
                   "decoded: each code -> its %zu x %zu codebook patch; left given, right "
                   "generated",
                   p, p);
        trace_matrix(tr, "given | generated", s.pair, side, 2 * side);
        if ((rc = trace_status(tr)))
            goto out;
    }
    /* Pass 4: the answer. */
    const fusion_demo *f = &s.fd;
    const fusion_vocab *v = &f->vocab;
    size_t n = f->n, H = f->heads, ng = cfg.caption + per + 2;
    strbuf *sb = &out->json;
    strbuf_printf(sb,
                  "\"part\": \"demo\", \"vocab\": {\"text\": %zu, \"boi\": %d, \"eoi\": %d, "
                  "\"image_first\": %d, \"image\": %zu, \"size\": %zu}",
                  v->text, fusion_boi(v), fusion_eoi(v), fusion_image_token(v, 0), v->image, f->V);
    strbuf_printf(sb, ", \"image\": {\"index\": %zu, \"kind\": \"%s\", \"codes\": ", m,
                  vq_kind_name(s.vq.kinds[m]));
    json_ints(sb, codes, per);
    json_key(sb, "pixels");
    mat_json(sb, image, side, side);
    json_key(sb, "reconstruction");
    mat_json(sb, recon, side, side);
    strbuf_putc(sb, '}');
    json_key(sb, "stream");
    json_ints(sb, f->tokens, n);
    json_key(sb, "modality");
    json_ints(sb, f->modality, n);
    strbuf_printf(sb,
                  ", \"block\": {\"d\": %zu, \"heads\": %zu, \"ffn\": %zu, \"place\": \"%s\", "
                  "\"qk_norm\": %s}",
                  f->d, H, cfg.f, cfg.place == QKNORM_PRENORM ? "prenorm" : "chameleon",
                  cfg.qk_norm ? "true" : "false");
    json_key(sb, "logits");
    json_stack(sb, f->logits, H, n, n);
    json_key(sb, "entropy");
    mat_json(sb, f->entropy, H, n);
    json_key(sb, "z");
    ssmio_json_list(sb, f->z, n);
    json_key(sb, "zloss");
    strbuf_json_double(sb, f->zloss);
    json_key(sb, "coef");
    strbuf_json_double(sb, cfg.coef);
    strbuf_printf(sb, ", \"result\": {\"sampling\": \"%s\", \"temperature\": ",
                  cfg.greedy ? "greedy" : "sampled");
    strbuf_json_double(sb, cfg.temperature);
    json_key(sb, "stream");
    json_ints(sb, f->gen_stream, ng);
    json_key(sb, "codes");
    json_ints(sb, f->codes, per);
    json_key(sb, "pixels");
    mat_json(sb, s.gen, side, side);
    strbuf_putc(sb, '}');

    strbuf *t = &out->text;
    strbuf_printf(t,
                  "early fusion: a %zu-token stream, z-loss %.4g, %zu image tokens generated\n"
                  "vocabulary of %zu: text 0..%zu, <boi> %d, <eoi> %d, image %d..%zu (vq codes "
                  "0..%zu)\n",
                  n, f->zloss, per, f->V, v->text - 1, fusion_boi(v), fusion_eoi(v),
                  fusion_image_token(v, 0), f->V - 1, v->image - 1);
    strbuf_printf(t, "image %zu (%s, %zu x %zu) tokenised by vq: %zu patches of %zu x %zu\n", m,
                  vq_kind_name(s.vq.kinds[m]), side, side, per, p, p);
    strbuf_printf(t, "stream (%zu tokens; tN text, iN image code N):\n", n);
    text_stream(t, f->tokens, f->modality, n, v);
    strbuf_printf(t, "block: d = %zu, %zu heads, SwiGLU %zu, %s norms, QK-Norm %s\n", f->d, H,
                  cfg.f, cfg.place == QKNORM_PRENORM ? "pre-" : "Chameleon's",
                  cfg.qk_norm ? "on" : "off");
    strbuf_puts(t, "attention entropy per head (nats, mean over rows):");
    for (size_t h = 0; h < H; h++) {
        double e = 0;
        for (size_t i = 0; i < n; i++)
            e += f->entropy[h * n + i];
        strbuf_printf(t, " %.3f", e / (double)n);
    }
    double zlo = INFINITY, zhi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        zlo = f->z[i] < zlo ? f->z[i] : zlo;
        zhi = f->z[i] > zhi ? f->z[i] : zhi;
    }
    strbuf_printf(t, "\nz-loss = %g x mean Z^2 = %.4g (Z from %.3f to %.3f)\n", cfg.coef, f->zloss,
                  zlo, zhi);
    strbuf_printf(t, "generated after the caption (%s%s), image tokens only:\n",
                  cfg.greedy ? "greedy" : "sampled", cfg.greedy ? "" : ", seeded");
    fusion_modalities(s.gen_mod, f->gen_stream, ng, v);
    text_stream(t, f->gen_stream, s.gen_mod, ng, v);
    strbuf_puts(t, "  codes:");
    for (size_t i = 0; i < per; i++)
        strbuf_printf(t, " %d", f->codes[i]);
    strbuf_printf(t, "\n  %-*s  %-*s  %s\n", (int)side, "image", (int)side, "its tokens",
                  "generated");
    for (size_t r = 0; r < side; r++) {
        strbuf_puts(t, "  ");
        for (size_t c = 0; c < side; c++)
            strbuf_putc(t, shade(image[r * side + c]));
        strbuf_puts(t, "  ");
        for (size_t c = 0; c < side; c++)
            strbuf_putc(t, shade(recon[r * side + c]));
        strbuf_puts(t, "  ");
        for (size_t c = 0; c < side; c++)
            strbuf_putc(t, shade(s.gen[r * side + c]));
        strbuf_putc(t, '\n');
    }
    rc = 0;
out:
    demo_state_free(&s);
    return rc;
}

static int run(const topic_args *args, trace *tr, topic_out *out)
{
    const char *ps = topic_opt_get(args, "part");
    enum part p = P_DEMO;
    if (ps) {
        size_t i = 0;
        while (i < 4 && strcmp(part_names[i], ps) != 0)
            i++;
        if (i == 4)
            return topic_fail(out, TUTOR_EINVAL,
                              "--part: unknown part '%.30s' (expected demo, attention, zloss or "
                              "growth)",
                              ps);
        p = (enum part)i;
    }
    int rc = check_applies(args, p, out);
    if (rc)
        return rc;
    switch (p) {
    case P_ATTN: rc = run_attention(args, tr, out); break;
    case P_ZLOSS: rc = run_zloss(args, tr, out); break;
    case P_GROWTH: rc = run_growth(args, tr, out); break;
    default: rc = run_demo(args, tr, out); break;
    }
    if (!rc)
        rc = out->json.failed ? out->json.failed : out->text.failed;
    return rc;
}

/* A small random run: the demo with a random image, codebook and heads, sometimes greedy;
 * growth on random scale factors; or z-loss on seeded logits. */
static int random_input(uint64_t seed, strbuf *sb)
{
    rng r;
    rng_seed(&r, seed);
    static const int heads[] = {1, 2, 4, 8};
    switch (rng_range(&r, 0, 3)) {
    case 0:
        strbuf_printf(sb, "--part growth --g \"1 %d %d\" --heads %d --seed %d",
                      (int)rng_range(&r, 2, 5), (int)rng_range(&r, 6, 20),
                      heads[rng_range(&r, 0, 3)], (int)rng_range(&r, 1, 1000));
        break;
    case 1:
        strbuf_printf(sb, "--part zloss --coef 1e-%d --seed %d", (int)rng_range(&r, 1, 5),
                      (int)rng_range(&r, 1, 1000));
        break;
    default:
        strbuf_printf(sb, "--K %d --image %d --heads %d --seed %d%s", 2 << rng_range(&r, 1, 4),
                      (int)rng_range(&r, 0, 9), heads[rng_range(&r, 0, 3)],
                      (int)rng_range(&r, 1, 1000), rng_range(&r, 0, 1) ? " --greedy" : "");
        break;
    }
    return sb->failed;
}

const topic topic_fusion = {
    .id = "fusion",
    .family = "Multimodal",
    .title = "Early fusion: text and image tokens in one transformer",
    .summary = "Chameleon: one vocabulary and stream, QK-Norm, z-loss, image-only generation",
    .usage = "Chameleon's early fusion at toy scale. Without --part, the stream demo: vq\n"
             "learns a codebook of K codes on its procedural images, and image --image\n"
             "becomes 16 tokens; the stream is a seeded caption, <boi>, those tokens, <eoi>,\n"
             "more text, in one vocabulary (text 0..23, <boi> 24, <eoi> 25, image token\n"
             "26 + code). One seeded causal block (d = 16, --heads, SwiGLU, --place, QK-Norm\n"
             "unless --no-qk-norm) reads it; z-loss of its next-token logits; then it\n"
             "generates an image after the caption with every non-image logit at -inf,\n"
             "<eoi> forced after 16 tokens, decoded to pixels by vq's codebook.\n"
             "--part attention: multi-head attention on your files: Q = X Wq, K = X Wk,\n"
             "  V = X Wv (W stored d_in x d_out, numpy's X @ W); head h owns columns\n"
             "  h d_h .. (h+1) d_h - 1; --qk-norm layer-normalises each head's q and k rows\n"
             "  (eps 1e-5, biased variance); logits = q k^T / sqrt(d_h), -inf above the\n"
             "  diagonal with --causal; result = O Wo. At most 1024 x 512, H n^2 <= 2^20.\n"
             "--part zloss: Z = logsumexp of each row of --logits (or 4 x 32 seeded\n"
             "  N(0, 4) logits), loss = coef mean Z^2; row 0 shifted by c = -10..10.\n"
             "--part growth: seeded x (16 x 16), W ~ N(0, 1/16), q and k scaled by each g:\n"
             "  the largest logit and each head's entropy, without and with QK-Norm.\n"
             "Files: numpy.savetxt text, one matrix row per line.\n"
             "\n"
             "json: demo: {\"topic\": \"fusion\", \"part\": \"demo\", \"vocab\", \"image\": "
             "{\"index\",\n"
             "  \"kind\", \"codes\", \"pixels\", \"reconstruction\"}, \"stream\", \"modality\" (0 "
             "text,\n"
             "  1 marker, 2 image), \"block\", \"logits\" (H x n x n, -inf as null),\n"
             "  \"entropy\" (H x n), \"z\", \"zloss\", \"result\": {\"stream\", \"codes\", "
             "\"pixels\"}}\n"
             "attention: {\"part\", \"result\" (n x d), \"logits\" (H x n x n, null for -inf),\n"
             "  \"entropy\" (H x n), ...}; zloss: {\"result\": loss, \"z\": [per row], \"loss\",\n"
             "  \"shift\": {\"c\", \"z\", \"loss\", \"prob_change\"}}; growth: {\"g\": [...],\n"
             "  \"result\": {\"max_logit\": {\"plain\", \"qk_norm\"}, \"entropy\": {\"plain\",\n"
             "  \"qk_norm\"} (a row of H per g)}}\n",
    .opts = fusion_opts,
    .example = "--K 16 --image 1 --heads 4",
    .notes = "fusion.md",
    .run = run,
    .random_input = random_input,
    .plot = topic_fusion_plot,
};
