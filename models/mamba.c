#include "mamba.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "../trace/mem.h"
#include "../trace/rng.h"
#include "../trace/status.h"
#include "fastexp.h"
#include "par.h"
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

/* ---- the untraced scan: fused, by channel lanes, on threads ----
 *
 * Channels never interact: channel d's state, output and Delta depend only on its own
 * column of the inputs. So the D channels split into blocks, one per part (models/par.h),
 * and each block into lanes of MAMBA_LANES channels, each lane scanning all L steps alone.
 * A lane's A and state, N x MAMBA_LANES doubles each (2 KiB at N = 16), stay in L1 for the
 * whole scan; per state and step the loop loads A and h and stores h, less memory traffic
 * than the bench's floor. The lane width is a constant, so gcc turns the loop along a lane
 * into whole vectors (one AVX-512, two AVX2) with the exponential inlined (fastexp1) and its
 * constants kept out of the state loop. The softplus and the gate of MAMBA_AHEAD steps are
 * computed before those steps' state loops: they do not depend on the state, and computed
 * at the top of each step, each step waited for their latency (a division each) before its
 * first exponential; ahead, the out-of-order core overlaps them with the states' work.
 * (The form before ran 256-channel passes with the state n-major, 64 KiB in L2: as fast on
 * one thread, but two threads halved each pass's width and gained only 1.3x to 1.6x; whole
 * lanes per thread gain 1.7x to 1.9x, docs/bench.md.)
 * The traced loop's operations, in its order, but for exp (fastexp's), Delta u computed once
 * per channel and step, and, on CPUs with FMA, fused multiply-adds (a run-time dispatched
 * clone, scan_level). Channels left over (D not a multiple of the lane width) run as one
 * narrower lane. */

#define MAMBA_LANES 8
#define MAMBA_AHEAD 8

typedef struct scan_job {
    const mamba_in *in;
    double *y, *delta; /* delta may be NULL */
    double *work;      /* per part: (2 + 2N) doubles per channel of its block */
    size_t block;      /* channels per part (a multiple of 8, but for the last part) */
    int level;         /* the arithmetic: 0 portable, 1 AVX2 + FMA, 2 AVX-512 + FMA */
} scan_job;

#if defined(__GNUC__) || defined(__clang__)
#define MAMBA_INLINE static inline __attribute__((always_inline))
#else
#define MAMBA_INLINE static inline
#endif

/* Channels [d0, d0 + W) over all L steps, W <= MAMBA_LANES. work: 2 N W doubles, A and the
 * state, n-major. Delta, Delta u and the gate of up to MAMBA_AHEAD steps wait in local
 * arrays (1.5 KiB). fused: the multiply-adds of the exponential, the update and the output
 * sum as fma() (the FMA clones) or rounded twice (portable: the same bits on every CPU and in
 * every clone). Whole lanes pass W = MAMBA_LANES as a constant, which the forced inlining
 * carries into every loop, so gcc vectorises them at that width; the tail (D not a multiple
 * of the lane width) passes what is left, and runs the same operations in the same order, so
 * a channel's bits do not depend on which of the two scanned it (tested). restrict: the
 * arrays never overlap, so the vectorised loops need no run-time overlap test. */
