/* fusion.c: the joint vocabulary, z-loss, image-only generation, logit growth and the
 * whole-stream demo (see fusion.h). */
#include "fusion.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "attention.h"
#include "mat.h"

const char *const fusion_listing[] = {
    QKNORM_LISTING_LINES,
    "codes = vq(image)",
    "stream: text,<boi>,img,<eoi>,text",
    "x_i = E[token_i] + pos(i)",
    "y = block(x) E^T   (logits)",
    "z = logsumexp(y); zloss = c z^2",
    "in <boi>..<eoi>: y[text] = -inf",
    "  token = argmax, or draw y / T",
    "after the count: append <eoi>",
    "pixels = codebook[code]   (vq)",
    "growth: q, k scaled by g",
};
const size_t fusion_listing_len = sizeof fusion_listing / sizeof fusion_listing[0];
_Static_assert(sizeof fusion_listing / sizeof fusion_listing[0] == FUSION_L_GROWTH,
               "fusion's line numbers must follow its listing");

/* ---- the joint vocabulary and the stream ---- */

int fusion_vocab_check(const fusion_vocab *v)
{
    if (!v || !v->text || !v->image)
        return TUTOR_EINVAL;
    if (v->text > FUSION_MAX_VOCAB || v->image > FUSION_MAX_VOCAB ||
        v->text + v->image + 2 > FUSION_MAX_VOCAB)
        return TUTOR_ETOOBIG;
    return 0;
}

size_t fusion_vocab_size(const fusion_vocab *v)
{
    return v->text + 2 + v->image;
}

int fusion_boi(const fusion_vocab *v)
{
    return (int)v->text;
}

int fusion_eoi(const fusion_vocab *v)
{
    return (int)v->text + 1;
}

int fusion_image_token(const fusion_vocab *v, int code)
{
    return (int)v->text + 2 + code;
}

int fusion_modality_of(const fusion_vocab *v, int token)
{
    if (token < 0 || (size_t)token >= fusion_vocab_size(v))
        return -1;
    if ((size_t)token < v->text)
        return FUSION_TEXT;
    return (size_t)token < v->text + 2 ? FUSION_MARKER : FUSION_IMAGE;
}

static int text_ok(const int *t, size_t n, const fusion_vocab *v)
{
    if (n && !t)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (t[i] < 0 || (size_t)t[i] >= v->text)
            return 0;
    return 1;
}

int fusion_stream(int *tokens, int *modality, const fusion_vocab *v, const int *caption, size_t nc,
                  const int *codes, size_t ni, const int *tail, size_t nt)
{
    int rc = fusion_vocab_check(v);
    if (rc)
        return rc;
    if (nc > FUSION_MAX_STREAM || ni > FUSION_MAX_STREAM || nt > FUSION_MAX_STREAM ||
        nc + ni + nt + 2 > FUSION_MAX_STREAM)
        return TUTOR_ETOOBIG;
    if (!tokens || !text_ok(caption, nc, v) || !text_ok(tail, nt, v) || (ni && !codes))
        return TUTOR_EINVAL;
    for (size_t i = 0; i < ni; i++)
        if (codes[i] < 0 || (size_t)codes[i] >= v->image)
            return TUTOR_EINVAL;
    size_t p = 0;
    for (size_t i = 0; i < nc; i++)
        tokens[p++] = caption[i];
    tokens[p++] = fusion_boi(v);
    for (size_t i = 0; i < ni; i++)
        tokens[p++] = fusion_image_token(v, codes[i]);
    tokens[p++] = fusion_eoi(v);
    for (size_t i = 0; i < nt; i++)
        tokens[p++] = tail[i];
    return modality ? fusion_modalities(modality, tokens, p, v) : 0;
}

int fusion_modalities(int *modality, const int *tokens, size_t n, const fusion_vocab *v)
{
    int rc = fusion_vocab_check(v);
    if (rc)
        return rc;
    if (n && (!modality || !tokens))
        return TUTOR_EINVAL;
    for (size_t i = 0; i < n; i++)
        if ((modality[i] = fusion_modality_of(v, tokens[i])) < 0)
            return TUTOR_EINVAL;
    return 0;
}

