#include <fftw3.h> /* before cblas.h (through mat.h's users): keeps fftw_complex a double[2] */

#include "linalg.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "mat.h"

double linalg_norm1(const double *a, size_t n)
{
    double best = 0;
    for (size_t j = 0; j < n; j++) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += fabs(a[i * n + j]);
        if (s > best || isnan(s))
            best = s;
    }
    return best;
}

int linalg_expm(double *out, const double *a, size_t n)
{
    /* [6/6] Pade coefficients c_k = (12-k)! 6! / (12! k! (6-k)!): p(x) = sum c_k x^k and
     * q(x) = p(-x). Splitting p into even and odd parts, p = E + O and q = E - O, costs
     * three products (x^2, x^4, x^6) instead of six. */
    static const double c[7] = {1.0,       1.0 / 2,     5.0 / 44,    1.0 / 66,
                                1.0 / 792, 1.0 / 15840, 1.0 / 665280};
    if (n == 0)
        return 0;
    double norm = linalg_norm1(a, n);
    if (!isfinite(norm))
        return TUTOR_EINVAL;
    int s = 0;
    while (norm > 0.5 && s < 1000) {
        norm /= 2;
        s++;
    }
    double scale = ldexp(1.0, -s);
    size_t nn = n * n;
    double *x = mem_alloc(mem_mul(nn, 6 * sizeof *x));
    if (!x)
        return TUTOR_ENOMEM;
    double *x2 = x + nn, *x4 = x2 + nn, *x6 = x4 + nn, *ev = x6 + nn, *od = ev + nn;
    for (size_t i = 0; i < nn; i++)
        x[i] = a[i] * scale;
    mat_gemm(x2, x, x, n, n, n, 0, 0, 1.0, 0.0);
    mat_gemm(x4, x2, x2, n, n, n, 0, 0, 1.0, 0.0);
    mat_gemm(x6, x4, x2, n, n, n, 0, 0, 1.0, 0.0);
    /* ev = c0 I + c2 x^2 + c4 x^4 + c6 x^6; od = x (c1 I + c3 x^2 + c5 x^4). */
    for (size_t i = 0; i < nn; i++) {
        ev[i] = c[2] * x2[i] + c[4] * x4[i] + c[6] * x6[i];
        x6[i] = c[3] * x2[i] + c[5] * x4[i]; /* x6 is free again: reuse it */
    }
    for (size_t i = 0; i < n; i++) {
        ev[i * n + i] += c[0];
        x6[i * n + i] += c[1];
    }
    mat_gemm(od, x, x6, n, n, n, 0, 0, 1.0, 0.0);
    /* p = ev + od into x2, q = ev - od into x4; out = q^-1 p. */
    for (size_t i = 0; i < nn; i++) {
        x2[i] = ev[i] + od[i];
        x4[i] = ev[i] - od[i];
    }
    int rc = mat_solve(x, x4, x2, n, n);
    if (rc)
        goto out;
    /* Undo the scaling: exp(a) = exp(a / 2^s)^(2^s). */
    for (int k = 0; k < s; k++) {
        mat_gemm(x2, x, x, n, n, n, 0, 0, 1.0, 0.0);
        memcpy(x, x2, nn * sizeof *x);
    }
    memcpy(out, x, nn * sizeof *x);
out:
    mem_free(x);
    return rc;
}

void linalg_conv_direct(double *y, const double *k, const double *u, size_t L)
{
    for (size_t t = 0; t < L; t++) {
        double s = 0;
        for (size_t j = 0; j <= t; j++)
            s += k[j] * u[t - j];
        y[t] = s;
    }
}

int linalg_conv_fft(double *y, const double *k, const double *u, size_t L)
{
    if (L == 0)
        return 0;
    size_t m = 2 * L, mc = m / 2 + 1;
    int rc = TUTOR_ENOMEM;
    fftw_plan fwd = NULL, inv = NULL;
    double *buf = mem_alloc(mem_mul(m, sizeof *buf));
    fftw_complex *kf = mem_alloc(mem_mul(mc, sizeof *kf));
    fftw_complex *uf = mem_alloc(mem_mul(mc, sizeof *uf));
    if (!buf || !kf || !uf)
        goto out;
    /* FFTW_ESTIMATE plans without overwriting the arrays; the arrays come from mem_alloc, so
     * FFTW may pick unaligned code paths, which is fine at these sizes. */
    fwd = fftw_plan_dft_r2c_1d((int)m, buf, kf, FFTW_ESTIMATE);
    inv = fftw_plan_dft_c2r_1d((int)m, kf, buf, FFTW_ESTIMATE);
    if (!fwd || !inv)
        goto out;
    memcpy(buf, k, L * sizeof *buf);
    memset(buf + L, 0, L * sizeof *buf);
    fftw_execute_dft_r2c(fwd, buf, kf);
    memcpy(buf, u, L * sizeof *buf);
    memset(buf + L, 0, L * sizeof *buf);
    fftw_execute_dft_r2c(fwd, buf, uf);
    for (size_t i = 0; i < mc; i++) {
        double re = kf[i][0] * uf[i][0] - kf[i][1] * uf[i][1];
        double im = kf[i][0] * uf[i][1] + kf[i][1] * uf[i][0];
        kf[i][0] = re;
        kf[i][1] = im;
    }
    fftw_execute_dft_c2r(inv, kf, buf); /* c2r destroys its input: kf is not used after */
    for (size_t t = 0; t < L; t++)
        y[t] = buf[t] / (double)m; /* FFTW's transforms are unnormalised */
    rc = 0;
out:
    if (fwd)
        fftw_destroy_plan(fwd);
    if (inv)
        fftw_destroy_plan(inv);
    mem_free(buf);
    mem_free(kf);
    mem_free(uf);
    return rc;
}

void linalg_legendre(double *p, double x, size_t N)
{
    if (N > 0)
        p[0] = 1;
    if (N > 1)
        p[1] = x;
    for (size_t n = 1; n + 1 < N; n++)
        p[n + 1] = ((double)(2 * n + 1) * x * p[n] - (double)n * p[n - 1]) / (double)(n + 1);
}

void linalg_laguerre(double *p, double x, size_t N)
{
    if (N > 0)
        p[0] = 1;
    if (N > 1)
        p[1] = 1 - x;
    for (size_t n = 1; n + 1 < N; n++)
        p[n + 1] = (((double)(2 * n + 1) - x) * p[n] - (double)n * p[n - 1]) / (double)(n + 1);
}

void linalg_gauss_legendre(double *x, double *w, size_t m)
{
    /* Nodes come in symmetric pairs: find the upper half by Newton on P_m, using
     * P_m'(z) = m (z P_m - P_{m-1}) / (z^2 - 1), then map [-1, 1] to [0, 1]. */
    for (size_t i = 0; i < (m + 1) / 2; i++) {
        double z = cos(M_PI * ((double)i + 0.75) / ((double)m + 0.5)), dp = 1;
        for (int it = 0; it < 100; it++) {
            double p0 = 1, p1 = z;
            for (size_t n = 1; n < m; n++) {
                double p2 = ((double)(2 * n + 1) * z * p1 - (double)n * p0) / (double)(n + 1);
                p0 = p1;
                p1 = p2;
            }
            dp = (double)m * (z * p1 - p0) / (z * z - 1);
            double dz = p1 / dp;
            z -= dz;
            if (fabs(dz) < 1e-16)
                break;
        }
        double wi = 2 / ((1 - z * z) * dp * dp);
        x[i] = (1 - z) / 2;
        x[m - 1 - i] = (1 + z) / 2;
        w[i] = w[m - 1 - i] = wi / 2;
    }
}
