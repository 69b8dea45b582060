/* vq.c: patches, k-means codebooks, quantisation and its costs (see vq.h). */
#include "vq.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "mat.h"

const char *const vq_listing[] = {
    /* Each line within 33 characters, the width the UI gives the listing. */
    "X = all images' p x p patches",  "c_0 = a patch drawn uniformly",
    "c_j = patch w.p. D^2 / sum D^2", "for each patch i:",
    "  t_i = argmin_k ||x_i-c_k||^2", "for each code k:",
    "  c_k = mean of {x_i: t_i = k}", "  none chose k: c_k kept (dead)",
    "repeat 4-8 until t fixed or T",  "xhat_i = c_{t_i}; back to images",
    "MSE, usage n_k, perplexity",
};
const size_t vq_listing_len = sizeof vq_listing / sizeof vq_listing[0];

/* Rows of scores computed per dgemm by vq_assign: 256 x K doubles (2 MiB at K = 1024). */
#define ASSIGN_BLOCK 256

/* The shortlist margin of vq_assign, relative to ||x||^2 + max ||c||^2 (see vq.h). */
#define ASSIGN_MARGIN 1e-9

static const char *const kind_names[VQ_KIND_COUNT] = {"bars", "disc", "checker", "gradient",
                                                      "noise"};

const char *vq_kind_name(int kind)
{
    return kind >= 0 && kind < VQ_KIND_COUNT ? kind_names[kind] : "?";
}

/* 0 when n vectors of d values against K codes are within the caps, else the error. */
static int check_sizes(size_t n, size_t d, size_t K)
{
    if (!n || !d || !K)
        return TUTOR_EINVAL;
    if (n > VQ_MAX_POINTS || d > VQ_MAX_DIM || K > VQ_MAX_K || mem_mul(n, d) > VQ_MAX_VALUES ||
        mem_mul(K, d) > VQ_MAX_VALUES)
        return TUTOR_ETOOBIG;
    return 0;
}

static int check_tokens(const int *tokens, size_t n, size_t K)
{
    for (size_t i = 0; i < n; i++)
        if (tokens[i] < 0 || (size_t)tokens[i] >= K)
            return TUTOR_EINVAL;
    return 0;
}

/* The direct squared distance, in increasing j: the one order every form uses, so that equal
 * inputs give equal bits. */
static double dist2(const double *a, const double *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) {
        double t = a[j] - b[j];
        s += t * t;
    }
    return s;
}

static int snap_ok(size_t rows, size_t cols)
{
    return !cols || rows <= VQ_TRACE_MAX_CELLS / cols;
}

static void snap_matrix(trace *tr, const char *name, const double *a, size_t rows, size_t cols)
{
    if (snap_ok(rows, cols))
        trace_matrix(tr, name, a, rows, cols);
}

/* Records the n counts v under name, through buf (n int64s the caller allocated up front, so
 * that recording cannot fail on an allocation of ours). */
static void snap_sizes(trace *tr, const char *name, const size_t *v, size_t n, int64_t *buf)
{
    if (!snap_ok(1, n))
        return;
    for (size_t i = 0; i < n; i++)
        buf[i] = (int64_t)v[i];
    trace_int64s(tr, name, buf, n);
}

/* ---- images and patches ---- */

static double clamp01(double v)
{
    return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
}

/* Two grey levels at least 0.3 apart, in random order: every pattern has visible contrast. */
static void two_levels(rng *r, double *lo, double *hi)
{
    double a = 0.35 * rng_uniform(r), b = 0.65 + 0.35 * rng_uniform(r);
    if (rng_next(r) & 1) {
        *lo = a;
        *hi = b;
    } else {
        *lo = b;
        *hi = a;
    }
}

