/* Tests of HiPPO (models/hippo.c), the discretisations (models/ssm.c), the linear-algebra
 * helpers it needs (models/linalg.c) and the `hippo` topic. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../models/hippo.h"
#include "../models/linalg.h"
#include "../models/mat.h"
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

/* ---- linalg ---- */

static void test_expm(void)
{
    /* A rotation generator: exp([[0, -t], [t, 0]]) = [[cos t, -sin t], [sin t, cos t]], at
     * angles that need several squarings. */
    for (double t = 0.1; t < 40; t *= 3) {
        double a[4] = {0, -t, t, 0}, e[4];
        CU_ASSERT_EQUAL_FATAL(linalg_expm(e, a, 2), 0);
        CU_ASSERT_DOUBLE_EQUAL(e[0], cos(t), 1e-12 * (1 + t));
        CU_ASSERT_DOUBLE_EQUAL(e[1], -sin(t), 1e-12 * (1 + t));
        CU_ASSERT_DOUBLE_EQUAL(e[2], sin(t), 1e-12 * (1 + t));
        CU_ASSERT_DOUBLE_EQUAL(e[3], cos(t), 1e-12 * (1 + t));
    }
    /* Nilpotent: exp([[0, 1, 0], [0, 0, 1], [0, 0, 0]] s) = I + N s + N^2 s^2 / 2 exactly. */
    double nl[9] = {0, 5, 0, 0, 0, 5, 0, 0, 0}, e[9];
    CU_ASSERT_EQUAL(linalg_expm(e, nl, 3), 0);
    double want[9] = {1, 5, 12.5, 0, 1, 5, 0, 0, 1};
    CU_ASSERT_TRUE(mat_max_abs_diff(e, want, 9) < 1e-12);
    /* Random matrices: exp(A) exp(-A) = I, and against a long Taylor series at small norm. */
    rng r;
    rng_seed(&r, 7);
    for (int trial = 0; trial < 20; trial++) {
        size_t n = 1 + (size_t)rng_range(&r, 0, 7);
        double a[64], na[64], ea[64], ena[64], prod[64], id[64] = {0};
        mat_gauss(a, n * n, &r, trial < 10 ? 0.2 : 1.5);
        for (size_t i = 0; i < n * n; i++)
            na[i] = -a[i];
        for (size_t i = 0; i < n; i++)
            id[i * n + i] = 1;
        CU_ASSERT_EQUAL(linalg_expm(ea, a, n), 0);
        CU_ASSERT_EQUAL(linalg_expm(ena, na, n), 0);
        mat_gemm(prod, ea, ena, n, n, n, 0, 0, 1, 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(prod, id, n * n) < 1e-11);
        if (trial < 10) {
            double term[64], sum[64], tmp[64];
            memcpy(term, id, sizeof term);
            memcpy(sum, id, sizeof sum);
            for (int k = 1; k < 30; k++) {
                mat_gemm(tmp, term, a, n, n, n, 0, 0, 1.0 / k, 0);
                memcpy(term, tmp, sizeof tmp);
                for (size_t i = 0; i < n * n; i++)
                    sum[i] += term[i];
            }
            CU_ASSERT_TRUE(mat_max_abs_diff(sum, ea, n * n) < 1e-14);
        }
    }
    double bad[1] = {NAN};
    CU_ASSERT_EQUAL(linalg_expm(e, bad, 1), TUTOR_EINVAL);
}

