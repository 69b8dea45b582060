/* mot.c: BAGEL's mixture of transformer experts, one layer (see mot.h). */
#include "mot.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "attention.h"
#include "mat.h"

static const char *const modality_name[MOT_MODALITIES] = {"text", "image"};

/* ---- the sequence ---- */

int mot_seq_check(const mot_seq *seq)
{
    if (!seq || !seq->n || !seq->modality || !seq->segment)
        return TUTOR_EINVAL;
    if (seq->n > MOT_MAX_N)
        return TUTOR_ETOOBIG;
    if (seq->segment[0] != 0)
        return TUTOR_EINVAL;
    for (size_t i = 0; i < seq->n; i++) {
        int m = seq->modality[i];
        if (m != MOT_TEXT && m != MOT_IMAGE)
            return TUTOR_EINVAL;
        if (i == 0)
            continue;
        int step = seq->segment[i] - seq->segment[i - 1];
        if (step != 0 && step != 1)
            return TUTOR_EINVAL;
        if (step == 0 && m != seq->modality[i - 1])
            return TUTOR_EINVAL;
    }
    if ((size_t)seq->segment[seq->n - 1] + 1 != seq->nsegments)
        return TUTOR_EINVAL;
    return 0;
}

/* Writes one line into err (errlen bytes) when the caller asked for it. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Allocates the two arrays of seq for n tokens. */
static int seq_alloc(mot_seq *seq, size_t n)
{
    seq->modality = mem_alloc(mem_mul(n, sizeof *seq->modality));
    seq->segment = mem_alloc(mem_mul(n, sizeof *seq->segment));
    if (!seq->modality || !seq->segment) {
        mot_seq_free(seq);
        return TUTOR_ENOMEM;
    }
    seq->n = n;
    return 0;
}

/* One segment read from spec: its modality and length. */
typedef struct seg_item {
    int modality;
    size_t len;
} seg_item;

/* Segments are separated by blanks or line breaks (a list read from a file has them). */
static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Reads the segment starting at *p (after spaces) into it. Returns 0, 1 at the end of the
 * string, or TUTOR_EFORMAT with err set. index is 1-based, for the message. */
static int next_segment(const char **p, seg_item *it, size_t index, char *err, size_t errlen)
{
    const char *s = *p;
    while (is_space(*s))
        s++;
    if (!*s)
        return 1;
    const char *end = s;
    while (*end && !is_space(*end))
        end++;
    char word[64];
    size_t wl = (size_t)(end - s);
    /* Long words are cut for the message; they cannot be valid anyway. */
    snprintf(word, sizeof word, "%.*s", (int)(wl < 60 ? wl : 60), s);
    *p = end;
    const char *colon = memchr(s, ':', wl);
    if (!colon) {
        set_err(err, errlen, "segment %zu '%s': expected MODALITY:LENGTH, e.g. image:4", index,
                word);
        return TUTOR_EFORMAT;
    }
    size_t nl = (size_t)(colon - s);
    if (nl == 4 && !strncmp(s, "text", 4))
        it->modality = MOT_TEXT;
    else if (nl == 5 && !strncmp(s, "image", 5))
        it->modality = MOT_IMAGE;
    else {
        set_err(err, errlen, "segment %zu '%s': the modality must be text or image", index, word);
        return TUTOR_EFORMAT;
    }
    const char *d = colon + 1;
    size_t len = 0;
    int digits = 0;
    for (; d < end && *d >= '0' && *d <= '9'; d++, digits++)
        if (len <= MOT_MAX_N) /* anything past the cap is refused later; no overflow */
            len = len * 10 + (size_t)(*d - '0');
    if (!digits || d != end || len == 0) {
        set_err(err, errlen, "segment %zu '%s': the length must be a whole number >= 1", index,
                word);
        return TUTOR_EFORMAT;
    }
    it->len = len;
    return 0;
}

