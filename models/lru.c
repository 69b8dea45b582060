#include "lru.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/status.h"
#include "ssm.h"

const char *const lru_listing[] = {
    "lambda = exp(-exp(nu) + i exp(theta));  gamma = sqrt(1 - |lambda|^2)",
    "x = 0",
    "for k = 1 .. L:  x = lambda * x + gamma * (B u[k])",
    "    y[k] = Re(C x) + D u[k]",
    "scan: a[k] = lambda, b[k] = gamma * (B u[k]) for every k at once",
    "combine (a1, b1) then (a2, b2) -> (a1 a2, a2 b1 + b2): up-sweep, then down-sweep",
    "x[k] = b[k];  y[k] = Re(C x[k]) + D u[k] for every k at once",
};
const size_t lru_listing_len = sizeof lru_listing / sizeof lru_listing[0];

void lru_free(lru_params *p)
{
    mem_free(p->nu);
    mem_free(p->theta);
    mem_free(p->lambda);
    mem_free(p->gamma);
    mem_free(p->B);
    mem_free(p->C);
    mem_free(p->Dskip);
    memset(p, 0, sizeof *p);
}

int lru_init(lru_params *p, size_t N, size_t H, double r_min, double r_max, double max_phase,
             rng *r)
{
    memset(p, 0, sizeof *p);
    if (N == 0 || H == 0 || !(r_min > 0) || !(r_max > r_min) || !(r_max < 1) || !(max_phase > 0))
        return TUTOR_EINVAL;
    p->N = N;
    p->H = H;
    p->nu = mem_alloc(mem_mul(N, sizeof *p->nu));
    p->theta = mem_alloc(mem_mul(N, sizeof *p->theta));
    p->lambda = mem_alloc(mem_mul(N, sizeof *p->lambda));
    p->gamma = mem_alloc(mem_mul(N, sizeof *p->gamma));
    p->B = mem_alloc(mem_mul(mem_mul(N, H), sizeof *p->B));
    p->C = mem_alloc(mem_mul(mem_mul(H, N), sizeof *p->C));
    p->Dskip = mem_alloc(mem_mul(H, sizeof *p->Dskip));
    if (!p->nu || !p->theta || !p->lambda || !p->gamma || !p->B || !p->C || !p->Dskip) {
        lru_free(p);
        return TUTOR_ENOMEM;
    }
    for (size_t n = 0; n < N; n++) {
        /* |lambda|^2 uniform in [r_min^2, r_max^2] spreads the eigenvalues uniformly over
         * the ring's area, as the paper does. */
        double u1 = rng_uniform(r), u2 = rng_uniform(r);
        double mod = sqrt(r_min * r_min + u1 * (r_max * r_max - r_min * r_min));
        p->nu[n] = log(-log(mod));
        p->theta[n] = log(max_phase * (1 - u2)); /* 1 - u2 is in (0, 1]: log is finite */
        p->lambda[n] = cexp(-exp(p->nu[n]) + exp(p->theta[n]) * I);
        double m = cabs(p->lambda[n]);
        p->gamma[n] = sqrt(1 - m * m);
    }
    for (size_t i = 0; i < N * H; i++) {
        double re = rng_gauss(r), im = rng_gauss(r);
        p->B[i] = (re + im * I) / sqrt(2.0 * (double)H);
    }
    for (size_t i = 0; i < H * N; i++) {
        double re = rng_gauss(r), im = rng_gauss(r);
        p->C[i] = (re + im * I) / sqrt((double)N);
    }
    for (size_t h = 0; h < H; h++)
        p->Dskip[h] = rng_gauss(r);
    return 0;
}

/* b = gamma * (B u) for one time step: N values. */
static void input(double complex *b, const lru_params *p, const double *uk)
{
    for (size_t n = 0; n < p->N; n++) {
        double complex s = 0;
        for (size_t h = 0; h < p->H; h++)
            s += p->B[n * p->H + h] * uk[h];
        b[n] = p->gamma[n] * s;
    }
}

static void output(double *yk, const lru_params *p, const double complex *x, const double *uk)
{
    for (size_t h = 0; h < p->H; h++) {
        double complex s = 0;
        for (size_t n = 0; n < p->N; n++)
            s += p->C[h * p->N + n] * x[n];
        yk[h] = creal(s) + p->Dskip[h] * uk[h];
    }
}

/* Writes the N complex values as an (N, 2) matrix of (re, im) rows into show. */
static void as_pairs(double *show, const double complex *x, size_t N)
{
    for (size_t n = 0; n < N; n++) {
        show[2 * n] = creal(x[n]);
        show[2 * n + 1] = cimag(x[n]);
    }
}

