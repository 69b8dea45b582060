#include "mamba.h"

#include <math.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "fastexp.h"
#include "ssm.h"

const char *const mamba_listing[] = {
    "Delta = softplus(Delta_raw)                                   (L x D)",
    "h = 0                                                         (D x N)",
    "for t = 1 .. L:",
    "    Abar[d][n] = exp(Delta[t][d] A[d][n]);  Bu[d][n] = Delta[t][d] B[t][n] u[t][d]",
    "    h = Abar * h + Bu                                         (elementwise)",
    "    y[t][d] = sum_n C[t][n] h[d][n] + D[d] u[t][d]",
    "    if z: y[t] = y[t] * silu(z[t])",
    "parallel: a[t] = Abar(t), b[t] = Bu(t) for every t at once",
    "up-sweep: combine pairs (a1, b1) then (a2, b2) -> (a1 a2, a2 b1 + b2) at strides 1, 2, 4..",
    "down-sweep: fill in the remaining prefixes; now h[t] = b[t]",
    "y[t] = C[t] . h[t] + D u[t] (* silu(z[t])) for every t at once",
};
const size_t mamba_listing_len = sizeof mamba_listing / sizeof mamba_listing[0];

double mamba_softplus(double x)
{
    return x > 30 ? x : log1p(exp(x));
}

static double silu(double z)
{
    return z / (1 + exp(-z));
}

static int bad_sizes(const mamba_in *in)
{
    return in->L == 0 || in->D == 0 || in->N == 0;
}

/* y[t] from the state h (D, N) at time t; returns nothing. */
static void output(double *yt, const double *h, const mamba_in *in, size_t t)
{
    size_t D = in->D, N = in->N;
    for (size_t d = 0; d < D; d++) {
        double s = 0;
        for (size_t n = 0; n < N; n++)
            s += in->C[t * N + n] * h[d * N + n];
        if (in->Dskip)
            s += in->Dskip[d] * in->u[t * D + d];
        if (in->z)
            s *= silu(in->z[t * D + d]);
        yt[d] = s;
    }
}

/* One step of the untraced scan: h = exp(Delta_t A) * h + Delta_t B_t u_t over the (D, N)
 * state. All D N exponentials of the step go to fastexp_array at once (abar is its (D, N)
 * buffer): one vectorised call per step instead of D N scalar exp calls, which were nearly
 * all of the scan's time. The update itself is the traced loop's, operation for operation. */
FASTEXP_VECTORIZE static void step_fast(double *h, double *abar, const double *dlt,
                                        const mamba_in *in, size_t t)
{
    size_t D = in->D, N = in->N;
    for (size_t d = 0; d < D; d++)
        for (size_t n = 0; n < N; n++)
            abar[d * N + n] = dlt[d] * in->A[d * N + n];
    fastexp_array(abar, abar, D * N);
    const double *bt = in->B + t * N, *ut = in->u + t * D;
    for (size_t d = 0; d < D; d++) {
        double dt = dlt[d], u = ut[d];
        double *hd = h + d * N;
        const double *ad = abar + d * N;
        for (size_t n = 0; n < N; n++)
            hd[n] = ad[n] * hd[n] + dt * bt[n] * u;
    }
}

/* output() for the untraced scan: the same sums in the same order, the gate's exp(-z) for
 * the D channels by fastexp_array into g (D values, scratch). */
FASTEXP_VECTORIZE static void output_fast(double *yt, double *g, const double *h,
                                          const mamba_in *in, size_t t)
{
    size_t D = in->D, N = in->N;
    const double *ct = in->C + t * N;
    for (size_t d = 0; d < D; d++) {
        double s = 0;
        for (size_t n = 0; n < N; n++)
            s += ct[n] * h[d * N + n];
        yt[d] = s;
    }
    if (in->Dskip)
        for (size_t d = 0; d < D; d++)
            yt[d] += in->Dskip[d] * in->u[t * D + d];
    if (in->z) {
        const double *zt = in->z + t * D;
        for (size_t d = 0; d < D; d++)
            g[d] = -zt[d];
        fastexp_array(g, g, D);
        for (size_t d = 0; d < D; d++)
            yt[d] *= zt[d] / (1 + g[d]);
    }
}