int mot_seq_parse(mot_seq *seq, const char *spec, char *err, size_t errlen)
{
    memset(seq, 0, sizeof *seq);
    if (err && errlen)
        err[0] = '\0';
    if (!spec) {
        set_err(err, errlen, "segments: none given; expected e.g. \"text:5 image:4 text:3\"");
        return TUTOR_EEMPTY;
    }
    if (strlen(spec) > MOT_MAX_SPEC) {
        set_err(err, errlen, "segments: longer than %d characters", MOT_MAX_SPEC);
        return TUTOR_ETOOBIG;
    }
    /* Pass 1: validate and count; pass 2: fill. Reading twice keeps one allocation. */
    const char *p = spec;
    seg_item it;
    size_t n = 0, count = 0;
    int rc;
    while ((rc = next_segment(&p, &it, count + 1, err, errlen)) == 0) {
        count++;
        n += it.len;
        if (n > MOT_MAX_N) {
            set_err(err, errlen, "segments: more than %d tokens in all", MOT_MAX_N);
            return TUTOR_ETOOBIG;
        }
    }
    if (rc != 1)
        return rc;
    if (!count) {
        set_err(err, errlen, "segments: none given; expected e.g. \"text:5 image:4 text:3\"");
        return TUTOR_EEMPTY;
    }
    if (seq_alloc(seq, n)) {
        set_err(err, errlen, "segments: out of memory for %zu tokens", n);
        return TUTOR_ENOMEM;
    }
    p = spec;
    size_t i = 0;
    for (size_t s = 0; s < count; s++) {
        next_segment(&p, &it, s + 1, NULL, 0);
        for (size_t t = 0; t < it.len; t++, i++) {
            seq->modality[i] = it.modality;
            seq->segment[i] = (int)s;
        }
    }
    seq->nsegments = count;
    return 0;
}

int mot_seq_default(mot_seq *seq, size_t n)
{
    memset(seq, 0, sizeof *seq);
    if (!n)
        return TUTOR_EINVAL;
    if (n > MOT_MAX_N)
        return TUTOR_ETOOBIG;
    if (seq_alloc(seq, n))
        return TUTOR_ENOMEM;
    /* text (the prompt), one image, text (what follows it); short sequences drop parts. */
    size_t image = n >= 2 ? (n / 3 ? n / 3 : 1) : 0;
    size_t before = n - image - (n - image) / 2;
    int s = 0;
    for (size_t i = 0; i < n; i++) {
        int m = i >= before && i < before + image ? MOT_IMAGE : MOT_TEXT;
        if (i && m != seq->modality[i - 1])
            s++;
        seq->modality[i] = m;
        seq->segment[i] = s;
    }
    seq->nsegments = (size_t)s + 1;
    return 0;
}

void mot_seq_free(mot_seq *seq)
{
    if (!seq)
        return;
    mem_free(seq->modality);
    mem_free(seq->segment);
    memset(seq, 0, sizeof *seq);
}

int mot_seq_format(char *out, size_t cap, const mot_seq *seq)
{
    if (!out || !cap || mot_seq_check(seq))
        return TUTOR_EINVAL;
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < seq->n;) {
        size_t j = i;
        while (j < seq->n && seq->segment[j] == seq->segment[i])
            j++;
        int w = snprintf(out + used, cap - used, "%s%s:%zu", i ? " " : "",
                         modality_name[seq->modality[i]], j - i);
        if (w < 0 || (size_t)w >= cap - used)
            return TUTOR_ERANGE;
        used += (size_t)w;
        i = j;
    }
    return 0;
}

/* ---- the mask ---- */

/* The rule itself: causal everywhere, plus every pair inside one image segment. */
static int allowed(const mot_seq *seq, size_t i, size_t j)
{
    return j <= i || (seq->segment[i] == seq->segment[j] && seq->modality[i] == MOT_IMAGE);
}

int mot_mask(int *mask, const mot_seq *seq)
{
    int rc = mot_seq_check(seq);
    if (rc)
        return rc;
    size_t n = seq->n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            mask[i * n + j] = allowed(seq, i, j);
    return 0;
}

/* ---- the layer ---- */

static size_t sat_mul(size_t a, size_t b)
{
    return mem_mul(a, b);
}

size_t mot_params_expert(size_t d, size_t ffn)
{
    return mem_add(mem_add(sat_mul(2, d), sat_mul(4, sat_mul(d, d))), sat_mul(3, sat_mul(d, ffn)));
}

size_t mot_params_total(size_t d, size_t ffn)
{
    return sat_mul(MOT_MODALITIES, mot_params_expert(d, ffn));
}

