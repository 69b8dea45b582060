/* The vq exercise: the assignment pass and one Lloyd update against the library's, and the
 * library's k-means running on the student's two functions. */
#include <math.h>
#include <string.h>

#include "../../models/mat.h"
#include "../../models/vq.h"
#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

EX_REF(vq_assign);
EX_REF(vq_lloyd_step);

/* Distances are computed in one fixed order, so they agree to the last bit; the tolerance
 * only keeps a different (still direct) summation order from failing. */
#define TOL 1e-12

/* x (n, d) and codebook (K, d), N(0, scale^2) plus offset, from seed: one block, free with
 * mem_free(*x). Returns 0 or TUTOR_ENOMEM. */
static int inputs(double **x, double **c, size_t n, size_t d, size_t K, uint64_t seed, double scale,
                  double offset)
{
    double *all = mem_alloc((n + K) * d * sizeof *all);
    if (!all)
        return TUTOR_ENOMEM;
    rng r;
    rng_seed(&r, seed);
    for (size_t i = 0; i < (n + K) * d; i++)
        all[i] = offset + scale * rng_gauss(&r);
    *x = all;
    *c = all + n * d;
    return 0;
}

static void fmt_case(const double *x, const double *c, size_t n, size_t d, size_t K)
{
    strbuf a = STRBUF_INIT, b = STRBUF_INIT;
    ex_fmt_reals(&a, x, n * d);
    ex_fmt_reals(&b, c, K * d);
    ex_input("x (%zu x %zu) = %s, codebook (%zu x %zu) = %s", n, d, strbuf_str(&a), K, d,
             strbuf_str(&b));
    strbuf_free(&a);
    strbuf_free(&b);
}

/* Runs both assignments and compares tokens and distances. want_dist: pass dist. */
static void assign_case(const double *x, const double *c, size_t n, size_t d, size_t K,
                        int with_dist)
{
    int *tw = mem_calloc(n, sizeof *tw), *tg = mem_calloc(n, sizeof *tg);
    double *dw = mem_calloc(n, sizeof *dw), *dg = mem_calloc(n, sizeof *dg);
    if (!tw || !tg || !dw || !dg) {
        ex_fail("out of memory for the outputs");
    } else {
        for (size_t i = 0; i < n; i++) {
            tg[i] = -7;
            dg[i] = -12345.0;
        }
        int rw = exref_vq_assign(tw, dw, x, c, n, d, K, NULL);
        int rg = vq_assign(tg, with_dist ? dg : NULL, x, c, n, d, K, NULL);
        if (ex_status("return value", rw, rg) && ex_ints("tokens", tw, n, tg, n) && with_dist)
            ex_reals("dist", dw, dg, n, TOL);
    }
    mem_free(tw);
    mem_free(tg);
    mem_free(dw);
    mem_free(dg);
}

static void assign_hand(void)
{
    double x[] = {0, 1, 2, 10, 11, 12, 5.9, 6.1}, c[] = {1, 11};
    fmt_case(x, c, 8, 1, 2);
    assign_case(x, c, 8, 1, 2, 0);
    double x2[] = {3, 4, 0, 1}, c2[] = {0, 0, 3, 0, 6, 8};
    if (!ex_failed()) {
        fmt_case(x2, c2, 2, 2, 3);
        assign_case(x2, c2, 2, 2, 3, 0);
    }
}

static void assign_dist(void)
{
    double x[] = {0, 1, 2, 10, 11, 12, 5.9, 6.1}, c[] = {1, 11};
    fmt_case(x, c, 8, 1, 2);
    assign_case(x, c, 8, 1, 2, 1);
    if (!ex_failed()) {
        ex_input("the same x and codebook, dist = NULL");
        assign_case(x, c, 8, 1, 2, 0);
    }
}

static void assign_ties(void)
{
    double x[] = {5, 0}, c1[] = {4, 6}, c2[] = {9, 4, 6, 4};
    fmt_case(x, c1, 2, 1, 2);
    assign_case(x, c1, 2, 1, 2, 1);
    if (!ex_failed()) {
        fmt_case(x, c2, 2, 1, 4);
        assign_case(x, c2, 2, 1, 4, 1);
    }
    /* Integer points and codes: many exact ties in 2-D. */
    for (uint64_t seed = 1; seed <= 10 && !ex_failed(); seed++) {
        double xs[30 * 2], cs[9 * 2];
        rng r;
        rng_seed(&r, seed);
        for (size_t i = 0; i < 60; i++)
            xs[i] = (double)rng_range(&r, -1, 1);
        for (size_t i = 0; i < 18; i++)
            cs[i] = (double)rng_range(&r, -1, 1);
        fmt_case(xs, cs, 30, 2, 9);
        assign_case(xs, cs, 30, 2, 9, 1);
    }
}

