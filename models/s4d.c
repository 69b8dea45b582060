#include "s4d.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "linalg.h"
#include "ssm.h"

/* Powers of Abar taken by products between two exact exponentials (s4d_kernel). */
#define S4D_POW_BLOCK 64

const char *const s4d_listing[] = {
    "A[n] = -1/2 + i pi n (Lin) | -1/2 + i (N/pi)(N/(2n+1) - 1) (Inv), n < N/2;  B = 1",
    "Abar = exp(dt A);  Bbar = (Abar - 1) / A * B          (zoh, elementwise)",
    "recurrent: for k = 1 .. L:  x = Abar * x + Bbar u[k]   (N/2 modes + conjugates)",
    "    y[k] = Re(C x) + D u[k] = 2 Re(sum over kept modes) + D u[k]",
    "convolution: K[k] = 2 Re sum_n C[n] Bbar[n] Abar[n]^k   (Vandermonde product)",
    "    y = IFFT(FFT(K) FFT(u)) (zero-padded to 2L) + D u",
};
const size_t s4d_listing_len = sizeof s4d_listing / sizeof s4d_listing[0];

void s4d_init(double complex *A, double complex *B, double complex *C, double *D, size_t M,
              s4d_init_kind kind, rng *r)
{
    double N = 2.0 * (double)M;
    for (size_t n = 0; n < M; n++) {
        double im = kind == S4D_LIN ? M_PI * (double)n : N / M_PI * (N / (2.0 * (double)n + 1) - 1);
        A[n] = -0.5 + im * I;
        B[n] = 1;
        double re = rng_gauss(r) * sqrt(0.5);
        C[n] = re + rng_gauss(r) * sqrt(0.5) * I;
    }
    *D = rng_gauss(r);
}

int s4d_discretize(double complex *Abar, double complex *Bbar, const double complex *A,
                   const double complex *B, size_t M, double dt)
{
    if (!(dt > 0) || !isfinite(dt))
        return TUTOR_EINVAL;
    for (size_t n = 0; n < M; n++)
        if (A[n] == 0 || !isfinite(creal(A[n])) || !isfinite(cimag(A[n])))
            return TUTOR_EINVAL;
    for (size_t n = 0; n < M; n++) {
        Abar[n] = cexp(dt * A[n]);
        Bbar[n] = (Abar[n] - 1) / A[n] * B[n];
    }
    return 0;
}

void s4d_kernel(double *K, const double complex *dtA, const double complex *Bbar,
                const double complex *C, size_t M, size_t L)
{
    /* Within a block of S4D_POW_BLOCK powers, Abar^k comes from the previous power by one
     * complex product; each block restarts from the exact exp(k0 dt A_n), so rounding builds
     * up over at most S4D_POW_BLOCK products (about 1e-16 relative), while cexp, which
     * dominated the convolution's time, runs L / S4D_POW_BLOCK times per mode instead of L. */
    memset(K, 0, L * sizeof *K);
    for (size_t n = 0; n < M; n++) {
        double complex w = C[n] * Bbar[n], step = cexp(dtA[n]);
        for (size_t k0 = 0; k0 < L; k0 += S4D_POW_BLOCK) {
            size_t end = L - k0 < S4D_POW_BLOCK ? L : k0 + S4D_POW_BLOCK;
            double complex p = w * cexp((double)k0 * dtA[n]);
            for (size_t k = k0; k < end; k++) {
                K[k] += 2 * creal(p);
                p *= step;
            }
        }
    }
}

int s4d_recurrent(double *y, const double complex *Abar, const double complex *Bbar,
                  const double complex *C, double D, const double *u, size_t M, size_t L, trace *tr)
{
    /* x holds the N = 2M modes: the kept ones, then their conjugates, evolved separately
     * (nothing here assumes the conjugate symmetry the fast form relies on). */
    double complex *x = mem_calloc(2 * M + 1, sizeof *x);
    double *show = tr ? mem_alloc((4 * M + 1) * sizeof *show) : NULL;
    if (!x || (tr && !show)) {
        mem_free(x);
        mem_free(show);
        return TUTOR_ENOMEM;
    }
    if (tr) {
        trace_step(tr, 3, "x = 0: %zu modes and their conjugates", M);
        trace_reals(tr, "u", u, L);
    }
    for (size_t k = 0; k < L; k++) {
        double complex s = 0;
        for (size_t n = 0; n < M; n++) {
            x[n] = Abar[n] * x[n] + Bbar[n] * u[k];
            x[M + n] = conj(Abar[n]) * x[M + n] + conj(Bbar[n]) * u[k];
            s += C[n] * x[n] + conj(C[n]) * x[M + n];
        }
        y[k] = creal(s) + D * u[k];
        if (tr && ssm_trace_this(k, L)) {
            for (size_t n = 0; n < 2 * M; n++) {
                show[2 * n] = creal(x[n]);
                show[2 * n + 1] = cimag(x[n]);
            }
            trace_step(tr, 3, "k = %zu: x = Abar * x + Bbar * %.4g", k + 1, u[k]);
            trace_matrix(tr, "x (re, im)", show, 2 * M, 2);
            trace_mark(tr, "u", (long)k, -1, TRACE_CURRENT);
            trace_step(tr, 4, "y[%zu] = Re(C x) + D u = %.6g (imaginary part %.2g)", k + 1, y[k],
                       cimag(s));
            trace_reals(tr, "y", y, k + 1);
            trace_mark(tr, "y", (long)k, -1, TRACE_MOVE);
        }
    }
    mem_free(x);
    mem_free(show);
    return trace_status(tr);
}

int s4d_convolution(double *y, double *K, const double complex *dtA, const double complex *Bbar,
                    const double complex *C, double D, const double *u, size_t M, size_t L,
                    trace *tr)
{
    double *k = mem_alloc((L ? L : 1) * sizeof *k);
    if (!k)
        return TUTOR_ENOMEM;
    s4d_kernel(k, dtA, Bbar, C, M, L);
    if (tr) {
        trace_step(tr, 5, "kernel by the Vandermonde product: %zu modes x %zu powers", M, L);
        trace_reals(tr, "u", u, L);
        trace_reals(tr, "kernel", k, L);
    }
    int rc = linalg_conv_fft(y, k, u, L);
    if (!rc) {
        for (size_t t = 0; t < L; t++)
            y[t] += D * u[t];
        if (tr) {
            trace_step(tr, 6, "y = K * u + D u through the FFT, padded to %zu", 2 * L);
            trace_reals(tr, "y", y, L);
        }
        if (K)
            memcpy(K, k, L * sizeof *k);
        rc = trace_status(tr);
    }
    mem_free(k);
    return rc;
}
