/* Tests of the mixture of transformer experts (models/mot.c): the segment parser and its
 * errors; the generalised causal mask by hand and through the outputs (a later token of the
 * same image reaches an earlier one, a later token outside it does not); tied MoT = one
 * dense layer (an independent loop implementation below); routing (the text FFN weights do
 * not touch image tokens); fast (CBLAS, runs) against slow (loops); parameter and flop
 * counts by hand; validation; traces; allocation failures. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../models/mat.h"
#include "../models/mot.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/strbuf.h"
#include "../trace/trace.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

/* Fast and slow forms sum in different orders (BLAS blocking, runs); with O(1) values they
 * agree to ~1e-15 d; 1e-10 relative to the output's scale is far above rounding and far
 * below a real bug (a wrong gain or head changes outputs by O(0.1)). */
#define TOL 1e-10

/* max |a - b| / max(1, max |b|). */
static double rel_err(const double *a, const double *b, size_t count)
{
    double scale = 1.0;
    for (size_t i = 0; i < count; i++)
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    return mat_max_abs_diff(a, b, count) / scale;
}

static int close_enough(const double *a, const double *b, size_t count, const char *what)
{
    double e = rel_err(a, b, count);
    if (!(e <= TOL)) {
        fprintf(stderr, "\n  %s: error %.3g > %.3g\n", what, e, TOL);
        return 0;
    }
    return 1;
}

/* 1 when rows [r0, r1) of a and b (width d) are bit-identical. */
static int rows_equal(const double *a, const double *b, size_t r0, size_t r1, size_t d)
{
    return r1 <= r0 || memcmp(a + r0 * d, b + r0 * d, (r1 - r0) * d * sizeof *a) == 0;
}

static void parse_ok(mot_seq *seq, const char *spec)
{
    char err[160];
    int rc = mot_seq_parse(seq, spec, err, sizeof err);
    if (rc)
        fprintf(stderr, "\n  parse '%s': %d %s\n", spec, rc, err);
    CU_ASSERT_FATAL(rc == 0);
}

/* ---- the dense layer, written out independently of models/mot.c ---- */

/* One pre-norm layer with a single set of weights e for every token, the mask rule written
 * from its definition (j <= i, or i and j in the same image). Loops only. */
static void dense_layer(double *y, const double *x, const mot_expert *e, const mot_seq *seq,
                        size_t d, size_t H, size_t f)
{
    size_t n = seq->n, dh = d / H;
    double *q = calloc(n * d, sizeof *q), *k = calloc(n * d, sizeof *k);
    double *v = calloc(n * d, sizeof *v), *z = calloc(n * d, sizeof *z);
    double *a = calloc(d, sizeof *a), *hh = calloc(d, sizeof *hh), *w = calloc(n, sizeof *w);
    double *g = calloc(f, sizeof *g), *u = calloc(f, sizeof *u);
    CU_ASSERT_FATAL(q && k && v && z && a && hh && w && g && u);
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t c = 0; c < d; c++)
            ss += x[i * d + c] * x[i * d + c];
        for (size_t c = 0; c < d; c++)
            a[c] = x[i * d + c] / sqrt(ss / d + MOT_EPS) * e->g_attn[c];
        for (size_t c = 0; c < d; c++)
            for (size_t r = 0; r < d; r++) {
                q[i * d + c] += a[r] * e->wq[r * d + c];
                k[i * d + c] += a[r] * e->wk[r * d + c];
                v[i * d + c] += a[r] * e->wv[r * d + c];
            }
    }
    for (size_t i = 0; i < n; i++)
        for (size_t h = 0; h < H; h++) {
            double total = 0;
            for (size_t j = 0; j < n; j++) {
                int same_image = seq->segment[i] == seq->segment[j] && seq->modality[i] == 1;
                double s = 0;
                for (size_t t = h * dh; t < (h + 1) * dh; t++)
                    s += q[i * d + t] * k[j * d + t];
                w[j] = j <= i || same_image ? exp(s / sqrt((double)dh)) : 0.0;
                total += w[j];
            }
            for (size_t t = h * dh; t < (h + 1) * dh; t++)
                for (size_t j = 0; j < n; j++)
                    z[i * d + t] += w[j] / total * v[j * d + t];
        }
    for (size_t i = 0; i < n; i++) {
        double ss = 0;
        for (size_t c = 0; c < d; c++) {
            hh[c] = x[i * d + c];
            for (size_t r = 0; r < d; r++)
                hh[c] += z[i * d + r] * e->wo[r * d + c];
            ss += hh[c] * hh[c];
        }
        for (size_t c = 0; c < d; c++)
            a[c] = hh[c] / sqrt(ss / d + MOT_EPS) * e->g_ffn[c];
        for (size_t c = 0; c < f; c++) {
            g[c] = u[c] = 0;
            for (size_t r = 0; r < d; r++) {
                g[c] += a[r] * e->w_gate[r * f + c];
                u[c] += a[r] * e->w_up[r * f + c];
            }
            u[c] *= g[c] / (1 + exp(-g[c]));
        }
        for (size_t c = 0; c < d; c++) {
            y[i * d + c] = hh[c];
            for (size_t r = 0; r < f; r++)
                y[i * d + c] += u[r] * e->w_down[r * d + c];
        }
    }
    free(q), free(k), free(v), free(z), free(a), free(hh), free(w), free(g), free(u);
}

/* ---- the sequence ---- */

static void test_parse(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:5 image:4 text:3");
    int mod[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0};
    int seg[12] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
    CU_ASSERT(seq.n == 12 && seq.nsegments == 3);
    CU_ASSERT(memcmp(seq.modality, mod, sizeof mod) == 0);
    CU_ASSERT(memcmp(seq.segment, seg, sizeof seg) == 0);
    char back[64];
    CU_ASSERT(mot_seq_format(back, sizeof back, &seq) == 0);
    CU_ASSERT_STRING_EQUAL(back, "text:5 image:4 text:3");
    CU_ASSERT(mot_seq_format(back, 8, &seq) == TUTOR_ERANGE);
    mot_seq_free(&seq);
    CU_ASSERT(seq.n == 0 && seq.modality == NULL);
    /* Spaces and tabs around, two images in a row are two segments. */
    parse_ok(&seq, "\t image:2  image:1 \t");
    CU_ASSERT(seq.n == 3 && seq.nsegments == 2 && seq.segment[2] == 1 && seq.modality[2] == 1);
    mot_seq_free(&seq);
    /* Line breaks separate too (a list read from a file), CRLF included. */
    parse_ok(&seq, "text:2\nimage:3\r\ntext:1\n");
    CU_ASSERT(seq.n == 6 && seq.nsegments == 3 && seq.modality[2] == 1 && seq.segment[5] == 2);
    mot_seq_free(&seq);
    parse_ok(&seq, "text:1024");
    CU_ASSERT(seq.n == MOT_MAX_N);
    mot_seq_free(&seq);
}