size_t mot_params_active(size_t d, size_t ffn)
{
    return mot_params_expert(d, ffn);
}

static int dims_check(size_t d, size_t heads, size_t ffn)
{
    if (!d || !heads || !ffn || d % heads)
        return TUTOR_EINVAL;
    if (d > MOT_MAX_D || ffn > MOT_MAX_FFN || heads > MOT_MAX_HEADS)
        return TUTOR_ETOOBIG;
    return 0;
}

/* Points ex's fields into p, in the order mot_layer_init draws them. */
static double *expert_bind(mot_expert *ex, double *p, size_t d, size_t f)
{
    ex->g_attn = p, p += d;
    ex->wq = p, p += d * d;
    ex->wk = p, p += d * d;
    ex->wv = p, p += d * d;
    ex->wo = p, p += d * d;
    ex->g_ffn = p, p += d;
    ex->w_gate = p, p += d * f;
    ex->w_up = p, p += d * f;
    ex->w_down = p, p += f * d;
    return p;
}

static void expert_draw(mot_expert *ex, rng *r, size_t d, size_t f)
{
    /* Var 1/d_in keeps each projection's output at the input's scale. The gains are not
     * all 1 (as they are at a real initialisation) so that a wrong gain shows in a test. */
    double sd = 1.0 / sqrt((double)d), sf = 1.0 / sqrt((double)f);
    for (size_t i = 0; i < d; i++)
        ex->g_attn[i] = 1.0 + 0.1 * rng_gauss(r);
    mat_gauss(ex->wq, d * d, r, sd);
    mat_gauss(ex->wk, d * d, r, sd);
    mat_gauss(ex->wv, d * d, r, sd);
    mat_gauss(ex->wo, d * d, r, sd);
    for (size_t i = 0; i < d; i++)
        ex->g_ffn[i] = 1.0 + 0.1 * rng_gauss(r);
    mat_gauss(ex->w_gate, d * f, r, sd);
    mat_gauss(ex->w_up, d * f, r, sd);
    mat_gauss(ex->w_down, f * d, r, sf);
}

int mot_layer_init(mot_layer *L, size_t d, size_t heads, size_t ffn, uint64_t seed, int tie)
{
    memset(L, 0, sizeof *L);
    int rc = dims_check(d, heads, ffn);
    if (rc)
        return rc;
    size_t per = mot_params_expert(d, ffn);
    L->block = mem_alloc(mem_mul(mem_mul(MOT_MODALITIES, per), sizeof(double)));
    if (!L->block)
        return TUTOR_ENOMEM;
    L->d = d;
    L->heads = heads;
    L->ffn = ffn;
    double *p = L->block;
    for (int m = 0; m < MOT_MODALITIES; m++)
        p = expert_bind(&L->ex[m], p, d, ffn);
    rng r;
    rng_seed(&r, seed);
    for (int m = 0; m < MOT_MODALITIES; m++)
        expert_draw(&L->ex[m], &r, d, ffn);
    if (tie)
        mot_layer_copy_expert(L, MOT_IMAGE, MOT_TEXT);
    return 0;
}

void mot_layer_free(mot_layer *L)
{
    if (!L)
        return;
    mem_free(L->block);
    memset(L, 0, sizeof *L);
}

void mot_layer_copy_expert(mot_layer *L, int to, int from)
{
    assert(to >= 0 && to < MOT_MODALITIES && from >= 0 && from < MOT_MODALITIES);
    size_t per = mot_params_expert(L->d, L->ffn);
    if (to != from)
        memcpy(L->ex[to].g_attn, L->ex[from].g_attn, per * sizeof(double));
}

void mot_input(double *x, size_t n, size_t d, uint64_t seed)
{
    rng r;
    /* A fixed odd constant moves the inputs' stream away from the weights' for the same
     * seed; splitmix64 inside rng_seed mixes it thoroughly. */
    rng_seed(&r, seed ^ UINT64_C(0x9e3779b97f4a7c15));
    mat_gauss(x, n * d, &r, 1.0);
}

void mot_rmsnorm(double *out, const double *x, const double *gain, size_t d)
{
    double ss = 0.0;
    for (size_t i = 0; i < d; i++)
        ss += x[i] * x[i];
    double inv = 1.0 / sqrt(ss / (double)d + MOT_EPS);
    for (size_t i = 0; i < d; i++)
        out[i] = x[i] * inv * gain[i];
}

