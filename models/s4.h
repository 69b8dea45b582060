/* s4.h: S4's starting point, an LTI state-space model (ssm.h) whose state matrix is
 * HiPPO-LegS (hippo.h). Its own module so that ssm (the LTI machinery) and hippo (the
 * projections, which discretise through ssm) form layers: ssm <- hippo <- s4. */
#ifndef TUTOR_S4_H
#define TUTOR_S4_H

#include <stddef.h>

#include "../trace/rng.h"

/* S4 with a HiPPO-LegS state matrix: A (N, N) and B (N) are LegS (hippo_legs_matrices), C (N)
 * is drawn N(0, 1/N) from r, *D from N(0, 1). Returns nothing; cannot fail. O(N^2). */
void s4_init(double *A, double *B, double *C, double *D, size_t N, rng *r);

#endif