static void assign_random(void)
{
    for (uint64_t seed = 1; seed <= 30 && !ex_failed(); seed++) {
        size_t n = 1 + seed * 7 % 40, d = 1 + seed % 6, K = 1 + seed % 9;
        double *x, *c;
        if (inputs(&x, &c, n, d, K, seed, 1.0, 0.0)) {
            ex_fail("out of memory for the inputs");
            return;
        }
        ex_input("n = %zu, d = %zu, K = %zu, x and codebook ~ N(0, 1) from seed %llu", n, d, K,
                 (unsigned long long)seed);
        assign_case(x, c, n, d, K, 1);
        mem_free(x);
    }
}

static void assign_offset(void)
{
    double x[] = {1e8 + 1}, c[] = {1e8 + 3, 1e8};
    ex_input("x (1 x 1) = [1e8 + 1], codebook (2 x 1) = [1e8 + 3, 1e8]");
    assign_case(x, c, 1, 1, 2, 1);
    for (uint64_t seed = 1; seed <= 5 && !ex_failed(); seed++) {
        double *xs, *cs;
        if (inputs(&xs, &cs, 20, 3, 6, seed, 2.0, 1e8)) {
            ex_fail("out of memory for the inputs");
            return;
        }
        ex_input("n = 20, d = 3, K = 6, values 1e8 + N(0, 4) from seed %llu",
                 (unsigned long long)seed);
        assign_case(xs, cs, 20, 3, 6, 1);
        mem_free(xs);
    }
}

static void assign_sizes(void)
{
    double x[2] = {0}, c[2] = {0}, dd[2];
    int t[2];
    ex_input("n = 0, d = 0, K = 0, then K = VQ_MAX_K + 1");
    if (ex_status("return value (n = 0)", TUTOR_EINVAL, vq_assign(t, dd, x, c, 0, 1, 1, NULL)) &&
        ex_status("return value (d = 0)", TUTOR_EINVAL, vq_assign(t, dd, x, c, 1, 0, 1, NULL)) &&
        ex_status("return value (K = 0)", TUTOR_EINVAL, vq_assign(t, dd, x, c, 1, 1, 0, NULL)))
        ex_status("return value (K too big)", TUTOR_ETOOBIG,
                  vq_assign(t, dd, x, c, 1, 1, VQ_MAX_K + 1, NULL));
}

/* Runs both updates from the same codebook and compares everything. */
static void lloyd_case(const double *x, const int *tokens, const double *c0, size_t n, size_t d,
                       size_t K)
{
    size_t kd = K * d;
    double *cw = mem_alloc(kd * sizeof *cw), *cg = mem_alloc(kd * sizeof *cg);
    double *sw = mem_calloc(K, sizeof *sw), *sg = mem_calloc(K, sizeof *sg);
    size_t *nw = mem_calloc(K, sizeof *nw), *ng = mem_calloc(K, sizeof *ng);
    if (!cw || !cg || !sw || !sg || !nw || !ng) {
        ex_fail("out of memory for the outputs");
    } else {
        memcpy(cw, c0, kd * sizeof *cw);
        memcpy(cg, c0, kd * sizeof *cg);
        for (size_t k = 0; k < K; k++) {
            sg[k] = -1.0;
            ng[k] = 12345;
        }
        int rw = exref_vq_lloyd_step(cw, sw, nw, x, tokens, n, d, K, NULL);
        int rg = vq_lloyd_step(cg, sg, ng, x, tokens, n, d, K, NULL);
        if (ex_status("return value", rw, rg) && ex_reals("codebook", cw, cg, kd, TOL) &&
            ex_reals("shift", sw, sg, K, TOL)) {
            int iw[64], ig[64];
            for (size_t k = 0; k < K && k < 64; k++) {
                iw[k] = (int)nw[k];
                ig[k] = (int)ng[k];
            }
            ex_ints("counts", iw, K < 64 ? K : 64, ig, K < 64 ? K : 64);
        }
    }
    mem_free(cw);
    mem_free(cg);
    mem_free(sw);
    mem_free(sg);
    mem_free(nw);
    mem_free(ng);
}