double mot_silu(double u)
{
    /* u / (1 + exp(-u)) overflows exp for u < -709 but then gives u / inf = -0, the right
     * limit; for u > 0 exp(-u) <= 1, so nothing overflows either way. */
    return u / (1.0 + exp(-u));
}

/* At most 33 characters a line, so the UI's listing pane (half of 80 columns) shows each
 * whole; docs/mot.md writes the same layer out in full. */
const char *const mot_listing[] = {
    "M[i][j] = j <= i or same image",   "for each token i: m = tag[i]",
    "A_i = rmsnorm(X_i) * g_attn[m]",   "Q_i, K_i, V_i = A_i Wq/Wk/Wv[m]",
    "for each head h (shared by all):", "  P = softmax(QK^T/sqrt(dh) | M)",
    "  Z[:, head h] = P V_h",           "H_i = X_i + Z_i Wo[m]",
    "B_i = rmsnorm(H_i) * g_ffn[m]",    "Y_i = H_i + SwiGLU[m](B_i)",
};
const size_t mot_listing_len = sizeof mot_listing / sizeof mot_listing[0];

/* The work buffers of mot_forward, carved from one block. */
typedef struct work {
    double *a, *q, *k, *v, *z, *h, *b, *ffn; /* (n, d) */
    double *g, *u;                           /* (n, f) */
    double *s;                               /* (n, n) scores, then P */
    double *qh, *kh, *vh, *zh;               /* (n, d_h) one head */
    int *mask;                               /* (n, n) */
    int64_t *table;                          /* (n, n) the mask for the trace, or NULL */
    double *block;
} work;

/* traced: also the mask's int64 copy for the trace, when it is small enough to record. */
static int work_new(work *w, size_t n, size_t d, size_t f, size_t dh, int traced)
{
    size_t nd = n * d, nf = n * f, nn = n * n, nh = n * dh;
    /* The caps keep every product far below SIZE_MAX (n <= 1024, d <= 512, f <= 2048). */
    w->block = mem_alloc((8 * nd + 2 * nf + nn + 4 * nh) * sizeof(double));
    w->mask = mem_alloc(nn * sizeof(int));
    int table = traced && attn_small(n, n);
    w->table = table ? mem_alloc(nn * sizeof(int64_t)) : NULL;
    if (!w->block || !w->mask || (table && !w->table)) {
        mem_free(w->block);
        mem_free(w->mask);
        mem_free(w->table);
        return TUTOR_ENOMEM;
    }
    double *p = w->block;
    double **nds[] = {&w->a, &w->q, &w->k, &w->v, &w->z, &w->h, &w->b, &w->ffn};
    for (size_t i = 0; i < 8; i++)
        *nds[i] = p, p += nd;
    w->g = p, p += nf;
    w->u = p, p += nf;
    w->s = p, p += nn;
    w->qh = p, p += nh;
    w->kh = p, p += nh;
    w->vh = p, p += nh;
    w->zh = p;
    return 0;
}

static void work_free(work *w)
{
    mem_free(w->block);
    mem_free(w->mask);
    mem_free(w->table);
}

/* Returns the end of the run of tokens with modality[i]'s tag starting at i. */
static size_t run_end(const mot_seq *seq, size_t i)
{
    size_t j = i + 1;
    while (j < seq->n && seq->modality[j] == seq->modality[i])
        j++;
    return j;
}

/* Rows of x with their modality's gain: out[i] = rmsnorm(x[i]) * gain[modality[i]], the
 * gain being g_ffn when ffn_gain, else g_attn. */
static void norm_rows(double *out, const double *x, const mot_layer *L, const mot_seq *seq,
                      int ffn_gain)
{
    size_t d = L->d;
    for (size_t i = 0; i < seq->n; i++) {
        const mot_expert *ex = &L->ex[seq->modality[i]];
        mot_rmsnorm(out + i * d, x + i * d, ffn_gain ? ex->g_ffn : ex->g_attn, d);
    }
}

/* ---- tracing helpers (called only when tr != NULL) ---- */