static void test_parse_errors(void)
{
    static const struct {
        const char *spec;
        int rc;
        const char *needle;
    } bad[] = {
        {"", TUTOR_EEMPTY, "none given"},
        {"  \t ", TUTOR_EEMPTY, "none given"},
        {"text5", TUTOR_EFORMAT, "segment 1 'text5': expected MODALITY:LENGTH"},
        {"text:2 video:3", TUTOR_EFORMAT, "segment 2 'video:3': the modality must be"},
        {"Text:2", TUTOR_EFORMAT, "text or image"},
        {":4", TUTOR_EFORMAT, "modality"},
        {"text:0", TUTOR_EFORMAT, "whole number >= 1"},
        {"image:", TUTOR_EFORMAT, "whole number >= 1"},
        {"text:-1", TUTOR_EFORMAT, "whole number >= 1"},
        {"text:3x", TUTOR_EFORMAT, "whole number >= 1"},
        {"text:3,image:2", TUTOR_EFORMAT, "whole number >= 1"},
        {"text:1025", TUTOR_ETOOBIG, "more than 1024 tokens"},
        {"text:99999999999999999999999", TUTOR_ETOOBIG, "more than 1024"},
        {"text:1000 image:25", TUTOR_ETOOBIG, "more than 1024"},
    };
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++) {
        mot_seq seq;
        char err[160];
        int rc = mot_seq_parse(&seq, bad[t].spec, err, sizeof err);
        int ok = rc == bad[t].rc && strstr(err, bad[t].needle) && !strchr(err, '\n') &&
                 seq.n == 0 && seq.modality == NULL;
        CU_ASSERT(ok);
        if (!ok)
            fprintf(stderr, "\n  '%s': %d '%s'\n", bad[t].spec, rc, err);
    }
    /* A huge string is refused before it is read; no error buffer is fine too. */
    char *big = malloc(MOT_MAX_SPEC + 2);
    CU_ASSERT_FATAL(big != NULL);
    memset(big, ' ', MOT_MAX_SPEC + 1);
    big[MOT_MAX_SPEC + 1] = '\0';
    mot_seq seq;
    CU_ASSERT(mot_seq_parse(&seq, big, NULL, 0) == TUTOR_ETOOBIG);
    CU_ASSERT(mot_seq_parse(&seq, NULL, NULL, 0) == TUTOR_EEMPTY);
    free(big);
}

static void test_default_and_check(void)
{
    mot_seq seq;
    char s[64];
    static const struct {
        size_t n;
        const char *want;
    } cases[] = {{1, "text:1"},
                 {2, "text:1 image:1"},
                 {3, "text:1 image:1 text:1"},
                 {12, "text:4 image:4 text:4"},
                 {10, "text:4 image:3 text:3"}};
    for (size_t t = 0; t < sizeof cases / sizeof cases[0]; t++) {
        CU_ASSERT_FATAL(mot_seq_default(&seq, cases[t].n) == 0);
        CU_ASSERT(mot_seq_check(&seq) == 0);
        CU_ASSERT(mot_seq_format(s, sizeof s, &seq) == 0);
        CU_ASSERT_STRING_EQUAL(s, cases[t].want);
        mot_seq_free(&seq);
    }
    CU_ASSERT(mot_seq_default(&seq, 0) == TUTOR_EINVAL);
    CU_ASSERT(mot_seq_default(&seq, MOT_MAX_N + 1) == TUTOR_ETOOBIG);
    /* Hand-made sequences breaking each rule. */
    int mod[4] = {0, 1, 1, 0}, seg[4] = {0, 1, 1, 2};
    mot_seq ok = {4, 3, mod, seg};
    CU_ASSERT(mot_seq_check(&ok) == 0);
    int bad_tag[4] = {0, 2, 2, 0}, seg_jump[4] = {0, 2, 2, 3}, seg_mixed[4] = {0, 1, 1, 1};
    int seg_start[4] = {1, 2, 2, 3};
    mot_seq b1 = {4, 3, bad_tag, seg}, b2 = {4, 4, mod, seg_jump}, b3 = {4, 2, mod, seg_mixed};
    mot_seq b4 = {4, 4, mod, seg_start}, b5 = {4, 2, mod, seg}, b6 = {0, 0, mod, seg};
    const mot_seq *bad[] = {&b1, &b2, &b3, &b4, &b5, &b6, NULL};
    for (size_t t = 0; t < sizeof bad / sizeof bad[0]; t++)
        CU_ASSERT(mot_seq_check(bad[t]) == TUTOR_EINVAL);
}

/* ---- the mask ---- */

static void test_mask_by_hand(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:2 image:3 text:1");
    /* Text rows are causal; the image rows 2..4 see 0..4; the last text row sees all. */
    static const int want[36] = {
        1, 0, 0, 0, 0, 0, /* */
        1, 1, 0, 0, 0, 0, /* */
        1, 1, 1, 1, 1, 0, /* */
        1, 1, 1, 1, 1, 0, /* */
        1, 1, 1, 1, 1, 0, /* */
        1, 1, 1, 1, 1, 1, /* */
    };
    int got[36];
    CU_ASSERT(mot_mask(got, &seq) == 0);
    CU_ASSERT(memcmp(got, want, sizeof want) == 0);
    mot_seq_free(&seq);
    /* Two images in a row: each is full inside, the second sees the first causally, the
     * first never sees the second. */
    parse_ok(&seq, "image:2 image:2");
    static const int two[16] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
    CU_ASSERT(mot_mask(got, &seq) == 0);
    CU_ASSERT(memcmp(got, two, sizeof two) == 0);
    mot_seq_free(&seq);
    /* All text: the plain causal mask. */
    parse_ok(&seq, "text:3 text:2");
    CU_ASSERT(mot_mask(got, &seq) == 0);
    for (size_t i = 0; i < 5; i++)
        for (size_t j = 0; j < 5; j++)
            CU_ASSERT(got[i * 5 + j] == (j <= i));
    mot_seq_free(&seq);
    int mod[2] = {0, 3}, seg[2] = {0, 1};
    mot_seq bad = {2, 2, mod, seg};
    CU_ASSERT(mot_mask(got, &bad) == TUTOR_EINVAL);
}

/* The rule for every image token of a longer sequence: it sees a later token exactly when
 * that token is in its own image. */