/* ---- z-loss ---- */

/* logsumexp of n values (-inf allowed), from the maximum: exp(y - m) <= 1, so no overflow,
 * and the sum is at least 1, so no log of an underflowed zero. */
static double logsumexp(const double *y, size_t n)
{
    double m = -INFINITY;
    for (size_t j = 0; j < n; j++)
        m = y[j] > m ? y[j] : m;
    if (m == -INFINITY)
        return m;
    double s = 0.0;
    for (size_t j = 0; j < n; j++)
        s += exp(y[j] - m);
    return m + log(s);
}

/* Checks a logits matrix: no NaN or +inf, a finite entry in every row; coef finite >= 0. */
static int check_logits(const double *y, size_t rows, size_t cols, double coef)
{
    if (!rows || !cols || !isfinite(coef) || coef < 0)
        return TUTOR_EINVAL;
    if (rows > FUSION_MAX_LOGITS / cols)
        return TUTOR_ETOOBIG;
    if (!y)
        return TUTOR_EINVAL;
    for (size_t r = 0; r < rows; r++) {
        int finite = 0;
        for (size_t j = 0; j < cols; j++) {
            double t = y[r * cols + j];
            if (isnan(t) || t == INFINITY)
                return TUTOR_EINVAL;
            finite |= isfinite(t);
        }
        if (!finite)
            return TUTOR_EINVAL;
    }
    return 0;
}

int fusion_zloss(double *z, double *loss, const double *y, size_t rows, size_t cols, double coef)
{
    int rc = check_logits(y, rows, cols, coef);
    if (rc || !z)
        return rc ? rc : TUTOR_EINVAL;
    double sum = 0.0;
    for (size_t r = 0; r < rows; r++) {
        z[r] = logsumexp(y + r * cols, cols);
        sum += z[r] * z[r];
    }
    if (loss)
        *loss = coef * sum / (double)rows;
    return 0;
}

int fusion_zloss_slow(double *z, double *loss, const double *y, size_t rows, size_t cols,
                      double coef)
{
    int rc = check_logits(y, rows, cols, coef);
    if (rc || !z)
        return rc ? rc : TUTOR_EINVAL;
    double sum = 0.0;
    for (size_t r = 0; r < rows; r++) {
        double s = 0.0;
        for (size_t j = 0; j < cols; j++)
            s += exp(y[r * cols + j]);
        z[r] = log(s);
        sum += z[r] * z[r];
    }
    if (loss)
        *loss = coef * sum / (double)rows;
    return 0;
}

int fusion_zloss_shift(double *z, double *loss, double *prob_change, const double *y, size_t cols,
                       const double *shift, size_t ns, double coef)
{
    int rc = check_logits(y, 1, cols, coef);
    if (rc)
        return rc;
    if (!ns || !shift)
        return TUTOR_EINVAL;
    if (ns > FUSION_MAX_SHIFTS)
        return TUTOR_ETOOBIG;
    for (size_t s = 0; s < ns; s++)
        if (!isfinite(shift[s]))
            return TUTOR_EINVAL;
    double *p0 = mat_new(cols, 1), *ys = mat_new(cols, 1);
    if (!p0 || !ys) {
        mat_free(p0);
        mat_free(ys);
        return TUTOR_ENOMEM;
    }
    attn_row_softmax(p0, y, 1, cols, 0);
    for (size_t s = 0; s < ns; s++) {
        for (size_t j = 0; j < cols; j++)
            ys[j] = y[j] + shift[s];
        double zs = logsumexp(ys, cols);
        if (z)
            z[s] = zs;
        if (loss)
            loss[s] = coef * zs * zs;
        if (prob_change) {
            attn_row_softmax(ys, ys, 1, cols, 0);
            prob_change[s] = mat_max_abs_diff(ys, p0, cols);
        }
    }
    mat_free(p0);
    mat_free(ys);
    return 0;
}

