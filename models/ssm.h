/* ssm.h: linear time-invariant state-space models, continuous and discrete.
 *
 *   continuous   x'(t) = A x(t) + B u(t),   y(t) = C x(t) + D u(t)
 *   discrete     x_k = Abar x_{k-1} + Bbar u_k,   y_k = C x_k + D u_k,   x_0 = 0 before u_1
 *
 * Shapes: A is (N, N), B is (N) (one input), C is (N) (one output), D a scalar, u and y (L).
 * The same discrete model runs two ways: the recurrence (O(L N^2), constant memory, what a
 * model does at inference) and the convolution y = K * u + D u with the kernel
 * K = (C Bbar, C Abar Bbar, ..., C Abar^{L-1} Bbar) (what S4 does at training, O(L log L)
 * through the FFT once K is known). The two agree to rounding; the tests check it.
 *
 * S4 is this model with A the HiPPO-LegS matrix (a state that memorises the input's history
 * by its Legendre coefficients), bilinear discretisation and a learned C; s4_init (s4.h)
 * builds it with a seeded random C. */
#ifndef TUTOR_SSM_H
#define TUTOR_SSM_H

#include <stddef.h>

#include "../trace/rng.h"
#include "../trace/trace.h"

typedef enum ssm_method {
    SSM_EULER,    /* forward Euler: Abar = I + dt A, Bbar = dt B */
    SSM_BACKWARD, /* backward Euler: Abar = (I - dt A)^-1, Bbar = (I - dt A)^-1 dt B */
    SSM_BILINEAR, /* Tustin: Abar = (I - dt/2 A)^-1 (I + dt/2 A), Bbar = (I - dt/2 A)^-1 dt B */
    SSM_ZOH       /* exact for inputs held constant over each step: exp of [[A, B], [0, 0]] dt */
} ssm_method;

/* The method's CLI name ("euler", "backward", "bilinear", "zoh"). */
const char *ssm_method_name(ssm_method m);

/* Sets *m from its CLI name. Returns 0, or TUTOR_EINVAL for an unknown name. */
int ssm_method_parse(const char *name, ssm_method *m);

/* Discretises (A, B) with step dt > 0. Abar is (N, N), Bbar (N); A (N, N), B (N); outputs
 * must not overlap inputs. Returns 0, TUTOR_EINVAL (dt <= 0 or not finite, a singular
 * I - dt A for backward or bilinear, non-finite A), or TUTOR_ENOMEM. LAPACKE solves, and
 * linalg_expm on the (N+1, N+1) block matrix for zoh. O(N^3). */
int ssm_discretize(double *Abar, double *Bbar, const double *A, const double *B, size_t N,
                   double dt, ssm_method method);

/* K[j] = C Abar^j Bbar for j = 0..L-1 by repeated products: v = Bbar, then v = Abar v.
 * K has L values; Abar (N, N), Bbar and C (N). Returns 0 or TUTOR_ENOMEM. O(L N^2). */
int ssm_kernel(double *K, const double *Abar, const double *Bbar, const double *C, size_t N,
               size_t L);

/* Recurrent mode: y (L) from u (L). x_final (N) receives the last state when not NULL.
 * tr may be NULL; traced steps name lines of ssm_recurrent_listing (the state after each
 * sample, capped for long inputs by ssm_trace_this). Returns 0, TUTOR_ENOMEM, or the trace's
 * error. O(L N^2). */
int ssm_recurrent(double *y, double *x_final, const double *Abar, const double *Bbar,
                  const double *C, double D, const double *u, size_t N, size_t L, trace *tr);

/* Convolutional mode: y (L) = K * u + D u with K from ssm_kernel, convolved through the FFT
 * (linalg_conv_fft, zero-padded to 2L). K (L) receives the kernel when not NULL. tr may be
 * NULL; steps name lines of ssm_conv_listing. Returns 0, TUTOR_ENOMEM, or the trace's error.
 * O(L N^2 + L log L). */
int ssm_convolution(double *y, double *K, const double *Abar, const double *Bbar, const double *C,
                    double D, const double *u, size_t N, size_t L, trace *tr);

/* 1 when step k (0-based) of a loop of L steps should be traced: every step of short loops,
 * and for long ones the first 64, the last 16 and an even spread in between (about 256 in
 * all), so a trace stays small however long the input is. O(1). */
int ssm_trace_this(size_t k, size_t L);

extern const char *const ssm_recurrent_listing[];
extern const size_t ssm_recurrent_listing_len;
extern const char *const ssm_conv_listing[];
extern const size_t ssm_conv_listing_len;

#endif
