/* test_fastexp.c: the array exponential against libm's exp, and the untraced fast paths that
 * use it (blocked softmax attention, Mamba's scan) against their reference forms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../models/attention.h"
#include "../models/fastexp.h"
#include "../models/mamba.h"
#include "../models/mat.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../trace/trace.h"
#include "harness.h"

/* Stated tolerances. The exponential: relative error below 1e-15 against libm's exp, which
 * is itself within an ulp of the exact value (a few units of 2.2e-16 in the last place).
 * The fast paths: rounding differences only, relative to the size of the outputs. */
#define TOL_EXP  1e-15
#define TOL_PATH 1e-12

static double rel_err(double got, double want)
{
    return fabs(got - want) / fabs(want);
}

static void test_exp_against_libm(void)
{
    rng r;
    rng_seed(&r, 2026);
    size_t n = 1 << 20;
    double *x = mem_alloc(n * sizeof *x), *y = mem_alloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    /* A quarter over the whole kept range, a quarter where softmax and Mamba live ([-40, 0]),
     * a quarter around 0, a quarter near the ends of the range. */
    for (size_t i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        switch (i % 4) {
        case 0: x[i] = FASTEXP_MIN + u * (FASTEXP_MAX - 1e-9 - FASTEXP_MIN); break;
        case 1: x[i] = -40.0 * u; break;
        case 2: x[i] = 1e-3 * (2 * u - 1); break;
        default: x[i] = i % 8 == 3 ? FASTEXP_MIN + u : FASTEXP_MAX - 1e-9 - u; break;
        }
    }
    fastexp_array(y, x, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++)
        worst = fmax(worst, rel_err(y[i], exp(x[i])));
    CU_ASSERT(worst < TOL_EXP);
    /* In place gives the same bits (the two loops of fastexp_array). */
    fastexp_array(x, x, n);
    size_t same = 0;
    for (size_t i = 0; i < n; i++)
        same += x[i] == y[i];
    CU_ASSERT_EQUAL(same, n);
    mem_free(x);
    mem_free(y);
}

static void test_exp_edges(void)
{
    double x[] = {0.0,      -0.0,   1.0,    -1.0,        M_LN2,        -M_LN2,  700.0,   -700.0,
                  -708.0,   -708.5, -745.0, -1e300,      -INFINITY,    709.78,  709.783, 710.0,
                  INFINITY, 1e300,  NAN,    0.5 * M_LN2, -0.5 * M_LN2, 709.7827};
    size_t n = sizeof x / sizeof x[0];
    double y[sizeof x / sizeof x[0]];
    fastexp_array(y, x, n);
    CU_ASSERT_EQUAL(y[0], 1.0); /* exactly */
    CU_ASSERT_EQUAL(y[1], 1.0);
    for (size_t i = 2; i < n; i++) {
        int ok;
        if (isnan(x[i]))
            ok = isnan(y[i]);
        else if (x[i] > FASTEXP_MAX)
            ok = isinf(y[i]) && y[i] > 0;
        else if (x[i] < FASTEXP_MIN)
            ok = y[i] == 0.0;
        else
            ok = rel_err(y[i], exp(x[i])) < TOL_EXP;
        CU_ASSERT(ok);
    }
    CU_ASSERT(isinf(exp(709.783))); /* so +inf above FASTEXP_MAX is what exp gives too */
    /* Every length, so the vector loops' tails are covered; n = 0 touches nothing. */
    double a[37], b[37];
    for (size_t len = 0; len <= 37; len++) {
        for (size_t i = 0; i < 37; i++)
            a[i] = -0.37 * (double)i, b[i] = -1.0;
        fastexp_array(b, a, len);
        for (size_t i = 0; i < 37; i++)
            CU_ASSERT(i < len ? rel_err(b[i], exp(a[i])) < TOL_EXP : b[i] == -1.0);
    }
}

/* The softmax row step: e^(x - shift) and its sum, against libm and a plain sum. */
static void test_shifted_sum(void)
{
    rng r;
    rng_seed(&r, 5);
    double x[300], y[300], z[300];
    for (size_t n = 0; n <= 300; n += n < 20 ? 1 : 37) {
        for (size_t i = 0; i < n; i++)
            x[i] = 10 * rng_gauss(&r);
        double m = n ? x[0] : 0, want = 0;
        for (size_t i = 1; i < n; i++)
            m = fmax(m, x[i]);
        for (size_t i = 0; i < n; i++)
            want += exp(x[i] - m);
        double got = fastexp_shifted_sum(y, x, m, n);
        CU_ASSERT(n ? rel_err(got, want) < 1e-14 : got == 0.0);
        int ok = 1;
        for (size_t i = 0; i < n; i++)
            ok &= rel_err(y[i], exp(x[i] - m)) < TOL_EXP;
        CU_ASSERT(ok);
        /* In place, the same bits. */
        for (size_t i = 0; i < n; i++)
            z[i] = x[i];
        CU_ASSERT_EQUAL(fastexp_shifted_sum(z, z, m, n), got);
        ok = 1;
        for (size_t i = 0; i < n; i++)
            ok &= z[i] == y[i];
        CU_ASSERT(ok);
    }
}