static void lloyd_input(const double *x, const int *t, const double *c, size_t n, size_t d,
                        size_t K)
{
    strbuf a = STRBUF_INIT, b = STRBUF_INIT, s = STRBUF_INIT;
    ex_fmt_reals(&a, x, n * d);
    ex_fmt_ints(&s, t, n);
    ex_fmt_reals(&b, c, K * d);
    ex_input("x (%zu x %zu) = %s, tokens = %s, codebook (%zu x %zu) = %s", n, d, strbuf_str(&a),
             strbuf_str(&s), K, d, strbuf_str(&b));
    strbuf_free(&a);
    strbuf_free(&b);
    strbuf_free(&s);
}

static void lloyd_hand(void)
{
    double x[] = {0, 1, 2, 10, 11, 12}, c[] = {0, 0};
    int t[] = {0, 0, 0, 1, 1, 1};
    lloyd_input(x, t, c, 6, 1, 2);
    lloyd_case(x, t, c, 6, 1, 2);
    double x2[] = {0, 0, 2, 0, 1, 3, 5, 5}, c2[] = {1, 4, 0, 0};
    int t2[] = {0, 0, 0, 1};
    if (!ex_failed()) {
        lloyd_input(x2, t2, c2, 4, 2, 2);
        lloyd_case(x2, t2, c2, 4, 2, 2);
    }
}

static void lloyd_empty(void)
{
    double x[] = {0, 1, 2, 10, 11, 12}, c[] = {0, 0, 7, -3};
    int t[] = {0, 0, 0, 1, 1, 1};
    lloyd_input(x, t, c, 6, 1, 4);
    lloyd_case(x, t, c, 6, 1, 4);
}

static void lloyd_nulls(void)
{
    double x[] = {0, 1, 2, 10, 11, 12}, cw[] = {0, 0, 7}, cg[] = {0, 0, 7};
    int t[] = {0, 0, 0, 1, 1, 1};
    lloyd_input(x, t, cw, 6, 1, 3);
    int rw = exref_vq_lloyd_step(cw, NULL, NULL, x, t, 6, 1, 3, NULL);
    int rg = vq_lloyd_step(cg, NULL, NULL, x, t, 6, 1, 3, NULL);
    if (ex_status("return value (shift = counts = NULL)", rw, rg))
        ex_reals("codebook", cw, cg, 3, TOL);
}

static void lloyd_bad_token(void)
{
    double x[] = {0, 1, 2}, c[] = {5, 6}, keep[] = {5, 6};
    int t[] = {0, 2, 1};
    lloyd_input(x, t, c, 3, 1, 2);
    if (ex_status("return value (token 2 with K = 2)", TUTOR_EINVAL,
                  vq_lloyd_step(c, NULL, NULL, x, t, 3, 1, 2, NULL)) &&
        ex_reals("codebook (must be unchanged)", keep, c, 2, 0.0)) {
        t[1] = -1;
        ex_input("tokens = [0 -1 1], K = 2");
        if (ex_status("return value (token -1)", TUTOR_EINVAL,
                      vq_lloyd_step(c, NULL, NULL, x, t, 3, 1, 2, NULL)) &&
            ex_reals("codebook (must be unchanged)", keep, c, 2, 0.0))
            ex_status("return value (n = 0)", TUTOR_EINVAL,
                      vq_lloyd_step(c, NULL, NULL, x, t, 0, 1, 2, NULL));
    }
}

static void lloyd_random(void)
{
    for (uint64_t seed = 1; seed <= 30 && !ex_failed(); seed++) {
        size_t n = 1 + seed * 5 % 37, d = 1 + seed % 5, K = 1 + seed % 11;
        double *x, *c;
        int *t = mem_calloc(n, sizeof *t);
        if (!t || inputs(&x, &c, n, d, K, seed, 1.0, 0.0)) {
            mem_free(t);
            ex_fail("out of memory for the inputs");
            return;
        }
        rng r;
        rng_seed(&r, seed + 100);
        for (size_t i = 0; i < n; i++)
            t[i] = (int)rng_range(&r, 0, (int64_t)K - 1);
        ex_input("n = %zu, d = %zu, K = %zu, x and codebook ~ N(0, 1), random tokens, seed %llu", n,
                 d, K, (unsigned long long)seed);
        lloyd_case(x, t, c, n, d, K);
        mem_free(x);
        mem_free(t);
    }
}

