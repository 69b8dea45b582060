#include "ssm.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "linalg.h"
#include "mat.h"

const char *const ssm_recurrent_listing[] = {
    "Abar, Bbar = discretize(A, B, dt)", "x = 0", "for k = 1 .. L:", "    x = Abar x + Bbar u[k]",
    "    y[k] = C x + D u[k]",
};
const size_t ssm_recurrent_listing_len =
    sizeof ssm_recurrent_listing / sizeof ssm_recurrent_listing[0];

const char *const ssm_conv_listing[] = {
    "Abar, Bbar = discretize(A, B, dt)",
    "v = Bbar",
    "for j = 0 .. L-1:  K[j] = C v;  v = Abar v",
    "pad K and u with zeros to 2L; Kf = FFT(K), uf = FFT(u)",
    "y = IFFT(Kf * uf)[0 .. L-1] + D u",
};
const size_t ssm_conv_listing_len = sizeof ssm_conv_listing / sizeof ssm_conv_listing[0];

static const char *const method_names[] = {"euler", "backward", "bilinear", "zoh"};

const char *ssm_method_name(ssm_method m)
{
    return (unsigned)m < 4 ? method_names[m] : "?";
}

int ssm_method_parse(const char *name, ssm_method *m)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(name, method_names[i]) == 0) {
            *m = (ssm_method)i;
            return 0;
        }
    return TUTOR_EINVAL;
}

int ssm_trace_this(size_t k, size_t L)
{
    if (L <= 256 || k < 64 || k + 16 >= L)
        return 1;
    size_t stride = (L - 80) / 176 + 1;
    return (k - 64) % stride == 0;
}

/* Abar, Bbar for the three rational methods. With M = I - a A and P = I + b A, each is
 * Abar = M^-1 P, Bbar = M^-1 dt B: euler (a = 0, b = dt), backward (a = dt, b = 0),
 * bilinear (a = b = dt / 2). One LU solve with two right-hand sides families. */
static int rational(double *Abar, double *Bbar, const double *A, const double *B, size_t N,
                    double dt, double a, double b)
{
    size_t nn = N * N;
    double *m = mem_alloc(mem_mul(mem_add(mem_mul(2, nn), N), sizeof *m));
    if (!m)
        return TUTOR_ENOMEM;
    double *rhs = m + nn; /* [P | dt B] as N rows of N + 1 columns */
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++) {
            m[i * N + j] = (i == j) - a * A[i * N + j];
            rhs[i * (N + 1) + j] = (i == j) + b * A[i * N + j];
        }
        rhs[i * (N + 1) + N] = dt * B[i];
    }
    int rc = 0;
    if (a != 0)
        rc = mat_solve(rhs, m, rhs, N, N + 1);
    if (!rc)
        for (size_t i = 0; i < N; i++) {
            memcpy(Abar + i * N, rhs + i * (N + 1), N * sizeof *Abar);
            Bbar[i] = rhs[i * (N + 1) + N];
        }
    mem_free(m);
    return rc;
}

int ssm_discretize(double *Abar, double *Bbar, const double *A, const double *B, size_t N,
                   double dt, ssm_method method)
{
    if (!(dt > 0) || !isfinite(dt))
        return TUTOR_EINVAL;
    for (size_t i = 0; i < N * N; i++)
        if (!isfinite(A[i]))
            return TUTOR_EINVAL;
    switch (method) {
    case SSM_EULER: return rational(Abar, Bbar, A, B, N, dt, 0, dt);
    case SSM_BACKWARD: return rational(Abar, Bbar, A, B, N, dt, dt, 0);
    case SSM_BILINEAR: return rational(Abar, Bbar, A, B, N, dt, dt / 2, dt / 2);
    case SSM_ZOH: break;
    default: return TUTOR_EINVAL;
    }
    /* exp([[A, B], [0, 0]] dt) = [[exp(A dt), int_0^dt exp(A s) ds B], [0, 1]]: the top-right
     * column is exactly Bbar for an input held constant over the step, and no inverse of A
     * is needed (A may be singular). */
    size_t n1 = N + 1;
    double *e = mem_calloc(mem_mul(n1, n1), sizeof *e);
    if (!e)
        return TUTOR_ENOMEM;
    for (size_t i = 0; i < N; i++) {
        for (size_t j = 0; j < N; j++)
            e[i * n1 + j] = A[i * N + j] * dt;
        e[i * n1 + N] = B[i] * dt;
    }
    int rc = linalg_expm(e, e, n1);
    if (!rc)
        for (size_t i = 0; i < N; i++) {
            memcpy(Abar + i * N, e + i * n1, N * sizeof *Abar);
            Bbar[i] = e[i * n1 + N];
        }
    mem_free(e);
    return rc;
}