/* softplus against mamba_softplus (log1p(exp(x)), x itself above 30). */
static void test_softplus(void)
{
    rng r;
    rng_seed(&r, 17);
    size_t n = 1 << 18;
    double *x = mem_alloc(n * sizeof *x), *y = mem_alloc(n * sizeof *y);
    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    for (size_t i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        x[i] = i % 3 == 0 ? -800 + 850 * u : i % 3 == 1 ? 8 * rng_gauss(&r) : 1e-6 * (2 * u - 1);
    }
    x[0] = 30.0, x[1] = 30.000001, x[2] = 0.0, x[3] = -40.0, x[4] = 1e300, x[5] = -1e300;
    x[6] = INFINITY, x[7] = -INFINITY;
    fastexp_softplus(y, x, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        double want = mamba_softplus(x[i]);
        /* Below about -708 both are below 1e-307: compare absolutely there. */
        worst = fmax(worst, want > 1e-300 ? rel_err(y[i], want) : fabs(y[i] - want) * 1e292);
    }
    CU_ASSERT(worst < 2e-15);
    CU_ASSERT_EQUAL(y[1], 30.000001);
    CU_ASSERT(isinf(y[6]) && y[6] > 0);
    CU_ASSERT_EQUAL(y[7], 0.0);
    double nan_in = NAN, out;
    fastexp_softplus(&out, &nan_in, 1);
    CU_ASSERT(isnan(out));
    mem_free(x);
    mem_free(y);
}

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* Above 256 x 256 scores the untraced attn_softmax takes the blocked path (64 rows at a time,
 * fastexp); the traced run and attn_softmax_slow are the references. Sizes cover a partial
 * last block and a single partial block beyond it. */
static void test_softmax_blocked(void)
{
    rng r;
    rng_seed(&r, 77);
    size_t sizes[] = {257, 300, 385};
    for (size_t si = 0; si < 3; si++)
        for (int causal = 0; causal < 2; causal++) {
            size_t n = sizes[si], d = 8 + 8 * si, dv = 3 + si;
            double *q = mat_new(n, d), *k = mat_new(n, d), *v = mat_new(n, dv);
            double *o1 = mat_new(n, dv), *o2 = mat_new(n, dv), *o3 = mat_new(n, dv);
            mat_gauss(q, n * d, &r, 2.0);
            mat_gauss(k, n * d, &r, 2.0);
            mat_gauss(v, n * dv, &r, 1.0);
            trace *tr = trace_new(0);
            CU_ASSERT_EQUAL(attn_softmax(o1, q, k, v, n, d, dv, causal, NULL), 0);
            CU_ASSERT_EQUAL(attn_softmax(o2, q, k, v, n, d, dv, causal, tr), 0);
            CU_ASSERT_EQUAL(attn_softmax_slow(o3, q, k, v, n, d, dv, causal), 0);
            double scale = 1 + max_abs(o3, n * dv);
            CU_ASSERT(mat_max_abs_diff(o1, o2, n * dv) < TOL_PATH * scale);
            CU_ASSERT(mat_max_abs_diff(o1, o3, n * dv) < TOL_PATH * scale);
            /* Causal row 0 sees only key 0: its output is v's row 0 exactly. */
            if (causal)
                CU_ASSERT(mat_max_abs_diff(o1, v, dv) < 1e-15);
            trace_free(tr);
            double *m[] = {q, k, v, o1, o2, o3};
            for (size_t i = 0; i < 6; i++)
                mat_free(m[i]);
        }
}

static int sweep_softmax(void *ctx)
{
    (void)ctx;
    size_t n = 260, d = 4, dv = 2;
    double *q = mem_calloc(n * d, sizeof *q), *o = mem_calloc(n * dv, sizeof *o);
    if (!q || !o) {
        mem_free(q);
        mem_free(o);
        return TUTOR_ENOMEM;
    }
    int rc = attn_softmax(o, q, q, q, n, d, dv, 1, NULL);
    mem_free(q);
    mem_free(o);
    return rc;
}

static void test_softmax_blocked_alloc(void)
{
    CU_ASSERT(th_alloc_sweep(sweep_softmax, NULL, 0) >= 2);
}