static void test_mask_image_rule(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:3 image:4 text:2 image:3 text:1");
    size_t n = seq.n;
    int *m = malloc(n * n * sizeof *m);
    CU_ASSERT_FATAL(m != NULL);
    CU_ASSERT(mot_mask(m, &seq) == 0);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            int own_image = seq.modality[i] == MOT_IMAGE && seq.segment[i] == seq.segment[j];
            CU_ASSERT(m[i * n + j] == (j <= i || own_image));
        }
    free(m);
    mot_seq_free(&seq);
}

/* The mask through the outputs: perturbing a later token of the same image changes an
 * earlier image token's output; perturbing a later text token (or a later image) changes
 * nothing before it, bit for bit. */
static void test_mask_through_outputs(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:3 image:4 text:2 image:2");
    size_t n = seq.n, d = 8;
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, 2, 16, 7, 0) == 0);
    double *x = mat_new(n, d), *x2 = mat_new(n, d), *y = mat_new(n, d), *y2 = mat_new(n, d);
    CU_ASSERT_FATAL(x && x2 && y && y2);
    mot_input(x, n, d, 7);
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
    /* Token 6 is the image's last; token 3 its first. */
    memcpy(x2, x, n * d * sizeof *x);
    for (size_t c = 0; c < d; c++)
        x2[6 * d + c] += 1.0;
    CU_ASSERT(mot_forward(y2, x2, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(rows_equal(y, y2, 0, 3, d)); /* the text before the image cannot see it */
    for (size_t i = 3; i < 6; i++)
        CU_ASSERT(mat_max_abs_diff(y + i * d, y2 + i * d, d) > 1e-3);
    /* Token 7 is text after the image: no image token (nor anyone before it) changes. */
    memcpy(x2, x, n * d * sizeof *x);
    for (size_t c = 0; c < d; c++)
        x2[7 * d + c] += 1.0;
    CU_ASSERT(mot_forward(y2, x2, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(rows_equal(y, y2, 0, 7, d));
    CU_ASSERT(mat_max_abs_diff(y + 8 * d, y2 + 8 * d, d) > 1e-3); /* causal: token 8 sees 7 */
    /* Token 10 is the second image's last: the first image never sees it, its own image
     * does (token 9). */
    memcpy(x2, x, n * d * sizeof *x);
    for (size_t c = 0; c < d; c++)
        x2[10 * d + c] += 1.0;
    CU_ASSERT(mot_forward(y2, x2, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(rows_equal(y, y2, 0, 9, d));
    CU_ASSERT(mat_max_abs_diff(y + 9 * d, y2 + 9 * d, d) > 1e-3);
    /* The slow form shows the same (to rounding, as it sums in another order). */
    CU_ASSERT(mot_forward_slow(y, x, &L, &seq) == 0);
    CU_ASSERT(mot_forward_slow(y2, x2, &L, &seq) == 0);
    CU_ASSERT(mat_max_abs_diff(y, y2, 9 * d) < 1e-13);
    CU_ASSERT(mat_max_abs_diff(y + 9 * d, y2 + 9 * d, d) > 1e-3);
    mat_free(x), mat_free(x2), mat_free(y), mat_free(y2);
    mot_layer_free(&L);
    mot_seq_free(&seq);
}

/* ---- the layer ---- */

/* Random segmentations: between 1 and 5 segments of 1..6 tokens, modalities at random. */
static void random_seq(mot_seq *seq, rng *r)
{
    char spec[128] = "";
    int nseg = (int)rng_range(r, 1, 5);
    for (int s = 0; s < nseg; s++) {
        char part[32];
        snprintf(part, sizeof part, "%s%s:%d", s ? " " : "", rng_range(r, 0, 1) ? "image" : "text",
                 (int)rng_range(r, 1, 6));
        strcat(spec, part);
    }
    parse_ok(seq, spec);
}

static void test_tied_equals_dense(void)
{
    rng r;
    rng_seed(&r, 11);
    for (int t = 0; t < 20; t++) {
        mot_seq seq;
        random_seq(&seq, &r);
        size_t H = (size_t)rng_range(&r, 1, 4), d = H * (size_t)rng_range(&r, 1, 4);
        size_t f = (size_t)rng_range(&r, 1, 12), n = seq.n;
        mot_layer L;
        CU_ASSERT_FATAL(mot_layer_init(&L, d, H, f, (uint64_t)t, 1) == 0);
        double *x = mat_new(n, d), *y = mat_new(n, d), *ys = mat_new(n, d), *yd = mat_new(n, d);
        CU_ASSERT_FATAL(x && y && ys && yd);
        mot_input(x, n, d, (uint64_t)t);
        CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
        CU_ASSERT(mot_forward_slow(ys, x, &L, &seq) == 0);
        dense_layer(yd, x, &L.ex[MOT_TEXT], &seq, d, H, f);
        CU_ASSERT(close_enough(y, yd, n * d, "tied fast vs dense"));
        CU_ASSERT(close_enough(ys, yd, n * d, "tied slow vs dense"));
        /* The library's dense form (one product over all rows) is the same layer. */
        CU_ASSERT(mot_dense_forward(ys, x, &L, MOT_TEXT, &seq) == 0);
        CU_ASSERT(close_enough(ys, yd, n * d, "mot_dense_forward vs dense"));
        /* And untied, the two differ on image tokens (when there are any). */
        mot_layer U;
        CU_ASSERT_FATAL(mot_layer_init(&U, d, H, f, (uint64_t)t, 0) == 0);
        CU_ASSERT(mot_forward(y, x, &U, &seq, NULL, NULL) == 0);
        for (size_t i = 0; i < n; i++)
            if (seq.modality[i] == MOT_IMAGE)
                CU_ASSERT(mat_max_abs_diff(y + i * d, yd + i * d, d) > 1e-6);
        /* mot_dense_forward with the image expert: every token through the image weights. */
        dense_layer(yd, x, &U.ex[MOT_IMAGE], &seq, d, H, f);
        CU_ASSERT(mot_dense_forward(ys, x, &U, MOT_IMAGE, &seq) == 0);
        CU_ASSERT(close_enough(ys, yd, n * d, "mot_dense_forward (image expert) vs dense"));
        CU_ASSERT(mot_dense_forward(ys, x, &U, 2, &seq) == TUTOR_EINVAL);
        CU_ASSERT(mot_dense_forward(ys, x, &U, -1, &seq) == TUTOR_EINVAL);
        mot_layer_free(&U);
        mat_free(x), mat_free(y), mat_free(ys), mat_free(yd);
        mot_layer_free(&L);
        mot_seq_free(&seq);
    }
}

static void test_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 5);
    for (int t = 0; t < 30; t++) {
        mot_seq seq;
        random_seq(&seq, &r);
        size_t H = (size_t)rng_range(&r, 1, 4), d = H * (size_t)rng_range(&r, 1, 5);
        size_t f = (size_t)rng_range(&r, 1, 16), n = seq.n;
        mot_layer L;
        CU_ASSERT_FATAL(mot_layer_init(&L, d, H, f, 100 + (uint64_t)t, 0) == 0);
        double *x = mat_new(n, d), *y = mat_new(n, d), *ys = mat_new(n, d);
        double *attn = mat_new(n, d), *ffn = mat_new(n, d), *probs = mat_new(H * n, n);
        CU_ASSERT_FATAL(x && y && ys && attn && ffn && probs);
        mot_input(x, n, d, (uint64_t)t);
        mot_parts parts = {attn, ffn, probs};
        CU_ASSERT(mot_forward(y, x, &L, &seq, &parts, NULL) == 0);
        CU_ASSERT(mot_forward_slow(ys, x, &L, &seq) == 0);
        CU_ASSERT(close_enough(y, ys, n * d, "fast vs slow"));
        /* The parts add up: y = x + attn + ffn; P rows sum to 1 and vanish where masked. */
        for (size_t i = 0; i < n * d; i++)
            CU_ASSERT(fabs(x[i] + attn[i] + ffn[i] - y[i]) < 1e-12 * (1 + fabs(y[i])));
        int *m = malloc(n * n * sizeof *m);
        CU_ASSERT_FATAL(m != NULL);
        mot_mask(m, &seq);
        for (size_t h = 0; h < H; h++)
            for (size_t i = 0; i < n; i++) {
                double sum = 0;
                for (size_t j = 0; j < n; j++) {
                    double p = probs[(h * n + i) * n + j];
                    sum += p;
                    if (!m[i * n + j])
                        CU_ASSERT(p == 0.0);
                }
                CU_ASSERT(fabs(sum - 1) < 1e-12);
            }
        free(m);
        mat_free(x), mat_free(y), mat_free(ys), mat_free(attn), mat_free(ffn), mat_free(probs);
        mot_layer_free(&L);
        mot_seq_free(&seq);
    }
}

/* A large case through the same path: n = 300, d = 64, 8 heads. */
static void test_fast_vs_slow_large(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:40 image:100 text:60 image:64 image:36");
    size_t n = seq.n, d = 64;
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, 8, 128, 3, 0) == 0);
    double *x = mat_new(n, d), *y = mat_new(n, d), *ys = mat_new(n, d);
    CU_ASSERT_FATAL(x && y && ys);
    mot_input(x, n, d, 3);
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(mot_forward_slow(ys, x, &L, &seq) == 0);
    CU_ASSERT(close_enough(y, ys, n * d, "large fast vs slow"));
    mat_free(x), mat_free(y), mat_free(ys);
    mot_layer_free(&L);
    mot_seq_free(&seq);
}

/* Hard routing: changing the text expert's FFN weights leaves every image token's FFN
 * output and final output bit-identical and changes every text token's; changing the
 * image expert's attention weights leaves the text before the first image untouched. */
static void test_routing(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:3 image:4 text:3");
    size_t n = seq.n, d = 8, f = 12;
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, 2, f, 21, 0) == 0);
    double *x = mat_new(n, d), *y = mat_new(n, d), *y2 = mat_new(n, d);
    double *ffn = mat_new(n, d), *ffn2 = mat_new(n, d);
    CU_ASSERT_FATAL(x && y && y2 && ffn && ffn2);
    mot_input(x, n, d, 21);
    mot_parts p1 = {NULL, ffn, NULL}, p2 = {NULL, ffn2, NULL};
    CU_ASSERT(mot_forward(y, x, &L, &seq, &p1, NULL) == 0);
    mot_expert *te = &L.ex[MOT_TEXT];
    for (size_t i = 0; i < d; i++)
        te->g_ffn[i] *= 1.5;
    for (size_t i = 0; i < d * f; i++)
        te->w_gate[i] = -te->w_gate[i], te->w_up[i] *= 0.5, te->w_down[i] += 0.1;
    CU_ASSERT(mot_forward(y2, x, &L, &seq, &p2, NULL) == 0);
    for (size_t i = 0; i < n; i++) {
        if (seq.modality[i] == MOT_IMAGE) {
            CU_ASSERT(rows_equal(ffn, ffn2, i, i + 1, d));
            CU_ASSERT(rows_equal(y, y2, i, i + 1, d));
        } else {
            CU_ASSERT(mat_max_abs_diff(ffn + i * d, ffn2 + i * d, d) > 1e-3);
        }
    }
    /* The image expert's q/k/v/o: text tokens 0..2 (which never see the image) keep their
     * outputs; image tokens and the text after them change (shared attention). */
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
    mot_expert *ie = &L.ex[MOT_IMAGE];
    for (size_t i = 0; i < d * d; i++)
        ie->wv[i] += 0.2, ie->wo[i] *= -1.0;
    CU_ASSERT(mot_forward(y2, x, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(rows_equal(y, y2, 0, 3, d));
    for (size_t i = 3; i < n; i++)
        CU_ASSERT(mat_max_abs_diff(y + i * d, y2 + i * d, d) > 1e-4);
    mat_free(x), mat_free(y), mat_free(y2), mat_free(ffn), mat_free(ffn2);
    mot_layer_free(&L);
    mot_seq_free(&seq);
}

/* Seeds: the same seed gives the same weights; tie copies the text expert, whose weights
 * are those of the untied layer with the same seed. */
static void test_seeded_weights(void)
{
    mot_layer a, b, t;
    CU_ASSERT_FATAL(mot_layer_init(&a, 6, 3, 10, 9, 0) == 0);
    CU_ASSERT_FATAL(mot_layer_init(&b, 6, 3, 10, 9, 0) == 0);
    CU_ASSERT_FATAL(mot_layer_init(&t, 6, 3, 10, 9, 1) == 0);
    size_t per = mot_params_expert(6, 10);
    CU_ASSERT(memcmp(a.block, b.block, 2 * per * sizeof(double)) == 0);
    CU_ASSERT(memcmp(t.block, a.block, per * sizeof(double)) == 0);
    CU_ASSERT(memcmp(t.block + per, a.block, per * sizeof(double)) == 0);
    CU_ASSERT(memcmp(a.block + per, a.block, per * sizeof(double)) != 0);
    mot_layer_copy_expert(&a, MOT_IMAGE, MOT_TEXT);
    CU_ASSERT(memcmp(a.block, t.block, 2 * per * sizeof(double)) == 0);
    mot_layer_free(&a), mot_layer_free(&b), mot_layer_free(&t);
}

/* ---- the facts ---- */

static void test_params_and_cost(void)
{
    /* d = 4, f = 8: gains 4 + 4, q/k/v/o 4 x 16, gate/up/down 3 x 32: 168 per expert. */
    CU_ASSERT(mot_params_expert(4, 8) == 4 + 4 + 4 * 16 + 3 * 32);
    CU_ASSERT(mot_params_expert(4, 8) == 168);
    CU_ASSERT(mot_params_total(4, 8) == 336);
    CU_ASSERT(mot_params_active(4, 8) == 168);
    /* The layout agrees: the two experts fill the block exactly. */
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, 4, 2, 8, 1, 0) == 0);
    CU_ASSERT(L.ex[MOT_IMAGE].g_attn - L.ex[MOT_TEXT].g_attn == 168);
    CU_ASSERT(L.ex[MOT_IMAGE].w_down + 32 - L.block == 336);
    mot_layer_free(&L);
    CU_ASSERT(mot_params_total(SIZE_MAX / 2, 1) == SIZE_MAX);
    /* "text:2 image:2": keys seen 1, 2, 4, 4 -> mean 2.75; flops per token
     * 2 (4 * 16 + 3 * 32) + 4 * 4 * 2.75 = 320 + 44 = 364, the same for dense. */
    mot_seq seq;
    parse_ok(&seq, "text:2 image:2");
    mot_cost c;
    CU_ASSERT(mot_cost_of(&c, 4, 8, &seq) == 0);
    CU_ASSERT(c.params_total == 336 && c.params_active == 168 && c.params_dense == 168);
    CU_ASSERT_DOUBLE_EQUAL(c.keys_mean, 2.75, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c.flops_token, 364.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(c.flops_dense, c.flops_token, 0.0);
    CU_ASSERT(mot_cost_of(&c, 0, 8, &seq) == TUTOR_EINVAL);
    mot_seq_free(&seq);
}

