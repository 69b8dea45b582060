/* fastexp.c: the branch-free array exponential (see fastexp.h). */
#include "fastexp.h"

/* FASTEXP_VECTORIZE has gcc vectorise these loops at -O2 and clone them for AVX-512 and
 * AVX2; fastexp1 and fastexp_softplus1 (fastexp.h) are written so that it can. */
FASTEXP_VECTORIZE void fastexp_array(double *y, const double *x, size_t n)
{
    /* In place, the loop has one pointer and vectorises as it stands; with two, gcc adds a
     * run-time overlap test that y == x would fail, sending in-place calls (the common
     * case) to the scalar loop. */
    if (y == x)
        for (size_t i = 0; i < n; i++)
            y[i] = fastexp1(y[i]);
    else
        for (size_t i = 0; i < n; i++)
            y[i] = fastexp1(x[i]);
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
            double e = fastexp1(x[i + l] - shift);
            y[i + l] = e;
            acc[l] += e;
        }
    for (size_t l = 0; i < n; i++, l++) {
        double e = fastexp1(x[i] - shift);
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

FASTEXP_VECTORIZE void fastexp_softplus(double *y, const double *x, size_t n)
{
    if (y == x)
        for (size_t i = 0; i < n; i++)
            y[i] = fastexp_softplus1(y[i]);
    else
        for (size_t i = 0; i < n; i++)
            y[i] = fastexp_softplus1(x[i]);
}