static void make_image(double *img, vq_kind kind, size_t side, rng *r)
{
    double lo, hi;
    double s = (double)side;
    switch (kind) {
    case VQ_BARS: {
        two_levels(r, &lo, &hi);
        int vertical = (int)(rng_next(r) & 1);
        size_t period = (size_t)rng_range(r, 2, side < 8 ? 2 : 8);
        size_t phase = (size_t)rng_range(r, 0, (int64_t)period - 1);
        for (size_t y = 0; y < side; y++)
            for (size_t x = 0; x < side; x++) {
                size_t t = (vertical ? x : y) + phase;
                img[y * side + x] = (t % period) < (period + 1) / 2 ? hi : lo;
            }
        break;
    }
    case VQ_DISC: {
        two_levels(r, &lo, &hi);
        double cx = s * (0.25 + 0.5 * rng_uniform(r)), cy = s * (0.25 + 0.5 * rng_uniform(r));
        double rad = s * (0.15 + 0.25 * rng_uniform(r));
        for (size_t y = 0; y < side; y++)
            for (size_t x = 0; x < side; x++) {
                double dx = (double)x + 0.5 - cx, dy = (double)y + 0.5 - cy;
                img[y * side + x] = dx * dx + dy * dy <= rad * rad ? hi : lo;
            }
        break;
    }
    case VQ_CHECKER: {
        two_levels(r, &lo, &hi);
        size_t cell = (size_t)1 << rng_range(r, 0, 2); /* 1, 2 or 4 pixels */
        for (size_t y = 0; y < side; y++)
            for (size_t x = 0; x < side; x++)
                img[y * side + x] = ((x / cell + y / cell) & 1) ? hi : lo;
        break;
    }
    case VQ_GRADIENT: {
        double angle = 2.0 * 3.14159265358979323846 * rng_uniform(r);
        double ux = cos(angle), uy = sin(angle);
        /* Project every pixel on the direction, then stretch the range to [0, 1]. */
        double mn = INFINITY, mx = -INFINITY;
        for (size_t y = 0; y < side; y++)
            for (size_t x = 0; x < side; x++) {
                double t = ux * (double)x + uy * (double)y;
                img[y * side + x] = t;
                mn = t < mn ? t : mn;
                mx = t > mx ? t : mx;
            }
        double span = mx - mn > 0.0 ? mx - mn : 1.0;
        for (size_t i = 0; i < side * side; i++)
            img[i] = clamp01((img[i] - mn) / span);
        break;
    }
    case VQ_NOISE:
    default: {
        static const double levels[4] = {0.05, 0.1, 0.2, 0.3};
        double base = 0.3 + 0.4 * rng_uniform(r);
        double sigma = levels[rng_range(r, 0, 3)];
        for (size_t i = 0; i < side * side; i++)
            img[i] = clamp01(base + sigma * rng_gauss(r));
        break;
    }
    }
}

int vq_images(double *pix, int *kinds, size_t count, size_t side, uint64_t seed)
{
    if (!count || !side)
        return TUTOR_EINVAL;
    if (count > VQ_MAX_IMAGES || side > VQ_MAX_SIDE)
        return TUTOR_ETOOBIG;
    rng r;
    rng_seed(&r, seed);
    for (size_t m = 0; m < count; m++) {
        vq_kind kind = (vq_kind)(m % VQ_KIND_COUNT);
        make_image(pix + m * side * side, kind, side, &r);
        if (kinds)
            kinds[m] = (int)kind;
    }
    return 0;
}

static int check_grid(size_t count, size_t side, size_t patch)
{
    if (!count || !side || !patch)
        return TUTOR_EINVAL;
    if (count > VQ_MAX_IMAGES || side > VQ_MAX_SIDE || patch > VQ_MAX_PATCH)
        return TUTOR_ETOOBIG;
    return side % patch ? TUTOR_EINVAL : 0;
}

/* Copies between images and patches: to_patches reads images (src) into patches (dst),
 * else patches (src) back into images (dst). */
static void grid_copy(double *dst, const double *src, size_t count, size_t side, size_t p,
                      int to_patches)
{
    size_t g = side / p, d = p * p;
    for (size_t m = 0; m < count; m++)
        for (size_t R = 0; R < g; R++)
            for (size_t C = 0; C < g; C++) {
                size_t patch = ((m * g + R) * g + C) * d;
                size_t img = m * side * side + R * p * side + C * p;
                for (size_t r = 0; r < p; r++) {
                    if (to_patches)
                        memcpy(dst + patch + r * p, src + img + r * side, p * sizeof *dst);
                    else
                        memcpy(dst + img + r * side, src + patch + r * p, p * sizeof *dst);
                }
            }
}

int vq_patchify(double *x, const double *images, size_t count, size_t side, size_t patch)
{
    int rc = check_grid(count, side, patch);
    if (rc)
        return rc;
    grid_copy(x, images, count, side, patch, 1);
    return 0;
}

int vq_unpatchify(double *images, const double *x, size_t count, size_t side, size_t patch)
{
    int rc = check_grid(count, side, patch);
    if (rc)
        return rc;
    grid_copy(images, x, count, side, patch, 0);
    return 0;
}

/* ---- quantisation ---- */

/* Returns the token of patch xi: the smallest direct distance, first index on ties; *best_d
 * gets it. d2 (K, may be NULL) receives every distance. */
