/* Tests of models/vq: the image set and its patches, the assignment (fast against slow, bit
 * for bit; hand-worked cases; ties; a codebook quantising to itself), the Lloyd update and
 * k-means (hand-worked 1-D case, distortion never increasing over several seeds, empty
 * codes kept), k-means++, the statistics (perplexity, dead codes), the rate-distortion
 * curve, the VQ-VAE terms and gradients (finite differences, the Lloyd step as a gradient
 * step), traced against untraced runs, caps and validation, and allocation failures; then
 * the topic: `tutor run vq` (JSON against the library, text, the user's files with a
 * hand-worked answer, refusals) and `tutor plot vq --format dumb`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/mat.h"
#include "../models/vq.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/strbuf.h"
#include "../trace/trace.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

/* Distortions are means of sums in floating point: a Lloyd round that changes nothing
 * recomputes the same bits, one that changes something lowers the exact value by far more
 * than rounding. 1e-12 relative covers the rounding of a mean over a few thousand values. */
#define TOL_MONO 1e-12

/* A new rows x cols matrix of N(0, scale^2) values (asserts on failure). */
static double *rand_mat(rng *r, size_t rows, size_t cols, double scale)
{
    double *a = mat_new(rows, cols);
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    mat_gauss(a, rows * cols, r, scale);
    return a;
}