/* Records the mask as the 0/1 table M; t has room for n * n values. */
static void snap_mask(trace *tr, int64_t *t, const int *mask, size_t n)
{
    if (!t)
        return;
    for (size_t i = 0; i < n * n; i++)
        t[i] = mask[i];
    trace_table(tr, "M", t, n, n);
}

/* Records the rows of y of each modality as Y_text and Y_image (copied into scratch, which
 * holds n * d values). */
static void snap_by_modality(trace *tr, const double *y, double *scratch, const mot_seq *seq,
                             size_t d)
{
    static const char *const names[MOT_MODALITIES] = {"Y_text", "Y_image"};
    for (int m = 0; m < MOT_MODALITIES; m++) {
        size_t rows = 0;
        for (size_t i = 0; i < seq->n; i++)
            if (seq->modality[i] == m)
                memcpy(scratch + rows++ * d, y + i * d, d * sizeof *y);
        if (rows)
            attn_snap(tr, names[m], scratch, rows, d);
    }
}

static void trace_routing(trace *tr, const mot_seq *seq, const int *mask)
{
    size_t n = seq->n, shown = n < MOT_TRACE_TOKENS ? n : MOT_TRACE_TOKENS;
    for (size_t i = 0; i < shown; i++) {
        int m = seq->modality[i];
        size_t keys = 0, later = 0;
        for (size_t j = 0; j < n; j++) {
            keys += (size_t)mask[i * n + j];
            later += (size_t)(j > i && mask[i * n + j]);
        }
        trace_step(tr, 2, "token %zu: %s (segment %d) -> %s weights; sees %zu key%s, %zu later", i,
                   modality_name[m], seq->segment[i], modality_name[m], keys, keys == 1 ? "" : "s",
                   later);
        trace_mark(tr, "modality", (long)i, -1, TRACE_CURRENT);
        if (attn_small(n, n)) {
            /* The token's own cell, then the later keys it sees (its image's): the UI's
             * window on M follows the first mark. */
            trace_mark(tr, "M", (long)i, (long)i, TRACE_CURRENT);
            for (size_t j = i + 1; j < n; j++)
                if (mask[i * n + j])
                    trace_mark(tr, "M", (long)i, (long)j, TRACE_SOURCE);
        }
        if (i == 0 || seq->segment[i] != seq->segment[i - 1])
            trace_quiz(tr, "How many tokens (itself included) can this token attend to?",
                       (int64_t)keys);
    }
    if (shown < n)
        trace_step(tr, 2, "tokens %zu..%zu routed the same way (not recorded one by one)", shown,
                   n - 1);
}

/* ---- the fast form ---- */

/* y_run = in_run W[m] (+ beta y_run) for every run: one dgemm per run of one modality.
 * which selects the weight by its offset: the same field of each expert. */
typedef enum wsel { W_Q, W_K, W_V, W_O, W_GATE, W_UP, W_DOWN } wsel;

static const double *weight(const mot_expert *ex, wsel w)
{
    switch (w) {
    case W_Q: return ex->wq;
    case W_K: return ex->wk;
    case W_V: return ex->wv;
    case W_O: return ex->wo;
    case W_GATE: return ex->w_gate;
    case W_UP: return ex->w_up;
    default: return ex->w_down;
    }
}

static void routed_gemm(double *out, const double *in, const mot_layer *L, const mot_seq *seq,
                        wsel w, size_t din, size_t dout, double beta)
{
    for (size_t i = 0; i < seq->n;) {
        size_t end = run_end(seq, i);
        const double *W = weight(&L->ex[seq->modality[i]], w);
        mat_gemm(out + i * dout, in + i * din, W, end - i, dout, din, 0, 0, 1.0, beta);
        i = end;
    }
}

/* Pass 4: shared attention, head by head. Head h reads columns h dh .. (h + 1) dh - 1 of
 * Q, K, V and writes those columns of Z. */