static int nearest_direct(double *best_d, double *d2, const double *xi, const double *codebook,
                          size_t d, size_t K)
{
    int best = 0;
    double bd = dist2(xi, codebook, d);
    if (d2)
        d2[0] = bd;
    for (size_t k = 1; k < K; k++) {
        double t = dist2(xi, codebook + k * d, d);
        if (d2)
            d2[k] = t;
        if (t < bd) {
            bd = t;
            best = (int)k;
        }
    }
    *best_d = bd;
    return best;
}

int vq_assign_slow(int *tokens, double *dist, const double *x, const double *codebook, size_t n,
                   size_t d, size_t K)
{
    int rc = check_sizes(n, d, K);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        double bd;
        tokens[i] = nearest_direct(&bd, NULL, x + i * d, codebook, d, K);
        if (dist)
            dist[i] = bd;
    }
    return 0;
}

/* Records the assignment of the first patches (each with its K distances) and the result. */
static void trace_assign(trace *tr, const int *tokens, const double *dist, const double *x,
                         const double *codebook, size_t n, size_t d, size_t K, double *d2)
{
    size_t rows = n < VQ_TRACE_ROWS ? n : VQ_TRACE_ROWS;
    for (size_t i = 0; i < rows; i++) {
        double bd;
        nearest_direct(&bd, d2, x + i * d, codebook, d, K);
        trace_step(tr, 5, "patch %zu -> token %d (squared distance %.4g)", i, tokens[i], bd);
        trace_reals(tr, "d2", d2, K);
        trace_mark(tr, "d2", tokens[i], -1, TRACE_WINNER);
        trace_quiz(tr, "Which token does this patch get?", tokens[i]);
    }
    if (rows < n)
        trace_step(tr, 4, "patches %zu..%zu the same way (not recorded one by one)", rows, n - 1);
    double total = 0.0;
    for (size_t i = 0; i < n; i++)
        total += dist[i];
    trace_step(tr, 5, "assignment done: %zu patches, mean squared error per value %.4g", n,
               total / ((double)n * (double)d));
    if (snap_ok(1, n)) {
        trace_ints(tr, "tokens", tokens, n);
        trace_reals(tr, "dist", dist, n);
    }
}

int vq_assign(int *tokens, double *dist, const double *x, const double *codebook, size_t n,
              size_t d, size_t K, trace *tr)
{
    int rc = check_sizes(n, d, K);
    if (rc)
        return rc;
    size_t b = n < ASSIGN_BLOCK ? n : ASSIGN_BLOCK;
    double *scores = mat_new(b, K);
    double *cc = mat_new(K, 1);
    double *own = dist ? NULL : mat_new(n, 1); /* the distances, when the caller wants none */
    double *d2 = tr ? mat_new(K, 1) : NULL;
    rc = TUTOR_ENOMEM;
    if (!scores || !cc || (!dist && !own) || (tr && !d2))
        goto out;
    double *dd = dist ? dist : own;
    /* Pass 1: ||c_k||^2 once per code, and its maximum (the margin's scale). */
    double ccmax = 0.0;
    for (size_t k = 0; k < K; k++) {
        cc[k] = mat_dot(codebook + k * d, codebook + k * d, d);
        ccmax = cc[k] > ccmax ? cc[k] : ccmax;
    }
    for (size_t i0 = 0; i0 < n; i0 += b) {
        size_t rows = n - i0 < b ? n - i0 : b;
        /* Pass 2: x_i . c_k for the block, one dgemm. */
        mat_gemm(scores, x + i0 * d, codebook, rows, K, d, 0, 1, 1.0, 0.0);
        for (size_t r = 0; r < rows; r++) {
            const double *xi = x + (i0 + r) * d;
            double *s = scores + r * K;
            /* Pass 3: the expanded scores ||c||^2 - 2 x.c and their minimum. */
            double m = INFINITY;
            for (size_t k = 0; k < K; k++) {
                s[k] = cc[k] - 2.0 * s[k];
                m = s[k] < m ? s[k] : m;
            }
            /* Pass 4: direct distances for the shortlist; first strictly smaller wins, so
             * ties go to the lowest k as in the slow form. */
            double limit = m + ASSIGN_MARGIN * (mat_dot(xi, xi, d) + ccmax);
            int best = -1;
            double bd = INFINITY;
            for (size_t k = 0; k < K; k++)
                if (s[k] <= limit) {
                    double t = dist2(xi, codebook + k * d, d);
                    if (best < 0 || t < bd) {
                        bd = t;
                        best = (int)k;
                    }
                }
            if (best < 0) /* only with non-finite input: fall back to the slow scan */
                best = nearest_direct(&bd, NULL, xi, codebook, d, K);
            tokens[i0 + r] = best;
            dd[i0 + r] = bd;
        }
    }
    if (tr)
        trace_assign(tr, tokens, dd, x, codebook, n, d, K, d2);
    rc = trace_status(tr);
out:
    mat_free(scores);
    mat_free(cc);
    mat_free(own);
    mat_free(d2);
    return rc;
}

