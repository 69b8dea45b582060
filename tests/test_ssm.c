/* Tests of the state-space models (models/ssm.c, s4d.c, mamba.c, lru.c, retention.c) and the
 * `ssm` topic: every fast form against its slow form, hand-worked cases, traces, the CLI's
 * JSON shapes and bad inputs, allocation failures. */
#include <complex.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/hippo.h"
#include "../models/linalg.h"
#include "../models/lru.h"
#include "../models/mamba.h"
#include "../models/mat.h"
#include "../models/retention.h"
#include "../models/s4d.h"
#include "../models/s4.h"
#include "../models/ssm.h"
#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "../tutor/core/parse.h"
#include "../tutor/topics/topic.h"
#include "harness.h"

static strbuf out = STRBUF_INIT, err = STRBUF_INIT;

static double max_abs(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(a[i]));
    return m;
}

/* ---- LTI and S4 ---- */

static void test_recurrence_equals_convolution(void)
{
    rng r;
    rng_seed(&r, 21);
    for (int trial = 0; trial < 40; trial++) {
        size_t N = 1 + (size_t)rng_range(&r, 0, 9), L = 1 + (size_t)rng_range(&r, 0, 150);
        double *A = mem_alloc(N * N * sizeof *A), *B = mem_alloc(N * sizeof *B);
        double *C = mem_alloc(N * sizeof *C), *Ab = mem_alloc(N * N * sizeof *Ab);
        double *Bb = mem_alloc(N * sizeof *Bb), *u = mem_alloc(L * sizeof *u);
        double *y1 = mem_alloc(L * sizeof *y1), *y2 = mem_alloc(L * sizeof *y2);
        double *K = mem_alloc(L * sizeof *K), *y3 = mem_alloc(L * sizeof *y3);
        double D = rng_gauss(&r);
        if (trial % 2) {
            s4_init(A, B, C, &D, N, &r); /* S4: HiPPO-LegS A */
        } else {
            /* A random stable A: Gaussian, shifted left. */
            mat_gauss(A, N * N, &r, 0.5);
            for (size_t i = 0; i < N; i++)
                A[i * N + i] -= 2;
            mat_gauss(B, N, &r, 1);
            mat_gauss(C, N, &r, 1);
        }
        mat_gauss(u, L, &r, 1);
        ssm_method m = trial % 4 < 2 ? SSM_BILINEAR : SSM_ZOH;
        CU_ASSERT_EQUAL_FATAL(ssm_discretize(Ab, Bb, A, B, N, 0.05 + 0.1 * rng_uniform(&r), m), 0);
        CU_ASSERT_EQUAL(ssm_recurrent(y1, NULL, Ab, Bb, C, D, u, N, L, NULL), 0);
        CU_ASSERT_EQUAL(ssm_convolution(y2, K, Ab, Bb, C, D, u, N, L, NULL), 0);
        /* The slow convolution with the same kernel. */
        linalg_conv_direct(y3, K, u, L);
        for (size_t t = 0; t < L; t++)
            y3[t] += D * u[t];
        double scale = 1 + max_abs(y1, L);
        CU_ASSERT_TRUE(mat_max_abs_diff(y1, y2, L) < 1e-11 * scale);
        CU_ASSERT_TRUE(mat_max_abs_diff(y1, y3, L) < 1e-11 * scale);
        /* K[0] = C Bbar, K[1] = C Abar Bbar by hand. */
        double v[10];
        mat_gemv(v, Ab, Bb, N, N, 0, 1, 0);
        CU_ASSERT_DOUBLE_EQUAL(K[0], mat_dot(C, Bb, N), 1e-13);
        if (L > 1) {
            CU_ASSERT_DOUBLE_EQUAL(K[1], mat_dot(C, v, N), 1e-13);
        }
        double *bufs[] = {A, B, C, Ab, Bb, u, y1, y2, K, y3};
        for (size_t i = 0; i < 10; i++)
            mem_free(bufs[i]);
    }
}