static void attention_heads(work *w, const mot_layer *L, size_t n, double *probs, trace *tr)
{
    size_t d = L->d, H = L->heads, dh = d / H;
    double scale = 1.0 / sqrt((double)dh);
    /* The per-head steps show Z filling up column block by column block: the blocks not
     * computed yet must read as 0, not as whatever the buffer held. */
    memset(w->z, 0, n * d * sizeof *w->z);
    for (size_t hd = 0; hd < H; hd++) {
        for (size_t i = 0; i < n; i++) {
            memcpy(w->qh + i * dh, w->q + i * d + hd * dh, dh * sizeof(double));
            memcpy(w->kh + i * dh, w->k + i * d + hd * dh, dh * sizeof(double));
            memcpy(w->vh + i * dh, w->v + i * d + hd * dh, dh * sizeof(double));
        }
        mat_gemm(w->s, w->qh, w->kh, n, n, dh, 0, 1, scale, 0.0);
        /* The mask goes in before the softmax as -inf (weight exp(-inf) = 0); every row
         * keeps its own key, so no row is all -inf. */
        for (size_t i = 0; i < n * n; i++)
            if (!w->mask[i])
                w->s[i] = -INFINITY;
        attn_row_softmax(w->s, w->s, n, n, 0);
        mat_gemm(w->zh, w->s, w->vh, n, dh, n, 0, 0, 1.0, 0.0);
        for (size_t i = 0; i < n; i++)
            memcpy(w->z + i * d + hd * dh, w->zh + i * dh, dh * sizeof(double));
        if (probs)
            memcpy(probs + hd * n * n, w->s, n * n * sizeof(double));
        if (tr && hd < MOT_TRACE_HEADS) {
            trace_step(tr, 6, "head %zu: P = masked softmax over columns %zu..%zu of Q and K", hd,
                       hd * dh, (hd + 1) * dh - 1);
            attn_snap(tr, "P", w->s, n, n);
            trace_step(tr, 7, "head %zu: Z[:, %zu..%zu] = P V_h", hd, hd * dh, (hd + 1) * dh - 1);
            attn_snap(tr, "Z", w->z, n, d);
        }
    }
    if (tr && H > MOT_TRACE_HEADS) {
        trace_step(tr, 5, "heads %d..%zu the same way (not recorded one by one)", MOT_TRACE_HEADS,
                   H - 1);
        attn_snap(tr, "Z", w->z, n, d);
    }
}

static int forward_check(const mot_layer *L, const mot_seq *seq)
{
    if (!L || !L->block)
        return TUTOR_EINVAL;
    int rc = dims_check(L->d, L->heads, L->ffn);
    return rc ? rc : mot_seq_check(seq);
}

int mot_forward(double *y, const double *x, const mot_layer *L, const mot_seq *seq,
                mot_parts *parts, trace *tr)
{
    int rc = forward_check(L, seq);
    if (rc)
        return rc;
    size_t n = seq->n, d = L->d, f = L->ffn, nd = n * d;
    work w;
    if (work_new(&w, n, d, f, d / L->heads, tr != NULL))
        return TUTOR_ENOMEM;
    /* Pass 1: the mask. */
    mot_mask(w.mask, seq);
    if (tr) {
        trace_step(tr, 1, "generalised causal mask over %zu tokens in %zu segments", n,
                   seq->nsegments);
        trace_ints(tr, "modality", seq->modality, n);
        trace_ints(tr, "segment", seq->segment, n);
        snap_mask(tr, w.table, w.mask, n);
        attn_snap(tr, "X", x, n, d);
        trace_routing(tr, seq, w.mask);
    }
    /* Pass 2: attention norm, each row with its own modality's gain. */
    norm_rows(w.a, x, L, seq, 0);
    if (tr) {
        trace_step(tr, 3, "A = rmsnorm(X) row by row, gains by tag");
        attn_snap(tr, "A", w.a, n, d);
    }
    /* Pass 3: Q, K, V, one product per run per projection. */
    routed_gemm(w.q, w.a, L, seq, W_Q, d, d, 0.0);
    routed_gemm(w.k, w.a, L, seq, W_K, d, d, 0.0);
    routed_gemm(w.v, w.a, L, seq, W_V, d, d, 0.0);
    if (tr) {
        trace_step(tr, 4, "Q, K, V: each run of one modality times its own Wq, Wk, Wv");
        attn_snap(tr, "Q", w.q, n, d);
        attn_snap(tr, "K", w.k, n, d);
        attn_snap(tr, "V", w.v, n, d);
    }
    /* Pass 4: shared attention. */
    attention_heads(&w, L, n, parts ? parts->probs : NULL, tr);
    /* Pass 5: output projection by tag, plus the residual. */
    memcpy(w.h, x, nd * sizeof *x);
    routed_gemm(w.h, w.z, L, seq, W_O, d, d, 1.0);
    if (parts && parts->attn)
        for (size_t i = 0; i < nd; i++)
            parts->attn[i] = w.h[i] - x[i];
    if (tr) {
        trace_step(tr, 8, "H = X + Z Wo[m]: the attention sublayer, projected by tag");
        attn_snap(tr, "H", w.h, n, d);
    }
    /* Pass 6: FFN norm. */
    norm_rows(w.b, w.h, L, seq, 1);
    if (tr) {
        trace_step(tr, 9, "B = rmsnorm(H) row by row, gains by tag");
        attn_snap(tr, "B", w.b, n, d);
    }
    /* Pass 7: SwiGLU by tag, plus the residual. */
    routed_gemm(w.g, w.b, L, seq, W_GATE, d, f, 0.0);
    routed_gemm(w.u, w.b, L, seq, W_UP, d, f, 0.0);
    for (size_t i = 0; i < n * f; i++)
        w.u[i] *= mot_silu(w.g[i]);
    routed_gemm(w.ffn, w.u, L, seq, W_DOWN, f, d, 0.0);
    for (size_t i = 0; i < nd; i++)
        y[i] = w.h[i] + w.ffn[i];
    if (parts && parts->ffn)
        memcpy(parts->ffn, w.ffn, nd * sizeof *y);
    if (tr) {
        trace_step(tr, 10, "Y = H + SwiGLU(B): each token through its own modality's FFN");
        attn_snap(tr, "FFN", w.ffn, n, d);
        attn_snap(tr, "Y", y, n, d);
        snap_by_modality(tr, y, w.a, seq, d); /* A is no longer needed: scratch */
    }
    work_free(&w);
    return trace_status(tr);
}