int vq_lloyd_step(double *codebook, double *shift, size_t *counts, const double *x,
                  const int *tokens, size_t n, size_t d, size_t K, trace *tr)
{
    int rc = check_sizes(n, d, K);
    if (rc)
        return rc;
    if (check_tokens(tokens, n, K))
        return TUTOR_EINVAL;
    double *sums = mat_new(K, d);
    size_t *cnt = mem_calloc(K, sizeof *cnt);
    double *moved = mat_new(K, 1);
    int64_t *buf = tr ? mem_calloc(K, sizeof *buf) : NULL;
    if (!sums || !cnt || !moved || (tr && !buf)) {
        rc = TUTOR_ENOMEM;
        goto out;
    }
    /* Pass 1: per-code sums and counts, one sweep over the patches. */
    for (size_t i = 0; i < n; i++) {
        size_t k = (size_t)tokens[i];
        cnt[k]++;
        mat_axpy(sums + k * d, 1.0, x + i * d, d);
    }
    /* Pass 2: the mean is the point that minimises the sum of squared distances to the
     * code's patches, so moving there cannot increase the distortion. A code with no patch
     * has no mean: it keeps its vector (re-seeding it would be another algorithm). */
    for (size_t k = 0; k < K; k++) {
        double *c = codebook + k * d;
        moved[k] = 0.0;
        if (cnt[k]) {
            double *mean = sums + k * d;
            for (size_t j = 0; j < d; j++)
                mean[j] /= (double)cnt[k];
            moved[k] = sqrt(dist2(mean, c, d));
            memcpy(c, mean, d * sizeof *c);
        }
        if (tr && k < VQ_TRACE_ROWS) {
            if (cnt[k])
                trace_step(tr, 7, "code %zu: mean of %zu patches, moved by %.4g", k, cnt[k],
                           moved[k]);
            else
                trace_step(tr, 8, "code %zu: no patch chose it; it keeps its vector", k);
        }
    }
    if (tr) {
        size_t empty = 0, nmoved = 0;
        double most = 0.0;
        for (size_t k = 0; k < K; k++) {
            empty += cnt[k] == 0;
            nmoved += moved[k] > 0.0;
            most = moved[k] > most ? moved[k] : most;
        }
        if (K > VQ_TRACE_ROWS)
            trace_step(tr, 6, "codes %d..%zu the same way (not recorded one by one)", VQ_TRACE_ROWS,
                       K - 1);
        trace_step(tr, 6, "update done: %zu codes moved (largest move %.4g), %zu empty", nmoved,
                   most, empty);
        snap_matrix(tr, "codebook", codebook, K, d);
        trace_reals(tr, "shift", moved, K);
        snap_sizes(tr, "counts", cnt, K, buf);
    }
    if (shift)
        memcpy(shift, moved, K * sizeof *shift);
    if (counts)
        memcpy(counts, cnt, K * sizeof *counts);
    rc = trace_status(tr);
out:
    mat_free(sums);
    mem_free(cnt);
    mat_free(moved);
    mem_free(buf);
    return rc;
}

/* ---- k-means ---- */

/* Draws an index with probability w_i / total (total > 0); the last positive weight takes
 * whatever rounding leaves over. */
static size_t draw_weighted(const double *w, size_t n, double total, rng *r)
{
    double u = rng_uniform(r) * total, acc = 0.0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        if (w[i] > 0.0) {
            acc += w[i];
            last = i;
            if (u < acc)
                return i;
        }
    }
    return last;
}