/* ---- image-only generation ---- */

void fusion_mask_image(double *logits, const fusion_vocab *v, int force_eoi)
{
    size_t V = fusion_vocab_size(v), first = v->text + 2;
    if (force_eoi) {
        for (size_t j = 0; j < V; j++)
            logits[j] = -INFINITY;
        logits[fusion_eoi(v)] = 0.0;
        return;
    }
    /* Before the softmax: a -inf logit gets weight exp(-inf) = 0 exactly, and the image
     * tokens' weights renormalise among themselves. Zeroing probabilities after the
     * softmax would leave rows that no longer sum to one. */
    for (size_t j = 0; j < first; j++)
        logits[j] = -INFINITY;
}

/* Picks a token from masked logits y (V): greedy argmax (lowest index on ties) or a draw
 * from softmax(y / T) with w as scratch (V). */
static int pick(const double *y, size_t V, const fusion_gen *g, rng *r, double *w)
{
    size_t best = 0;
    for (size_t j = 1; j < V; j++)
        if (y[j] > y[best])
            best = j;
    if (g->greedy)
        return (int)best;
    double t = g->temperature > 0 ? g->temperature : 1.0, m = y[best], sum = 0.0;
    for (size_t j = 0; j < V; j++) {
        w[j] = y[j] == -INFINITY ? 0.0 : exp((y[j] - m) / t);
        sum += w[j];
    }
    /* Inverse CDF: the first token whose running sum passes u; rounding can leave u just
     * above the total, so the last token with weight is the fallback. */
    double u = rng_uniform(r) * sum, acc = 0.0;
    size_t last = best;
    for (size_t j = 0; j < V; j++) {
        if (w[j] <= 0.0)
            continue;
        last = j;
        acc += w[j];
        if (u < acc)
            return (int)j;
    }
    return (int)last;
}

/* The model's logits must have no NaN or +inf, and a finite image entry. */
static int logits_usable(const double *y, const fusion_vocab *v)
{
    size_t V = fusion_vocab_size(v);
    int finite = 0;
    for (size_t j = 0; j < V; j++) {
        if (isnan(y[j]) || y[j] == INFINITY)
            return 0;
        if (j >= v->text + 2)
            finite |= isfinite(y[j]);
    }
    return finite;
}

static void trace_gen_step(trace *tr, const double *y, size_t V, const int *stream, size_t len,
                           const int *modality, size_t t, int token, const fusion_vocab *v)
{
    trace_step(tr, FUSION_L_MASK, "image token %zu: the %zu text and marker logits set to -inf", t,
               v->text + 2);
    trace_reals(tr, "masked logits", y, V);
    trace_step(tr, FUSION_L_PICK, "image token %zu: token %d (codebook entry %d)", t, token,
               token - (int)v->text - 2);
    trace_mark(tr, "masked logits", token, -1, TRACE_CHOSEN);
    trace_ints(tr, "stream", stream, len);
    trace_ints(tr, "modality", modality, len);
    trace_quiz(tr, "Which token is drawn next (greedy: the largest unmasked logit)?", token);
}

