/* s4d.h: S4D (Gu, Gupta, Goel, Re 2022), the diagonal state-space model.
 *
 * The state matrix is diagonal and complex. A real model of state size N keeps M = N/2
 * modes; the other half are their complex conjugates, so they are never stored: a sum over
 * all N modes of a real-input model is 2 Re of the sum over the kept M.
 *   S4D-Lin  A_n = -1/2 + i pi n
 *   S4D-Inv  A_n = -1/2 + i (N/pi) (N/(2n+1) - 1)
 *   B_n = 1, C_n ~ CN(0, 1) (real and imaginary parts N(0, 1/2)), D ~ N(0, 1)
 * zoh, elementwise: Abar_n = exp(dt A_n), Bbar_n = (Abar_n - 1) / A_n B_n.
 * Kernel: K_k = 2 Re sum_n C_n Bbar_n Abar_n^k, a Vandermonde matrix (Abar_n^k) times the
 * vector (C_n Bbar_n): O(M L), against O(N^2 L) for a dense A.
 * Shapes: A, B, C, Abar, Bbar are (M) complex; u, y, K are (L) real. */
#ifndef TUTOR_S4D_H
#define TUTOR_S4D_H

#include <complex.h>
#include <stddef.h>

#include "../trace/rng.h"
#include "../trace/trace.h"

typedef enum s4d_init_kind { S4D_LIN, S4D_INV } s4d_init_kind;

/* Fills A, B, C (M each) and *D for a state of size N = 2M, drawing C and D from r. O(M). */
void s4d_init(double complex *A, double complex *B, double complex *C, double *D, size_t M,
              s4d_init_kind kind, rng *r);

/* zoh for diagonal A: Abar, Bbar (M) from A, B (M) and dt > 0. Returns 0 or TUTOR_EINVAL
 * (dt <= 0, or an A_n = 0, where the formula would need the limit dt B_n). O(M). */
int s4d_discretize(double complex *Abar, double complex *Bbar, const double complex *A,
                   const double complex *B, size_t M, double dt);

/* The kernel K (L) as the Vandermonde product. Every 64th power is the exact exp(k dt A_n)
 * and the powers between come by products with Abar_n, so rounding builds up over at most
 * 64 products (about 1e-16) and cexp runs L/64 times per mode instead of L. dtA holds
 * dt A_n (M). O(M L). */
void s4d_kernel(double *K, const double complex *dtA, const double complex *Bbar,
                const double complex *C, size_t M, size_t L);

/* Recurrent mode, the slow obvious form: all N = 2M complex modes, the conjugates written
 * out, x = Abar * x + Bbar u_k, y_k = Re(sum over N of C x) + D u_k. y (L). tr may be NULL;
 * steps name lines 3-4 of s4d_listing. Returns 0, TUTOR_ENOMEM or the trace's error.
 * O(M L). */
int s4d_recurrent(double *y, const double complex *Abar, const double complex *Bbar,
                  const double complex *C, double D, const double *u, size_t M, size_t L,
                  trace *tr);

/* Convolutional mode: K (L, may be NULL) receives the kernel, y (L) = K * u + D u through
 * the FFT. tr may be NULL; steps name lines 5-6 of s4d_listing. Returns 0, TUTOR_ENOMEM or
 * the trace's error. O(M L + L log L). */
int s4d_convolution(double *y, double *K, const double complex *dtA, const double complex *Bbar,
                    const double complex *C, double D, const double *u, size_t M, size_t L,
                    trace *tr);

extern const char *const s4d_listing[];
extern const size_t s4d_listing_len;

#endif