int vq_seed_pp(double *codebook, size_t have, size_t K, const double *x, size_t n, size_t d, rng *r,
               trace *tr)
{
    int rc = check_sizes(n, d, K);
    if (rc)
        return rc;
    if (have > K)
        return TUTOR_EINVAL;
    if (have == K)
        return 0;
    double *dmin = mat_new(n, 1);
    if (!dmin)
        return TUTOR_ENOMEM;
    /* D_i^2 to the nearest code chosen so far (+inf before any: the first draw is uniform). */
    for (size_t i = 0; i < n; i++) {
        dmin[i] = INFINITY;
        for (size_t k = 0; k < have; k++) {
            double t = dist2(x + i * d, codebook + k * d, d);
            dmin[i] = t < dmin[i] ? t : dmin[i];
        }
    }
    for (size_t j = have; j < K; j++) {
        double total = 0.0;
        size_t pick;
        if (j == 0) {
            pick = (size_t)rng_range(r, 0, (int64_t)n - 1);
        } else {
            for (size_t i = 0; i < n; i++)
                total += dmin[i];
            /* Every patch already sits on a code: any choice is a duplicate. */
            pick = total > 0.0 ? draw_weighted(dmin, n, total, r)
                               : (size_t)rng_range(r, 0, (int64_t)n - 1);
        }
        double dpick = j == 0 ? 0.0 : dmin[pick];
        memcpy(codebook + j * d, x + pick * d, d * sizeof *codebook);
        if (tr && j - have < VQ_TRACE_ROWS) {
            if (j == 0)
                trace_step(tr, 2, "code 0 = patch %zu (drawn uniformly from %zu)", pick, n);
            else if (total > 0.0)
                trace_step(tr, 3, "code %zu = patch %zu (D^2 = %.4g, probability %.4g)", j, pick,
                           dpick, dpick / total);
            else
                trace_step(tr, 3,
                           "code %zu = patch %zu: every patch sits on a code already, so a "
                           "uniform draw (a duplicate: a dead code)",
                           j, pick);
        }
        for (size_t i = 0; i < n; i++) {
            double t = dist2(x + i * d, codebook + j * d, d);
            dmin[i] = t < dmin[i] ? t : dmin[i];
        }
    }
    if (tr) {
        trace_step(tr, 3, "k-means++ seeding done: %zu codes", K);
        snap_matrix(tr, "codebook", codebook, K, d);
    }
    mat_free(dmin);
    return trace_status(tr);
}

void vq_fit_free(vq_fit *fit)
{
    if (!fit)
        return;
    mat_free(fit->codebook);
    mem_free(fit->tokens);
    mat_free(fit->dist);
    mem_free(fit->usage);
    mat_free(fit->distortion);
    memset(fit, 0, sizeof *fit);
}

static int fit_alloc(vq_fit *fit, size_t n, size_t d, size_t K, size_t iters)
{
    memset(fit, 0, sizeof *fit);
    fit->n = n;
    fit->d = d;
    fit->K = K;
    fit->codebook = mat_new(K, d);
    fit->tokens = mem_calloc(n, sizeof *fit->tokens);
    fit->dist = mat_new(n, 1);
    fit->usage = mem_calloc(K, sizeof *fit->usage);
    fit->distortion = mat_new(iters + 1, 1);
    if (!fit->codebook || !fit->tokens || !fit->dist || !fit->usage || !fit->distortion) {
        vq_fit_free(fit);
        return TUTOR_ENOMEM;
    }
    return 0;
}

static double mean_dist(const double *dist, size_t n, size_t d)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += dist[i];
    return s / ((double)n * (double)d);
}

/* Lloyd rounds from fit->codebook as it stands: the assignment, then up to iters rounds of
 * update + assignment. fit is allocated for iters. */
static int lloyd(vq_fit *fit, const double *x, size_t iters, trace *tr)
{
    size_t n = fit->n, d = fit->d, K = fit->K;
    int *prev = mem_calloc(n, sizeof *prev);
    size_t *counts = mem_calloc(K, sizeof *counts);
    int rc = TUTOR_ENOMEM;
    if (!prev || !counts)
        goto out;
    /* Steps of the first rounds in full; later rounds in one line each (VQ_TRACE_ITERS). */
    rc = vq_assign(fit->tokens, fit->dist, x, fit->codebook, n, d, K, tr);
    if (rc)
        goto out;
    fit->distortion[0] = mean_dist(fit->dist, n, d);
    fit->iters_run = 0;
    fit->converged = 0;
    for (size_t it = 1; it <= iters; it++) {
        trace *full = it <= VQ_TRACE_ITERS ? tr : NULL;
        memcpy(prev, fit->tokens, n * sizeof *prev);
        rc = vq_lloyd_step(fit->codebook, NULL, counts, x, fit->tokens, n, d, K, full);
        if (rc)
            goto out;
        for (size_t k = 0; k < K; k++)
            fit->empty_events += counts[k] == 0;
        rc = vq_assign(fit->tokens, fit->dist, x, fit->codebook, n, d, K, full);
        if (rc)
            goto out;
        size_t changed = 0;
        for (size_t i = 0; i < n; i++)
            changed += prev[i] != fit->tokens[i];
        fit->distortion[it] = mean_dist(fit->dist, n, d);
        fit->iters_run = it;
        if (tr) {
            trace_step(tr, 9, "round %zu: %zu tokens changed, distortion %.6g (was %.6g)%s", it,
                       changed, fit->distortion[it], fit->distortion[it - 1],
                       changed ? "" : ": converged");
            trace_real(tr, "distortion", fit->distortion[it]);
            trace_scalar(tr, "changed", (int64_t)changed);
        }
        if (!changed) {
            fit->converged = 1;
            break;
        }
    }
    vq_usage(fit->usage, fit->tokens, n, K);
    if (tr && fit->iters_run > VQ_TRACE_ITERS) {
        /* The later rounds recorded one line each: show where they ended. */
        trace_step(tr, 9, "after round %zu: the final codebook and tokens", fit->iters_run);
        snap_matrix(tr, "codebook", fit->codebook, K, d);
        if (snap_ok(1, n)) {
            trace_ints(tr, "tokens", fit->tokens, n);
            trace_reals(tr, "dist", fit->dist, n);
        }
    }
    rc = trace_status(tr);
out:
    mem_free(prev);
    mem_free(counts);
    return rc;
}