int fusion_generate_image(int *codes, int *stream, const int *prompt, size_t np,
                          const fusion_vocab *v, fusion_logits_fn fn, void *ctx,
                          const fusion_gen *g, trace *tr)
{
    int rc = fusion_vocab_check(v);
    if (rc)
        return rc;
    if (!codes || !fn || !g || (np && !prompt) || !isfinite(g->temperature) || g->temperature < 0 ||
        !g->count)
        return TUTOR_EINVAL;
    if (np > FUSION_MAX_STREAM || g->count > FUSION_MAX_STREAM ||
        np + g->count + 2 > FUSION_MAX_STREAM)
        return TUTOR_ETOOBIG;
    for (size_t i = 0; i < np; i++)
        if (fusion_modality_of(v, prompt[i]) < 0)
            return TUTOR_EINVAL;
    size_t V = fusion_vocab_size(v), total = np + g->count + 2;
    int *s = mem_calloc(total, sizeof *s), *mod = tr ? mem_calloc(total, sizeof *mod) : NULL;
    double *y = mat_new(V, 1), *w = mat_new(V, 1);
    rc = TUTOR_ENOMEM;
    if (!s || !y || !w || (tr && !mod))
        goto out;
    rng r;
    rng_seed(&r, g->seed);
    if (np)
        memcpy(s, prompt, np * sizeof *s);
    size_t len = np;
    s[len++] = fusion_boi(v);
    if (tr) {
        fusion_modalities(mod, s, len, v);
        trace_step(tr, FUSION_L_STREAM,
                   "prompt of %zu tokens, then <boi> = %d: image tokens only now", np,
                   fusion_boi(v));
        trace_ints(tr, "stream", s, len);
        trace_ints(tr, "modality", mod, len);
    }
    for (size_t t = 0; t < g->count; t++) {
        if ((rc = fn(y, s, len, ctx)) != 0)
            goto out;
        if (!logits_usable(y, v)) {
            rc = TUTOR_EINVAL;
            goto out;
        }
        fusion_mask_image(y, v, 0);
        int token = pick(y, V, g, &r, w);
        codes[t] = token - (int)v->text - 2;
        s[len++] = token;
        if (tr && t < FUSION_TRACE_TOKENS) {
            mod[len - 1] = FUSION_IMAGE;
            trace_gen_step(tr, y, V, s, len, mod, t, token, v);
        }
    }
    /* The count is reached: the model is not asked; <eoi> is the only possible token. */
    s[len++] = fusion_eoi(v);
    if (tr) {
        fusion_modalities(mod, s, len, v);
        trace_step(tr, FUSION_L_EOI, "%zu image tokens drawn: <eoi> = %d forced", g->count,
                   fusion_eoi(v));
        trace_ints(tr, "stream", s, len);
        trace_ints(tr, "modality", mod, len);
        trace_ints(tr, "codes", codes, g->count);
    }
    if (stream)
        memcpy(stream, s, total * sizeof *s);
    rc = trace_status(tr);
out:
    mem_free(s);
    mem_free(mod);
    mat_free(y);
    mat_free(w);
    return rc;
}

typedef struct rows_ctx {
    const double *logits;
    size_t V, first; /* the stream length when the first image token is asked for */
} rows_ctx;

static int rows_model(double *logits, const int *stream, size_t len, void *vctx)
{
    (void)stream;
    const rows_ctx *c = vctx;
    memcpy(logits, c->logits + (len - c->first) * c->V, c->V * sizeof *logits);
    return 0;
}

int fusion_generate_rows(int *codes, int *stream, const double *logits, size_t rows,
                         const int *prompt, size_t np, const fusion_vocab *v, const fusion_gen *g,
                         trace *tr)
{
    int rc = fusion_vocab_check(v);
    if (rc)
        return rc;
    if (!logits || !g || rows < g->count)
        return TUTOR_EINVAL;
    size_t V = fusion_vocab_size(v);
    if (rows > FUSION_MAX_LOGITS / V)
        return TUTOR_ETOOBIG;
    rows_ctx c = {logits, V, np + 1};
    return fusion_generate_image(codes, stream, prompt, np, v, rows_model, &c, g, tr);
}

/* ---- logit growth ---- */

static double max_finite(const double *a, size_t count)
{
    double m = -INFINITY;
    for (size_t i = 0; i < count; i++)
        m = a[i] > m ? a[i] : m;
    return m;
}