MAMBA_INLINE void scan_lane(const mamba_in *in, double *y, double *delta, double *work, size_t d0,
                            size_t W, int fused)
{
    enum { LW = MAMBA_LANES, T = MAMBA_AHEAD };
    size_t L = in->L, D = in->D, N = in->N;
    double *restrict at = work, *restrict ht = work + N * W;
    for (size_t n = 0; n < N; n++)
        for (size_t j = 0; j < W; j++) {
            at[n * W + j] = in->A[(d0 + j) * N + n];
            ht[n * W + j] = 0;
        }
    for (size_t t0 = 0; t0 < L; t0 += T) {
        size_t tn = L - t0 < T ? L - t0 : T;
        double dt[T][LW], du[T][LW], gate[T][LW];
        for (size_t k = 0; k < tn; k++) {
            const double *ut = in->u + (t0 + k) * D + d0;
            const double *raw = in->delta_raw + (t0 + k) * D + d0;
            for (size_t j = 0; j < W; j++) {
                dt[k][j] = fastexp_softplus1_madd(raw[j], fused);
                du[k][j] = dt[k][j] * ut[j];
            }
            if (in->z) {
                const double *zt = in->z + (t0 + k) * D + d0;
                for (size_t j = 0; j < W; j++)
                    gate[k][j] = zt[j] / (1 + fastexp1_madd(-zt[j], fused));
            }
        }
        for (size_t k = 0; k < tn; k++) {
            size_t t = t0 + k;
            const double *bt = in->B + t * N, *ct = in->C + t * N;
            double yt[LW] = {0};
            for (size_t n = 0; n < N; n++) {
                double b = bt[n], c = ct[n];
                const double *restrict an = at + n * W;
                double *restrict hn = ht + n * W;
                for (size_t j = 0; j < W; j++) {
                    double a = fastexp1_madd(dt[k][j] * an[j], fused);
                    double h = FASTEXP_MADD(a, hn[j], b * du[k][j], fused);
                    hn[j] = h;
                    yt[j] = FASTEXP_MADD(c, h, yt[j], fused);
                }
            }
            const double *ut = in->u + t * D + d0;
            if (in->Dskip)
                for (size_t j = 0; j < W; j++)
                    yt[j] = FASTEXP_MADD(in->Dskip[d0 + j], ut[j], yt[j], fused);
            if (in->z)
                for (size_t j = 0; j < W; j++)
                    yt[j] *= gate[k][j];
            memcpy(y + t * D + d0, yt, W * sizeof *yt);
            if (delta)
                memcpy(delta + t * D + d0, dt[k], W * sizeof *dt[k]);
        }
    }
}

/* Channels [d0, d1): whole lanes, then the tail. */
MAMBA_INLINE void scan_block_body(const mamba_in *in, double *y, double *delta, double *work,
                                  size_t d0, size_t d1, int fused)
{
    size_t d = d0;
    for (; d1 - d >= MAMBA_LANES; d += MAMBA_LANES)
        scan_lane(in, y, delta, work, d, MAMBA_LANES, fused);
    if (d < d1)
        scan_lane(in, y, delta, work, d, d1 - d, fused);
}

/* The portable arithmetic, vectorised by FASTEXP_VECTORIZE's clones (same bits in each). */
FASTEXP_VECTORIZE static void scan_block(const mamba_in *in, double *y, double *delta, double *work,
                                         size_t d0, size_t d1)
{
    scan_block_body(in, y, delta, work, d0, d1, 0);
}

#if FASTEXP_FMA_CLONES
/* The fused arithmetic, for CPUs with FMA (chosen at run time, fastexp_fma_level): within
 * 1e-10 relative of the portable result (tests/test_ssm.c); each multiply-add is one
 * instruction instead of two. */
FASTEXP_FMA_AVX2 static void scan_block_avx2(const mamba_in *in, double *y, double *delta,
                                             double *work, size_t d0, size_t d1)
{
    scan_block_body(in, y, delta, work, d0, d1, 1);
}

FASTEXP_FMA_AVX512 static void scan_block_avx512(const mamba_in *in, double *y, double *delta,
                                                 double *work, size_t d0, size_t d1)
{
    scan_block_body(in, y, delta, work, d0, d1, 1);
}
#endif

static void scan_part(void *vjob, size_t part, size_t parts)
{
    scan_job *job = vjob;
    size_t D = job->in->D;
    /* Rounding the block up to 8 channels can leave the last parts short or empty. */
    size_t d0 = part * job->block, d1 = d0 + job->block;
    if (part + 1 == parts || d1 > D)
        d1 = D;
    if (d0 >= d1)
        return;
    /* Each part has its own work area, sized for its whole block (the passes reuse it). */
    double *work = job->work + d0 * (2 + 2 * job->in->N);
#if FASTEXP_FMA_CLONES
    if (job->level == 2) {
        scan_block_avx512(job->in, job->y, job->delta, work, d0, d1);
        return;
    }
    if (job->level == 1) {
        scan_block_avx2(job->in, job->y, job->delta, work, d0, d1);
        return;
    }
#endif
    scan_block(job->in, job->y, job->delta, work, d0, d1);
}

