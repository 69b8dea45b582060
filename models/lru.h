/* lru.h: the Linear Recurrent Unit (Orvieto et al. 2023), a diagonal complex linear
 * recurrence parameterised so that it is stable by construction.
 *
 * Shapes: u and y are (L, H); the state x is (N) complex; B is (N, H) and C is (H, N)
 * complex; Dskip is (H). Parameters nu, theta (N) give
 *   lambda = exp(-exp(nu) + i exp(theta))   (|lambda| = exp(-exp(nu)) < 1 for any nu)
 *   gamma  = sqrt(1 - |lambda|^2)           (normalises the state's variance under white
 *                                            noise input, however close |lambda| is to 1)
 *   x_k = lambda * x_{k-1} + gamma * (B u_k),   y_k = Re(C x_k) + Dskip * u_k,  x_0 = 0.
 * Like Mamba's, the recurrence is h = a h + b elementwise (here a = lambda for every k), so
 * it also runs as a parallel associative scan; both forms are here and tested equal. */
#ifndef TUTOR_LRU_H
#define TUTOR_LRU_H

#include <complex.h>
#include <stddef.h>

#include "../trace/rng.h"
#include "../trace/trace.h"

typedef struct lru_params {
    size_t N, H;
    double *nu, *theta;     /* (N) */
    double complex *lambda; /* (N) */
    double *gamma;          /* (N) */
    double complex *B, *C;  /* (N, H), (H, N) */
    double *Dskip;          /* (H) */
} lru_params;

/* Draws an LRU from r with eigenvalues uniform on the ring r_min <= |lambda| <= r_max
 * (0 < r_min < r_max < 1) and phases in (0, max_phase]: nu = log(-log |lambda|),
 * theta = log(phase); B ~ CN(0, 1/(2H)) per part, C ~ CN(0, 1/N), Dskip ~ N(0, 1).
 * On success p holds new arrays (lru_free); on error none. Returns 0, TUTOR_EINVAL (a size
 * 0 or a bad ring) or TUTOR_ENOMEM. O(N H). */
int lru_init(lru_params *p, size_t N, size_t H, double r_min, double r_max, double max_phase,
             rng *r);

/* Frees p's arrays and zeroes it. */
void lru_free(lru_params *p);

/* The recurrence: y (L, H) from u (L, H). tr may be NULL; steps name lines 1-4 of
 * lru_listing, capped per ssm_trace_this. Returns 0, TUTOR_ENOMEM or the trace's error.
 * O(L N H). */
int lru_recurrent(double *y, const lru_params *p, const double *u, size_t L, trace *tr);

/* The same through a Brent-Kung associative scan over (a, b) = (lambda, gamma B u_k).
 * Steps name lines 5-7. Returns as lru_recurrent. O(L N H) work, O(L N) memory. */
int lru_scan(double *y, const lru_params *p, const double *u, size_t L, trace *tr);

extern const char *const lru_listing[];
extern const size_t lru_listing_len;

#endif
