/* linalg.h: the general linear-algebra helpers the HiPPO and SSM models need beyond mat.h:
 * the matrix exponential, causal convolution (direct and through FFTW), orthogonal
 * polynomials and Gauss-Legendre quadrature.
 *
 * Matrices are row-major `double *` as in mat.h; every allocation goes through trace/mem.h,
 * so each function that allocates returns TUTOR_ENOMEM (nothing leaked) when one fails. */
#ifndef TUTOR_LINALG_H
#define TUTOR_LINALG_H

#include <stddef.h>

/* out = exp(a). out and a are (n, n) and may be the same array. Scaling and squaring: a is
 * divided by 2^s so that its 1-norm is at most 1/2, the [6/6] Pade approximant
 * q(a)^-1 p(a) is formed with one LU solve, and the result is squared s times. The
 * truncation error of [6/6] at norm 1/2 is below 1e-16 relative, so the accuracy is set by
 * the squarings (relative error grows like the condition of the problem, as for any
 * method). Returns 0, TUTOR_ENOMEM, or TUTOR_EINVAL for a non-finite a or a singular
 * denominator (cannot happen for finite a at norm 1/2). O(n^3 (7 + s)). */
int linalg_expm(double *out, const double *a, size_t n);

/* Causal convolution: y_t = sum_{j <= t} k_j u_{t-j}, t = 0..L-1. y, k and u have L values;
 * y must not overlap k or u. Direct sum, the slow obvious form. O(L^2). */
void linalg_conv_direct(double *y, const double *k, const double *u, size_t L);

/* The same causal convolution through FFTW: both sequences are zero-padded to 2L so the
 * circular convolution equals the linear one on its first L values (nothing wraps
 * around). One r2c plan, one c2r plan, created and destroyed per call (FFTW_ESTIMATE, so
 * planning does not time anything). Returns 0 or TUTOR_ENOMEM (also when FFTW cannot make a
 * plan). O(L log L). Agrees with linalg_conv_direct to about 1e-15 * L * max|k| * max|u|. */
int linalg_conv_fft(double *y, const double *k, const double *u, size_t L);

/* p[n] = P_n(x) for n = 0..N-1: the Legendre polynomials by Bonnet's recurrence
 * (n+1) P_{n+1} = (2n+1) x P_n - n P_{n-1}, stable for x in [-1, 1]. O(N). */
void linalg_legendre(double *p, double x, size_t N);

/* p[n] = L_n(x) for n = 0..N-1: the Laguerre polynomials by the recurrence
 * (n+1) L_{n+1} = (2n+1-x) L_n - n L_{n-1}. O(N). */
void linalg_laguerre(double *p, double x, size_t N);

/* Gauss-Legendre nodes and weights on [0, 1] with m points: sum_i w_i g(x_i) integrates
 * polynomials of degree <= 2m-1 exactly. Newton's method on P_m from Chebyshev guesses.
 * x and w have m values. O(m^2). */
void linalg_gauss_legendre(double *x, double *w, size_t m);

/* Returns the 1-norm (maximum absolute column sum) of the (n, n) matrix a. O(n^2). */
double linalg_norm1(const double *a, size_t n);

#endif
