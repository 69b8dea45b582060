/* attn_common.h: random inputs and the trace check the attention exercise suites share. */
#ifndef TUTOR_EX_ATTN_COMMON_H
#define TUTOR_EX_ATTN_COMMON_H

#include <math.h>
#include <stdlib.h>

#include "../../trace/mem.h"
#include "../../trace/rng.h"
#include "../../trace/status.h"
#include "ex.h"

/* Q (n, d), K (n, d), V (n, dv) from seed, scaled by `scale`; one block, free with mem_free
 * of *q. Returns 0 or TUTOR_ENOMEM. */
static int qkv(double **q, double **k, double **v, size_t n, size_t d, size_t dv, uint64_t seed,
               double scale)
{
    rng r;
    rng_seed(&r, seed);
    double *all = mem_alloc((2 * n * d + n * dv) * sizeof *all);
    if (!all)
        return TUTOR_ENOMEM;
    for (size_t i = 0; i < 2 * n * d + n * dv; i++)
        all[i] = scale * rng_gauss(&r);
    *q = all;
    *k = all + n * d;
    *v = all + 2 * n * d;
    return 0;
}

#endif