static void test_conv_fft_equals_direct(void)
{
    rng r;
    rng_seed(&r, 11);
    for (size_t L = 1; L <= 300; L += (L < 20 ? 1 : 37)) {
        double k[300], u[300], y1[300], y2[300];
        mat_gauss(k, L, &r, 1);
        mat_gauss(u, L, &r, 1);
        linalg_conv_direct(y1, k, u, L);
        CU_ASSERT_EQUAL_FATAL(linalg_conv_fft(y2, k, u, L), 0);
        /* FFT rounding: about eps * log(L) * sum |k| |u|; 1e-12 is generous at L = 300. */
        CU_ASSERT_TRUE(mat_max_abs_diff(y1, y2, L) < 1e-12);
    }
    /* The hand-worked case, where a circular (unpadded) convolution would wrap around:
     * k = (1, 2, 3), u = (1, 0, 0... ) shifted: u = (0, 0, 1) gives y = (0, 0, 1). */
    double k[3] = {1, 2, 3}, u[3] = {0, 0, 1}, y[3];
    CU_ASSERT_EQUAL(linalg_conv_fft(y, k, u, 3), 0);
    CU_ASSERT_DOUBLE_EQUAL(y[0], 0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[1], 0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(y[2], 1, 1e-15);
}

static void test_polynomials_and_quadrature(void)
{
    double p[6];
    linalg_legendre(p, 0.3, 6);
    CU_ASSERT_DOUBLE_EQUAL(p[2], (3 * 0.09 - 1) / 2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(p[3], (5 * 0.027 - 3 * 0.3) / 2, 1e-15);
    linalg_laguerre(p, 0.7, 4);
    CU_ASSERT_DOUBLE_EQUAL(p[1], 1 - 0.7, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(p[2], (0.49 - 4 * 0.7 + 2) / 2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(p[3], (-0.343 + 9 * 0.49 - 18 * 0.7 + 6) / 6, 1e-15);
    /* Gauss-Legendre with m points integrates s^j exactly for j <= 2m - 1, and the scaled
     * Legendre basis sqrt(2n+1) P_n(2s-1) is orthonormal on [0, 1]. */
    for (size_t m = 1; m <= 12; m++) {
        double x[12], w[12];
        linalg_gauss_legendre(x, w, m);
        for (size_t j = 0; j < 2 * m; j++) {
            double s = 0;
            for (size_t i = 0; i < m; i++)
                s += w[i] * pow(x[i], (double)j);
            CU_ASSERT_DOUBLE_EQUAL(s, 1.0 / (double)(j + 1), 1e-14);
        }
    }
    double x[10], w[10], g[10 * 5];
    linalg_gauss_legendre(x, w, 10);
    for (size_t i = 0; i < 10; i++) {
        linalg_legendre(g + i * 5, 2 * x[i] - 1, 5);
        for (size_t n = 0; n < 5; n++)
            g[i * 5 + n] *= sqrt(2.0 * (double)n + 1);
    }
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 5; b++) {
            double s = 0;
            for (size_t i = 0; i < 10; i++)
                s += w[i] * g[i * 5 + a] * g[i * 5 + b];
            CU_ASSERT_DOUBLE_EQUAL(s, a == b, 1e-13);
        }
}

/* ---- HiPPO matrices and discretisations ---- */

static void test_matrices_by_hand(void)
{
    double A[9], B[3];
    hippo_legs_matrices(A, B, 3);
    double wantA[9] = {-1, 0, 0, -sqrt(3), -2, 0, -sqrt(5), -sqrt(15), -3};
    double wantB[3] = {1, sqrt(3), sqrt(5)};
    CU_ASSERT_TRUE(mat_max_abs_diff(A, wantA, 9) < 1e-15);
    CU_ASSERT_TRUE(mat_max_abs_diff(B, wantB, 3) < 1e-15);
    hippo_legt_matrices(A, B, 3, 2.0);
    /* -(1/theta) r_n r_k, with (-1)^(n-k) above the diagonal. */
    double wantT[9] = {-0.5, 0.5 * sqrt(3),  -0.5 * sqrt(5), -0.5 * sqrt(3),
                       -1.5, 0.5 * sqrt(15), -0.5 * sqrt(5), -0.5 * sqrt(15),
                       -2.5};
    CU_ASSERT_TRUE(mat_max_abs_diff(A, wantT, 9) < 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(B[2], sqrt(5) / 2, 1e-15);
    hippo_lagt_matrices(A, B, 3);
    double wantL[9] = {-1, 0, 0, -1, -1, 0, -1, -1, -1};
    CU_ASSERT_TRUE(mat_max_abs_diff(A, wantL, 9) < 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(B[1], 1, 0);
}

static void test_discretize_definitions(void)
{
    /* Scalar a = -2, b = 3, dt = 0.1: the four formulas in closed form. */
    double A[1] = {-2}, B[1] = {3}, ab, bb, dt = 0.1;
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, dt, SSM_EULER), 0);
    CU_ASSERT_DOUBLE_EQUAL(ab, 1 - 0.2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(bb, 0.3, 1e-15);
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, dt, SSM_BACKWARD), 0);
    CU_ASSERT_DOUBLE_EQUAL(ab, 1 / 1.2, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(bb, 0.3 / 1.2, 1e-15);
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, dt, SSM_BILINEAR), 0);
    CU_ASSERT_DOUBLE_EQUAL(ab, 0.9 / 1.1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(bb, 0.3 / 1.1, 1e-15);
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, dt, SSM_ZOH), 0);
    CU_ASSERT_DOUBLE_EQUAL(ab, exp(-0.2), 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(bb, (exp(-0.2) - 1) / -2 * 3, 1e-15);
    /* zoh with a singular A (LagT-like zero row) still works: the block exponential needs
     * no inverse. A = 0: Abar = I, Bbar = dt B. */
    double Z[4] = {0, 0, 0, 0}, Bz[2] = {1, 2}, Ab[4], Bb[2];
    CU_ASSERT_EQUAL(ssm_discretize(Ab, Bb, Z, Bz, 2, 0.5, SSM_ZOH), 0);
    CU_ASSERT_DOUBLE_EQUAL(Ab[0], 1, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(Ab[1], 0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(Bb[1], 1, 1e-15);
    /* Matrix case against the formulas built by hand from mat_solve and linalg_expm. */
    rng r;
    rng_seed(&r, 3);
    for (int trial = 0; trial < 10; trial++) {
        size_t N = 1 + (size_t)rng_range(&r, 0, 6);
        double a[49], b[7], abar[49], bbar[7], m[49], p[49], want[49], wb[7];
        mat_gauss(a, N * N, &r, 1);
        mat_gauss(b, N, &r, 1);
        double h = 0.05 + rng_uniform(&r) * 0.2;
        for (size_t i = 0; i < N * N; i++) {
            m[i] = -h / 2 * a[i];
            p[i] = h / 2 * a[i];
        }
        for (size_t i = 0; i < N; i++) {
            m[i * N + i] += 1;
            p[i * N + i] += 1;
            wb[i] = h * b[i];
        }
        CU_ASSERT_EQUAL(mat_solve(want, m, p, N, N), 0);
        CU_ASSERT_EQUAL(mat_solve(wb, m, wb, N, 1), 0);
        CU_ASSERT_EQUAL(ssm_discretize(abar, bbar, a, b, N, h, SSM_BILINEAR), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(abar, want, N * N) < 1e-13);
        CU_ASSERT_TRUE(mat_max_abs_diff(bbar, wb, N) < 1e-13);
        /* zoh: Abar = exp(A h); Bbar = A^-1 (Abar - I) B when A is invertible. */
        for (size_t i = 0; i < N * N; i++)
            m[i] = a[i] * h;
        CU_ASSERT_EQUAL(linalg_expm(want, m, N), 0);
        CU_ASSERT_EQUAL(ssm_discretize(abar, bbar, a, b, N, h, SSM_ZOH), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(abar, want, N * N) < 1e-13);
        for (size_t i = 0; i < N; i++)
            want[i * N + i] -= 1;
        mat_gemv(wb, want, b, N, N, 0, 1, 0);
        CU_ASSERT_EQUAL(mat_solve(wb, a, wb, N, 1), 0);
        CU_ASSERT_TRUE(mat_max_abs_diff(bbar, wb, N) < 1e-10 * (1 + max_abs(wb, N)));
    }
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, 0, SSM_ZOH), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, -1, SSM_EULER), TUTOR_EINVAL);
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, A, B, 1, NAN, SSM_EULER), TUTOR_EINVAL);
    /* backward Euler at dt = 1/a exactly: I - dt A singular. */
    double one[1] = {1};
    CU_ASSERT_EQUAL(ssm_discretize(&ab, &bb, one, B, 1, 1.0, SSM_BACKWARD), TUTOR_EINVAL);
}