int vq_kmeans(vq_fit *fit, const double *x, size_t n, size_t d, size_t K, size_t iters,
              uint64_t seed, trace *tr)
{
    memset(fit, 0, sizeof *fit);
    int rc = check_sizes(n, d, K);
    if (rc)
        return rc;
    if (iters > VQ_MAX_ITERS)
        return TUTOR_ETOOBIG;
    if (fit_alloc(fit, n, d, K, iters))
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, seed);
    rc = vq_seed_pp(fit->codebook, 0, K, x, n, d, &r, tr);
    if (!rc)
        rc = lloyd(fit, x, iters, tr);
    if (rc)
        vq_fit_free(fit);
    return rc;
}

/* ---- reconstruction and statistics ---- */

int vq_reconstruct(double *xhat, const int *tokens, const double *codebook, size_t n, size_t d,
                   size_t K)
{
    if (!n || !d || !K || check_tokens(tokens, n, K))
        return TUTOR_EINVAL;
    for (size_t i = 0; i < n; i++)
        memcpy(xhat + i * d, codebook + (size_t)tokens[i] * d, d * sizeof *xhat);
    return 0;
}

double vq_mse(const double *a, const double *b, size_t count)
{
    if (!count)
        return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < count; i++) {
        double t = a[i] - b[i];
        s += t * t;
    }
    return s / (double)count;
}

void vq_image_mse(double *mse, const double *a, const double *b, size_t count, size_t pixels)
{
    for (size_t m = 0; m < count; m++)
        mse[m] = vq_mse(a + m * pixels, b + m * pixels, pixels);
}

int vq_usage(size_t *usage, const int *tokens, size_t n, size_t K)
{
    if (!K || check_tokens(tokens, n, K))
        return TUTOR_EINVAL;
    memset(usage, 0, K * sizeof *usage);
    for (size_t i = 0; i < n; i++)
        usage[tokens[i]]++;
    return 0;
}

double vq_perplexity(const size_t *usage, size_t K)
{
    double total = 0.0;
    for (size_t k = 0; k < K; k++)
        total += (double)usage[k];
    if (total <= 0.0)
        return 0.0;
    double h = 0.0; /* entropy in nats; 0 ln 0 = 0 (the limit) */
    for (size_t k = 0; k < K; k++)
        if (usage[k]) {
            double p = (double)usage[k] / total;
            h -= p * log(p);
        }
    return exp(h);
}

size_t vq_dead_codes(const size_t *usage, size_t K)
{
    size_t dead = 0;
    for (size_t k = 0; k < K; k++)
        dead += usage[k] == 0;
    return dead;
}

static int vae_args_ok(const int *tokens, size_t n, size_t d, size_t K, double beta)
{
    return n && d && K && isfinite(beta) && beta >= 0.0 && !check_tokens(tokens, n, K);
}

int vq_vae_losses(double *codebook_loss, double *commitment, const double *z, const int *tokens,
                  const double *codebook, size_t n, size_t d, size_t K, double beta)
{
    if (!vae_args_ok(tokens, n, d, K, beta))
        return TUTOR_EINVAL;
    /* Forwards, sg[.] is the identity: both terms are the same squared distance. */
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += dist2(z + i * d, codebook + (size_t)tokens[i] * d, d);
    double mean = s / ((double)n * (double)d);
    if (codebook_loss)
        *codebook_loss = mean;
    if (commitment)
        *commitment = beta * mean;
    return 0;
}