/* The library's vq_kmeans runs on the student's functions; the same rounds written here with
 * the reference's must give the same codebook and tokens. */
static void kmeans(void)
{
    size_t images = 6, side = 8, p = 2, n = images * 16, d = 4, K = 8, iters = 30;
    double *img = mem_alloc(images * side * side * sizeof *img);
    double *x = mem_alloc(n * d * sizeof *x), *c = mem_alloc(K * d * sizeof *c);
    int *t = mem_calloc(n, sizeof *t), *prev = mem_calloc(n, sizeof *prev);
    vq_fit fit = {0};
    ex_input("vq_kmeans on 6 procedural 8 x 8 images (seed 3), 2 x 2 patches, K = 8, 30 rounds");
    if (!img || !x || !c || !t || !prev) {
        ex_fail("out of memory for the inputs");
        goto out;
    }
    vq_images(img, NULL, images, side, 3);
    vq_patchify(x, img, images, side, p);
    rng r;
    rng_seed(&r, 3);
    vq_seed_pp(c, 0, K, x, n, d, &r, NULL);
    exref_vq_assign(t, NULL, x, c, n, d, K, NULL);
    for (size_t it = 0; it < iters; it++) {
        memcpy(prev, t, n * sizeof *t);
        exref_vq_lloyd_step(c, NULL, NULL, x, t, n, d, K, NULL);
        exref_vq_assign(t, NULL, x, c, n, d, K, NULL);
        if (!memcmp(prev, t, n * sizeof *t))
            break;
    }
    if (ex_status("return value of vq_kmeans", 0, vq_kmeans(&fit, x, n, d, K, iters, 3, NULL)) &&
        ex_ints("tokens", t, n, fit.tokens, n))
        ex_reals("codebook", c, fit.codebook, K * d, TOL);
out:
    vq_fit_free(&fit);
    mem_free(img);
    mem_free(x);
    mem_free(c);
    mem_free(t);
    mem_free(prev);
}

typedef struct sweep_ctx {
    int lloyd, traced;
} sweep_ctx;