/* The step response of LegT (theta = 1, N = 4) at t = 1, against the exact solution
 * x(t) = A^-1 (exp(A t) - I) B: zoh is exact for a constant input; forward and backward
 * Euler are first order (halving dt halves the error), bilinear second order (a quarter). */
static void test_discretisation_orders(void)
{
    size_t N = 4;
    double A[16], B[4], E[16], exact[4], At[16];
    hippo_legt_matrices(A, B, N, 1.0);
    memcpy(At, A, sizeof At);
    CU_ASSERT_EQUAL_FATAL(linalg_expm(E, At, N), 0);
    for (size_t i = 0; i < N; i++)
        E[i * N + i] -= 1;
    mat_gemv(exact, E, B, N, N, 0, 1, 0);
    CU_ASSERT_EQUAL_FATAL(mat_solve(exact, A, exact, N, 1), 0);
    double errs[4][3];
    for (int m = 0; m < 4; m++)
        for (int h = 0; h < 3; h++) {
            size_t L = (size_t)400 << h;
            hippo_cfg cfg = {.measure = HIPPO_LEGT,
                             .method = (ssm_method)m,
                             .N = N,
                             .dt = 1.0 / (double)L,
                             .theta = 1.0};
            double *f = mem_alloc(L * sizeof *f);
            for (size_t i = 0; i < L; i++)
                f[i] = 1;
            hippo_result res;
            CU_ASSERT_EQUAL_FATAL(hippo_run(&res, &cfg, f, L, NULL), 0);
            errs[m][h] = mat_max_abs_diff(res.coefs + (L - 1) * N, exact, N);
            hippo_result_free(&res);
            mem_free(f);
        }
    for (int h = 0; h < 3; h++)
        CU_ASSERT_TRUE(errs[SSM_ZOH][h] < 1e-11);
    for (int h = 0; h < 2; h++) {
        double re = errs[SSM_EULER][h] / errs[SSM_EULER][h + 1];
        double rb = errs[SSM_BACKWARD][h] / errs[SSM_BACKWARD][h + 1];
        double rt = errs[SSM_BILINEAR][h] / errs[SSM_BILINEAR][h + 1];
        CU_ASSERT_TRUE(re > 1.8 && re < 2.2);
        CU_ASSERT_TRUE(rb > 1.8 && rb < 2.2);
        CU_ASSERT_TRUE(rt > 3.6 && rt < 4.4);
        if (!(re > 1.8 && re < 2.2 && rb > 1.8 && rb < 2.2 && rt > 3.6 && rt < 4.4))
            fprintf(stderr, "\n  orders: euler %g backward %g bilinear %g", re, rb, rt);
    }
    /* And all agree as dt -> 0: every error is small at the finest step. */
    for (int m = 0; m < 4; m++)
        CU_ASSERT_TRUE(errs[m][2] < 2e-3);
}

/* ---- LegS ---- */

static void test_legs_fast_equals_dense(void)
{
    rng r;
    rng_seed(&r, 5);
    for (int trial = 0; trial < 30; trial++) {
        size_t N = 1 + (size_t)rng_range(&r, 0, 39), L = 60;
        ssm_method m = (ssm_method)(trial % 3);
        double *A = mem_alloc(N * N * sizeof *A), *B = mem_alloc(N * sizeof *B);
        double *c1 = mem_calloc(N, sizeof *c1), *c2 = mem_calloc(N, sizeof *c2);
        double *work = mem_alloc(((N + 1) * (N + 1) + N) * sizeof *work);
        hippo_legs_matrices(A, B, N);
        /* Forward Euler is unstable for LegS while k < N (the diagonal of I + A/k is
         * 1 - (n+1)/k), so its values grow huge: compare relative to the largest seen. */
        double worst = 0, largest = 1;
        for (size_t k = 1; k <= L; k++) {
            double f = rng_gauss(&r);
            CU_ASSERT_EQUAL(hippo_legs_step_fast(c1, f, k, N, m), 0);
            CU_ASSERT_EQUAL(hippo_legs_step_dense(c2, A, B, f, k, N, m, work), 0);
            largest = fmax(largest, max_abs(c2, N));
            worst = fmax(worst, mat_max_abs_diff(c1, c2, N) / largest);
        }
        CU_ASSERT_TRUE(worst < 1e-12);
        mem_free(A);
        mem_free(B);
        mem_free(c1);
        mem_free(c2);
        mem_free(work);
    }
    double c[2] = {0, 0};
    CU_ASSERT_EQUAL(hippo_legs_step_fast(c, 1, 1, 2, SSM_ZOH), TUTOR_EINVAL);
}