int mamba_scan(double *y, double *delta, const mamba_in *in, trace *tr)
{
    if (bad_sizes(in))
        return TUTOR_EINVAL;
    size_t L = in->L, D = in->D, N = in->N;
    double *dl = mem_alloc(L * D * sizeof *dl);
    double *h = mem_calloc(D * N, sizeof *h);
    /* Abar for one step: recorded when traced, the exponentials' buffer when not. */
    double *abar = mem_alloc(D * N * sizeof *abar);
    double *g = !tr && in->z ? mem_alloc(D * sizeof *g) : NULL;
    if (!dl || !h || !abar || (!tr && in->z && !g)) {
        mem_free(dl);
        mem_free(h);
        mem_free(abar);
        mem_free(g);
        return TUTOR_ENOMEM;
    }
    if (tr)
        for (size_t i = 0; i < L * D; i++)
            dl[i] = mamba_softplus(in->delta_raw[i]);
    else
        fastexp_softplus(dl, in->delta_raw, L * D);
    if (tr) {
        trace_step(tr, 1,
                   "Delta = softplus(Delta_raw): large Delta lets a token in, small "
                   "Delta keeps the state");
        trace_matrix(tr, "u", in->u, L, D);
        trace_matrix(tr, "Delta", dl, L, D);
        trace_step(tr, 2, "h = 0 (%zu channels x %zu states)", D, N);
        trace_matrix(tr, "h", h, D, N);
    }
    for (size_t t = 0; t < L; t++) {
        if (tr)
            for (size_t d = 0; d < D; d++) {
                double dt = dl[t * D + d], ut = in->u[t * D + d];
                for (size_t n = 0; n < N; n++) {
                    double a = exp(dt * in->A[d * N + n]);
                    h[d * N + n] = a * h[d * N + n] + dt * in->B[t * N + n] * ut;
                    abar[d * N + n] = a;
                }
            }
        else
            step_fast(h, abar, dl + t * D, in, t);
        if (tr)
            output(y + t * D, h, in, t);
        else
            output_fast(y + t * D, g, h, in, t);
        if (tr && ssm_trace_this(t, L)) {
            trace_step(tr, 4, "t = %zu: Delta[t][0] = %.3g, so Abar[0][0] = %.3g", t + 1, dl[t * D],
                       abar[0]);
            trace_matrix(tr, "Abar", abar, D, N);
            trace_mark(tr, "Delta", (long)t, 0, TRACE_CURRENT);
            /* The question that matters in a selective model: is this token let in? */
            trace_quiz(tr,
                       "Is this token written into the state (1: Delta > 0.5) or "
                       "mostly ignored (0)?",
                       dl[t * D] > 0.5);
            trace_step(tr, 5, "h = Abar * h + Delta B u");
            trace_matrix(tr, "h", h, D, N);
            trace_step(tr, in->z ? 7 : 6, "y[%zu][0] = %.4g", t + 1, y[t * D]);
            trace_matrix(tr, "y", y, t + 1, D);
            trace_mark(tr, "y", (long)t, 0, TRACE_MOVE);
        }
    }
    if (delta)
        memcpy(delta, dl, L * D * sizeof *dl);
    mem_free(dl);
    mem_free(h);
    mem_free(abar);
    mem_free(g);
    return trace_status(tr);
}

/* (a, b)[i] = (a, b)[j] then (a, b)[i], elementwise over W values: the later step
 * applied after the earlier one. */
static void combine(double *a, double *b, size_t i, size_t j, size_t W)
{
    double *ai = a + i * W, *bi = b + i * W;
    const double *aj = a + j * W, *bj = b + j * W;
    for (size_t w = 0; w < W; w++) {
        bi[w] = ai[w] * bj[w] + bi[w];
        ai[w] = ai[w] * aj[w];
    }
}