static void test_scalar_ssm_by_hand(void)
{
    /* Abar = 0.5, Bbar = 1, C = 2, D = 1, u = (1, 0, 0, 1): x = 1, .5, .25, 1.125;
     * y = 2x + u = 3, 1, .5, 3.25; kernel 2 * 0.5^j. */
    double Ab = 0.5, Bb = 1, C = 2, u[4] = {1, 0, 0, 1}, y[4], K[4];
    double want[4] = {3, 1, 0.5, 3.25};
    CU_ASSERT_EQUAL(ssm_recurrent(y, NULL, &Ab, &Bb, &C, 1, u, 1, 4, NULL), 0);
    CU_ASSERT_TRUE(mat_max_abs_diff(y, want, 4) < 1e-15);
    CU_ASSERT_EQUAL(ssm_convolution(y, K, &Ab, &Bb, &C, 1, u, 1, 4, NULL), 0);
    CU_ASSERT_TRUE(mat_max_abs_diff(y, want, 4) < 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(K[3], 0.25, 1e-15);
}

/* ---- S4D ---- */

static void test_s4d_init_by_hand(void)
{
    double complex A[4], B[4], C[4];
    double D;
    rng r;
    rng_seed(&r, 1);
    s4d_init(A, B, C, &D, 4, S4D_LIN, &r);
    CU_ASSERT_DOUBLE_EQUAL(creal(A[3]), -0.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(cimag(A[3]), 3 * M_PI, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(creal(B[2]), 1, 0);
    s4d_init(A, B, C, &D, 4, S4D_INV, &r);
    /* N = 8: A_n = -1/2 + i (8/pi)(8/(2n+1) - 1). */
    CU_ASSERT_DOUBLE_EQUAL(cimag(A[0]), 8 / M_PI * 7, 1e-13);
    CU_ASSERT_DOUBLE_EQUAL(cimag(A[1]), 8 / M_PI * (8.0 / 3 - 1), 1e-13);
    double complex Ab[1], Bb[1], a0[1] = {-0.5 + 2 * I}, b0[1] = {1};
    CU_ASSERT_EQUAL(s4d_discretize(Ab, Bb, a0, b0, 1, 0.1), 0);
    CU_ASSERT_TRUE(cabs(Ab[0] - cexp(0.1 * a0[0])) < 1e-15);
    CU_ASSERT_TRUE(cabs(Bb[0] - (cexp(0.1 * a0[0]) - 1) / a0[0]) < 1e-15);
    CU_ASSERT_EQUAL(s4d_discretize(Ab, Bb, a0, b0, 1, 0), TUTOR_EINVAL);
    double complex zero[1] = {0};
    CU_ASSERT_EQUAL(s4d_discretize(Ab, Bb, zero, b0, 1, 0.1), TUTOR_EINVAL);
}

static void test_s4d_kernel_equals_recurrence(void)
{
    rng r;
    rng_seed(&r, 33);
    for (int trial = 0; trial < 20; trial++) {
        size_t M = 1 + (size_t)rng_range(&r, 0, 15), L = 1 + (size_t)rng_range(&r, 0, 200);
        double complex A[16], B[16], C[16], Ab[16], Bb[16], dtA[16];
        double D, dt = 0.01 + 0.1 * rng_uniform(&r);
        s4d_init(A, B, C, &D, M, trial % 2 ? S4D_INV : S4D_LIN, &r);
        CU_ASSERT_EQUAL_FATAL(s4d_discretize(Ab, Bb, A, B, M, dt), 0);
        for (size_t n = 0; n < M; n++)
            dtA[n] = dt * A[n];
        double *u = mem_alloc(L * sizeof *u), *y1 = mem_alloc(L * sizeof *y1);
        double *y2 = mem_alloc(L * sizeof *y2), *K = mem_alloc(L * sizeof *K);
        mat_gauss(u, L, &r, 1);
        CU_ASSERT_EQUAL(s4d_recurrent(y1, Ab, Bb, C, D, u, M, L, NULL), 0);
        CU_ASSERT_EQUAL(s4d_convolution(y2, K, dtA, Bb, C, D, u, M, L, NULL), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(y1, y2, L) < 1e-10 * (1 + max_abs(y1, L)));
        /* The same model as a real 2M-state LTI system (a 2 x 2 rotation-scaling block per
         * mode), discretised by the general zoh (block matrix exponential): same kernel. */
        size_t N = 2 * M;
        double *Ar = mem_calloc(N * N, sizeof *Ar), Br[32], Cr[32], Abr[32 * 32], Bbr[32];
        double *Kr = mem_alloc(L * sizeof *Kr);
        for (size_t n = 0; n < M; n++) {
            size_t p = 2 * n, q = 2 * n + 1;
            Ar[p * N + p] = Ar[q * N + q] = creal(A[n]);
            Ar[p * N + q] = -cimag(A[n]);
            Ar[q * N + p] = cimag(A[n]);
            Br[p] = creal(B[n]);
            Br[q] = cimag(B[n]);
            Cr[p] = 2 * creal(C[n]);
            Cr[q] = -2 * cimag(C[n]);
        }
        CU_ASSERT_EQUAL(ssm_discretize(Abr, Bbr, Ar, Br, N, dt, SSM_ZOH), 0);
        CU_ASSERT_EQUAL(ssm_kernel(Kr, Abr, Bbr, Cr, N, L), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(K, Kr, L) < 1e-9 * (1 + max_abs(K, L)));
        mem_free(u);
        mem_free(y1);
        mem_free(y2);
        mem_free(K);
        mem_free(Ar);
        mem_free(Kr);
    }
}

/* ---- Mamba ---- */

typedef struct mamba_case {
    double *u, *dr, *A, *B, *C, *Dv, *z;
    mamba_in in;
} mamba_case;

static void mamba_case_new(mamba_case *c, size_t L, size_t D, size_t N, int skip, int gate, rng *r)
{
    c->u = mem_alloc(L * D * sizeof(double));
    c->dr = mem_alloc(L * D * sizeof(double));
    c->A = mem_alloc(D * N * sizeof(double));
    c->B = mem_alloc(L * N * sizeof(double));
    c->C = mem_alloc(L * N * sizeof(double));
    c->Dv = skip ? mem_alloc(D * sizeof(double)) : NULL;
    c->z = gate ? mem_alloc(L * D * sizeof(double)) : NULL;
    mat_gauss(c->u, L * D, r, 1);
    mat_gauss(c->dr, L * D, r, 1.5);
    for (size_t i = 0; i < D * N; i++)
        c->A[i] = -exp(rng_gauss(r)); /* negative, as Mamba's A = -exp(A_log) */
    mat_gauss(c->B, L * N, r, 1);
    mat_gauss(c->C, L * N, r, 1);
    if (skip)
        mat_gauss(c->Dv, D, r, 1);
    if (gate)
        mat_gauss(c->z, L * D, r, 1);
    c->in = (mamba_in){.L = L,
                       .D = D,
                       .N = N,
                       .u = c->u,
                       .delta_raw = c->dr,
                       .A = c->A,
                       .B = c->B,
                       .C = c->C,
                       .Dskip = c->Dv,
                       .z = c->z};
}

static void mamba_case_free(mamba_case *c)
{
    double *p[] = {c->u, c->dr, c->A, c->B, c->C, c->Dv, c->z};
    for (size_t i = 0; i < 7; i++)
        mem_free(p[i]);
}

static void test_mamba_parallel_equals_sequential(void)
{
    rng r;
    rng_seed(&r, 44);
    for (size_t L = 1; L <= 70; L += (L < 17 ? 1 : 13)) {
        size_t D = 1 + (size_t)rng_range(&r, 0, 3), N = 1 + (size_t)rng_range(&r, 0, 5);
        mamba_case c;
        mamba_case_new(&c, L, D, N, L % 2 == 0, L % 3 == 0, &r);
        double *y1 = mem_alloc(L * D * sizeof *y1), *y2 = mem_alloc(L * D * sizeof *y2);
        CU_ASSERT_EQUAL(mamba_scan(y1, NULL, &c.in, NULL), 0);
        CU_ASSERT_EQUAL(mamba_scan_parallel(y2, &c.in, NULL), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(y1, y2, L * D) < 1e-12 * (1 + max_abs(y1, L * D)));
        mem_free(y1);
        mem_free(y2);
        mamba_case_free(&c);
    }
}

/* The largest |a - b| over the largest |b|: the norm-wise relative difference. */
static double rel_diff(const double *a, const double *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num = fmax(num, fabs(a[i] - b[i]));
        den = fmax(den, fabs(b[i]));
    }
    return den > 0 ? num / den : num;
}

/* The untraced scan's FMA clone (chosen at run time when the CPU has FMA) against its
 * portable arithmetic (in.portable): y and Delta within 1e-10 relative, over long
 * sequences (rounding differences carried through thousands of steps), channel counts that
 * leave a narrower last lane (D = 300, 13, 37), with
 * and without skip and gate, on one thread and on three. On an FMA CPU the two must also
 * differ somewhere, which shows the clone ran; elsewhere both are the portable code. */
static void test_mamba_fma_vs_portable(void)
{
    static const size_t shapes[][3] = {{2000, 13, 16}, {300, 300, 16}, {1500, 37, 5}, {64, 8, 1}};
    rng r;
    rng_seed(&r, 1313);
    int fma_cpu = strcmp(mamba_scan_kernel(&(mamba_in){0}), "portable") != 0;
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t L = shapes[k][0], D = shapes[k][1], N = shapes[k][2], LD = L * D;
        mamba_case c;
        mamba_case_new(&c, L, D, N, k % 2 == 0, k != 1, &r);
        double *y1 = mem_alloc(LD * sizeof *y1), *y2 = mem_alloc(LD * sizeof *y2);
        double *d1 = mem_alloc(LD * sizeof *d1), *d2 = mem_alloc(LD * sizeof *d2);
        CU_ASSERT_FATAL(y1 && y2 && d1 && d2);
        c.in.threads = k == 2 ? 3 : 1;
        c.in.portable = 1;
        CU_ASSERT_STRING_EQUAL(mamba_scan_kernel(&c.in), "portable");
        CU_ASSERT_EQUAL(mamba_scan(y1, d1, &c.in, NULL), 0);
        c.in.portable = 0;
        CU_ASSERT_EQUAL(mamba_scan(y2, d2, &c.in, NULL), 0);
        CU_ASSERT(rel_diff(y2, y1, LD) < 1e-10);
        CU_ASSERT(rel_diff(d2, d1, LD) < 1e-10);
        if (fma_cpu)
            CU_ASSERT(memcmp(y1, y2, LD * sizeof *y1) != 0);
        mem_free(y1);
        mem_free(y2);
        mem_free(d1);
        mem_free(d2);
        mamba_case_free(&c);
    }
}

/* The untraced scan takes whole lanes of 8 channels and then one narrower lane (the tail):
 * channel k of a 13-channel input is scanned in a full lane for k < 8 and in the tail for
 * k >= 8. Each channel scanned alone (D = 1: a lane of width 1) must give the same bits for y
 * and Delta, in the portable arithmetic and in the FMA clone, with skip and gate on; code
 * whose operations depended on the lane's width fails here. */
static void test_mamba_lane_vs_tail(void)
{
    rng r;
    rng_seed(&r, 808);
    size_t L = 37, D = 13, N = 5;
    mamba_case c;
    mamba_case_new(&c, L, D, N, 1, 1, &r);
    double *y = mem_alloc(L * D * sizeof *y), *dl = mem_alloc(L * D * sizeof *dl);
    double *u = mem_alloc(L * sizeof *u), *dr = mem_alloc(L * sizeof *dr);
    double *z = mem_alloc(L * sizeof *z), *y1 = mem_alloc(L * sizeof *y1);
    double *d1 = mem_alloc(L * sizeof *d1);
    CU_ASSERT_FATAL(y && dl && u && dr && z && y1 && d1);
    int differ = 0;
    for (int portable = 0; portable <= 1; portable++) {
        c.in.portable = portable;
        c.in.threads = 1;
        CU_ASSERT_EQUAL_FATAL(mamba_scan(y, dl, &c.in, NULL), 0);
        for (size_t k = 0; k < D; k++) {
            for (size_t t = 0; t < L; t++) {
                u[t] = c.u[t * D + k];
                dr[t] = c.dr[t * D + k];
                z[t] = c.z[t * D + k];
            }
            mamba_in one = c.in;
            one.D = 1;
            one.u = u;
            one.delta_raw = dr;
            one.z = z;
            one.A = c.A + k * N;
            one.Dskip = c.Dv + k;
            CU_ASSERT_EQUAL_FATAL(mamba_scan(y1, d1, &one, NULL), 0);
            for (size_t t = 0; t < L; t++)
                if (memcmp(&y1[t], &y[t * D + k], sizeof *y1) != 0 ||
                    memcmp(&d1[t], &dl[t * D + k], sizeof *d1) != 0)
                    differ++;
        }
    }
    CU_ASSERT_EQUAL(differ, 0);
    double *m[] = {y, dl, u, dr, z, y1, d1};
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        mem_free(m[i]);
    mamba_case_free(&c);
}

static void test_mamba_by_hand(void)
{
    /* One channel, one state, A = -1, delta_raw = 0 (Delta = ln 2), B = 1, C = 2, D = 0.5,
     * u = (1, 3): h1 = ln2 * 1, h2 = exp(-ln2) h1 + ln2 * 3 = ln2 (0.5 + 3);
     * y = 2h + 0.5u; with gate z = 0, silu(0) = 0 so y = 0. */
    double u[2] = {1, 3}, dr[2] = {0, 0}, A[1] = {-1}, B[2] = {1, 1}, C[2] = {2, 2};
    double Dv[1] = {0.5}, y[2], delta[2], z[2] = {0, 100};
    mamba_in in = {
        .L = 2, .D = 1, .N = 1, .u = u, .delta_raw = dr, .A = A, .B = B, .C = C, .Dskip = Dv};
    CU_ASSERT_EQUAL(mamba_scan(y, delta, &in, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(delta[0], log(2), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[0], 2 * log(2) + 0.5, 1e-14);
    CU_ASSERT_DOUBLE_EQUAL(y[1], 2 * log(2) * 3.5 + 1.5, 1e-14);
    in.z = z;
    CU_ASSERT_EQUAL(mamba_scan(y, NULL, &in, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(y[0], 0, 1e-15);
    /* silu(100) = 100 sigmoid(100) = 100 to double precision. */
    CU_ASSERT_DOUBLE_EQUAL(y[1], 100 * (2 * log(2) * 3.5 + 1.5), 1e-11);
    CU_ASSERT_DOUBLE_EQUAL(mamba_softplus(800), 800, 0);
    CU_ASSERT_DOUBLE_EQUAL(mamba_softplus(-800), 0, 1e-300);
    in.L = 0;
    CU_ASSERT_EQUAL(mamba_scan(y, NULL, &in, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(mamba_scan_parallel(y, &in, NULL), TUTOR_EINVAL);
}

static void test_mamba_selective_copy(void)
{
    for (uint64_t seed = 1; seed <= 10; seed++) {
        size_t L = 64 + 8 * (size_t)seed, K = 2 + seed % 4;
        mamba_demo d;
        CU_ASSERT_EQUAL_FATAL(mamba_selective_copy(&d, L, K, seed), 0);
        for (size_t j = 1; j < K; j++)
            CU_ASSERT_TRUE(d.marked[j - 1] < d.marked[j]);
        CU_ASSERT_TRUE(d.marked[K - 1] < L - K);
        mamba_in in = mamba_demo_input(&d);
        double *y = mem_alloc(L * sizeof *y), worst = 0;
        CU_ASSERT_EQUAL(mamba_scan(y, NULL, &in, NULL), 0);
        for (size_t j = 0; j < K; j++)
            worst = fmax(worst, fabs(y[L - K + j] - d.target[j]));
        /* The leak (A = -0.01 over up to L steps) and noise let through at Delta ~ 4.5e-5
         * bound the error well below the marked values' size (>= 1). */
        CU_ASSERT_TRUE(worst < 0.15);
        /* Without selectivity: one Delta for every token (the mean of the selective ones'
         * raw values), as a time-invariant model would have. The noise now gets in. */
        double mean = 0;
        for (size_t t = 0; t < L; t++)
            mean += d.delta_raw[t] / (double)L;
        for (size_t t = 0; t < L; t++)
            d.delta_raw[t] = mean + 2; /* Delta about 0.1: enough to let tokens in at all */
        double lti = 0;
        CU_ASSERT_EQUAL(mamba_scan(y, NULL, &in, NULL), 0);
        for (size_t j = 0; j < K; j++)
            lti = fmax(lti, fabs(y[L - K + j] - d.target[j]));
        CU_ASSERT_TRUE(lti > 0.3);
        mem_free(y);
        mamba_demo_free(&d);
    }
    mamba_demo d;
    CU_ASSERT_EQUAL(mamba_selective_copy(&d, 5, 3, 1), TUTOR_EINVAL);
}

/* ---- LRU ---- */

static void test_lru(void)
{
    rng r;
    rng_seed(&r, 55);
    for (int trial = 0; trial < 20; trial++) {
        size_t N = 1 + (size_t)rng_range(&r, 0, 9), H = 1 + (size_t)rng_range(&r, 0, 2);
        size_t L = 1 + (size_t)rng_range(&r, 0, 90);
        lru_params p;
        CU_ASSERT_EQUAL_FATAL(lru_init(&p, N, H, 0.4, 0.95, M_PI, &r), 0);
        for (size_t n = 0; n < N; n++) {
            double m = cabs(p.lambda[n]);
            CU_ASSERT_TRUE(m >= 0.4 - 1e-12 && m <= 0.95 + 1e-12);
            CU_ASSERT_DOUBLE_EQUAL(m, exp(-exp(p.nu[n])), 1e-14);
            CU_ASSERT_DOUBLE_EQUAL(p.gamma[n], sqrt(1 - m * m), 1e-14);
        }
        double *u = mem_alloc(L * H * sizeof *u), *y1 = mem_alloc(L * H * sizeof *y1);
        double *y2 = mem_alloc(L * H * sizeof *y2);
        mat_gauss(u, L * H, &r, 1);
        CU_ASSERT_EQUAL(lru_recurrent(y1, &p, u, L, NULL), 0);
        CU_ASSERT_EQUAL(lru_scan(y2, &p, u, L, NULL), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(y1, y2, L * H) < 1e-12 * (1 + max_abs(y1, L * H)));
        mem_free(u);
        mem_free(y1);
        mem_free(y2);
        lru_free(&p);
    }
    /* By hand: N = H = 1, lambda = 0.5 i, B = 1, C = 1, D = 0: x1 = gamma u1,
     * x2 = 0.5 i gamma u1 + gamma u2; y = Re(x). */
    lru_params p;
    CU_ASSERT_EQUAL_FATAL(lru_init(&p, 1, 1, 0.1, 0.9, 1, &r), 0);
    p.lambda[0] = 0.5 * I;
    p.gamma[0] = sqrt(0.75);
    p.B[0] = 1;
    p.C[0] = 1;
    p.Dskip[0] = 0;
    double u[3] = {1, 2, 0}, y[3];
    CU_ASSERT_EQUAL(lru_recurrent(y, &p, u, 3, NULL), 0);
    CU_ASSERT_DOUBLE_EQUAL(y[0], sqrt(0.75), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[1], 2 * sqrt(0.75), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[2], -0.25 * sqrt(0.75), 1e-15); /* (0.5i)^2 gamma = -0.25 gamma */
    lru_free(&p);
    CU_ASSERT_EQUAL(lru_init(&p, 1, 1, 0.9, 0.5, 1, &r), TUTOR_EINVAL);
}

/* ---- retention ---- */

static void test_retention(void)
{
    rng r;
    rng_seed(&r, 66);
    for (int trial = 0; trial < 20; trial++) {
        size_t L = 1 + (size_t)rng_range(&r, 0, 40), d = 1 + (size_t)rng_range(&r, 0, 5);
        size_t dv = 1 + (size_t)rng_range(&r, 0, 5);
        double gamma = trial == 0 ? 0 : trial == 1 ? 1 : rng_uniform(&r);
        double *Q = mem_alloc(L * d * sizeof *Q), *K = mem_alloc(L * d * sizeof *K);
        double *V = mem_alloc(L * dv * sizeof *V), *o1 = mem_alloc(L * dv * sizeof *o1);
        double *o2 = mem_alloc(L * dv * sizeof *o2), *o3 = mem_calloc(L * dv, sizeof *o3);
        mat_gauss(Q, L * d, &r, 1);
        mat_gauss(K, L * d, &r, 1);
        mat_gauss(V, L * dv, &r, 1);
        CU_ASSERT_EQUAL(retention_parallel(o1, Q, K, V, gamma, L, d, dv, NULL), 0);
        CU_ASSERT_EQUAL(retention_recurrent(o2, Q, K, V, gamma, L, d, dv, NULL), 0);
        /* The obvious triple loop: O_n = sum_{m <= n} gamma^(n-m) (Q_n . K_m) V_m. */
        for (size_t n = 0; n < L; n++)
            for (size_t m = 0; m <= n; m++) {
                double w = pow(gamma, (double)(n - m)) * mat_dot(Q + n * d, K + m * d, d);
                for (size_t j = 0; j < dv; j++)
                    o3[n * dv + j] += w * V[m * dv + j];
            }
        double scale = 1 + max_abs(o3, L * dv);
        CU_ASSERT_TRUE(mat_max_abs_diff(o1, o3, L * dv) < 1e-12 * scale);
        CU_ASSERT_TRUE(mat_max_abs_diff(o2, o3, L * dv) < 1e-12 * scale);
        double *p[] = {Q, K, V, o1, o2, o3};
        for (size_t i = 0; i < 6; i++)
            mem_free(p[i]);
    }
    double q = 1, o;
    CU_ASSERT_EQUAL(retention_parallel(&o, &q, &q, &q, 1.5, 1, 1, 1, NULL), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(retention_recurrent(&o, &q, &q, &q, -0.1, 1, 1, 1, NULL), TUTOR_EINVAL);
}

/* ---- traces ---- */

static void check_lines(trace *tr, size_t listing_len)
{
    size_t n = trace_len(tr);
    CU_ASSERT_TRUE(n > 0);
    for (size_t i = 0; i < n; i++) {
        int line = trace_at(tr, i)->line;
        CU_ASSERT_TRUE(line >= 1 && (size_t)line <= listing_len);
    }
}

static void test_traces(void)
{
    rng r;
    rng_seed(&r, 77);
    double Ab[4] = {0.5, 0.1, 0, 0.4}, Bb[2] = {1, 1}, C[2] = {1, -1}, u[20], y[20];
    mat_gauss(u, 20, &r, 1);
    trace *tr = trace_new(0);
    CU_ASSERT_EQUAL(ssm_recurrent(y, NULL, Ab, Bb, C, 0, u, 2, 20, tr), 0);
    check_lines(tr, ssm_recurrent_listing_len);
    CU_ASSERT_TRUE(mat_max_abs_diff(trace_latest(tr, trace_len(tr) - 1, "y")->reals, y, 20) == 0);
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(ssm_convolution(y, NULL, Ab, Bb, C, 0, u, 2, 20, tr), 0);
    check_lines(tr, ssm_conv_listing_len);
    CU_ASSERT_PTR_NOT_NULL(trace_latest(tr, trace_len(tr) - 1, "kernel"));
    trace_free(tr);
    /* Mamba: the quiz asks whether each token gets in; its answer follows Delta. */
    mamba_demo d;
    CU_ASSERT_EQUAL_FATAL(mamba_selective_copy(&d, 32, 3, 5), 0);
    mamba_in in = mamba_demo_input(&d);
    double ym[32];
    tr = trace_new(0);
    CU_ASSERT_EQUAL(mamba_scan(ym, NULL, &in, tr), 0);
    check_lines(tr, mamba_listing_len);
    size_t yes = 0, quizzes = 0;
    for (size_t i = 0; i < trace_len(tr); i++) {
        const trace_frame *st = trace_at(tr, i);
        if (st->quiz) {
            quizzes++;
            yes += (size_t)st->quiz_answer;
        }
    }
    CU_ASSERT_EQUAL(quizzes, 32);
    CU_ASSERT_EQUAL(yes, 3); /* exactly the marked tokens are let in */
    trace_free(tr);
    tr = trace_new(0);
    CU_ASSERT_EQUAL(mamba_scan_parallel(ym, &in, tr), 0);
    check_lines(tr, mamba_listing_len);
    trace_free(tr);
    mamba_demo_free(&d);
}

/* ---- allocation failures ---- */

static int sweep_library(void *ctx)
{
    (void)ctx;
    rng r;
    rng_seed(&r, 9);
    double Ab[4] = {0.5, 0.1, 0, 0.4}, Bb[2] = {1, 1}, C[2] = {1, -1}, u[9], y[9], K[9];
    mat_gauss(u, 9, &r, 1);
    trace *tr = trace_new(0);
    if (!tr)
        return TUTOR_ENOMEM;
    int rc = ssm_recurrent(y, NULL, Ab, Bb, C, 0, u, 2, 9, tr);
    if (!rc)
        rc = ssm_convolution(y, K, Ab, Bb, C, 0, u, 2, 9, tr);
    double complex A[2] = {-0.5, -0.5 + M_PI * I}, B[2] = {1, 1}, Cc[2] = {1, I};
    double complex Abc[2], Bbc[2];
    if (!rc)
        rc = s4d_discretize(Abc, Bbc, A, B, 2, 0.1);
    if (!rc)
        rc = s4d_recurrent(y, Abc, Bbc, Cc, 0, u, 2, 9, tr);
    double complex dtA[2] = {0.1 * A[0], 0.1 * A[1]};
    if (!rc)
        rc = s4d_convolution(y, K, dtA, Bbc, Cc, 0, u, 2, 9, tr);
    mamba_demo d = {0};
    if (!rc)
        rc = mamba_selective_copy(&d, 9, 2, 3);
    if (!rc) {
        mamba_in in = mamba_demo_input(&d);
        rc = mamba_scan(y, K, &in, tr);
        if (!rc)
            rc = mamba_scan_parallel(y, &in, tr);
    }
    mamba_demo_free(&d);
    lru_params p = {0};
    if (!rc)
        rc = lru_init(&p, 3, 1, 0.5, 0.9, 1, &r);
    if (!rc)
        rc = lru_recurrent(y, &p, u, 9, tr);
    if (!rc)
        rc = lru_scan(y, &p, u, 9, tr);
    lru_free(&p);
    if (!rc)
        rc = retention_parallel(y, u, u, u, 0.5, 3, 3, 3, tr);
    if (!rc)
        rc = retention_recurrent(y, u, u, u, 0.5, 3, 3, 3, tr);
    trace_free(tr);
    return rc;
}

/* Sizes whose byte counts do not fit in size_t: each call must fail with TUTOR_ENOMEM
 * before touching its arrays (a wrapped product used to give a tiny block that the loops
 * then overran), whatever the one-element arrays passed for the data. */
static void test_overflowing_sizes(void)
{
    double one[1] = {1.0}, out[1];
    /* L * L * 8 = 2^69 bytes. */
    CU_ASSERT_EQUAL(retention_parallel(out, one, one, one, 0.5, (size_t)1 << 33, 1, 1, NULL),
                    TUTOR_ENOMEM);
    CU_ASSERT_EQUAL(
        retention_recurrent(out, one, one, one, 0.5, 1, (size_t)1 << 33, (size_t)1 << 33, NULL),
        TUTOR_ENOMEM);
    /* N * 8 would wrap around to 8 bytes. */
    rng r;
    rng_seed(&r, 1);
    lru_params p;
    CU_ASSERT_EQUAL(lru_init(&p, ((size_t)1 << 61) + 1, 1, 0.5, 0.9, 1.0, &r), TUTOR_ENOMEM);
    CU_ASSERT_PTR_NULL(p.nu);
    hippo_cfg cfg = {HIPPO_LEGS, SSM_BILINEAR, (size_t)1 << 62, 1.0, 1.0, 0};
    hippo_result res;
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, one, 1, NULL), TUTOR_ENOMEM);
    CU_ASSERT_PTR_NULL(res.A);
}

static void test_alloc_failures_library(void)
{
    CU_ASSERT_TRUE(th_alloc_sweep(sweep_library, NULL, 0) > 10);
}

/* The topic's runner on each kind, traced, under allocation failures. */
static const char *const sweep_cases[][8] = {
    {"kind", "s4", "mode", "convolution", "length", "7", NULL, NULL},
    {"kind", "s4", "method", "zoh", "length", "5", NULL, NULL},
    {"kind", "s4d", "mode", "convolution", "length", "6", NULL, NULL},
    {"kind", "s4d", "init", "inv", "length", "6", NULL, NULL},
    {"kind", "mamba", "length", "12", "mode", "scan", NULL, NULL},
    {"kind", "mamba", "length", "12", NULL, NULL, NULL, NULL},
    {"kind", "lru", "mode", "scan", "length", "6", NULL, NULL},
    {"kind", "lru", "length", "6", NULL, NULL, NULL, NULL},
    {"kind", "retention", "mode", "parallel", "length", "5", NULL, NULL},
    {"kind", "retention", "length", "5", NULL, NULL, NULL, NULL},
};

static int sweep_topic(void *ctx)
{
    const char *const *kv = ctx;
    topic_opt opts[4];
    size_t n = 0;
    for (; n < 4 && kv[2 * n]; n++)
        opts[n] = (topic_opt){kv[2 * n], kv[2 * n + 1]};
    topic_args args = {opts, n, 1};
    const topic *t = topic_find("ssm");
    trace *tr = trace_new(0);
    if (!tr)
        return TUTOR_ENOMEM;
    topic_out o = {STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = t->run(&args, tr, &o);
    if (!rc)
        rc = trace_status(tr);
    topic_out_free(&o);
    trace_free(tr);
    return rc;
}

/* Every kind's traced run names lines of the listing it set, and the state at the last
 * step holds the answer the JSON prints. */
static void test_topic_traces(void)
{
    const topic *t = topic_find("ssm");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (size_t i = 0; i < sizeof sweep_cases / sizeof sweep_cases[0]; i++) {
        const char *const *kv = sweep_cases[i];
        topic_opt opts[4];
        size_t n = 0;
        for (; n < 4 && kv[2 * n]; n++)
            opts[n] = (topic_opt){kv[2 * n], kv[2 * n + 1]};
        topic_args args = {opts, n, 1};
        trace *tr = trace_new(0);
        topic_out o = {STRBUF_INIT, STRBUF_INIT, {0}};
        CU_ASSERT_EQUAL(t->run(&args, tr, &o), 0);
        size_t len;
        CU_ASSERT_PTR_NOT_NULL(trace_listing(tr, &len));
        check_lines(tr, len);
        size_t last = trace_len(tr) - 1;
        const char *name = strcmp(kv[1], "retention") == 0 ? "O" : "y";
        CU_ASSERT_PTR_NOT_NULL(trace_latest(tr, last, name));
        topic_out_free(&o);
        trace_free(tr);
    }
}

static void test_alloc_failures_topic(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(topic_find("ssm"));
    for (size_t i = 0; i < sizeof sweep_cases / sizeof sweep_cases[0]; i++)
        CU_ASSERT_TRUE(th_alloc_sweep(sweep_topic, (void *)sweep_cases[i], 0) > 5);
}

/* ---- CLI ---- */

static char tmpdir[64];

static void expect_ok_json(const char *must1, const char *must2)
{
    if (!th_json_valid(strbuf_str(&out)))
        fprintf(stderr, "\n  invalid JSON: %.200s / %s", strbuf_str(&out), strbuf_str(&err));
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"topic\": \"ssm\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"result\": "));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"intermediates\": {"));
    if (must1)
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), must1));
    if (must2)
        CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), must2));
    CU_ASSERT_EQUAL(err.len, 0);
}