/* The benchmark's case: N = 1024 (four blocks), 16 steps from a zero state, every method,
 * the fast step (its AVX2 copy on a CPU that has it) within 1e-12 of the dense step
 * relative to the largest entry seen (Euler grows huge while k < N). Fails if the run-time
 * choice of copy, the table of r_n or a block's carried sums go wrong. */
static void test_legs_fast_1024(void)
{
    size_t N = 1024, L = 16;
    double *A = mem_alloc(N * N * sizeof *A), *B = mem_alloc(N * sizeof *B);
    double *c1 = mem_alloc(N * sizeof *c1), *c2 = mem_alloc(N * sizeof *c2);
    double *work = mem_alloc(((N + 1) * (N + 1) + N) * sizeof *work);
    CU_ASSERT_FATAL(A && B && c1 && c2 && work);
    hippo_legs_matrices(A, B, N);
    for (int m = 0; m < 3; m++) {
        rng r;
        rng_seed(&r, 17);
        memset(c1, 0, N * sizeof *c1);
        memset(c2, 0, N * sizeof *c2);
        double worst = 0, largest = 1;
        for (size_t k = 1; k <= L; k++) {
            double f = rng_gauss(&r);
            CU_ASSERT_EQUAL(hippo_legs_step_fast(c1, f, k, N, (ssm_method)m), 0);
            CU_ASSERT_EQUAL(hippo_legs_step_dense(c2, A, B, f, k, N, (ssm_method)m, work), 0);
            largest = fmax(largest, max_abs(c2, N));
            worst = fmax(worst, mat_max_abs_diff(c1, c2, N) / largest);
        }
        if (!(worst < 1e-12))
            fprintf(stderr, "\n  method %d: fast and dense differ by %g\n", m, worst);
        CU_ASSERT_TRUE(worst < 1e-12);
    }
    mem_free(A);
    mem_free(B);
    mem_free(c1);
    mem_free(c2);
    mem_free(work);
}

/* The fast step works in blocks of 256 entries, carrying its two running sums across
 * them: past one block (N = 600: two full blocks and a partial one) it still equals the
 * dense step, for every method, from a state that is not zero. */
static void test_legs_fast_blocks(void)
{
    size_t N = 600;
    double *A = mem_alloc(N * N * sizeof *A), *B = mem_alloc(N * sizeof *B);
    double *c1 = mem_alloc(N * sizeof *c1), *c2 = mem_alloc(N * sizeof *c2);
    double *work = mem_alloc(((N + 1) * (N + 1) + N) * sizeof *work);
    CU_ASSERT_FATAL(A && B && c1 && c2 && work);
    hippo_legs_matrices(A, B, N);
    for (int m = 0; m < 3; m++) {
        rng r;
        rng_seed(&r, 11);
        for (size_t n = 0; n < N; n++)
            c1[n] = c2[n] = rng_gauss(&r);
        double worst = 0;
        for (size_t k = 700; k < 703; k++) { /* k > N: every method is stable */
            double f = rng_gauss(&r);
            CU_ASSERT_EQUAL(hippo_legs_step_fast(c1, f, k, N, (ssm_method)m), 0);
            CU_ASSERT_EQUAL(hippo_legs_step_dense(c2, A, B, f, k, N, (ssm_method)m, work), 0);
            worst = fmax(worst, mat_max_abs_diff(c1, c2, N) / fmax(1, max_abs(c2, N)));
        }
        if (!(worst < 1e-12))
            fprintf(stderr, "\n  method %d: fast and dense differ by %g\n", m, worst);
        CU_ASSERT_TRUE(worst < 1e-12);
    }
    mem_free(A);
    mem_free(B);
    mem_free(c1);
    mem_free(c2);
    mem_free(work);
}

/* The dense step equals the general discretisation with dt = 1/k (ln((k+1)/k) for zoh)
 * followed by c = Abar c + Bbar f. */
static void test_legs_step_is_discretised_lti(void)
{
    size_t N = 6;
    double A[36], B[6], ab[36], bb[6], work[49 + 6], c[6] = {0}, d[6] = {0}, t[6];
    hippo_legs_matrices(A, B, N);
    rng r;
    rng_seed(&r, 9);
    for (int m = 0; m < 4; m++) {
        memset(c, 0, sizeof c);
        memset(d, 0, sizeof d);
        for (size_t k = 1; k <= 20; k++) {
            double f = rng_gauss(&r);
            double h = m == SSM_ZOH ? log((double)(k + 1) / (double)k) : 1.0 / (double)k;
            CU_ASSERT_EQUAL(ssm_discretize(ab, bb, A, B, N, h, (ssm_method)m), 0);
            mat_gemv(t, ab, d, N, N, 0, 1, 0);
            for (size_t n = 0; n < N; n++)
                d[n] = t[n] + bb[n] * f;
            CU_ASSERT_EQUAL(hippo_legs_step_dense(c, A, B, f, k, N, (ssm_method)m, work), 0);
        }
        CU_ASSERT_TRUE(mat_max_abs_diff(c, d, N) < 1e-12);
    }
}