/* ---- validation ---- */

static void test_validation(void)
{
    mot_layer L;
    CU_ASSERT(mot_layer_init(&L, 6, 4, 8, 1, 0) == TUTOR_EINVAL); /* 6 % 4 */
    CU_ASSERT(L.block == NULL);
    CU_ASSERT(mot_layer_init(&L, 0, 1, 8, 1, 0) == TUTOR_EINVAL);
    CU_ASSERT(mot_layer_init(&L, 4, 0, 8, 1, 0) == TUTOR_EINVAL);
    CU_ASSERT(mot_layer_init(&L, 4, 1, 0, 1, 0) == TUTOR_EINVAL);
    CU_ASSERT(mot_layer_init(&L, MOT_MAX_D + 1, 1, 8, 1, 0) == TUTOR_ETOOBIG);
    CU_ASSERT(mot_layer_init(&L, 4, 1, MOT_MAX_FFN + 1, 1, 0) == TUTOR_ETOOBIG);
    CU_ASSERT(mot_layer_init(&L, 2 * 128, 128, 8, 1, 0) == TUTOR_ETOOBIG);
    mot_layer_free(&L);
    mot_layer_free(NULL);
    mot_seq_free(NULL);
    CU_ASSERT_FATAL(mot_layer_init(&L, 4, 2, 8, 1, 0) == 0);
    double x[8 * 4] = {0}, y[8 * 4];
    int mod[2] = {0, 1}, seg[2] = {0, 0}; /* one segment, two modalities */
    mot_seq bad = {2, 1, mod, seg};
    CU_ASSERT(mot_forward(y, x, &L, &bad, NULL, NULL) == TUTOR_EINVAL);
    CU_ASSERT(mot_forward_slow(y, x, &L, &bad) == TUTOR_EINVAL);
    int big_mod[1] = {0}, big_seg[1] = {0};
    mot_seq big = {MOT_MAX_N + 1, 1, big_mod, big_seg};
    CU_ASSERT(mot_forward(y, x, &L, &big, NULL, NULL) == TUTOR_ETOOBIG);
    mot_layer empty = {0};
    mot_seq seq;
    parse_ok(&seq, "text:1 image:1");
    CU_ASSERT(mot_forward(y, x, &empty, &seq, NULL, NULL) == TUTOR_EINVAL);
    L.heads = 3; /* a layer edited into d % heads != 0 */
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == TUTOR_EINVAL);
    L.heads = 2;
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
    mot_seq_free(&seq);
    mot_layer_free(&L);
}