/* ---- the dense layer ---- */

int mot_dense_forward(double *y, const double *x, const mot_layer *L, int expert,
                      const mot_seq *seq)
{
    if (expert < 0 || expert >= MOT_MODALITIES)
        return TUTOR_EINVAL;
    int rc = forward_check(L, seq);
    if (rc)
        return rc;
    size_t n = seq->n, d = L->d, f = L->ffn, nd = n * d;
    const mot_expert *e = &L->ex[expert];
    work w;
    if (work_new(&w, n, d, f, d / L->heads, 0))
        return TUTOR_ENOMEM;
    /* The passes of mot_forward with no routing: one weight set, so every projection is
     * one product over all n rows, whatever the tags (the mask still reads them). */
    mot_mask(w.mask, seq);
    for (size_t i = 0; i < n; i++)
        mot_rmsnorm(w.a + i * d, x + i * d, e->g_attn, d);
    mat_gemm(w.q, w.a, e->wq, n, d, d, 0, 0, 1.0, 0.0);
    mat_gemm(w.k, w.a, e->wk, n, d, d, 0, 0, 1.0, 0.0);
    mat_gemm(w.v, w.a, e->wv, n, d, d, 0, 0, 1.0, 0.0);
    attention_heads(&w, L, n, NULL, NULL);
    memcpy(w.h, x, nd * sizeof *x);
    mat_gemm(w.h, w.z, e->wo, n, d, d, 0, 0, 1.0, 1.0);
    for (size_t i = 0; i < n; i++)
        mot_rmsnorm(w.b + i * d, w.h + i * d, e->g_ffn, d);
    mat_gemm(w.g, w.b, e->w_gate, n, f, d, 0, 0, 1.0, 0.0);
    mat_gemm(w.u, w.b, e->w_up, n, f, d, 0, 0, 1.0, 0.0);
    for (size_t i = 0; i < n * f; i++)
        w.u[i] *= mot_silu(w.g[i]);
    mat_gemm(w.ffn, w.u, e->w_down, n, d, f, 0, 0, 1.0, 0.0);
    for (size_t i = 0; i < nd; i++)
        y[i] = w.h[i] + w.ffn[i];
    work_free(&w);
    return 0;
}

/* ---- the slow form ---- */

/* out (dout) = in (din) W, W stored (din, dout), plain loops. */
static void vec_mat(double *out, const double *in, const double *W, size_t din, size_t dout)
{
    for (size_t c = 0; c < dout; c++) {
        double acc = 0.0;
        for (size_t r = 0; r < din; r++)
            acc += in[r] * W[r * dout + c];
        out[c] = acc;
    }
}

