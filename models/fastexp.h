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
 * only on the bits. Every operation is a correctly rounded + or *, never fused, so each
 * vectorised clone gives the same bits as the scalar code. */

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

/* e^xi for one value, as fastexp_array computes it (same bits). */
static inline double fastexp1(double xi)
{
    /* ln2 = LN2_HI + LN2_LO with LN2_HI's last 11 bits zero, so k LN2_HI is exact for
     * |k| < 2^11 and r = x - k ln2 loses nothing to cancellation (fdlibm's constants). */
    const double LOG2E = 1.44269504088896338700e+00;
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    /* Adding 1.5 * 2^52 rounds to an integer and leaves it in the low mantissa bits. */
    const double SHIFT = 6755399441055744.0;
    double t = xi * LOG2E + SHIFT;
    double k = t - SHIFT;
    double r = (xi - k * LN2_HI) - k * LN2_LO;
    /* e^r, |r| <= 0.35, Taylor to degree 13 (c_i = 1/i!) by Estrin's scheme: pairs, then
     * pairs of pairs, with r^2, r^4, r^8. Horner's chain of 26 dependent operations made
     * each value wait about 100 cycles, more than the out-of-order window could hide;
     * this chain is 8 deep, the operation count about the same. */
    double r2 = r * r, r4 = r2 * r2, r8 = r4 * r4;
    double q0 = 1.0 + r, q1 = 0.5 + r * (1.0 / 6.0);
    double q2 = 1.0 / 24.0 + r * (1.0 / 120.0), q3 = 1.0 / 720.0 + r * (1.0 / 5040.0);
    double q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0);
    double q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0);
    double q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0);
    double s0 = q0 + q1 * r2, s1 = q2 + q3 * r2, s2 = q4 + q5 * r2;
    double p = (s0 + s1 * r4) + (s2 + q6 * r4) * r8;
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

/* softplus of one value, as fastexp_softplus computes it (same bits). */
static inline double fastexp_softplus1(double x)
{
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    /* softplus(x) = max(x, 0) + log1p(e) with e = e^-|x| in (0, 1]: no overflow either way. */
    double a = fastexp_double(fastexp_bits(x) & 0x7fffffffffffffffu);
    double e = fastexp1(-a);
    /* log1p(e) = log(w) + (e - (w - 1)) / w, w = 1 + e rounded: the second term puts back
     * what the rounding of w dropped (w - 1 is exact, w being in [1, 2]). */
    double w = 1.0 + e;
    /* log(w) = k ln2 + log(m), m = w or w / 2 in [0.70, 1.42]; log(m) = 2 atanh(f),
     * f = (m - 1) / (m + 1), |f| <= 0.172, by its series to f^21 (next term below 1e-18). */
    double k = (double)(w > 1.4142135623730951);
    double m = w * (1.0 - 0.5 * k);
    double f = (m - 1.0) / (m + 1.0), f2 = f * f;
    double q = 1.0 / 21.0;
    q = q * f2 + 1.0 / 19.0;
    q = q * f2 + 1.0 / 17.0;
    q = q * f2 + 1.0 / 15.0;
    q = q * f2 + 1.0 / 13.0;
    q = q * f2 + 1.0 / 11.0;
    q = q * f2 + 1.0 / 9.0;
    q = q * f2 + 1.0 / 7.0;
    q = q * f2 + 1.0 / 5.0;
    q = q * f2 + 1.0 / 3.0;
    double logm = 2.0 * f + 2.0 * f * (f2 * q);
    double l1p = k * LN2_HI + (logm + (k * LN2_LO + (e - (w - 1.0)) / w));
    double pos = x > 0.0 ? x : 0.0;
    double sp = pos + l1p;
    /* Above 30 the reference form returns x itself (log1p(e^-30) is below its half ulp
     * there); NaN gives NaN through every step. */
    uint64_t big = (uint64_t)0 - (uint64_t)(x > 30.0);
    return fastexp_double((fastexp_bits(sp) & ~big) | (fastexp_bits(x) & big));
}

#endif