static int scan_level(const mamba_in *in)
{
    return in->portable ? 0 : fastexp_fma_level();
}

const char *mamba_scan_kernel(const mamba_in *in)
{
    static const char *const names[] = {"portable", "AVX2 + FMA", "AVX-512 + FMA"};
    return names[scan_level(in)];
}

static int scan_fast(double *y, double *delta, const mamba_in *in)
{
    size_t D = in->D, N = in->N;
    if (N > SIZE_MAX / 2 - 1 || D > SIZE_MAX / sizeof(double) / (2 + 2 * N))
        return TUTOR_ENOMEM;
    double *work = mem_alloc(D * (2 + 2 * N) * sizeof *work);
    if (!work)
        return TUTOR_ENOMEM;
    /* At least 8 channels per part: one AVX-512 vector, and few cache lines of y shared by two
     * threads. */
    size_t parts = par_parts(in->threads, (double)in->L * (double)D * (double)N, (D + 7) / 8);
    size_t block = (D + parts - 1) / parts;
    block = (block + 7) / 8 * 8;
    scan_job job = {in, y, delta, work, block, scan_level(in)};
    par_run(scan_part, &job, parts);
    mem_free(work);
    return 0;
}

int mamba_scan(double *y, double *delta, const mamba_in *in, trace *tr)
{
    if (bad_sizes(in))
        return TUTOR_EINVAL;
    if (!tr)
        return scan_fast(y, delta, in);
    size_t L = in->L, D = in->D, N = in->N;
    double *dl = mem_alloc(mem_mul(mem_mul(L, D), sizeof *dl));
    double *h = mem_calloc(mem_mul(D, N), sizeof *h);
    double *abar =
        mem_alloc(mem_mul(mem_mul(D, N), sizeof *abar)); /* Abar for one step, for the trace */
    if (!dl || !h || !abar) {
        mem_free(dl);
        mem_free(h);
        mem_free(abar);
        return TUTOR_ENOMEM;
    }
    for (size_t i = 0; i < L * D; i++)
        dl[i] = mamba_softplus(in->delta_raw[i]);
    trace_step(tr, 1,
               "Delta = softplus(Delta_raw): large Delta lets a token in, small "
               "Delta keeps the state");
    trace_matrix(tr, "u", in->u, L, D);
    trace_matrix(tr, "Delta", dl, L, D);
    trace_step(tr, 2, "h = 0 (%zu channels x %zu states)", D, N);
    trace_matrix(tr, "h", h, D, N);
    for (size_t t = 0; t < L; t++) {
        for (size_t d = 0; d < D; d++) {
            double dt = dl[t * D + d], ut = in->u[t * D + d];
            for (size_t n = 0; n < N; n++) {
                double a = exp(dt * in->A[d * N + n]);
                h[d * N + n] = a * h[d * N + n] + dt * in->B[t * N + n] * ut;
                abar[d * N + n] = a;
            }
        }
        output(y + t * D, h, in, t);
        if (ssm_trace_this(t, L)) {
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
    double *a = mem_alloc(mem_mul(mem_mul(L, W), sizeof *a));
    double *b = mem_alloc(mem_mul(mem_mul(L, W), sizeof *b));
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

mamba_in mamba_demo_input(const mamba_demo *demo)
{
    return (mamba_in){.L = demo->L,
                      .D = 1,
                      .N = demo->K,
                      .u = demo->u,
                      .delta_raw = demo->delta_raw,
                      .A = demo->A,
                      .B = demo->B,
                      .C = demo->C};
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
    demo->u = mem_alloc(mem_mul(L, sizeof(double)));
    demo->delta_raw = mem_alloc(mem_mul(L, sizeof(double)));
    demo->A = mem_alloc(mem_mul(K, sizeof(double)));
    demo->B = mem_calloc(mem_mul(L, K), sizeof(double));
    demo->C = mem_calloc(mem_mul(L, K), sizeof(double));
    demo->target = mem_alloc(mem_mul(K, sizeof(double)));
    demo->marked = mem_alloc(mem_mul(K, sizeof(size_t)));
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
