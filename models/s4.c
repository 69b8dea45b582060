#include "s4.h"

#include <math.h>

#include "hippo.h"

void s4_init(double *A, double *B, double *C, double *D, size_t N, rng *r)
{
    hippo_legs_matrices(A, B, N);
    for (size_t i = 0; i < N; i++)
        C[i] = rng_gauss(r) / sqrt((double)N);
    *D = rng_gauss(r);
}
