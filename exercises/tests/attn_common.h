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

/* The traced behaviours' set-up: Q, K, V (5 x 4, 5 x 4, 5 x 3, seed 2) and a trace pair.
 * 1, or 0 after recording the failure, with nothing to free. */
static int traced_setup(double **q, double **k, double **v, trace **ref, trace **got,
                        const char *const *listing, size_t len)
{
    if (qkv(q, k, v, 5, 4, 3, 2, 1.0)) {
        ex_fail("out of memory for the inputs");
        return 0;
    }
    if (!ex_trace_pair(ref, got, listing, len)) {
        mem_free(*q);
        return 0;
    }
    return 1;
}

/* The allocation behaviour: body(q) on Q, K, V (4 x 3 each, one block from q, seed 5). */
static void alloc_sweep_qkv(int (*body)(void *ctx))
{
    double *q, *k, *v;
    if (qkv(&q, &k, &v, 4, 3, 3, 5, 1.0)) {
        ex_fail("out of memory for the inputs");
        return;
    }
    ex_input("n = 4, d = dv = 3, causal, every allocation failing in turn");
    ex_alloc_sweep(body, q);
    mem_free(q);
}

#endif