/* Bad input: exit 2, nothing on stdout, one line on stderr naming the problem. */
static void expect_bad(int rc, const char *words)
{
    th_refused(rc, &out, &err, words);
}
/* The copying demo's "marked" are indices into "u" (from 0, like the arrays): each marked
 * token holds its target value. (They were printed from 1, so u[marked[j]] was a noise
 * token.) */
static void test_cli_mamba_marked(void)
{
    CU_ASSERT_EQUAL_FATAL(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--json", NULL), 0);
    double u[256], target[16], marked[16];
    int nu = th_json_numbers(strbuf_str(&out), "u", u, 256);
    int nt = th_json_numbers(strbuf_str(&out), "target", target, 16);
    int nm = th_json_numbers(strbuf_str(&out), "marked", marked, 16);
    CU_ASSERT_FATAL(nu > 0 && nt > 0 && nm == nt);
    for (int j = 0; j < nm; j++) {
        CU_ASSERT_FATAL(marked[j] >= 0 && marked[j] < nu);
        CU_ASSERT_EQUAL(u[(int)marked[j]], target[j]);
    }
}

static void test_cli_shapes(void)
{
    const char *kinds[][2] = {{"s4", "convolution"},     {"s4", "recurrent"},
                              {"s4d", "convolution"},    {"s4d", "recurrent"},
                              {"lru", "scan"},           {"lru", "recurrent"},
                              {"retention", "parallel"}, {"retention", "recurrent"},
                              {"mamba", "scan"},         {"mamba", "recurrent"}};
    for (size_t i = 0; i < 10; i++) {
        CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "ssm", "--kind", kinds[i][0], "--mode",
                               kinds[i][1], "--json", "--trace", NULL),
                        0);
        int lti = strstr(kinds[i][0], "s4") != NULL, lru = strcmp(kinds[i][0], "lru") == 0;
        expect_ok_json(lti ? "\"kernel\": [" : NULL, lti || lru ? "\"Abar\": "
                                                     : i >= 8   ? "\"Delta\": [["
                                                                : NULL);
        if (lru) {
            CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"Bbar\": {\"re\": ["));
        }
    }
    /* Both modes give the same y: compare the two JSON results' first numbers via text. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--json", NULL), 0);
    expect_ok_json("\"Delta\": [[", "\"target\": [");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "ssm", "--kind", "s4d", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "S4D-Lin"));
}

static void test_cli_files(void)
{
    /* lti with files: A = diag(-1, -2), B = (1, 1), C = (1, 0.5): recurrent and convolution
     * agree, and the JSON has Abar, Bbar and the kernel. */
    const char *A = th_write_file(tmpdir, "A.txt", "-1 0\n0 -2\n");
    const char *B = th_write_file(tmpdir, "B.txt", "1\n1\n");
    const char *C = th_write_file(tmpdir, "C.txt", "1 0.5\n");
    const char *u = th_write_file(tmpdir, "u.txt", "# input\n1\n0\n0\n2\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "ssm", "--kind", "lti", "--A", A, "--B", B, "--C", C,
                           "--u", u, "--dt", "0.1", "--method", "zoh", "--D", "0.5", "--json",
                           NULL),
                    0);
    expect_ok_json("\"Abar\": [[", "\"kernel\": [");
    char first[4096];
    snprintf(first, sizeof first, "%s", strbuf_str(&out));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "ssm", "--kind", "lti", "--A", A, "--B", B, "--C", C,
                           "--u", u, "--dt", "0.1", "--method", "zoh", "--D", "0.5", "--mode",
                           "convolution", "--json", NULL),
                    0);
    /* The result arrays agree to printing precision: compare the first values. */
    const char *r1 = strstr(first, "\"result\": ["),
               *r2 = strstr(strbuf_str(&out), "\"result\": [");
    CU_ASSERT_TRUE(r1 && r2 && fabs(atof(r1 + 11) - atof(r2 + 11)) < 1e-12);
    /* zoh of diag(-1, -2) at 0.1: Abar = diag(e^-0.1, e^-0.2). */
    CU_ASSERT_PTR_NOT_NULL(strstr(first, "\"Abar\": [[0.9048374180359595"));
    /* mamba from files: L = 3, D = 2, N = 1. */
    const char *mu = th_write_file(tmpdir, "mu.txt", "1 2\n3 4\n5 6\n");
    const char *md = th_write_file(tmpdir, "md.txt", "0 0\n0 0\n0 0\n");
    const char *mA = th_write_file(tmpdir, "mA.txt", "-1\n-2\n");
    const char *mB = th_write_file(tmpdir, "mB.txt", "1\n1\n1\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--u", mu, "--delta", md,
                           "--A", mA, "--B", mB, "--C", mB, "--mode", "scan", "--json", NULL),
                    0);
    expect_ok_json("\"result\": [[", "\"Delta\": [[0.69314718055994");
    /* Shapes that do not match. */
    const char *mB2 = th_write_file(tmpdir, "mB2.txt", "1 1\n1 1\n1 1\n");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--u", mu, "--delta", md, "--A",
                      mA, "--B", mB2, "--C", mB, NULL),
               "--B: expected 3 x 1");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--u", mu, "--delta", mA, "--A",
                      mA, "--B", mB, "--C", mB, NULL),
               "--delta: expected 3 x 2");
    const char *B3 = th_write_file(tmpdir, "B3.txt", "1\n1\n1\n");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "lti", "--A", A, "--B", B3, "--C", C,
                      "--u", u, "--dt", "0.1", "--method", "zoh", NULL),
               "--B: expected 2 values (A is 2 x 2), got 3 x 1");
    const char *Ar = th_write_file(tmpdir, "Ar.txt", "1 2 3\n4 5 6\n");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "lti", "--A", Ar, "--B", B, "--C", C,
                      "--u", u, "--dt", "0.1", "--method", "zoh", NULL),
               "--A: expected a square matrix");
    /* Bad numbers, with file:line. */
    const char *bad = th_write_file(tmpdir, "bad.txt", "1\n2\nx3\n");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--u", bad, NULL),
               "bad.txt:3: 'x3' is not a number");
    const char *inf = th_write_file(tmpdir, "inf.txt", "1\ninf\n");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4d", "--u", inf, NULL), "inf.txt:2:");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "lru", "--u", "/nonexistent/u.txt", NULL),
               "--u: /nonexistent/u.txt: no such file");
    const char *two = th_write_file(tmpdir, "two.txt", "1 2\n3 4\n");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--u", two, NULL),
               "--u: expected one value per line");
}