/* ---- traces ---- */

static const trace_snap *latest(const trace *tr, const char *name)
{
    return trace_latest(tr, trace_len(tr) - 1, name);
}

static void test_trace(void)
{
    mot_seq seq;
    parse_ok(&seq, "text:2 image:3 text:1");
    size_t n = seq.n, d = 8, H = 2;
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, H, 16, 4, 0) == 0);
    double *x = mat_new(n, d), *y = mat_new(n, d), *yt = mat_new(n, d);
    CU_ASSERT_FATAL(x && y && yt);
    mot_input(x, n, d, 4);
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    trace_set_listing(tr, mot_listing, mot_listing_len);
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(mot_forward(yt, x, &L, &seq, NULL, tr) == 0);
    CU_ASSERT(memcmp(y, yt, n * d * sizeof *y) == 0); /* tracing changes nothing */
    for (size_t i = 0; i < trace_len(tr); i++) {
        int line = trace_at(tr, i)->line;
        CU_ASSERT(line >= 1 && (size_t)line <= mot_listing_len);
    }
    /* The mask as a 0/1 table, the routing, the per-modality outputs. */
    const trace_snap *m = latest(tr, "M");
    CU_ASSERT_FATAL(m && m->kind == TRACE_TABLE && m->rows == n && m->cols == n);
    int mask[36];
    mot_mask(mask, &seq);
    for (size_t i = 0; i < n * n; i++)
        CU_ASSERT(m->ints[i] == mask[i]);
    const trace_snap *mod = latest(tr, "modality");
    CU_ASSERT_FATAL(mod && mod->cols == n);
    CU_ASSERT(mod->ints[2] == MOT_IMAGE && mod->ints[5] == MOT_TEXT);
    const trace_snap *yi = latest(tr, "Y_image"), *yx = latest(tr, "Y_text");
    CU_ASSERT_FATAL(yi && yx && yi->rows == 3 && yx->rows == 3 && yi->cols == d);
    CU_ASSERT(memcmp(yi->reals, y + 2 * d, 3 * d * sizeof *y) == 0);
    CU_ASSERT(memcmp(yx->reals + 2 * d, y + 5 * d, d * sizeof *y) == 0);
    /* One routing step per token, with a quiz at each segment's first token: the first
     * image token sees its 2 text predecessors and its whole image, 5 tokens. */
    size_t routing = 0, quizzes = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        routing += st->line == 2;
        if (st->quiz) {
            quizzes++;
            if (quizzes == 2)
                CU_ASSERT(st->quiz_answer == 5);
        }
    }
    CU_ASSERT(routing == n);
    CU_ASSERT(quizzes == seq.nsegments);
    strbuf js = STRBUF_INIT;
    CU_ASSERT(trace_json(tr, &js) == 0);
    CU_ASSERT(th_json_valid(strbuf_str(&js)));
    strbuf_free(&js);
    trace_free(tr);
    mat_free(x), mat_free(y), mat_free(yt);
    mot_layer_free(&L);
    mot_seq_free(&seq);
}