static int sweep_body(void *p)
{
    const sweep_ctx *ctx = p;
    trace *tr = NULL;
    if (ctx->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    double x[] = {0, 1, 2, 10, 11, 12, 3, 4}, c[] = {0, 5, 7}, dd[8];
    int t[] = {0, 0, 0, 1, 1, 1, 0, 1};
    int rc = ctx->lloyd ? vq_lloyd_step(c, NULL, NULL, x, t, 8, 1, 3, tr)
                        : vq_assign(t, dd, x, c, 8, 1, 3, tr);
    trace_free(tr);
    return rc;
}

static void alloc(void)
{
    static const char *const what[] = {"vq_assign", "vq_assign traced", "vq_lloyd_step",
                                       "vq_lloyd_step traced"};
    for (int i = 0; i < 4 && !ex_failed(); i++) {
        sweep_ctx ctx = {i / 2, i % 2};
        ex_input("%s, x = [0 1 2 10 11 12 3 4], K = 3, every allocation failing in turn", what[i]);
        ex_alloc_sweep(sweep_body, &ctx);
    }
}

static void traced_case(int lloyd, size_t n, size_t d, size_t K, uint64_t seed)
{
    double *x, *c;
    int *t = mem_calloc(n, sizeof *t), *tg = mem_calloc(n, sizeof *tg);
    double *cg = mem_alloc(K * d * sizeof *cg);
    trace *ref, *got;
    if (!t || !tg || !cg || inputs(&x, &c, n, d, K, seed, 1.0, 0.0)) {
        mem_free(t);
        mem_free(tg);
        mem_free(cg);
        ex_fail("out of memory for the inputs");
        return;
    }
    if (ex_trace_pair(&ref, &got, vq_listing, vq_listing_len)) {
        ex_input("%s, n = %zu, d = %zu, K = %zu, x and codebook ~ N(0, 1) from seed %llu",
                 lloyd ? "vq_lloyd_step (tokens from the reference's vq_assign)" : "vq_assign", n,
                 d, K, (unsigned long long)seed);
        int rc;
        if (lloyd) {
            exref_vq_assign(t, NULL, x, c, n, d, K, NULL);
            memcpy(cg, c, K * d * sizeof *cg);
            exref_vq_lloyd_step(c, NULL, NULL, x, t, n, d, K, ref);
            rc = vq_lloyd_step(cg, NULL, NULL, x, t, n, d, K, got);
        } else {
            exref_vq_assign(t, NULL, x, c, n, d, K, ref);
            rc = vq_assign(tg, NULL, x, c, n, d, K, got);
        }
        if (ex_status("return value", 0, rc))
            ex_trace(ref, got, 1e-9);
        trace_free(ref);
        trace_free(got);
    }
    mem_free(x);
    mem_free(t);
    mem_free(tg);
    mem_free(cg);
}

static void traced_assign(void)
{
    traced_case(0, 5, 3, 4, 2);
    if (!ex_failed())
        traced_case(0, 20, 2, 3, 4); /* more patches than VQ_TRACE_ROWS */
}

static void traced_lloyd(void)
{
    traced_case(1, 6, 2, 4, 2);
    if (!ex_failed())
        traced_case(1, 40, 2, 20, 5); /* more codes than VQ_TRACE_ROWS, some empty */
}

static const ex_behaviour behaviours[] = {
    {"assign: each patch gets its nearest code",
     "For each patch i, compute sum_j (x[i][j] - c[k][j])^2 for every code k and keep the k "
     "with the smallest value.",
     assign_hand},
    {"assign: dist holds the squared distance (and may be NULL)",
     "dist[i] is the squared distance to the chosen code, not its square root. When dist is "
     "NULL, write no distances.",
     assign_dist},
    {"assign: ties go to the lowest index",
     "Replace the best only when a distance is strictly smaller (<, not <=), scanning k from 0 "
     "upwards.",
     assign_ties},
    {"assign: agrees with the reference on 30 random inputs",
     "Tokens must match exactly; distances are summed over j in increasing order.", assign_random},
    {"assign: exact with values near 1e8",
     "||x||^2 - 2 x.c + ||c||^2 cancels catastrophically when ||x||^2 is ~1e16 (doubles are 2 "
     "apart there): sum the squared differences directly.",
     assign_offset},
    {"assign: bad sizes are refused",
     "n, d or K of 0: TUTOR_EINVAL; K > VQ_MAX_K (or n, d over their caps): TUTOR_ETOOBIG, "
     "both before any work.",
     assign_sizes},
    {"lloyd: each code moves to the mean of its patches",
     "Sum the patches per code and count them in one pass over i, then divide each sum by its "
     "count. shift[k] is the Euclidean length of the move.",
     lloyd_hand},
    {"lloyd: a code no patch chose keeps its vector",
     "n_k = 0 has no mean (0/0): leave c_k as it was, with shift 0 and count 0.", lloyd_empty},
    {"lloyd: shift and counts may be NULL", "Write shift and counts only when they are not NULL.",
     lloyd_nulls},
    {"lloyd: a token out of range is refused, codebook unchanged",
     "Check every token against [0, K) before writing anything; return TUTOR_EINVAL.",
     lloyd_bad_token},
    {"lloyd: agrees with the reference on 30 random inputs",
     "Compute the new codes into a separate buffer (or from sums), so that the old vector is "
     "still there for an empty code and for the shift.",
     lloyd_random},
    {"k-means built on your two functions matches the reference's",
     "vq_kmeans calls vq_assign, then vq_lloyd_step and vq_assign in turn until no token "
     "changes: if the behaviours above pass, this one should too.",
     kmeans},
    {"an allocation failure returns TUTOR_ENOMEM",
     "Allocate with mem_alloc (or mat_new) and return TUTOR_ENOMEM when it gives NULL, "
     "freeing what you already have; when tracing, return trace_status(tr) at the end.",
     alloc},
    {"trace: vq_assign records the same steps as the reference",
     "Per patch (the first VQ_TRACE_ROWS) a step on line 5 with trace_reals \"d2\" (K "
     "distances); a line-4 step for the rest when n is larger; a last line-5 step with "
     "\"tokens\" (trace_ints) and \"dist\" (trace_reals).",
     traced_assign},
    {"trace: vq_lloyd_step records the same steps as the reference",
     "Per code (the first VQ_TRACE_ROWS) a step on line 7 (moved) or 8 (empty); a line-6 step "
     "for the rest when K is larger; a last line-6 step with \"codebook\" (trace_matrix), "
     "\"shift\" (trace_reals) and \"counts\" (trace_int64s).",
     traced_lloyd},
    {NULL, NULL, NULL},
};

void tests_register(void)
{
    ex_register("vq", behaviours);
}