/* The default demo's patches: *n x *d, from seed (asserts). Free with mat_free. */
static double *demo_patches(size_t images, size_t side, size_t patch, uint64_t seed, size_t *n,
                            size_t *d)
{
    double *img = mat_new(images, side * side);
    *d = patch * patch;
    *n = images * (side / patch) * (side / patch);
    double *x = mat_new(*n, *d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(img);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_EQUAL(vq_images(img, NULL, images, side, seed), 0);
    CU_ASSERT_EQUAL(vq_patchify(x, img, images, side, patch), 0);
    mat_free(img);
    return x;
}

/* ---- images and patches ---- */

static void test_images(void)
{
    size_t count = 12, side = 16, px = side * side;
    double *a = mat_new(count, px), *b = mat_new(count, px), *c = mat_new(count, px);
    int kinds[12];
    CU_ASSERT_PTR_NOT_NULL_FATAL(a);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(vq_images(a, kinds, count, side, 7), 0);
    CU_ASSERT_EQUAL(vq_images(b, NULL, count, side, 7), 0);
    CU_ASSERT_EQUAL(vq_images(c, NULL, count, side, 8), 0);
    CU_ASSERT_EQUAL(memcmp(a, b, count * px * sizeof *a), 0); /* same seed, same bits */
    CU_ASSERT_NOT_EQUAL(memcmp(a, c, count * px * sizeof *a), 0);
    for (size_t i = 0; i < count * px; i++)
        if (!(a[i] >= 0.0 && a[i] <= 1.0)) {
            CU_FAIL("a pixel outside [0, 1]");
            break;
        }
    for (size_t m = 0; m < count; m++) {
        CU_ASSERT_EQUAL(kinds[m], (int)(m % VQ_KIND_COUNT));
        /* Every kind but noise has two or more distinct levels; none is flat. */
        double mn = 1.0, mx = 0.0;
        for (size_t i = 0; i < px; i++) {
            mn = a[m * px + i] < mn ? a[m * px + i] : mn;
            mx = a[m * px + i] > mx ? a[m * px + i] : mx;
        }
        CU_ASSERT(mx - mn > 0.1);
    }
    CU_ASSERT_STRING_EQUAL(vq_kind_name(VQ_BARS), "bars");
    CU_ASSERT_STRING_EQUAL(vq_kind_name(VQ_NOISE), "noise");
    CU_ASSERT_STRING_EQUAL(vq_kind_name(99), "?");
    CU_ASSERT_EQUAL(vq_images(a, NULL, 0, side, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_images(a, NULL, 1, 0, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_images(a, NULL, VQ_MAX_IMAGES + 1, 4, 1), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(vq_images(a, NULL, 1, VQ_MAX_SIDE + 1, 1), TUTOR_ETOOBIG);
    mat_free(a);
    mat_free(b);
    mat_free(c);
}

static void test_patch_order(void)
{
    /* Two 4 x 4 images holding 0..15 and 100..115; 2 x 2 patches. */
    double img[32], x[32], back[32];
    for (int i = 0; i < 16; i++) {
        img[i] = i;
        img[16 + i] = 100 + i;
    }
    CU_ASSERT_EQUAL_FATAL(vq_patchify(x, img, 2, 4, 2), 0);
    const double want[16] = {0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15};
    for (int i = 0; i < 16; i++) {
        CU_ASSERT_EQUAL(x[i], want[i]);
        CU_ASSERT_EQUAL(x[16 + i], 100 + want[i]);
    }
    CU_ASSERT_EQUAL(vq_unpatchify(back, x, 2, 4, 2), 0);
    CU_ASSERT_EQUAL(memcmp(back, img, sizeof img), 0);
    /* Patch = whole image, and patch = one pixel: both the identity order. */
    CU_ASSERT_EQUAL(vq_patchify(x, img, 2, 4, 4), 0);
    CU_ASSERT_EQUAL(memcmp(x, img, sizeof img), 0);
    CU_ASSERT_EQUAL(vq_patchify(x, img, 2, 4, 1), 0);
    CU_ASSERT_EQUAL(memcmp(x, img, sizeof img), 0);
    /* The patch must divide the side. */
    CU_ASSERT_EQUAL(vq_patchify(x, img, 2, 4, 3), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_unpatchify(back, x, 2, 4, 3), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_patchify(x, img, 2, 4, 0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_patchify(x, img, 1, 64, VQ_MAX_PATCH * 2), TUTOR_ETOOBIG);
}

/* ---- assignment ---- */

static void test_assign_hand(void)
{
    /* 1-D, K = 2: codes 1 and 11. */
    double x[] = {0, 1, 2, 10, 11, 12, 5.9, 6.1}, c[] = {1, 11}, dist[8];
    int t[8];
    const int want_t[] = {0, 0, 0, 1, 1, 1, 0, 1};
    const double want_d[] = {1, 0, 1, 1, 0, 1, 4.9 * 4.9, 4.9 * 4.9};
    CU_ASSERT_EQUAL_FATAL(vq_assign(t, dist, x, c, 8, 1, 2, NULL), 0);
    for (int i = 0; i < 8; i++) {
        CU_ASSERT_EQUAL(t[i], want_t[i]);
        CU_ASSERT_DOUBLE_EQUAL(dist[i], want_d[i], 1e-12);
    }
    /* 2-D: x = (3, 4) against (0, 0), (3, 0), (6, 8): distances 25, 16, 25. */
    double x2[] = {3, 4}, c2[] = {0, 0, 3, 0, 6, 8};
    CU_ASSERT_EQUAL(vq_assign(t, dist, x2, c2, 1, 2, 3, NULL), 0);
    CU_ASSERT_EQUAL(t[0], 1);
    CU_ASSERT_EQUAL(dist[0], 16.0);
    /* dist may be NULL. */
    CU_ASSERT_EQUAL(vq_assign(t, NULL, x, c, 8, 1, 2, NULL), 0);
    CU_ASSERT_EQUAL(t[6], 0);
}

static void test_assign_ties(void)
{
    double x[] = {5}, c1[] = {4, 6}, c2[] = {6, 4}, c3[] = {9, 4, 6, 4}, dist;
    int t = -1;
    CU_ASSERT_EQUAL(vq_assign(&t, &dist, x, c1, 1, 1, 2, NULL), 0);
    CU_ASSERT_EQUAL(t, 0);
    CU_ASSERT_EQUAL(vq_assign(&t, &dist, x, c2, 1, 1, 2, NULL), 0);
    CU_ASSERT_EQUAL(t, 0);
    CU_ASSERT_EQUAL(vq_assign(&t, &dist, x, c3, 1, 1, 4, NULL), 0);
    CU_ASSERT_EQUAL(t, 1);
    CU_ASSERT_EQUAL(vq_assign_slow(&t, &dist, x, c3, 1, 1, 4), 0);
    CU_ASSERT_EQUAL(t, 1);
    /* A grid of integer points against integer codes: many exact ties, in 3-D. */
    rng r;
    rng_seed(&r, 3);
    size_t n = 300, d = 3, K = 20;
    double *xs = mat_new(n, d), *cs = mat_new(K, d);
    int *tf = mem_calloc(n, sizeof *tf), *ts = mem_calloc(n, sizeof *ts);
    CU_ASSERT_FATAL(xs && cs && tf && ts);
    for (size_t i = 0; i < n * d; i++)
        xs[i] = (double)rng_range(&r, -2, 2);
    for (size_t i = 0; i < K * d; i++)
        cs[i] = (double)rng_range(&r, -2, 2);
    CU_ASSERT_EQUAL(vq_assign(tf, NULL, xs, cs, n, d, K, NULL), 0);
    CU_ASSERT_EQUAL(vq_assign_slow(ts, NULL, xs, cs, n, d, K), 0);
    CU_ASSERT_EQUAL(memcmp(tf, ts, n * sizeof *tf), 0);
    /* And each token is the lowest index among the codes at the smallest distance. */
    for (size_t i = 0; i < n; i++) {
        double best = INFINITY;
        int first = -1;
        for (size_t k = 0; k < K; k++) {
            double s = 0;
            for (size_t j = 0; j < d; j++)
                s += (xs[i * d + j] - cs[k * d + j]) * (xs[i * d + j] - cs[k * d + j]);
            if (s < best) {
                best = s;
                first = (int)k;
            }
        }
        CU_ASSERT_EQUAL(tf[i], first);
    }
    mat_free(xs);
    mat_free(cs);
    mem_free(tf);
    mem_free(ts);
}

static void test_assign_own_index(void)
{
    rng r;
    rng_seed(&r, 11);
    size_t K = 50, d = 7;
    double *c = rand_mat(&r, K, d, 1.0), dist[50];
    int t[50];
    CU_ASSERT_EQUAL_FATAL(vq_assign(t, dist, c, c, K, d, K, NULL), 0);
    for (size_t k = 0; k < K; k++) {
        CU_ASSERT_EQUAL(t[k], (int)k);
        CU_ASSERT_EQUAL(dist[k], 0.0);
    }
    /* A duplicated code: both copies quantise to the lower index. */
    memcpy(c + 30 * d, c + 10 * d, d * sizeof *c);
    CU_ASSERT_EQUAL(vq_assign(t, dist, c, c, K, d, K, NULL), 0);
    CU_ASSERT_EQUAL(t[10], 10);
    CU_ASSERT_EQUAL(t[30], 10);
    mat_free(c);
}

/* fast == slow, bit for bit, tokens and distances. */
static void fast_vs_slow(const double *x, const double *c, size_t n, size_t d, size_t K)
{
    int *tf = mem_calloc(n, sizeof *tf), *ts = mem_calloc(n, sizeof *ts);
    double *df = mat_new(n, 1), *ds = mat_new(n, 1);
    CU_ASSERT_FATAL(tf && ts && df && ds);
    CU_ASSERT_EQUAL(vq_assign(tf, df, x, c, n, d, K, NULL), 0);
    CU_ASSERT_EQUAL(vq_assign_slow(ts, ds, x, c, n, d, K), 0);
    CU_ASSERT_EQUAL(memcmp(tf, ts, n * sizeof *tf), 0);
    CU_ASSERT_EQUAL(memcmp(df, ds, n * sizeof *df), 0);
    mem_free(tf);
    mem_free(ts);
    mat_free(df);
    mat_free(ds);
}

static void test_assign_fast_vs_slow(void)
{
    rng r;
    rng_seed(&r, 5);
    static const size_t shapes[][3] = {{1, 1, 1},   {7, 3, 2},    {100, 16, 16}, {257, 4, 33},
                                       {600, 9, 5}, {513, 2, 64}, {40, 25, 256}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t n = shapes[s][0], d = shapes[s][1], K = shapes[s][2];
        double *x = rand_mat(&r, n, d, 1.0), *c = rand_mat(&r, K, d, 1.0);
        fast_vs_slow(x, c, n, d, K);
        mat_free(x);
        mat_free(c);
    }
    /* The demo's patches against a learned codebook. */
    size_t n, d;
    double *x = demo_patches(10, 16, 4, 2, &n, &d);
    vq_fit fit;
    CU_ASSERT_EQUAL_FATAL(vq_kmeans(&fit, x, n, d, 16, 20, 2, NULL), 0);
    fast_vs_slow(x, fit.codebook, n, d, 16);
    vq_fit_free(&fit);
    mat_free(x);
}

/* Where the expanded form ||x||^2 - 2 x.c + ||c||^2 alone goes wrong: a common offset of 1e8
 * makes ||x||^2 ~ 1e16, where doubles are 2 apart; distances 1 and 4 then round alike or
 * swap. The shortlist and the direct recomputation keep the fast form exact. */
static void test_assign_cancellation(void)
{
    size_t n = 64, d = 4, K = 8;
    double *x = mat_new(n, d), *c = mat_new(K, d);
    CU_ASSERT_FATAL(x && c);
    rng r;
    rng_seed(&r, 9);
    for (size_t i = 0; i < n * d; i++)
        x[i] = 1e8 + (double)rng_range(&r, 0, 6);
    for (size_t i = 0; i < K * d; i++)
        c[i] = 1e8 + (double)rng_range(&r, 0, 6) + 0.5;
    fast_vs_slow(x, c, n, d, K);
    /* One hand case: x = 1e8 + 1 against codes 1e8 + 3 (distance 4) and 1e8 (distance 1). */
    double x1 = 1e8 + 1, c1[] = {1e8 + 3, 1e8}, dd;
    int t;
    CU_ASSERT_EQUAL(vq_assign(&t, &dd, &x1, c1, 1, 1, 2, NULL), 0);
    CU_ASSERT_EQUAL(t, 1);
    CU_ASSERT_EQUAL(dd, 1.0);
    mat_free(x);
    mat_free(c);
}

/* ---- Lloyd and k-means ---- */

static void test_lloyd_hand(void)
{
    double x[] = {0, 1, 2, 10, 11, 12}, c[] = {0, 0, 7}, shift[3];
    int t[] = {0, 0, 0, 1, 1, 1};
    size_t counts[3];
    CU_ASSERT_EQUAL_FATAL(vq_lloyd_step(c, shift, counts, x, t, 6, 1, 3, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(c[0], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c[1], 11.0, 1e-15);
    CU_ASSERT_EQUAL(c[2], 7.0); /* nobody chose code 2: it keeps its vector */
    CU_ASSERT_DOUBLE_EQUAL(shift[0], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(shift[1], 11.0, 1e-15);
    CU_ASSERT_EQUAL(shift[2], 0.0);
    CU_ASSERT_EQUAL(counts[0], 3);
    CU_ASSERT_EQUAL(counts[1], 3);
    CU_ASSERT_EQUAL(counts[2], 0);
    /* 2-D mean and shift: (0,0), (2,0), (1,3) -> (1, 1); from (1, 4) it moves 3. */
    double x2[] = {0, 0, 2, 0, 1, 3}, c2[] = {1, 4};
    int t2[] = {0, 0, 0};
    CU_ASSERT_EQUAL(vq_lloyd_step(c2, shift, NULL, x2, t2, 3, 2, 1, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(c2[0], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(c2[1], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(shift[0], 3.0, 1e-15);
    /* A token out of range: EINVAL with the codebook unchanged. */
    int bad[] = {0, 3, 0, 1, 1, 1};
    double keep[] = {5, 6, 7};
    CU_ASSERT_EQUAL(vq_lloyd_step(keep, NULL, NULL, x, bad, 6, 1, 3, NULL), TUTOR_EINVAL);
    bad[1] = -1;
    CU_ASSERT_EQUAL(vq_lloyd_step(keep, NULL, NULL, x, bad, 6, 1, 3, NULL), TUTOR_EINVAL);
    CU_ASSERT(keep[0] == 5 && keep[1] == 6 && keep[2] == 7);
}

static void test_kmeans_hand(void)
{
    double x[] = {0, 1, 2, 10, 11, 12};
    for (uint64_t seed = 1; seed <= 10; seed++) {
        vq_fit fit;
        CU_ASSERT_EQUAL_FATAL(vq_kmeans(&fit, x, 6, 1, 2, 10, seed, NULL), 0);
        double lo = fit.codebook[0] < fit.codebook[1] ? fit.codebook[0] : fit.codebook[1];
        double hi = fit.codebook[0] < fit.codebook[1] ? fit.codebook[1] : fit.codebook[0];
        CU_ASSERT_DOUBLE_EQUAL(lo, 1.0, 1e-12);
        CU_ASSERT_DOUBLE_EQUAL(hi, 11.0, 1e-12);
        CU_ASSERT(fit.converged);
        /* (1 + 0 + 1) * 2 / 6 values. */
        CU_ASSERT_DOUBLE_EQUAL(fit.distortion[fit.iters_run], 4.0 / 6.0, 1e-12);
        CU_ASSERT_EQUAL(fit.usage[0], 3);
        CU_ASSERT_EQUAL(fit.usage[1], 3);
        CU_ASSERT_EQUAL(fit.tokens[0], fit.tokens[2]);
        CU_ASSERT_NOT_EQUAL(fit.tokens[0], fit.tokens[3]);
        vq_fit_free(&fit);
    }
    /* iters = 0: seeding and one assignment only. */
    vq_fit fit;
    CU_ASSERT_EQUAL(vq_kmeans(&fit, x, 6, 1, 2, 0, 1, NULL), 0);
    CU_ASSERT_EQUAL(fit.iters_run, 0);
    CU_ASSERT_EQUAL(fit.converged, 0);
    vq_fit_free(&fit);
    vq_fit_free(&fit); /* twice is fine: zeroed */
    vq_fit_free(NULL);
}

static void test_kmeans_monotone(void)
{
    size_t n, d;
    double *x = demo_patches(20, 16, 4, 4, &n, &d);
    static const size_t Ks[] = {2, 4, 16, 64};
    for (size_t a = 0; a < sizeof Ks / sizeof Ks[0]; a++)
        for (uint64_t seed = 1; seed <= 8; seed++) {
            vq_fit fit;
            CU_ASSERT_EQUAL_FATAL(vq_kmeans(&fit, x, n, d, Ks[a], 100, seed, NULL), 0);
            CU_ASSERT(fit.iters_run >= 1);
            for (size_t it = 1; it <= fit.iters_run; it++)
                if (!(fit.distortion[it] <= fit.distortion[it - 1] * (1 + TOL_MONO))) {
                    CU_FAIL("k-means increased the distortion");
                    fprintf(stderr, "\n  K = %zu, seed %llu, round %zu: %.17g -> %.17g\n", Ks[a],
                            (unsigned long long)seed, it, fit.distortion[it - 1],
                            fit.distortion[it]);
                }
            /* The fit is self-consistent: tokens are the assignment of the final codebook,
             * usage counts them, the last distortion is their mean squared distance. */
            int *t = mem_calloc(n, sizeof *t);
            double *dist = mat_new(n, 1);
            size_t *u = mem_calloc(Ks[a], sizeof *u);
            CU_ASSERT_FATAL(t && dist && u);
            vq_assign_slow(t, dist, x, fit.codebook, n, d, Ks[a]);
            CU_ASSERT_EQUAL(memcmp(t, fit.tokens, n * sizeof *t), 0);
            vq_usage(u, t, n, Ks[a]);
            CU_ASSERT_EQUAL(memcmp(u, fit.usage, Ks[a] * sizeof *u), 0);
            double s = 0;
            for (size_t i = 0; i < n; i++)
                s += dist[i];
            CU_ASSERT_DOUBLE_EQUAL(fit.distortion[fit.iters_run], s / (double)(n * d), 1e-15);
            if (fit.converged) {
                /* Converged: one more update moves nothing further than rounding. */
                double shift[64];
                vq_lloyd_step(fit.codebook, shift, NULL, x, fit.tokens, n, d, Ks[a], NULL);
                for (size_t k = 0; k < Ks[a]; k++)
                    CU_ASSERT(shift[k] <= 1e-12);
            }
            mem_free(t);
            mat_free(dist);
            mem_free(u);
            vq_fit_free(&fit);
        }
    mat_free(x);
}

static void test_kmeanspp(void)
{
    /* Four tight clusters 1000 apart: D^2 sampling puts one code in each (a second code in
     * a cluster has probability about 1e-10 per draw). */
    size_t n = 40, d = 2, K = 4;
    double *x = mat_new(n, d), *c = mat_new(K, d);
    CU_ASSERT_FATAL(x && c);
    rng r;
    rng_seed(&r, 1);
    for (size_t i = 0; i < n; i++) {
        x[i * d] = 1000.0 * (double)(i % 4) + 0.01 * rng_gauss(&r);
        x[i * d + 1] = 0.01 * rng_gauss(&r);
    }
    for (uint64_t seed = 1; seed <= 20; seed++) {
        rng s;
        rng_seed(&s, seed);
        CU_ASSERT_EQUAL_FATAL(vq_seed_pp(c, 0, K, x, n, d, &s, NULL), 0);
        int seen[4] = {0};
        for (size_t k = 0; k < K; k++)
            seen[(int)floor(c[k * d] / 1000.0 + 0.5)]++;
        CU_ASSERT(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1);
    }
    /* Given rows are kept; have == K does nothing; have > K is refused. */
    double keep[8] = {5, 5, 6, 6, 0, 0, 0, 0};
    memcpy(c, keep, sizeof keep);
    CU_ASSERT_EQUAL(vq_seed_pp(c, 2, 4, x, n, d, &r, NULL), 0);
    CU_ASSERT(c[0] == 5 && c[1] == 5 && c[2] == 6 && c[3] == 6);
    CU_ASSERT_EQUAL(vq_seed_pp(c, 4, 4, x, n, d, &r, NULL), 0);
    CU_ASSERT_EQUAL(vq_seed_pp(c, 5, 4, x, n, d, &r, NULL), TUTOR_EINVAL);
    mat_free(x);
    mat_free(c);
    /* More codes than distinct points: the extra codes are duplicates, dead. */
    double p[] = {0, 0, 3, 3, 3};
    vq_fit fit;
    CU_ASSERT_EQUAL_FATAL(vq_kmeans(&fit, p, 5, 1, 6, 10, 3, NULL), 0);
    CU_ASSERT_EQUAL(vq_dead_codes(fit.usage, 6), 4);
    CU_ASSERT_EQUAL(fit.distortion[fit.iters_run], 0.0);
    CU_ASSERT(fit.empty_events >= 4);
    vq_fit_free(&fit);
}

/* ---- statistics ---- */

static void test_stats(void)
{
    size_t u[256];
    for (size_t K = 1; K <= 256; K *= 2) {
        for (size_t k = 0; k < K; k++)
            u[k] = 7;
        CU_ASSERT_DOUBLE_EQUAL(vq_perplexity(u, K), (double)K, 1e-12 * (double)K);
        CU_ASSERT_EQUAL(vq_dead_codes(u, K), 0);
    }
    size_t one[4] = {0, 9, 0, 0}, none[3] = {0, 0, 0}, hand[3] = {1, 1, 2};
    CU_ASSERT_DOUBLE_EQUAL(vq_perplexity(one, 4), 1.0, 1e-15);
    CU_ASSERT_EQUAL(vq_dead_codes(one, 4), 3);
    CU_ASSERT_EQUAL(vq_perplexity(none, 3), 0.0);
    /* p = (1/4, 1/4, 1/2): entropy 1.5 bits, perplexity 2^1.5. */
    CU_ASSERT_DOUBLE_EQUAL(vq_perplexity(hand, 3), pow(2.0, 1.5), 1e-12);
    int t[] = {2, 0, 2, 1};
    size_t us[3];
    CU_ASSERT_EQUAL(vq_usage(us, t, 4, 3), 0);
    CU_ASSERT(us[0] == 1 && us[1] == 1 && us[2] == 2);
    CU_ASSERT_EQUAL(vq_usage(us, t, 4, 2), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_usage(us, t, 4, 0), TUTOR_EINVAL);
    /* mse, reconstruction, stats_of. */
    double a[] = {0, 1, 2}, b[] = {1, 1, 0};
    CU_ASSERT_DOUBLE_EQUAL(vq_mse(a, b, 3), 5.0 / 3.0, 1e-15);
    CU_ASSERT_EQUAL(vq_mse(a, b, 0), 0.0);
    double im[2];
    vq_image_mse(im, (double[]){0, 2, 1, 1}, (double[]){0, 0, 1, 2}, 2, 2);
    CU_ASSERT_DOUBLE_EQUAL(im[0], 2.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(im[1], 0.5, 1e-15);
    double x[] = {0, 0, 1, 1, 5, 6}, cb[] = {0, 1, 5, 5, 9, 9}, xhat[6];
    int tk[] = {0, 0, 1};
    size_t use[3];
    CU_ASSERT_EQUAL(vq_reconstruct(xhat, tk, cb, 3, 2, 3), 0);
    CU_ASSERT(xhat[0] == 0 && xhat[1] == 1 && xhat[2] == 0 && xhat[3] == 1 && xhat[4] == 5 &&
              xhat[5] == 5);
    tk[2] = 3;
    CU_ASSERT_EQUAL(vq_reconstruct(xhat, tk, cb, 3, 2, 3), TUTOR_EINVAL);
    tk[2] = 1;
    vq_usage(use, tk, 3, 3);
    vq_stats st;
    CU_ASSERT_EQUAL(vq_stats_of(&st, x, tk, cb, use, 3, 2, 3, 3, 0.25), 0);
    CU_ASSERT_DOUBLE_EQUAL(st.mse, vq_mse(x, xhat, 6), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(st.mse, 3.0 / 6.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(st.commitment, 0.25 * st.codebook_loss, 1e-15);
    CU_ASSERT_EQUAL(st.dead, 1);
    CU_ASSERT_DOUBLE_EQUAL(st.bits_per_image, 3.0 * log2(3.0), 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(st.entropy_bits, 3.0 * log2(vq_perplexity(use, 3)), 1e-12);
    CU_ASSERT_EQUAL(vq_stats_of(&st, x, tk, cb, use, 3, 2, 3, 0, 0.25), TUTOR_EINVAL);
}

static void test_rate_distortion(void)
{
    size_t n, d;
    double *x = demo_patches(10, 16, 4, 1, &n, &d);
    vq_rd_point pts[VQ_RD_MAX];
    size_t np;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        CU_ASSERT_EQUAL_FATAL(vq_rate_distortion(pts, &np, x, n, d, 16, 256, 50, seed), 0);
        CU_ASSERT_EQUAL_FATAL(np, 8);
        for (size_t i = 0; i < np; i++) {
            CU_ASSERT_EQUAL(pts[i].K, (size_t)2 << i);
            CU_ASSERT_DOUBLE_EQUAL(pts[i].bits_per_image, 16.0 * (double)(i + 1), 1e-12);
            CU_ASSERT(pts[i].entropy_bits <= pts[i].bits_per_image + 1e-9);
            if (i)
                CU_ASSERT(pts[i].mse <= pts[i - 1].mse * (1 + TOL_MONO));
        }
        CU_ASSERT(pts[0].mse > 0.01); /* two codes cannot draw ten images */
        CU_ASSERT(pts[np - 1].mse < pts[0].mse / 10);
    }
    /* K = 256 > n = 160 from scratch: k-means++ takes every distinct patch before any
     * duplicate (D^2 > 0 until then), so nothing is lost and the extra codes are dead. */
    vq_fit fit;
    CU_ASSERT_EQUAL_FATAL(vq_kmeans(&fit, x, n, d, 256, 10, 1, NULL), 0);
    CU_ASSERT_EQUAL(fit.distortion[0], 0.0);
    CU_ASSERT(vq_dead_codes(fit.usage, 256) >= 256 - n);
    vq_fit_free(&fit);
    CU_ASSERT_EQUAL(vq_rate_distortion(pts, &np, x, n, d, 16, 3, 10, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_rate_distortion(pts, &np, x, n, d, 16, 1, 10, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_rate_distortion(pts, &np, x, n, d, 0, 4, 10, 1), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_rate_distortion(pts, &np, x, n, d, 16, 2048, 10, 1), TUTOR_ETOOBIG);
    mat_free(x);
}

/* ---- VQ-VAE terms ---- */

static double codebook_term(const double *z, const int *t, const double *e, size_t n, size_t d,
                            size_t K)
{
    double l;
    vq_vae_losses(&l, NULL, z, t, e, n, d, K, 0.25);
    return l;
}

static void test_vae(void)
{
    rng r;
    rng_seed(&r, 21);
    size_t n = 12, d = 3, K = 4;
    double *z = rand_mat(&r, n, d, 1.0), *e = rand_mat(&r, K, d, 1.0);
    int t[12];
    for (size_t i = 0; i < n; i++)
        t[i] = (int)(i % 3); /* code 3 is dead */
    double cl, cm;
    CU_ASSERT_EQUAL_FATAL(vq_vae_losses(&cl, &cm, z, t, e, n, d, K, 0.25), 0);
    double s = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            s += (z[i * d + j] - e[t[i] * d + j]) * (z[i * d + j] - e[t[i] * d + j]);
    CU_ASSERT_DOUBLE_EQUAL(cl, s / (double)(n * d), 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(cm, 0.25 * cl, 1e-15);
    /* Gradients against central differences. */
    double gz[36], ge[12], gzq[36];
    mat_gauss(gzq, n * d, &r, 1.0);
    CU_ASSERT_EQUAL_FATAL(vq_vae_grads(gz, ge, z, t, e, NULL, n, d, K, 0.25), 0);
    double h = 1e-6;
    for (size_t i = 0; i < K * d; i++) {
        double keep = e[i];
        e[i] = keep + h;
        double up = codebook_term(z, t, e, n, d, K);
        e[i] = keep - h;
        double down = codebook_term(z, t, e, n, d, K);
        e[i] = keep;
        CU_ASSERT_DOUBLE_EQUAL(ge[i], (up - down) / (2 * h), 1e-8);
    }
    for (size_t i = 0; i < n * d; i++) {
        double keep = z[i];
        z[i] = keep + h;
        double up = 0.25 * codebook_term(z, t, e, n, d, K);
        z[i] = keep - h;
        double down = 0.25 * codebook_term(z, t, e, n, d, K);
        z[i] = keep;
        CU_ASSERT_DOUBLE_EQUAL(gz[i], (up - down) / (2 * h), 1e-8);
    }
    /* The dead code gets no gradient at all. */
    for (size_t j = 0; j < d; j++)
        CU_ASSERT_EQUAL(ge[3 * d + j], 0.0);
    /* Straight-through: the decoder's gradient reaches z unchanged, plus commitment. */
    double gz2[36];
    CU_ASSERT_EQUAL(vq_vae_grads(gz2, NULL, z, t, e, gzq, n, d, K, 0.25), 0);
    for (size_t i = 0; i < n * d; i++)
        CU_ASSERT_DOUBLE_EQUAL(gz2[i] - gzq[i], gz[i], 1e-15);
    /* A gradient step on the codebook term with lr = n d / (2 n_k) is the Lloyd update. */
    double lloyd[12], step[12];
    memcpy(lloyd, e, sizeof lloyd);
    memcpy(step, e, sizeof step);
    CU_ASSERT_EQUAL(vq_lloyd_step(lloyd, NULL, NULL, z, t, n, d, K, NULL), 0);
    for (size_t k = 0; k < K; k++) {
        size_t nk = 0;
        for (size_t i = 0; i < n; i++)
            nk += (size_t)t[i] == k;
        if (nk)
            for (size_t j = 0; j < d; j++)
                step[k * d + j] -= (double)(n * d) / (2.0 * (double)nk) * ge[k * d + j];
    }
    for (size_t i = 0; i < K * d; i++)
        CU_ASSERT_DOUBLE_EQUAL(step[i], lloyd[i], 1e-12);
    /* Bad arguments. */
    CU_ASSERT_EQUAL(vq_vae_losses(&cl, &cm, z, t, e, n, d, K, -1.0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_vae_losses(&cl, &cm, z, t, e, n, d, K, NAN), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_vae_losses(&cl, &cm, z, t, e, n, d, 2, 0.25), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_vae_grads(gz, ge, z, t, e, NULL, 0, d, K, 0.25), TUTOR_EINVAL);
    mat_free(z);
    mat_free(e);
}

/* ---- the demo, traces ---- */

static int same_reals(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_demo(void)
{
    vq_opts o;
    vq_opts_default(&o);
    CU_ASSERT_EQUAL(o.K, 16);
    CU_ASSERT_EQUAL(o.patch, 4);
    CU_ASSERT_EQUAL(o.side, 16);
    CU_ASSERT_DOUBLE_EQUAL(o.beta, 0.25, 0);
    vq_demo dm;
    CU_ASSERT_EQUAL_FATAL(vq_demo_run(&dm, &o, NULL), 0);
    CU_ASSERT_EQUAL(dm.n, o.images * 16);
    CU_ASSERT_EQUAL(o.images, 40);
    CU_ASSERT_EQUAL(dm.d, 16);
    CU_ASSERT_EQUAL(dm.per_image, 16);
    size_t total = 0;
    for (size_t k = 0; k < o.K; k++)
        total += dm.fit.usage[k];
    CU_ASSERT_EQUAL(total, dm.n);
    /* The reconstruction is the codes put back: patch i of recon = codebook[token i]. */
    double *xr = mat_new(dm.n, dm.d);
    CU_ASSERT_FATAL(xr != NULL);
    vq_patchify(xr, dm.recon, o.images, o.side, o.patch);
    for (size_t i = 0; i < dm.n; i++)
        CU_ASSERT(
            same_reals(xr + i * dm.d, dm.fit.codebook + (size_t)dm.fit.tokens[i] * dm.d, dm.d));
    /* Equal-sized images: the overall MSE is the mean of the per-image ones. */
    double mean = 0;
    for (size_t m = 0; m < o.images; m++)
        mean += dm.image_mse[m] / (double)o.images;
    CU_ASSERT_DOUBLE_EQUAL(dm.stats.mse, mean, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(dm.stats.mse, dm.fit.distortion[dm.fit.iters_run], 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(dm.stats.bits_per_image, 64.0, 1e-12);
    CU_ASSERT(dm.stats.perplexity >= 1.0 && dm.stats.perplexity <= 16.0);
    mat_free(xr);
    vq_demo_free(&dm);
    vq_demo_free(&dm);
}

static void test_traced_same(void)
{
    vq_opts o;
    vq_opts_default(&o);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        o.seed = seed;
        o.K = seed == 3 ? 64 : 16; /* 64 codes: some dead */
        vq_demo a, b;
        trace *tr = trace_new(0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
        trace_set_listing(tr, vq_listing, vq_listing_len);
        CU_ASSERT_EQUAL_FATAL(vq_demo_run(&a, &o, NULL), 0);
        CU_ASSERT_EQUAL_FATAL(vq_demo_run(&b, &o, tr), 0);
        CU_ASSERT(same_reals(a.fit.codebook, b.fit.codebook, o.K * a.d));
        CU_ASSERT(memcmp(a.fit.tokens, b.fit.tokens, a.n * sizeof *a.fit.tokens) == 0);
        CU_ASSERT(same_reals(a.recon, b.recon, o.images * o.side * o.side));
        CU_ASSERT(same_reals(a.fit.distortion, b.fit.distortion, a.fit.iters_run + 1));
        CU_ASSERT_EQUAL(a.fit.iters_run, b.fit.iters_run);
        CU_ASSERT(memcmp(&a.stats, &b.stats, sizeof a.stats) == 0);
        /* The trace: every step names a listing line; the pieces the UI needs are there. */
        size_t len = trace_len(tr);
        CU_ASSERT(len > 20);
        int seen_pair = 0, seen_d2 = 0, seen_keep = 0, seen_usage = 0;
        for (size_t i = 0; i < len; i++) {
            const trace_frame *f = trace_at(tr, i);
            CU_ASSERT(f->line >= 1 && f->line <= (int)vq_listing_len);
            const trace_snap *sb = trace_find(f, "side_by_side");
            if (sb) {
                /* Pair m (in order): image m, a blank column, its reconstruction. */
                size_t m = (size_t)seen_pair++, s = o.side, w = 2 * s + 1;
                for (size_t y = 0; y < s && m < o.images; y++) {
                    CU_ASSERT(same_reals(sb->reals + y * w, b.images + m * s * s + y * s, s));
                    CU_ASSERT(
                        same_reals(sb->reals + y * w + s + 1, b.recon + m * s * s + y * s, s));
                }
                CU_ASSERT(sb->rows == o.side && sb->cols == 2 * o.side + 1);
                CU_ASSERT(isnan(sb->reals[o.side]));
            }
            const trace_snap *d2 = trace_find(f, "d2");
            if (d2) {
                seen_d2 = 1;
                CU_ASSERT_EQUAL(d2->cols, o.K);
            }
            if (f->line == 8 && strstr(f->msg, "keeps its vector"))
                seen_keep = 1;
            if (trace_find(f, "usage"))
                seen_usage = 1;
        }
        CU_ASSERT(seen_pair && seen_d2 && seen_usage);
        /* The state the trace ends on is the fit's final one. */
        const trace_snap *tk = trace_latest(tr, len - 1, "tokens");
        const trace_snap *cb = trace_latest(tr, len - 1, "codebook");
        CU_ASSERT_PTR_NOT_NULL_FATAL(tk);
        CU_ASSERT_PTR_NOT_NULL_FATAL(cb);
        CU_ASSERT_EQUAL_FATAL(tk->cols, b.n);
        for (size_t i = 0; i < b.n; i++)
            CU_ASSERT_EQUAL(tk->ints[i], b.fit.tokens[i]);
        CU_ASSERT(cb->rows == o.K && cb->cols == b.d &&
                  same_reals(cb->reals, b.fit.codebook, o.K * b.d));
        if (b.fit.empty_events && b.fit.iters_run)
            CU_ASSERT(seen_keep || o.K > VQ_TRACE_ROWS);
        strbuf js = STRBUF_INIT;
        CU_ASSERT_EQUAL(trace_json(tr, &js), 0);
        CU_ASSERT(th_json_valid(strbuf_str(&js)));
        strbuf_free(&js);
        trace_free(tr);
        vq_demo_free(&a);
        vq_demo_free(&b);
    }
}

static void test_trace_empty_code(void)
{
    /* The Lloyd update says, on line 8, that an empty code keeps its vector. */
    double x[] = {0, 1, 2, 10, 11, 12}, c[] = {0, 0, 7};
    int t[] = {0, 0, 0, 1, 1, 1};
    trace *tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    trace_set_listing(tr, vq_listing, vq_listing_len);
    CU_ASSERT_EQUAL(vq_lloyd_step(c, NULL, NULL, x, t, 6, 1, 3, tr), 0);
    int found = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *f = trace_at(tr, i);
        if (f->line == 8 && strstr(f->msg, "code 2") && strstr(f->msg, "keeps its vector"))
            found = 1;
    }
    CU_ASSERT(found);
    const trace_snap *cb = trace_latest(tr, trace_len(tr) - 1, "codebook");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cb);
    CU_ASSERT(cb->reals[0] == 1.0 && cb->reals[1] == 11.0 && cb->reals[2] == 7.0);
    const trace_snap *cnt = trace_latest(tr, trace_len(tr) - 1, "counts");
    CU_ASSERT_PTR_NOT_NULL_FATAL(cnt);
    CU_ASSERT(cnt->ints[0] == 3 && cnt->ints[1] == 3 && cnt->ints[2] == 0);
    trace_free(tr);
    /* The assignment pass: one step per patch with its distances, the winner marked. */
    tr = trace_new(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
    double cc[] = {1, 11};
    int tok[6];
    CU_ASSERT_EQUAL(vq_assign(tok, NULL, x, cc, 6, 1, 2, tr), 0);
    CU_ASSERT_EQUAL(trace_len(tr), 7);
    const trace_frame *f = trace_at(tr, 3);
    CU_ASSERT_EQUAL(f->line, 5);
    CU_ASSERT_PTR_NOT_NULL(strstr(f->msg, "patch 3 -> token 1"));
    const trace_snap *d2 = trace_find(f, "d2");
    CU_ASSERT_PTR_NOT_NULL_FATAL(d2);
    CU_ASSERT(d2->reals[0] == 81.0 && d2->reals[1] == 1.0);
    CU_ASSERT(f->nmarks == 1 && f->marks[0].row == 1);
    trace_free(tr);
}

static void test_validation(void)
{
    vq_opts o;
    vq_demo dm;
    static const struct {
        size_t K, patch, iters, images, side;
        double beta;
        int want;
    } cases[] = {
        {16, 3, 10, 4, 16, 0.25, TUTOR_EINVAL}, /* 3 does not divide 16 */
        {0, 4, 10, 4, 16, 0.25, TUTOR_EINVAL},  /* K = 0 */
        {16, 0, 10, 4, 16, 0.25, TUTOR_EINVAL}, /* patch 0 */
        {16, 4, 10, 0, 16, 0.25, TUTOR_EINVAL}, /* no images */
        {16, 4, 10, 4, 0, 0.25, TUTOR_EINVAL},  /* side 0 */
        {16, 4, 10, 4, 16, -1.0, TUTOR_EINVAL}, /* beta < 0 */
        {VQ_MAX_K + 1, 4, 10, 4, 16, 0.25, TUTOR_ETOOBIG},
        {16, 32, 10, 4, 32, 0.25, TUTOR_ETOOBIG}, /* patch over its cap */
        {16, 4, VQ_MAX_ITERS + 1, 4, 16, 0.25, TUTOR_ETOOBIG},
        {16, 4, 10, VQ_MAX_IMAGES + 1, 16, 0.25, TUTOR_ETOOBIG},
        {16, 4, 10, 4, VQ_MAX_SIDE * 2, 0.25, TUTOR_ETOOBIG},
        {16, 1, 10, VQ_MAX_IMAGES, 64, 0.25, TUTOR_ETOOBIG}, /* 4M patches */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vq_opts_default(&o);
        o.K = cases[i].K;
        o.patch = cases[i].patch;
        o.iters = cases[i].iters;
        o.images = cases[i].images;
        o.side = cases[i].side;
        o.beta = cases[i].beta;
        int rc = vq_demo_run(&dm, &o, NULL);
        CU_ASSERT_EQUAL(rc, cases[i].want);
        if (rc != cases[i].want)
            fprintf(stderr, "\n  case %zu: %d, wanted %d\n", i, rc, cases[i].want);
        CU_ASSERT_PTR_NULL(dm.images);
    }
    double x[4] = {0}, c[4] = {0}, dist[4];
    int t[4];
    vq_fit fit;
    CU_ASSERT_EQUAL(vq_assign(t, dist, x, c, 0, 1, 1, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_assign(t, dist, x, c, 1, 0, 1, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_assign(t, dist, x, c, 1, 1, 0, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_assign(t, dist, x, c, 1, 1, VQ_MAX_K + 1, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(vq_assign(t, dist, x, c, 1, VQ_MAX_DIM + 1, 1, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(vq_assign(t, dist, x, c, VQ_MAX_POINTS + 1, 1, 1, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(vq_assign_slow(t, dist, x, c, 1, 1, 0), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(vq_kmeans(&fit, x, 4, 1, 0, 10, 1, NULL), TUTOR_EINVAL);
    CU_ASSERT_PTR_NULL(fit.codebook);
    CU_ASSERT_EQUAL(vq_kmeans(&fit, x, 4, 1, 2, VQ_MAX_ITERS + 1, 1, NULL), TUTOR_ETOOBIG);
    CU_ASSERT_EQUAL(vq_lloyd_step(c, NULL, NULL, x, t, 0, 1, 1, NULL), TUTOR_EINVAL);
}

/* ---- allocation failures ---- */

typedef struct sweep_ctx {
    int what, traced;
} sweep_ctx;

static int sweep_body(void *p)
{
    const sweep_ctx *ctx = p;
    trace *tr = NULL;
    if (ctx->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    double x[] = {0, 1, 2, 10, 11, 12, 3, 4}, c[] = {0, 5, 7}, dist[8];
    int t[] = {0, 0, 0, 1, 1, 1, 0, 1};
    int rc = 0;
    switch (ctx->what) {
    case 0: rc = vq_assign(t, dist, x, c, 8, 1, 3, tr); break;
    case 1: rc = vq_assign(t, NULL, x, c, 8, 1, 3, tr); break;
    case 2: rc = vq_lloyd_step(c, NULL, NULL, x, t, 8, 1, 3, tr); break;
    case 3: {
        vq_fit fit;
        rc = vq_kmeans(&fit, x, 4, 2, 3, 10, 1, tr);
        vq_fit_free(&fit);
        break;
    }
    case 4: {
        vq_rd_point pts[VQ_RD_MAX];
        size_t np;
        rc = vq_rate_distortion(pts, &np, x, 8, 1, 2, 8, 10, 1);
        break;
    }
    case 5: {
        rng r;
        rng_seed(&r, 1);
        rc = vq_seed_pp(c, 0, 3, x, 8, 1, &r, tr);
        break;
    }
    default: {
        vq_opts o;
        vq_opts_default(&o);
        o.images = 3;
        o.side = 8;
        o.K = 4;
        vq_demo dm;
        rc = vq_demo_run(&dm, &o, tr);
        vq_demo_free(&dm);
        break;
    }
    }
    trace_free(tr);
    return rc;
}

static void test_alloc_failures(void)
{
    for (int what = 0; what <= 6; what++)
        for (int traced = 0; traced < 2; traced++) {
            if (what == 4 && traced)
                continue; /* untraced by design */
            sweep_ctx ctx = {what, traced};
            int checked = th_alloc_sweep(sweep_body, &ctx, 0);
            CU_ASSERT(checked >= 1);
        }
}

/* ---- the topic: tutor run vq, tutor plot vq ---- */

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;
static char tmpdir[64];

/* The number after "key": in s, or NAN. */
static double json_number(const char *s, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(s, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* The default run's JSON is the library's default demo: the same tokens, usage, MSE,
 * perplexity and loss terms (printed so that they read back exactly), and result = tokens. */
static void test_cli_json(void)
{
    CU_ASSERT_EQUAL_FATAL(th_cli(&out, &err, "run", "vq", "--json", NULL), 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT_FATAL(th_json_valid(s));
    CU_ASSERT_EQUAL(err.len, 0);
    CU_ASSERT(strncmp(s, "{\"topic\": \"vq\", \"result\": [", 27) == 0);
    vq_opts o;
    vq_opts_default(&o);
    vq_demo dm;
    CU_ASSERT_EQUAL_FATAL(vq_demo_run(&dm, &o, NULL), 0);
    static double tok[1024], res[1024], use[64];
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(s, "tokens", tok, 1024), (int)dm.n);
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(s, "result", res, 1024), (int)dm.n);
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(s, "usage", use, 64), (int)o.K);
    for (size_t i = 0; i < dm.n; i++) {
        CU_ASSERT_EQUAL(tok[i], dm.fit.tokens[i]);
        CU_ASSERT_EQUAL(res[i], tok[i]);
    }
    for (size_t k = 0; k < o.K; k++)
        CU_ASSERT_EQUAL(use[k], (double)dm.fit.usage[k]);
    CU_ASSERT_EQUAL(json_number(s, "mse"), dm.stats.mse);
    CU_ASSERT_EQUAL(json_number(s, "perplexity"), dm.stats.perplexity);
    CU_ASSERT_EQUAL(json_number(s, "commitment"), dm.stats.commitment);
    CU_ASSERT_EQUAL(json_number(s, "codebook_loss"), dm.stats.codebook_loss);
    CU_ASSERT_EQUAL(json_number(s, "bits_per_image"), 64.0);
    CU_ASSERT_EQUAL(json_number(s, "images"), (double)o.images);
    /* codebook: K rows of d; reconstruction: one row of S*S pixels per image. */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"codebook\": [["));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"reconstruction\": [["));
    /* The first row of the reconstruction is image 0 rebuilt, S*S pixels. */
    const char *r0 = strstr(s, "\"reconstruction\": [[");
    CU_ASSERT_PTR_NOT_NULL_FATAL(r0);
    r0 += strlen("\"reconstruction\": [[");
    size_t px = o.side * o.side, got = 0;
    for (char *end; *r0 != ']' && got <= px; got++) {
        double v = strtod(r0, &end);
        CU_ASSERT_FATAL(end != r0);
        CU_ASSERT_EQUAL(v, dm.recon[got]);
        r0 = *end == ',' ? end + 2 : end;
    }
    CU_ASSERT_EQUAL(got, px);
    vq_demo_free(&dm);
    /* --trace adds the steps. */
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "vq", "--images", "2", "--K", "4", "--trace", "--json", NULL), 0);
    CU_ASSERT(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"steps\": ["));
}

static void test_cli_text(void)
{
    CU_ASSERT_EQUAL_FATAL(
        th_cli(&out, &err, "run", "vq", "--K", "4", "--images", "3", "--seed", "2", NULL), 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT_EQUAL(err.len, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "vq: 3 images 16x16 cut into 48 patches of 4x4 (d = 16)"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "result: the tokens, 16 per image"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "image 0 (bars), then rebuilt from its 16 tokens"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "perplexity"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "rate: 16 tokens x log2 4 = 32 bits per image"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "commitment"));
    /* Readable: no line wider than 80 columns. */
    for (const char *p = s; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        CU_ASSERT(len <= 80);
        p += len + (nl != NULL);
    }
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "vq", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "result is the tokens"));
}

/* Hand-worked: rows (0,0), (1,1), (0.9,1), (5,5); codes (0,0), (1,1), (1,1). The third code
 * ties with the second everywhere and loses (lowest k): dead. Squared errors 0, 0, 0.01,
 * 32 over 8 values: MSE 4.00125; usage 1, 3, 0; perplexity exp(H(1/4, 3/4)). */
static void test_cli_files(void)
{
    const char *x = th_write_file(tmpdir, "x.txt", "# rows\n0 0\n1 1\n0.9 1\n5 5\n");
    const char *c = th_write_file(tmpdir, "c.txt", "0 0\n1 1\n1 1\n");
    CU_ASSERT_EQUAL_FATAL(
        th_cli(&out, &err, "run", "vq", "--patches", x, "--codebook", c, "--json", NULL), 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT_FATAL(th_json_valid(s));
    double t[8], u[8];
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(s, "result", t, 8), 4);
    CU_ASSERT(t[0] == 0 && t[1] == 1 && t[2] == 1 && t[3] == 1);
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(s, "usage", u, 8), 3);
    CU_ASSERT(u[0] == 1 && u[1] == 3 && u[2] == 0);
    CU_ASSERT_DOUBLE_EQUAL(json_number(s, "mse"), 32.01 / 8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(json_number(s, "codebook_loss"), 32.01 / 8, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(json_number(s, "commitment"), 0.25 * 32.01 / 8, 1e-12);
    double H = -(0.25 * log(0.25) + 0.75 * log(0.75));
    CU_ASSERT_DOUBLE_EQUAL(json_number(s, "perplexity"), exp(H), 1e-12);
    CU_ASSERT_EQUAL(json_number(s, "dead"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"reconstruction\": [[0, 0], [1, 1], [1, 1], [1, 1]]"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"codebook\": [[0, 0], [1, 1], [1, 1]]"));
    CU_ASSERT_DOUBLE_EQUAL(json_number(s, "bits_per_vector"), log2(3.0), 1e-12);
    /* Text. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "vq", "--patches", x, "--codebook", c, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "quantised with your 3 codes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\n  0 1 1 1\n"));
    /* Learning on the file: K = 2 puts (5, 5) alone. */
    CU_ASSERT_EQUAL_FATAL(
        th_cli(&out, &err, "run", "vq", "--patches", x, "--K", "2", "--json", NULL), 0);
    CU_ASSERT_EQUAL_FATAL(th_json_numbers(strbuf_str(&out), "tokens", t, 8), 4);
    CU_ASSERT(t[0] == t[1] && t[1] == t[2] && t[3] != t[0]);
    /* Code of the three: their mean (1.9/3, 2/3); squared errors sum to 1.27333.., (5, 5)
     * is its own code. */
    double mx = 1.9 / 3, my = 2.0 / 3;
    double sse = mx * mx + my * my + (1 - mx) * (1 - mx) + (1 - my) * (1 - my) +
                 (0.9 - mx) * (0.9 - mx) + (1 - my) * (1 - my);
    CU_ASSERT_DOUBLE_EQUAL(json_number(strbuf_str(&out), "mse"), sse / 8, 1e-12);
    CU_ASSERT_EQUAL(json_number(strbuf_str(&out), "mse"),
                    json_number(strbuf_str(&out), "codebook_loss"));
    /* A codebook quantises to itself. */
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "vq", "--patches", c, "--codebook", c, "--json", NULL), 0);
    CU_ASSERT_EQUAL(th_json_numbers(strbuf_str(&out), "tokens", t, 8), 3);
    CU_ASSERT(t[0] == 0 && t[1] == 1 && t[2] == 1); /* the twin ties and loses */
    CU_ASSERT_EQUAL(json_number(strbuf_str(&out), "mse"), 0);
}

static void test_cli_refusals(void)
{
    const char *x = th_write_file(tmpdir, "x.txt", "0 0\n1 1\n");
    const char *c3 = th_write_file(tmpdir, "c3.txt", "0 0 0\n1 1 1\n");
    const char *nan = th_write_file(tmpdir, "nan.txt", "0 0\n1 nan\n");
    const char *inf = th_write_file(tmpdir, "inf.txt", "0 0\n1 1\n2 inf\n");
    const char *ragged = th_write_file(tmpdir, "ragged.txt", "0 0\n1\n");
    const char *big = th_write_file(tmpdir, "big.txt", "1e200 1e200\n");
    static const struct {
        const char *args[8];
        const char *needle;
    } cases[] = {
        {{"--K", "0"}, "--K"},
        {{"--K", "1025"}, "--K: 1025 is too big"},
        {{"--K", "many"}, "--K"},
        {{"--patch", "5"}, "--patch 5 does not divide --side 16"},
        {{"--patch", "17"}, "--patch"},
        {{"--side", "65"}, "--side"},
        {{"--images", "0"}, "--images"},
        {{"--images", "1024", "--side", "64"}, "pixels; at most"},
        {{"--K", "1024", "--images", "1000", "--iters", "10000"}, "multiply-adds"},
        {{"--iters", "10001"}, "--iters"},
        {{"--beta", "-1"}, "--beta"},
        {{"--beta", "nan"}, "--beta"},
        {{"--codebook", "c.txt"}, "--codebook needs --patches"},
        {{"--patches", "/nonexistent/x.txt"}, "no such file"},
        {{"--frames", "3"}, "--frames"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[12] = {"run", "vq"};
        int argc = 2;
        for (int a = 0; a < 8 && cases[i].args[a]; a++)
            argv[argc++] = (char *)cases[i].args[a];
        int rc = th_cli_argv(&out, &err, argc, argv);
        if (!th_refused(rc, &out, &err, cases[i].needle))
            fprintf(stderr, "\n  case %zu\n", i);
    }
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", x, "--codebook", c3, NULL), &out, &err,
               "--codebook rows have 3 values but --patches rows have 2");
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", nan, "--codebook", x, NULL), &out, &err,
               "nan.txt:2:");
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", x, "--codebook", inf, NULL), &out, &err,
               "inf.txt:3:");
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", ragged, NULL), &out, &err, "--patches");
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", x, "--images", "3", NULL), &out, &err,
               "--images applies to the generated images only");
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", x, "--codebook", x, "--K", "2", NULL),
               &out, &err, "--K: nothing is learned with --codebook");
    th_refused(th_cli(&out, &err, "run", "vq", "--patches", big, "--codebook", x, NULL), &out, &err,
               "overflowed");
}

/* The figures, as text: every one of them, on a small set. */
static void test_cli_plot_dumb(void)
{
    int rc = th_cli(&out, &err, "plot", "vq", "--images", "5", "--K", "4", "--iters", "10",
                    "--format", "dumb", "--out", tmpdir, NULL);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const char *s = strbuf_str(&out);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "VQ: images rebuilt"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "K = 256"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "VQ rate-distortion"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "bits per image"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "VQ codebook usage: 4 codes"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "tutor plot vq --images 5 --K 4 --iters 10"));
    /* The user's vectors: no images to draw, the curve per vector. */
    const char *x = th_write_file(tmpdir, "x.txt", "0 0\n1 1\n0.9 1\n5 5\n");
    rc = th_cli(&out, &err, "plot", "vq", "--patches", x, "--K", "2", "--format", "dumb", "--out",
                tmpdir, NULL);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    s = strbuf_str(&out);
    CU_ASSERT_PTR_NULL(strstr(s, "VQ: images rebuilt"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "bits per vector"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "VQ codebook usage: 2 codes"));
    th_refused(
        th_cli(&out, &err, "plot", "vq", "--patch", "3", "--format", "dumb", "--out", tmpdir, NULL),
        &out, &err, "--patch 3 does not divide");
    /* The figures run k-means up to K = 256: a set the run accepts can be too big for them. */
    th_refused(th_cli(&out, &err, "plot", "vq", "--images", "100", "--side", "32", "--format",
                      "dumb", "--out", tmpdir, NULL),
               &out, &err, "the figures run k-means up to K = 256");
}

/* The UI's `r`: seeded, varied, and every input it draws runs (traced) with valid JSON. */
static void test_cli_random_inputs(void)
{
    int differ = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        strbuf a = STRBUF_INIT, b = STRBUF_INIT;
        CU_ASSERT_EQUAL(topic_vq.random_input(seed, &a), 0);
        CU_ASSERT_EQUAL(topic_vq.random_input(seed, &b), 0);
        CU_ASSERT_STRING_EQUAL(strbuf_str(&a), strbuf_str(&b));
        strbuf_clear(&b);
        CU_ASSERT_EQUAL(topic_vq.random_input(seed + 100, &b), 0);
        differ += strcmp(strbuf_str(&a), strbuf_str(&b)) != 0;
        char **words, *argv[24] = {"run", "vq"};
        int nwords;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&a), &words, &nwords, msg, sizeof msg), 0);
        CU_ASSERT_FATAL(nwords <= 20);
        for (int i = 0; i < nwords; i++)
            argv[2 + i] = words[i];
        argv[2 + nwords] = "--json";
        argv[3 + nwords] = "--trace";
        int rc = th_cli_argv(&out, &err, nwords + 4, argv);
        CU_ASSERT_EQUAL(rc, 0);
        if (rc)
            fprintf(stderr, "\n  vq %s: %s", strbuf_str(&a), strbuf_str(&err));
        CU_ASSERT(th_json_valid(strbuf_str(&out)));
        parse_free_words(words);
        strbuf_free(&a);
        strbuf_free(&b);
    }
    CU_ASSERT(differ >= 15);
}

/* The topic's runner under allocation failures, both modes, traced. */
static int sweep_topic(void *ctx)
{
    const char *const *kv = ctx;
    topic_opt opts[4];
    size_t n = 0;
    for (; n < 4 && kv[2 * n]; n++)
        opts[n] = (topic_opt){kv[2 * n], kv[2 * n + 1]};
    topic_args args = {opts, n, 1};
    trace *tr = trace_new(0);
    if (!tr)
        return TUTOR_ENOMEM;
    topic_out o = {STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = topic_vq.run(&args, tr, &o);
    topic_out_free(&o);
    trace_free(tr);
    return rc;
}

static void test_cli_alloc_failures(void)
{
    const char *x = th_write_file(tmpdir, "x.txt", "0 0\n1 1\n0.9 1\n5 5\n");
    const char *c = th_write_file(tmpdir, "c.txt", "0 0\n1 1\n1 1\n");
    const char *cases[][8] = {
        {"K", "3", "images", "2", "side", "8", "patch", "2"},
        {"patches", x, "codebook", c, NULL, NULL, NULL, NULL},
        {"patches", x, "K", "2", NULL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        CU_ASSERT(th_alloc_sweep(sweep_topic, (void *)cases[i], 0) > 5);
}

static int cli_init(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tutor-vq-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : 1;
}

static int cli_clean(void)
{
    th_remove_tree(tmpdir);
    strbuf_free(&out);
    strbuf_free(&err);
    return 0;
}

void tests_register(void)
{
    static const th_test tests[] = {
        {"images: seeded, in [0, 1], kinds cycle", test_images},
        {"patches: order and round trip", test_patch_order},
        {"assign: hand-worked", test_assign_hand},
        {"assign: ties go to the lowest index", test_assign_ties},
        {"assign: a codebook vector gets its own index", test_assign_own_index},
        {"assign: fast = slow, bit for bit", test_assign_fast_vs_slow},
        {"assign: no cancellation error with a 1e8 offset", test_assign_cancellation},
        {"lloyd: hand-worked, empty code kept", test_lloyd_hand},
        {"kmeans: 1-D, K = 2, hand-worked", test_kmeans_hand},
        {"kmeans: distortion never increases", test_kmeans_monotone},
        {"kmeans++: one code per far cluster; duplicates dead", test_kmeanspp},
        {"stats: perplexity, dead codes, mse, bits", test_stats},
        {"rate-distortion: mse non-increasing in K", test_rate_distortion},
        {"vq-vae: losses, gradients, straight-through", test_vae},
        {"demo: reconstruction and statistics agree", test_demo},
        {"trace: traced and untraced give the same numbers", test_traced_same},
        {"trace: assignment and empty-code steps", test_trace_empty_code},
        {"validation and caps", test_validation},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("vq", tests);
    static const th_test cli_tests[] = {
        {"run vq --json: the library's numbers, result = tokens", test_cli_json},
        {"run vq: readable text; help", test_cli_text},
        {"run vq --patches --codebook: hand-worked", test_cli_files},
        {"bad input: one line, exit 2", test_cli_refusals},
        {"plot vq --format dumb", test_cli_plot_dumb},
        {"random inputs (the UI's r) run", test_cli_random_inputs},
        {"run vq: allocation failures", test_cli_alloc_failures},
        {NULL, NULL},
    };
    CU_pSuite cli = CU_add_suite("vq cli", cli_init, cli_clean);
    for (const th_test *t = cli_tests; cli && t->name; t++)
        CU_add_test(cli, t->name, t->fn);
}