int fusion_growth(double *max_logit, double *entropy, const double *x, const qknorm_proj *w,
                  const qknorm_cfg *c, const double *g, size_t ng, trace *tr)
{
    int rc = qknorm_check(c);
    if (rc)
        return rc;
    if (!max_logit || !entropy || !x || !w || !g || !ng)
        return TUTOR_EINVAL;
    if (ng > FUSION_MAX_GROWTH)
        return TUTOR_ETOOBIG;
    for (size_t i = 0; i < ng; i++)
        if (!isfinite(g[i]) || g[i] <= 0)
            return TUTOR_EINVAL;
    size_t n = c->n, d = c->d, H = c->heads;
    size_t dd = d * d;
    for (size_t i = 0; i < n * d; i++)
        if (!isfinite(x[i]))
            return TUTOR_EINVAL;
    if (!w->wq || !w->wk || !w->wv)
        return TUTOR_EINVAL;
    for (size_t i = 0; i < dd; i++)
        if (!isfinite(w->wq[i]) || !isfinite(w->wk[i]) || !isfinite(w->wv[i]))
            return TUTOR_EINVAL;
    double *q = mat_new(n, d), *k = mat_new(n, d), *v = mat_new(n, d);
    double *qg = mat_new(n, d), *kg = mat_new(n, d), *o = mat_new(n, d);
    double *lg = mat_new(H * n, n), *ent = mat_new(H, n);
    rc = TUTOR_ENOMEM;
    if (!q || !k || !v || !qg || !kg || !o || !lg || !ent)
        goto out;
    /* x (g W) = g (x W): scale the projected rows instead of the weights. */
    mat_gemm(q, x, w->wq, n, d, d, 0, 0, 1.0, 0.0);
    mat_gemm(k, x, w->wk, n, d, d, 0, 0, 1.0, 0.0);
    mat_gemm(v, x, w->wv, n, d, d, 0, 0, 1.0, 0.0);
    qknorm_cfg cc = *c;
    for (size_t i = 0; i < ng; i++) {
        for (size_t t = 0; t < n * d; t++) {
            qg[t] = g[i] * q[t];
            kg[t] = g[i] * k[t];
        }
        for (int on = 0; on < 2; on++) {
            cc.qk_norm = on;
            if ((rc = qknorm_mha(o, lg, ent, qg, kg, v, &cc, NULL)) != 0)
                goto out;
            max_logit[(size_t)on * ng + i] = max_finite(lg, H * n * n);
            for (size_t h = 0; h < H; h++) {
                double mean = 0.0;
                for (size_t r = 0; r < n; r++)
                    mean += ent[h * n + r];
                entropy[((size_t)on * ng + i) * H + h] = mean / (double)n;
            }
        }
        if (tr) {
            trace_step(tr, FUSION_L_GROWTH, "g = %g: max logit %.4g without QK-Norm, %.4g with",
                       g[i], max_logit[i], max_logit[ng + i]);
            trace_reals(tr, "g", g, i + 1);
            trace_reals(tr, "max logit, no QK-Norm", max_logit, i + 1);
            trace_reals(tr, "max logit, QK-Norm", max_logit + ng, i + 1);
            trace_matrix(tr, "entropy, no QK-Norm", entropy, i + 1, H);
            trace_matrix(tr, "entropy, QK-Norm", entropy + ng * H, i + 1, H);
        }
    }
    rc = trace_status(tr);
out:
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(qg);
    mat_free(kg);
    mat_free(o);
    mat_free(lg);
    mat_free(ent);
    return rc;
}

int fusion_growth_seeded(double *max_logit, double *entropy, const double *g, size_t ng, size_t n,
                         size_t d, size_t heads, uint64_t seed, trace *tr)
{
    qknorm_cfg c = {.n = n, .d = d, .heads = heads, .causal = 1};
    int rc = qknorm_check(&c);
    if (rc)
        return rc;
    double *x = mat_new(n, d), *w = mat_new(3 * d, d);
    if (!x || !w) {
        mat_free(x);
        mat_free(w);
        return TUTOR_ENOMEM;
    }
    rng r;
    rng_seed(&r, seed);
    mat_gauss(x, n * d, &r, 1.0);
    mat_gauss(w, 3 * d * d, &r, 1.0 / sqrt((double)d));
    qknorm_proj p = {w, w + d * d, w + 2 * d * d, NULL};
    rc = fusion_growth(max_logit, entropy, x, &p, &c, g, ng, tr);
    mat_free(x);
    mat_free(w);
    return rc;
}