#if FASTEXP_FMA_CLONES
/* The fused kernels over arrays, compiled for AVX2 + FMA (call only on such a CPU). */
FASTEXP_FMA_AVX2 static void fused_kernels(double *e, double *sp, const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        e[i] = fastexp1_fma(x[i]);
        sp[i] = fastexp_softplus1_madd(x[i], 1);
    }
}
#endif

/* fastexp1_fma and the fused softplus (what the Mamba scan's FMA clone runs) keep the
 * portable kernels' error bounds against libm: e^x within TOL_EXP over the kept range,
 * below it 0, above it +inf; softplus within 2e-15 up to 30 and x itself above. Skipped
 * (nothing to run) on a CPU without AVX2 and FMA. */
static void test_fused_kernels(void)
{
#if FASTEXP_FMA_CLONES
    if (fastexp_fma_level() == 0)
        return;
    rng r;
    rng_seed(&r, 77);
    size_t n = 1 << 18;
    double *x = mem_alloc(n * sizeof *x), *e = mem_alloc(n * sizeof *e);
    double *sp = mem_alloc(n * sizeof *sp);
    CU_ASSERT_FATAL(x && e && sp);
    for (size_t i = 0; i < n; i++) {
        double u = rng_uniform(&r);
        x[i] = i % 2 ? -40.0 * u : FASTEXP_MIN + u * (FASTEXP_MAX - 1e-9 - FASTEXP_MIN);
    }
    x[0] = FASTEXP_MIN - 1;
    x[1] = FASTEXP_MAX + 1;
    fused_kernels(e, sp, x, n);
    CU_ASSERT_EQUAL(e[0], 0);
    CU_ASSERT(isinf(e[1]) && e[1] > 0);
    double worst = 0, worst_sp = 0;
    for (size_t i = 2; i < n; i++) {
        worst = fmax(worst, rel_err(e[i], exp(x[i])));
        double want = mamba_softplus(x[i]);
        worst_sp = x[i] > 30 ? fmax(worst_sp, sp[i] == want ? 0 : 1)
                             : fmax(worst_sp, rel_err(sp[i], want));
    }
    CU_ASSERT(worst < TOL_EXP);
    CU_ASSERT(worst_sp < 2e-15);
    mem_free(x);
    mem_free(e);
    mem_free(sp);
#endif
}

/* A random Mamba input: Gaussian u, Delta_raw (sd 1.5), B, C, Dskip and z; A = -e^g. */
typedef struct mamba_fix {
    double *u, *dr, *z, *A, *B, *C, *Dv, *y1, *d1, *y2, *d2; /* y, Delta: two runs' outputs */
    mamba_in in;
} mamba_fix;

static void mamba_fix_free(mamba_fix *f)
{
    double *m[] = {f->u, f->dr, f->z, f->A, f->B, f->C, f->Dv, f->y1, f->d1, f->y2, f->d2};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        mem_free(m[i]);
}

static void mamba_fix_new(mamba_fix *f, size_t L, size_t D, size_t N, rng *r)
{
    size_t LD = L * D;
    f->u = mem_alloc(LD * sizeof(double));
    f->dr = mem_alloc(LD * sizeof(double));
    f->z = mem_alloc(LD * sizeof(double));
    f->A = mem_alloc(D * N * sizeof(double));
    f->B = mem_alloc(L * N * sizeof(double));
    f->C = mem_alloc(L * N * sizeof(double));
    f->Dv = mem_alloc(D * sizeof(double));
    f->y1 = mem_alloc(LD * sizeof(double));
    f->d1 = mem_alloc(LD * sizeof(double));
    f->y2 = mem_alloc(LD * sizeof(double));
    f->d2 = mem_alloc(LD * sizeof(double));
    CU_ASSERT_FATAL(f->u && f->dr && f->z && f->A && f->B && f->C && f->Dv && f->y1 && f->d1 &&
                    f->y2 && f->d2);
    mat_gauss(f->u, LD, r, 1);
    mat_gauss(f->dr, LD, r, 1.5);
    for (size_t i = 0; i < D * N; i++)
        f->A[i] = -exp(rng_gauss(r));
    mat_gauss(f->B, L * N, r, 1);
    mat_gauss(f->C, L * N, r, 1);
    mat_gauss(f->Dv, D, r, 1);
    mat_gauss(f->z, LD, r, 1);
    f->in = (mamba_in){.L = L,
                       .D = D,
                       .N = N,
                       .u = f->u,
                       .delta_raw = f->dr,
                       .A = f->A,
                       .B = f->B,
                       .C = f->C,
                       .Dskip = f->Dv,
                       .z = f->z};
}

