/* retention.h: retention (Sun et al. 2023, RetNet), decayed linear attention: the bridge
 * between attention and state-space models.
 *
 * Shapes: Q and K are (L, d), V and O are (L, dv).
 *   parallel   O = (Q K^T .* Dm) V,  Dm[i][j] = gamma^(i-j) for i >= j, else 0   O(L^2 (d + dv))
 *   recurrent  S_n = gamma S_{n-1} + K_n^T V_n (S is (d, dv), S_0 = 0),  O_n = Q_n S_n
 *                                                                          O(L d dv)
 * Both give the same O: O_n = sum_{m <= n} gamma^(n-m) (Q_n . K_m) V_m. The recurrent form
 * is an SSM whose state is the d x dv matrix S, with scalar Abar = gamma. */
#ifndef TUTOR_RETENTION_H
#define TUTOR_RETENTION_H

#include <stddef.h>

#include "../trace/trace.h"

/* Parallel form. O (L, dv). Returns 0, TUTOR_EINVAL (gamma not in [0, 1], a size 0),
 * TUTOR_ENOMEM, or the trace's error (O computed all the same). tr may be NULL; steps name
 * lines 1-3 of retention_listing. O(L^2) memory for the decayed score matrix. */
int retention_parallel(double *O, const double *Q, const double *K, const double *V, double gamma,
                       size_t L, size_t d, size_t dv, trace *tr);

/* Recurrent form, same contract; steps name lines 4-6, capped per ssm_trace_this. */
int retention_recurrent(double *O, const double *Q, const double *K, const double *V, double gamma,
                        size_t L, size_t d, size_t dv, trace *tr);

extern const char *const retention_listing[];
extern const size_t retention_listing_len;

#endif