int ssm_kernel(double *K, const double *Abar, const double *Bbar, const double *C, size_t N,
               size_t L)
{
    double *v = mem_alloc(2 * N * sizeof *v);
    if (!v)
        return TUTOR_ENOMEM;
    double *w = v + N;
    memcpy(v, Bbar, N * sizeof *v);
    for (size_t j = 0; j < L; j++) {
        K[j] = mat_dot(C, v, N);
        mat_gemv(w, Abar, v, N, N, 0, 1.0, 0.0);
        memcpy(v, w, N * sizeof *v);
    }
    mem_free(v);
    return 0;
}

int ssm_recurrent(double *y, double *x_final, const double *Abar, const double *Bbar,
                  const double *C, double D, const double *u, size_t N, size_t L, trace *tr)
{
    double *x = mem_calloc(2 * N + 1, sizeof *x);
    if (!x)
        return TUTOR_ENOMEM;
    double *w = x + N;
    if (tr) {
        trace_step(tr, 2, "x = 0 (N = %zu)", N);
        trace_reals(tr, "x", x, N);
        trace_reals(tr, "u", u, L);
    }
    for (size_t k = 0; k < L; k++) {
        /* x = Abar x + Bbar u_k */
        mat_gemv(w, Abar, x, N, N, 0, 1.0, 0.0);
        for (size_t i = 0; i < N; i++)
            x[i] = w[i] + Bbar[i] * u[k];
        y[k] = mat_dot(C, x, N) + D * u[k];
        if (tr && ssm_trace_this(k, L)) {
            trace_step(tr, 4, "k = %zu: x = Abar x + Bbar * %.4g", k + 1, u[k]);
            trace_reals(tr, "x", x, N);
            trace_mark(tr, "u", (long)k, -1, TRACE_CURRENT);
            trace_step(tr, 5, "y[%zu] = C x + D u = %.6g", k + 1, y[k]);
            trace_reals(tr, "y", y, k + 1);
            trace_mark(tr, "y", (long)k, -1, TRACE_MOVE);
        }
    }
    if (x_final)
        memcpy(x_final, x, N * sizeof *x);
    mem_free(x);
    return trace_status(tr);
}

int ssm_convolution(double *y, double *K, const double *Abar, const double *Bbar, const double *C,
                    double D, const double *u, size_t N, size_t L, trace *tr)
{
    double *k = mem_alloc((L ? L : 1) * sizeof *k);
    if (!k)
        return TUTOR_ENOMEM;
    int rc = ssm_kernel(k, Abar, Bbar, C, N, L);
    if (!rc && tr) {
        trace_step(tr, 3, "kernel K[j] = C Abar^j Bbar for j < %zu", L);
        trace_reals(tr, "u", u, L);
        trace_reals(tr, "kernel", k, L);
        trace_step(tr, 4, "zero-pad K and u to %zu samples so the circular product is linear",
                   2 * L);
    }
    if (!rc)
        rc = linalg_conv_fft(y, k, u, L);
    if (!rc) {
        for (size_t t = 0; t < L; t++)
            y[t] += D * u[t];
        if (tr) {
            trace_step(tr, 5, "y = (K * u) + D u");
            trace_reals(tr, "y", y, L);
        }
        if (K)
            memcpy(K, k, L * sizeof *k);
        rc = trace_status(tr);
    }
    mem_free(k);
    return rc;
}