/* ---- the whole-stream demo ---- */

void fusion_demo_defaults(fusion_demo_cfg *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->text = 24;
    cfg->image = 16;
    cfg->caption = 5;
    cfg->image_len = 16;
    cfg->tail = 3;
    cfg->d = 16;
    cfg->heads = 4;
    cfg->f = 32;
    cfg->qk_norm = 1;
    cfg->place = QKNORM_CHAMELEON;
    cfg->coef = FUSION_ZLOSS_COEF;
    cfg->greedy = 0;
    cfg->temperature = 1.0;
    cfg->seed = 1;
}

void fusion_demo_free(fusion_demo *demo)
{
    if (!demo)
        return;
    mem_free(demo->tokens);
    mem_free(demo->modality);
    mat_free(demo->x);
    mat_free(demo->out);
    mat_free(demo->logits);
    mat_free(demo->entropy);
    mat_free(demo->probs);
    mat_free(demo->vocab_logits);
    mat_free(demo->z);
    mem_free(demo->codes);
    mem_free(demo->gen_stream);
    memset(demo, 0, sizeof *demo);
}

/* The demo's model: embeddings, block weights, and what one forward pass needs. */
typedef struct demo_model {
    size_t d, V;
    double *emb;     /* (V, d) */
    double *weights; /* one block: wq, wk, wv, wo (d, d), w_gate, w_up (d, f), w_down (f, d) */
    qknorm_block_w bw;
    qknorm_cfg cfg;
} demo_model;

/* x (n, d) = E[token_i] + pos(i), pos the sinusoids of Vaswani et al. (2017): without them
 * causal attention would still see order only through the mask. */
static void embed(double *x, const int *tokens, size_t n, const demo_model *m)
{
    size_t d = m->d;
    for (size_t i = 0; i < n; i++)
        for (size_t t = 0; t < d; t++) {
            double freq = pow(10000.0, -(double)(t / 2 * 2) / (double)d);
            double pos = t % 2 ? cos((double)i * freq) : sin((double)i * freq);
            x[i * d + t] = m->emb[(size_t)tokens[i] * d + t] + pos;
        }
}

/* One forward pass over tokens (n): out (n, d), and the next-token logits y (n, V) = out E^T.
 * logits and entropy as qknorm_block (may be NULL). */
static int forward(double *x, double *out, double *y, double *logits, double *entropy,
                   const int *tokens, size_t n, demo_model *m, trace *tr)
{
    embed(x, tokens, n, m);
    m->cfg.n = n;
    int rc = qknorm_block(out, logits, entropy, x, &m->bw, &m->cfg, tr);
    if (rc && rc != trace_status(tr))
        return rc;
    /* Tied unembedding, scaled by 1/sqrt(d) so that the logits stay O(1). */
    mat_gemm(y, out, m->emb, n, m->V, m->d, 0, 1, 1.0 / sqrt((double)m->d), 0.0);
    return rc;
}

typedef struct demo_gen_ctx {
    demo_model *m;
    double *x, *out, *y; /* scratch for the longest prefix */
} demo_gen_ctx;

static int demo_next(double *logits, const int *stream, size_t len, void *vctx)
{
    demo_gen_ctx *c = vctx;
    int rc = forward(c->x, c->out, c->y, NULL, NULL, stream, len, c->m, NULL);
    if (!rc)
        memcpy(logits, c->y + (len - 1) * c->m->V, c->m->V * sizeof *logits);
    return rc;
}