/* A long sequence with many heads: per-token and per-head steps stop at their caps, the
 * n x n matrices are not recorded past ATTN_TRACE_MAX_CELLS, the output is the same. */
static void test_trace_caps(void)
{
    mot_seq seq;
    CU_ASSERT_FATAL(mot_seq_default(&seq, 300) == 0);
    size_t n = seq.n, d = 16;
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, 8, 16, 4, 0) == 0);
    double *x = mat_new(n, d), *y = mat_new(n, d), *yt = mat_new(n, d);
    CU_ASSERT_FATAL(x && y && yt);
    mot_input(x, n, d, 4);
    trace *tr = trace_new(0);
    CU_ASSERT_FATAL(tr != NULL);
    CU_ASSERT(mot_forward(y, x, &L, &seq, NULL, NULL) == 0);
    CU_ASSERT(mot_forward(yt, x, &L, &seq, NULL, tr) == 0);
    CU_ASSERT(memcmp(y, yt, n * d * sizeof *y) == 0);
    CU_ASSERT(latest(tr, "M") == NULL && latest(tr, "P") == NULL);
    CU_ASSERT(latest(tr, "Y") != NULL);
    size_t routing = 0, heads = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        routing += trace_at(tr, i)->line == 2;
        heads += trace_at(tr, i)->line == 6;
    }
    CU_ASSERT(routing == MOT_TRACE_TOKENS + 1);
    CU_ASSERT(heads == MOT_TRACE_HEADS);
    trace_free(tr);
    mat_free(x), mat_free(y), mat_free(yt);
    mot_layer_free(&L);
    mot_seq_free(&seq);
}

/* ---- allocation failures ---- */

typedef struct sweep_ctx {
    int what;
} sweep_ctx;

static int sweep_body(void *ctx)
{
    int what = ((sweep_ctx *)ctx)->what;
    mot_seq seq;
    char err[128];
    int rc;
    if (what == 0) {
        rc = mot_seq_parse(&seq, "text:2 image:3 text:1", err, sizeof err);
        mot_seq_free(&seq);
        return rc;
    }
    if (what == 1) {
        rc = mot_seq_default(&seq, 7);
        mot_seq_free(&seq);
        return rc;
    }
    mot_layer L;
    if ((rc = mot_layer_init(&L, 4, 2, 6, 1, what == 2)) != 0)
        return rc;
    if ((rc = mot_seq_parse(&seq, "text:2 image:3 text:1", err, sizeof err)) != 0) {
        mot_layer_free(&L);
        return rc;
    }
    double x[6 * 4], y[6 * 4], probs[2 * 36];
    mot_input(x, 6, 4, 1);
    mot_parts parts = {NULL, NULL, probs};
    trace *tr = NULL;
    if (what == 4 && !(tr = trace_new(0)))
        rc = TUTOR_ENOMEM;
    else if (what == 5)
        rc = mot_forward_slow(y, x, &L, &seq);
    else if (what == 6)
        rc = mot_dense_forward(y, x, &L, MOT_IMAGE, &seq);
    else
        rc = mot_forward(y, x, &L, &seq, &parts, tr);
    trace_free(tr);
    mot_seq_free(&seq);
    mot_layer_free(&L);
    return rc;
}

static void test_alloc_failures(void)
{
    for (int what = 0; what <= 6; what++) {
        sweep_ctx ctx = {what};
        CU_ASSERT(th_alloc_sweep(sweep_body, &ctx, 0) >= 1);
    }
}

/* ---- the command line ---- */

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;
/* The example, worked by hand: five text tokens (causal), an image of four (each
 * sees the prompt and all four), three text tokens (causal over everything before). */
static const char *const example_mask = "\"mask\": [[1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "
                                        "[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], "
                                        "[1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], "
                                        "[1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0], "
                                        "[1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], "
                                        "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]";

static void test_cli_json(void)
{
    int rc = th_cli(&out, &err, "run", "mot", "--segments", "text:5 image:4 text:3", "--d", "8",
                    "--heads", "2", "--json", NULL);
    CU_ASSERT_EQUAL(rc, 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT(th_json_valid(s));
    CU_ASSERT(strncmp(s, "{\"topic\": \"mot\"", 15) == 0);
    CU_ASSERT(strstr(s, example_mask) != NULL);
    CU_ASSERT(strstr(s, "\"modality\": [0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0]") != NULL);
    CU_ASSERT(strstr(s, "\"segment\": [0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2]") != NULL);
    /* d = 8, f = 16: one expert 2 d + 4 d^2 + 3 d f = 16 + 256 + 384 = 656. */
    CU_ASSERT(strstr(s, "\"params_total\": 1312, \"params_active\": 656") != NULL);
    CU_ASSERT(strstr(s, "\"segments\": \"text:5 image:4 text:3\"") != NULL);
    CU_ASSERT(strstr(s, "\"tied\": false") != NULL);
    /* result: the library's layer on the same seed's weights and input, 12 x 8 numbers. */
    size_t n = 12, d = 8;
    double got[12 * 8 + 1], x[12 * 8], want[12 * 8];
    /* Exactly n d numbers: the reader stops at the next key. */
    CU_ASSERT_EQUAL(th_json_numbers(s, "result", got, n * d + 1), n * d);
    mot_seq seq;
    parse_ok(&seq, "text:5 image:4 text:3");
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, 2, MOT_FFN_DEFAULT * d, 1, 0) == 0);
    mot_input(x, n, d, 1);
    CU_ASSERT(mot_forward(want, x, &L, &seq, NULL, NULL) == 0);
    /* JSON doubles print with 17 significant digits: they round-trip exactly. */
    CU_ASSERT(mat_max_abs_diff(got, want, n * d) == 0.0);
    mot_layer_free(&L);
    mot_seq_free(&seq);
    /* --n alone: mot_seq_default's layout; --n and --segments agreeing is fine. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "mot", "--n", "7", "--json", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "\"segments\": \"text:3 image:2 text:2\"") != NULL);
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "mot", "--n", "4", "--segments", "image:2 image:2", NULL), 0);
}

static void test_cli_tie_equals_dense(void)
{
    /* Two images in a row, four heads: the CLI's tied result against the loop-written dense
     * layer above (its own weights and input from the same seed). */
    const char *spec = "text:3 image:4 image:2 text:3";
    size_t n = 12, d = 8, H = 4;
    int rc = th_cli(&out, &err, "run", "mot", "--segments", spec, "--d", "8", "--heads", "4",
                    "--tie", "--seed", "7", "--json", NULL);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT(strstr(s, "\"tied\": true") != NULL);
    double got[12 * 8], x[12 * 8], dense[12 * 8], diff = NAN;
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(s, "result", got, n * d), n * d);
    CU_ASSERT(th_json_numbers(s, "dense_max_diff", &diff, 1) == 1 && diff <= 1e-12);
    mot_seq seq;
    parse_ok(&seq, spec);
    mot_layer L;
    CU_ASSERT_FATAL(mot_layer_init(&L, d, H, MOT_FFN_DEFAULT * d, 7, 1) == 0);
    mot_input(x, n, d, 7);
    dense_layer(dense, x, &L.ex[MOT_TEXT], &seq, d, H, MOT_FFN_DEFAULT * d);
    CU_ASSERT(close_enough(got, dense, n * d, "CLI --tie vs dense"));
    mot_layer_free(&L);
    mot_seq_free(&seq);
    /* The text output says so, with the difference. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "mot", "--segments", spec, "--d", "8", "--heads", "4",
                           "--tie", "--seed", "7", NULL),
                    0);
    const char *t = strstr(strbuf_str(&out), "tied = dense: max |Y - Y_dense| = ");
    CU_ASSERT(t != NULL);
    if (t) {
        double e = strtod(t + strlen("tied = dense: max |Y - Y_dense| = "), NULL);
        CU_ASSERT(e <= 1e-12);
    }
    /* Untied, the same seed's layer is far from the dense one on image rows. */
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "mot", "--segments", spec, "--seed", "7", "--json", NULL), 0);
    CU_ASSERT(th_json_numbers(strbuf_str(&out), "dense_max_diff", &diff, 1) == 1 && diff > 1e-3);
}