int vq_vae_grads(double *grad_z, double *grad_e, const double *z, const int *tokens,
                 const double *codebook, const double *grad_zq, size_t n, size_t d, size_t K,
                 double beta)
{
    if (!vae_args_ok(tokens, n, d, K, beta))
        return TUTOR_EINVAL;
    double scale = 2.0 / ((double)n * (double)d);
    if (grad_e)
        memset(grad_e, 0, K * d * sizeof *grad_e);
    for (size_t i = 0; i < n; i++) {
        const double *zi = z + i * d, *e = codebook + (size_t)tokens[i] * d;
        for (size_t j = 0; j < d; j++) {
            double diff = zi[j] - e[j];
            /* Straight-through: d loss / d z_q is handed to z unchanged. */
            if (grad_z)
                grad_z[i * d + j] = (grad_zq ? grad_zq[i * d + j] : 0.0) + beta * scale * diff;
            if (grad_e)
                grad_e[(size_t)tokens[i] * d + j] -= scale * diff;
        }
    }
    return 0;
}

int vq_stats_of(vq_stats *st, const double *x, const int *tokens, const double *codebook,
                const size_t *usage, size_t n, size_t d, size_t K, size_t per_image, double beta)
{
    if (!per_image)
        return TUTOR_EINVAL;
    int rc = vq_vae_losses(&st->codebook_loss, &st->commitment, x, tokens, codebook, n, d, K, beta);
    if (rc)
        return rc;
    st->mse = st->codebook_loss; /* the same mean of (x - c_t)^2 over the n d values */
    st->perplexity = vq_perplexity(usage, K);
    st->dead = vq_dead_codes(usage, K);
    st->bits_per_image = (double)per_image * log2((double)K);
    st->entropy_bits = st->perplexity > 0.0 ? (double)per_image * log2(st->perplexity) : 0.0;
    return 0;
}

/* ---- rate-distortion ---- */

int vq_rate_distortion(vq_rd_point *pts, size_t *npts, const double *x, size_t n, size_t d,
                       size_t per_image, size_t K_max, size_t iters, uint64_t seed)
{
    *npts = 0;
    if (K_max < 2 || (K_max & (K_max - 1)) || !per_image)
        return TUTOR_EINVAL;
    int rc = check_sizes(n, d, K_max);
    if (rc)
        return rc;
    if (iters > VQ_MAX_ITERS)
        return TUTOR_ETOOBIG;
    rng r;
    rng_seed(&r, seed);
    vq_fit prev = {0};
    for (size_t K = 2; K <= K_max; K *= 2) {
        vq_fit fit;
        if (fit_alloc(&fit, n, d, K, iters)) {
            vq_fit_free(&prev);
            return TUTOR_ENOMEM;
        }
        /* Nested codebooks: keep the previous codes, add K/2 by k-means++. */
        size_t have = prev.codebook ? K / 2 : 0;
        if (have)
            memcpy(fit.codebook, prev.codebook, have * d * sizeof *fit.codebook);
        vq_fit_free(&prev);
        rc = vq_seed_pp(fit.codebook, have, K, x, n, d, &r, NULL);
        if (!rc)
            rc = lloyd(&fit, x, iters, NULL);
        if (rc) {
            vq_fit_free(&fit);
            return rc;
        }
        vq_rd_point *p = &pts[*npts];
        p->K = K;
        p->mse = fit.distortion[fit.iters_run];
        p->perplexity = vq_perplexity(fit.usage, K);
        p->dead = vq_dead_codes(fit.usage, K);
        p->bits_per_image = (double)per_image * log2((double)K);
        p->entropy_bits = (double)per_image * log2(p->perplexity);
        p->iters_run = fit.iters_run;
        (*npts)++;
        prev = fit;
    }
    vq_fit_free(&prev);
    return 0;
}

/* ---- the whole topic ---- */

void vq_opts_default(vq_opts *o)
{
    o->K = VQ_DEFAULT_K;
    o->patch = VQ_DEFAULT_PATCH;
    o->iters = VQ_DEFAULT_ITERS;
    o->images = VQ_DEFAULT_IMAGES;
    o->side = VQ_DEFAULT_SIDE;
    o->seed = 1;
    o->beta = VQ_DEFAULT_BETA;
}

void vq_demo_free(vq_demo *demo)
{
    if (!demo)
        return;
    mat_free(demo->images);
    mem_free(demo->kinds);
    mat_free(demo->patches);
    vq_fit_free(&demo->fit);
    mat_free(demo->recon);
    mat_free(demo->image_mse);
    memset(demo, 0, sizeof *demo);
}

