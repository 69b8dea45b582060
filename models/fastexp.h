/* fastexp.h: a branch-free exponential over arrays (and softplus built on it), for the untraced hot
 * loops of models/ (softmax attention's n^2 exponentials, Mamba's exp(Delta A) per state and step).
 *
 * glibc's exp is accurate but scalar: one call per value, which no compiler vectorises.
 * fastexp_array does the same job with only arithmetic and bit operations the compiler can
 * turn into SIMD code: x = k ln2 + r with |r| <= ln2 / 2 (Cody-Waite: ln2 split in two so
 * k ln2 is exact), e^r by its degree-13 Taylor polynomial (the first omitted term is below
 * 3e-18 there), and 2^k written straight into the exponent bits. The reference forms keep
 * libm's exp; tests/test_fastexp.c compares the two. */
#ifndef TUTOR_FASTEXP_H
#define TUTOR_FASTEXP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Put before a function whose plain loops should vectorise in the -O2 build. gcc 12's -O2
 * vectorises only loops whose trip count it knows, so this asks gcc for -O3 on that function,
 * and on x86-64 compiles it for AVX-512 and AVX2 besides the baseline (SSE2), the loader
 * picking the widest the CPU has (target_clones: the baseline build still runs everywhere).
 * Changes no result: ISO C mode (-std=c11) keeps the order of every floating-point
 * operation and fuses none into an FMA. clang's -O2 vectorises such loops already; clang 14
 * emits target_clones without the symbol callers link against, so it gets neither. Not
 * under AddressSanitizer (its instrumentation and the ifunc resolvers do not mix well). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) &&                             \
    !defined(__SANITIZE_ADDRESS__)
#define FASTEXP_VECTORIZE                                                                          \
    __attribute__((optimize("O3"), target_clones("avx512f", "avx2", "default")))
#elif defined(__GNUC__) && !defined(__clang__)
#define FASTEXP_VECTORIZE __attribute__((optimize("O3")))
#else
#define FASTEXP_VECTORIZE
#endif

/* Below this, e^x is subnormal (or 0): fastexp_array returns 0 there, an absolute error
 * below 3.4e-308. Above FASTEXP_MAX, e^x overflows and it returns +inf, as exp does. */
#define FASTEXP_MIN (-708.0)
#define FASTEXP_MAX 709.782712893384 /* ln(DBL_MAX) */

/* y[i] = e^(x[i]) for i < n; y may equal x (in place), otherwise they must not overlap.
 * For x[i] in [FASTEXP_MIN, FASTEXP_MAX] the relative error against the exact value is
 * below 1e-15 (a few units in the last place; tested against libm's exp); below that range
 * it returns 0 (so -inf gives 0), above it +inf; NaN gives NaN. O(n), no allocation. */
void fastexp_array(double *y, const double *x, size_t n);

/* y[i] = e^(x[i] - shift) for i < n, as fastexp_array would give for the differences, and
 * returns the sum of the y[i] (added in eight interleaved partial sums, i mod 8, then
 * pairwise; a rounding-level difference from a left-to-right sum). y may equal x. The row
 * step of a stable softmax: shift is the row's maximum. O(n), no allocation. */
double fastexp_shifted_sum(double *y, const double *x, double shift, size_t n);

/* y[i] = softplus(x[i]) = log(1 + e^x[i]) for i < n, the form mamba_softplus computes
 * (x itself above 30), from the same exponential and a branch-free log1p (atanh series).
 * Relative error below 2e-15 against log1p(exp(x)) for x <= 30, exact x above; NaN gives
 * NaN. y may equal x, otherwise they must not overlap. O(n), no allocation. */
void fastexp_softplus(double *y, const double *x, size_t n);

/* ---- the kernels, for loops elsewhere that should vectorise with them inlined ----
 * Written to vectorise: no calls, no branches (the edge cases are bit masks), integer work
 * only on the bits. fastexp1 and fastexp_softplus1 round every + and * on its own (never
 * fused), so each vectorised clone gives the same bits as the scalar code; fastexp1_fma is
 * the exception, for the FMA clones below. */

/* The kernels below are forced inline: a call per value would stop the loops around them
 * from vectorising, and with fma() in them gcc's inliner can judge them too large. */