/* Runs the traced scan into y2, d2 and checks y1, d1 against it. */
static void mamba_fix_check_traced(mamba_fix *f)
{
    size_t LD = f->in.L * f->in.D;
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(mamba_scan(f->y2, f->d2, &f->in, tr), 0);
    CU_ASSERT(mat_max_abs_diff(f->y1, f->y2, LD) < TOL_PATH * (1 + max_abs(f->y2, LD)));
    CU_ASSERT(mat_max_abs_diff(f->d1, f->d2, LD) < TOL_PATH * (1 + max_abs(f->d2, LD)));
    trace_free(tr);
}

/* The untraced mamba_scan (fastexp inlined in its fused pass) against the traced one
 * (libm's exp, loop by loop), with and without skip and gate, including a positive A,
 * which fastexp handles too. */
static void test_mamba_fast_vs_traced(void)
{
    rng r;
    rng_seed(&r, 91);
    for (int trial = 0; trial < 12; trial++) {
        size_t L = 1 + (size_t)rng_range(&r, 0, 60), D = 1 + (size_t)rng_range(&r, 0, 9);
        size_t N = 1 + (size_t)rng_range(&r, 0, 17);
        mamba_fix f;
        mamba_fix_new(&f, L, D, N, &r);
        if (trial == 0)
            f.A[0] = 0.3;
        f.in.Dskip = trial % 2 ? f.Dv : NULL;
        f.in.z = trial % 3 ? f.z : NULL;
        CU_ASSERT_EQUAL(mamba_scan(f.y1, f.d1, &f.in, NULL), 0);
        mamba_fix_check_traced(&f);
        mamba_fix_free(&f);
    }
}

/* The untraced scan shares the channels out over threads in blocks of 8: every thread count
 * (with short and empty last blocks: D = 37 into up to 5 parts) gives the same bits as one
 * thread, for y and for Delta, and those match the traced scan to rounding. */
static void test_mamba_threads(void)
{
    rng r;
    rng_seed(&r, 404);
    size_t L = 40, D = 37, N = 5, LD = L * D;
    mamba_fix f;
    mamba_fix_new(&f, L, D, N, &r);
    f.in.threads = 1;
    CU_ASSERT_EQUAL(mamba_scan(f.y1, f.d1, &f.in, NULL), 0);
    for (size_t k = 0; k <= 6; k++) {
        f.in.threads = k; /* 0: automatic; 6: more than the 5 blocks there are */
        CU_ASSERT_EQUAL(mamba_scan(f.y2, f.d2, &f.in, NULL), 0);
        CU_ASSERT_EQUAL(memcmp(f.y2, f.y1, LD * sizeof(double)), 0);
        CU_ASSERT_EQUAL(memcmp(f.d2, f.d1, LD * sizeof(double)), 0);
    }
    mamba_fix_check_traced(&f);
    mamba_fix_free(&f);
}

static int sweep_mamba(void *ctx)
{
    (void)ctx;
    size_t L = 3, D = 20, N = 2;
    double *x = mem_calloc(L * D, sizeof *x), *p = mem_calloc(L * N, sizeof *p);
    double *y = mem_alloc(L * D * sizeof *y), *A = mem_alloc(D * N * sizeof *A);
    int rc = TUTOR_ENOMEM;
    if (x && p && y && A) {
        for (size_t i = 0; i < D * N; i++)
            A[i] = -1;
        mamba_in in = {
            .L = L, .D = D, .N = N, .u = x, .delta_raw = x, .A = A, .B = p, .C = p, .threads = 3};
        rc = mamba_scan(y, NULL, &in, NULL);
    }
    mem_free(x);
    mem_free(p);
    mem_free(y);
    mem_free(A);
    return rc;
}

/* The untraced scan allocates once, before any thread starts; a failure there is reported
 * and leaks nothing. */
static void test_mamba_fast_alloc(void)
{
    CU_ASSERT(th_alloc_sweep(sweep_mamba, NULL, 0) >= 5);
}

void tests_register(void)
{
    static const th_test tests[] = {
        {"fastexp against libm exp on 2^20 inputs", test_exp_against_libm},
        {"fastexp edges, specials and every short length", test_exp_edges},
        {"shifted exponentials and their sum", test_shifted_sum},
        {"softplus against mamba_softplus", test_softplus},
        {"fused (FMA) exponential and softplus against libm", test_fused_kernels},
        {"blocked softmax against traced and slow", test_softmax_blocked},
        {"blocked softmax allocation failures", test_softmax_blocked_alloc},
        {"mamba untraced against traced", test_mamba_fast_vs_traced},
        {"mamba untraced: the same bits on any number of threads", test_mamba_threads},
        {"mamba untraced allocation failures", test_mamba_fast_alloc},
        {NULL, NULL},
    };
    th_suite("fastexp", tests);
}