static double smooth(double s, void *ctx)
{
    (void)ctx;
    return sin(2 * M_PI * s) + 0.5 * cos(5 * s) + s * s;
}

static int run_legs(double *c, size_t N, size_t L, ssm_method m, double (*g)(double, void *))
{
    double *f = mem_alloc(L * sizeof *f);
    for (size_t i = 0; i < L; i++)
        f[i] = g((double)(i + 1) / (double)L, NULL);
    hippo_cfg cfg = {.measure = HIPPO_LEGS, .method = m, .N = N};
    hippo_result res;
    int rc = hippo_run(&res, &cfg, f, L, NULL);
    if (!rc)
        memcpy(c, res.coefs + (L - 1) * N, N * sizeof *c);
    hippo_result_free(&res);
    mem_free(f);
    return rc;
}

static void test_legs_approaches_exact_projection(void)
{
    size_t N = 8;
    double exact[8], c[8];
    CU_ASSERT_EQUAL_FATAL(hippo_legs_exact(exact, smooth, NULL, N, 40), 0);
    for (int m = 0; m < 4; m++) {
        double prev = INFINITY;
        for (size_t L = 100; L <= 10000; L *= 10) {
            CU_ASSERT_EQUAL_FATAL(run_legs(c, N, L, (ssm_method)m, smooth), 0);
            double e = mat_max_abs_diff(c, exact, N);
            /* The error falls roughly like 1/L: at least by 4x per decade. */
            CU_ASSERT_TRUE(e < prev / 4);
            prev = e;
        }
        CU_ASSERT_TRUE(prev < 2e-3);
    }
}

static void test_legs_time_stretch(void)
{
    /* The same function sampled 1000 and 3000 times (a 3x slower signal): LegS's measure
     * scales with t, so the final coefficients agree up to the discretisation error, which
     * is far below the difference to another signal's. */
    size_t N = 8;
    double c1[8], c3[8], other[8];
    CU_ASSERT_EQUAL(run_legs(c1, N, 1000, SSM_BILINEAR, smooth), 0);
    CU_ASSERT_EQUAL(run_legs(c3, N, 3000, SSM_BILINEAR, smooth), 0);
    CU_ASSERT_TRUE(mat_max_abs_diff(c1, c3, N) < 2e-3);
    double f[1000];
    for (size_t i = 0; i < 1000; i++)
        f[i] = smooth((double)(i + 1) / 1000.0 * 0.9, NULL);
    hippo_cfg cfg = {.measure = HIPPO_LEGS, .method = SSM_BILINEAR, .N = N};
    hippo_result res;
    CU_ASSERT_EQUAL_FATAL(hippo_run(&res, &cfg, f, 1000, NULL), 0);
    memcpy(other, res.coefs + 999 * N, sizeof other);
    hippo_result_free(&res);
    CU_ASSERT_TRUE(mat_max_abs_diff(c1, other, N) > 0.05);
}

static void test_reconstruction_improves_with_N(void)
{
    size_t L = 4000;
    double *f = mem_alloc(L * sizeof *f);
    for (size_t i = 0; i < L; i++)
        f[i] = smooth((double)(i + 1) / (double)L, NULL);
    /* The error falls fast until it meets the discretisation error of L samples (about
     * 1e-3 here), from N = 8 on. */
    double prev = INFINITY;
    for (size_t N = 2; N <= 8; N *= 2) {
        hippo_cfg cfg = {.measure = HIPPO_LEGS, .method = SSM_BILINEAR, .N = N};
        hippo_result res;
        CU_ASSERT_EQUAL_FATAL(hippo_run(&res, &cfg, f, L, NULL), 0);
        /* RMS error over the samples. */
        double s = 0;
        for (size_t i = 0; i < L; i++)
            s += (res.recon[i] - f[i]) * (res.recon[i] - f[i]);
        double e = sqrt(s / (double)L);
        CU_ASSERT_TRUE(e < prev / 4);
        prev = e;
        hippo_result_free(&res);
    }
    CU_ASSERT_TRUE(prev < 2e-3);
    /* LegT over its window (the last half of the signal) and LagT near the present (the
     * signal stretched over 8 time units, so the measure e^-tau fades over an eighth of it)
     * reconstruct a slow signal, and a larger N does better. */
    for (int meas = HIPPO_LEGT; meas <= HIPPO_LAGT; meas++) {
        double e[2];
        for (int j = 0; j < 2; j++) {
            int legt = meas == HIPPO_LEGT;
            hippo_cfg cfg = {.measure = (hippo_measure)meas,
                             .method = SSM_BILINEAR,
                             .N = j ? 16 : 4,
                             .dt = (legt ? 1.0 : 8.0) / (double)L,
                             .theta = 0.5};
            hippo_result res;
            CU_ASSERT_EQUAL_FATAL(hippo_run(&res, &cfg, f, L, NULL), 0);
            double s = 0;
            size_t cnt = 0;
            for (size_t i = L - (legt ? 1600 : 400); i < L; i++, cnt++)
                s += (res.recon[i] - f[i]) * (res.recon[i] - f[i]);
            e[j] = sqrt(s / (double)cnt);
            if (meas == HIPPO_LEGT)
                CU_ASSERT_TRUE(isnan(res.recon[0]) && !isnan(res.recon[L - 1]));
            hippo_result_free(&res);
        }
        CU_ASSERT_TRUE(e[1] < e[0] / 10);
        CU_ASSERT_TRUE(e[1] < 5e-3);
    }
    mem_free(f);
}