#if defined(__GNUC__) || defined(__clang__)
#define FASTEXP_INLINE static inline __attribute__((always_inline))
#else
#define FASTEXP_INLINE static inline
#endif

static inline uint64_t fastexp_bits(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static inline double fastexp_double(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* a b + c: rounded twice (a product, then a sum) when fused is 0, once (C99's fma) when it
 * is 1. fused is a constant at every use, so the choice costs nothing; fma() is one
 * instruction only inside a function compiled for FMA (FASTEXP_FMA_AVX2 and
 * FASTEXP_FMA_AVX512 below), elsewhere it would be a library call. */
#define FASTEXP_MADD(a, b, c, fused) ((fused) ? fma((a), (b), (c)) : (a) * (b) + (c))

/* The exponential's body, with its multiply-adds fused or not (see fastexp1). */
FASTEXP_INLINE double fastexp1_madd(double xi, int fused)
{
    /* ln2 = LN2_HI + LN2_LO with LN2_HI's last 11 bits zero, so k LN2_HI is exact for
     * |k| < 2^11 and r = x - k ln2 loses nothing to cancellation (fdlibm's constants). */
    const double LOG2E = 1.44269504088896338700e+00;
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    /* Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits. */
    const double SHIFT = 6755399441055744.0;
    double t = FASTEXP_MADD(xi, LOG2E, SHIFT, fused);
    double k = t - SHIFT;
    double r = FASTEXP_MADD(-k, LN2_LO, FASTEXP_MADD(-k, LN2_HI, xi, fused), fused);
    /* e^r, |r| <= 0.35, Taylor to degree 13 (c_i = 1/i!) by Estrin's scheme: pairs, then
     * pairs of pairs, with r^2, r^4, r^8. Horner's chain of 26 dependent operations made
     * each value wait about 100 cycles, more than the out-of-order window could hide;
     * this chain is 8 deep, the operation count about the same. */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double q0 = 1.0 + r, q1 = FASTEXP_MADD(r, 1.0 / 6.0, 0.5, fused);
    double q2 = FASTEXP_MADD(r, 1.0 / 120.0, 1.0 / 24.0, fused);
    double q3 = FASTEXP_MADD(r, 1.0 / 5040.0, 1.0 / 720.0, fused);
    double q4 = FASTEXP_MADD(r, 1.0 / 362880.0, 1.0 / 40320.0, fused);
    double q5 = FASTEXP_MADD(r, 1.0 / 39916800.0, 1.0 / 3628800.0, fused);
    double q6 = FASTEXP_MADD(r, 1.0 / 6227020800.0, 1.0 / 479001600.0, fused);
    double s0 = FASTEXP_MADD(q1, r2, q0, fused), s1 = FASTEXP_MADD(q3, r2, q2, fused);
    double s2 = FASTEXP_MADD(q5, r2, q4, fused);
    double p =
        FASTEXP_MADD(FASTEXP_MADD(q6, r4, s2, fused), r8, FASTEXP_MADD(s1, r4, s0, fused), fused);
    /* 2^(k-1) from t's bits: its low bits hold k in two's complement, and the shift by
     * 52 drops SHIFT's own bits. Using k - 1 and doubling after keeps the exponent field
     * inside 1..2046 for k = 1024 (x near 709.78, where the product overflows to inf as
     * it should); k >= -1021 on the kept range (x >= FASTEXP_MIN). */
    double scale = fastexp_double((fastexp_bits(t) + 1022u) << 52);
    double e = p * scale * 2.0;
    /* Outside the range, e is garbage (k does not fit the exponent field) and is replaced
     * through bit masks: 0 below, +inf above. NaN went through every step as NaN and is
     * in neither mask. Masks, not conditionals, because without AVX-512's masked
     * operations gcc will not vectorise a select it cannot prove free of traps. */
    uint64_t low = (uint64_t)0 - (uint64_t)(xi < FASTEXP_MIN);
    uint64_t high = (uint64_t)0 - (uint64_t)(xi > FASTEXP_MAX);
    return fastexp_double((fastexp_bits(e) & ~(low | high)) | (fastexp_bits(HUGE_VAL) & high));
}

/* e^xi for one value, as fastexp_array computes it (same bits): every operation a correctly
 * rounded + or *, so each vectorised clone gives the same bits as the scalar code. */
FASTEXP_INLINE double fastexp1(double xi)
{
    return fastexp1_madd(xi, 0);
}

/* e^xi with the multiply-adds fused: the same error bound (below 1e-15 relative; the bits
 * may differ from fastexp1's in the last place or two). Only for functions compiled for FMA
 * (FASTEXP_FMA_AVX2, FASTEXP_FMA_AVX512), where it takes about 2/3 of fastexp1's
 * instructions. */
FASTEXP_INLINE double fastexp1_fma(double xi)
{
    return fastexp1_madd(xi, 1);
}

/* ---- run-time dispatch to FMA clones (x86-64, gcc or clang) ----
 * A function marked FASTEXP_FMA_AVX2 or FASTEXP_FMA_AVX512 is compiled for that instruction
 * set whatever the build's -march; the caller must call it only when fastexp_fma_level()
 * says the CPU has it. FASTEXP_FMA_CLONES is 1 where these exist. */
#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define FASTEXP_FMA_CLONES 1
#if defined(__clang__)
#define FASTEXP_FMA_AVX2   __attribute__((target("avx2,fma")))
#define FASTEXP_FMA_AVX512 __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma")))
#else
/* optimize("O3"): gcc 12's -O2 does not vectorise loops of unknown trip count. */
#define FASTEXP_FMA_AVX2 __attribute__((target("avx2,fma"), optimize("O3")))
#define FASTEXP_FMA_AVX512                                                                         \
    __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma"), optimize("O3")))
#endif
/* 2 when the CPU has AVX-512F (and VL, DQ) and FMA, 1 when it has AVX2 and FMA, else 0. */
static inline int fastexp_fma_level(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("fma") || !__builtin_cpu_supports("avx2"))
        return 0;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        return 2;
    return 1;
}
#else
#define FASTEXP_FMA_CLONES 0
static inline int fastexp_fma_level(void)
{
    return 0;
}
#endif

/* softplus's body, its multiply-adds fused or not (as fastexp1_madd). */
FASTEXP_INLINE double fastexp_softplus1_madd(double x, int fused)
{
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    /* softplus(x) = max(x, 0) + log1p(e) with e = e^-|x| in (0, 1]: no overflow either way. */
    double a = fastexp_double(fastexp_bits(x) & 0x7fffffffffffffffu);
    double e = fastexp1_madd(-a, fused);
    /* log1p(e) = log(w) + (e - (w - 1)) / w, w = 1 + e rounded: the second term puts back
     * what the rounding of w dropped (w - 1 is exact, w being in [1, 2]). */
    double w = 1.0 + e;
    /* log(w) = k ln2 + log(m), m = w or w / 2 in [0.70, 1.42]; log(m) = 2 atanh(f),
     * f = (m - 1) / (m + 1), |f| <= 0.172, by its series to f^21 (next term below 1e-18). */
    double k = (double)(w > 1.4142135623730951);
    double m = w * (1.0 - 0.5 * k);
    double f = (m - 1.0) / (m + 1.0), f2 = f * f;
    double q = 1.0 / 21.0;
    q = FASTEXP_MADD(q, f2, 1.0 / 19.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 17.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 15.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 13.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 11.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 9.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 7.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 5.0, fused);
    q = FASTEXP_MADD(q, f2, 1.0 / 3.0, fused);
    double logm = FASTEXP_MADD(2.0 * f, f2 * q, 2.0 * f, fused);
    double l1p =
        FASTEXP_MADD(k, LN2_HI, logm + FASTEXP_MADD(k, LN2_LO, (e - (w - 1.0)) / w, fused), fused);
    double pos = x > 0.0 ? x : 0.0;
    double sp = pos + l1p;
    /* Above 30 the reference form returns x itself (log1p(e^-30) is below its half ulp
     * there); NaN gives NaN through every step. */
    uint64_t big = (uint64_t)0 - (uint64_t)(x > 30.0);
    return fastexp_double((fastexp_bits(sp) & ~big) | (fastexp_bits(x) & big));
}

/* softplus of one value, as fastexp_softplus computes it (same bits). */
FASTEXP_INLINE double fastexp_softplus1(double x)
{
    return fastexp_softplus1_madd(x, 0);
}

#endif