int mamba_scan_parallel(double *y, const mamba_in *in, trace *tr)
{
    if (bad_sizes(in))
        return TUTOR_EINVAL;
    size_t L = in->L, D = in->D, N = in->N, W = D * N;
    double *a = mem_alloc(L * W * sizeof *a);
    double *b = mem_alloc(L * W * sizeof *b);
    if (!a || !b) {
        mem_free(a);
        mem_free(b);
        return TUTOR_ENOMEM;
    }
    for (size_t t = 0; t < L; t++)
        for (size_t d = 0; d < D; d++) {
            double dt = mamba_softplus(in->delta_raw[t * D + d]), ut = in->u[t * D + d];
            for (size_t n = 0; n < N; n++) {
                a[t * W + d * N + n] = exp(dt * in->A[d * N + n]);
                b[t * W + d * N + n] = dt * in->B[t * N + n] * ut;
            }
        }
    if (tr) {
        trace_step(tr, 8, "a[t] = exp(Delta A), b[t] = Delta B u for all %zu steps", L);
        trace_matrix(tr, "u", in->u, L, D);
        trace_matrix(tr, "a", a, L, W);
        trace_matrix(tr, "b", b, L, W);
    }
    /* Brent-Kung: the up-sweep leaves at index i = 2d k - 1 the composition of its block of
     * 2d steps; the down-sweep then completes index 3d - 1 + 2d k from the prefix ending
     * d before it, largest strides first. */
    size_t top = 1;
    for (size_t d = 1; d < L; d *= 2) {
        for (size_t i = 2 * d - 1; i < L; i += 2 * d)
            combine(a, b, i, i - d, W);
        top = d;
        if (tr) {
            trace_step(tr, 9, "up-sweep, stride %zu", d);
            trace_matrix(tr, "b", b, L, W);
        }
    }
    for (size_t d = top; d >= 1; d /= 2) {
        for (size_t i = 3 * d - 1; i < L; i += 2 * d)
            combine(a, b, i, i - d, W);
        if (tr) {
            trace_step(tr, 10, "down-sweep, stride %zu", d);
            trace_matrix(tr, "b", b, L, W);
        }
    }
    /* h[t] = a-prefix * h_0 + b-prefix with h_0 = 0: the state is b. */
    for (size_t t = 0; t < L; t++)
        output(y + t * D, b + t * W, in, t);
    if (tr) {
        trace_step(tr, 11, "y[t] = C[t] . h[t] + D u[t] for every t");
        trace_matrix(tr, "y", y, L, D);
    }
    mem_free(a);
    mem_free(b);
    return trace_status(tr);
}

void mamba_demo_free(mamba_demo *demo)
{
    mem_free(demo->u);
    mem_free(demo->delta_raw);
    mem_free(demo->A);
    mem_free(demo->B);
    mem_free(demo->C);
    mem_free(demo->target);
    mem_free(demo->marked);
    memset(demo, 0, sizeof *demo);
}

int mamba_selective_copy(mamba_demo *demo, size_t L, size_t K, uint64_t seed)
{
    memset(demo, 0, sizeof *demo);
    if (K == 0 || L < 2 * K)
        return TUTOR_EINVAL;
    demo->L = L;
    demo->K = K;
    demo->u = mem_alloc(L * sizeof(double));
    demo->delta_raw = mem_alloc(L * sizeof(double));
    demo->A = mem_alloc(K * sizeof(double));
    demo->B = mem_calloc(L * K, sizeof(double));
    demo->C = mem_calloc(L * K, sizeof(double));
    demo->target = mem_alloc(K * sizeof(double));
    demo->marked = mem_alloc(K * sizeof(size_t));
    if (!demo->u || !demo->delta_raw || !demo->A || !demo->B || !demo->C || !demo->target ||
        !demo->marked) {
        mamba_demo_free(demo);
        return TUTOR_ENOMEM;
    }
    rng r;
    rng_seed(&r, seed);
    /* K distinct positions among the first L - K, by selection sampling (Knuth's
     * algorithm S), which yields them in increasing order. */
    size_t need = K, left = L - K, j = 0;
    for (size_t t = 0; t < L - K; t++, left--)
        if ((size_t)rng_range(&r, 0, (int64_t)left - 1) < need) {
            demo->marked[j++] = t;
            need--;
        }
    double keep = log(expm1(1.0)); /* softplus^-1(1): Delta = 1 */
    for (size_t n = 0; n < K; n++)
        demo->A[n] = -0.01;
    j = 0;
    for (size_t t = 0; t < L; t++) {
        if (t >= L - K) { /* query j reads slot j */
            demo->u[t] = 0;
            demo->delta_raw[t] = -10;
            demo->C[t * K + (t - (L - K))] = 1;
        } else if (j < K && demo->marked[j] == t) {
            double v = (1 + rng_uniform(&r)) * (rng_uniform(&r) < 0.5 ? -1 : 1);
            demo->u[t] = v;
            demo->target[j] = v;
            demo->delta_raw[t] = keep;
            demo->B[t * K + j] = 1;
            j++;
        } else { /* noise: a random value aimed at a random slot, barely let in */
            demo->u[t] = rng_gauss(&r);
            demo->delta_raw[t] = -10;
            demo->B[t * K + (size_t)rng_range(&r, 0, (int64_t)K - 1)] = 1;
        }
    }
    return 0;
}