static void test_lagt_approaches_exact(void)
{
    /* c_n(t) = int_0^t f(t - tau) L_n(tau) e^-tau dtau, by a fine trapezoid, for f = sin on
     * [0, 3] (zero before 0). */
    size_t N = 5, L = 3000;
    double dt = 3.0 / (double)L, f[3000], exact[5] = {0}, p[5];
    for (size_t i = 0; i < L; i++)
        f[i] = sin((double)(i + 1) * dt);
    size_t M = 300000;
    for (size_t j = 0; j <= M; j++) {
        double tau = 3.0 * (double)j / (double)M, w = (j == 0 || j == M) ? 0.5 : 1.0;
        linalg_laguerre(p, tau, N);
        for (size_t n = 0; n < N; n++)
            exact[n] += w * 3.0 / (double)M * sin(3.0 - tau) * p[n] * exp(-tau);
    }
    hippo_cfg cfg = {.measure = HIPPO_LAGT, .method = SSM_BILINEAR, .N = N, .dt = dt};
    hippo_result res;
    CU_ASSERT_EQUAL_FATAL(hippo_run(&res, &cfg, f, L, NULL), 0);
    CU_ASSERT_TRUE(mat_max_abs_diff(res.coefs + (L - 1) * N, exact, N) < 2e-3);
    hippo_result_free(&res);
}

static void test_bad_arguments(void)
{
    double f[3] = {1, 2, 3};
    hippo_result res;
    hippo_cfg cfg = {.measure = HIPPO_LEGS, .method = SSM_EULER, .N = 0};
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, f, 3, NULL), TUTOR_EINVAL);
    cfg.N = 2;
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, f, 0, NULL), TUTOR_EINVAL);
    cfg.measure = HIPPO_LEGT;
    cfg.dt = 1;
    cfg.theta = 0;
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, f, 3, NULL), TUTOR_EINVAL);
    cfg.measure = HIPPO_LAGT;
    cfg.dt = -1;
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, f, 3, NULL), TUTOR_EINVAL);
    cfg.dt = 1;
    f[1] = INFINITY;
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, f, 3, NULL), TUTOR_EINVAL);
}

/* ---- tracing ---- */

static void test_trace(void)
{
    for (int meas = 0; meas < 3; meas++) {
        size_t L = 40, N = 4;
        double f[40];
        for (size_t i = 0; i < L; i++)
            f[i] = sin(0.3 * (double)i);
        trace *tr = trace_new(0);
        CU_ASSERT_PTR_NOT_NULL_FATAL(tr);
        int legs = meas == HIPPO_LEGS;
        trace_set_listing(tr, legs ? hippo_legs_listing : hippo_lti_listing,
                          legs ? hippo_legs_listing_len : hippo_lti_listing_len);
        hippo_cfg cfg = {
            .measure = (hippo_measure)meas, .method = SSM_ZOH, .N = N, .dt = 0.1, .theta = 2};
        hippo_result res;
        CU_ASSERT_EQUAL_FATAL(hippo_run(&res, &cfg, f, L, tr), 0);
        size_t n = trace_len(tr), quizzes = 0, updates = 0;
        for (size_t i = 0; i < n; i++) {
            const trace_frame *st = trace_at(tr, i);
            CU_ASSERT_TRUE(st->line >= 1 && st->line <= 6);
            if (st->quiz)
                quizzes++;
            if (st->line == 5)
                updates++;
        }
        CU_ASSERT_EQUAL(updates, L);
        CU_ASSERT_TRUE(quizzes >= 3);
        /* The state shown at the end is the final coefficients and the reconstruction. */
        const trace_snap *c = trace_latest(tr, n - 1, "c");
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_TRUE(mat_max_abs_diff(c->reals, res.coefs + (L - 1) * N, N) == 0);
        CU_ASSERT_PTR_NOT_NULL(trace_latest(tr, n - 1, "reconstruction"));
        CU_ASSERT_PTR_NOT_NULL(trace_latest(tr, n - 1, "Abar"));
        hippo_result_free(&res);
        trace_free(tr);
    }
    /* Long inputs: the per-sample steps are capped. */
    size_t L = 5000;
    double *f = mem_calloc(L, sizeof *f);
    trace *tr = trace_new(0);
    hippo_cfg cfg = {.measure = HIPPO_LEGS, .method = SSM_EULER, .N = 4};
    hippo_result res;
    CU_ASSERT_EQUAL(hippo_run(&res, &cfg, f, L, tr), 0);
    CU_ASSERT_TRUE(trace_len(tr) < 700);
    hippo_result_free(&res);
    trace_free(tr);
    mem_free(f);
}

struct sweep_ctx {
    hippo_cfg cfg;
    int traced;
};

static int sweep_body(void *p)
{
    struct sweep_ctx *ctx = p;
    double f[12];
    for (size_t i = 0; i < 12; i++)
        f[i] = cos((double)i);
    trace *tr = NULL;
    if (ctx->traced && !(tr = trace_new(0)))
        return TUTOR_ENOMEM;
    hippo_result res;
    int rc = hippo_run(&res, &ctx->cfg, f, 12, tr);
    if (!rc)
        hippo_result_free(&res);
    trace_free(tr);
    return rc;
}