static void test_cli_bad_input(void)
{
    expect_bad(th_cli(&out, &err, "run", "ssm", NULL), "missing --kind");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s5", NULL), "--kind: unknown kind 's5'");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--mode", "convolution", NULL),
               "does not apply to --kind mamba");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--N", "0", NULL), "--N");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--N", "100000", NULL),
               "--N: 100000 is too big (at most 256)");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--dt", "0", NULL),
               "--dt: 0 is outside (0,");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--dt", "-1", NULL), "--dt");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--dt", "abc", NULL),
               "--dt: 'abc' is not a number");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--dt", "nan", NULL), "--dt");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--method", "euler", NULL),
               "--method: 'euler' is not bilinear or zoh");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4d", "--N", "7", NULL), "is odd");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "s4d", "--init", "foo", NULL), "--init");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "lti", "--dt", "0.1", NULL),
               "--kind lti needs --A");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "lru", "--gamma", "0.5", NULL),
               "--gamma does not apply to --kind lru");
    expect_bad(
        th_cli(&out, &err, "run", "ssm", "--kind", "lru", "--r-min", "0.9", "--r-max", "0.5", NULL),
        "--r-min 0.9 and --r-max 0.5");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "retention", "--gamma", "2", NULL),
               "--gamma: 2 is outside [0, 1]");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "retention", "--mode", "parallel",
                      "--length", "5000", NULL),
               "--length: 5000 is too big (at most 2048)");
    expect_bad(
        th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--length", "5", "--N", "3", NULL),
        "too short");
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "mamba", "--A", "x", NULL),
               "--A needs --u too");
    expect_bad(
        th_cli(&out, &err, "run", "ssm", "--kind", "s4", "--length", "100000", "--N", "256", NULL),
        "over the cap");
    /* Q, K, V and O of L x d each: refused before minutes of work and gigabytes of JSON. */
    expect_bad(th_cli(&out, &err, "run", "ssm", "--kind", "retention", "--length", "100000", "--N",
                      "256", NULL),
               "--length 100000 with --N 256: L N is over the cap");
}