static int demo_check(const fusion_demo_cfg *cfg)
{
    fusion_vocab v = {cfg->text, cfg->image};
    int rc = fusion_vocab_check(&v);
    if (rc)
        return rc;
    if (!cfg->image_len || !cfg->d || !cfg->heads || !cfg->f || !isfinite(cfg->coef) ||
        cfg->coef < 0 || !isfinite(cfg->temperature) || cfg->temperature < 0)
        return TUTOR_EINVAL;
    if (cfg->caption > FUSION_DEMO_MAX_N || cfg->image_len > FUSION_DEMO_MAX_N ||
        cfg->tail > FUSION_DEMO_MAX_N ||
        cfg->caption + cfg->image_len + cfg->tail + 2 > FUSION_DEMO_MAX_N ||
        cfg->d > FUSION_DEMO_MAX_D || cfg->f > FUSION_DEMO_MAX_FFN ||
        fusion_vocab_size(&v) > FUSION_DEMO_MAX_VOCAB)
        return TUTOR_ETOOBIG;
    qknorm_cfg qc = {
        .n = cfg->caption + cfg->image_len + cfg->tail + 2, .d = cfg->d, .heads = cfg->heads};
    if ((rc = qknorm_check(&qc)) != 0)
        return rc;
    if (cfg->codes)
        for (size_t i = 0; i < cfg->image_len; i++)
            if (cfg->codes[i] < 0 || (size_t)cfg->codes[i] >= cfg->image)
                return TUTOR_EINVAL;
    return 0;
}

/* Seeds the model: E ~ N(0, 1); attention weights and W_gate, W_up ~ N(0, 1/d); W_down ~
 * N(0, 1/f), so each product keeps its inputs' scale. */
static int demo_model_new(demo_model *m, const fusion_demo_cfg *cfg, size_t V, rng *r)
{
    size_t d = cfg->d, f = cfg->f;
    memset(m, 0, sizeof *m);
    m->d = d;
    m->V = V;
    m->emb = mat_new(V, d);
    m->weights = mat_new(4 * d * d + 3 * d * f, 1);
    if (!m->emb || !m->weights)
        return TUTOR_ENOMEM;
    mat_gauss(m->emb, V * d, r, 1.0);
    double *p = m->weights;
    mat_gauss(p, 4 * d * d + 2 * d * f, r, 1.0 / sqrt((double)d));
    mat_gauss(p + 4 * d * d + 2 * d * f, d * f, r, 1.0 / sqrt((double)f));
    m->bw.attn.wq = p;
    m->bw.attn.wk = p + d * d;
    m->bw.attn.wv = p + 2 * d * d;
    m->bw.attn.wo = p + 3 * d * d;
    m->bw.w_gate = p + 4 * d * d;
    m->bw.w_up = p + 4 * d * d + d * f;
    m->bw.w_down = p + 4 * d * d + 2 * d * f;
    m->bw.f = f;
    m->bw.place = cfg->place;
    m->cfg.d = d;
    m->cfg.heads = cfg->heads;
    m->cfg.causal = 1;
    m->cfg.qk_norm = cfg->qk_norm;
    return 0;
}

static void random_tokens(int *t, size_t n, size_t below, rng *r)
{
    for (size_t i = 0; i < n; i++)
        t[i] = (int)rng_range(r, 0, (int64_t)below - 1);
}