static void test_alloc_failures(void)
{
    for (int meas = 0; meas < 3; meas++)
        for (int m = 0; m < 4; m++)
            for (int traced = 0; traced < 2; traced++) {
                struct sweep_ctx ctx = {{.measure = (hippo_measure)meas,
                                         .method = (ssm_method)m,
                                         .N = 3,
                                         .dt = 0.1,
                                         .theta = 1,
                                         .dense = m == 1},
                                        traced};
                CU_ASSERT_TRUE(th_alloc_sweep(sweep_body, &ctx, 0) > 3);
            }
    double k[8] = {1, 2, 3, 4, 5, 6, 7, 8}, y[8];
    for (long i = 0; i < 3; i++) {
        mem_fail_after(i);
        int rc = linalg_conv_fft(y, k, k, 8);
        mem_fail_after(-1);
        CU_ASSERT_EQUAL(rc, TUTOR_ENOMEM);
    }
}

/* ---- CLI ---- */

static char tmpdir[64];

/* Bad input: exit 2, nothing on stdout, one line on stderr naming the problem. */
static void expect_bad(int rc, const char *words)
{
    th_refused(rc, &out, &err, words);
}

/* Counts the rows of the JSON array that follows `key` (a list of lists). */
static size_t rows_after(const char *s, const char *key)
{
    const char *p = strstr(s, key);
    if (!p)
        return 0;
    p += strlen(key);
    size_t rows = 0;
    int depth = 0;
    for (; *p; p++) {
        if (*p == '[' && ++depth == 2)
            rows++;
        if (*p == ']' && --depth == 0)
            break;
    }
    return rows;
}

static void test_cli_json(void)
{
    static const char *const measures[] = {"legs", "legt", "lagt"};
    static const char *const methods[] = {"euler", "backward", "bilinear", "zoh"};
    for (int m = 0; m < 3; m++)
        for (int k = 0; k < 4; k++) {
            CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "hippo", "--measure", measures[m], "--N", "5",
                                   "--method", methods[k], "--length", "30", "--json", "--trace",
                                   NULL),
                            0);
            const char *s = strbuf_str(&out);
            CU_ASSERT_TRUE(th_json_valid(s));
            CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"topic\": \"hippo\", \"result\": ["));
            CU_ASSERT_EQUAL(rows_after(s, "\"A\": "), 5);
            CU_ASSERT_EQUAL(rows_after(s, "\"coefficients\": "), 30);
            CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"reconstruction\": ["));
            /* Abar among the intermediates only for the time-invariant measures (LegS's
             * per-step Abar appears in the trace's steps, after "truncated"). */
            const char *abar = strstr(s, "\"Abar\": "), *steps = strstr(s, "\"truncated\"");
            CU_ASSERT_EQUAL(abar != NULL && abar < steps, m != 0);
        }
    /* A signal file; --dense gives the same coefficients as the O(N) step. */
    const char *f = th_write_file(tmpdir, "sig.txt", "# a ramp\n0.1\n0.2\n0.3\n0.4\n0.5\n0.6\n");
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "hippo", "--signal", f, "--N", "3", "--json", NULL),
                    0);
    char first[8192];
    snprintf(first, sizeof first, "%s", strbuf_str(&out));
    CU_ASSERT_EQUAL(rows_after(first, "\"coefficients\": "), 6);
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "hippo", "--signal", f, "--N", "3", "--dense", "--json", NULL),
        0);
    const char *r1 = strstr(first, "\"result\": ["),
               *r2 = strstr(strbuf_str(&out), "\"result\": [");
    CU_ASSERT_TRUE(r1 && r2 && fabs(atof(r1 + 11) - atof(r2 + 11)) < 1e-14);
    /* c_0 is the running mean for LegS with forward Euler: mean(0.1..0.6) = 0.35. */
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "hippo", "--signal", f, "--N", "3", "--method",
                           "euler", "--json", NULL),
                    0);
    r1 = strstr(strbuf_str(&out), "\"result\": [");
    CU_ASSERT_TRUE(r1 && fabs(atof(r1 + 11) - 0.35) < 1e-14);
    /* Long inputs print strided coefficient rows. */
    CU_ASSERT_EQUAL(
        th_cli(&out, &err, "run", "hippo", "--N", "64", "--length", "20000", "--json", NULL), 0);
    CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "\"coefficient_stride\": 5"));
    CU_ASSERT_EQUAL(th_cli(&out, &err, "run", "hippo", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(strbuf_str(&out), "HiPPO-legs"));
}