static void test_cli_random_input_and_help(void)
{
    const topic *t = topic_find("ssm");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (uint64_t seed = 1; seed <= 12; seed++) {
        strbuf sb = STRBUF_INIT;
        CU_ASSERT_EQUAL(t->random_input(seed, &sb), 0);
        char **words;
        int n;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&sb), &words, &n, msg, sizeof msg), 0);
        char *argv[16] = {"run", "ssm"};
        for (int i = 0; i < n && i < 10; i++)
            argv[2 + i] = words[i];
        argv[2 + n] = "--json";
        int rc = th_cli(&out, &err, argv[0], argv[1], argv[2], argv[3], argv[4], argv[5], argv[6],
                        argv[7], argv[8], argv[9], argv[10], argv[11], argv[12], NULL);
        if (rc)
            fprintf(stderr, "\n  random input '%s': %s", strbuf_str(&sb), strbuf_str(&err));
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
        parse_free_words(words);
        strbuf_free(&sb);
    }
    CU_ASSERT_EQUAL(th_cli(&out, &err, "help", "ssm", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "--kind"));
}

static int cli_init(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tutor-ssm-XXXXXX");
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
    static const th_test lib_tests[] = {
        {"recurrence = convolution (LTI, S4)", test_recurrence_equals_convolution},
        {"scalar SSM by hand", test_scalar_ssm_by_hand},
        {"S4D init and zoh by hand", test_s4d_init_by_hand},
        {"S4D Vandermonde kernel = recurrence = real zoh", test_s4d_kernel_equals_recurrence},
        {"Mamba parallel scan = sequential", test_mamba_parallel_equals_sequential},
        {"Mamba by hand", test_mamba_by_hand},
        {"Mamba FMA clone within 1e-10 of the portable scan", test_mamba_fma_vs_portable},
        {"Mamba lanes of 8 and the tail: same bits per channel", test_mamba_lane_vs_tail},
        {"Mamba selective copying", test_mamba_selective_copy},
        {"LRU", test_lru},
        {"retention parallel = recurrent = triple loop", test_retention},
        {"traces", test_traces},
        {"allocation failures (library)", test_alloc_failures_library},
        {"sizes whose byte counts overflow", test_overflowing_sizes},
        {"topic traces", test_topic_traces},
        {"allocation failures (topic)", test_alloc_failures_topic},
        {NULL, NULL},
    };
    th_suite("ssm models", lib_tests);
    CU_pSuite s = CU_add_suite("ssm CLI", cli_init, cli_clean);
    CU_add_test(s, "JSON shapes", test_cli_shapes);
    CU_add_test(s, "mamba demo: marked indexes u", test_cli_mamba_marked);
    CU_add_test(s, "files", test_cli_files);
    CU_add_test(s, "bad input", test_cli_bad_input);
    CU_add_test(s, "random inputs and help", test_cli_random_input_and_help);
}