/* Records image m beside its reconstruction. */
static void trace_pair(trace *tr, const vq_demo *dm, size_t m, double *both)
{
    /* One heatmap, the image and its reconstruction with a blank (NaN) column between: the
     * two on one colour scale, and one snapshot instead of three keeps the step within an
     * 80 x 24 screen. */
    size_t s = dm->opts.side, px = s * s, w = 2 * s + 1;
    const double *img = dm->images + m * px, *rec = dm->recon + m * px;
    for (size_t y = 0; y < s; y++) {
        memcpy(both + y * w, img + y * s, s * sizeof *both);
        both[y * w + s] = NAN;
        memcpy(both + y * w + s + 1, rec + y * s, s * sizeof *both);
    }
    trace_step(tr, 10, "image %zu (%s), left; rebuilt from %zu tokens, right: MSE %.4g", m,
               vq_kind_name(dm->kinds[m]), dm->per_image, dm->image_mse[m]);
    trace_matrix(tr, "side_by_side", both, s, w);
}

int vq_demo_run(vq_demo *demo, const vq_opts *o, trace *tr)
{
    memset(demo, 0, sizeof *demo);
    int rc = check_grid(o->images, o->side, o->patch);
    if (rc)
        return rc;
    if (!o->K || !isfinite(o->beta) || o->beta < 0.0)
        return TUTOR_EINVAL;
    size_t cells = (o->side / o->patch) * (o->side / o->patch);
    if (o->K > VQ_MAX_K || o->iters > VQ_MAX_ITERS || o->images * cells > VQ_MAX_POINTS)
        return TUTOR_ETOOBIG;
    vq_demo *dm = demo;
    dm->opts = *o;
    size_t px = o->side * o->side, g = o->side / o->patch;
    dm->d = o->patch * o->patch;
    dm->per_image = g * g;
    dm->n = o->images * dm->per_image;
    dm->images = mat_new(o->images, px);
    dm->kinds = mem_calloc(o->images, sizeof *dm->kinds);
    dm->patches = mat_new(dm->n, dm->d);
    dm->recon = mat_new(o->images, px);
    dm->image_mse = mat_new(o->images, 1);
    double *xhat = mat_new(dm->n, dm->d);
    double *both = tr ? mat_new(o->side, 2 * o->side + 1) : NULL;
    int64_t *buf = tr ? mem_calloc(o->K, sizeof *buf) : NULL;
    rc = TUTOR_ENOMEM;
    if (!dm->images || !dm->kinds || !dm->patches || !dm->recon || !dm->image_mse || !xhat ||
        (tr && (!both || !buf)))
        goto fail;
    /* Pass 1: the images and their patches. */
    vq_images(dm->images, dm->kinds, o->images, o->side, o->seed);
    vq_patchify(dm->patches, dm->images, o->images, o->side, o->patch);
    if (tr) {
        trace_step(tr, 1, "%zu images %zux%zu -> %zu patches of %zux%zu = %zu values each",
                   o->images, o->side, o->side, dm->n, o->patch, o->patch, dm->d);
        trace_matrix(tr, "image", dm->images, o->side, o->side);
        snap_matrix(tr, "patches", dm->patches, dm->n, dm->d);
    }
    /* Pass 2: the codebook and the tokens. */
    rc = vq_kmeans(&dm->fit, dm->patches, dm->n, dm->d, o->K, o->iters, o->seed, tr);
    if (rc)
        goto fail;
    /* Pass 3: reconstruction and its costs. */
    vq_reconstruct(xhat, dm->fit.tokens, dm->fit.codebook, dm->n, dm->d, o->K);
    vq_unpatchify(dm->recon, xhat, o->images, o->side, o->patch);
    vq_image_mse(dm->image_mse, dm->images, dm->recon, o->images, px);
    vq_stats_of(&dm->stats, dm->patches, dm->fit.tokens, dm->fit.codebook, dm->fit.usage, dm->n,
                dm->d, o->K, dm->per_image, o->beta);
    if (tr) {
        size_t shown = o->images < VQ_TRACE_ROWS ? o->images : VQ_TRACE_ROWS;
        for (size_t m = 0; m < shown; m++)
            trace_pair(tr, dm, m, both);
        trace_step(tr, 11,
                   "MSE %.4g, perplexity %.3g of %zu codes, %zu dead, %.4g bits per image "
                   "(%.4g with an entropy coder)",
                   dm->stats.mse, dm->stats.perplexity, o->K, dm->stats.dead,
                   dm->stats.bits_per_image, dm->stats.entropy_bits);
        snap_sizes(tr, "usage", dm->fit.usage, o->K, buf);
        trace_real(tr, "perplexity", dm->stats.perplexity);
        trace_real(tr, "mse", dm->stats.mse);
    }
    rc = trace_status(tr);
    if (rc)
        goto fail;
    mat_free(xhat);
    mat_free(both);
    mem_free(buf);
    return 0;
fail:
    mat_free(xhat);
    mat_free(both);
    mem_free(buf);
    vq_demo_free(demo);
    return rc;
}
