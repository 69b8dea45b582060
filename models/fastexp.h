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

#include <stddef.h>

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

#endif