static void test_cli_text(void)
{
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "mot", "--segments", "text:5 image:4 text:3", "--d",
                           "8", "--heads", "2", NULL),
                    0);
    const char *s = strbuf_str(&out);
    CU_ASSERT(strstr(s, "mot: 12 tokens (text:5 image:4 text:3), d = 8, 2 heads of 4, FFN 16\n") ==
              s);
    CU_ASSERT(strstr(s, "        t t t t t I I I I t t t\n") != NULL);
    CU_ASSERT(strstr(s, "    4 t 1 1 1 1 1 . . . . . . .\n") != NULL);
    CU_ASSERT(strstr(s, "    5 I 1 1 1 1 1 1 1 1 1 . . .\n") != NULL);
    CU_ASSERT(strstr(s, "   11 t 1 1 1 1 1 1 1 1 1 1 1 1\n") != NULL);
    CU_ASSERT(strstr(s, "params: 1312 total (2 experts x 656), 656 active per token (dense: "
                        "656)\n") != NULL);
    /* 2 (4 d^2 + 3 d f) = 2 (256 + 384) = 1280, plus 4 d keys_mean; keys: 1+2+3+4+5 for
     * the prompt, 9 x 4 for the image, 10+11+12 after: 84 / 12 = 7, 4 x 8 x 7 = 224. */
    CU_ASSERT(strstr(s, "cost: 1504 flops per token (the dense layer: 1504), 7 keys seen") != NULL);
    CU_ASSERT(strstr(s, "Y (12 x 8), the layer's output, one row per token (cut):\n") != NULL);
    /* Every line fits 80 columns (the mask grid is cut at 32 tokens). */
    for (const char *line = s; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        CU_ASSERT(len <= 80);
        line += len + (nl != NULL);
    }
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "mot", "--n", "40", NULL), 0);
    CU_ASSERT(strstr(strbuf_str(&out), "first 32 tokens") != NULL);
}

static void expect_bad(const char *want, ...)
{
    char *argv[32] = {"run", "mot"};
    int argc = 2;
    va_list ap;
    va_start(ap, want);
    for (char *a; argc < 30 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    th_refused(th_cli_argv(&out, &err, argc, argv), &out, &err, want);
}

static void test_cli_bad_input(void)
{
    expect_bad("--heads 3 does not divide --d 8", "--d", "8", "--heads", "3", NULL);
    expect_bad("--heads", "--d", "4", "--heads", "8", NULL);
    expect_bad("--segments: segment 2 'img:4'", "--segments", "text:5 img:4", NULL);
    expect_bad("--segments: segment 1 'text:0'", "--segments", "text:0", NULL);
    expect_bad("--segments: segment 1 'text'", "--segments", "text", NULL);
    expect_bad("--segments: segment 1 'text:5,image:4'", "--segments", "text:5,image:4", NULL);
    expect_bad("--segments: none given", "--segments", "  ", NULL);
    expect_bad("--n 10 but --segments has 12 tokens", "--n", "10", "--segments",
               "text:5 image:4 text:3", NULL);
    /* Caps: n 1024, d 512, heads 64, and the segments' total. */
    expect_bad("--n: 1025 is too big", "--n", "1025", NULL);
    expect_bad("--n: 0 is outside", "--n", "0", NULL);
    expect_bad("--d: 513 is too big", "--d", "513", NULL);
    expect_bad("--heads: 65 is too big", "--heads", "65", NULL);
    expect_bad("--segments: more than 1024 tokens", "--segments", "text:1000 image:25", NULL);
    /* A string past MOT_MAX_SPEC characters, valid segment by segment. */
    static char long_spec[MOT_MAX_SPEC + 8];
    for (size_t k = 0; k + 7 < sizeof long_spec; k += 7)
        memcpy(long_spec + k, "text:1 ", 7);
    long_spec[sizeof long_spec - 1] = '\0';
    expect_bad("--segments: longer than", "--segments", long_spec, NULL);
    expect_bad("--d: 'x' is not an integer", "--d", "x", NULL);
    expect_bad("--tie takes no value", "--tie=1", NULL);
    expect_bad("unknown option '--ffn'", "--ffn", "8", NULL);
}

/* The runner's own last steps: the outputs by modality, then the comparison with the dense
 * layer per token: 0 before the first image (those tokens see only text through the text
 * weights), far from 0 on image tokens when untied, 0 everywhere when tied. */
static void test_cli_trace(void)
{
    for (int tie = 0; tie <= 1; tie++) {
        topic_opt opts[] = {{"segments", "text:3 image:4 text:2"}, {"tie", NULL}};
        topic_args args = {opts, tie ? 2u : 1u, 5};
        topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
        trace *tr = trace_new(0);
        CU_ASSERT_FATAL(tr != NULL);
        CU_ASSERT_EQUAL(topic_mot.run(&args, tr, &res), 0);
        size_t len = trace_len(tr);
        CU_ASSERT_FATAL(len >= 2);
        const trace_frame *by_tag = trace_at(tr, len - 2), *last = trace_at(tr, len - 1);
        CU_ASSERT(by_tag->line == 10 && last->line == 2);
        const trace_snap *yt = trace_find(by_tag, "Y_text"), *yi = trace_find(by_tag, "Y_image");
        CU_ASSERT(yt && yt->rows == 5 && yt->cols == 8 && yi && yi->rows == 4 && yi->cols == 8);
        const trace_snap *dy = trace_find(last, "dY");
        CU_ASSERT_FATAL(dy && dy->kind == TRACE_REALS && dy->cols == 9);
        for (size_t i = 0; i < 9; i++) {
            if (tie || i < 3)
                CU_ASSERT(dy->reals[i] <= 1e-12);
            if (!tie && i >= 3 && i < 7)
                CU_ASSERT(dy->reals[i] > 1e-3);
        }
        topic_out_free(&res);
        trace_free(tr);
    }
    /* --trace through the command line adds the steps to the JSON. */
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "mot", "--n", "5", "--d", "4", "--json", "--trace", NULL), 0);
    CU_ASSERT(th_json_valid(strbuf_str(&out)) && strstr(strbuf_str(&out), "\"steps\"") != NULL);
}