int fusion_demo_run(fusion_demo *demo, const fusion_demo_cfg *cfg, trace *tr)
{
    if (!demo || !cfg)
        return TUTOR_EINVAL;
    memset(demo, 0, sizeof *demo);
    int rc = demo_check(cfg);
    if (rc)
        return rc;
    fusion_vocab v = {cfg->text, cfg->image};
    size_t V = fusion_vocab_size(&v), n = cfg->caption + cfg->image_len + cfg->tail + 2;
    size_t d = cfg->d, H = cfg->heads, ng = cfg->caption + cfg->image_len + 2;
    rng r;
    rng_seed(&r, cfg->seed);
    demo_model m;
    demo_gen_ctx gc = {&m, NULL, NULL, NULL};
    int *parts = mem_calloc(n, sizeof *parts); /* caption, codes, tail, one after another */
    demo->tokens = mem_calloc(n, sizeof *demo->tokens);
    demo->modality = mem_calloc(n, sizeof *demo->modality);
    demo->x = mat_new(n, d);
    demo->out = mat_new(n, d);
    demo->logits = mat_new(H * n, n);
    demo->entropy = mat_new(H, n);
    demo->probs = mat_new(H * n, n);
    demo->vocab_logits = mat_new(n, V);
    demo->z = mat_new(n, 1);
    demo->codes = mem_calloc(cfg->image_len, sizeof *demo->codes);
    demo->gen_stream = mem_calloc(ng, sizeof *demo->gen_stream);
    gc.x = mat_new(n, d);
    gc.out = mat_new(n, d);
    gc.y = mat_new(n, V);
    rc = demo_model_new(&m, cfg, V, &r);
    if (rc || !parts || !demo->tokens || !demo->modality || !demo->x || !demo->out ||
        !demo->logits || !demo->entropy || !demo->probs || !demo->vocab_logits || !demo->z ||
        !demo->codes || !demo->gen_stream || !gc.x || !gc.out || !gc.y) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    demo->vocab = v;
    demo->n = n;
    demo->d = d;
    demo->heads = H;
    demo->V = V;
    /* Pass 1: the stream. */
    random_tokens(parts, cfg->caption, v.text, &r);
    if (cfg->codes)
        memcpy(parts + cfg->caption, cfg->codes, cfg->image_len * sizeof *parts);
    else
        random_tokens(parts + cfg->caption, cfg->image_len, v.image, &r);
    random_tokens(parts + cfg->caption + cfg->image_len, cfg->tail, v.text, &r);
    fusion_stream(demo->tokens, demo->modality, &v, parts, cfg->caption, parts + cfg->caption,
                  cfg->image_len, parts + cfg->caption + cfg->image_len, cfg->tail);
    if (tr) {
        trace_step(tr, FUSION_L_STREAM,
                   "%zu tokens: %zu of caption, <boi>, %zu image, <eoi>, %zu of text", n,
                   cfg->caption, cfg->image_len, cfg->tail);
        trace_ints(tr, "stream", demo->tokens, n);
        trace_ints(tr, "modality", demo->modality, n);
    }
    /* Pass 2: embeddings, the block, the next-token logits. */
    embed(demo->x, demo->tokens, n, &m);
    if (tr) {
        trace_step(tr, FUSION_L_EMBED,
                   "x: one row of E per token, text and image alike, plus position");
        attn_snap(tr, "x", demo->x, n, d);
    }
    rc = forward(demo->x, demo->out, demo->vocab_logits, demo->logits, demo->entropy, demo->tokens,
                 n, &m, tr);
    if (rc && rc != trace_status(tr))
        goto out;
    for (size_t h = 0; h < H; h++)
        attn_row_softmax(demo->probs + h * n * n, demo->logits + h * n * n, n, n, 1);
    if (tr) {
        trace_step(tr, FUSION_L_LOGITS, "y = out E^T: %zu x %zu logits over the joint vocabulary",
                   n, V);
        attn_snap(tr, "y", demo->vocab_logits, n, V);
    }
    /* Pass 3: z-loss. */
    if ((rc = fusion_zloss(demo->z, &demo->zloss, demo->vocab_logits, n, V, cfg->coef)) != 0)
        goto out;
    if (tr) {
        trace_step(tr, FUSION_L_ZLOSS, "z-loss = %g x mean z^2 = %.4g", cfg->coef, demo->zloss);
        trace_reals(tr, "z", demo->z, n);
    }
    /* Pass 4: an image generated after the caption by the same block. */
    fusion_gen g = {cfg->image_len, cfg->greedy, cfg->temperature, cfg->seed};
    rc = fusion_generate_image(demo->codes, demo->gen_stream, demo->tokens, cfg->caption, &v,
                               demo_next, &gc, &g, tr);
    if (rc && rc != trace_status(tr))
        goto out;
    rc = trace_status(tr);
out:
    mem_free(parts);
    mat_free(gc.x);
    mat_free(gc.out);
    mat_free(gc.y);
    mat_free(m.emb);
    mat_free(m.weights);
    if (rc)
        fusion_demo_free(demo);
    return rc;
}