int mot_forward_slow(double *y, const double *x, const mot_layer *L, const mot_seq *seq)
{
    int rc = forward_check(L, seq);
    if (rc)
        return rc;
    size_t n = seq->n, d = L->d, f = L->ffn, dh = d / L->heads;
    /* q, k, v, z, h for all tokens; a row of a, scores, gate and up for one at a time. */
    double *q = mat_new(n, d), *k = mat_new(n, d), *v = mat_new(n, d), *z = mat_new(n, d);
    double *row = mat_new(1, d), *sc = mat_new(1, n), *gate = mat_new(1, f);
    double *up = mat_new(1, f), *hid = mat_new(1, d);
    if (!q || !k || !v || !z || !row || !sc || !gate || !up || !hid) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const mot_expert *ex = &L->ex[seq->modality[i]];
        mot_rmsnorm(row, x + i * d, ex->g_attn, d);
        vec_mat(q + i * d, row, ex->wq, d, d);
        vec_mat(k + i * d, row, ex->wk, d, d);
        vec_mat(v + i * d, row, ex->wv, d, d);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t hd = 0; hd < L->heads; hd++) {
            size_t c0 = hd * dh;
            double m = -INFINITY, sum = 0.0;
            for (size_t j = 0; j < n; j++) {
                double dot = 0.0;
                for (size_t t = 0; t < dh; t++)
                    dot += q[i * d + c0 + t] * k[j * d + c0 + t];
                sc[j] = allowed(seq, i, j) ? dot / sqrt((double)dh) : -INFINITY;
                m = sc[j] > m ? sc[j] : m;
            }
            for (size_t j = 0; j < n; j++) {
                sc[j] = sc[j] == -INFINITY ? 0.0 : exp(sc[j] - m);
                sum += sc[j];
            }
            for (size_t t = 0; t < dh; t++) {
                double acc = 0.0;
                for (size_t j = 0; j < n; j++)
                    acc += sc[j] * v[j * d + c0 + t];
                z[i * d + c0 + t] = acc / sum;
            }
        }
    for (size_t i = 0; i < n; i++) {
        const mot_expert *ex = &L->ex[seq->modality[i]];
        vec_mat(hid, z + i * d, ex->wo, d, d);
        for (size_t c = 0; c < d; c++)
            hid[c] += x[i * d + c];
        mot_rmsnorm(row, hid, ex->g_ffn, d);
        vec_mat(gate, row, ex->w_gate, d, f);
        vec_mat(up, row, ex->w_up, d, f);
        for (size_t c = 0; c < f; c++)
            up[c] *= mot_silu(gate[c]);
        vec_mat(y + i * d, up, ex->w_down, f, d);
        for (size_t c = 0; c < d; c++)
            y[i * d + c] += hid[c];
    }
out:
    mat_free(q);
    mat_free(k);
    mat_free(v);
    mat_free(z);
    mat_free(row);
    mat_free(sc);
    mat_free(gate);
    mat_free(up);
    mat_free(hid);
    return rc;
}

/* ---- the facts ---- */

int mot_cost_of(mot_cost *c, size_t d, size_t ffn, const mot_seq *seq)
{
    if (!c || !d || !ffn || mot_seq_check(seq))
        return TUTOR_EINVAL;
    size_t n = seq->n;
    double keys = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            keys += allowed(seq, i, j);
    c->params_expert = mot_params_expert(d, ffn);
    c->params_total = mot_params_total(d, ffn);
    c->params_active = mot_params_active(d, ffn);
    c->params_dense = c->params_expert;
    c->keys_mean = keys / (double)n;
    /* Per token: 4 d x d projections and 3 d x f FFN products, 2 flops per multiply-add;
     * attention: q . k and the weighted sum of v over each visible key, 2 d flops each.
     * Routing picks which weights, not how many: the dense layer does exactly the same. */
    double dd = (double)d, ff = (double)ffn;
    c->flops_token = 2.0 * (4.0 * dd * dd + 3.0 * dd * ff) + 4.0 * dd * c->keys_mean;
    c->flops_dense = c->flops_token;
    return 0;
}