/* The runner under allocation failures, traced (its own steps too) and not; and the
 * whole command line, which reports one as exit 1. */
static int runner_body(void *ctx)
{
    int traced = *(int *)ctx;
    topic_opt opts[] = {{"segments", "text:2 image:3 text:1"}, {"d", "4"}, {"tie", NULL}};
    topic_args args = {opts, 3, 2};
    topic_out res = {STRBUF_INIT, STRBUF_INIT, {0}};
    trace *tr = traced ? trace_new(0) : NULL;
    int rc = traced && !tr ? TUTOR_ENOMEM : topic_mot.run(&args, tr, &res);
    topic_out_free(&res);
    trace_free(tr);
    return rc;
}

static int cli_body(void *ctx)
{
    (void)ctx;
    strbuf o = STRBUF_INIT, e = STRBUF_INIT;
    int rc = th_cli(&o, &e, "run", "mot", "--n", "5", "--d", "4", "--json", "--trace", NULL);
    strbuf_free(&o);
    strbuf_free(&e);
    return rc == 0 ? 0 : rc == 1 ? TUTOR_ENOMEM : rc;
}

static void test_cli_alloc_failures(void)
{
    for (int traced = 0; traced <= 1; traced++)
        CU_ASSERT(th_alloc_sweep(runner_body, &traced, 0) >= 5);
    CU_ASSERT(th_alloc_sweep(cli_body, NULL, 0) >= 5);
}

static void test_cli_plot(void)
{
    int rc = th_cli(&out, &err, "plot", "mot", "--format", "dumb", NULL);
    if (rc == 1 && strstr(strbuf_str(&err), "gnuplot")) {
        fprintf(stderr, "\n  (gnuplot missing: dumb figures not checked)\n");
        return;
    }
    CU_ASSERT_EQUAL(rc, 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT(strstr(s, "generalised causal mask") != NULL);
    CU_ASSERT(strstr(s, "text tokens (their rows of Y)") != NULL);
    CU_ASSERT(strstr(s, "image tokens (their rows of Y)") != NULL);
    CU_ASSERT(strstr(s, "what routing changes") != NULL);
    CU_ASSERT(strstr(s, "tutor plot mot --segments 'text:5 image:4 text:3' --d 8 --heads 2") !=
              NULL);
    /* Past what the trace records, one line and exit 2; bad options as `tutor run`. */
    th_refused(th_cli(&out, &err, "plot", "mot", "--n", "300", "--format", "dumb", NULL), &out,
               &err, "the figures need at most 256 tokens");
    th_refused(
        th_cli(&out, &err, "plot", "mot", "--d", "6", "--heads", "4", "--format", "dumb", NULL),
        &out, &err, "--heads 4 does not divide --d 6");
}

void tests_register(void)
{
    static const th_test seq_tests[] = {
        {"parse: text:5 image:4 text:3, and back", test_parse},
        {"parse: each bad string gets one clear line", test_parse_errors},
        {"default sequences and the contract check", test_default_and_check},
        {NULL, NULL},
    };
    static const th_test mask_tests[] = {
        {"mask by hand: causal text, full image, two images", test_mask_by_hand},
        {"mask: image tokens see later tokens of their own image only", test_mask_image_rule},
        {"mask through outputs: same image reaches back, later text does not",
         test_mask_through_outputs},
        {NULL, NULL},
    };
    static const th_test layer_tests[] = {
        {"tied MoT equals the dense layer (loop implementation)", test_tied_equals_dense},
        {"fast (CBLAS, runs) equals slow (loops), parts add up", test_fast_vs_slow},
        {"fast equals slow at n = 300, d = 64, 8 heads", test_fast_vs_slow_large},
        {"routing: text FFN weights never touch image tokens", test_routing},
        {"seeded weights, tie copies the text expert", test_seeded_weights},
        {"params total/active and flops by hand", test_params_and_cost},
        {"validation: d % heads, zero sizes, caps, bad sequences", test_validation},
        {"trace: mask table, routing, per-modality outputs", test_trace},
        {"trace: caps on tokens, heads and matrices", test_trace_caps},
        {"allocation failures return TUTOR_ENOMEM", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("mot sequence", seq_tests);
    th_suite("mot mask", mask_tests);
    static const th_test cli_tests[] = {
        {"cli: JSON shape, the issue's mask by hand, params, result = library", test_cli_json},
        {"cli: --tie result equals the dense layer (loop implementation)",
         test_cli_tie_equals_dense},
        {"cli: text output (mask grid, params, cost, 80 columns)", test_cli_text},
        {"cli: bad input exits 2 with one line naming the option", test_cli_bad_input},
        {"cli: the runner's trace ends on outputs by tag and the dense check", test_cli_trace},
        {"cli: tutor plot mot --format dumb", test_cli_plot},
        {"cli: allocation failures give TUTOR_ENOMEM / exit 1", test_cli_alloc_failures},
        {NULL, NULL},
    };
    th_suite("mot layer", layer_tests);
    th_suite("mot cli", cli_tests);
}
