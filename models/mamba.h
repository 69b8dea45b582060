/* mamba.h: the selective scan of Mamba (Gu and Dao 2023), time-major.
 *
 * Shapes: u, delta_raw, y and z are (L, D); A is (D, N); B and C are (L, N); Dskip is (D).
 * The state h is (D, N): one N-dimensional diagonal SSM per channel d, whose step size and
 * input/output maps change with time, which is what makes it selective:
 *   Delta[t][d] = softplus(delta_raw[t][d])
 *   h[d][n]     = exp(Delta[t][d] A[d][n]) h[d][n] + Delta[t][d] B[t][n] u[t][d]
 *                 (zoh for A, Euler for B, as the reference scan does)
 *   y[t][d]     = sum_n C[t][n] h[d][n] + Dskip[d] u[t][d],   then y *= silu(z[t][d]) with z.
 * A time-varying model has no single kernel, so there is no convolutional mode: the fast
 * form is a parallel (associative) scan. Each step is h = a h + b with a = exp(Delta A) and
 * b = Delta B u, and composing two steps, first (a1, b1) then (a2, b2), gives
 * (a1 a2, a2 b1 + b2): an associative operation, so all prefixes come from a
 * Brent-Kung tree of 2 log2 L sweeps (O(L D N) work, O(log L) depth). */
#ifndef TUTOR_MAMBA_H
#define TUTOR_MAMBA_H

#include <stddef.h>
#include <stdint.h>

#include "../trace/trace.h"

/* The scan's inputs; z and Dskip may be NULL (no gate, no skip). */
typedef struct mamba_in {
    size_t L, D, N;
    const double *u, *delta_raw; /* (L, D) */
    const double *A;             /* (D, N), entries < 0 for a decaying state */
    const double *B, *C;         /* (L, N) */
    const double *Dskip;         /* (D) or NULL */
    const double *z;             /* (L, D) or NULL */
    /* Untraced mamba_scan only: how many threads share the D channels (models/par.h).
     * 0: automatic (the CPUs online, TUTOR_THREADS, one for small jobs); 1: the calling
     * thread only. The result is the same bits for every count. */
    size_t threads;
    /* Untraced mamba_scan only: 0 lets it run a clone with fused multiply-adds when the CPU
     * has FMA (AVX2 or AVX-512, chosen at run time; within 1e-10 relative of the portable
     * result); non-zero forces the portable arithmetic, the same bits on every CPU. */
    int portable;
} mamba_in;

/* softplus(x) = log(1 + e^x), without overflow for large x. */
double mamba_softplus(double x);

/* The sequential scan: y (L, D); delta (L, D) receives softplus(delta_raw) when not NULL.
 * Neither may overlap an input. tr may be NULL; steps name lines 1-7 of mamba_listing (per
 * time step, capped by ssm_trace_this). Returns 0, TUTOR_EINVAL (a size is 0),
 * TUTOR_ENOMEM or the trace's error. O(L D N) time; O(D N) memory untraced, O(L D) more
 * traced.
 * Untraced, it runs a fused form of the same arithmetic: lanes of 8 channels, each over all
 * L steps with its state in L1, the exponentials (models/fastexp, within 1e-15 of libm's),
 * the update and the output sum in one vectorised loop along the lane; the lanes share out
 * over in->threads threads, with the same bits for any count. With FMA on the CPU (and
 * in->portable 0) it runs an FMA clone of that loop (mamba_scan_kernel says which).
 * The tests compare it with the traced scan and the FMA clone with the portable pass. */
int mamba_scan(double *y, double *delta, const mamba_in *in, trace *tr);

/* What the untraced mamba_scan runs for in on this CPU: "AVX-512 + FMA", "AVX2 + FMA" or
 * "portable" (a static string). O(1). */
const char *mamba_scan_kernel(const mamba_in *in);

/* The parallel associative scan, same result to rounding (the tests allow 1e-12 relative).
 * Steps name lines 8-11 of mamba_listing. Returns as mamba_scan. O(L D N) work and memory. */
int mamba_scan_parallel(double *y, const mamba_in *in, trace *tr);

/* A selective-copying input (D = 1 channel, N = K state slots): K marked tokens at random
 * positions among L - K noise tokens, then K query positions at the end. A marked token
 * gets a large Delta (1) and writes its value into its own slot (B[t] = e_j); noise gets a
 * tiny Delta (softplus(-10), about 4.5e-5) so it barely touches the state; query j reads
 * slot j (C[t] = e_j). A = -0.01 everywhere (a slow leak). The scan's last K outputs are
 * then the marked values in order (target); the same input with a constant Delta (what an
 * LTI model must use) smears the noise into the state instead.
 * All arrays are new, owned by demo (free them all with mamba_demo_free): u, delta_raw (L),
 * A (K), B and C (L, K), target (K), marked (K positions, increasing). Requires K >= 1 and
 * L >= 2K. Returns 0, TUTOR_EINVAL or TUTOR_ENOMEM (demo zeroed, nothing allocated then).
 * O(L K). mamba_demo_free frees the arrays (not demo) and zeroes demo. */
typedef struct mamba_demo {
    size_t L, K;
    double *u, *delta_raw, *A, *B, *C, *target;
    size_t *marked;
} mamba_demo;
int mamba_selective_copy(mamba_demo *demo, size_t L, size_t K, uint64_t seed);
void mamba_demo_free(mamba_demo *demo);

/* The scan's input for a demo from mamba_selective_copy: L tokens, D = 1 channel, N = K
 * slots, pointing into demo's arrays (demo keeps them; no allocation). O(1). */
mamba_in mamba_demo_input(const mamba_demo *demo);

extern const char *const mamba_listing[];
extern const size_t mamba_listing_len;

#endif