static void test_cli_bad_input(void)
{
    expect_bad(th_cli(&out, &err, "run", "hippo", "--N", "0", NULL), "--N");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--N", "1000", NULL),
               "--N: 1000 is too big (at most 256)");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--method", "rk4", NULL),
               "--method: unknown method 'rk4'");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--measure", "fourier", NULL),
               "--measure: unknown measure 'fourier'");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--signal-kind", "square", NULL),
               "--signal-kind: unknown kind 'square'");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--measure", "legt", "--dt", "0", NULL),
               "--dt: 0 is outside [1e-09,");
    /* A step so small that A = O(N / theta) overflows was refused as "I - dt A is
     * singular"; it is now out of the option's range, said as such. */
    expect_bad(th_cli(&out, &err, "run", "hippo", "--measure", "legt", "--dt", "1e-320", NULL),
               "--dt: 1e-320 is outside [1e-09,");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--measure", "legt", "--theta", "1e-300", NULL),
               "--theta: 1e-300 is outside [1e-09,");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--measure", "legt", "--theta", "-2", NULL),
               "--theta");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--dt", "0.1", NULL),
               "--dt does not apply to --measure legs");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--measure", "lagt", "--dense", NULL),
               "--dense applies to --measure legs only");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--length", "0", NULL), "--length");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--length", "1000000", NULL),
               "--length: 1000000 is too big");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--N", "128", "--method", "zoh", "--length",
                      "10000", NULL),
               "over the cap");
    const char *bad = th_write_file(tmpdir, "bad.txt", "1\n2\n3,x\n");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--signal", bad, NULL),
               "bad.txt:3: 'x' is not a number");
    const char *nan = th_write_file(tmpdir, "nan.txt", "1\nnan\n");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--signal", nan, NULL),
               "nan.txt:2: 'nan' is not a finite number");
    const char *two = th_write_file(tmpdir, "two.txt", "1 2\n3 4\n");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--signal", two, NULL),
               "--signal: expected one sample per line, got 2 rows of 2 values");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--signal", "/nonexistent/s.txt", NULL),
               "--signal: /nonexistent/s.txt: no such file");
    expect_bad(th_cli(&out, &err, "run", "hippo", "--signal", two, "--signal-kind", "sine", NULL),
               "not both");
}

static void test_cli_random_input(void)
{
    const topic *t = topic_find("hippo");
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    for (uint64_t seed = 1; seed <= 12; seed++) {
        strbuf sb = STRBUF_INIT;
        CU_ASSERT_EQUAL(t->random_input(seed, &sb), 0);
        char **words;
        int n;
        char msg[256];
        CU_ASSERT_EQUAL_FATAL(parse_words(strbuf_str(&sb), &words, &n, msg, sizeof msg), 0);
        CU_ASSERT_TRUE_FATAL(n == 10);
        int rc =
            th_cli(&out, &err, "run", "hippo", words[0], words[1], words[2], words[3], words[4],
                   words[5], words[6], words[7], words[8], words[9], "--json", "--trace", NULL);
        CU_ASSERT_EQUAL(rc, 0);
        CU_ASSERT_TRUE(th_json_valid(strbuf_str(&out)));
        parse_free_words(words);
        strbuf_free(&sb);
    }
}

/* The topic's runner (option parsing, signal, JSON and text) under allocation failures. */
static const char *const sweep_cases[][6] = {
    {"measure", "legs", "method", "zoh", "length", "9"},
    {"measure", "legs", "method", "backward", "dense", NULL},
    {"measure", "legt", "method", "bilinear", "length", "9"},
    {"measure", "lagt", "signal-kind", "noise", "length", "9"},
};

static int sweep_topic(void *ctx)
{
    const char *const *kv = ctx;
    topic_opt opts[4] = {{"N", "3"}};
    size_t n = 1;
    for (size_t i = 0; i < 3; i++)
        opts[n++] = (topic_opt){kv[2 * i], kv[2 * i + 1]};
    topic_args args = {opts, n, 1};
    trace *tr = trace_new(0);
    if (!tr)
        return TUTOR_ENOMEM;
    topic_out o = {STRBUF_INIT, STRBUF_INIT, {0}};
    int rc = topic_find("hippo")->run(&args, tr, &o);
    if (!rc)
        rc = trace_status(tr);
    topic_out_free(&o);
    trace_free(tr);
    return rc;
}

static void test_cli_alloc_failures(void)
{
    CU_ASSERT_PTR_NOT_NULL_FATAL(topic_find("hippo"));
    for (size_t i = 0; i < sizeof sweep_cases / sizeof sweep_cases[0]; i++)
        CU_ASSERT_TRUE(th_alloc_sweep(sweep_topic, (void *)sweep_cases[i], 0) > 5);
}

static int cli_init(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/tutor-hippo-XXXXXX");
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
    static const th_test linalg_tests[] = {
        {"expm", test_expm},
        {"fft convolution = direct", test_conv_fft_equals_direct},
        {"polynomials and quadrature", test_polynomials_and_quadrature},
        {NULL, NULL},
    };
    static const th_test hippo_tests[] = {
        {"matrices by hand", test_matrices_by_hand},
        {"discretisation formulas", test_discretize_definitions},
        {"discretisation orders", test_discretisation_orders},
        {"LegS O(N) step = dense step", test_legs_fast_equals_dense},
        {"LegS fast step across its blocks (N = 600) = dense", test_legs_fast_blocks},
        {"LegS fast step at N = 1024, 16 steps, every method = dense", test_legs_fast_1024},
        {"LegS step = discretised LTI", test_legs_step_is_discretised_lti},
        {"LegS approaches exact projection", test_legs_approaches_exact_projection},
        {"LegS time-stretch invariance", test_legs_time_stretch},
        {"reconstruction improves with N", test_reconstruction_improves_with_N},
        {"LagT approaches exact projection", test_lagt_approaches_exact},
        {"bad arguments", test_bad_arguments},
        {"trace", test_trace},
        {"allocation failures", test_alloc_failures},
        {NULL, NULL},
    };
    th_suite("linalg", linalg_tests);
    th_suite("hippo", hippo_tests);
    CU_pSuite s = CU_add_suite("hippo CLI", cli_init, cli_clean);
    CU_add_test(s, "JSON shapes", test_cli_json);
    CU_add_test(s, "bad input", test_cli_bad_input);
    CU_add_test(s, "random inputs", test_cli_random_input);
    CU_add_test(s, "allocation failures", test_cli_alloc_failures);
}
