/* fastexp.c: the branch-free array exponential (see fastexp.h). */
#include "fastexp.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* The loops below are written to vectorise: no calls, no branches (the edge cases are bit
 * masks), integer work only on the bits; FASTEXP_VECTORIZE (fastexp.h) has gcc vectorise
 * them at -O2 and clone them for AVX-512 and AVX2. The clones give the same results: every
 * operation is a correctly rounded + or *, never fused. */
static uint64_t bits_of(double x)
{
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static double double_of(uint64_t u)
{
    double x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* e^xi for one value; inlined into the loops of fastexp_array (and into each clone). */
static inline double exp1(double xi)
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
    double scale = double_of((bits_of(t) + 1022u) << 52);
    double e = p * scale * 2.0;
    /* Outside the range, e is garbage (k does not fit the exponent field) and is replaced
     * through bit masks: 0 below, +inf above. NaN went through every step as NaN and is
     * in neither mask. Masks, not conditionals, because without AVX-512's masked
     * operations gcc will not vectorise a select it cannot prove free of traps. */
    uint64_t low = (uint64_t)0 - (uint64_t)(xi < FASTEXP_MIN);
    uint64_t high = (uint64_t)0 - (uint64_t)(xi > FASTEXP_MAX);
    return double_of((bits_of(e) & ~(low | high)) | (bits_of(HUGE_VAL) & high));
}

FASTEXP_VECTORIZE void fastexp_array(double *y, const double *x, size_t n)
{
    /* In place, the loop has one pointer and vectorises as it stands; with two, gcc adds a
     * run-time overlap test that y == x would fail, sending in-place calls (the common
     * case) to the scalar loop. */
    if (y == x)
        for (size_t i = 0; i < n; i++)
            y[i] = exp1(y[i]);
    else
        for (size_t i = 0; i < n; i++)
            y[i] = exp1(x[i]);
}

/* The loop of fastexp_shifted_sum; inlined twice, once with y and x the same pointer. */
static inline double shifted_sum(double *y, const double *x, double shift, size_t n)
{
    /* Eight running sums, one per lane of the widest vector, so the sum vectorises without
     * letting the compiler reorder additions (which ISO C forbids it to do by itself). */
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (size_t l = 0; l < 8; l++) {
            double e = exp1(x[i + l] - shift);
            y[i + l] = e;
            acc[l] += e;
        }
    for (size_t l = 0; i < n; i++, l++) {
        double e = exp1(x[i] - shift);
        y[i] = e;
        acc[l] += e;
    }
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

FASTEXP_VECTORIZE double fastexp_shifted_sum(double *y, const double *x, double shift, size_t n)
{
    /* As in fastexp_array: in place, one pointer, so no overlap test sends it to scalar. */
    return y == x ? shifted_sum(y, y, shift, n) : shifted_sum(y, x, shift, n);
}

/* softplus of one value (see fastexp_softplus); inlined into its loop. */
static inline double softplus1(double x)
{
    const double LN2_HI = 6.93147180369123816490e-01, LN2_LO = 1.90821492927058770002e-10;
    /* softplus(x) = max(x, 0) + log1p(e) with e = e^-|x| in (0, 1]: no overflow either way. */
    double a = double_of(bits_of(x) & 0x7fffffffffffffffu);
    double e = exp1(-a);
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
    return double_of((bits_of(sp) & ~big) | (bits_of(x) & big));
}

FASTEXP_VECTORIZE void fastexp_softplus(double *y, const double *x, size_t n)
{
    if (y == x)
        for (size_t i = 0; i < n; i++)
            y[i] = softplus1(y[i]);
    else
        for (size_t i = 0; i < n; i++)
            y[i] = softplus1(x[i]);
}