static void trace_params(trace *tr, const lru_params *p, const double *u, size_t L, double *show)
{
    trace_step(tr, 1, "lambda on the ring: |lambda| in [%.3g, %.3g]", cabs(p->lambda[0]),
               cabs(p->lambda[p->N - 1]));
    as_pairs(show, p->lambda, p->N);
    trace_matrix(tr, "lambda (re, im)", show, p->N, 2);
    trace_reals(tr, "gamma", p->gamma, p->N);
    trace_matrix(tr, "u", u, L, p->H);
}

int lru_recurrent(double *y, const lru_params *p, const double *u, size_t L, trace *tr)
{
    size_t N = p->N, H = p->H;
    double complex *x = mem_calloc(2 * N, sizeof *x);
    double *show = tr ? mem_alloc(2 * N * sizeof *show) : NULL;
    if (!x || (tr && !show)) {
        mem_free(x);
        mem_free(show);
        return TUTOR_ENOMEM;
    }
    double complex *b = x + N;
    if (tr) {
        trace_params(tr, p, u, L, show);
        trace_step(tr, 2, "x = 0 (%zu complex states)", N);
    }
    for (size_t k = 0; k < L; k++) {
        input(b, p, u + k * H);
        for (size_t n = 0; n < N; n++)
            x[n] = p->lambda[n] * x[n] + b[n];
        output(y + k * H, p, x, u + k * H);
        if (tr && ssm_trace_this(k, L)) {
            trace_step(tr, 3, "k = %zu: x = lambda * x + gamma * (B u)", k + 1);
            as_pairs(show, x, N);
            trace_matrix(tr, "x (re, im)", show, N, 2);
            trace_mark(tr, "u", (long)k, 0, TRACE_CURRENT);
            trace_step(tr, 4, "y[%zu][0] = Re(C x) + D u = %.4g", k + 1, y[k * H]);
            trace_matrix(tr, "y", y, k + 1, H);
            trace_mark(tr, "y", (long)k, 0, TRACE_MOVE);
        }
    }
    mem_free(x);
    mem_free(show);
    return trace_status(tr);
}

int lru_scan(double *y, const lru_params *p, const double *u, size_t L, trace *tr)
{
    size_t N = p->N, H = p->H;
    double complex *a = mem_alloc(mem_mul(mem_mul(L, N), sizeof *a));
    double complex *b = mem_alloc(mem_mul(mem_mul(L, N), sizeof *b));
    double *show = tr ? mem_alloc(2 * N * sizeof *show) : NULL;
    if (!a || !b || (tr && !show)) {
        mem_free(a);
        mem_free(b);
        mem_free(show);
        return TUTOR_ENOMEM;
    }
    for (size_t k = 0; k < L; k++) {
        memcpy(a + k * N, p->lambda, N * sizeof *a);
        input(b + k * N, p, u + k * H);
    }
    if (tr) {
        trace_params(tr, p, u, L, show);
        trace_step(tr, 5, "a[k] = lambda, b[k] = gamma * (B u[k]) for all %zu steps", L);
    }
    /* Brent-Kung, as in mamba.c: element i absorbs element j = i - d before it. */
    size_t top = 1;
    for (size_t d = 1; d < L; d *= 2) {
        for (size_t i = 2 * d - 1; i < L; i += 2 * d)
            for (size_t n = 0; n < N; n++) {
                b[i * N + n] += a[i * N + n] * b[(i - d) * N + n];
                a[i * N + n] *= a[(i - d) * N + n];
            }
        top = d;
    }
    if (tr)
        trace_step(tr, 6, "up-sweep over strides 1 .. %zu done; down-sweep next", top);
    for (size_t d = top; d >= 1; d /= 2)
        for (size_t i = 3 * d - 1; i < L; i += 2 * d)
            for (size_t n = 0; n < N; n++) {
                b[i * N + n] += a[i * N + n] * b[(i - d) * N + n];
                a[i * N + n] *= a[(i - d) * N + n];
            }
    for (size_t k = 0; k < L; k++)
        output(y + k * H, p, b + k * N, u + k * H);
    if (tr) {
        trace_step(tr, 7, "y from every prefix state at once");
        if (L) {
            as_pairs(show, b + (L - 1) * N, N);
            trace_matrix(tr, "x (re, im)", show, N, 2);
        }
        trace_matrix(tr, "y", y, L, H);
    }
    mem_free(a);
    mem_free(b);
    mem_free(show);
    return trace_status(tr);
}
